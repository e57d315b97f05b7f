"""The pages' social care status labels: :mod:`cwsw.cohort.status` at the latest data.

One rule for the school page, the caseload and the profile, and the same as the DfE groups
the reports count (:func:`cwsw.cohort.status.social_care_status_at`), taken at 31 March
ending the newest social care return loaded. Read once per build (ADR 0013).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import NamedTuple

import ibis

from cwsw.cohort import status
from cwsw.warehouse.snapshot import Snapshot, tables

# The columns the timelines read, for a table not loaded (read as an empty one).
SOCIAL_CARE_SCHEMA = {
    "cin_episode": {
        "la_child_id": "string",
        "collection_year": "int64",
        "referral_date": "date",
        "closure_date": "date",
        "referral_nfa": "boolean",
    },
    "cp_plan": {
        "la_child_id": "string",
        "collection_year": "int64",
        "start_date": "date",
        "end_date": "date",
    },
    "cla_episode": {
        "la_child_id": "string",
        "collection_year": "int64",
        "start_date": "date",
        "end_date": "date",
    },
}


class ChildStatus(NamedTuple):
    la_child_id: str
    social_care_status: str


def statuses(snapshot: Snapshot, la_child_ids: Sequence[str]) -> dict[str, str]:
    """Each child's social care status label at :func:`status_on`.

    A child with no status then (an NFA referral only, or no social care record) is
    :data:`~cwsw.cohort.status.PREVIOUSLY`: the pages show only children who have had a
    social worker.
    """
    found = snapshot.facts.get("status_by_child", lambda: _read_statuses(snapshot))
    return {child: found.get(child, status.PREVIOUSLY) for child in la_child_ids}


def status_on(snapshot: Snapshot) -> dt.date | None:
    """The date the pages' statuses are taken at: 31 March of the newest social care return
    (DfE's reference date), or None if none is loaded."""

    def read() -> dt.date | None:
        present = [snapshot.ibis.table(t) for t in SOCIAL_CARE_SCHEMA if t in tables(snapshot)]
        return status.latest_reference_date(*present)

    return snapshot.facts.get("status_on", read)


def _read_statuses(snapshot: Snapshot) -> dict[str, str]:
    on = status_on(snapshot)
    if on is None:
        return {}
    cin, cp, cla = (
        snapshot.ibis.table(name)
        if name in tables(snapshot)
        else ibis.memtable([], schema=ibis.schema(schema))
        for name, schema in SOCIAL_CARE_SCHEMA.items()
    )
    found = snapshot.ibis.to_pyarrow(status.social_care_status_at(cin, cp, cla, on))
    rows = [ChildStatus(**row) for row in found.to_pylist()]
    return {str(row.la_child_id): str(row.social_care_status) for row in rows}
