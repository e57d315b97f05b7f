"""A load never supersedes a much bigger load of its dataset and period by mistake (issue 13).

A return of another collection or an empty export, taken for the year's CIN census, used to
replace it and leave the year with no children in need. Such a file is now refused, with one
line naming the file, dataset, period, what each load holds and ``--replace``; ``--check``
says what a load would supersede; two files of one run claiming the same dataset and period
are warned about. The synthetic LA's own files (``tests/conftest.py``) are the real census;
children are counted in the XML by the test, not by the reader.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from lxml import etree
from tests.conftest import BuiltLA
from typer.testing import CliRunner

from cwsw.cli import app
from cwsw.settings import SettingError, Settings
from cwsw.warehouse.connection import Warehouse
from cwsw.warehouse.load import check, ingest
from cwsw.warehouse.schema import TABLES, ensure_schema

YEAR = 2022


@pytest.fixture
def warehouse() -> Iterator[Warehouse]:
    with Warehouse.open(":memory:") as opened:
        ensure_schema(opened)
        yield opened


@pytest.fixture(scope="module")
def census(built_la: BuiltLA) -> Path:
    """The synthetic LA's CIN census for 2021/22."""
    return built_la.data_dir / "cin_census" / f"cin_census_{YEAR}.xml"


def _children_in(path: Path) -> list[str]:
    """The LA child IDs of a CIN census, read with lxml (independently of cwsw's reader)."""
    tree = etree.parse(str(path))
    return [str(e.text) for e in tree.iterfind("Children/Child/ChildIdentifiers/LAchildID")]


def _keeping(source: Path, target: Path, share: float) -> int:
    """``source`` with only the first ``share`` of its children; the number kept."""
    tree = etree.parse(str(source))
    children = tree.find("Children")
    assert children is not None
    every = list(children)
    kept = int(len(every) * share)
    for child in every[kept:]:
        children.remove(child)
    tree.write(str(target), xml_declaration=True, encoding="utf-8")
    return kept


def _state(warehouse: Warehouse) -> dict[str, object]:
    """Every table's rows (``loaded_at`` left out), to show a refusal wrote nothing."""
    found: dict[str, object] = {}
    for table in TABLES:
        columns = "* EXCLUDE (loaded_at)" if table == "loads" else "*"
        found[table] = sorted(
            map(repr, warehouse.execute(f'SELECT {columns} FROM "{table}"')), key=str
        )
    return found


def _sen2(target: Path) -> Path:
    """An SEN2 return (the DfE's published shape: a ``<Message>`` with a ``Header`` like the CIN
    census's, then ``Persons``), dated the same year."""
    target.write_text(
        '<?xml version="1.0" encoding="UTF-8"?>\n<Message><Header><CollectionDetails>'
        f"<Collection>SEN2</Collection><Year>{YEAR}</Year>"
        f"<ReferenceDate>{YEAR}-01-20</ReferenceDate></CollectionDetails>"
        "<Source><SourceLevel>L</SourceLevel><LEA>947</LEA></Source></Header>"
        "<Persons><Person><Surname>Test</Surname><Forename>Pat</Forename><Sex>F</Sex>"
        "<Requests><Request><ReceivedDate>2021-10-01</ReceivedDate></Request></Requests>"
        "</Person></Persons></Message>\n",
        encoding="utf-8",
    )
    return target


def test_an_empty_census_of_the_same_year_is_refused_and_the_children_stay(
    warehouse: Warehouse, census: Path, tmp_path: Path
) -> None:
    children = _children_in(census)
    (first,) = ingest(warehouse, [census])
    assert first.status == "loaded"
    before = _state(warehouse)
    empty = tmp_path / "cin_census_2022_export.xml"
    assert _keeping(census, empty, 0.0) == 0

    (refused,) = ingest(warehouse, [empty])

    assert refused.status == "refused" and refused.load_id is None
    assert refused.message == (
        f"{empty}: not loaded: it holds no children against {len(children):,} in the "
        f"cin_census {YEAR} load {first.load_id} ({census.name}) it would replace; if it is "
        "the right file, load it with `cwsw ingest --replace`"
    )
    assert _state(warehouse) == before  # nothing of it written, the census untouched
    assert warehouse.execute("SELECT count(DISTINCT la_child_id) FROM cin_child") == [
        (len(set(children)),)
    ]


def test_with_replace_the_empty_census_supersedes(
    warehouse: Warehouse, census: Path, tmp_path: Path
) -> None:
    (first,) = ingest(warehouse, [census])
    empty = tmp_path / "empty.xml"
    _keeping(census, empty, 0.0)
    (replaced,) = ingest(warehouse, [empty], replace=True)
    assert replaced.status == "loaded" and replaced.superseded == [first.load_id]
    assert warehouse.execute("SELECT count(*) FROM cin_child") == [(0,)]
    assert warehouse.execute(
        "SELECT superseded_by FROM loads WHERE load_id = ?", [first.load_id]
    ) == [(replaced.load_id,)]


def test_a_return_of_another_collection_never_empties_the_year(
    warehouse: Warehouse, census: Path, tmp_path: Path
) -> None:
    """Refused by the guard, or (once detection knows SEN2) by name: either way the year's
    children stay."""
    ingest(warehouse, [census])
    before = _state(warehouse)
    (sen2,) = ingest(warehouse, [_sen2(tmp_path / "cin_census_2022.xml")])
    assert sen2.status in ("refused", "failed"), sen2
    assert _state(warehouse) == before


