"""Linkage on valid UPN: one child to one pupil, ambiguity left unlinked."""

import ibis

from cwsw.linkage.deterministic import VALID_UPN_EXACT, link_on_valid_upn

CHILD_SCHEMA = {"la_child_id": "string", "upn": "string", "collection_year": "int64"}


def children(rows: list[tuple]) -> ibis.Table:
    return ibis.memtable(
        [dict(zip(CHILD_SCHEMA, r, strict=True)) for r in rows], schema=CHILD_SCHEMA
    )


def test_one_child_to_one_pupil() -> None:
    cin = children(
        [
            ("plain", "U1", 2025),
            ("former_and_current", "OLD2", 2024),  # a former UPN: no pupil has it now
            ("former_and_current", "U2", 2025),
            ("twin_a", "U3", 2025),  # two children claim one UPN: neither is linked
            ("twin_b", "U3", 2025),
            ("two_pupils", "U4", 2025),  # one child matching two pupils: not linked
            ("no_upn", None, 2025),
            ("not_a_pupil", "U9", 2025),
        ]
    )
    cla = children([("two_pupils", "U5", 2025), ("cla_only", "U6", 2025)])
    pupils = ibis.memtable({"upn": ["U1", "U2", "U3", "U4", "U5", "U6", None, "U1"]})
    links = ibis.duckdb.connect().execute(link_on_valid_upn(cin, cla, pupils))
    assert dict(zip(links.la_child_id, links.upn, strict=True)) == {
        "plain": "U1",
        "former_and_current": "U2",
        "cla_only": "U6",
    }
    assert set(links.match_method) == {VALID_UPN_EXACT}
