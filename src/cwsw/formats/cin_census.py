"""CIN census XML returns (DfE children in need census), streamed with lxml iterparse.

One ``Child`` element is parsed at a time and then freed, so a national-scale file stays in
constant memory. Structure: ``Message/Header/CollectionDetails/Year`` and
``Message/Children/Child`` with ``ChildIdentifiers``, ``ChildCharacteristics`` and one
``CINdetails`` per episode holding ``Assessments``, ``CINPlanDates``, ``Section47`` and
``ChildProtectionPlans``.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import BinaryIO

from lxml import etree

from cwsw.formats.common import Collector, ReadResult, Row, child_id, clean_text
from cwsw.formats.errors import FormatError

FORMAT = "cin_census"

# GenderCurrent (to 2023/24) and Sex (from 2024/25) both become M/F/U; real files mix the two
# code sets under either element name (DOMAIN.md §3), so both are accepted in either.
SEX_CODES = {"1": "M", "2": "F", "0": "U", "9": "U", "M": "M", "F": "F", "U": "U"}
PRIMARY_NEED = frozenset(f"N{n}" for n in range(10))
CLOSURE_REASON = frozenset(f"RC{n}" for n in range(1, 10))
UPN_UNKNOWN = frozenset(f"UN{n}" for n in range(1, 11))
REFERRAL_SOURCE = frozenset(
    [
        "1A",
        "1B",
        "1C",
        "1D",
        "2A",
        "2B",
        "3A",
        "3B",
        "3C",
        "3D",
        "3E",
        "3F",
        "4",
        "5A",
        "5B",
        "5C",
        "5D",
        "6",
        "7",
        "8",
        "9",
        "10",
    ]
)
ABUSE_CATEGORY = frozenset(["NEG", "PHY", "SAB", "EMO", "MUL"])

_FILE_YEAR = re.compile(r"(20\d{2})")


def _local(tag: object) -> str:
    """Element name without a namespace (some suppliers add one)."""
    return etree.QName(tag).localname if isinstance(tag, str) else ""


def _children(element: etree._Element, name: str) -> list[etree._Element]:
    return [child for child in element if _local(child.tag) == name]


def _text(element: etree._Element | None, name: str) -> str | None:
    if element is None:
        return None
    for child in element:
        if _local(child.tag) == name:
            return clean_text(child.text)
    return None


def _where(path: str, element: etree._Element) -> str:
    return f"{path} (line {element.sourceline})"


def read_cin_census(path: Path | str) -> ReadResult:
    """Read a CIN census XML file into ``cin_child``, ``cin_episode`` and the module tables.

    Raises ``FormatError`` (naming the file and line) for a file that is not XML, has the
    wrong root, is truncated or has no collection year; nothing partial is returned.
    """
    path = Path(path)
    values = Collector(path)
    result = ReadResult(file=path, format=FORMAT, period=None)
    try:
        with path.open("rb") as handle:
            year_text, year_line = _parse(path, handle, values, result)
    except etree.XMLSyntaxError as error:
        line = error.lineno if error.lineno else None
        raise FormatError(path, f"not well-formed XML: {error.msg}", line) from None
    except OSError as error:
        raise FormatError(path, f"cannot read the file: {error}") from None

    if year_text is None or not year_text.isdigit() or len(year_text) != 4:
        raise FormatError(
            path, f"no valid Header/CollectionDetails/Year (found {year_text!r})", year_line
        )
    year = int(year_text)
    for rows in result.tables.values():
        for row in rows:
            row["collection_year"] = year
    result.period = year_text
    named = _FILE_YEAR.findall(path.stem)
    if named and named[-1] != year_text:
        values.add(
            f"Header/CollectionDetails/Year (line {year_line})",
            "Year",
            year_text,
            f"file_name_year_{named[-1]}",
        )
    result.findings.extend(values.findings)
    # Tables a CIN census always fills, even when a module is absent (e.g. no assessments).
    for table in ("cin_child", "cin_episode", "cin_assessment", "cin_plan", "cin_s47", "cp_plan"):
        result.rows(table)
    return result


def _parse(
    path: Path, handle: BinaryIO, values: Collector, result: ReadResult
) -> tuple[str | None, int | None]:
    """Stream the file, reading each ``Child`` as it closes; returns the header Year."""
    year_text: str | None = None
    year_line: int | None = None
    child_count = 0
    for event, element in etree.iterparse(handle, events=("start", "end")):
        name = _local(element.tag)
        if event == "start":
            if element.getparent() is None and name != "Message":
                raise FormatError(
                    path,
                    f"root element is <{name}>, a CIN census starts with <Message>",
                    element.sourceline,
                )
            continue
        parent = element.getparent()
        if name == "Year" and parent is not None and _local(parent.tag) == "CollectionDetails":
            year_text, year_line = clean_text(element.text), element.sourceline
        elif name == "Child":
            child_count += 1
            _read_child(element, child_count, values, result)
            # Free the parsed child and its predecessors: constant memory.
            element.clear()
            while element.getprevious() is not None and parent is not None:
                del parent[0]
    return year_text, year_line


def _read_child(child: etree._Element, index: int, values: Collector, result: ReadResult) -> None:
    path = f"Child[{index}]"
    ids = next(iter(_children(child, "ChildIdentifiers")), None)
    traits = next(iter(_children(child, "ChildCharacteristics")), None)
    where = _where(f"{path}/ChildIdentifiers", ids if ids is not None else child)
    la_child_id = child_id(_text(ids, "LAchildID"))
    if la_child_id is None:
        values.add(where, "LAchildID", None, "missing_child_id", "record")
    upn_raw = _text(ids, "UPN")
    sex_field = "Sex" if _text(ids, "Sex") is not None else "GenderCurrent"
    result.rows("cin_child").append(
        {
            "la_child_id": la_child_id,
            "upn": values.upn(upn_raw, where, "UPN"),
            "upn_raw": upn_raw,
            "former_upn": values.upn(_text(ids, "FormerUPN"), where, "FormerUPN"),
            "upn_unknown": values.code(_text(ids, "UPNunknown"), UPN_UNKNOWN, where, "UPNunknown"),
            "birth_date": values.date(_text(ids, "PersonBirthDate"), where, "PersonBirthDate"),
            "expected_birth_date": values.date(
                _text(ids, "ExpectedPersonBirthDate"), where, "ExpectedPersonBirthDate"
            ),
            "sex": values.mapped(_text(ids, sex_field), SEX_CODES, where, sex_field),
            "ethnicity": _text(traits, "Ethnicity"),
            "death_date": values.date(_text(ids, "PersonDeathDate"), where, "PersonDeathDate"),
            "record": _where(path, child),
        }
    )
    for seq, episode in enumerate(_children(child, "CINdetails"), start=1):
        _read_episode(episode, f"{path}/CINdetails[{seq}]", la_child_id, seq, values, result)


def _read_episode(
    episode: etree._Element,
    path: str,
    la_child_id: str | None,
    seq: int,
    values: Collector,
    result: ReadResult,
) -> None:
    where = _where(path, episode)
    key: Row = {"la_child_id": la_child_id, "episode_seq": seq}
    result.rows("cin_episode").append(
        key
        | {
            "referral_date": values.date(
                _text(episode, "CINreferralDate"), where, "CINreferralDate"
            ),
            "referral_source": values.code(
                _text(episode, "ReferralSource"), REFERRAL_SOURCE, where, "ReferralSource"
            ),
            "primary_need": values.code(
                _text(episode, "PrimaryNeedCode"), PRIMARY_NEED, where, "PrimaryNeedCode"
            ),
            "closure_date": values.date(_text(episode, "CINclosureDate"), where, "CINclosureDate"),
            "closure_reason": values.code(
                _text(episode, "ReasonForClosure"), CLOSURE_REASON, where, "ReasonForClosure"
            ),
            "referral_nfa": values.flag(_text(episode, "ReferralNFA"), where, "ReferralNFA"),
            "record": where,
        }
    )
    for n, item in enumerate(_children(episode, "Assessments"), start=1):
        at = _where(f"{path}/Assessments[{n}]", item)
        result.rows("cin_assessment").append(
            key
            | {
                "start_date": values.date(
                    _text(item, "AssessmentActualStartDate"), at, "AssessmentActualStartDate"
                ),
                "authorisation_date": values.date(
                    _text(item, "AssessmentAuthorisationDate"), at, "AssessmentAuthorisationDate"
                ),
            }
        )
    for n, item in enumerate(_children(episode, "CINPlanDates"), start=1):
        at = _where(f"{path}/CINPlanDates[{n}]", item)
        result.rows("cin_plan").append(
            key
            | {
                "start_date": values.date(_text(item, "CINPlanStartDate"), at, "CINPlanStartDate"),
                "end_date": values.date(_text(item, "CINPlanEndDate"), at, "CINPlanEndDate"),
            }
        )
    for n, item in enumerate(_children(episode, "Section47"), start=1):
        at = _where(f"{path}/Section47[{n}]", item)
        result.rows("cin_s47").append(
            key
            | {
                "start_date": values.date(
                    _text(item, "S47ActualStartDate"), at, "S47ActualStartDate"
                ),
                "icpc_date": values.date(_text(item, "DateOfInitialCPC"), at, "DateOfInitialCPC"),
                "icpc_not_required": values.flag(
                    _text(item, "ICPCnotRequired"), at, "ICPCnotRequired"
                ),
            }
        )
    for n, item in enumerate(_children(episode, "ChildProtectionPlans"), start=1):
        at = _where(f"{path}/ChildProtectionPlans[{n}]", item)
        result.rows("cp_plan").append(
            key
            | {
                "start_date": values.date(_text(item, "CPPstartDate"), at, "CPPstartDate"),
                "end_date": values.date(_text(item, "CPPendDate"), at, "CPPendDate"),
                "initial_category": values.code(
                    _text(item, "InitialCategoryOfAbuse"),
                    ABUSE_CATEGORY,
                    at,
                    "InitialCategoryOfAbuse",
                ),
                "latest_category": values.code(
                    _text(item, "LatestCategoryOfAbuse"),
                    ABUSE_CATEGORY,
                    at,
                    "LatestCategoryOfAbuse",
                ),
            }
        )
