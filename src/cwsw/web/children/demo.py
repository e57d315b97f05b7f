"""Caseload entries (the app database), and the demo accounts' school and caseload.

``cwsw demo`` and the benchmark give the demo DSL the school with most linked pupils on roll
and the demo advisory teacher a caseload of linked children (synthetic data only).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cwsw.warehouse.snapshot import WarehouseUnavailable
from cwsw.web.children import reads


@dataclass(frozen=True)
class DemoAssignments:
    laestab: str
    caseload: tuple[str, ...]


DEMO_SCHOOL = "9999999"  # used when no warehouse has been built


def linked_pupils_by_school(warehouse_path: Path | None = None) -> dict[str, list[str]]:
    """Each school's linked children on roll in the latest census (LA child IDs, sorted)."""
    try:
        with reads.open_warehouse(warehouse_path) as snapshot:
            rows = reads.linked_on_roll(snapshot)
    except WarehouseUnavailable:
        return {}
    by_school: dict[str, list[str]] = {}
    for row in rows:
        by_school.setdefault(str(row.laestab), []).append(str(row.la_child_id))
    return by_school


def demo_assignments(warehouse_path: Path | None, caseload_size: int) -> DemoAssignments:
    """The school with most linked pupils on roll, and a caseload of linked children there."""
    by_school = linked_pupils_by_school(warehouse_path)
    if not by_school:
        return DemoAssignments(DEMO_SCHOOL, ())
    school = max(by_school, key=lambda s: (len(by_school[s]), s))
    every = sorted({child for children in by_school.values() for child in children})
    return DemoAssignments(school, tuple(every[:caseload_size]))


# The model is imported when called, so that this module imports without Django's apps ready.


def set_caseload(teacher: Any, la_child_ids: Iterable[str], added_by: Any) -> None:
    """Make ``teacher``'s caseload exactly these children."""
    from cwsw.web.children.models import CaseloadEntry

    wanted = set(la_child_ids)
    CaseloadEntry.objects.filter(teacher=teacher).exclude(la_child_id__in=wanted).delete()
    have = set(CaseloadEntry.objects.filter(teacher=teacher).values_list("la_child_id", flat=True))
    CaseloadEntry.objects.bulk_create(
        CaseloadEntry(teacher=teacher, la_child_id=child, added_by=added_by)
        for child in sorted(wanted - have)
    )


def caseload_ids(teacher: Any) -> list[str]:
    """The LA child IDs on ``teacher``'s caseload, sorted."""
    from cwsw.web.children.models import CaseloadEntry

    return list(
        CaseloadEntry.objects.filter(teacher=teacher)
        .order_by("la_child_id")
        .values_list("la_child_id", flat=True)
    )
