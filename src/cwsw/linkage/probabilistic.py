"""Probabilistic linkage for the children the identifier rules leave: names, date of birth,
sex and postcode from the person extract against the school census, scored by Splink
(through ``splink_engine``) and turned into one outcome band per child.

Bands (thresholds are settings):

- ``match``: the best candidate scores at least the match probability, is clearly ahead of
  the child's next candidate and of the pupil's next candidate child (by the margin, in match
  weight), and child and pupil are each other's best. Linked without review.
- ``many_matches``: two or more candidates within the margin of each other: too close to call.
- ``potential_match``: one candidate, above the potential threshold but not a match.
- ``no_match``: nothing above the potential threshold.

Potential and many-match pairs go to the review queue (``review``); a human decision is
applied before any rule on every later run.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import ibis
import pandas as pd
import pyarrow as pa
from ibis import _
from ibis.expr.types import Table

from cwsw.domain.calendar import CENSUS_SEASONS
from cwsw.linkage import keys
from cwsw.linkage.keys import name_key, name_parts
from cwsw.linkage.splink_engine import COMPARISON_LEVELS, PREPARED_COLUMNS

MATCH = "match"
POTENTIAL = "potential_match"
MANY = "many_matches"
NO_MATCH = "no_match"
BANDS = (MATCH, POTENTIAL, MANY, NO_MATCH)
PROBABILISTIC = "probabilistic"
# Pairs kept from prediction: well below any band, so the evidence of near misses is there.
KEEP_PROBABILITY = 0.01
# Share of true pairs an exact forename + surname + date of birth rule is taken to find when
# estimating the prior (nicknames, typos and swapped dates account for the rest).
EXACT_RULE_RECALL = 0.7

# Other names a source may carry (case management systems keep them): surnames a child had
# before, and aliases (full names), each a list or text separated by ";" or "|".
OTHER_NAME_COLUMNS = ("previous_surnames", "aliases")
# Joins the text of several columns into one key (a character no name or code contains).
_JOIN = "\x1f"
_EPOCH = dt.date(1970, 1, 1)
# A census term's rank within its calendar year (0 where the name has no season).
_TERM_ORDER = {season: rank for rank, season in enumerate(CENSUS_SEASONS, start=1)}


@dataclass(frozen=True)
class Thresholds:
    match_probability: float
    potential_probability: float
    margin_weight: float


def _swapped(day: dt.date | None) -> str | None:
    if day is None or day.day > 12 or day.day == day.month:
        return None
    return dt.date(day.year, day.day, day.month).isoformat()


def _per_value(
    column: pa.ChunkedArray | pa.Array, fn: Callable[[Any], Any], kind: pa.DataType
) -> pa.Array:
    """``fn`` applied once per distinct value of ``column`` and spread back to every row.

    A national file has a million rows but some tens of thousands of distinct names and a
    few thousand dates, so the Python work is per value, not per row. A null row is given
    ``fn(None)``.
    """
    array = column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column
    if pa.types.is_null(array.type):  # an all-null column with no type of its own
        return pa.array([fn(None)] * len(array), kind)
    encoded = array.dictionary_encode()
    values = pa.array([fn(v) for v in encoded.dictionary.to_pylist()], kind)
    out = values.take(encoded.indices)
    if array.null_count:
        missing = pa.array([fn(None)], kind)
        indices = pa.compute.fill_null(encoded.indices, len(values))
        out = pa.concat_arrays([values, missing]).take(indices)
    return out


def _joined(*columns: pa.ChunkedArray | pa.Array) -> pa.Array:
    """Several text columns as one (nulls as empty text), so that ``_per_value`` can
    compute a value that depends on more than one of them once per distinct combination."""
    parts = [pa.compute.fill_null(c.cast(pa.string()), "") for c in columns]
    joined = pa.compute.binary_join_element_wise(*parts, _JOIN)
    return joined.combine_chunks() if isinstance(joined, pa.ChunkedArray) else joined


def _optional(frame: pa.Table, name: str) -> pa.ChunkedArray | pa.Array:
    """A column the inputs may lack (previous names, aliases), as text: all null where
    absent, a list column's names joined by ``;``."""
    if name not in frame.column_names:
        return pa.nulls(frame.num_rows, pa.string())
    column = frame[name]
    if pa.types.is_list(column.type) or pa.types.is_large_list(column.type):
        return pa.compute.binary_join(column, "; ")
    return column


