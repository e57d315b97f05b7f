"""CIN census XML returns (DfE children in need census), streamed with lxml iterparse.

One ``Child`` element is parsed at a time and then freed, so a national-scale file stays in
constant memory. Structure: ``Message/Header/CollectionDetails/Year`` and
``Message/Children/Child`` with ``ChildIdentifiers``, ``ChildCharacteristics`` (ethnicity,
``Disabilities``) and one ``CINdetails`` per episode holding ``Assessments`` (with
``FactorsIdentifiedAtAssessment``), ``CINPlanDates``, ``Section47``, ``ChildProtectionPlans``
(with ``Reviews``) and, from 2026/27, ``PreProceedingsandFGDM`` (DOMAIN.md §3; the XSDs in
``../shared/fixtures/cin-census/xsd``).

Problems are classified as the issue asks: a file that cannot be read raises ``FormatError``
(fatal); a child without ``LAchildID`` or listed twice is kept with a record-level finding; a
value that fails its type or code list is nulled with a value-level finding (the raw UPN is kept
in ``upn_raw``).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import BinaryIO

from lxml import etree

from cwsw.formats.common import Collector, ReadResult, Row, Sink, child_id
from cwsw.formats.errors import FormatError

FORMAT = "cin_census"
TABLES = (
    "cin_child",
    "cin_disability",
    "cin_episode",
    "cin_assessment",
    "cin_assessment_factor",
    "cin_plan",
    "cin_s47",
    "cp_plan",
    "cp_review",
    "cin_pre_proceedings",
)

# GenderCurrent (to 2023/24) and Sex (from 2024/25) both become M/F/U; real files mix the two
# code sets under either element name (DOMAIN.md §3), so both are accepted in either.
SEX_CODES = {"1": "M", "2": "F", "0": "U", "9": "U", "M": "M", "F": "F", "U": "U"}
PRIMARY_NEED = frozenset(f"N{n}" for n in range(10))
# RC9 was added in 2023 (DOMAIN.md §3); earlier years' files using it get a finding.
CLOSURE_REASON = frozenset(f"RC{n}" for n in range(1, 10))
RC9_FROM = 2023
UPN_UNKNOWN = frozenset(f"UN{n}" for n in range(1, 11))
# The XSD's referralsourcetype, written as one string to keep the list readable.
REFERRAL_SOURCE = frozenset("1A 1B 1C 1D 2A 2B 3A 3B 3C 3D 3E 3F 4 5A 5B 5C 5D 6 7 8 9 10".split())  # noqa: SIM905
ABUSE_CATEGORY = frozenset(["NEG", "PHY", "SAB", "EMO", "MUL"])
# The XSD's disabilitytype.
DISABILITY = frozenset("NONE MOB HAND PC INC COMM LD HEAR VIS BEH CON AUT DDA".split())  # noqa: SIM905

_FILE_YEAR = re.compile(r"(20\d{2})")


def _local(tag: object) -> str:
    """Element name without a namespace (some suppliers add one); comments have no name."""
    if not isinstance(tag, str):
        return ""
    return tag.rpartition("}")[2] if tag[:1] == "{" else tag


def _fields(element: etree._Element) -> tuple[dict[str, str | None], dict[str, list]]:
    """An element's leaf children as name → trimmed text, and its groups as name → elements.

    The first occurrence of a repeated leaf wins, as in the XSD only one is allowed; an empty
    group (``<Assessments/>``) holds nothing to read and is left out.
    """
    leaves: dict[str, str | None] = {}
    groups: dict[str, list] = {}
    for child in element:
        name = _local(child.tag)
        if not name:
            continue
        if len(child):
            groups.setdefault(name, []).append(child)
        elif name not in leaves:
            text = child.text
            text = text.strip() if text else None
            leaves[name] = text or None
    return leaves, groups


def root_element(path: Path) -> tuple[str | None, int | None]:
    """The root element's name and line, or (None, None) when there is none to find."""
    try:
        with path.open("rb") as handle:
            for _event, element in etree.iterparse(handle, events=("start",)):
                return _local(element.tag), element.sourceline
    except (etree.XMLSyntaxError, OSError):
        return None, None
    return None, None


