"""Cohorts and marts at national scale: ``cwsw build`` on 8 million pupils, and its growth.

Each size gets a warehouse of its own under ``var/bench/`` whose canonical tables are written
straight by DuckDB SQL (``range()`` and hash-based pseudo-random columns): ``cwsw synth`` and
file ingest write a whole LA a row at a time, far too slow for 8 million pupils. The shapes
follow ``cwsw.synth.calibration`` (absence, SEN, FSM, suspensions, KS2 and KS4 by social care
group and phase) and the return layouts the readers leave: six CIN census and SSDA903
collection years (2020 to 2025) in which an episode appears once per return it was open in,
the closure only in the newest; NFA referrals; chained care episodes; children linked to
pupils in ``child_pupil_link``; three census terms of pupils (movers, dual registrations,
NC year advancing in the autumn) with their session codes, exclusions and FSM periods.

Generation is timed separately. The headline figure is the product's own build, in a fresh
process: ``cwsw.pipeline.build(warehouse)``, exactly what ``cwsw build`` runs (every year with a
CIN census and a spring school census, the default cohorts, every measure, breakdown and term,
written to ``mart_measure``). Per size it prints wall and CPU time, the peak resident memory of
the build process (``getrusage``, and a sampling thread over ``/proc`` for the build alone),
mart rows, the load average, and the growth per 10x pupils.

On the ``--pandas`` size it then runs a straightforward pandas implementation of three
headline measures (overall absence rate, persistent absence, % of pupils with one or more
suspensions) for CINO, CPPO, CLA 12 months and all pupils, written here from the same
canonical tables without cwsw code, times it (fetching the tables and computing), asserts
that its figures equal the mart's, and prints the ratio.

Usage:

    .venv/bin/python benchmarks/build_marts_national.py [--sizes 30000 300000 3000000 8000000]
        [--pandas 3000000] [--repeats 1] [--keep]

Target (issue 5): 8,000,000 pupils under 300 s; pandas / cwsw at least 10x.
"""

from __future__ import annotations

import argparse
import datetime as dt
import itertools
import json
import os
import resource
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
BENCH_DIR = Path(os.environ.get("CWSW_BENCH_DIR", ROOT / "var" / "bench"))
SEED = 20261202
REFERENCE = dt.date(2025, 3, 31)  # 31 March of the year built (academic year 2024/25)
TARGET_SECONDS = 300
TARGET_PANDAS_RATIO = 10

# Children with a social worker in the six years, per pupil: about 900,000 at 8 million
# pupils; the linked ones are ever-CIN pupils, about 10.5% of the roll (docs/domain.md §1).
CHILDREN_PER_PUPIL = 0.1125
LINKED_SHARE = 0.93
# A child's status at the reference 31 March (the rest: a social worker earlier in the six
# years, none now). About a quarter of the ever-6 cohort is open at 31 March (docs/domain.md §2).
CINO_SHARE, CPPO_SHARE, CLA_SHARE = 0.19, 0.04, 0.07
CLA_12_MONTHS_SHARE = 0.7
# Pupils per school, by phase.
SCHOOL_SIZE = {"Primary": 280, "Secondary": 950, "Special": 110, "Alternative provision": 45}
ESTAB_BASE = {"Primary": 2000, "Secondary": 4000, "Special": 7000, "Alternative provision": 1100}
LAS = 150


# -- generation ---------------------------------------------------------------------------


def _list(values: Any) -> str:
    """A DuckDB list literal of floats (indexed from 1 in SQL)."""
    return "[" + ", ".join(f"{float(v)!r}" for v in values) + "]"


def _school_counts(pupils: int) -> dict[str, int]:
    from cwsw.synth import calibration as cal

    special = pupils * float(cal.SPECIAL_SCHOOL[0])
    ap = pupils * float(cal.AP_SCHOOL[0])
    primary = pupils * 7 / 13.8
    secondary = pupils - primary - special - ap
    expected = {
        "Primary": primary,
        "Secondary": secondary,
        "Special": special,
        "Alternative provision": ap,
    }
    return {phase: max(1, round(n / SCHOOL_SIZE[phase])) for phase, n in expected.items()}