def prepare(frame: pa.Table) -> pa.Table:
    """Records (``unique_id``, ``forename``, ``surname``, ``birth_date``, ``sex``,
    ``postcode``, and where the source has them ``previous_surnames`` and ``aliases``) as
    the engine compares them (``splink_engine.PREPARED_COLUMNS``)."""

    def text(value: object) -> str | None:
        return value if isinstance(value, str) else None

    def birth(value: object) -> dt.date | None:
        return value if isinstance(value, dt.date) else None

    def initial(value: object) -> str | None:
        key = name_key(text(value))
        return key[0] if key else None

    def classes(value: str) -> list[str]:
        sex, forename = value.split(_JOIN)
        return keys.forename_class_list(forename or None, sex or None)

    def postcode(value: object) -> keys.PostcodeParts:
        return keys.postcode_parts(text(value))

    string, strings, number = pa.string(), pa.list_(pa.string()), pa.int32()
    forename, surname, births = frame["forename"], frame["surname"], frame["birth_date"]
    sex = _per_value(frame["sex"], lambda v: v if v in keys.SEXES else None, string)
    aliases = _optional(frame, "aliases")
    codes = frame["postcode"]
    out = {
        "unique_id": frame["unique_id"].cast(string),
        "forename": _per_value(forename, lambda v: name_key(text(v)), string),
        "forename_classes": _per_value(_joined(sex, forename), classes, strings),
        "other_forenames": _per_value(aliases, lambda v: keys.alias_keys(v)[0], strings),
        "surname": _per_value(surname, lambda v: name_key(text(v)), string),
        "surname_parts": _per_value(surname, lambda v: name_parts(text(v)), strings),
        "other_surnames": _per_value(
            _joined(_optional(frame, "previous_surnames"), aliases),
            lambda v: sorted(
                set(keys.previous_surname_keys(v.split(_JOIN)[0]))
                | set(keys.alias_keys(v.split(_JOIN)[1])[1])
            ),
            strings,
        ),
        "surname_soundex": _per_value(surname, lambda v: keys.soundex(text(v)), string),
        "birth_date": _per_value(
            births, lambda v: d.isoformat() if (d := birth(v)) else None, string
        ),
        "birth_date_swapped": _per_value(births, lambda v: _swapped(birth(v)), string),
        "birth_days": _per_value(
            births, lambda v: (d - _EPOCH).days if (d := birth(v)) else None, number
        ),
        "birth_year": _per_value(births, lambda v: d.year if (d := birth(v)) else None, number),
        "birth_month": _per_value(
            births, lambda v: d.isoformat()[:7] if (d := birth(v)) else None, string
        ),
        "birth_day_month": _per_value(
            births, lambda v: d.isoformat()[5:] if (d := birth(v)) else None, string
        ),
        "sex": sex,
        "postcode": _per_value(codes, lambda v: postcode(v).postcode, string),
        "postcode_sector": _per_value(codes, lambda v: postcode(v).sector, string),
        "postcode_district": _per_value(codes, lambda v: postcode(v).district, string),
        "surname_initial": _per_value(surname, initial, string),
        "forename_initial": _per_value(forename, initial, string),
    }
    return pa.table(out).select(PREPARED_COLUMNS)


def child_frame(person: Table, cin_child: Table, cla_child: Table) -> Table:
    """One row per social care child with names: the person extract's newest record, its
    date of birth and sex filled from the returns where the extract lacks them.

    Columns: ``unique_id``, ``forename``, ``surname``, ``birth_date``, ``sex``, ``postcode``,
    and ``previous_surnames`` and ``aliases`` where the person table carries them (the
    extract cwsw reads today does not: ``docs/linkage-comparisons.md``).
    """
    newest = ibis.window(group_by="la_child_id", order_by=ibis.desc("load_id"))
    people = (
        person.filter(_.la_child_id.notnull())
        .mutate(_rank=ibis.row_number().over(newest))
        .filter(_._rank == 0)
    )
    returns = cin_child.select("la_child_id", "collection_year", "birth_date", "sex").union(
        cla_child.select("la_child_id", "collection_year", "birth_date", "sex")
    )
    latest = ibis.window(group_by="la_child_id", order_by=ibis.desc("collection_year"))
    facts = (
        returns.filter(_.birth_date.notnull())
        .mutate(_rank=ibis.row_number().over(latest))
        .filter(_._rank == 0)
        .select("la_child_id", return_birth=_.birth_date, return_sex=_.sex)
    )
    joined = people.left_join(facts, "la_child_id")
    return joined.select(
        unique_id=joined.la_child_id,
        forename=joined.forename,
        surname=joined.surname,
        birth_date=joined.birth_date.fill_null(joined.return_birth),
        sex=ibis.cases((joined.sex.isin(["M", "F"]), joined.sex), else_=joined.return_sex),
        postcode=joined.postcode,
        **{c: joined[c] for c in OTHER_NAME_COLUMNS if c in person.columns},
    ).filter(_.forename.notnull() | _.surname.notnull())


