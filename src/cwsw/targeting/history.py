"""Need ratings kept as history in the warehouse, so a child's rating over time can be shown.

A rating run is identified by the date rated on and the rule file's SHA-256: rating again on
the same date with the same rules (after a new load) replaces that run's rows in one
transaction, and a run on a new date or with other rules is added beside the others. Every
row keeps the rule that fired and its explanation; the evidence (each comparison that made a
rule fire, with its measure, term and value) is kept beside it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pyarrow as pa

from cwsw.targeting.engine import Ratings, rate
from cwsw.targeting.facts import rating_facts
from cwsw.targeting.rules import read_rules
from cwsw.warehouse.connection import Warehouse

RATING_TABLE = "need_rating"
EVIDENCE_TABLE = "need_rating_evidence"
# The run's identity, then what the engine gives (``Ratings``).
_RUN = {"rated_on": "DATE", "rules_sha256": "VARCHAR", "rules_title": "VARCHAR"}
_RATING = {
    "this_term": "VARCHAR",
    "la_child_id": "VARCHAR",
    "rating": "VARCHAR",
    "rule": "VARCHAR",
    "basis": "VARCHAR",
    "explanation": "VARCHAR",
    "fired": "VARCHAR",
    "not_known": "VARCHAR",
}
_EVIDENCE = {
    "la_child_id": "VARCHAR",
    "rule": "VARCHAR",
    "rule_rating": "VARCHAR",
    "outcome": "VARCHAR",
    "decided": "BOOLEAN",
    "condition": "INTEGER",
    "measure": "VARCHAR",
    "term": "VARCHAR",
    "value": "DOUBLE",
    "words": "VARCHAR",
}


@dataclass(frozen=True)
class RatingRun:
    """What one ``cwsw rate`` did: the ratings, and how many rows it stored."""

    ratings: Ratings
    rated_on: dt.date
    stored: int


def _create(warehouse: Warehouse) -> None:
    for table, columns in ((RATING_TABLE, _RATING), (EVIDENCE_TABLE, _EVIDENCE)):
        spec = ", ".join(f'"{name}" {kind}' for name, kind in {**_RUN, **columns}.items())
        warehouse.execute(f'CREATE TABLE IF NOT EXISTS "{table}" ({spec})')


def _with_run(
    frame: pd.DataFrame, columns: dict[str, str], run: dict[str, str | dt.date]
) -> pa.Table:
    table = frame.reindex(columns=list(columns)).copy()
    for name, value in run.items():
        table.insert(0, name, value)
    types = {
        "DATE": pa.date32(),
        "VARCHAR": pa.string(),
        "INTEGER": pa.int32(),
        "DOUBLE": pa.float64(),
        "BOOLEAN": pa.bool_(),
    }
    schema = pa.schema([(n, types[k]) for n, k in {**_RUN, **columns}.items()])
    return pa.Table.from_pandas(table[schema.names], schema=schema, preserve_index=False)


def rate_and_store(warehouse: Warehouse, on: dt.date, rules_path: Path | None = None) -> RatingRun:
    """Rate every child with a social worker on ``on`` by the rules at ``rules_path`` (the
    default rules if None: checked in full before anything is rated) and keep the run."""
    rules = read_rules(rules_path)
    facts = rating_facts(warehouse.ibis, rules, on)
    ratings = rate(rules, facts.table, facts.this_term)
    run: dict[str, str | dt.date] = {
        "rated_on": on,
        "rules_sha256": rules.sha256,
        "rules_title": rules.title,
    }
    children = ratings.children.assign(this_term=str(ratings.this_term))
    with warehouse.transaction():
        _create(warehouse)
        for table in (RATING_TABLE, EVIDENCE_TABLE):
            warehouse.execute(
                f'DELETE FROM "{table}" WHERE rated_on = ? AND rules_sha256 = ?',
                [on, rules.sha256],
            )
        stored = warehouse.insert_arrow(RATING_TABLE, _with_run(children, _RATING, run))
        warehouse.insert_arrow(EVIDENCE_TABLE, _with_run(ratings.evidence, _EVIDENCE, run))
    return RatingRun(ratings, on, stored)


def rating_history(warehouse: Warehouse, la_child_id: str) -> pd.DataFrame:
    """One child's ratings over time, oldest first (empty if never rated)."""
    tables = set(warehouse.ibis.list_tables())
    if RATING_TABLE not in tables:
        return pd.DataFrame(columns=[*_RUN, *_RATING])
    ratings = warehouse.ibis.table(RATING_TABLE)
    found = ratings.filter(ratings.la_child_id == la_child_id).execute()
    return found.sort_values(["rated_on", "rules_sha256"], kind="stable").reset_index(drop=True)
