"""The files are in the real formats: XSD-valid CIN census, fixture headers, valid UPNs."""

from __future__ import annotations

import csv
import hashlib
import json
from collections.abc import Iterable
from pathlib import Path
from typing import cast

import pytest
from lxml import etree
from synth_measures import SAMPLES, XSD_DIR, need_fixtures

from cwsw.domain.upn import is_valid_upn
from cwsw.synth import SynthSummary

ABSENCE_CODES = set(["C", "C1", "C2", "E", "I", "M", "J1", "R", "S", "T", "G", "N", "O", "U"])


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as f:
        return list(csv.DictReader(f))


def _header(path: Path) -> list[str]:
    with path.open(encoding="utf-8-sig", newline="") as f:
        return next(csv.reader(f))


def test_clean_cin_census_validates_against_each_years_xsd(clean_la: SynthSummary) -> None:
    need_fixtures()
    files = sorted((clean_la.out / "cin_census").glob("cin_census_*.xml"))
    assert [f.stem[-4:] for f in files] == [str(y) for y in range(2020, 2026)]
    for f in files:
        year = int(f.stem[-4:])
        schema = etree.XMLSchema(etree.parse(str(XSD_DIR / f"CIN_schema_{year}.xsd")))
        doc = etree.parse(str(f))
        # lxml-stubs give _ErrorLog no __iter__; at runtime it iterates its _LogEntry items.
        # (error_log is a copy taken when read, so it is read only after validate().)
        assert schema.validate(doc), (
            f.name,
            [str(e) for e in cast(Iterable[etree._LogEntry], schema.error_log)][:5],
        )
        assert doc.findtext("Header/CollectionDetails/Year") == str(year)
        text = f.read_text()
        # GenderCurrent up to 2024, Sex from 2025; CINPlanDates from the 2022 schema on
        assert ("<Sex>" in text) == (year >= 2025)
        assert ("<GenderCurrent>" in text) == (year < 2025)
        assert ("<CINPlanDates>" in text) == (year >= 2022)
        for module in ("Assessments", "Section47", "ChildProtectionPlans", "Disabilities"):
            assert f"<{module}>" in text, (year, module)


def test_school_census_headers_match_the_fixture_extracts(clean_la: SynthSummary) -> None:
    need_fixtures()
    diff = (
        XSD_DIR.parents[1] / "school-census/schema/school_census_schema_2025.diff.yml"
    ).read_text()
    written = sorted((clean_la.out / "school_census").glob("*.csv"))
    assert len(written) == 8 + 7 + 9
    for f in written:
        term_table = f.stem.removeprefix("2025_")
        term, table = term_table.split("_", 1)
        if term == "autumn":
            sample = _header(SAMPLES / f"2024_autumn_{table}.csv")
            removed = {c for c in sample if c not in _header(f)}
            assert all(f"- {c}" in diff for c in removed)
            assert _header(f) == [c for c in sample if c not in removed]
        else:
            assert _header(f) == _header(SAMPLES / f"2025_{term}_{table}.csv"), f.name


def test_pupils_enrolments_and_absence_rows(clean_la: SynthSummary) -> None:
    sc = clean_la.out / "school_census"
    spring = _rows(sc / "2025_spring_pupilonroll.csv")
    assert 2700 <= len(spring) <= 3300
    assert all(is_valid_upn(r["upn"]) for r in spring)
    assert any(r["formerupn"] for r in spring)
    assert all(r["senprovision"] in {"N", "K", "E"} for r in spring)
    assert {r["ncyearactual"] for r in spring} == {"R", *map(str, range(1, 12))}
    assert spring[0]["dob"].endswith(" 00:00:00") and spring[0]["dob"][4:9].count("-") == 2
    summer_ids = {r["pupilonrolltableid"] for r in _rows(sc / "2025_summer_pupilonroll.csv")}
    # enrolments keep their id across terms
    assert len({r["pupilonrolltableid"] for r in spring} & summer_ids) > 0.95 * len(spring)
    autumn_off = _rows(sc / "2025_autumn_pupilnolongeronroll.csv")
    assert {"6", "11"} <= {r["ncyearleaving"] for r in autumn_off}
    off_ids = {r["pupilnolongeronrolltableid"] for r in autumn_off}
    assert off_ids & summer_ids
    for f in sc.glob("*sessiondetails*.csv"):
        assert {r["attendancereason"] for r in _rows(f)} <= ABSENCE_CODES, f.name
    assert all(r["termlysessionspossible"] for r in spring[:100] if r["ncyearactual"] != "R")


def test_ssda903_and_person_extract_share_the_cin_child_ids(clean_la: SynthSummary) -> None:
    need_fixtures()
    out = clean_la.out
    fixtures = XSD_DIR.parents[1] / "ssda903"
    cin_ids: set[str] = set()
    for f in (out / "cin_census").glob("*.xml"):
        cin_ids |= {e.text or "" for e in etree.parse(str(f)).iter("LAchildID")}
    for year in range(2020, 2026):
        for table in ("header", "episodes"):
            path = out / f"ssda903/{year}/{table}.csv"
            assert _header(path) == _header(fixtures / f"{table}.csv")
            assert {r["CHILD"] for r in _rows(path)} <= cin_ids
    episodes = _rows(out / "ssda903/2025/episodes.csv")
    assert all(len(r["DECOM"].split("/")) == 3 for r in episodes)
    person = _rows(out / "person_extract.csv")
    truth = _rows(out / "truth/child_pupil.csv")
    # the real-reader smoke test: children in the returns = children in the truth
    assert len(cin_ids) == len({r["la_child_id"] for r in truth}) == len(person)
    assert {r["la_child_id"] for r in person} == cin_ids


def test_manifest_hashes_every_file(clean_la: SynthSummary) -> None:
    manifest = json.loads((clean_la.out / "truth/manifest.json").read_text())
    assert manifest["seed"] == 7 and manifest["faults"] == "none"
    assert set(manifest["files"]) == set(clean_la.files)
    for rel, digest in manifest["files"].items():
        assert hashlib.sha256((clean_la.out / rel).read_bytes()).hexdigest() == digest
    on_disk = {
        str(p.relative_to(clean_la.out))
        for p in clean_la.out.rglob("*")
        if p.is_file() and not str(p.relative_to(clean_la.out)).startswith("truth")
    }
    assert on_disk == set(manifest["files"])


@pytest.mark.parametrize("level", ["bogus"])
def test_unknown_fault_level_is_refused(tmp_path: Path, level: str) -> None:
    from cwsw.synth import generate

    with pytest.raises(ValueError, match="faults must be one of"):
        generate(tmp_path, faults=level)
