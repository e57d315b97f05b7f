"""The analyst's data pages: load history, a load's quality report, the linkage review queue.

The quality report of a stored load is :func:`cwsw.warehouse.quality.file_summary` of a
``LoadResult`` rebuilt from the ``loads`` and ``load_finding`` tables (counts by rule, the
first examples of each, located by row or element and field: no values). The review queue and
decisions are :func:`cwsw.linkage.review.queue` and :func:`cwsw.linkage.review.decide`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings

from cwsw.formats.errors import EXAMPLES_PER_RULE, Finding, FindingSummary
from cwsw.linkage import review
from cwsw.warehouse.connection import Warehouse
from cwsw.warehouse.load import LoadResult
from cwsw.warehouse.quality import file_summary
from cwsw.warehouse.snapshot import Snapshot, tables
from cwsw.web.children import keys, reads

REVIEW_PAGE_SIZE = 50


@dataclass(frozen=True)
class LoadRow:
    load_id: int
    file_name: str
    format: str
    period: str
    loaded_at: dt.datetime | None
    rows: int
    findings: int
    superseded_by: int | None


def load_history(warehouse: Warehouse) -> list[LoadRow]:
    present = tables(warehouse)
    if "loads" not in present:
        return []
    counts: dict[int, int] = {}
    if "load_finding" in present:
        counts = {
            int(load): int(n)
            for load, n in warehouse.execute(
                "SELECT load_id, count(*) FROM load_finding GROUP BY load_id"
            )
        }
    rows = warehouse.execute(
        "SELECT load_id, file_name, format, period, loaded_at, rows, superseded_by "
        "FROM loads ORDER BY load_id DESC"
    )
    return [
        LoadRow(
            int(load),
            str(name),
            str(kind or ""),
            str(period or ""),
            at,
            int(count or 0),
            counts.get(int(load), 0),
            int(by) if by is not None else None,
        )
        for load, name, kind, period, at, count, by in rows
    ]


def load_quality(warehouse: Warehouse, load_id: int) -> dict[str, Any] | None:
    """The quality summary of one stored load, or None if there is no such load."""
    if "loads" not in tables(warehouse):
        return None
    found = warehouse.execute(
        "SELECT file_name, format, period, sha256, rows, dataset, superseded_by "
        "FROM loads WHERE load_id = ?",
        [load_id],
    )
    if not found:
        return None
    name, kind, period, digest, rows, dataset, superseded_by = found[0]
    summary = FindingSummary()
    if "load_finding" in tables(warehouse):
        counted = warehouse.execute(
            "SELECT rule, count(*) FROM load_finding WHERE load_id = ? GROUP BY rule", [load_id]
        )
        examples = warehouse.execute(
            """
            SELECT rule, severity, field, location FROM (
                SELECT *, row_number() OVER (PARTITION BY rule ORDER BY rowid) AS n
                FROM load_finding WHERE load_id = ?
            ) WHERE n <= ? ORDER BY rule, n
            """,
            [load_id, EXAMPLES_PER_RULE],
        )
        # Values never leave the warehouse: the examples are rebuilt without them.
        summary.add(
            [Finding(str(name), loc, fld, None, rule, sev) for rule, sev, fld, loc in examples]
        )
        for rule, count in counted:
            summary.counts[str(rule)] = int(count)
    result = LoadResult(
        file=Path(str(name)),
        format=str(kind) if kind else None,
        period=str(period) if period else None,
        sha256=str(digest),
        status="loaded",
        rows={"rows": int(rows or 0)},
        findings=summary,
        load_id=load_id,
        dataset=str(dataset) if dataset else None,
    )
    out = file_summary(result)
    out["superseded_by"] = int(superseded_by) if superseded_by is not None else None
    return out


def decisions_path() -> Path:
    return Path(settings.CWSW.linkage_decisions_path)


def review_queue(warehouse: Warehouse) -> list[dict[str, Any]]:
    if review.REVIEW_TABLE not in tables(warehouse):
        return []
    columns = [
        str(r[0])
        for r in warehouse.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_name = ? "
            "ORDER BY ordinal_position",
            [review.REVIEW_TABLE],
        )
    ]
    rows = warehouse.execute(f'SELECT * FROM "{review.REVIEW_TABLE}"')
    candidates = [dict(zip(columns, row, strict=True)) for row in rows]
    return review.queue(candidates, decisions_path())


def children_shown(
    snapshot: Snapshot, pairs: list[dict[str, Any]], decisions: list[review.Decision]
) -> list[str]:
    """The keys of the children the review page shows, in page order: each pair's child and
    each recent decision's (their LA child ID is on the page) and, if a pair's pupil is linked
    to a child, that child too (their census name, date of birth or UPN is on the page). A
    pupil linked to nobody is no child of ours."""
    by_upn = reads.children_by_upn(snapshot)
    shown: dict[str, None] = {}
    people = [(str(p["la_child_id"]), str(p["upn"])) for p in pairs]
    people += [(d.la_child_id, d.upn) for d in decisions]
    for child, upn in people:
        for each in (child, *by_upn.get(upn, ())):
            shown.setdefault(keys.child_key(each))
    return list(shown)


def recent_decisions(limit: int = 20) -> list[review.Decision]:
    return list(reversed(review.history(decisions_path())))[:limit]


def decide(la_child_id: str, upn: str, decision: str, by: str, reason: str) -> review.Decision:
    return review.decide(
        decisions_path(), la_child_id, upn, decision, by, reason=reason.strip() or None
    )
