"""One linkage run: human decisions, the identifier rules, then Splink, then the bands.

``pipeline.link`` calls ``run_linkage`` and nothing else does, so the CLI, the demo and the
tests all link the same way. The run reads the canonical tables and the decisions store and
writes, in one warehouse transaction, ``child_pupil_link`` (what the marts read),
``linkage_outcome`` (one row per child: band, method, reason), ``linkage_review_candidate``
(the pairs for review, with their evidence) and ``linkage_run`` (the model and its figures).
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import ibis
import numpy as np
import pandas as pd
import pyarrow as pa
from ibis import _
from ibis.expr.types import Table

from cwsw.errors import UserError
from cwsw.linkage import deterministic, probabilistic, review
from cwsw.linkage.probabilistic import MATCH, NO_MATCH, Thresholds
from cwsw.linkage.splink_engine import DUCKDB, SparkOptions, SplinkEngine, TrainedModel
from cwsw.warehouse.connection import Warehouse
from cwsw.warehouse.schema import arrow_schema, columns_arrow_schema

CHILD_PUPIL_LINK = "child_pupil_link"
OUTCOME_TABLE = "linkage_outcome"
RUN_TABLE = "linkage_run"
REVIEW_ACCEPTED = "review_accepted"
METHODS = (REVIEW_ACCEPTED, *deterministic.RULES, probabilistic.PROBABILISTIC)

# Why a child is not linked, checked in this order (the quality report counts them).
UNBORN = "unborn"
UNDER_SCHOOL_AGE = "under school age (under 4 at the reference date)"
OVER_SCHOOL_AGE = "over school age (19 or over at the reference date)"
NO_IDENTIFIERS = "no valid UPN and no names"
AWAITING_REVIEW = "awaiting review"
REJECTED = "every candidate rejected by a reviewer"
UPN_NOT_FOUND = "UPN not in the school census and no pupil with the same details"
NOT_FOUND = "no pupil with the same details"

OUTPUT_COLUMNS: dict[str, dict[str, str]] = {
    CHILD_PUPIL_LINK: {
        "la_child_id": "VARCHAR",
        "upn": "VARCHAR",
        "match_method": "VARCHAR",
        "match_probability": "DOUBLE",
    },
    OUTCOME_TABLE: {
        "la_child_id": "VARCHAR",
        "band": "VARCHAR",
        "match_method": "VARCHAR",
        "upn": "VARCHAR",
        "match_probability": "DOUBLE",
        "candidates": "INTEGER",
        "reason": "VARCHAR",
        "age": "INTEGER",
        "sex": "VARCHAR",
        "ethnicity": "VARCHAR",
    },
    review.REVIEW_TABLE: {
        "la_child_id": "VARCHAR",
        "upn": "VARCHAR",
        "band": "VARCHAR",
        "match_probability": "DOUBLE",
        "match_weight": "DOUBLE",
        "evidence": "VARCHAR",  # JSON: comparison -> level ("same", "nickname", ...)
        "child_forename": "VARCHAR",
        "child_surname": "VARCHAR",
        "child_birth_date": "DATE",
        "child_sex": "VARCHAR",
        "child_postcode": "VARCHAR",
        "pupil_forename": "VARCHAR",
        "pupil_surname": "VARCHAR",
        "pupil_birth_date": "DATE",
        "pupil_sex": "VARCHAR",
    },
    RUN_TABLE: {"run_at": "TIMESTAMP", "reference_date": "DATE", "details": "VARCHAR"},
}

_log = logging.getLogger(__name__)


@dataclass(frozen=True)
class LinkOptions:
    thresholds: Thresholds
    seed: int
    decisions_path: Path
    model_path: Path | None
    engine: str = DUCKDB  # where Splink runs: "duckdb" or "spark"
    spark: SparkOptions = field(default_factory=SparkOptions)


class NothingToLink(UserError):
    """The warehouse holds no social care child to link: ingestion has not been run."""


@dataclass
class LinkageRun:
    children: int
    linked: int
    by_method: dict[str, int]
    bands: dict[str, int]
    details: dict[str, Any] = field(default_factory=dict)


def _table(con: Any, name: str) -> Table:
    """A canonical table, or an empty one of its columns where nothing created it yet."""
    if name in con.list_tables():
        return con.table(name)
    return ibis.memtable(arrow_schema(name).empty_table())


def _pairs(frame: pd.DataFrame | None) -> Table | None:
    if frame is None or frame.empty:
        return None
    return ibis.memtable(
        frame[["la_child_id", "upn"]].astype(str), schema=deterministic.PAIR_SCHEMA
    )


def _children(con: Any, reference: dt.date) -> pd.DataFrame:
    """Every child in any return, with the facts the report breaks rates down by."""
    cin = _table(con, "cin_child")
    cla = _table(con, "cla_child")
    person = _table(con, "person")
    facts = cin.select(
        "la_child_id",
        "birth_date",
        "sex",
        "ethnicity",
        "expected_birth_date",
        year=_.collection_year.cast("int64"),
        rank=ibis.literal(0),
    ).union(
        cla.select(
            "la_child_id",
            "birth_date",
            "sex",
            "ethnicity",
            expected_birth_date=ibis.null("date"),
            year=_.collection_year.cast("int64"),
            rank=ibis.literal(1),
        )
    )
    frame = con.execute(facts.filter(_.la_child_id.notnull()))
    frame = frame.sort_values(["la_child_id", "year", "rank"], ascending=[True, False, True])

    def first(column: str) -> pd.Series:
        return (
            frame.dropna(subset=[column])
            .drop_duplicates("la_child_id")
            .set_index("la_child_id")[column]
        )

    people = con.execute(
        person.filter(_.la_child_id.notnull()).select(
            "la_child_id", "birth_date", "sex", "forename", "surname"
        )
    )
    ids = sorted(set(frame.la_child_id) | set(people.la_child_id))
    out = pd.DataFrame({"la_child_id": pd.Series(ids, dtype=object)})
    births = first("birth_date")
    person_births = people.dropna(subset=["birth_date"]).drop_duplicates("la_child_id")
    birth = out.la_child_id.map(births).fillna(
        out.la_child_id.map(person_births.set_index("la_child_id").birth_date)
    )
    birth = pd.to_datetime(birth)
    ref = pd.Timestamp(reference)
    before_birthday = (birth.dt.month > ref.month) | (
        (birth.dt.month == ref.month) & (birth.dt.day > ref.day)
    )
    out["age"] = (ref.year - birth.dt.year - before_birthday.astype(int)).astype("Int64")
    out["unborn"] = (birth > ref).fillna(False) | (
        birth.isna() & out.la_child_id.map(first("expected_birth_date")).notna()
    )
    sex = out.la_child_id.map(first("sex"))
    out["sex"] = sex.where(sex.isin(["M", "F"]), "U").fillna("U")
    out["ethnicity"] = out.la_child_id.map(first("ethnicity")).fillna("unknown")
    named = people[people.forename.notna() | people.surname.notna()].la_child_id
    out["named"] = out.la_child_id.isin(set(named))
    return out


def reference_date(con: Any) -> dt.date:
    """31 March of the newest collection year loaded (today's date when there is none)."""
    years = []
    for name in ("cin_child", "cla_child"):
        year = _table(con, name).collection_year.max().execute()
        if year is not None and not pd.isna(year):
            years.append(int(year))
    return dt.date(max(years), 3, 31) if years else dt.date.today()


def run_linkage(warehouse: Warehouse, options: LinkOptions) -> LinkageRun:
    """Link every social care child to at most one pupil and store the results."""
    con = warehouse.ibis
    cin, cla = _table(con, "cin_child"), _table(con, "cla_child")
    person, pupils = _table(con, "person"), _table(con, "pupil_enrolment")
    reference = reference_date(con)
    children = _children(con, reference)
    if children.empty:  # before ingestion: an empty run would look like a linkage
        raise NothingToLink(
            "no social care child has been loaded (CIN census, SSDA903 or person extract): "
            "run `cwsw ingest` first"
        )

    decisions = pd.DataFrame(
        [d.as_dict() for d in review.current_decisions(options.decisions_path)],
        columns=["la_child_id", "upn", "decision", "decided_by", "decided_at"],
    )
    accepted = decisions[decisions.decision == review.ACCEPT]
    rejected = decisions[decisions.decision == review.REJECT]
    known_pupils = set(con.execute(pupils.filter(_.upn.notnull()).select("upn").distinct()).upn)
    applicable = accepted[
        accepted.la_child_id.isin(set(children.la_child_id)) & accepted.upn.isin(known_pupils)
    ]
    fixed = _pairs(applicable)
    records = deterministic.child_records(cin, cla, person)
    rules = deterministic.rule_claims(records, pupils)
    links = con.execute(
        deterministic.cascade(
            rules,
            fixed=None
            if fixed is None
            else fixed.mutate(match_method=ibis.literal(REVIEW_ACCEPTED)),
            rejected=_pairs(rejected),
        )
    )
    # Identifier claims a decision overrode: not silent, they are listed in the report.
    claims = con.execute(
        ibis.union(*(c.select("la_child_id", "upn") for _m, c in rules)).distinct()
    )
    overridden = _overridden(claims, links, applicable, rejected)

    # Probabilistic linkage on names for the rest.
    child_raw = con.to_pyarrow(probabilistic.child_frame(person, cin, cla))
    pupil_raw = con.to_pyarrow(probabilistic.pupil_frame(pupils))
    child_in = probabilistic.prepare(child_raw)
    pupil_in = probabilistic.prepare(pupil_raw)
    labels = links[links.match_method != REVIEW_ACCEPTED]
    labels = labels[labels.la_child_id.isin(set(child_in["unique_id"].to_pylist()))]
    label_table = pa.table(
        {
            "child_id": pa.array(labels.la_child_id.astype(str).tolist(), pa.string()),
            "pupil_id": pa.array(labels.upn.astype(str).tolist(), pa.string()),
        }
    )
    linked_children = pa.array(links.la_child_id.astype(str).tolist(), pa.string())
    linked_pupils = pa.array(links.upn.astype(str).tolist(), pa.string())
    left = child_in.filter(
        pa.compute.invert(pa.compute.is_in(child_in["unique_id"], linked_children))
    )
    right = pupil_in.filter(
        pa.compute.invert(pa.compute.is_in(pupil_in["unique_id"], linked_pupils))
    )
    prior = probabilistic.estimate_prior(left, right)
    model: TrainedModel | None = None
    if child_in.num_rows and pupil_in.num_rows:
        with SplinkEngine(options.engine, options.spark) as engine:
            model = engine.train(child_in, pupil_in, label_table, seed=options.seed, prior=prior)
            if options.model_path is not None:
                model.save(options.model_path)
            scored = engine.predict(model, left, right, probabilistic.KEEP_PROBABILITY)
            pair_counts = engine.count_pairs(left, right)
        scored = scored.to_pandas()
    else:
        scored = pd.DataFrame(columns=["child_id", "pupil_id", "match_weight", "match_probability"])
        pair_counts = {}
    if not rejected.empty and not scored.empty:
        refused = set(zip(rejected.la_child_id, rejected.upn, strict=True))
        keep = [
            (c, p) not in refused for c, p in zip(scored.child_id, scored.pupil_id, strict=True)
        ]
        scored = scored[keep]
    assignment = probabilistic.assign(scored, left["unique_id"].to_pylist(), options.thresholds)
    prob_links = assignment.links.rename(columns={"child_id": "la_child_id", "pupil_id": "upn"})
    prob_links["match_method"] = probabilistic.PROBABILISTIC

    parts = [
        frame[list(OUTPUT_COLUMNS[CHILD_PUPIL_LINK])]
        for frame in (links.assign(match_probability=1.0), prob_links)
        if not frame.empty
    ]
    all_links = (
        pd.concat(parts, ignore_index=True)
        if parts
        else pd.DataFrame(columns=list(OUTPUT_COLUMNS[CHILD_PUPIL_LINK]))
    )
    outcome = _outcomes(children, all_links, assignment, rejected, records, con, pupils)
    candidates = _review_rows(assignment.review, model, child_raw, pupil_raw)
    details = {
        "reference_date": reference.isoformat(),
        "thresholds": {
            "match_probability": options.thresholds.match_probability,
            "potential_probability": options.thresholds.potential_probability,
            "margin_weight": options.thresholds.margin_weight,
        },
        "model": None
        if model is None
        else {
            "splink_version": model.splink_version,
            "engine": options.engine,
            "trained_with": model.trained_with,
            "labels": model.labels,
            "seed": model.seed,
            "prior": prior,
            "comparisons": model.comparisons,
            "saved_to": str(options.model_path) if options.model_path else None,
        },
        "probabilistic_inputs": {"children": left.num_rows, "pupils": right.num_rows},
        "candidate_pairs_by_blocking_rule": pair_counts,
        "decisions": {
            "accepted": len(accepted),
            "rejected": len(rejected),
            "accepted_not_applicable": len(accepted) - len(applicable),
            "identifier_claims_overridden": overridden,
        },
    }
    _store(warehouse, all_links, outcome, candidates, reference, details)
    by_method = {m: int((all_links.match_method == m).sum()) for m in METHODS}
    bands = outcome.band.value_counts().to_dict()
    return LinkageRun(
        children=len(children),
        linked=len(all_links),
        by_method=by_method,
        bands={b: int(bands.get(b, 0)) for b in probabilistic.BANDS},
        details=details,
    )


def _overridden(
    claims: pd.DataFrame, links: pd.DataFrame, accepted: pd.DataFrame, rejected: pd.DataFrame
) -> list[dict[str, str]]:
    """Identifier claims a human decision overrode: a rejected pair a rule claimed, or a
    claim for a child or pupil a decision linked elsewhere."""
    out = []
    refused = set(zip(rejected.la_child_id, rejected.upn, strict=True))
    chosen_child = dict(zip(accepted.la_child_id, accepted.upn, strict=True))
    chosen_pupil = dict(zip(accepted.upn, accepted.la_child_id, strict=True))
    for child, upn in zip(claims.la_child_id, claims.upn, strict=True):
        if (child, upn) in refused:
            out.append({"la_child_id": child, "upn": upn, "by": "rejection"})
        elif chosen_child.get(child, upn) != upn or chosen_pupil.get(upn, child) != child:
            out.append({"la_child_id": child, "upn": upn, "by": "acceptance"})
    del links
    return sorted(out, key=lambda r: (r["la_child_id"], r["upn"]))


def _outcomes(
    children: pd.DataFrame,
    links: pd.DataFrame,
    assignment: probabilistic.Assignment,
    rejected: pd.DataFrame,
    records: Table,
    con: Any,
    pupils: Table,
) -> pd.DataFrame:
    out = children.copy()
    by_child = links.set_index("la_child_id")
    out["upn"] = out.la_child_id.map(by_child.upn)
    out["match_method"] = out.la_child_id.map(by_child.match_method)
    out["match_probability"] = out.la_child_id.map(by_child.match_probability)
    bands = assignment.bands.set_index("child_id")
    out["band"] = out.la_child_id.map(bands.band).fillna(NO_MATCH)
    out.loc[out.upn.notna(), "band"] = MATCH
    best = out.la_child_id.map(bands.best_probability)
    out["match_probability"] = out.match_probability.fillna(best)
    out["candidates"] = out.la_child_id.map(bands.candidates).fillna(0).astype(int)
    with_upn = set(
        con.execute(records.filter(_.upn.notnull()).select("la_child_id").distinct()).la_child_id
    )
    del pupils
    refused = out.la_child_id.isin(set(rejected.la_child_id))
    has_upn = out.la_child_id.isin(with_upn)
    age = out.age.astype("float64")
    unlinked = out.band == NO_MATCH
    conditions = [
        out.band == MATCH,
        ~unlinked,
        out.unborn.astype(bool),
        age < 4,
        age >= 19,
        ~has_upn & ~out.named.astype(bool),
        refused,
        has_upn,
    ]
    choices = [
        "",
        AWAITING_REVIEW,
        UNBORN,
        UNDER_SCHOOL_AGE,
        OVER_SCHOOL_AGE,
        NO_IDENTIFIERS,
        REJECTED,
        UPN_NOT_FOUND,
    ]
    picked = np.select([c.fillna(False).to_numpy(bool) for c in conditions], choices, NOT_FOUND)
    reasons = pd.Series(picked, index=out.index).replace("", None)
    out["reason"] = reasons
    return out[list(OUTPUT_COLUMNS[OUTCOME_TABLE])]


def _review_rows(
    pairs: pd.DataFrame, model: TrainedModel | None, child_raw: pa.Table, pupil_raw: pa.Table
) -> pd.DataFrame:
    columns = list(OUTPUT_COLUMNS[review.REVIEW_TABLE])
    if pairs.empty or model is None:
        return pd.DataFrame(columns=columns)
    child = child_raw.to_pandas().drop_duplicates("unique_id").set_index("unique_id")
    pupil = pupil_raw.to_pandas().drop_duplicates("unique_id").set_index("unique_id")
    rows = []
    for pair in pairs.to_dict("records"):
        c, p = child.loc[pair["child_id"]], pupil.loc[pair["pupil_id"]]
        rows.append(
            {
                "la_child_id": pair["child_id"],
                "upn": pair["pupil_id"],
                "band": pair["band"],
                "match_probability": pair["match_probability"],
                "match_weight": pair["match_weight"],
                "evidence": json.dumps(probabilistic.evidence(pair, model.comparisons)),
                "child_forename": c["forename"],
                "child_surname": c["surname"],
                "child_birth_date": c["birth_date"],
                "child_sex": c["sex"],
                "child_postcode": c["postcode"],
                "pupil_forename": p["forename"],
                "pupil_surname": p["surname"],
                "pupil_birth_date": p["birth_date"],
                "pupil_sex": p["sex"],
            }
        )
    return pd.DataFrame(rows, columns=columns)


def _store(
    warehouse: Warehouse,
    links: pd.DataFrame,
    outcome: pd.DataFrame,
    candidates: pd.DataFrame,
    reference: dt.date,
    details: dict[str, Any],
) -> None:
    run_at = dt.datetime.now(dt.UTC).replace(tzinfo=None, microsecond=0)
    frames = {
        CHILD_PUPIL_LINK: links,
        OUTCOME_TABLE: outcome,
        review.REVIEW_TABLE: candidates,
        RUN_TABLE: pd.DataFrame(
            {
                "run_at": [run_at],
                "reference_date": [reference],
                "details": [json.dumps(details, default=str)],
            }
        ),
    }
    with warehouse.transaction():
        for name, frame in frames.items():
            columns = OUTPUT_COLUMNS[name]
            spec = ", ".join(f'"{c}" {t}' for c, t in columns.items())
            warehouse.execute(f'CREATE OR REPLACE TABLE "{name}" ({spec})')
            table = pa.Table.from_pandas(
                frame[list(columns)], schema=columns_arrow_schema(columns), preserve_index=False
            )
            warehouse.insert_arrow(name, table)