def generation_sql(pupils: int, seed: int = SEED) -> list[str]:
    """The statements that write a national-scale warehouse's canonical tables."""
    from cwsw.synth import calibration as cal

    children = max(10, round(pupils * CHILDREN_PER_PUPIL))
    linked = round(children * LINKED_SHARE)
    schools = _school_counts(pupils)
    # Calibration, indexed in SQL by group + 1 (0 never, 1 previous, 2 CINO, 3 CPPO, 4 CLA).
    pa = [[float(cal.ABSENCE_PA_SA[g][p][0]) for p in range(4)] for g in range(5)]
    sa = [[float(cal.ABSENCE_PA_SA[g][p][1]) for p in range(4)] for g in range(5)]
    pa_sql = "[" + ", ".join(_list(row) for row in pa) + "]"
    sa_sql = "[" + ", ".join(_list(row) for row in sa) + "]"
    sen_k = _list(cal.SEN_MAINSTREAM[:, 0])
    sen_e = _list(cal.SEN_MAINSTREAM[:, 1])
    phase_names = "['Primary', 'Secondary', 'Special', 'Alternative provision']"
    count_list = "[" + ", ".join(str(schools[p]) for p in SCHOOL_SIZE) + "]"
    base_list = "[" + ", ".join(str(ESTAB_BASE[p]) for p in SCHOOL_SIZE) + "]"
    ref = f"DATE '{REFERENCE.isoformat()}'"
    census_day = "DATE '2025-01-16'"  # third Thursday of January 2025
    cy = "(year({d}) + CASE WHEN month({d}) >= 4 THEN 1 ELSE 0 END)"
    ethnicities = [
        ("WBRI", 0.62),
        ("WOTH", 0.08),
        ("WIRT", 0.003),
        ("MWBC", 0.02),
        ("MWBA", 0.01),
        ("MOTH", 0.03),
        ("AIND", 0.035),
        ("APKN", 0.045),
        ("ABAN", 0.02),
        ("CHNE", 0.006),
        ("AOTH", 0.02),
        ("BAFR", 0.045),
        ("BCRB", 0.01),
        ("BOTH", 0.005),
        ("OOTH", 0.02),
        ("REFU", 0.01),
        ("NOBT", 0.011),
    ]
    cumulative, eth_cases = 0.0, []
    for code, share in ethnicities[:-1]:
        cumulative += share
        eth_cases.append(f"WHEN u(i, 7) < {cumulative!r} THEN '{code}'")
    ethnicity = f"CASE {' '.join(eth_cases)} ELSE '{ethnicities[-1][0]}' END"

    def versions(table: str, start: str, end: str) -> str:
        """One row per return (collection year 2020-2025) an episode was open in; the end
        date only in the newest."""
        first = cy.format(d=start)
        last = cy.format(d=f"coalesce({end}, {ref})")
        return (
            f"SELECT e.*, y AS collection_year, CASE WHEN y = {last} THEN {end} END AS shown_end "
            f"FROM {table} e, range(greatest(2020, {first}), least(2025, {last}) + 1) t(y)"
        )

    return [
        f"CREATE OR REPLACE TEMP MACRO u(x, k) AS "
        f"((hash(x, k, {seed}) >> 11)::DOUBLE / 9007199254740992.0)",
        # -- children and their status at the reference date ---------------------------
        f"""CREATE TEMP TABLE _child AS
        SELECT i AS c, 'LA' || lpad(i::VARCHAR, 10, '0') AS la_child_id,
          CASE WHEN u(i, 1) < {CINO_SHARE} THEN 2
               WHEN u(i, 1) < {CINO_SHARE + CPPO_SHARE} THEN 3
               WHEN u(i, 1) < {CINO_SHARE + CPPO_SHARE + CLA_SHARE} THEN 4 ELSE 1 END AS g,
          u(i, 2) < {CLA_12_MONTHS_SHARE} AS twelve
        FROM range({children}) t(i)""",
        # CIN episodes: 1-3 earlier ones (closed by 30 March 2025; 8% NFA referrals) for a
        # child with no case open now, up to 1 for the others, who also have one open now.
        f"""CREATE TEMP TABLE _cin AS
        WITH hist AS (
          SELECT c, la_child_id, s AS seq,
            DATE '2019-04-01' + floor(u(c, 10 + s) * 1990)::INTEGER AS referral_date,
            u(c, 30 + s) < 0.08 AS nfa,
            7 + floor(pow(u(c, 20 + s), 2) * 600)::INTEGER AS days
          FROM _child, range(3) t(s)
          WHERE s < CASE WHEN g = 1 THEN 1 + (u(c, 3) < 0.4)::INT + (u(c, 3) < 0.1)::INT
                         ELSE (u(c, 3) < 0.35)::INT END)
        SELECT c, la_child_id, seq, referral_date, nfa,
          least(referral_date + CASE WHEN nfa THEN 3 ELSE days END, DATE '2025-03-30')
            AS closure_date
        FROM hist
        UNION ALL
        SELECT c, la_child_id, 3, {ref} - (1 + floor(u(c, 40) * 1500)::INTEGER), false, NULL
        FROM _child WHERE g >= 2""",
        f"""CREATE TEMP TABLE _cp AS
        SELECT c, la_child_id, 1 AS seq, {ref} - (1 + floor(u(c, 50) * 420)::INTEGER)
          AS start_date, NULL::DATE AS end_date
        FROM _child WHERE g = 3
        UNION ALL
        SELECT c, la_child_id, 0, referral_date + 20,
          least(referral_date + 50 + floor(u(c, 51) * 300)::INTEGER, closure_date)
        FROM _cin
        WHERE seq = 0 AND NOT nfa AND closure_date > referral_date + 20 AND u(c, 52) < 0.15""",
        # Care: the current period (12 months or more for most) in 1-3 chained episodes,
        # and an earlier, closed period for some children with no case open now.
        f"""CREATE TEMP TABLE _cla AS
        WITH current AS (
          SELECT c, la_child_id,
            {ref} - CASE WHEN twelve THEN 366 + floor(u(c, 60) * 2200)::INTEGER
                         ELSE 20 + floor(u(c, 60) * 340)::INTEGER END AS period_start,
            1 + (u(c, 61) < 0.5)::INT + (u(c, 61) < 0.2)::INT AS n
          FROM _child WHERE g = 4)
        SELECT c, la_child_id, k AS seq,
          period_start + ((({ref} - period_start) * k) // n)::INTEGER AS start_date,
          CASE WHEN k < n - 1
               THEN period_start + ((({ref} - period_start) * (k + 1)) // n)::INTEGER END
            AS end_date
        FROM current, range(3) t(k) WHERE k < n
        UNION ALL
        SELECT c, la_child_id, 9, referral_date + 10,
          least(referral_date + 70 + floor(u(c, 62) * 400)::INTEGER, DATE '2025-03-29')
        FROM _cin WHERE seq = 0 AND u(c, 63) < 0.04 AND c IN (SELECT c FROM _child WHERE g = 1)""",
        f"""INSERT INTO cin_episode BY NAME
        SELECT 11 AS load_id, collection_year, la_child_id, seq AS episode_seq, referral_date,
          'RS1' AS referral_source, 'N1' AS primary_need, shown_end AS closure_date,
          CASE WHEN shown_end IS NOT NULL THEN 'RC8' END AS closure_reason,
          nfa AS referral_nfa
        FROM ({versions("_cin", "e.referral_date", "e.closure_date")})""",
        f"""INSERT INTO cp_plan BY NAME
        SELECT 12 AS load_id, collection_year, la_child_id, seq AS episode_seq, start_date,
          shown_end AS end_date, 'NEG' AS initial_category, 'NEG' AS latest_category,
          seq AS plan_seq
        FROM ({versions("_cp", "e.start_date", "e.end_date")})""",
        f"""INSERT INTO cla_episode BY NAME
        SELECT 13 AS load_id, collection_year, la_child_id, start_date,
          CASE WHEN seq = 0 OR seq = 9 THEN 'S' ELSE 'P' END AS reason_new_episode,
          'C2' AS legal_status, 'N1' AS cin_code, 'U1' AS placement, shown_end AS end_date,
          CASE WHEN shown_end IS NOT NULL THEN 'E4A' END AS reason_end
        FROM ({versions("_cla", "e.start_date", "e.end_date")})""",
        """INSERT INTO cin_child BY NAME
        SELECT DISTINCT 11 AS load_id, collection_year, la_child_id FROM cin_episode""",
        f"""INSERT INTO child_pupil_link
        SELECT la_child_id, 'P' || lpad(c::VARCHAR, 12, '0'), 'upn', 1.0
        FROM _child WHERE c < {linked}""",
        # -- pupils -----------------------------------------------------------------------
        f"""CREATE TEMP TABLE _pupil_base AS
        SELECT i, 'P' || lpad(i::VARCHAR, 12, '0') AS upn,
          coalesce(c.g, 0) AS g, least(13, floor(u(i, 4) * 13.8))::INTEGER AS nc
        FROM range({pupils}) t(i)
        LEFT JOIN (SELECT c, g FROM _child WHERE c < {linked}) c ON c.c = t.i""",
        f"""CREATE TEMP TABLE _pupil AS
        WITH p AS (
          SELECT *,
            CASE WHEN nc >= 5 AND u(i, 5) < {_list(cal.AP_SCHOOL)}[g + 1] THEN 3
                 WHEN u(i, 6) < {_list(cal.SPECIAL_SCHOOL)}[g + 1] THEN 2
                 WHEN nc <= 6 THEN 0 ELSE 1 END AS phase
          FROM _pupil_base),
        s AS (
          SELECT *, floor(u(i, 8) * {count_list}[phase + 1])::INTEGER AS school,
            floor(u(i, 9) * {count_list}[phase + 1])::INTEGER AS new_school,
            u(i, 10) < 0.03 AS mover, u(i, 11) < 0.003 AS dual,
            CASE WHEN u(i, 12) < 0.002 THEN 'U' WHEN u(i, 12) < 0.51 THEN 'M' ELSE 'F' END
              AS sex,
            {ethnicity} AS ethnicity,
            CASE WHEN phase = 2 THEN CASE WHEN u(i, 13) < {cal.SPECIAL_EHC} THEN 'E' ELSE 'K' END
                 WHEN phase = 3 AND u(i, 13) < {cal.SEN_AP[1]} THEN 'E'
                 WHEN phase = 3 AND u(i, 13) < {sum(cal.SEN_AP)} THEN 'K'
                 WHEN u(i, 13) < {sen_e}[g + 1] THEN 'E'
                 WHEN u(i, 13) < {sen_e}[g + 1] + {sen_k}[g + 1] THEN 'K' ELSE 'N' END
              AS sen_provision,
            u(i, 14) < {_list(cal.FSM)}[g + 1] AS fsm,
            u(i, 15) < 0.3 * {_list(cal.FSM)}[g + 1] AS fsm6_only,
            -- a pupil's absence rate for the year: low, persistent or severe
            CASE WHEN u(i, 16) < {sa_sql}[g + 1][phase + 1] THEN 0.5 + 0.4 * u(i, 17)
                 WHEN u(i, 16) < {pa_sql}[g + 1][phase + 1] THEN 0.1 + 0.38 * u(i, 17)
                 ELSE 0.095 * pow(u(i, 17), 1.3) END AS rate,
            {_list(cal.UNAUTHORISED_SHARE)}[g + 1] AS unauthorised_share,
            u(i, 18) < {_list(cal.SUSPENSION)}[g + 1]
              * {_list(cal.EXCLUSION_PHASE)}[phase + 1] AS suspended,
            u(i, 19) < {_list(cal.PERMANENT)}[g + 1]
              * {_list(cal.EXCLUSION_PHASE)}[phase + 1] AS excluded
          FROM p)
        SELECT *, {phase_names}[phase + 1] AS phase_name,
          lpad((200 + school % {LAS})::VARCHAR, 3, '0')
            || lpad(({base_list}[phase + 1] + school // {LAS})::VARCHAR, 4, '0') AS laestab,
          lpad((200 + new_school % {LAS})::VARCHAR, 3, '0')
            || lpad(({base_list}[phase + 1] + new_school // {LAS})::VARCHAR, 4, '0')
            AS new_laestab,
          CASE WHEN nc = 0 THEN 'R' ELSE nc::VARCHAR END AS nc_year
        FROM s""",
        """INSERT INTO establishment BY NAME
        SELECT DISTINCT 21 AS load_id, laestab, laestab AS urn, 'School ' || laestab
          AS establishment_name, phase_name AS phase
        FROM (SELECT laestab, phase_name FROM _pupil
              UNION SELECT new_laestab, phase_name FROM _pupil)""",
        # Enrolments in the three censuses of 2024/25, each with the term it carries the
        # absence of: spring (autumn term), summer (spring term), autumn (summer term, its
        # second half apart). Movers leave at Easter; a few pupils are dual registered.
        """CREATE TEMP TABLE _enrolment AS
        SELECT i, '2025_spring' AS census_term, laestab, 'E' || i AS enrolment_id, true AS on_roll,
          'C' AS enrol_status, nc_year, 140 - floor(u(i, 20) * 8)::INTEGER AS possible,
          0 AS ht2 FROM _pupil
        UNION ALL
        SELECT i, '2025_summer', laestab, 'E' || i, NOT mover, 'C', nc_year,
          118 - floor(u(i, 21) * 6)::INTEGER, 0 FROM _pupil
        UNION ALL
        SELECT i, '2025_summer', new_laestab, 'M' || i, true, 'C', nc_year, 0, 0
        FROM _pupil WHERE mover
        UNION ALL
        SELECT i, '2025_autumn', CASE WHEN mover THEN new_laestab ELSE laestab END,
          CASE WHEN mover THEN 'M' ELSE 'E' END || i, nc NOT IN (6, 11, 13), 'C',
          CASE WHEN nc = 13 THEN '14' ELSE (nc + 1)::VARCHAR END,
          70 - floor(u(i, 22) * 4)::INTEGER, 62 - floor(u(i, 23) * 4)::INTEGER FROM _pupil
        UNION ALL
        SELECT i, '2025_spring', new_laestab, 'D' || i, true, 'S', nc_year, 20, 0
        FROM _pupil WHERE dual AND new_laestab <> laestab""",
        """INSERT INTO pupil_enrolment BY NAME
        SELECT 22 AS load_id, census_term, e.laestab, enrolment_id, on_roll, p.upn,
          p.upn AS upn_raw, make_date(2019 - p.nc, 9, 1)
            + floor(u(p.i, 24) * 365)::INTEGER AS birth_date,
          p.sex, p.ethnicity, e.nc_year, enrol_status, p.sen_provision,
          DATE '2021-09-01' AS entry_date, e.possible AS sessions_possible,
          CASE WHEN census_term = '2025_autumn' THEN e.ht2 END AS summer_ht2_sessions_possible
        FROM _enrolment e JOIN _pupil p USING (i)""",
        # Session codes: each enrolment-term's missed sessions (the pupil's rate, varied by
        # term) split over authorised and unauthorised codes.
        """INSERT INTO pupil_absence BY NAME
        WITH missed AS (
          SELECT e.census_term, e.laestab, e.enrolment_id, h,
            least(e.possible + e.ht2, round(p.rate * (0.6 + 0.8 * h) * (e.possible + e.ht2)))
              ::INTEGER AS missed,
            p.unauthorised_share * (0.5 + u(h, 1)) AS un_share
          FROM (SELECT *, u(hash(i, census_term, enrolment_id), 0) AS h FROM _enrolment) e
          JOIN _pupil p USING (i)
          WHERE e.possible + e.ht2 > 0),
        split AS (
          SELECT *, least(missed, round(missed * un_share))::INTEGER AS un FROM missed),
        codes AS (
          SELECT census_term, laestab, enrolment_id,
            [floor((missed - un) * 0.15 * u(h, 2))::INTEGER,
             floor((missed - un) * 0.10 * u(h, 3))::INTEGER,
             floor((missed - un) * 0.06 * u(h, 4))::INTEGER,
             floor(un * 0.4 * u(h, 5))::INTEGER,
             floor(un * 0.3 * u(h, 6))::INTEGER,
             floor(un * 0.1 * u(h, 7))::INTEGER] AS parts, missed, un
          FROM split)
        SELECT *, CASE WHEN attendance_code IN ('G', 'N', 'O', 'U') THEN 'unauthorised'
          ELSE 'authorised' END AS absence_type
        FROM (
          SELECT 22 AS load_id, census_term, laestab, enrolment_id, 'termly' AS block,
            unnest(['M', 'C', 'R', 'G', 'N', 'U', 'I', 'O']) AS attendance_code,
            unnest(parts || [(missed - un) - parts[1] - parts[2] - parts[3],
                             un - parts[4] - parts[5] - parts[6]]) AS sessions
          FROM codes WHERE missed > 0)
        WHERE sessions > 0""",
        # Suspensions (1-4) and permanent exclusions in the year's three census terms.
        """INSERT INTO pupil_exclusion BY NAME
        WITH events AS (
          SELECT i, k, CASE WHEN k = 9 THEN 'PERM' ELSE 'SUSP' END AS category,
            ['2025_spring', '2025_summer', '2025_autumn'][1 + floor(u(i, 70 + k) * 3)::INTEGER]
              AS census_term
          FROM _pupil, range(10) t(k)
          WHERE (suspended AND k < 1 + (u(i, 25) < 0.4)::INT + (u(i, 25) < 0.15)::INT
                 + (u(i, 25) < 0.05)::INT)
             OR (excluded AND k = 9))
        SELECT 22 AS load_id, e.census_term, e.laestab, e.enrolment_id,
          DATE '2024-09-10' + floor(u(v.i, 80 + v.k) * 300)::INTEGER AS start_date,
          v.category, CASE WHEN v.category = 'PERM' THEN 0 ELSE 2 END AS sessions
        FROM events v JOIN _enrolment e ON e.i = v.i AND e.census_term = v.census_term
          AND e.enrol_status = 'C' AND (e.on_roll OR e.census_term <> '2025_summer')""",
        # FSM periods, listed in every census the pupil is on roll in: current for the
        # eligible, ended within the six years for some others (FSM6 only).
        f"""INSERT INTO pupil_fsm BY NAME
        WITH periods AS (
          SELECT i, {census_day} - (30 + floor(u(i, 26) * 2000)::INTEGER) AS start_date,
            NULL::DATE AS end_date FROM _pupil WHERE fsm
          UNION ALL
          SELECT i, {census_day} - (400 + floor(u(i, 26) * 1500)::INTEGER),
            {census_day} - (10 + floor(u(i, 27) * 380)::INTEGER) FROM _pupil
          WHERE fsm6_only AND NOT fsm)
        SELECT 22 AS load_id, e.census_term, e.laestab, e.enrolment_id, p.start_date,
          p.end_date
        FROM periods p JOIN _enrolment e ON e.i = p.i AND e.on_roll AND e.enrol_status = 'C'""",
        f"""INSERT INTO ks2_result BY NAME
        WITH r AS (
          SELECT upn, laestab, u(i, 30) < CASE WHEN phase = 2 THEN {cal.KS2_RWM_SPECIAL}
                                              ELSE {_list(cal.KS2_RWM)}[g + 1] END AS rwm,
            i FROM _pupil WHERE nc = 6)
        SELECT 31 AS load_id, upn, upn AS upn_raw, laestab, 2025 AS year,
          rwm OR u(i, 31) < 0.12 AS ks2_read_exp, rwm OR u(i, 32) < 0.08 AS ks2_writ_exp,
          rwm OR u(i, 33) < 0.1 AS ks2_mat_exp, rwm AS ks2_rwm_exp
        FROM r""",
        f"""INSERT INTO ks4_result BY NAME
        WITH z AS (
          SELECT upn, laestab, i,
            greatest(0, least(87, CASE WHEN phase = 2 THEN {cal.ATT8_SPECIAL} + 6 * n
                                       ELSE {_list(cal.ATT8)}[g + 1] + 17 * n END)) AS att8
          FROM (SELECT *, sqrt(-2 * ln(greatest(u(i, 34), 1e-12)))
                  * cos(2 * pi() * u(i, 35)) AS n FROM _pupil WHERE nc = 11))
        SELECT 32 AS load_id, upn, upn AS upn_raw, laestab, 2025 AS year,
          round(att8, 1) AS att8,
          CASE WHEN u(i, 36) < 0.03 THEN NULL ELSE round((att8 - 46) / 12, 2) END AS p8score,
          att8 + 10 * (u(i, 37) - 0.5) > 40 AS l2basics_94,
          att8 + 10 * (u(i, 37) - 0.5) > 52 AS l2basics_95
        FROM z""",
        # One load per table, as ingestion records them (the marts' lineage reads them).
        """INSERT INTO loads BY NAME
        SELECT load_id, sha256(name) AS sha256, name AS file_name, format, '2024/25' AS period,
          TIMESTAMP '2026-12-01 00:00:00' AS loaded_at, 0 AS rows, format AS dataset
        FROM (VALUES (11, 'bench_cin_census.xml', 'cin_census'),
                     (12, 'bench_cin_census_cp.xml', 'cin_census'),
                     (13, 'bench_ssda903.csv', 'ssda903'),
                     (21, 'bench_establishments.csv', 'establishments'),
                     (22, 'bench_school_census.csv', 'school_census'),
                     (31, 'bench_ks2.csv', 'ks2'),
                     (32, 'bench_ks4.csv', 'ks4')) v(load_id, name, format)""",
        "DROP TABLE _child; DROP TABLE _cin; DROP TABLE _cp; DROP TABLE _cla",
        "DROP TABLE _pupil_base; DROP TABLE _pupil; DROP TABLE _enrolment",
    ]


