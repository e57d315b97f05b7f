"""The canonical warehouse tables (data contracts §3) as data, and their creation.

Every table but ``loads`` starts with ``load_id``: each row is traced to its source file.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pyarrow as pa

if TYPE_CHECKING:
    from cwsw.warehouse.connection import Warehouse

Columns = dict[str, str]

_CIN_KEY: Columns = {
    "load_id": "INTEGER",
    "collection_year": "INTEGER",
    "la_child_id": "VARCHAR",
}
_EPISODE_KEY: Columns = _CIN_KEY | {"episode_seq": "INTEGER"}
_CENSUS_KEY: Columns = {
    "load_id": "INTEGER",
    "census_term": "VARCHAR",
    "laestab": "VARCHAR",
    "enrolment_id": "VARCHAR",
}

TABLES: dict[str, Columns] = {
    "loads": {
        "load_id": "INTEGER",
        "sha256": "VARCHAR",
        "file_name": "VARCHAR",
        "format": "VARCHAR",
        "period": "VARCHAR",
        "loaded_at": "TIMESTAMP",
        "rows": "BIGINT",
        # Added by issue 3: what a newer file of the same dataset and period replaces, and
        # the load that replaced this one (its rows are then deleted; this row stays).
        "dataset": "VARCHAR",
        "superseded_by": "INTEGER",
    },
    # Every finding of every load, located (issue 3). ``value`` is the raw value as read.
    "load_finding": {
        "load_id": "INTEGER",
        "severity": "VARCHAR",
        "rule": "VARCHAR",
        "field": "VARCHAR",
        "location": "VARCHAR",
        "value": "VARCHAR",
    },
    "cin_child": _CIN_KEY
    | {
        "upn": "VARCHAR",
        "upn_raw": "VARCHAR",
        "former_upn": "VARCHAR",
        "upn_unknown": "VARCHAR",
        "birth_date": "DATE",
        "expected_birth_date": "DATE",
        "sex": "VARCHAR",
        "ethnicity": "VARCHAR",
        "death_date": "DATE",
        "record": "VARCHAR",
    },
    "cin_episode": _EPISODE_KEY
    | {
        "referral_date": "DATE",
        "referral_source": "VARCHAR",
        "primary_need": "VARCHAR",
        "closure_date": "DATE",
        "closure_reason": "VARCHAR",
        "referral_nfa": "BOOLEAN",
        "record": "VARCHAR",
        "icpc_date": "DATE",  # CINdetails/DateOfInitialCPC
    },
    "cin_disability": _CIN_KEY | {"disability": "VARCHAR", "disability_raw": "VARCHAR"},
    "cin_assessment": _EPISODE_KEY
    | {
        "start_date": "DATE",
        "authorisation_date": "DATE",
        "assessment_seq": "INTEGER",
        "internal_review_date": "DATE",
    },
    "cin_assessment_factor": _EPISODE_KEY | {"assessment_seq": "INTEGER", "factor": "VARCHAR"},
    "cin_plan": _EPISODE_KEY | {"start_date": "DATE", "end_date": "DATE"},
    "cin_s47": _EPISODE_KEY
    | {
        "start_date": "DATE",
        "icpc_date": "DATE",
        "icpc_not_required": "BOOLEAN",
        "icpc_target": "DATE",
    },
    "cp_plan": _EPISODE_KEY
    | {
        "start_date": "DATE",
        "end_date": "DATE",
        "initial_category": "VARCHAR",
        "latest_category": "VARCHAR",
        "plan_seq": "INTEGER",
        "previous_plans": "INTEGER",
    },
    "cp_review": _EPISODE_KEY | {"plan_seq": "INTEGER", "review_date": "DATE"},
    # 2026/27 onwards: PreProceedingsandFGDM.
    "cin_pre_proceedings": _EPISODE_KEY
    | {
        "start_date": "DATE",
        "letter_before_proceedings_date": "DATE",
        "fgdm_offered": "BOOLEAN",
        "fgdm_facilitated": "BOOLEAN",
        "initial_meeting_date": "DATE",
        "review_meetings": "INTEGER",
        "step_decision_date": "DATE",
        "outcome": "VARCHAR",
        "court_application_date": "DATE",
        "letter_initial_cp_date": "DATE",
    },
    "cla_child": _CIN_KEY
    | {
        "upn": "VARCHAR",
        "upn_raw": "VARCHAR",
        "sex": "VARCHAR",
        "birth_date": "DATE",
        "ethnicity": "VARCHAR",
        "mother": "BOOLEAN",
        "mother_child_birth_date": "DATE",
    },
    "cla_episode": _CIN_KEY
    | {
        "start_date": "DATE",
        "reason_new_episode": "VARCHAR",
        "legal_status": "VARCHAR",
        "cin_code": "VARCHAR",
        "placement": "VARCHAR",
        "end_date": "DATE",
        "reason_end": "VARCHAR",
        "placement_provider": "VARCHAR",
        "reason_place_change": "VARCHAR",
        "home_postcode": "VARCHAR",
        "placement_postcode": "VARCHAR",
        "placement_urn": "VARCHAR",
    },
    # The other SSDA903 tables (issue 3), in the return's own terms.
    "cla_review": _CIN_KEY
    | {"birth_date": "DATE", "review_date": "DATE", "review_code": "VARCHAR"},
    "cla_uasc": _CIN_KEY | {"sex": "VARCHAR", "birth_date": "DATE", "uasc_end_date": "DATE"},
    "cla_outcome_oc2": _CIN_KEY
    | {
        "birth_date": "DATE",
        "sdq_score": "INTEGER",
        "sdq_reason": "VARCHAR",
        "convicted": "BOOLEAN",
        "health_check": "BOOLEAN",
        "immunisations": "BOOLEAN",
        "teeth_check": "BOOLEAN",
        "health_assessment": "BOOLEAN",
        "substance_misuse": "BOOLEAN",
        "intervention_received": "BOOLEAN",
        "intervention_offered": "BOOLEAN",
    },
    "cla_outcome_oc3": _CIN_KEY
    | {
        "birth_date": "DATE",
        "in_touch": "VARCHAR",
        "activity": "VARCHAR",
        "accommodation": "VARCHAR",
    },
    "cla_adoption": _CIN_KEY
    | {
        "birth_date": "DATE",
        "decision_date": "DATE",
        "match_date": "DATE",
        "foster_carer": "BOOLEAN",
        "number_of_adopters": "VARCHAR",
        "sex_of_adopters": "VARCHAR",
        "legal_status_of_adopters": "VARCHAR",
    },
    "cla_missing": _CIN_KEY
    | {"birth_date": "DATE", "missing_type": "VARCHAR", "start_date": "DATE", "end_date": "DATE"},
    "cla_placed_for_adoption": _CIN_KEY
    | {
        "birth_date": "DATE",
        "placed_date": "DATE",
        "ceased_date": "DATE",
        "reason_ceased": "VARCHAR",
    },
    "cla_previous_permanence": _CIN_KEY
    | {
        "birth_date": "DATE",
        "previous_permanence": "VARCHAR",
        "la_code": "VARCHAR",
        "permanence_date": "VARCHAR",
    },
    "cla_sw_episode": _CIN_KEY
    | {
        "birth_date": "DATE",
        "social_worker_id": "VARCHAR",
        "start_date": "DATE",
        "end_date": "DATE",
        "reason_end": "VARCHAR",
    },
    "establishment": {
        "load_id": "INTEGER",
        "laestab": "VARCHAR",
        "urn": "VARCHAR",
        "establishment_name": "VARCHAR",
        "phase": "VARCHAR",
    },
    "person": {
        "load_id": "INTEGER",
        "la_child_id": "VARCHAR",
        "forename": "VARCHAR",
        "surname": "VARCHAR",
        "birth_date": "DATE",
        "sex": "VARCHAR",
        "upn": "VARCHAR",
        "upn_raw": "VARCHAR",
        "postcode": "VARCHAR",
    },
    "pupil_enrolment": _CENSUS_KEY
    | {
        "on_roll": "BOOLEAN",
        "upn": "VARCHAR",
        "upn_raw": "VARCHAR",
        "former_upn": "VARCHAR",
        "forename": "VARCHAR",
        "surname": "VARCHAR",
        "birth_date": "DATE",
        "sex": "VARCHAR",
        "ethnicity": "VARCHAR",
        "nc_year": "VARCHAR",  # R, N1, N2, E1... as well as 1–14
        "enrol_status": "VARCHAR",
        "sen_provision": "VARCHAR",
        "entry_date": "DATE",
        "leaving_date": "DATE",
        "sessions_possible": "INTEGER",
        "summer_ht2_sessions_possible": "INTEGER",
        "sessions_authorised": "INTEGER",  # until 2024; from 2025 sum pupil_absence
        "sessions_unauthorised": "INTEGER",
    },
    "pupil_absence": _CENSUS_KEY
    | {
        "block": "VARCHAR",
        "attendance_code": "VARCHAR",
        "sessions": "INTEGER",
        "absence_type": "VARCHAR",  # authorised / unauthorised / present / not_counted
    },
    "pupil_exclusion": _CENSUS_KEY
    | {"start_date": "DATE", "category": "VARCHAR", "sessions": "INTEGER"},
    "pupil_fsm": _CENSUS_KEY | {"start_date": "DATE", "end_date": "DATE"},
    "pupil_sen_need": _CENSUS_KEY | {"sen_type_rank": "INTEGER", "sen_type": "VARCHAR"},
    # Daily / weekly attendance (issue 3, data contracts §2.5): one row per pupil session.
    "pupil_attendance_session": {
        "load_id": "INTEGER",
        "upn": "VARCHAR",
        "upn_raw": "VARCHAR",
        "laestab": "VARCHAR",
        "urn": "VARCHAR",
        "session_date": "DATE",
        "session": "VARCHAR",  # AM / PM
        "attendance_code": "VARCHAR",
        "absence_type": "VARCHAR",  # as pupil_absence: school_census.absence_type
        "cin": "BOOLEAN",
        "cp": "BOOLEAN",
        "cla": "BOOLEAN",
        "fsm": "BOOLEAN",
        "sen_provision": "VARCHAR",  # N / K / E
        "record": "VARCHAR",  # "row N", as the load_finding location
    },
    # §3 keeps a failing raw value in *_raw: results with an invalid UPN keep it in upn_raw.
    "ks2_result": {
        "load_id": "INTEGER",
        "upn": "VARCHAR",
        "upn_raw": "VARCHAR",
        "laestab": "VARCHAR",
        "year": "INTEGER",
        "ks2_read_exp": "BOOLEAN",
        "ks2_writ_exp": "BOOLEAN",
        "ks2_mat_exp": "BOOLEAN",
        "ks2_rwm_exp": "BOOLEAN",
    },
    "ks4_result": {
        "load_id": "INTEGER",
        "upn": "VARCHAR",
        "upn_raw": "VARCHAR",
        "laestab": "VARCHAR",
        "year": "INTEGER",
        "att8": "DOUBLE",
        "p8score": "DOUBLE",
        "l2basics_94": "BOOLEAN",
        "l2basics_95": "BOOLEAN",
    },
}

_ARROW_TYPES: dict[str, pa.DataType] = {
    "VARCHAR": pa.string(),
    "INTEGER": pa.int32(),
    "BIGINT": pa.int64(),
    "DOUBLE": pa.float64(),
    "BOOLEAN": pa.bool_(),
    "DATE": pa.date32(),
    "TIMESTAMP": pa.timestamp("us"),
}


def arrow_schema(table: str) -> pa.Schema:
    """The Arrow schema matching a canonical table's DuckDB columns."""
    return columns_arrow_schema(TABLES[table])


