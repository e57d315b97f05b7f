"""The CIN census as data: its tables, the element each column is read from, the code lists,
and what changed between collection years.

Sources: DfE's children in need census guide and its XML schema for each collection year
(``CIN_schema_<year>.xsd``, kept in ``../shared/fixtures/cin-census/xsd``), as summarised in
docs/domain.md §3. A collection year runs 1 April to 31 March and is named, as in a file's
``Header/CollectionDetails/Year`` and in the schema's file name, by the year it ends in:
``2023`` is 2022/23.

Structure: ``Message/Header/CollectionDetails/Year`` and ``Message/Children/Child`` with
``ChildIdentifiers``, ``ChildCharacteristics`` (ethnicity, ``Disabilities``) and one
``CINdetails`` per episode holding ``Assessments`` (with ``FactorsIdentifiedAtAssessment``),
``CINPlanDates``, ``Section47``, ``ChildProtectionPlans`` (with ``Reviews``) and
``PreProceedingsandFGDM``.
"""

from __future__ import annotations

from dataclasses import dataclass

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


@dataclass(frozen=True)
class YearChange:
    """An element, or a code in an element's list, that a collection year's schema added."""

    year: int  # the first collection year whose schema has it
    element: str
    code: str | None = None  # a code added to ``element``'s list; None: the element is new
    replaces: str | None = None  # the element it takes over from
    # Whether a file of an earlier year using it gets a finding (and the value is nulled).
    # Elements are read in any year's file: real files run ahead of and behind the schema.
    checked: bool = False


# Every difference between the collection years that the reader knows of, in one place.
YEAR_CHANGES = (
    YearChange(2022, "CINPlanDates"),
    YearChange(2022, "AssessmentFactors", code="24A"),
    YearChange(2023, "ReasonForClosure", code="RC9", checked=True),
    # GenderCurrent 0/1/2/9 became Sex M/F/U in 2024/25; see SEX_CODES.
    YearChange(2025, "Sex", replaces="GenderCurrent"),
    # Pre-proceedings and family group decision making, from 2026/27 (no schema here yet).
    YearChange(2027, "PreProceedingsandFGDM"),
)
# (element, code) → the first collection year in which a file may use it.
CODES_FROM = {
    (change.element, change.code): change.year
    for change in YEAR_CHANGES
    if change.checked and change.code is not None
}
RC9_FROM = CODES_FROM["ReasonForClosure", "RC9"]

# The code lists (the schemas' simple types).
# GenderCurrent (to 2023/24) and Sex (from 2024/25) both become M/F/U; real files mix the two
# code sets under either element name (docs/domain.md §3), so both are accepted in either.
SEX_CODES = {"1": "M", "2": "F", "0": "U", "9": "U", "M": "M", "F": "F", "U": "U"}
PRIMARY_NEED = frozenset(f"N{n}" for n in range(10))
# RC9 is valid from RC9_FROM; earlier years' files using it get a finding.
CLOSURE_REASON = frozenset(f"RC{n}" for n in range(1, 10))
UPN_UNKNOWN = frozenset(f"UN{n}" for n in range(1, 11))
# The XSD's referralsourcetype, written as one string to keep the list readable.
REFERRAL_SOURCE = frozenset("1A 1B 1C 1D 2A 2B 3A 3B 3C 3D 3E 3F 4 5A 5B 5C 5D 6 7 8 9 10".split())  # noqa: SIM905
ABUSE_CATEGORY = frozenset(["NEG", "PHY", "SAB", "EMO", "MUL"])
# The XSD's disabilitytype.
DISABILITY = frozenset("NONE MOB HAND PC INC COMM LD HEAR VIS BEH CON AUT DDA".split())  # noqa: SIM905

