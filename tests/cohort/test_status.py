"""Each child's social care status on a date: the DfE groups' hierarchy, never at odds with them.

On 31 March a child's status (:func:`social_care_status_at`) and their DfE group
(:func:`social_care_group_at`) must agree: CLA 12 months and CLA under 12 months are both
"looked after", CPPO "child protection plan", CINO "child in need", and no group at all
"previously had a social worker". Checked on hand-built cases and on a synthetic LA.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import ibis
import pytest

from cwsw.cohort.groups import (
    CINO,
    CLA_12_MONTHS,
    CLA_UNDER_12_MONTHS,
    CPPO,
    social_care_group_at,
)
from cwsw.cohort.status import (
    CHILD_IN_NEED,
    CP_PLAN,
    GROUP_STATUS,
    LOOKED_AFTER,
    PREVIOUSLY,
    STATUS_PRIORITY,
    latest_reference_date,
    social_care_status_at,
)
from cwsw.warehouse.connection import Warehouse
from tests.cohort.test_groups import cin, spells

D = dt.date
REF = D(2025, 3, 31)
# What each DfE group is as a status, spelled out here rather than taken from the code.
EXPECTED = {
    CLA_12_MONTHS: LOOKED_AFTER,
    CLA_UNDER_12_MONTHS: LOOKED_AFTER,
    CPPO: CP_PLAN,
    CINO: CHILD_IN_NEED,
}


@pytest.fixture(scope="module")
def con() -> ibis.BaseBackend:
    return ibis.duckdb.connect()


def statuses(
    con: ibis.BaseBackend, cin_t: ibis.Table, cp_t: ibis.Table, cla_t: ibis.Table, on: dt.date
) -> dict[str, str]:
    frame = con.execute(social_care_status_at(cin_t, cp_t, cla_t, on))
    return dict(zip(frame.la_child_id, frame.social_care_status, strict=True))


def groups(
    con: ibis.BaseBackend, cin_t: ibis.Table, cp_t: ibis.Table, cla_t: ibis.Table, on: dt.date
) -> dict[str, str]:
    frame = con.execute(social_care_group_at(cin_t, cp_t, cla_t, on))
    return dict(zip(frame.la_child_id, frame.social_care_group, strict=True))


def test_every_group_is_a_status_highest_first() -> None:
    assert GROUP_STATUS == EXPECTED
    assert STATUS_PRIORITY == (LOOKED_AFTER, CP_PLAN, CHILD_IN_NEED, PREVIOUSLY)


def test_hierarchy_on_hand_built_timelines(con: ibis.BaseBackend) -> None:
    episodes = cin(
        ("in_need", 2025, D(2024, 9, 1), None, False),
        ("cp_and_in_need", 2025, D(2024, 1, 1), None, False),
        ("looked_after_new", 2025, D(2024, 1, 1), None, False),
        ("closed", 2025, D(2023, 5, 1), D(2024, 1, 31), False),
        ("nfa_only", 2025, D(2025, 1, 1), None, True),
        ("not_yet", 2025, D(2025, 4, 2), None, False),  # referred after the date
    )
    plans = spells(("cp_and_in_need", 2025, D(2024, 3, 1), None))
    care = spells(
        ("looked_after_new", 2025, D(2024, 10, 1), None),  # under 12 months at REF
        ("looked_after_long", 2025, D(2022, 1, 1), None),
    )
    assert statuses(con, episodes, plans, care, REF) == {
        "in_need": CHILD_IN_NEED,
        "cp_and_in_need": CP_PLAN,
        "looked_after_new": LOOKED_AFTER,
        "looked_after_long": LOOKED_AFTER,
        "closed": PREVIOUSLY,
    }
    assert groups(con, episodes, plans, care, REF)["looked_after_new"] == CLA_UNDER_12_MONTHS


def test_latest_reference_date_is_31_march_of_the_newest_return() -> None:
    episodes = cin(("a", 2024, D(2023, 9, 1), None, False))
    care = spells(("b", 2025, D(2024, 9, 1), None))
    assert latest_reference_date(episodes, care) == D(2025, 3, 31)
    assert latest_reference_date(spells()) is None


# --- a synthetic local authority ---------------------------------------------------------------


@pytest.fixture(scope="module")
def synthetic_la(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Warehouse]:
    """A small synthetic LA's social care returns, six collection years, default faults."""
    from cwsw.synth import generate
    from cwsw.warehouse import load

    home = tmp_path_factory.mktemp("status")
    generate(home / "la", seed=20261207, pupils=3_000, faults="default")
    with Warehouse.open(home / "warehouse.duckdb") as warehouse:
        results = load.ingest(warehouse, [home / "la"])
        assert not [r for r in results if r.status == "failed"]
    with Warehouse.open(home / "warehouse.duckdb", read_only=True) as warehouse:
        yield warehouse


def test_status_and_dfe_group_never_disagree_on_31_march(synthetic_la: Warehouse) -> None:
    con = synthetic_la.ibis
    cin_t, cp_t, cla_t = (con.table(t) for t in ("cin_episode", "cp_plan", "cla_episode"))
    years = sorted(set(cin_t.collection_year.to_pyarrow().to_pylist()))
    assert len(years) == 6
    seen: set[str] = set()
    for year in years:
        on = D(year, 3, 31)
        status = statuses(con, cin_t, cp_t, cla_t, on)
        group = groups(con, cin_t, cp_t, cla_t, on)
        # Every child in a DfE group has that group's status ...
        assert {child: status.get(child) for child in group} == {
            child: EXPECTED[g] for child, g in group.items()
        }, on
        # ... and every other child with a status had a social worker before, not now.
        assert {s for child, s in status.items() if child not in group} <= {PREVIOUSLY}, on
        seen |= set(group.values()) | set(status.values())
    # Not vacuous: every group and every status turns up on some 31 March.
    assert {CLA_12_MONTHS, CLA_UNDER_12_MONTHS, CPPO, CINO, *STATUS_PRIORITY} <= seen
