"""A tiny synthetic warehouse for the child-level pages: two schools, four children.

- C001: on roll at school A now, an open CIN episode; on the teacher's caseload. Their forename
  is a script, to check it is rendered escaped everywhere.
- C002: on roll at school B now, an open CP plan; nobody's caseload.
- C003: at school A in the spring, at school B in the autumn (the latest census): looked after.
- C004 / C005: a pair awaiting linkage review (C004 is not linked).
All names, dates and identifiers are made up.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from cwsw.domain.upn import check_letter
from cwsw.linkage.review import REVIEW_TABLE
from cwsw.linkage.run import OUTPUT_COLUMNS
from cwsw.warehouse.connection import Warehouse
from cwsw.warehouse.schema import ensure_schema

SCHOOL_A = "9991001"
SCHOOL_B = "9991002"
SCRIPT = '<script>alert("cwsw")</script>'
SCHOOL_A_NAME = f"Alder Primary {SCRIPT}"


def upn(serial: int) -> str:
    body = f"999100125{serial:03d}"
    return check_letter(body) + body


UPN_1, UPN_2, UPN_3, UPN_5 = upn(1), upn(2), upn(3), upn(5)
CHILDREN = {"C001": UPN_1, "C002": UPN_2, "C003": UPN_3}
REVIEW_PAIR = ("C004", UPN_5)
FINDING_VALUE = "A999100125999"  # a made-up UPN-like value that must never be shown
D = dt.date


def build(path: Path) -> Path:
    with Warehouse.open(path) as w:
        ensure_schema(w)
        for name in ("child_pupil_link", REVIEW_TABLE):
            columns = ", ".join(f'"{c}" {t}' for c, t in OUTPUT_COLUMNS[name].items())
            w.execute(f'CREATE TABLE "{name}" ({columns})')
        w.execute(
            "INSERT INTO loads VALUES (1, 'aaa', 'school_census_2025_autumn.csv', "
            "'school_census', '2025_autumn', TIMESTAMP '2026-11-01 10:00', 6, 'school_census', "
            "NULL), (2, 'bbb', 'cin_census_2025.xml', 'cin_census', '2025', "
            "TIMESTAMP '2026-11-01 10:05', 3, 'cin_census', NULL)"
        )
        w.execute(
            "INSERT INTO load_finding VALUES (2, 'warning', 'upn_check_letter', 'UPN', "
            "'Message/Children/Child[2] line 40', ?), (2, 'warning', 'upn_check_letter', 'UPN', "
            "'Message/Children/Child[3] line 60', ?)",
            [FINDING_VALUE, FINDING_VALUE],
        )
        w.execute(
            "INSERT INTO establishment VALUES (1, ?, '100001', ?, 'Primary'), "
            "(1, ?, '100002', 'Birch Academy', 'Secondary')",
            [SCHOOL_A, SCHOOL_A_NAME, SCHOOL_B],
        )
        enrolments = [
            # term, school, enrolment, on roll, upn, forename, surname, dob, year
            ("2025_spring", SCHOOL_A, "e1s", True, UPN_1, SCRIPT, "O'Brien", D(2015, 5, 1), "4"),
            ("2025_autumn", SCHOOL_A, "e1a", True, UPN_1, SCRIPT, "O'Brien", D(2015, 5, 1), "5"),
            ("2025_autumn", SCHOOL_B, "e2a", True, UPN_2, "Bea", "Brown", D(2012, 2, 2), "8"),
            ("2025_spring", SCHOOL_A, "e3s", True, UPN_3, "Cal", "Cole", D(2014, 3, 3), "5"),
            ("2025_autumn", SCHOOL_B, "e3a", True, UPN_3, "Cal", "Cole", D(2014, 3, 3), "6"),
        ]
        for term, school, enrolment, on_roll, pupil, fore, sur, dob, year in enrolments:
            w.execute(
                "INSERT INTO pupil_enrolment (load_id, census_term, laestab, enrolment_id, "
                "on_roll, upn, upn_raw, forename, surname, birth_date, sex, nc_year, "
                "sen_provision, entry_date, sessions_possible) "
                "VALUES (1, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'F', ?, 'K', DATE '2021-09-01', 100)",
                [term, school, enrolment, on_roll, pupil, pupil, fore, sur, dob, year],
            )
        w.execute(
            "INSERT INTO pupil_absence VALUES (1, '2025_autumn', ?, 'e1a', 'termly', 'N', 8, "
            "'unauthorised'), (1, '2025_autumn', ?, 'e1a', 'termly', 'I', 4, 'authorised')",
            [SCHOOL_A, SCHOOL_A],
        )
        w.execute(
            "INSERT INTO pupil_exclusion VALUES (1, '2025_autumn', ?, 'e1a', DATE '2025-10-01', "
            "'SUSP', 2)",
            [SCHOOL_A],
        )
        w.execute(
            "INSERT INTO pupil_fsm VALUES (1, '2025_autumn', ?, 'e1a', DATE '2024-01-01', NULL)",
            [SCHOOL_A],
        )
        w.execute(
            "INSERT INTO pupil_sen_need VALUES (1, '2025_autumn', ?, 'e1a', 1, 'SEMH')",
            [SCHOOL_A],
        )
        w.execute(
            "INSERT INTO ks2_result VALUES (1, ?, ?, ?, 2025, true, true, false, false)",
            [UPN_2, UPN_2, SCHOOL_B],
        )
        for child, pupil in CHILDREN.items():
            w.execute(
                "INSERT INTO cin_child (load_id, collection_year, la_child_id, upn) "
                "VALUES (2, 2025, ?, ?)",
                [child, pupil],
            )
            w.execute(
                "INSERT INTO child_pupil_link VALUES (?, ?, 'valid_upn_exact', 1.0)",
                [child, pupil],
            )
        w.execute(
            "INSERT INTO cin_child (load_id, collection_year, la_child_id) VALUES (2, 2025, 'C004')"
        )
        w.execute(
            "INSERT INTO cin_episode (load_id, collection_year, la_child_id, episode_seq, "
            "referral_date, primary_need, closure_date, referral_nfa) VALUES "
            "(2, 2025, 'C001', 1, DATE '2024-06-01', 'N1', NULL, false), "
            "(2, 2025, 'C002', 1, DATE '2023-01-10', 'N2', NULL, false), "
            "(2, 2025, 'C003', 1, DATE '2022-02-02', 'N1', DATE '2023-02-02', false)"
        )
        w.execute(
            "INSERT INTO cp_plan (load_id, collection_year, la_child_id, episode_seq, "
            "start_date, end_date, latest_category) VALUES "
            "(2, 2025, 'C002', 1, DATE '2024-03-01', NULL, 'NEG')"
        )
        w.execute(
            "INSERT INTO cin_s47 (load_id, collection_year, la_child_id, episode_seq, "
            "start_date, icpc_date) VALUES (2, 2025, 'C002', 1, DATE '2024-02-01', "
            "DATE '2024-02-20')"
        )
        w.execute(
            "INSERT INTO cla_episode (load_id, collection_year, la_child_id, start_date, "
            "legal_status, placement, end_date) VALUES "
            "(2, 2025, 'C003', DATE '2023-03-01', 'C2', 'U1', NULL)"
        )
        w.execute(
            f"INSERT INTO \"{REVIEW_TABLE}\" VALUES (?, ?, 'potential', 0.6, 1.2, "
            '\'{"forename": "same", "surname": "one edit"}\', ?, \'Dean\', '
            "DATE '2013-04-04', 'M', NULL, 'Dan', 'Deane', DATE '2013-04-04', 'M')",
            [REVIEW_PAIR[0], REVIEW_PAIR[1], SCRIPT],
        )
    return path