# How each leaf is read: (column, element, kind). ``kind`` names a converter, or is a code
# list (a frozenset) a value must be in. The XSDs' types and code lists, kept as data.
Kind = str | frozenset[str]
Spec = tuple[tuple[str, str, Kind], ...]
CHILD: Spec = (
    ("upn", "UPN", "upn"),
    ("upn_raw", "UPN", "text"),
    ("former_upn", "FormerUPN", "upn"),
    ("upn_unknown", "UPNunknown", UPN_UNKNOWN),
    ("birth_date", "PersonBirthDate", "date"),
    ("expected_birth_date", "ExpectedPersonBirthDate", "date"),
    ("ethnicity", "Ethnicity", "text"),
    ("death_date", "PersonDeathDate", "date"),
)
EPISODE: Spec = (
    ("referral_date", "CINreferralDate", "date"),
    ("referral_source", "ReferralSource", REFERRAL_SOURCE),
    ("primary_need", "PrimaryNeedCode", PRIMARY_NEED),
    ("closure_date", "CINclosureDate", "date"),
    ("closure_reason", "ReasonForClosure", CLOSURE_REASON),
    ("referral_nfa", "ReferralNFA", "flag"),
    ("icpc_date", "DateOfInitialCPC", "date"),
)
# The groups inside a CINdetails episode: element → (table, sequence column or None, leaves).
MODULES: dict[str, tuple[str, str | None, Spec]] = {
    "Assessments": (
        "cin_assessment",
        "assessment_seq",
        (
            ("start_date", "AssessmentActualStartDate", "date"),
            ("internal_review_date", "AssessmentInternalReviewDate", "date"),
            ("authorisation_date", "AssessmentAuthorisationDate", "date"),
        ),
    ),
    "CINPlanDates": (
        "cin_plan",
        None,
        (("start_date", "CINPlanStartDate", "date"), ("end_date", "CINPlanEndDate", "date")),
    ),
    "Section47": (
        "cin_s47",
        None,
        (
            ("start_date", "S47ActualStartDate", "date"),
            ("icpc_target", "InitialCPCtarget", "date"),
            ("icpc_date", "DateOfInitialCPC", "date"),
            ("icpc_not_required", "ICPCnotRequired", "flag"),
        ),
    ),
    "ChildProtectionPlans": (
        "cp_plan",
        "plan_seq",
        (
            ("start_date", "CPPstartDate", "date"),
            ("end_date", "CPPendDate", "date"),
            ("initial_category", "InitialCategoryOfAbuse", ABUSE_CATEGORY),
            ("latest_category", "LatestCategoryOfAbuse", ABUSE_CATEGORY),
            ("previous_plans", "NumberOfPreviousCPP", "integer"),
        ),
    ),
    "PreProceedingsandFGDM": (
        "cin_pre_proceedings",
        None,
        (
            ("start_date", "PPStartDate", "date"),
            ("letter_before_proceedings_date", "LBPSentDate", "date"),
            ("fgdm_offered", "FGDMMeetingOffer", "flag"),
            ("fgdm_facilitated", "FGDMMeetingFac", "flag"),
            ("initial_meeting_date", "InitialPPMeetingDate", "date"),
            ("review_meetings", "ReviewMeetingsCount", "integer"),
            ("step_decision_date", "StepDecisionDate", "date"),
            ("outcome", "PPOutcome", "text"),
            ("court_application_date", "CourtAppDate", "date"),
            ("letter_initial_cp_date", "LetterInitCPDate", "date"),
        ),
    ),
}
# Repeated leaves that each make a row: item element → (its group, table, column, kind, parent
# table whose current row the item belongs to).
ITEMS: dict[str, tuple[str, str, str, Kind, str]] = {
    "Disability": ("Disabilities", "cin_disability", "disability", DISABILITY, "cin_child"),
    "AssessmentFactors": (
        "FactorsIdentifiedAtAssessment",
        "cin_assessment_factor",
        "factor",
        "upper",
        "cin_assessment",
    ),
    "CPPreviewDate": ("Reviews", "cp_review", "review_date", "date", "cp_plan"),
}
# The keys an item row takes from the row it belongs to.
ITEM_KEYS = {
    "cin_child": (),
    "cin_assessment": ("episode_seq", "assessment_seq"),
    "cp_plan": ("episode_seq", "plan_seq"),
}
SPECS: dict[str, Spec] = {"cin_child": CHILD, "cin_episode": EPISODE} | {
    table: spec for table, _, spec in MODULES.values()
}
# The episode group.
EPISODE_GROUP = "CINdetails"
# Leaf element → the table whose current row it belongs to. DateOfInitialCPC is the one leaf
# in two groups (CINdetails and Section47): its parent decides.
SHARED_LEAF = "DateOfInitialCPC"
# The leaves of a child's own groups, and of an episode (but the shared one).
CHILD_LEAVES = frozenset(leaf for _, leaf, _ in CHILD) | {"LAchildID", "Sex", "GenderCurrent"}
EPISODE_LEAVES = frozenset(leaf for _, leaf, _ in EPISODE if leaf != SHARED_LEAF)
