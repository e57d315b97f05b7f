"""The service layer the children's views call: the school page, the caseload, the profile.

Thin: it names what the views and the accounts app use, from the modules that do the work.

- :mod:`cwsw.warehouse.snapshot`: the read-only snapshot of the warehouse a request reads,
  with the facts read once per build, and :class:`WarehouseUnavailable` (ADR 0013);
- :mod:`.reads` and :mod:`.records`: the warehouse reads, typed rows read once per build;
- :mod:`.status`: each child's social care status label;
- :mod:`.pages` and :mod:`.profile`: the pages shaped for their templates;
- :mod:`.demo`: caseload entries and the demo accounts.

Social care status is :mod:`cwsw.cohort.status` at 31 March of the newest return loaded:
the DfE groups' hierarchy (looked after > child protection plan > child in need), else
"previously had a social worker".
"""

from __future__ import annotations

from cwsw.warehouse.snapshot import WarehouseUnavailable, release_anchors, tables
from cwsw.web.children import keys
from cwsw.web.children.demo import (
    DemoAssignments,
    caseload_ids,
    demo_assignments,
    linked_pupils_by_school,
    set_caseload,
)
from cwsw.web.children.pages import (
    CaseloadChild,
    Identity,
    SchoolPage,
    SchoolPupil,
    caseload,
    identities,
    identity,
    school_pupils,
)
from cwsw.web.children.profile import Event, Profile, TermAttendance, profile
from cwsw.web.children.reads import (
    ChildScope,
    child_scope,
    find_child,
    latest_term,
    open_warehouse,
    school_name,
)
from cwsw.web.children.status import statuses

FACTS = "facts"  # the attribute of a Snapshot that holds its build's facts

__all__ = [
    "FACTS",
    "CaseloadChild",
    "ChildScope",
    "DemoAssignments",
    "Event",
    "Identity",
    "Profile",
    "SchoolPage",
    "SchoolPupil",
    "TermAttendance",
    "WarehouseUnavailable",
    "caseload",
    "caseload_ids",
    "child_scope",
    "demo_assignments",
    "find_child",
    "identities",
    "identity",
    "keys",
    "latest_term",
    "linked_pupils_by_school",
    "open_warehouse",
    "profile",
    "release_anchors",
    "school_name",
    "school_pupils",
    "set_caseload",
    "statuses",
    "tables",
]