def pupil_frame(pupil_enrolment: Table) -> Table:
    """One row per pupil (current UPN): their newest census record.

    The canonical school census table carries no address today, so ``postcode`` is null
    and the engine leaves the postcode comparison out; a ``postcode`` column (from the
    census address tables), and ``previous_surnames`` or ``aliases`` columns, are used when
    the table has them.
    """
    term = _.census_term
    rank = term.left(4).cast("int64") * 10 + ibis.cases(
        *((term.endswith(name), value) for name, value in _TERM_ORDER.items()), else_=0
    )
    newest = ibis.window(group_by="upn", order_by=[ibis.desc("_term"), ibis.desc("on_roll")])
    ranked = (
        pupil_enrolment.filter(_.upn.notnull())
        .mutate(_term=rank)
        .mutate(_rank=ibis.row_number().over(newest))
        .filter(_._rank == 0)
    )
    return ranked.select(
        unique_id=_.upn,
        forename=_.forename,
        surname=_.surname,
        birth_date=_.birth_date,
        sex=_.sex,
        postcode=_.postcode if "postcode" in pupil_enrolment.columns else ibis.null("string"),
        **{c: ranked[c] for c in OTHER_NAME_COLUMNS if c in pupil_enrolment.columns},
    )


def estimate_prior(children: pa.Table, pupils: pa.Table) -> float:
    """The probability that a random child-pupil pair is a match, from the pairs agreeing
    exactly on forename, surname and date of birth (taken to be ``EXACT_RULE_RECALL`` of all)."""
    if children.num_rows == 0 or pupils.num_rows == 0:
        return 1e-6
    keys = ["forename", "surname", "birth_date"]
    left = children.select(keys).to_pandas().dropna()
    right = pupils.select(keys).to_pandas().dropna()
    exact = len(left.merge(right, on=keys))
    expected = max(exact, 1) / EXACT_RULE_RECALL
    return float(min(0.5, expected / (children.num_rows * pupils.num_rows)))


def evidence(row: Mapping[Any, Any], comparisons: list[str]) -> dict[str, str]:
    """Which fields agree, and how, for one scored pair (the reviewer's side-by-side)."""
    out = {}
    for name in comparisons:
        gamma = int(row[f"gamma_{name}"])
        out[name] = COMPARISON_LEVELS[name].get(gamma, str(gamma))
    return out


@dataclass
class Assignment:
    """What probabilistic linkage decided: links, a band per child scored, review pairs."""

    links: pd.DataFrame  # child_id, pupil_id, match_probability, match_weight
    bands: pd.DataFrame  # child_id, band, best_probability, candidates
    review: pd.DataFrame  # child_id, pupil_id, band, match_probability, match_weight, gammas


def assign(pairs: pd.DataFrame, children: list[str], thresholds: Thresholds) -> Assignment:
    """Band every child in ``children`` from their scored pairs; one child to one pupil.

    First pass: mutual best pairs above the match probability with a clear margin on both
    sides become links. Second pass: for the rest, the candidates left (pupils not linked
    to another child) decide between many matches, potential match and no match.
    """
    margin = thresholds.margin_weight
    cand = pairs[pairs.match_probability >= thresholds.potential_probability].copy()
    cand = cand.sort_values(["match_weight", "child_id", "pupil_id"], ascending=[False, True, True])

    def runner_up(frame: pd.DataFrame, by: str) -> pd.Series:
        second = frame.groupby(by, sort=False).match_weight.nth(1)
        keyed = frame.loc[second.index, [by]].assign(w=second.values)
        return keyed.set_index(by).w

    best_child = cand.drop_duplicates("child_id")
    best_pupil = cand.drop_duplicates("pupil_id")
    child_second = runner_up(cand, "child_id")
    pupil_second = runner_up(cand, "pupil_id")
    mutual = best_child.merge(
        best_pupil[["child_id", "pupil_id"]], on=["child_id", "pupil_id"], how="inner"
    )
    clear = (
        (mutual.match_probability >= thresholds.match_probability)
        & (mutual.match_weight - mutual.child_id.map(child_second).fillna(-1e9) >= margin)
        & (mutual.match_weight - mutual.pupil_id.map(pupil_second).fillna(-1e9) >= margin)
    )
    links = mutual[clear][["child_id", "pupil_id", "match_probability", "match_weight"]]

    rest = cand[~cand.child_id.isin(links.child_id) & ~cand.pupil_id.isin(links.pupil_id)].copy()
    top = rest.groupby("child_id").match_weight.transform("max")
    close = rest[rest.match_weight >= top - margin]
    count = close.groupby("child_id").size()
    review = close.assign(band=close.child_id.map(lambda c: MANY if count[c] > 1 else POTENTIAL))
    bands = pd.DataFrame({"child_id": sorted(set(children))})
    best = pairs.groupby("child_id").match_probability.max()
    bands["best_probability"] = bands.child_id.map(best)
    bands["candidates"] = bands.child_id.map(count).fillna(0).astype(int)
    bands["band"] = NO_MATCH
    bands.loc[bands.child_id.isin(review.child_id[review.band == POTENTIAL]), "band"] = POTENTIAL
    bands.loc[bands.child_id.isin(review.child_id[review.band == MANY]), "band"] = MANY
    bands.loc[bands.child_id.isin(links.child_id), "band"] = MATCH
    return Assignment(links=links.reset_index(drop=True), bands=bands, review=review)
