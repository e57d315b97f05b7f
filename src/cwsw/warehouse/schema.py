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
    },
    "cin_assessment": _EPISODE_KEY | {"start_date": "DATE", "authorisation_date": "DATE"},
    "cin_plan": _EPISODE_KEY | {"start_date": "DATE", "end_date": "DATE"},
    "cin_s47": _EPISODE_KEY
    | {"start_date": "DATE", "icpc_date": "DATE", "icpc_not_required": "BOOLEAN"},
    "cp_plan": _EPISODE_KEY
    | {
        "start_date": "DATE",
        "end_date": "DATE",
        "initial_category": "VARCHAR",
        "latest_category": "VARCHAR",
    },
    "cla_child": _CIN_KEY
    | {
        "upn": "VARCHAR",
        "upn_raw": "VARCHAR",
        "sex": "VARCHAR",
        "birth_date": "DATE",
        "ethnicity": "VARCHAR",
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
    },
    "pupil_absence": _CENSUS_KEY
    | {"block": "VARCHAR", "attendance_code": "VARCHAR", "sessions": "INTEGER"},
    "pupil_exclusion": _CENSUS_KEY
    | {"start_date": "DATE", "category": "VARCHAR", "sessions": "INTEGER"},
    "pupil_fsm": _CENSUS_KEY | {"start_date": "DATE", "end_date": "DATE"},
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
    return pa.schema([(name, _ARROW_TYPES[kind]) for name, kind in TABLES[table].items()])


def create_sql(table: str) -> str:
    columns = [f'"{name}" {kind}' for name, kind in TABLES[table].items()]
    if table == "loads":
        # A file is identified by its SHA-256 (ARCHITECTURE.md): one load per content.
        columns[0] += " PRIMARY KEY"
        columns[1] += " NOT NULL UNIQUE"
    return f'CREATE TABLE IF NOT EXISTS "{table}" ({", ".join(columns)})'


def ensure_schema(warehouse: Warehouse) -> None:
    """Create any canonical table that is missing (existing tables are left as they are)."""
    for table in TABLES:
        warehouse.execute(create_sql(table))