def warehouse_path(pupils: int) -> Path:
    return BENCH_DIR / f"marts_{pupils}.duckdb"


def generate(pupils: int) -> dict[str, float]:
    """Write the size's warehouse (replacing any earlier one); returns seconds and row counts."""
    from cwsw.linkage.run import OUTPUT_COLUMNS
    from cwsw.warehouse.connection import Warehouse
    from cwsw.warehouse.schema import ensure_schema

    path = warehouse_path(pupils)
    path.unlink(missing_ok=True)
    Path(f"{path}.wal").unlink(missing_ok=True)
    started = time.perf_counter()
    with Warehouse.open(path) as warehouse:
        ensure_schema(warehouse)
        link = ", ".join(f"{k} {v}" for k, v in OUTPUT_COLUMNS["child_pupil_link"].items())
        warehouse.execute(f"CREATE TABLE child_pupil_link ({link})")
        for statement in generation_sql(pupils):
            warehouse.execute(statement)
        warehouse.execute("CHECKPOINT")
        counts = {
            table: warehouse.execute(f'SELECT count(*) FROM "{table}"')[0][0]
            for table in (
                "cin_episode",
                "cp_plan",
                "cla_episode",
                "child_pupil_link",
                "pupil_enrolment",
                "pupil_absence",
                "pupil_exclusion",
                "pupil_fsm",
                "ks2_result",
                "ks4_result",
            )
        }
        counts["children"] = warehouse.execute(
            "SELECT count(DISTINCT la_child_id) FROM cin_episode"
        )[0][0]
    return {"generate_seconds": time.perf_counter() - started, **counts}


