"""Reading a CIN census in several processes gives what one process reads, exactly."""

from __future__ import annotations

import itertools
import os
import subprocess
import sys
from pathlib import Path
from typing import cast

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lxml import etree

from cwsw.formats.cin_census import read_cin_census
from cwsw.formats.errors import (
    EXAMPLES_PER_RULE,
    Finding,
    FindingSummary,
    FormatError,
    findings_from_table,
    findings_table,
)
from cwsw.warehouse.connection import Warehouse
from cwsw.warehouse.load import ingest

CIN_FILES = [
    "fake_CIN_data.xml",
    "BAR_cin_2022.xml",
    "CIN2rows.xml",
    "CIN_Census_2021.xml",
    "CIN_Census_2024.xml",
    "CIN_Census_2026.xml",
]


def _sorted_rows(rows: list[dict[str, object]]) -> list[str]:
    return sorted(repr(sorted(row.items())) for row in rows)


@pytest.mark.parametrize("name", CIN_FILES)
@pytest.mark.parametrize("workers", [2, 3])
def test_workers_read_the_same_rows_and_findings(fixtures: Path, name: str, workers: int) -> None:
    path = fixtures / "cin-census" / name
    one = read_cin_census(path, workers=1)
    many = read_cin_census(path, workers=workers)
    assert one.period == many.period
    assert set(one.tables) == set(many.tables)
    for table, rows in one.tables.items():
        assert _sorted_rows(rows) == _sorted_rows(many.tables[table]), table
    # The same findings in the same (document) order.
    assert one.findings == many.findings
    assert one.counts == many.counts


def _with_duplicates(fixtures: Path, target: Path) -> Path:
    """fake_CIN_data.xml with child 2's LAchildID given to children 5 and 6 (other shares)."""
    tree = etree.parse(str(fixtures / "cin-census/fake_CIN_data.xml"))
    ids = tree.findall("Children/Child/ChildIdentifiers/LAchildID")
    ids[4].text = ids[5].text = ids[1].text
    ids[7].text = None  # and child 8 has none
    tree.write(str(target), xml_declaration=True, encoding="utf-8")
    return target


def test_duplicates_across_workers_are_found_in_document_order(
    fixtures: Path, tmp_path: Path
) -> None:
    path = _with_duplicates(fixtures, tmp_path / "cin_census_2022.xml")
    for workers in (1, 2):
        result = read_cin_census(path, workers=workers)
        found = [
            (f.rule, f.location.split("/")[0])
            for f in result.findings
            if f.rule in ("duplicate_child_id", "missing_child_id")
        ]
        assert found == [
            ("duplicate_child_id", "Child[5]"),
            ("duplicate_child_id", "Child[6]"),
            ("missing_child_id", "Child[8]"),
        ], workers


