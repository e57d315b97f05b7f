"""Code lists and name pools, with the collection year each code became valid.

Code lists follow the CIN census XSDs (2017–2026): ``GenderCurrent`` 0/1/2/9 became ``Sex`` M/F/U
in 2025; ``CINPlanDates`` and factor 24A arrived in 2022; factors 18B/18C/19B/19C in 2021;
referral source 5D and closure reason RC9 in 2023. A code is only drawn for an event dated inside
a collection year whose schema has it, so every file it appears in accepts it.
"""

from __future__ import annotations

from cwsw.synth.dates import day

SEX_FROM_YEAR = 2025  # CIN census Sex M/F (not GenderCurrent 1/2); SSDA903 SEX M/F too


def placement_in_year(place: str, year: int) -> str:
    """The placement type as collection ``year``'s SSDA903 return codes it."""
    for since, old, new in PLACEMENTS_RECODED:
        if year >= since and place == old:
            place = new
    return place


def ssda903_sex(sex: str, year: int) -> str:
    """The SSDA903 header's SEX: 1 / 2 until 2023/24, M / F from 2024/25."""
    if year >= SEX_FROM_YEAR:
        return sex
    return "1" if sex == "M" else "2"


CIN_PLAN_DATES_FROM_YEAR = 2022


def valid_from(collection_year: int) -> int:
    """First day of a collection year: events on or after it may use that year's new codes."""
    return day(collection_year - 1, 4, 1)


# (code, weight) pairs; weights are rough national shares (CIN census, characteristics of CIN).
REFERRAL_SOURCES: tuple[tuple[str, float], ...] = (
    ("1A", 0.03), ("1B", 0.03), ("1C", 0.01), ("1D", 0.01), ("2A", 0.18), ("2B", 0.02),
    ("3A", 0.04), ("3B", 0.03), ("3C", 0.02), ("3D", 0.02), ("3E", 0.02), ("3F", 0.02),
    ("4", 0.02), ("5A", 0.06), ("5B", 0.04), ("5C", 0.04), ("6", 0.29), ("7", 0.02),
    ("8", 0.07), ("9", 0.02), ("10", 0.01),
)  # fmt: skip
REFERRAL_SOURCE_5D = "5D"  # LA services – early help, from 2023
PRIMARY_NEEDS: tuple[tuple[str, float], ...] = (
    ("N1", 0.57), ("N2", 0.04), ("N3", 0.09), ("N4", 0.06), ("N5", 0.03), ("N6", 0.01),
    ("N7", 0.01), ("N8", 0.03), ("N9", 0.05), ("N0", 0.11),
)  # fmt: skip
ASSESSMENT_FACTORS = [
    "1A",
    "1B",
    "1C",
    "2A",
    "2B",
    "2C",
    "3A",
    "3B",
    "3C",
    "4A",
    "4B",
    "4C",
    "5A",
    "5B",
    "5C",
    "6A",
    "6B",
    "6C",
    "7A",
    "8B",
    "8C",
    "8D",
    "8E",
    "8F",
    "9A",
    "10A",
    "11A",
    "12A",
    "13A",
    "14A",
    "15A",
    "16A",
    "17A",
    "18A",
    "19A",
    "20",
    "21",
    "22A",
    "23A",
]
FACTORS_2021 = ("18B", "18C", "19B", "19C")
FACTORS_2022 = ("24A",)
ABUSE_CATEGORIES: tuple[tuple[str, float], ...] = (
    ("NEG", 0.50), ("EMO", 0.36), ("PHY", 0.07), ("SAB", 0.04), ("MUL", 0.03),
)  # fmt: skip
DISABILITIES = ("MOB", "HAND", "PC", "INC", "COMM", "LD", "HEAR", "VIS", "BEH", "CON", "AUT", "DDA")
# CIN and SSDA903 ethnicity codes (valid in both returns and in the school census).
ETHNICITIES: tuple[tuple[str, float], ...] = (
    ("WBRI", 0.70), ("WIRI", 0.005), ("WIRT", 0.002), ("WOTH", 0.05), ("WROM", 0.005),
    ("MWBC", 0.02), ("MWBA", 0.008), ("MWAS", 0.01), ("MOTH", 0.02), ("AIND", 0.02),
    ("APKN", 0.03), ("ABAN", 0.01), ("AOTH", 0.015), ("BCRB", 0.008), ("BAFR", 0.04),
    ("BOTH", 0.005), ("CHNE", 0.005), ("OOTH", 0.02), ("REFU", 0.012), ("NOBT", 0.015),
)  # fmt: skip
GENDER_CURRENT = {"M": "1", "F": "2", "U": "0"}