def read_cin_census(path: Path | str, sink: Sink | None = None) -> ReadResult:
    """Read a CIN census XML file into ``cin_child``, ``cin_episode`` and the module tables.

    Raises ``FormatError`` (naming the file and line) for a file that is not XML, has the
    wrong root, is truncated or has no collection year; nothing partial is kept (the loader
    rolls back whatever batches a ``sink`` had received).
    """
    path = Path(path)
    result = ReadResult(file=path, format=FORMAT, period=None, sink=sink)
    for table in TABLES:  # a CIN census fills every table, even when a module is absent
        result.rows(table)
    values = Collector(path, result.findings)
    root, root_line = root_element(path)
    if root is not None and root != "Message":
        raise FormatError(
            path, f"root element is <{root}>, a CIN census starts with <Message>", root_line
        )
    reader = _Reader(path, values, result)
    try:
        with path.open("rb") as handle:
            reader.parse(handle)
    except etree.XMLSyntaxError as error:
        line = error.lineno if error.lineno else None
        raise FormatError(path, f"not well-formed XML: {error.msg}", line) from None
    except OSError as error:
        raise FormatError(path, f"cannot read the file: {error}") from None
    if reader.year is None:
        raise FormatError(
            path,
            f"no valid Header/CollectionDetails/Year (found {reader.year_text!r})",
            reader.year_line,
        )
    reader.stamp_year()
    result.flush()
    year_text = str(reader.year)
    result.period = year_text
    named = _FILE_YEAR.findall(path.stem)
    if named and named[-1] != year_text:
        values.add(
            f"Header/CollectionDetails/Year (line {reader.year_line})",
            "Year",
            year_text,
            f"file_name_year_{named[-1]}",
            "record",
        )
    return result