# -- the measured build -------------------------------------------------------------------


def _cpu() -> float:
    """CPU seconds of this process so far (every thread): beside wall time, because other
    work on a shared machine stretches wall time but not CPU time."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


class PeakRss:
    """The highest resident memory of this process while the block runs, sampled from
    ``/proc/self/status`` (``getrusage`` only gives the peak since the process began)."""

    def __init__(self, every: float = 0.05) -> None:
        self.every = every
        self.peak_kib = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    @staticmethod
    def _rss_kib() -> int:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
        return 0

    def _sample(self) -> None:
        while not self._stop.is_set():
            self.peak_kib = max(self.peak_kib, self._rss_kib())
            self._stop.wait(self.every)

    def __enter__(self) -> PeakRss:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak_kib = max(self.peak_kib, self._rss_kib())


def load_average() -> str:
    one, five, fifteen = os.getloadavg()
    return f"{one:.2f} {five:.2f} {fifteen:.2f}"


def run_build(pupils: int, profile: bool = False) -> dict[str, Any]:
    """``cwsw build`` on the size's warehouse, as the CLI runs it: ``pipeline.build``."""
    from cwsw import pipeline
    from cwsw.warehouse.connection import Warehouse

    load_before = load_average()
    with Warehouse.open(warehouse_path(pupils)) as warehouse:
        profiler = None
        if profile:
            import cProfile

            profiler = cProfile.Profile()
            profiler.enable()
        cpu = _cpu()
        started = time.perf_counter()
        with PeakRss() as rss:
            rows = pipeline.build(warehouse)
        seconds = time.perf_counter() - started
        cpu = _cpu() - cpu
        if profiler is not None:
            profiler.disable()
            import pstats

            pstats.Stats(profiler, stream=sys.stderr).sort_stats("cumulative").print_stats(40)
    return {
        "seconds": seconds,
        "cpu_seconds": cpu,
        "mart_rows": rows,
        "build_peak_mib": rss.peak_kib / 1024,
        "process_peak_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "load_before": load_before,
        "load_after": load_average(),
    }