# SSDA903
LEGAL_STATUS_START: tuple[tuple[str, float], ...] = (
    ("V2", 0.45), ("C1", 0.25), ("L1", 0.08), ("L2", 0.07), ("J1", 0.03), ("C2", 0.12),
)  # fmt: skip
LEGAL_STATUS_LATER: tuple[tuple[str, float], ...] = (("C2", 0.75), ("V2", 0.15), ("E1", 0.10))
PLACEMENTS: tuple[tuple[str, float], ...] = (
    ("U4", 0.30), ("U6", 0.15), ("U1", 0.06), ("U3", 0.05), ("U5", 0.03), ("K2", 0.13),
    ("R1", 0.06), ("P1", 0.04), ("H5", 0.05), ("S1", 0.02), ("A4", 0.03), ("Z1", 0.08),
)  # fmt: skip
PLACE_PROVIDERS: tuple[tuple[str, float], ...] = (
    ("PR1", 0.45), ("PR4", 0.35), ("PR2", 0.08), ("PR3", 0.07), ("PR0", 0.05),
)  # fmt: skip
# Placement types a year's SSDA903 code list no longer has, as the LA recodes them in that
# year's return and after (formats/ssda903_codes.toml): unregistered supported accommodation
# (H5) became registered supported accommodation (K3) in 2024/25.
PLACEMENTS_RECODED: tuple[tuple[int, str, str], ...] = ((2025, "H5", "K3"),)
REASON_PLACE_CHANGE = ("CARPL", "CHILD", "LAREQ", "PLACE", "STAND", "APPRR", "CREQB", "OTHER")
REASONS_CARE_ENDED: tuple[tuple[str, float], ...] = (
    ("E4A", 0.30), ("E13", 0.10), ("E11", 0.06), ("E12", 0.05), ("E41", 0.10), ("E45", 0.05),
    ("E8", 0.20), ("E17", 0.06), ("E48", 0.04), ("E15", 0.04),
)  # fmt: skip

# School census
AUTHORISED_CODES: tuple[tuple[str, float], ...] = (
    ("I", 0.55), ("M", 0.09), ("R", 0.03), ("E", 0.07), ("C", 0.10), ("C1", 0.02),
    ("C2", 0.02), ("J1", 0.01), ("S", 0.01), ("T", 0.10),
)  # fmt: skip
UNAUTHORISED_CODES: tuple[tuple[str, float], ...] = (
    ("O", 0.65), ("G", 0.10), ("N", 0.15), ("U", 0.10),
)  # fmt: skip
SUSPENSION_REASONS = ("PP", "PA", "VP", "VA", "OW", "BU", "RA", "DS", "SM", "DA", "DM", "TH")
SEN_TYPES: tuple[tuple[str, float], ...] = (
    ("SLCN", 0.24), ("SEMH", 0.21), ("MLD", 0.12), ("ASD", 0.16), ("SPLD", 0.10),
    ("OTH", 0.04), ("PD", 0.03), ("SLD", 0.03), ("HI", 0.02), ("VI", 0.01), ("MSI", 0.01),
    ("PMLD", 0.01), ("NSA", 0.02),
)  # fmt: skip

