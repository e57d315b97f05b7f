"""Object-level permissions (django-rules): which child a signed-in user may see.

``cwsw.view_child`` takes a :class:`cwsw.web.children.services.ChildScope`: the child's LA ID
and the schools the child is on roll at now. An advisory teacher sees the children on their
caseload, a DSL the pupils currently on roll at their school, an analyst every child
(pseudonymised on the page). Nobody else sees any child.
"""

from __future__ import annotations

from typing import Any

import rules

from cwsw.web.accounts.models import Role, User


@rules.predicate
def is_advisory_teacher(user: Any) -> bool:
    return isinstance(user, User) and user.is_active and user.role == Role.ADVISORY_TEACHER


@rules.predicate
def is_school_dsl(user: Any) -> bool:
    return isinstance(user, User) and user.is_active and user.role == Role.SCHOOL_DSL


@rules.predicate
def is_analyst(user: Any) -> bool:
    return isinstance(user, User) and user.is_active and user.role == Role.ANALYST


@rules.predicate
def on_caseload(user: User, child: Any) -> bool:
    from cwsw.web.children.models import CaseloadEntry

    return CaseloadEntry.objects.filter(teacher=user, la_child_id=child.la_child_id).exists()


@rules.predicate
def on_roll_at_their_school(user: User, child: Any) -> bool:
    return bool(user.school_laestab) and user.school_laestab in child.current_schools


VIEW_CHILD = "cwsw.view_child"

rules.add_perm(
    VIEW_CHILD,
    (is_advisory_teacher & on_caseload) | (is_school_dsl & on_roll_at_their_school) | is_analyst,
)