def _in_fresh_process(*args: str) -> dict[str, Any]:
    """One step in a fresh interpreter, so that its peak memory is its own."""
    done = subprocess.run(
        [sys.executable, __file__, *args],
        capture_output=True,
        text=True,
        check=False,
        env=dict(os.environ),
    )
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(args)} failed:\n{done.stderr[-4000:]}")
    if done.stderr.strip():
        print(done.stderr, file=sys.stderr)
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def _growth(results: dict[int, dict[str, Any]]) -> list[str]:
    """Time and memory ratio per 10x pupils, between each size and the next."""
    lines = []
    sizes = sorted(results)
    for small, big in itertools.pairwise(sizes):
        size = big / small
        cost = results[big]["seconds"] / results[small]["seconds"]
        cpu = results[big]["cpu_seconds"] / results[small]["cpu_seconds"]
        memory = results[big]["build_peak_mib"] / results[small]["build_peak_mib"]
        per_10x = cost ** (1 / _log10(size))
        lines.append(
            f"{big:>11,} vs {small:>9,} pupils ({size:4.1f}x): time x{cost:5.2f} "
            f"(CPU x{cpu:5.2f}), x{per_10x:5.2f} per 10x pupils; peak memory x{memory:4.2f}"
        )
    return lines


def _log10(x: float) -> float:
    import math

    return math.log10(x)


