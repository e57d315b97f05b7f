"""Every fault the generator injects that touches linkage, and the rule or comparison that
recovers it. Affected children are picked from ``truth/faults.csv``; outcomes are checked
against ``truth/child_pupil.csv``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pytest

from cwsw.linkage import deterministic, probabilistic
from cwsw.linkage.splink_engine import COMPARISON_LEVELS, SplinkEngine, TrainedModel
from cwsw.synth.faults import FAULT_TYPES
from cwsw.warehouse.connection import Warehouse

if TYPE_CHECKING:
    from tests.linkage.conftest import Linked

# Faults that do not touch the identifiers, names or dates linkage reads.
NOT_LINKAGE = {"yesno_truefalse"}
COVERED = {
    "upn_missing",
    "upn_bad_check",
    "upn_former",
    "upn_whitespace",
    "upn_lowercase",
    "id_float",
    "name_typo",
    "name_nickname",
    "dob_swapped",
    "bom",
}


def test_every_linkage_fault_type_has_a_test() -> None:
    assert set(FAULT_TYPES) - NOT_LINKAGE == COVERED


@pytest.fixture(scope="module")
def claims(linked: Linked) -> dict[str, set[tuple[str, str]]]:
    """Each rule's claims on its own (before the cascade), and each child's anchor file."""
    with Warehouse.open(linked.la.warehouse_path, read_only=True) as warehouse:
        con = warehouse.ibis
        records = deterministic.child_records(
            con.table("cin_child"), con.table("cla_child"), con.table("person")
        )
        out = {}
        for method, table in deterministic.rule_claims(records, con.table("pupil_enrolment")):
            frame = con.execute(table)
            out[method] = set(zip(frame.la_child_id, frame.upn, strict=True))
        anchors = con.execute(
            records.filter(records.anchor).select("la_child_id", "source", "year")
        )
    out["_anchor"] = {
        (r.la_child_id, _file(r.source, r.year)) for r in anchors.itertuples(index=False)
    }
    return out


def _file(source: str, year: float | None) -> str:
    if source == "cin_census":
        return f"cin_census/cin_census_{int(year or 0)}.xml"
    if source == "ssda903":
        return f"ssda903/{int(year or 0)}/header.csv"
    return "person_extract.csv"


def _anchor_faults(linked: Linked, claims: dict, fault: str) -> list[tuple[str, str]]:
    """(child, true UPN) of pupils whose anchor record carries ``fault``."""
    true_upn = linked.true_upn
    return sorted(
        {
            (f["la_child_id"], true_upn[f["la_child_id"]])
            for f in linked.faulted(fault)
            if f["la_child_id"] in true_upn and (f["la_child_id"], f["file"]) in claims["_anchor"]
        }
    )


def _linked_to_truth(linked: Linked, children: set[str]) -> pd.DataFrame:
    links = linked.links[linked.links.la_child_id.isin(children)]
    true_upn = linked.true_upn
    assert all(true_upn[c] == u for c, u in zip(links.la_child_id, links.upn, strict=True))
    return links


@pytest.mark.parametrize("fault", ["upn_whitespace", "upn_lowercase"])
def test_spaces_and_case_are_recovered_by_the_normalised_upn_rule(
    linked: Linked, claims: dict, fault: str
) -> None:
    affected = _anchor_faults(linked, claims, fault)
    assert affected, f"no pupil's anchor record has {fault}"
    for pair in affected:
        assert pair in claims[deterministic.NORMALISED_UPN]
        if fault == "upn_lowercase":  # the raw value is kept as written: not an exact UPN
            assert pair not in claims[deterministic.VALID_UPN_EXACT]
    children = {c for f in linked.faulted(fault) if (c := f["la_child_id"]) in linked.true_upn}
    assert len(_linked_to_truth(linked, children)) == len(children)


def test_a_pupils_former_upn_is_recovered_by_the_former_upn_rule(
    linked: Linked, claims: dict
) -> None:
    affected = [f for f in linked.faulted("upn_former") if f["la_child_id"] in linked.true_upn]
    assert affected, "no upn_former fault on a pupil"
    either = claims[deterministic.FORMER_UPN] | claims[deterministic.LA_CHILD_ID]
    for f in affected:
        pair = (f["la_child_id"], linked.true_upn[f["la_child_id"]])
        rule = (
            deterministic.FORMER_UPN
            if (f["la_child_id"], f["file"]) in claims["_anchor"]
            else deterministic.LA_CHILD_ID
        )
        assert pair in claims[rule] and pair in either
    _linked_to_truth(linked, {f["la_child_id"] for f in affected})


@pytest.mark.parametrize("fault", ["upn_missing", "upn_bad_check"])
def test_a_lost_upn_is_recovered_from_other_records_or_by_names(
    linked: Linked, claims: dict, fault: str
) -> None:
    affected = _anchor_faults(linked, claims, fault)
    assert affected, f"no pupil's anchor record has {fault}"
    by_other_records = [p for p in affected if p in claims[deterministic.LA_CHILD_ID]]
    assert by_other_records, "the LA child ID rule recovers most lost UPNs"
    links = _linked_to_truth(linked, {c for c, _u in affected})
    methods = set(links.match_method)
    assert methods <= {
        deterministic.FORMER_UPN,  # the return still gave the FormerUPN
        deterministic.LA_CHILD_ID,
        probabilistic.PROBABILISTIC,
    }
    assert len(links) >= 0.95 * len(affected)


def test_an_la_child_id_written_as_a_float_still_joins_the_childs_records(
    linked: Linked, claims: dict
) -> None:
    affected = {f["la_child_id"] for f in linked.faulted("id_float")}
    assert affected
    with Warehouse.open(linked.la.warehouse_path, read_only=True) as warehouse:
        con = warehouse.ibis
        ids = set(con.execute(con.table("person").select("la_child_id")).la_child_id)
        ids |= set(con.execute(con.table("cla_child").select("la_child_id")).la_child_id)
        cin_ids = set(con.execute(con.table("cin_child").select("la_child_id")).la_child_id)
    assert affected <= ids & cin_ids
    assert not any(i.endswith(".0") for i in ids)
    pupils = {c for c in affected if c in linked.true_upn}
    assert len(_linked_to_truth(linked, pupils)) >= 0.99 * len(pupils)


def test_a_byte_order_mark_does_not_lose_the_person_extract(linked: Linked) -> None:
    with Warehouse.open(linked.la.warehouse_path, read_only=True) as warehouse:
        con = warehouse.ibis
        person = set(con.execute(con.table("person").select("la_child_id")).la_child_id)
        children = set(con.execute(con.table("cin_child").select("la_child_id")).la_child_id)
    assert person == children
    files = {f["file"] for f in linked.faulted("bom")}
    assert files, "no file got a byte-order mark"


@pytest.fixture(scope="module")
def scorer(linked: Linked):
    """Score named children against every pupil with the run's saved model: the
    comparisons alone, whatever the UPNs say."""
    model = TrainedModel.load(linked.la.home / "linkage_model.json")
    with Warehouse.open(linked.la.warehouse_path, read_only=True) as warehouse:
        con = warehouse.ibis
        children = probabilistic.prepare(
            con.to_pyarrow(
                probabilistic.child_frame(
                    con.table("person"), con.table("cin_child"), con.table("cla_child")
                )
            )
        )
        pupils = probabilistic.prepare(
            con.to_pyarrow(probabilistic.pupil_frame(con.table("pupil_enrolment")))
        )
    engine = SplinkEngine()

    def score(ids: list[str]) -> pd.DataFrame:
        subset = children.filter(pc.is_in(children["unique_id"], pa.array(ids)))
        return engine.predict(model, subset, pupils, probabilistic.KEEP_PROBABILITY).to_pandas()

    return model, score


@pytest.mark.parametrize(
    ("fault", "comparison", "level", "band"),
    [
        ("name_nickname", "forename", "nickname or other spelling", probabilistic.MATCH),
        ("name_typo", "surname", None, probabilistic.MATCH),
        ("dob_swapped", "birth_date", "day and month swapped", probabilistic.POTENTIAL),
    ],
)
def test_name_and_date_faults_are_recovered_by_their_comparison(
    linked: Linked, scorer, fault: str, comparison: str, level: str | None, band: str
) -> None:
    from tests.conftest import linkage_settings

    model, score = scorer
    affected = sorted(
        {f["la_child_id"] for f in linked.faulted(fault) if f["la_child_id"] in linked.true_upn}
    )
    assert len(affected) >= 5, f"too few pupils with {fault}"
    pairs = score(affected)
    true_pairs = pairs[
        [linked.true_upn[c] == p for c, p in zip(pairs.child_id, pairs.pupil_id, strict=True)]
    ]
    # The comparison recognises the fault on the true pair...
    found = set(true_pairs.child_id)
    assert len(found) >= 0.95 * len(affected)
    levels = true_pairs[f"gamma_{comparison}"].map(COMPARISON_LEVELS[comparison])
    if level is None:  # a typo: anything between exact and different
        assert (~levels.isin(["same", "different", "missing"])).mean() >= 0.9
    else:
        assert (levels == level).mean() >= 0.9
    # ...and the pair reaches the expected band on names alone (potential goes to review).
    settings = linkage_settings(linked.la.home)
    thresholds = probabilistic.Thresholds(
        settings.link_match_probability,
        settings.link_potential_probability,
        settings.link_margin_weight,
    )
    assignment = probabilistic.assign(pairs, affected, thresholds)
    bands = assignment.bands.set_index("child_id").band
    wanted = (
        {probabilistic.MATCH}
        if band == probabilistic.MATCH
        else {
            probabilistic.MATCH,
            probabilistic.POTENTIAL,
        }
    )
    assert bands.isin(wanted).mean() >= 0.9
    links = assignment.links
    assert all(linked.true_upn[c] == p for c, p in zip(links.child_id, links.pupil_id, strict=True))
    print(f"\n{fault}: {len(affected)} pupils, bands {bands.value_counts().to_dict()}")
    del model
