"""The CIN census as data: its tables, the element each column is read from and how, and the
changes between collection years that the schemas do not say. The code lists of each year and
the elements each year's schema declares are data too, read from the schemas: ``codes.toml``
(``cwsw.formats.cin_census.codes``).

Sources: DfE's children in need census guide and its XML schema for each collection year
(``CIN_schema_<year>.xsd``, kept in ``../shared/fixtures/cin-census/xsd``), as summarised in
docs/domain.md §3. A collection year runs 1 April to 31 March and is named, as in a file's
``Header/CollectionDetails/Year`` and in the schema's file name, by the year it ends in:
``2023`` is 2022/23.

Structure: ``Message/Header/CollectionDetails`` (``Collection`` CIN, ``Year``,
``ReferenceDate``: 31 March of the year) and ``Message/Children/Child`` with
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
    """A change between collection years that the schemas alone do not say."""

    year: int  # the first collection year it applies to
    element: str
    replaces: str | None = None  # the element it takes over from


# What the schemas cannot say. Everything else that differs between years (codes added, as
# RC9 in 2023; elements declared from or to a year, as CINPlanDates from 2022) is data read
# from the schemas themselves: ``codes.toml`` (``cwsw.formats.cin_census.codes``).
YEAR_CHANGES = (
    # GenderCurrent 0/1/2/9 became Sex M/F/U in 2024/25: one field, read from either element
    # in any year's file, with a finding where the year's schema expects the other.
    YearChange(2025, "Sex", replaces="GenderCurrent"),
    # Pre-proceedings and family group decision making, from 2026/27 (no schema here yet):
    # read in any year's file, not checked.
    YearChange(2027, "PreProceedingsandFGDM"),
)

# The canonical sex from either element's codes: GenderCurrent's 1/2/0/9 (to 2023/24) and
# Sex's M/F/U (from 2024/25); real files mix the two code sets under either name
# (docs/domain.md §3). A code of the other set is read, with a finding.
SEX_CODES = {"1": "M", "2": "F", "0": "U", "9": "U", "M": "M", "F": "F", "U": "U"}
SEX_ELEMENTS = ("Sex", "GenderCurrent")

# How each leaf is read: (column, element, kind). ``kind`` names a converter: ``code`` is a
# value checked against the element's code list for the file's collection year (``codes``)
# and kept as written when it fails; ``date``, ``flag``, ``integer`` and ``upn`` are parsed
# (and nulled when they fail); ``text`` is kept as it is.
Kind = str
Spec = tuple[tuple[str, str, Kind], ...]
CHILD: Spec = (
    ("upn", "UPN", "upn"),
    ("upn_raw", "UPN", "text"),
    ("former_upn", "FormerUPN", "upn"),
    ("upn_unknown", "UPNunknown", "code"),
    ("birth_date", "PersonBirthDate", "date"),
    ("expected_birth_date", "ExpectedPersonBirthDate", "date"),
    ("ethnicity", "Ethnicity", "code"),
    ("death_date", "PersonDeathDate", "date"),
)
EPISODE: Spec = (
    ("referral_date", "CINreferralDate", "date"),
    ("referral_source", "ReferralSource", "code"),
    ("primary_need", "PrimaryNeedCode", "code"),
    ("closure_date", "CINclosureDate", "date"),
    ("closure_reason", "ReasonForClosure", "code"),
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
            ("initial_category", "InitialCategoryOfAbuse", "code"),
            ("latest_category", "LatestCategoryOfAbuse", "code"),
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
    "Disability": ("Disabilities", "cin_disability", "disability", "code", "cin_child"),
    "AssessmentFactors": (
        "FactorsIdentifiedAtAssessment",
        "cin_assessment_factor",
        "factor",
        "code",
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
CHILD_LEAVES = frozenset(leaf for _, leaf, _ in CHILD) | {"LAchildID", *SEX_ELEMENTS}
EPISODE_LEAVES = frozenset(leaf for _, leaf, _ in EPISODE if leaf != SHARED_LEAF)