# -- the pandas baseline --------------------------------------------------------------------

# The cohorts and measures the two are compared on (names as in the mart).
HEADLINE_COHORTS = ("CINO", "CPPO", "CLA 12 months", "All pupils")
HEADLINE_MEASURES = ("overall_absence", "persistent_absence", "one_plus_suspension")
YEAR_TERMS = ("2025_spring", "2025_summer", "2025_autumn")
AUTHORISED = {"C", "C1", "C2", "E", "I", "M", "J1", "R", "S", "T", "H", "J"}
UNAUTHORISED = {"G", "N", "O", "U"}
FAR_FUTURE = dt.date(9999, 12, 31)


def fetch_tables(path: Path) -> dict[str, Any]:
    """The canonical tables the three measures need, as pandas DataFrames."""
    import duckdb

    columns = {
        "cin_episode": "la_child_id, collection_year, referral_date, closure_date, referral_nfa",
        "cp_plan": "la_child_id, collection_year, start_date, end_date",
        "cla_episode": "la_child_id, collection_year, start_date, end_date",
        "child_pupil_link": "la_child_id, upn",
        "pupil_enrolment": "census_term, laestab, enrolment_id, on_roll, upn, nc_year, "
        "enrol_status, sessions_possible, summer_ht2_sessions_possible",
        "pupil_absence": "census_term, laestab, enrolment_id, attendance_code, sessions",
        "pupil_exclusion": "census_term, laestab, enrolment_id, category",
        "establishment": "laestab, phase",
    }
    con = duckdb.connect(str(path), read_only=True)
    try:
        return {t: con.sql(f"SELECT {c} FROM {t}").df() for t, c in columns.items()}
    finally:
        con.close()


def _newest(frame: Any, key: list[str]) -> Any:
    """The newest return's version of each episode."""
    ordered = frame.sort_values("collection_year", ascending=False, kind="stable")
    return ordered.drop_duplicates(key)


def _open_at(start: Any, end: Any, day: Any) -> Any:
    return (start <= day) & (end.isna() | (end > day))


def pandas_groups(t: dict[str, Any], reference: dt.date) -> dict[str, set[str]]:
    """The pupils (UPNs) of CINO, CPPO and CLA 12 months at ``reference``, in pandas."""
    import pandas as pd

    day = pd.Timestamp(reference)
    cin = t["cin_episode"]
    cin = cin[cin.referral_date.notna() & ~cin.referral_nfa.fillna(False).astype(bool)]
    cin = _newest(cin, ["la_child_id", "referral_date"])
    in_need = set(cin.la_child_id[_open_at(cin.referral_date, cin.closure_date, day)])
    cp = _newest(t["cp_plan"][t["cp_plan"].start_date.notna()], ["la_child_id", "start_date"])
    on_plan = set(cp.la_child_id[_open_at(cp.start_date, cp.end_date, day)])
    cla = t["cla_episode"][t["cla_episode"].start_date.notna()]
    cla = _newest(cla, ["la_child_id", "start_date"]).sort_values(["la_child_id", "start_date"])
    reach = cla.end_date.fillna(pd.Timestamp(FAR_FUTURE))
    before = reach.groupby(cla.la_child_id).cummax().groupby(cla.la_child_id).shift()
    period = (before.isna() | (cla.start_date > before)).astype(int).groupby(cla.la_child_id)
    cla = cla.assign(_reach=reach, _period=period.cumsum())
    periods = cla.groupby(["la_child_id", "_period"]).agg(
        start=("start_date", "min"), reach=("_reach", "max")
    )
    end = periods.reach.where(periods.reach != pd.Timestamp(FAR_FUTURE))
    current = periods[_open_at(periods.start, end, day)]
    year_before = pd.Timestamp(reference.replace(year=reference.year - 1))
    twelve = current.start.le(year_before).groupby(level="la_child_id").any()
    looked_after = set(twelve.index)
    children = {
        "CLA 12 months": set(twelve.index[twelve]),
        "CPPO": on_plan - looked_after,
        "CINO": in_need - on_plan - looked_after,
    }
    link = t["child_pupil_link"]
    return {name: set(link.upn[link.la_child_id.isin(ids)]) for name, ids in children.items()}