FORENAMES_M = [
    "Oliver",
    "George",
    "Noah",
    "Arthur",
    "Muhammad",
    "Leo",
    "Harry",
    "Oscar",
    "Archie",
    "Henry",
    "Theodore",
    "Freddie",
    "Jack",
    "Charlie",
    "Theo",
    "Alfie",
    "Jacob",
    "Thomas",
    "Finley",
    "Arlo",
    "William",
    "Lucas",
    "Isaac",
    "Tommy",
    "Teddy",
    "James",
    "Joshua",
    "Daniel",
    "Samuel",
    "Joseph",
    "Benjamin",
    "Alexander",
    "Edward",
    "Matthew",
    "Michael",
    "Christopher",
    "Robert",
    "Anthony",
    "Nathan",
    "Ryan",
    "Tyler",
    "Kai",
    "Mason",
    "Logan",
    "Riley",
    "Dylan",
    "Callum",
    "Kieran",
    "Jayden",
    "Reece",
    "Connor",
    "Liam",
    "Ethan",
]
FORENAMES_F = [
    "Olivia",
    "Amelia",
    "Isla",
    "Ava",
    "Ivy",
    "Freya",
    "Lily",
    "Florence",
    "Mia",
    "Willow",
    "Rosie",
    "Sophia",
    "Isabella",
    "Grace",
    "Daisy",
    "Sienna",
    "Poppy",
    "Elsie",
    "Emily",
    "Ella",
    "Evelyn",
    "Phoebe",
    "Sofia",
    "Evie",
    "Charlotte",
    "Elizabeth",
    "Jessica",
    "Rebecca",
    "Katherine",
    "Abigail",
    "Madison",
    "Chloe",
    "Megan",
    "Lauren",
    "Hannah",
    "Samantha",
    "Victoria",
    "Jasmine",
    "Leah",
    "Paige",
    "Courtney",
    "Amber",
    "Kayla",
    "Holly",
    "Millie",
    "Ruby",
    "Summer",
    "Scarlett",
    "Maisie",
    "Lacey",
    "Nevaeh",
]
SURNAMES = [
    "Smith",
    "Jones",
    "Williams",
    "Taylor",
    "Brown",
    "Davies",
    "Evans",
    "Wilson",
    "Thomas",
    "Johnson",
    "Roberts",
    "Robinson",
    "Thompson",
    "Wright",
    "Walker",
    "White",
    "Edwards",
    "Hughes",
    "Green",
    "Hall",
    "Lewis",
    "Harris",
    "Clarke",
    "Patel",
    "Jackson",
    "Wood",
    "Turner",
    "Martin",
    "Cooper",
    "Hill",
    "Ward",
    "Morris",
    "Moore",
    "Clark",
    "Lee",
    "King",
    "Baker",
    "Harrison",
    "Morgan",
    "Allen",
    "James",
    "Scott",
    "Phillips",
    "Watson",
    "Davis",
    "Parker",
    "Price",
    "Bennett",
    "Young",
    "Griffiths",
    "Mitchell",
    "Kelly",
    "Cook",
    "Carter",
    "Richardson",
    "Bailey",
    "Collins",
    "Bell",
    "Shaw",
    "Murphy",
    "Miller",
    "Cox",
    "Richards",
    "Khan",
    "Marshall",
    "Anderson",
    "Simpson",
    "Ellis",
    "Adams",
    "Singh",
    "Begum",
    "Wilkinson",
    "Foster",
    "Chapman",
    "Powell",
    "Webb",
    "Rogers",
    "Gray",
    "Mason",
    "Ali",
    "Hunt",
    "Hussain",
    "Campbell",
    "Matthews",
    "Owen",
    "Palmer",
    "Holmes",
    "Mills",
    "Barnes",
    "Knight",
    "Lloyd",
    "Butler",
    "Russell",
    "Barker",
    "Fisher",
    "Stevens",
    "Jenkins",
    "Murray",
    "Dixon",
    "Harvey",
    "Graham",
    "Pearson",
    "Ahmed",
    "Fletcher",
    "Walsh",
    "Kaur",
    "Gibson",
    "Howard",
    "Andrews",
    "Stewart",
    "Elliott",
    "Reynolds",
    "Saunders",
    "Payne",
    "Fox",
    "Ford",
    "Pearce",
    "Day",
    "Brooks",
    "West",
    "Lawrence",
    "Cole",
    "Atkinson",
    "Bradley",
    "Spencer",
    "Gill",
    "Dawson",
    "Ball",
    "Burton",
    "O'Brien",
    "Watts",
    "Rose",
    "Booth",
    "Perry",
    "Ryan",
    "Grant",
    "Wells",
    "Armstrong",
    "Francis",
    "Rees",
    "Hayes",
    "Hart",
]
# Nicknames social care workers record in place of the registered forename.
NICKNAMES = {
    "William": "Billy", "Thomas": "Tom", "Joshua": "Josh", "Daniel": "Danny", "Samuel": "Sam",
    "Joseph": "Joe", "Benjamin": "Ben", "Alexander": "Alex", "Edward": "Eddie",
    "Matthew": "Matt", "Michael": "Mike", "Christopher": "Chris", "Robert": "Bobby",
    "Anthony": "Tony", "Nathan": "Nate", "Theodore": "Teddy", "Frederick": "Freddie",
    "Elizabeth": "Beth", "Katherine": "Katie", "Rebecca": "Becky", "Samantha": "Sam",
    "Victoria": "Vicky", "Jessica": "Jess", "Abigail": "Abbie", "Isabella": "Bella",
    "Charlotte": "Lottie", "Olivia": "Liv", "Evelyn": "Evie", "Jasmine": "Jas", "Sophia": "Sophie",
}  # fmt: skip
PLACE_STEMS = [
    "Ash",
    "Beck",
    "Birch",
    "Bram",
    "Brook",
    "Calder",
    "Cherry",
    "Clay",
    "Col",
    "Crag",
    "Dal",
    "Elm",
    "Fair",
    "Fern",
    "Glen",
    "Hallow",
    "Haw",
    "Hazel",
    "Heath",
    "High",
    "Holly",
    "Kings",
    "Lark",
    "Lea",
    "Lime",
    "Marsh",
    "Mead",
    "Mill",
    "Moor",
    "Nether",
    "Oak",
    "Pen",
    "Quarry",
    "Red",
    "Rowan",
    "Sand",
    "Shaw",
    "Stan",
    "Thorn",
    "Upper",
    "Wal",
    "West",
    "Whin",
    "Willow",
    "Wood",
    "Yew",
]
PLACE_ENDINGS = [
    "field",
    "ton",
    "ley",
    "bridge",
    "wood",
    "hill",
    "side",
    "dale",
    "ford",
    "gate",
    "bury",
    "worth",
]
POSTCODE_AREAS = ("QX", "QZ")  # unused in real postcodes, so a synthetic address can't be real
