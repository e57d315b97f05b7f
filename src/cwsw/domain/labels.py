"""The names and plain-English labels of social care groups, cohorts and breakdowns.

One place for the words a reader sees, so the report, the export and the pages agree. The
names are the keys stored in the marts; the labels are what is printed. Sources: DfE,
"Outcomes for children in need, including children looked after" (groups and the "ever CIN
in the last 6 years" cohort); DfE school census guide (SEN provision codes).
"""

from __future__ import annotations

# DfE's mutually exclusive social care groups at 31 March, highest first.
CLA_12_MONTHS = "CLA 12 months"
CLA_UNDER_12_MONTHS = "CLA under 12 months"
CPPO = "CPPO"
CINO = "CINO"
# The same groups at any point in the collection year.
CLA_IN_YEAR = "CLA in year"
CPPO_IN_YEAR = "CPPO in year"
CINO_IN_YEAR = "CINO in year"

# The default cohorts that are not a single group.
ALL_PUPILS = "All pupils"
EVER_CIN_6_YEARS = "Ever CIN last 6 years"
NEVER_CIN_6_YEARS = "Not CIN in last 6 years"
CIN_IN_YEAR = "CIN at any point in the year"

# Each default cohort's label, in the order a table shows them.
COHORT_LABELS = {
    CINO: "Child in need (not on a plan or looked after)",
    CPPO: "On a child protection plan (not looked after)",
    CLA_12_MONTHS: "Looked after for 12 months or more",
    CIN_IN_YEAR: "In need at any point in the year",
    EVER_CIN_6_YEARS: "Had a social worker in the last 6 years",
    NEVER_CIN_6_YEARS: "No social worker in the last 6 years",
    ALL_PUPILS: "All pupils",
}

# The dimensions figures are broken down by, and their headings.
BREAKDOWN_LABELS = {
    "total": "All",
    "school": "School",
    "phase": "Phase",
    "nc_year": "National Curriculum year",
    "sex": "Sex",
    "ethnicity": "Ethnicity (major group)",
    "sen": "Special educational needs",
    "fsm": "Free school meals",
    "social_care_group": "Social care group at 31 March",
    "fsm_sen": "Free school meals and SEN",
}

# School census codes and their labels.
SEN_LABELS = {"N": "No SEN", "K": "SEN support", "E": "EHC plan"}
SEX_LABELS = {"M": "Male", "F": "Female"}


def cohort_label(cohort: str) -> str:
    """The label of a default cohort; a configured cohort's name is its own label."""
    return COHORT_LABELS.get(cohort, cohort)


def breakdown_label(breakdown: str) -> str:
    """The heading of a breakdown; an unknown one is shown by its name."""
    return BREAKDOWN_LABELS.get(breakdown, breakdown)