def pandas_measures(t: dict[str, Any], reference: dt.date) -> dict[tuple[str, str], tuple]:
    """(cohort, measure) -> (numerator, denominator) for the three headline measures."""
    import pandas as pd

    cohorts = pandas_groups(t, reference)
    key = ["laestab", "enrolment_id"]
    # Enrolments of the year: details as at the first census, sessions over the three terms.
    rows = t["pupil_enrolment"][t["pupil_enrolment"].census_term.isin(YEAR_TERMS)]
    order = rows.census_term.map({term: i for i, term in enumerate(YEAR_TERMS)})
    details = rows.assign(_order=order).sort_values("_order", kind="stable")
    details = details.drop_duplicates(key)[[*key, "upn", "nc_year"]]
    possible = (
        (rows.sessions_possible.fillna(0) + rows.summer_ht2_sessions_possible.fillna(0))
        .groupby([rows.laestab, rows.enrolment_id])
        .sum()
        .rename("possible")
    )
    codes = t["pupil_absence"][t["pupil_absence"].census_term.isin(YEAR_TERMS)]
    code = codes.attendance_code.str.upper().str.strip()
    sessions = codes.sessions.fillna(0)
    missed = (
        pd.DataFrame(
            {
                "laestab": codes.laestab,
                "enrolment_id": codes.enrolment_id,
                "authorised": sessions.where(code.isin(AUTHORISED), 0),
                "unauthorised": sessions.where(code.isin(UNAUTHORISED), 0),
            }
        )
        .groupby(key)
        .sum()
    )
    phases = t["establishment"].drop_duplicates()
    enrolments = (
        details.merge(possible.reset_index(), on=key)
        .merge(missed.reset_index(), on=key, how="left")
        .merge(phases, on="laestab", how="left")
    )
    nc = enrolments.nc_year.astype(str).str.strip().str.replace(".0", "", regex=False)
    enrolments = enrolments[
        nc.isin([str(y) for y in range(1, 12)])
        & enrolments.phase.isin(["Primary", "Secondary", "Special"])
        & (enrolments.possible > 0)
    ]
    absent = enrolments.authorised.fillna(0) + enrolments.unauthorised.fillna(0)
    enrolments = enrolments.assign(_missed=absent, _persistent=absent / enrolments.possible >= 0.10)
    # Pupils on roll at the spring census, once each (the main registration first).
    spring = t["pupil_enrolment"]
    spring = spring[(spring.census_term == "2025_spring") & spring.on_roll.fillna(True)]
    spring = spring.assign(
        _pupil=spring.upn.fillna("enrolment:" + spring.laestab + ":" + spring.enrolment_id),
        _main=(~spring.enrol_status.isin(["C", "M"])).astype(int),
    )
    census = spring.sort_values(["_pupil", "_main", "laestab"]).drop_duplicates("_pupil")
    pupils_of = (
        t["pupil_enrolment"]
        .assign(
            _pupil=t["pupil_enrolment"].upn.fillna(
                "enrolment:"
                + t["pupil_enrolment"].laestab
                + ":"
                + t["pupil_enrolment"].enrolment_id
            )
        )[["census_term", "laestab", "enrolment_id", "_pupil"]]
        .drop_duplicates()
    )
    exclusions = t["pupil_exclusion"][t["pupil_exclusion"].census_term.isin(YEAR_TERMS)]
    exclusions = exclusions.merge(pupils_of, on=["census_term", "laestab", "enrolment_id"])
    suspended = exclusions[exclusions.category.str.upper().str.strip() == "SUSP"]
    census = census.assign(_suspended=census._pupil.isin(set(suspended._pupil)))
    out: dict[tuple[str, str], tuple] = {}
    for cohort in HEADLINE_COHORTS:
        e = (
            enrolments
            if cohort == "All pupils"
            else enrolments[enrolments.upn.isin(cohorts[cohort])]
        )
        p = census if cohort == "All pupils" else census[census.upn.isin(cohorts[cohort])]
        out[(cohort, "overall_absence")] = (float(e._missed.sum()), float(e.possible.sum()))
        out[(cohort, "persistent_absence")] = (float(e._persistent.sum()), float(len(e)))
        out[(cohort, "one_plus_suspension")] = (float(p._suspended.sum()), float(len(p)))
    return out


def run_pandas(pupils: int) -> dict[str, Any]:
    """The pandas baseline on the size's warehouse, checked against the built mart."""
    import duckdb

    path = warehouse_path(pupils)
    load_before = load_average()
    cpu, started = _cpu(), time.perf_counter()
    with PeakRss() as rss:
        tables = fetch_tables(path)
        fetched = time.perf_counter() - started
        figures = pandas_measures(tables, REFERENCE)
    seconds, cpu = time.perf_counter() - started, _cpu() - cpu
    con = duckdb.connect(str(path), read_only=True)
    mart = con.sql(
        "SELECT cohort, measure, numerator, denominator FROM mart_measure WHERE breakdown = "
        "'total' AND period_type = 'year' AND measure IN ('overall_absence', "
        "'persistent_absence', 'one_plus_suspension')"
    ).fetchall()
    con.close()
    built = {(c, m): (n, d) for c, m, n, d in mart if c in HEADLINE_COHORTS}
    assert built == figures, f"pandas and cwsw differ:\n{figures}\n{built}"
    return {
        "seconds": seconds,
        "fetch_seconds": fetched,
        "cpu_seconds": cpu,
        "peak_mib": rss.peak_kib / 1024,
        "figures": {f"{c} / {m}": list(v) for (c, m), v in sorted(figures.items())},
        "load_before": load_before,
        "load_after": load_average(),
    }


