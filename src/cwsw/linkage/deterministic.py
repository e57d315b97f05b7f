"""Deterministic linkage rules: social care children to pupils by identifiers alone.

Each rule records itself as the match method. The walking skeleton has the first rule, an
exact match on a valid UPN; former UPNs, LA child IDs across returns and probabilistic
linkage on names come next (issue 4).
"""

from __future__ import annotations

import ibis
from ibis import _
from ibis.expr.types import Table

VALID_UPN_EXACT = "valid_upn_exact"


def child_upns(cin_child: Table, cla_child: Table) -> Table:
    """Every valid UPN recorded for each social care child, in any return and year.

    ``upn`` in the canonical tables is already normalised and null unless its check letter is
    right, so only valid UPNs take part. Returns disagree (a former UPN in one, the current in
    another), so all are kept and the school census decides which is a pupil's.
    Columns: ``la_child_id``, ``upn``.
    """
    recorded = cin_child.select("la_child_id", "upn").union(cla_child.select("la_child_id", "upn"))
    return recorded.filter(_.upn.notnull() & _.la_child_id.notnull()).distinct()


def link_on_valid_upn(cin_child: Table, cla_child: Table, pupil_enrolment: Table) -> Table:
    """Children with a valid UPN that is a pupil's current UPN in the school census.

    One child to one pupil: a UPN claimed by two children, or a child whose UPNs match two
    pupils, is left unlinked, since a guess could put one child's school record in another
    child's file. Columns: ``la_child_id``, ``upn``, ``match_method``.
    """
    pupils = pupil_enrolment.filter(_.upn.notnull()).select("upn").distinct()
    candidates = child_upns(cin_child, cla_child).join(pupils, "upn")
    children_per_upn = candidates.group_by("upn").aggregate(_n=_.la_child_id.nunique())
    upns_per_child = candidates.group_by("la_child_id").aggregate(_n=_.upn.nunique())
    linked = candidates.semi_join(children_per_upn.filter(_._n == 1), "upn").semi_join(
        upns_per_child.filter(_._n == 1), "la_child_id"
    )
    return linked.select("la_child_id", "upn", match_method=ibis.literal(VALID_UPN_EXACT))