def test_a_fault_met_by_workers_is_one_located_format_error(tmp_path: Path, fixtures: Path) -> None:
    text = (fixtures / "cin-census/fake_CIN_data.xml").read_text(encoding="utf-8")
    path = tmp_path / "cin_census_2022.xml"
    path.write_text(text[: len(text) // 2], encoding="utf-8")  # truncated mid-file
    with pytest.raises(FormatError) as one:
        read_cin_census(path, workers=1)
    with pytest.raises(FormatError) as many:
        read_cin_census(path, workers=2)
    assert str(one.value) == str(many.value)
    assert "not well-formed XML" in str(many.value) and one.value.line is not None


def test_a_parallel_load_equals_a_single_load(fixtures: Path, tmp_path: Path) -> None:
    path = _with_duplicates(fixtures, tmp_path / "cin_census_2022.xml")
    states = []
    for workers in ("1", "2"):
        warehouse_path = tmp_path / f"w{workers}.duckdb"
        env = {"CWSW_INGEST_WORKERS": workers}
        code = (
            "import sys; from cwsw.warehouse.connection import Warehouse; "
            "from cwsw.warehouse.load import ingest\n"
            "with Warehouse.open(sys.argv[1]) as w: ingest(w, [sys.argv[2]])"
        )
        subprocess.run(
            [sys.executable, "-c", code, str(warehouse_path), str(path)],
            check=True,
            env=os.environ | env,
        )
        with Warehouse.open(warehouse_path, read_only=True) as warehouse:
            state = {}
            for table in ("cin_child", "cin_episode", "cin_disability", "load_finding"):
                columns = "* EXCLUDE (load_id)"
                state[table] = sorted(
                    map(repr, warehouse.execute(f"SELECT {columns} FROM {table}"))
                )
            states.append(state)
    assert states[0] == states[1]
    assert len(states[0]["cin_child"]) == 332


def test_the_loader_takes_arrow_batches_from_workers(
    fixtures: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CWSW_INGEST_WORKERS", "2")
    with Warehouse.open(tmp_path / "w.duckdb") as warehouse:
        (result,) = ingest(warehouse, [fixtures / "cin-census/CIN_Census_2024.xml"])
        assert result.status == "loaded"
        rows = warehouse.execute("SELECT count(*) FROM cin_child")[0][0]
        assert rows == result.rows["cin_child"] > 0


def _variant(fixtures: Path, tmp_path: Path, change: str) -> Path:
    """fake_CIN_data.xml changed: a fault or a layout a part boundary must survive."""
    text = (fixtures / "cin-census/fake_CIN_data.xml").read_text(encoding="utf-8")
    starts = [i for i in range(len(text)) if text.startswith("<Child>", i)]
    if change == "fault-early":  # a broken element in the first part
        at = text.index("<UPN>", starts[20])
        text = text[:at] + "<UPN>1<UPN>" + text[at + 5 :]
    elif change == "fault-late":  # a broken element in the last part
        at = text.index("<UPN>", starts[300])
        text = text[:at] + "<UPN a=>" + text[at + 5 :]
    elif change == "comments":  # comments, one holding a child, between children
        for n in (250, 170, 90):
            text = text[: starts[n]] + "<!-- <Child></Child> -->\n    " + text[starts[n] :]
    elif change == "namespace":  # a default namespace: tags read as {uri}Child
        text = text.replace("<Message>", '<Message xmlns="http://www.example.org/cin">', 1)
    elif change == "one-line":  # no line breaks at all between elements
        text = "".join(line.strip() for line in text.splitlines())
    path = tmp_path / "cin_census_2022.xml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    "change", ["fault-early", "fault-late", "comments", "namespace", "one-line"]
)
@pytest.mark.parametrize("workers", [2, 3])
def test_parts_read_what_one_process_reads(
    fixtures: Path, tmp_path: Path, change: str, workers: int
) -> None:
    path = _variant(fixtures, tmp_path, change)

    def outcome(count: int) -> tuple[object, ...]:
        try:
            result = read_cin_census(path, workers=count)
        except FormatError as error:
            return ("error", str(error), error.line)
        tables = {t: _sorted_rows(rows) for t, rows in result.tables.items()}
        return ("read", tables, result.findings, result.period)

    one = outcome(1)
    assert outcome(workers) == one
    if change.startswith("fault"):
        assert one[0] == "error"
    else:
        # A "read" outcome's second item is its tables: table name -> sorted rows.
        tables = cast(dict[str, list[str]], one[1])
        assert one[0] == "read" and len(tables["cin_child"]) == 332


@pytest.mark.parametrize("change", ["comments", "fault-late"])
def test_the_loader_rolls_back_and_rereads_when_parts_disagree(
    fixtures: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, change: str
) -> None:
    """A commented-out child misleads the count; a fault is located by one process."""
    path = _variant(fixtures, tmp_path, change)
    one = read_cin_census(path, workers=1) if change == "comments" else None
    monkeypatch.setenv("CWSW_INGEST_WORKERS", "2")
    with Warehouse.open(tmp_path / "w.duckdb") as warehouse:
        (result,) = ingest(warehouse, [path])
        children = warehouse.execute("SELECT count(*) FROM cin_child")[0][0]
        stored = warehouse.execute(
            "SELECT location, field, value, rule, severity FROM load_finding ORDER BY ALL"
        )
    if one is None:
        assert result.status == "failed" and "not well-formed XML" in (result.message or "")
        assert children == 0
    else:
        assert result.status == "loaded"
        assert children == len(one.tables["cin_child"]) == 332
        assert stored == sorted(
            (f.location, f.field, f.value, f.rule, f.severity) for f in one.findings
        )
        _assert_same_summary(result.findings, FindingSummary.of(one.findings))


def _assert_same_summary(got: FindingSummary, expected: FindingSummary) -> None:
    assert got.counts == expected.counts and got.severity == expected.severity
    for rule in expected.counts:
        assert got.examples(rule) == expected.examples(rule)


@pytest.mark.parametrize("workers", [2, 3])
def test_streamed_findings_keep_the_first_examples_in_file_order(
    fixtures: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, workers: int
) -> None:
    """Parts hand over findings as they come; the summary's examples are still file order."""
    path = _variant(fixtures, tmp_path, "none")
    one = read_cin_census(path, workers=1)
    monkeypatch.setenv("CWSW_INGEST_WORKERS", str(workers))
    with Warehouse.open(tmp_path / "w.duckdb") as warehouse:
        (result,) = ingest(warehouse, [path])
        (stored,) = warehouse.execute("SELECT count(*) FROM load_finding")[0]
    assert result.status == "loaded"
    assert stored == len(one.findings) == result.findings.total > EXAMPLES_PER_RULE
    _assert_same_summary(result.findings, FindingSummary.of(one.findings))


@settings(deadline=None)  # the first Arrow compute call loads its kernels
@given(
    rules=st.lists(st.sampled_from("abc"), max_size=60),
    cuts=st.lists(st.integers(0, 60), max_size=6),
    order=st.randoms(use_true_random=False),
    as_tables=st.lists(st.booleans(), min_size=1, max_size=8),
)
def test_a_summary_of_parts_in_any_order_is_the_summary_in_file_order(
    rules: list[str], cuts: list[int], order: object, as_tables: list[bool]
) -> None:
    """Batches may come as Finding lists or as Arrow tables (``add_table``), mixed."""
    findings = [Finding("f", f"row {n}", "x", None, rule, "value") for n, rule in enumerate(rules)]
    bounds = [0, *sorted(c for c in cuts if c <= len(findings)), len(findings)]
    # Each part in batches of up to 3, the batches of all parts interleaved at random while
    # each part's stay in order, as reading processes hand them over.
    queues = [
        [(part, findings[at : min(at + 3, end)]) for at in range(start, end, 3)]
        for part, (start, end) in enumerate(itertools.pairwise(bounds))
    ]
    summary = FindingSummary()
    for n in itertools.count():
        if not any(queues):
            break
        queue = order.choice([q for q in queues if q])  # type: ignore[attr-defined]
        part, batch = queue.pop(0)
        if as_tables[n % len(as_tables)]:
            summary.add_table(findings_table(batch), "f", part)
        else:
            summary.add(batch, part)
    _assert_same_summary(summary, FindingSummary.of(findings))


def test_findings_survive_the_arrow_round_trip() -> None:
    findings = [
        Finding(
            "f",
            "Child[2]/CINdetails (line 9)",
            "ReferralDate",
            "2022-13-01",
            "invalid_date",
            "value",
        ),
        Finding("f", "Child[3]", "LAchildID", None, "missing_child_id", "record"),
    ]
    assert findings_from_table(findings_table(findings), "f") == findings