class _Reader:
    """The state of one pass over a file."""

    def __init__(self, path: Path, values: Collector, result: ReadResult) -> None:
        self.path = path
        self.values = values
        self.result = result
        self.year: int | None = None
        self.year_text: str | None = None
        self.year_line: int | None = None
        self.children = 0
        self.seen: set[str] = set()
        self.unstamped: dict[str, int] = {}  # rows per table read before the year was known
        self.tables = {name: result.rows(name) for name in TABLES}

    def parse(self, handle: BinaryIO) -> None:
        tags = ("{*}Child", "{*}Year")
        for _event, element in etree.iterparse(handle, events=("end",), tag=tags):
            if _local(element.tag) == "Year":
                parent = element.getparent()
                if parent is not None and _local(parent.tag) == "CollectionDetails":
                    self._set_year(element)
                continue
            self.children += 1
            added = self._child(element)
            # Free the parsed child and its predecessors: constant memory.
            element.clear(keep_tail=False)
            parent = element.getparent()
            if parent is not None:
                while element.getprevious() is not None:
                    del parent[0]
            if self.year is not None:
                self.result.maybe_flush(added)

    def _set_year(self, element: etree._Element) -> None:
        text = element.text.strip() if element.text else None
        line = element.sourceline
        self.year_text, self.year_line = text, line if isinstance(line, int) else None
        if text is not None and len(text) == 4 and text.isdigit():
            self.year = int(text)
            self.stamp_year()

    def stamp_year(self) -> None:
        """Give rows read before the header's Year (only in an odd file) their year."""
        for rows in self.tables.values():
            for row in rows:
                if row.get("collection_year") is None:
                    row["collection_year"] = self.year

    def _child(self, child: etree._Element) -> int:
        values, year, tables = self.values, self.year, self.tables
        path = f"Child[{self.children}]"
        _, groups = _fields(child)
        ids_el = groups.get("ChildIdentifiers", [None])[0]
        traits_el = groups.get("ChildCharacteristics", [None])[0]
        ids, _ = _fields(ids_el) if ids_el is not None else ({}, {})
        traits, trait_groups = _fields(traits_el) if traits_el is not None else ({}, {})
        where = (
            f"{path}/ChildIdentifiers (line {(ids_el if ids_el is not None else child).sourceline})"
        )
        la_child_id = child_id(ids.get("LAchildID"))
        if la_child_id is None:
            values.add(where, "LAchildID", None, "missing_child_id", "record")
        elif la_child_id in self.seen:
            values.add(where, "LAchildID", la_child_id, "duplicate_child_id", "record")
        else:
            self.seen.add(la_child_id)
        upn_raw = ids.get("UPN")
        sex_field = "Sex" if ids.get("Sex") is not None else "GenderCurrent"
        tables["cin_child"].append(
            {
                "collection_year": year,
                "la_child_id": la_child_id,
                "upn": values.upn(upn_raw, where, "UPN"),
                "upn_raw": upn_raw,
                "former_upn": values.upn(ids.get("FormerUPN"), where, "FormerUPN"),
                "upn_unknown": values.code(ids.get("UPNunknown"), UPN_UNKNOWN, where, "UPNunknown"),
                "birth_date": values.date(ids.get("PersonBirthDate"), where, "PersonBirthDate"),
                "expected_birth_date": values.date(
                    ids.get("ExpectedPersonBirthDate"), where, "ExpectedPersonBirthDate"
                ),
                "sex": values.mapped(ids.get(sex_field), SEX_CODES, where, sex_field),
                "ethnicity": traits.get("Ethnicity"),
                "death_date": values.date(ids.get("PersonDeathDate"), where, "PersonDeathDate"),
                "record": f"{path} (line {child.sourceline})",
            }
        )
        added = 1
        for block in trait_groups.get("Disabilities", []):
            for item in block:
                if _local(item.tag) != "Disability":
                    continue
                text = item.text.strip() if item.text else None
                if not text:
                    continue
                at = f"{path}/ChildCharacteristics/Disabilities (line {item.sourceline})"
                tables["cin_disability"].append(
                    {
                        "collection_year": year,
                        "la_child_id": la_child_id,
                        "disability": values.code(text, DISABILITY, at, "Disability"),
                        "disability_raw": text,
                    }
                )
                added += 1
        for seq, episode in enumerate(groups.get("CINdetails", []), start=1):
            added += self._episode(episode, f"{path}/CINdetails[{seq}]", la_child_id, seq)
        return added

    def _closure_reason(self, raw: str | None, where: str) -> str | None:
        reason = self.values.code(raw, CLOSURE_REASON, where, "ReasonForClosure")
        if reason == "RC9" and self.year is not None and self.year < RC9_FROM:
            self.values.add(where, "ReasonForClosure", raw, f"code_not_valid_before_{RC9_FROM}")
            return None
        return reason

    def _episode(
        self, episode: etree._Element, path: str, la_child_id: str | None, seq: int
    ) -> int:
        values, tables = self.values, self.tables
        fields, groups = _fields(episode)
        where = f"{path} (line {episode.sourceline})"
        key: Row = {"collection_year": self.year, "la_child_id": la_child_id, "episode_seq": seq}
        tables["cin_episode"].append(
            key
            | {
                "referral_date": values.date(
                    fields.get("CINreferralDate"), where, "CINreferralDate"
                ),
                "referral_source": values.code(
                    fields.get("ReferralSource"), REFERRAL_SOURCE, where, "ReferralSource"
                ),
                "primary_need": values.code(
                    fields.get("PrimaryNeedCode"), PRIMARY_NEED, where, "PrimaryNeedCode"
                ),
                "closure_date": values.date(fields.get("CINclosureDate"), where, "CINclosureDate"),
                "closure_reason": self._closure_reason(fields.get("ReasonForClosure"), where),
                "referral_nfa": values.flag(fields.get("ReferralNFA"), where, "ReferralNFA"),
                "icpc_date": values.date(fields.get("DateOfInitialCPC"), where, "DateOfInitialCPC"),
                "record": where,
            }
        )
        added = 1
        for n, item in enumerate(groups.get("Assessments", []), start=1):
            at = f"{path}/Assessments[{n}] (line {item.sourceline})"
            got, parts = _fields(item)
            tables["cin_assessment"].append(
                key
                | {
                    "assessment_seq": n,
                    "start_date": values.date(
                        got.get("AssessmentActualStartDate"), at, "AssessmentActualStartDate"
                    ),
                    "internal_review_date": values.date(
                        got.get("AssessmentInternalReviewDate"), at, "AssessmentInternalReviewDate"
                    ),
                    "authorisation_date": values.date(
                        got.get("AssessmentAuthorisationDate"), at, "AssessmentAuthorisationDate"
                    ),
                }
            )
            added += 1
            for block in parts.get("FactorsIdentifiedAtAssessment", []):
                for factor in block:
                    text = factor.text.strip() if factor.text else None
                    if _local(factor.tag) == "AssessmentFactors" and text:
                        tables["cin_assessment_factor"].append(
                            key | {"assessment_seq": n, "factor": text.upper()}
                        )
                        added += 1
        for n, item in enumerate(groups.get("CINPlanDates", []), start=1):
            at = f"{path}/CINPlanDates[{n}] (line {item.sourceline})"
            got, _ = _fields(item)
            tables["cin_plan"].append(
                key
                | {
                    "start_date": values.date(got.get("CINPlanStartDate"), at, "CINPlanStartDate"),
                    "end_date": values.date(got.get("CINPlanEndDate"), at, "CINPlanEndDate"),
                }
            )
            added += 1
        for n, item in enumerate(groups.get("Section47", []), start=1):
            at = f"{path}/Section47[{n}] (line {item.sourceline})"
            got, _ = _fields(item)
            tables["cin_s47"].append(
                key
                | {
                    "start_date": values.date(
                        got.get("S47ActualStartDate"), at, "S47ActualStartDate"
                    ),
                    "icpc_target": values.date(got.get("InitialCPCtarget"), at, "InitialCPCtarget"),
                    "icpc_date": values.date(got.get("DateOfInitialCPC"), at, "DateOfInitialCPC"),
                    "icpc_not_required": values.flag(
                        got.get("ICPCnotRequired"), at, "ICPCnotRequired"
                    ),
                }
            )
            added += 1
        for n, item in enumerate(groups.get("ChildProtectionPlans", []), start=1):
            at = f"{path}/ChildProtectionPlans[{n}] (line {item.sourceline})"
            got, parts = _fields(item)
            tables["cp_plan"].append(
                key
                | {
                    "plan_seq": n,
                    "start_date": values.date(got.get("CPPstartDate"), at, "CPPstartDate"),
                    "end_date": values.date(got.get("CPPendDate"), at, "CPPendDate"),
                    "initial_category": values.code(
                        got.get("InitialCategoryOfAbuse"),
                        ABUSE_CATEGORY,
                        at,
                        "InitialCategoryOfAbuse",
                    ),
                    "latest_category": values.code(
                        got.get("LatestCategoryOfAbuse"),
                        ABUSE_CATEGORY,
                        at,
                        "LatestCategoryOfAbuse",
                    ),
                    "previous_plans": values.integer(
                        got.get("NumberOfPreviousCPP"), at, "NumberOfPreviousCPP"
                    ),
                }
            )
            added += 1
            for block in parts.get("Reviews", []):
                for review in block:
                    text = review.text.strip() if review.text else None
                    if _local(review.tag) == "CPPreviewDate" and text:
                        tables["cp_review"].append(
                            key
                            | {
                                "plan_seq": n,
                                "review_date": values.date(text, at, "CPPreviewDate"),
                            }
                        )
                        added += 1
        for n, item in enumerate(groups.get("PreProceedingsandFGDM", []), start=1):
            at = f"{path}/PreProceedingsandFGDM[{n}] (line {item.sourceline})"
            got, _ = _fields(item)
            tables["cin_pre_proceedings"].append(
                key
                | {
                    "start_date": values.date(got.get("PPStartDate"), at, "PPStartDate"),
                    "letter_before_proceedings_date": values.date(
                        got.get("LBPSentDate"), at, "LBPSentDate"
                    ),
                    "fgdm_offered": values.flag(
                        got.get("FGDMMeetingOffer"), at, "FGDMMeetingOffer"
                    ),
                    "fgdm_facilitated": values.flag(
                        got.get("FGDMMeetingFac"), at, "FGDMMeetingFac"
                    ),
                    "initial_meeting_date": values.date(
                        got.get("InitialPPMeetingDate"), at, "InitialPPMeetingDate"
                    ),
                    "review_meetings": values.integer(
                        got.get("ReviewMeetingsCount"), at, "ReviewMeetingsCount"
                    ),
                    "step_decision_date": values.date(
                        got.get("StepDecisionDate"), at, "StepDecisionDate"
                    ),
                    "outcome": got.get("PPOutcome"),
                    "court_application_date": values.date(
                        got.get("CourtAppDate"), at, "CourtAppDate"
                    ),
                    "letter_initial_cp_date": values.date(
                        got.get("LetterInitCPDate"), at, "LetterInitCPDate"
                    ),
                }
            )
            added += 1
        return added
