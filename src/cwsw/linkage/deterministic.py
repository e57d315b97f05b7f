"""Deterministic linkage rules: social care children to pupils by identifiers alone.

A child's identifiers come from several records: one per CIN census year, one per SSDA903
year and one in the case management system's person extract, all keyed on the LA child ID
(which ingestion already normalises, ``123.0`` to ``123``, so the records join). The child's
*anchor* is their newest return: the latest CIN census record, else the latest SSDA903
header, else the person extract. The rules run in order and the first that names one pupil
wins; each is recorded as the link's ``match_method``:

1. ``valid_upn_exact``: the anchor's UPN, exactly as written, is a pupil's current UPN.
2. ``former_upn``: the anchor gives a UPN (as its UPN or its ``FormerUPN``) that the school
   census records as a pupil's former UPN.
3. ``la_child_id``: another record of the same LA child ID, in another return or year, gives
   a UPN (current or former) of a pupil.
4. ``normalised_upn``: the anchor's UPN as written is not a UPN, but becomes one once case,
   spaces (inside too), a byte-order mark and a spreadsheet's ``.0`` are cleaned away.

A pupil is identified by their current UPN in the school census (the key every mart joins on).
One child to one pupil: within a rule, a child naming two pupils or a pupil named by two
children is left for the next rule (and, in the end, for probabilistic linkage and review);
a pupil taken by an earlier rule is not offered again.
"""

from __future__ import annotations

from collections.abc import Sequence

import ibis
import ibis.expr.datatypes as dt
from ibis import _
from ibis.expr.types import Table

VALID_UPN_EXACT = "valid_upn_exact"
FORMER_UPN = "former_upn"
LA_CHILD_ID = "la_child_id"
NORMALISED_UPN = "normalised_upn"
RULES = (VALID_UPN_EXACT, FORMER_UPN, LA_CHILD_ID, NORMALISED_UPN)

RECORD_SCHEMA = {
    "la_child_id": "string",
    "source": "string",
    "year": "int64",
    "upn": "string",
    "upn_raw": "string",
    "former_upn": "string",
}
LINK_SCHEMA = {"la_child_id": "string", "upn": "string", "match_method": "string"}
PAIR_SCHEMA = {"la_child_id": "string", "upn": "string"}

# Sources in the order a child's anchor is chosen from (newest year first within each).
SOURCE_PRIORITY = {"cin_census": 0, "ssda903": 1, "person_extract": 2}


def _empty(schema: dict[str, str]) -> Table:
    return ibis.memtable({name: [] for name in schema}, schema=schema)


def child_records(cin_child: Table, cla_child: Table, person: Table | None = None) -> Table:
    """Every identifier record of every social care child, with its anchor flag.

    Columns: ``la_child_id``, ``source``, ``year``, ``upn`` (normalised and valid, else null),
    ``upn_raw`` (as written), ``former_upn``, ``priority`` and ``anchor`` (true for one record
    per child: the newest return's).
    """
    parts = [
        cin_child.select(
            "la_child_id",
            source=ibis.literal("cin_census"),
            year=_.collection_year.cast("int64"),
            upn=_.upn,
            upn_raw=_.upn_raw,
            former_upn=_.former_upn,
        ),
        cla_child.select(
            "la_child_id",
            source=ibis.literal("ssda903"),
            year=_.collection_year.cast("int64"),
            upn=_.upn,
            upn_raw=_.upn_raw,
            former_upn=ibis.null(dt.string),
        ),
    ]
    if person is not None:
        parts.append(
            person.select(
                "la_child_id",
                source=ibis.literal("person_extract"),
                year=ibis.null(dt.int64),
                upn=_.upn,
                upn_raw=_.upn_raw,
                former_upn=ibis.null(dt.string),
            )
        )
    records = ibis.union(*parts, distinct=False).filter(_.la_child_id.notnull())
    priority = ibis.cases(
        *((_.source == name, rank) for name, rank in SOURCE_PRIORITY.items()), else_=9
    ) * 10_000 - _.year.fill_null(0)
    ranked = records.mutate(priority=priority)
    order = ibis.window(group_by="la_child_id", order_by=[_.priority, _.upn_raw])
    return ranked.mutate(anchor=ibis.row_number().over(order) == 0)


