"""The compiled walk of a CIN census child (``_cin_walk``) reads exactly what the Python walk
(``_Reader._child``, the reference) reads: the same raw rows, keys in the same order, the same
locations and lines, and so the same tables and findings."""

from __future__ import annotations

import importlib.util
import io
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.formats.test_cin_census_parallel import CIN_FILES, _sorted_rows, _variant

from cwsw.formats import cin_census
from cwsw.formats.cin_census import (
    CHILD_LEAVES,
    EPISODE_LEAVES,
    ITEMS,
    MODULES,
    WALK_VARIABLE,
    read_cin_census,
    walk_in_use,
)
from cwsw.formats.cin_census.reader import _Reader
from cwsw.formats.cin_census.walk import PADDED
from cwsw.formats.common import ReadResult
from cwsw.formats.errors import FormatError

BENCHMARK = Path(__file__).resolve().parents[2] / "benchmarks" / "ingest_cin.py"


def test_the_compiled_walk_is_built_and_used_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    """`make env` builds it; without it the reader would fall back silently (and slowly)."""
    monkeypatch.delenv(WALK_VARIABLE, raising=False)
    from cwsw.formats import _cin_walk  # fails here when the extension is not built

    assert _cin_walk.Walker is not None
    assert walk_in_use() == "compiled"
    monkeypatch.setenv(WALK_VARIABLE, "python")
    assert walk_in_use() == "python"


def _read(path: Path, walk: str, monkeypatch: pytest.MonkeyPatch) -> object:
    monkeypatch.setenv(WALK_VARIABLE, walk)
    assert walk_in_use() == walk
    try:
        result = read_cin_census(path, workers=1)
    except FormatError as error:
        return ("error", str(error), error.line)
    tables = {table: _sorted_rows(rows) for table, rows in result.tables.items()}
    return ("read", tables, result.findings, result.period)