def run_headline(pupils: int) -> dict[str, Any]:
    """cwsw's own build restricted to the three measures, the four cohorts, no breakdowns
    and no terms: the same work as the pandas baseline, through ``marts.build_marts``."""
    from cwsw import pipeline
    from cwsw.cohort.definitions import DEFAULT_COHORTS
    from cwsw.indicators import marts
    from cwsw.indicators.measures import BY_NAME
    from cwsw.warehouse.connection import Warehouse

    load_before = load_average()
    with Warehouse.open(warehouse_path(pupils), read_only=True) as warehouse:
        cpu, started = _cpu(), time.perf_counter()
        with PeakRss() as rss:
            frame = marts.build_marts(
                warehouse.ibis,
                REFERENCE,
                pipeline.source_loads(warehouse),
                [c for c in DEFAULT_COHORTS if c.name in HEADLINE_COHORTS],
                [BY_NAME[m] for m in HEADLINE_MEASURES],
                ("total",),
                by_term=False,
            )
        seconds, cpu = time.perf_counter() - started, _cpu() - cpu
    return {
        "seconds": seconds,
        "cpu_seconds": cpu,
        "peak_mib": rss.peak_kib / 1024,
        "rows": len(frame),
        "load_before": load_before,
        "load_after": load_average(),
    }


def _median_run(step: str, pupils: int, repeats: int) -> dict[str, Any]:
    """``step`` run ``repeats`` times, each in a fresh process: the run of median wall time,
    with every run's seconds (``all_seconds``)."""
    runs = sorted(
        (_in_fresh_process("--step", step, str(pupils)) for _ in range(repeats)),
        key=lambda r: float(r["seconds"]),
    )
    return runs[len(runs) // 2] | {"all_seconds": [round(r["seconds"], 1) for r in runs]}


def _pandas_line(pandas: dict[str, Any], headline: dict[str, Any], full: dict[str, Any]) -> str:
    return (
        f"{'':>13}pandas, 3 measures x 4 cohorts (totals): {pandas['seconds']:6.1f} s "
        f"(of which fetching the tables {pandas['fetch_seconds']:.1f} s; CPU "
        f"{pandas['cpu_seconds']:.1f} s), peak {pandas['peak_mib']:,.0f} MiB; load "
        f"{pandas['load_before']} -> {pandas['load_after']}\n"
        f"{'':>13}cwsw,   3 measures x 4 cohorts (totals): {headline['seconds']:6.1f} s "
        f"(median of {headline['all_seconds']}) "
        f"(CPU {headline['cpu_seconds']:.1f} s), peak {headline['peak_mib']:,.0f} MiB; load "
        f"{headline['load_before']} -> {headline['load_after']}\n"
        f"{'':>13}same figures (asserted): pandas / cwsw same work x"
        f"{pandas['seconds'] / headline['seconds']:.1f} wall, x"
        f"{pandas['cpu_seconds'] / headline['cpu_seconds']:.1f} CPU "
        f"(target x{TARGET_PANDAS_RATIO}); pandas 3 measures / cwsw whole build "
        f"({full['mart_rows']:,.0f} rows) x{pandas['seconds'] / full['seconds']:.2f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--sizes", type=int, nargs="+", default=[30_000, 300_000, 3_000_000, 8_000_000]
    )
    parser.add_argument("--pandas", type=int, default=3_000_000, help="size to compare (0: skip)")
    parser.add_argument("--repeats", type=int, default=1, help="builds per size (median)")
    parser.add_argument("--reuse", action="store_true", help="keep an existing warehouse")
    parser.add_argument("--keep", action="store_true", help="keep the warehouses afterwards")
    parser.add_argument("--profile", action="store_true", help="cProfile the builds (to stderr)")
    parser.add_argument("--step", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.step:
        step, n = args.step[0], int(args.step[1])
        figures: dict[str, Any]
        if step == "generate":
            figures = generate(n)
        elif step == "build":
            figures = run_build(n, profile=args.profile)
        elif step == "headline":
            figures = run_headline(n)
        else:
            figures = run_pandas(n)
        print(json.dumps(figures))
        return

    print(
        f"cwsw build (pipeline.build) on national-scale synthetic warehouses; "
        f"{os.cpu_count()} cores; load average at start {load_average()}",
        flush=True,
    )
    results: dict[int, dict[str, Any]] = {}
    for n in args.sizes:
        if args.reuse and warehouse_path(n).exists():
            made: dict[str, Any] = {"generate_seconds": float("nan")}
        else:
            made = _in_fresh_process("--step", "generate", str(n))
        extra = ["--profile"] if args.profile else []
        runs = [_in_fresh_process(*extra, "--step", "build", str(n)) for _ in range(args.repeats)]
        figures = {
            key: statistics.median(r[key] for r in runs)
            for key in runs[0]
            if isinstance(runs[0][key], float | int)
        }
        figures["load"] = "; ".join(f"{r['load_before']} -> {r['load_after']}" for r in runs)
        results[n] = figures | made
        print(_line(n, results[n]), flush=True)
        if args.pandas == n:
            # Medians: pandas --repeats times (minutes each), cwsw's short run at least 3.
            pandas = _median_run("pandas", n, args.repeats)
            headline = _median_run("headline", n, max(3, args.repeats))
            print(_pandas_line(pandas, headline, results[n]), flush=True)
        if not args.keep:
            warehouse_path(n).unlink(missing_ok=True)
    for line in _growth(results):
        print(line)
    biggest = max(results)
    if biggest >= 8_000_000:
        ok = results[biggest]["seconds"] < TARGET_SECONDS
        verdict = "met" if ok else "MISSED"
        print(f"target: {biggest:,} pupils built under {TARGET_SECONDS} s: {verdict}")


def _line(n: int, f: dict[str, Any]) -> str:
    made = f.get("pupil_absence")
    data = (
        f"  [generated in {f['generate_seconds']:.0f} s: {f['children']:,} children, "
        f"{f['cin_episode']:,} CIN / {f['cp_plan']:,} CP / {f['cla_episode']:,} CLA rows, "
        f"{f['pupil_enrolment']:,} enrolments, {made:,} session-code rows]"
        if made is not None
        else ""
    )
    return (
        f"{n:>11,} pupils: build {f['seconds']:7.1f} s (CPU {f['cpu_seconds']:7.1f} s), "
        f"peak memory {f['build_peak_mib']:7,.0f} MiB, {f['mart_rows']:,.0f} mart rows; "
        f"load {f['load']}{data}"
    )


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT / "src"))
    main()