def columns_arrow_schema(columns: Columns) -> pa.Schema:
    """The Arrow schema matching DuckDB columns given as name -> type."""
    return pa.schema([(name, _ARROW_TYPES[kind]) for name, kind in columns.items()])


def create_sql(table: str) -> str:
    columns = [f'"{name}" {kind}' for name, kind in TABLES[table].items()]
    if table == "loads":
        # A file is identified by its SHA-256 (docs/architecture.md): one load per content.
        columns[0] += " PRIMARY KEY"
        columns[1] += " NOT NULL UNIQUE"
    return f'CREATE TABLE IF NOT EXISTS "{table}" ({", ".join(columns)})'


def ensure_schema(warehouse: Warehouse) -> None:
    """Create any canonical table that is missing and add any column a newer cwsw added.

    Columns are only ever added (data contracts §3), so an older warehouse keeps its data.
    """
    existing: dict[str, set[str]] = {}
    for table, column in warehouse.execute(
        "SELECT table_name, column_name FROM information_schema.columns "
        "WHERE table_schema = current_schema() AND table_catalog = current_database()"
    ):
        existing.setdefault(table, set()).add(column)
    for table, columns in TABLES.items():
        if table not in existing:
            warehouse.execute(create_sql(table))
            continue
        for name, kind in columns.items():
            if name not in existing[table]:
                warehouse.execute(f'ALTER TABLE "{table}" ADD COLUMN "{name}" {kind}')
                if table == "loads" and name == "dataset":
                    warehouse.execute("UPDATE loads SET dataset = format")