@pytest.mark.parametrize("name", CIN_FILES)
def test_every_fixture_reads_the_same_with_either_walk(
    fixtures: Path, name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = fixtures / "cin-census" / name
    compiled = _read(path, "compiled", monkeypatch)
    assert compiled == _read(path, "python", monkeypatch)
    assert compiled[0] == "read"  # type: ignore[index]


@pytest.mark.parametrize(
    "change", ["fault-early", "fault-late", "comments", "namespace", "one-line"]
)
def test_variants_read_the_same_with_either_walk(
    fixtures: Path, tmp_path: Path, change: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = _variant(fixtures, tmp_path, change)
    assert _read(path, "compiled", monkeypatch) == _read(path, "python", monkeypatch)


def test_lines_beyond_65535_are_the_same_with_either_walk(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """libxml2 keeps 65,535 in a node's line field from there on, the real line elsewhere."""
    spec = importlib.util.spec_from_file_location("ingest_cin_benchmark", BENCHMARK)
    assert spec is not None and spec.loader is not None
    benchmark = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(benchmark)
    path = tmp_path / "cin_census_2022.xml"
    benchmark.write_national_file(path, 1_500)  # 85,000 lines
    compiled = _read(path, "compiled", monkeypatch)
    assert compiled == _read(path, "python", monkeypatch)
    findings = compiled[2]  # type: ignore[index]
    assert "(line 85" in findings[-1].location  # the last child's, past 65,535


def _raw(data: bytes, walk: str, monkeypatch: pytest.MonkeyPatch) -> tuple[Any, ...]:
    """The raw rows and IDs one walk builds (before conversion), keys in their order."""
    monkeypatch.setenv(WALK_VARIABLE, walk)
    path = Path("cin_census_2022.xml")
    result = ReadResult(file=path, format="cin_census", period=None)
    reader = _Reader(path, result, 0, 0)
    reader.parse(io.BytesIO(data))
    raw: dict[str, list[Any]] = {
        table: [list(row.items()) for row in rows]
        for table, rows in reader.raw.items()
        if table != PADDED
    }
    # each trimmed text: its row (as it ends up), its leaf and the text as written
    raw[PADDED] = [(list(row.items()), tag, text) for row, tag, text in reader.raw[PADDED]]
    return raw, reader.summary.ids


HEAD = (
    b"<?xml version='1.0' encoding='utf-8'?>\n<Message><Header><CollectionDetails>"
    b"<Year>2022</Year></CollectionDetails></Header>\n<Children>\n"
)
TAIL = b"</Children></Message>\n"

# Every odd corner a walk could read differently, in one file.
ODD = """
<Child>
 <ChildIdentifiers><LAchildID> A1 </LAchildID><UPN>\u00a0A12\u00a0</UPN><UPN>second</UPN>
  <FormerUPN>  </FormerUPN><UPNunknown/><PersonBirthDate><x/>2020-01-01</PersonBirthDate>
  <GenderCurrent><![CDATA[ 1 ]]></GenderCurrent><Sex>a<!-- gone -->b</Sex>
  <Ethnicity>W&amp;B\u00e9\u2003</Ethnicity><?pi here?></ChildIdentifiers>
 <ChildIdentifiers><LAchildID>ignored</LAchildID></ChildIdentifiers>
 <Disabilities><Disability>HAND</Disability><Disability> </Disability>
  <Disability><b/>x</Disability></Disabilities>
 <Disability>OUTSIDE</Disability>
 <CPPstartDate>before any episode</CPPstartDate><Assessments><AssessmentActualStartDate>
 no episode</AssessmentActualStartDate></Assessments>
 <CINdetails/>
 <CINdetails><CINreferralDate>2021-01-01</CINreferralDate><DateOfInitialCPC>e1</DateOfInitialCPC>
  <DateOfInitialCPC>e2</DateOfInitialCPC>
  <Section47><DateOfInitialCPC>s1</DateOfInitialCPC></Section47>
  <Section47><S47ActualStartDate>2021-02-02</S47ActualStartDate></Section47>
  <DateOfInitialCPC>outside both</DateOfInitialCPC>
  <Assessments/><Assessments><FactorsIdentifiedAtAssessment><AssessmentFactors>2a
  </AssessmentFactors><AssessmentFactors><i/></AssessmentFactors></FactorsIdentifiedAtAssessment>
  </Assessments><AssessmentFactors>not in its group</AssessmentFactors>
  <ChildProtectionPlans><Reviews><CPPreviewDate>2021-03-03</CPPreviewDate></Reviews>
  </ChildProtectionPlans><CPPendDate>after the plan</CPPendDate>
  <x:Section47 xmlns:x="urn:x"><DateOfInitialCPC>ns parent</DateOfInitialCPC></x:Section47>
  <UPN xmlns="urn:y">namespaced</UPN>
 </CINdetails>
 <CINdetails><ReasonForClosure>RC9</ReasonForClosure><CPPendDate>new episode</CPPendDate>
  <ChildProtectionPlans><CPPendDate>p</CPPendDate></ChildProtectionPlans></CINdetails>
</Child>
<Child/>
<Child><ChildCharacteristics><Disabilities><Disability>MOB</Disability></Disabilities>
</ChildCharacteristics></Child>
"""


def test_odd_children_give_the_same_raw_rows(monkeypatch: pytest.MonkeyPatch) -> None:
    data = HEAD + ODD.encode("utf-8") + TAIL
    compiled = _raw(data, "compiled", monkeypatch)
    assert compiled == _raw(data, "python", monkeypatch)
    raw, ids = compiled
    assert [n for n, _, _ in ids] == [1, 2, 3] and ids[0][1] == "A1"
    assert len(raw["cin_episode"]) == 2 and len(raw["cin_s47"]) == 2
    # The texts stored trimmed, as written (a blank one is absent, not trimmed).
    assert [(tag, text) for _, tag, text in raw[PADDED]] == [
        ("LAchildID", " A1 "),
        ("UPN", "\u00a0A12\u00a0"),
        ("GenderCurrent", " 1 "),
        ("Ethnicity", "W&B\u00e9\u2003"),
        ("AssessmentFactors", "2a\n  "),
    ]


# Random children: nested elements named from the spec (and a few others), with texts that
# are blank, padded with Unicode white space, non-ASCII, or hold markup.
NAMES = sorted(
    CHILD_LEAVES
    | EPISODE_LEAVES
    | set(MODULES)
    | set(ITEMS)
    | {leaf for _, _, spec in MODULES.values() for _, leaf, _ in spec}
    | {group for group, *_ in ITEMS.values()}
    | {"CINdetails", "DateOfInitialCPC", "ChildIdentifiers", "ChildCharacteristics", "Other"}
)
TEXTS = st.sampled_from(
    ["", " ", "x", " 2021-01-01 ", "\u00a0N4\u2003", "\u00e9t\u00e9", "<!--c-->a", "a&amp;b"]
)


def _elements(depth: int) -> st.SearchStrategy[str]:
    def element(name: str, text: str, children: list[str]) -> str:
        return f"<{name}>{text}{''.join(children)}</{name}>\n"

    children = st.lists(_elements(depth - 1), max_size=4) if depth > 0 else st.just([])
    return st.builds(element, st.sampled_from(NAMES), TEXTS, children)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(children=st.lists(st.lists(_elements(3), max_size=6), min_size=1, max_size=3))
def test_random_children_give_the_same_raw_rows(children: list[list[str]]) -> None:
    body = "".join(f"<Child>{''.join(inside)}</Child>\n" for inside in children)
    data = HEAD + body.encode("utf-8") + TAIL
    with pytest.MonkeyPatch.context() as monkeypatch:
        assert _raw(data, "compiled", monkeypatch) == _raw(data, "python", monkeypatch)


def test_the_spec_gives_each_name_one_role() -> None:
    """The compiled walk turns the Python walk's chain of tests into one role per name, which
    is only the same while no name is in two places of the spec."""
    from cwsw.formats import _cin_walk

    with pytest.raises(ValueError, match="two roles"):
        _cin_walk.Walker(
            CHILD_LEAVES,
            EPISODE_LEAVES | {"UPN"},
            MODULES,
            ITEMS,
            cin_census.ITEM_KEYS,
            cin_census.SHARED_LEAF,
            cin_census.EPISODE_GROUP,
            cin_census.child_id,
        )
