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
    """Each social care child's UPN: the valid UPN from their newest return.

    ``upn`` in the canonical tables is already normalised and null unless its check letter is
    right, so only valid UPNs take part. Columns: ``la_child_id``, ``upn``.
    """
    recorded = (
        cin_child.select("la_child_id", "upn", "collection_year")
        .union(cla_child.select("la_child_id", "upn", "collection_year"))
        .filter(_.upn.notnull() & _.la_child_id.notnull())
    )
    newest_first = ibis.window(group_by="la_child_id", order_by=ibis.desc("collection_year"))
    ranked = recorded.mutate(_rank=ibis.row_number().over(newest_first))
    return ranked.filter(ranked._rank == 0).select("la_child_id", "upn")


def link_on_valid_upn(cin_child: Table, cla_child: Table, pupil_enrolment: Table) -> Table:
    """Children whose valid UPN is a pupil's UPN in the school census.

    A UPN claimed by two social care children is left unlinked: a guess there could put one
    child's school record in another child's file. Columns: ``la_child_id``, ``upn``,
    ``match_method``.
    """
    children = child_upns(cin_child, cla_child)
    claims = children.group_by("upn").aggregate(_claims=_.la_child_id.nunique())
    unambiguous = children.join(claims.filter(_._claims == 1), "upn").select("la_child_id", "upn")
    pupils = pupil_enrolment.filter(_.upn.notnull()).select("upn").distinct()
    linked = unambiguous.join(pupils, "upn").select("la_child_id", "upn")
    return linked.mutate(match_method=ibis.literal(VALID_UPN_EXACT))
