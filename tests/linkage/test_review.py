"""Review decisions: audited, never asked twice, never silently overridden, and kept across a
full re-run from the raw files into a fresh warehouse."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path

import pytest

from cwsw.linkage import review
from cwsw.linkage.report import build_report
from cwsw.linkage.run import CHILD_PUPIL_LINK, OUTCOME_TABLE, REVIEW_ACCEPTED
from cwsw.warehouse.connection import Warehouse
from tests.linkage.conftest import ingest_and_link

U1, U2, U3 = "B801200005001", "Q801200005002", "E801200005003"
WHEN = dt.datetime(2025, 5, 1, 9, 30, tzinfo=dt.UTC)


def test_a_decision_is_audited_and_deciding_again_the_same_way_changes_nothing(
    tmp_path: Path,
) -> None:
    store = tmp_path / "decisions.sqlite3"
    first = review.decide(store, " 123.0 ", U1.lower(), review.ACCEPT, "analyst", now=WHEN)
    assert (first.la_child_id, first.upn, first.decided_by) == ("123", U1, "analyst")
    assert first.decided_at == "2025-05-01T09:30:00+00:00"
    again = review.decide(store, "123", U1, review.ACCEPT, "someone else")
    assert again == first
    assert len(review.history(store)) == 1


def test_a_decision_is_never_silently_overridden(tmp_path: Path) -> None:
    store = tmp_path / "decisions.sqlite3"
    review.decide(store, "123", U1, review.REJECT, "analyst")
    with pytest.raises(review.DecisionError, match="already rejected by analyst"):
        review.decide(store, "123", U1, review.ACCEPT, "other")
    changed = review.decide(store, "123", U1, review.ACCEPT, "lead", reason="checked", change=True)
    assert changed.replaces == review.history(store)[0].decision_id
    assert [d.decision for d in review.current_decisions(store)] == [review.ACCEPT]


def test_one_child_to_one_pupil_among_acceptances(tmp_path: Path) -> None:
    store = tmp_path / "decisions.sqlite3"
    review.decide(store, "123", U1, review.ACCEPT, "analyst")
    with pytest.raises(review.DecisionError, match="one child to one pupil"):
        review.decide(store, "123", U2, review.ACCEPT, "analyst")
    with pytest.raises(review.DecisionError, match="one child to one pupil"):
        review.decide(store, "456", U1, review.ACCEPT, "analyst")
    review.decide(store, "456", U1, review.ACCEPT, "lead", change=True)
    current = {(d.la_child_id, d.upn): d.decision for d in review.current_decisions(store)}
    assert current == {("123", U1): review.REJECT, ("456", U1): review.ACCEPT}
    review.decide(store, "123", U3, review.ACCEPT, "analyst")  # a different pupil: fine


@pytest.mark.parametrize(
    ("child", "upn", "who", "message"),
    [
        ("", U1, "a", "LA child ID"),
        ("1", "B80120000500", "a", "not a valid UPN"),
        ("1", U1, " ", "who"),
    ],
)
def test_bad_decisions_are_refused_with_a_reason(
    tmp_path: Path, child: str, upn: str, who: str, message: str
) -> None:
    with pytest.raises(review.DecisionError, match=message):
        review.decide(tmp_path / "d.sqlite3", child, upn, review.ACCEPT, who)


def test_the_queue_leaves_out_decided_pairs(tmp_path: Path) -> None:
    store = tmp_path / "decisions.sqlite3"
    candidates = [
        {"la_child_id": "1", "upn": U1, "match_weight": 2.0},
        {"la_child_id": "1", "upn": U2, "match_weight": 3.0},
        {"la_child_id": "2", "upn": U3, "match_weight": 1.0},
    ]
    review.decide(store, "2", U3, review.REJECT, "analyst")
    assert [(c["la_child_id"], c["upn"]) for c in review.queue(candidates, store)] == [
        ("1", U2),
        ("1", U1),
    ]


def _links(path: Path) -> tuple[dict[str, str], dict[str, str], list[dict]]:
    with Warehouse.open(path, read_only=True) as warehouse:
        con = warehouse.ibis
        links = con.table(CHILD_PUPIL_LINK).execute()
        outcome = con.table(OUTCOME_TABLE).execute()
        queue = con.table(review.REVIEW_TABLE).execute().to_dict("records")
    linked = dict(zip(links.la_child_id, links.upn, strict=True))
    methods = dict(zip(links.la_child_id, links.match_method, strict=True))
    unlinked = list(outcome[outcome.band != "match"].la_child_id)
    return linked, methods, [{"unlinked": unlinked}, *queue]


def test_decisions_survive_a_full_re_run_from_raw_files(
    copy_of_small_la: Callable[[], Path], tmp_path: Path
) -> None:
    data = copy_of_small_la()
    home = tmp_path / "home"
    store = home / "linkage_decisions.sqlite3"
    first = ingest_and_link(data, home)
    linked, methods, (info, *queue) = _links(first)
    # A reviewer rejects a link the identifiers made, and links a child the rules left.
    rejected_child, rejected_upn = next(
        (c, u) for c, u in sorted(linked.items()) if methods[c] == "valid_upn_exact"
    )
    review.decide(store, rejected_child, rejected_upn, review.REJECT, "analyst", reason="test")
    taken = set(linked.values())
    if queue:
        accepted_child, accepted_upn = queue[0]["la_child_id"], queue[0]["upn"]
    else:
        with Warehouse.open(first, read_only=True) as warehouse:
            upns = warehouse.ibis.table("pupil_enrolment").upn.execute()
        accepted_child = sorted(info["unlinked"])[0]
        accepted_upn = sorted(set(upns.dropna()) - taken)[0]
    review.decide(store, accepted_child, accepted_upn, review.ACCEPT, "analyst")

    # A full re-run: the warehouse is thrown away and rebuilt from the raw files.
    first.unlink()
    second = ingest_and_link(data, home)
    assert second == first
    linked, methods, (_info, *queue) = _links(second)
    assert linked.get(rejected_child) != rejected_upn
    assert rejected_upn not in {u for c, u in linked.items() if c == rejected_child}
    assert linked[accepted_child] == accepted_upn
    assert methods[accepted_child] == REVIEW_ACCEPTED
    assert not [
        c
        for c in review.queue(queue, store)
        if (c["la_child_id"], c["upn"])
        in {
            (rejected_child, rejected_upn),
            (accepted_child, accepted_upn),
        }
    ]
    with Warehouse.open(second, read_only=True) as warehouse:
        report = build_report(warehouse, decisions_path=store)
    assert report["decisions"]["accepted"] == 1
    assert report["decisions"]["rejected"] == 1
    # The rejected identifier link is not silently dropped: the report counts it.
    assert report["decisions"]["identifier_claims_overridden"] >= 1
    assert len(review.history(store)) == 2