@pytest.mark.parametrize(
    ("share", "min_ratio", "loads"), [(0.25, 0.5, False), (0.6, 0.5, True), (0.25, 0.2, True)]
)
def test_far_fewer_children_than_the_load_replaced_is_refused(
    warehouse: Warehouse,
    census: Path,
    tmp_path: Path,
    share: float,
    min_ratio: float,
    loads: bool,
) -> None:
    total = len(_children_in(census))
    ingest(warehouse, [census])
    smaller = tmp_path / "smaller.xml"
    kept = _keeping(census, smaller, share)
    (result,) = ingest(warehouse, [smaller], min_ratio=min_ratio)
    assert (result.status == "loaded") == loads == (kept >= min_ratio * total)
    expected = kept if loads else total
    assert warehouse.execute("SELECT count(*) FROM cin_child") == [(expected,)]
    if not loads:
        assert f"it holds {kept:,} children against {total:,}" in str(result.message)


def test_the_ratio_comes_from_the_setting(
    warehouse: Warehouse, census: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ingest(warehouse, [census])
    smaller = tmp_path / "smaller.xml"
    _keeping(census, smaller, 0.25)
    monkeypatch.setenv("CWSW_SUPERSEDE_MIN_RATIO", "0.2")
    (result,) = ingest(warehouse, [smaller])
    assert result.status == "loaded"


@pytest.mark.parametrize("value", ["1.5", "-0.1", "half"])
def test_a_ratio_outside_0_to_1_is_a_setting_error(
    value: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CWSW_SUPERSEDE_MIN_RATIO", value)
    with pytest.raises(SettingError, match="CWSW_SUPERSEDE_MIN_RATIO"):
        Settings.from_env()


def test_check_says_what_a_load_would_supersede_or_refuse(
    warehouse: Warehouse, census: Path, tmp_path: Path
) -> None:
    (first,) = ingest(warehouse, [census])
    bigger_folder = tmp_path / "resubmitted"
    bigger_folder.mkdir()
    resubmitted = bigger_folder / census.name
    _keeping(census, resubmitted, 0.9)
    empty = tmp_path / "empty.xml"
    _keeping(census, empty, 0.0)
    before = _state(warehouse)

    same, again, would_refuse = check([census, resubmitted, empty], warehouse=warehouse)

    assert same.status == "checked"
    assert same.message == f"already loaded (load {first.load_id}): loading it changes nothing"
    assert again.status == "checked"
    assert (
        again.message
        == f"would supersede load {first.load_id} ({census.name}) of cin_census {YEAR}"
    )
    assert would_refuse.status == "refused"
    assert str(would_refuse.message).startswith(
        f"{empty}: a load would be refused: it holds no children"
    )
    (with_replace,) = check([empty], warehouse=warehouse, replace=True)
    assert with_replace.status == "checked" and "would supersede" in str(with_replace.message)
    assert _state(warehouse) == before


def test_two_files_of_one_run_claiming_the_same_year_are_warned_about(
    warehouse: Warehouse, census: Path, tmp_path: Path
) -> None:
    other = tmp_path / "other.xml"
    _keeping(census, other, 0.9)
    for results in (check([census, other]), ingest(warehouse, [census, other])):
        first, second = results
        assert first.warnings == []
        assert second.warnings == [
            f"{other} holds cin_census {YEAR}, as {census} in this run does: the warehouse "
            "keeps one file per dataset and period"
        ]


def test_other_years_and_datasets_are_not_compared(
    warehouse: Warehouse, built_la: BuiltLA, census: Path, tmp_path: Path
) -> None:
    """A small return of another year supersedes nothing and is not refused."""
    ingest(warehouse, [census])
    next_year = built_la.data_dir / "cin_census" / f"cin_census_{YEAR + 1}.xml"
    small = tmp_path / "cin_census_2023.xml"
    _keeping(next_year, small, 0.1)
    (result,) = ingest(warehouse, [small])
    assert (result.status, result.period, result.superseded) == ("loaded", str(YEAR + 1), [])


runner = CliRunner()


def test_the_cli_refuses_in_one_line_and_replace_loads(
    census: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CWSW_HOME", str(tmp_path / "home"))
    assert runner.invoke(app, ["ingest", str(census)]).exit_code == 0
    empty = tmp_path / "empty.xml"
    _keeping(census, empty, 0.0)

    checked = runner.invoke(app, ["ingest", "--check", "--json", str(empty)])
    assert checked.exit_code == 1
    (foreseen,) = json.loads(checked.stdout)
    assert foreseen["status"] == "refused" and "--replace" in foreseen["message"]

    refused = runner.invoke(app, ["ingest", str(empty)])
    assert refused.exit_code == 1
    lines = [line for line in refused.stderr.splitlines() if "refused" in line]
    assert len(lines) == 1 and "Traceback" not in refused.output
    assert lines[0].startswith(f"refused: {empty}: not loaded: it holds no children against")
    assert "`cwsw ingest --replace`" in lines[0]

    replaced = runner.invoke(app, ["ingest", "--replace", "--json", str(empty)])
    assert replaced.exit_code == 0, replaced.output
    (loaded,) = json.loads(replaced.stdout)
    assert loaded["status"] == "loaded" and loaded["superseded_loads"] == [1]
