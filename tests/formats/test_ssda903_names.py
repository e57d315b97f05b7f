"""SSDA903 tables under every naming convention councils and the sector use, in a year folder
and not, read with the same rows as under the canonical name; any name read by columns."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from cwsw.formats.detect import detect, read_file
from cwsw.formats.ssda903 import TABLES
from cwsw.warehouse.load import check

YEAR = "2018"  # the fixture's episodes start up to 31/03/2018: the 2017/18 return

# Each table's name in each convention: cwsw's (DfE's own CSV names), the sector's
# pipelines (liia-tools-pipeline: SSDA903_YYYY_<table>), the DfE validator's tables
# (csc-validator-be-903), and names that say nothing, read by columns alone.
CONVENTIONS: dict[str, dict[str, str]] = {
    "dfe": {stem: stem for stem in TABLES},
    "pipeline": {
        "header": f"SSDA903_{YEAR}_header",
        "episodes": f"SSDA903_{YEAR}_episodes",
        "reviews": f"SSDA903_{YEAR}_reviews",
        "uasc": f"SSDA903_{YEAR}_uasc",
        "oc2": f"SSDA903_{YEAR}_oc2",
        "oc3": f"SSDA903_{YEAR}_oc3",
        "ad1": f"SSDA903_{YEAR}_ad1",
        "missing": f"SSDA903_{YEAR}_missing",
        "placed_for_adoption": f"SSDA903_{YEAR}_placedadoption",
        "previous_permanence": f"SSDA903_{YEAR}_prevperm",
        "sw_episodes": f"SSDA903_{YEAR}_social_worker",
    },
    "validator": {
        "header": "Header",
        "episodes": "Episodes",
        "reviews": "Reviews",
        "uasc": "UASC",
        "oc2": "OC2",
        "oc3": "OC3",
        "ad1": "AD1",
        "missing": "Missing",
        "placed_for_adoption": "PlacedAdoption",
        "previous_permanence": "PrevPerm",
        "sw_episodes": "SWEpisodes",
    },
    "any name": {stem: f"export_{n:02d}" for n, stem in enumerate(sorted(TABLES))},
}
# Where the tables sit: a folder named for the year (two shapes), or a folder that names no
# year (the year then comes from the file name, or from the episodes' dates).
FOLDERS = ("ssda903/2018", "2018", "la/returns")


@pytest.fixture(scope="module")
def canonical(fixtures: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, list]:
    """Each table read under its canonical name in ssda903/2018/: the reference rows."""
    folder = tmp_path_factory.mktemp("canonical") / "ssda903" / YEAR
    folder.mkdir(parents=True)
    for stem in TABLES:
        shutil.copy(fixtures / f"ssda903/{stem}.csv", folder / f"{stem}.csv")
    out = {}
    for stem, spec in TABLES.items():
        result = read_file(folder / f"{stem}.csv")
        assert (result.format, result.period) == (f"ssda903_{stem}", YEAR)
        out[stem] = result.tables[spec.canonical]
        assert out[stem], stem
    return out


@pytest.mark.parametrize("folder", FOLDERS)
@pytest.mark.parametrize("convention", sorted(CONVENTIONS))
def test_every_table_reads_the_same_rows_under_every_name(
    fixtures: Path, tmp_path: Path, canonical: dict[str, list], convention: str, folder: str
) -> None:
    names = CONVENTIONS[convention]
    where = tmp_path / folder
    where.mkdir(parents=True)
    for stem, name in names.items():
        shutil.copy(fixtures / f"ssda903/{stem}.csv", where / f"{name}.csv")
    for stem, name in names.items():
        path = where / f"{name}.csv"
        detected = detect(path)
        assert detected is not None and detected.format == f"ssda903_{stem}", name
        result = read_file(path)
        assert result.period == YEAR, name
        assert result.tables[TABLES[stem].canonical] == canonical[stem], name
        (source,) = [f for f in result.findings if f.rule == "collection_year_source"]
        # The year from the folder, else the name, else the episodes beside it.
        expected = (
            "folder"
            if folder != "la/returns"
            else "file name"
            if convention == "pipeline"
            else "DECOM"
        )
        assert source.field == expected, name


def test_a_table_is_known_by_its_columns_whatever_its_name_says(
    fixtures: Path, tmp_path: Path
) -> None:
    """A header table saved as episodes.csv is read as the header table it is."""
    folder = tmp_path / "ssda903" / YEAR
    folder.mkdir(parents=True)
    shutil.copy(fixtures / "ssda903/header.csv", folder / "episodes.csv")
    shutil.copy(fixtures / "ssda903/episodes.csv", folder / "uasc.csv")
    assert [detect(folder / n).format for n in ("episodes.csv", "uasc.csv")] == [  # type: ignore[union-attr]
        "ssda903_header",
        "ssda903_episodes",
    ]


def _write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_a_folder_of_tables_cwsw_cannot_read_fails_and_never_looks_loaded(
    tmp_path: Path,
) -> None:
    """Named as SSDA903 tables but not readable: each fails with a located message (exit
    code 1), none is passed over as "not a file cwsw reads"."""
    folder = tmp_path / "returns"
    # an episodes table without DECOM; a placed-for-adoption table without DATE_PLACED;
    # an SSDA903 file that is no table at all
    _write(folder / "SSDA903_2025_episodes.csv", "CHILD,RNE,LS,CIN,PLACE,DEC,REC\n1,S,C2,N1,U1,,\n")
    _write(folder / "SSDA903_2025_placedadoption.csv", "CHILD,DOB\n1,01/01/2010\n")
    _write(folder / "SSDA903_2025_notes.csv", "note\nsent late\n")
    results = {r.file.name: r for r in check([folder])}
    assert {name: r.status for name, r in results.items()} == {
        "SSDA903_2025_episodes.csv": "failed",
        "SSDA903_2025_notes.csv": "failed",
        "SSDA903_2025_placedadoption.csv": "failed",
    }
    assert "missing required column(s): DECOM" in str(results["SSDA903_2025_episodes.csv"].message)
    assert "DATE_PLACED" in str(results["SSDA903_2025_placedadoption.csv"].message)
    assert "not an SSDA903 table" in str(results["SSDA903_2025_notes.csv"].message)


def test_a_dolo_table_is_recognised_and_said_to_be_unread(tmp_path: Path) -> None:
    path = _write(
        tmp_path / "ssda903/2027/SSDA903_2027_DoLo.csv",
        "CHILD,DOB,DOLO_START,DOLO_END\nC1,05/12/2010,01/01/2026,02/01/2026\n",
    )
    (result,) = check([path.parent])
    assert result.status == "skipped" and "DoLO" in str(result.message)


def test_a_csv_of_no_looked_after_table_is_left_to_the_other_readers(tmp_path: Path) -> None:
    person = _write(
        tmp_path / "la/person_extract.csv",
        "la_child_id,forename,surname,date_of_birth,sex,upn,postcode\n",
    )
    missing = _write(tmp_path / "la/missing.csv", "id,when\n1,2025-01-01\n")
    assert detect(person).format == "person_extract"  # type: ignore[union-attr]
    assert detect(missing) is None  # a "missing" table, but nothing says SSDA903