def _pupils(pupil_enrolment: Table) -> tuple[Table, Table]:
    """Pupils' current UPNs, and (former UPN, current UPN) pairs from the school census."""
    known = pupil_enrolment.filter(_.upn.notnull())
    current = known.select("upn").distinct()
    former = (
        known.filter(_.former_upn.notnull() & (_.former_upn != _.upn))
        .select(former=_.former_upn, upn=_.upn)
        .distinct()
    )
    return current, former


def normalise_upn_expr(raw: ibis.Value) -> ibis.Value:
    """An Ibis expression cleaning a raw UPN harder than ingestion does: every space (inside a
    value too, and non-breaking ones), a byte-order mark, lower case and a trailing ``.0``."""
    return raw.upper().re_replace(r"[\s\x{00A0}\x{FEFF}]+", "").re_replace(r"\.0+$", "")


def _via_former(values: Table, former: Table) -> Table:
    """Claims from a table of (la_child_id, value) where the value is a pupil's former UPN."""
    return values.join(former, values.value == former.former).select("la_child_id", "upn")


def rule_claims(records: Table, pupil_enrolment: Table) -> list[tuple[str, Table]]:
    """Each rule's claims, in order: (method, table of ``la_child_id``, ``upn``)."""
    current, former = _pupils(pupil_enrolment)
    anchor = records.filter(_.anchor)
    others = records.filter(~_.anchor)

    exact = anchor.filter(_.upn.notnull() & (_.upn == _.upn_raw)).select("la_child_id", "upn")
    exact = exact.semi_join(current, "upn")

    def given(table: Table) -> Table:
        return table.select("la_child_id", value=_.upn).union(
            table.select("la_child_id", value=_.former_upn)
        )

    by_former = _via_former(given(anchor).filter(_.value.notnull()), former)

    other_current = others.filter(_.upn.notnull()).select("la_child_id", "upn")
    other_current = other_current.semi_join(current, "upn")
    same_child = other_current.union(_via_former(given(others).filter(_.value.notnull()), former))

    cleaned = anchor.filter(_.upn_raw.notnull()).select(
        "la_child_id", upn=normalise_upn_expr(_.upn_raw)
    )
    normalised = cleaned.semi_join(current, "upn")
    return [
        (VALID_UPN_EXACT, exact),
        (FORMER_UPN, by_former),
        (LA_CHILD_ID, same_child),
        (NORMALISED_UPN, normalised),
    ]


def one_to_one(claims: Table) -> Table:
    """The claims in which the child names one pupil and the pupil is named by one child."""
    claims = claims.select("la_child_id", "upn").distinct()
    per_upn = claims.group_by("upn").aggregate(_n=_.la_child_id.nunique())
    per_child = claims.group_by("la_child_id").aggregate(_n=_.upn.nunique())
    return claims.semi_join(per_upn.filter(_._n == 1), "upn").semi_join(
        per_child.filter(_._n == 1), "la_child_id"
    )


def cascade(
    rules: Sequence[tuple[str, Table]],
    *,
    fixed: Table | None = None,
    rejected: Table | None = None,
) -> Table:
    """Apply rules in order; each links only children and pupils no earlier rule took.

    ``fixed`` links (la_child_id, upn, match_method) come first (human decisions);
    ``rejected`` pairs are never linked by any rule.
    Columns: ``la_child_id``, ``upn``, ``match_method``.
    """
    linked = fixed.select(*LINK_SCHEMA) if fixed is not None else _empty(LINK_SCHEMA)
    for method, claims in rules:
        open_claims = claims.select("la_child_id", "upn").distinct()
        if rejected is not None:
            open_claims = open_claims.anti_join(rejected, ["la_child_id", "upn"])
        open_claims = open_claims.anti_join(linked, "la_child_id").anti_join(linked, "upn")
        found = one_to_one(open_claims).mutate(match_method=ibis.literal(method))
        linked = linked.union(found.select(*LINK_SCHEMA))
    return linked


def link_deterministic(
    cin_child: Table,
    cla_child: Table,
    pupil_enrolment: Table,
    person: Table | None = None,
    *,
    fixed: Table | None = None,
    rejected: Table | None = None,
) -> Table:
    """All four rules over the canonical tables. Columns: ``la_child_id``, ``upn``,
    ``match_method``."""
    records = child_records(cin_child, cla_child, person)
    return cascade(rule_claims(records, pupil_enrolment), fixed=fixed, rejected=rejected)
