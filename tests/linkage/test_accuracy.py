"""Linkage accuracy on the synthetic LA at its default fault rates, measured against truth."""

from __future__ import annotations

from typing import TYPE_CHECKING

from cwsw.linkage.report import accuracy, build_report
from cwsw.warehouse.connection import Warehouse

if TYPE_CHECKING:
    from tests.linkage.conftest import Linked


def test_precision_and_recall_against_truth(linked: Linked) -> None:
    pairs = set(zip(linked.links.la_child_id, linked.links.upn, strict=True))
    measured = accuracy(pairs, linked.truth)
    print(
        f"\nlinkage against truth: {measured['true_pairs']} true pairs, {measured['links']} "
        f"links, precision {measured['precision']:.4f}, recall {measured['recall']:.4f}, "
        f"F1 {measured['f1']:.4f} ({measured['false_positives']} false, "
        f"{measured['false_negatives']} missed)"
    )
    assert measured["true_pairs"] > 500
    assert measured["precision"] >= 0.995
    assert measured["recall"] >= 0.99


def test_the_quality_report_prints_the_same_figures(linked: Linked) -> None:
    with Warehouse.open(linked.la.warehouse_path, read_only=True) as warehouse:
        report = build_report(warehouse, truth_dir=linked.la.data_dir / "truth")
    pairs = set(zip(linked.links.la_child_id, linked.links.upn, strict=True))
    assert report["accuracy"] == accuracy(pairs, linked.truth)
    assert report["linked"] == len(linked.links)
    assert sum(report["by_method"].values()) == len(linked.links)
    assert sum(report["bands"].values()) == report["children"] == len(linked.outcome)
    unmatched = report["children"] - report["bands"]["match"]
    assert sum(report["unmatched_reasons"].values()) == unmatched
    for breakdown in ("age", "sex", "ethnicity"):
        rows = report["rates_by"][breakdown]
        assert sum(r["children"] for r in rows) == report["children"]
        assert sum(r["linked"] for r in rows) == report["linked"]
    assert report["model"]["splink_version"].startswith("5.")
    # Every rule found someone on this LA, and the report names no child or pupil.
    assert report["by_method"]["valid_upn_exact"] > 0
    assert report["by_method"]["la_child_id"] > 0
    assert report["by_method"]["probabilistic"] > 0
    text = str(report)
    assert not any(upn in text for upn in linked.links.upn)


def test_children_out_of_school_age_are_explained(linked: Linked) -> None:
    # Children who are not pupils in truth are not linked, and each has a reason.
    pupils = {child for child, _upn in linked.truth}
    not_pupils = linked.outcome[~linked.outcome.la_child_id.isin(pupils)]
    assert (not_pupils.band == "match").sum() <= 0.005 * len(not_pupils)
    unlinked = linked.outcome[linked.outcome.band != "match"]
    assert unlinked.reason.notna().all()
