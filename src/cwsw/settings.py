"""One typed settings object, read from the environment (12-factor, as find-moj-data does)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path


def _int(name: str, default: int) -> int:
    value = os.environ.get(name)
    return int(value) if value not in (None, "") else default


@dataclass(frozen=True)
class Settings:
    """Where cwsw keeps its state and how it discloses figures.

    Every value comes from a ``CWSW_*`` environment variable, with a default that suits a
    single analyst's machine (the embedded SQLite + DuckDB set-up).
    """

    home: Path
    warehouse_path: Path
    app_database_url: str
    # Disclosure control: counts from 1 to this value are suppressed as "c" (DOMAIN.md §4).
    suppression_threshold: int
    secret_key: str
    debug: bool

    @classmethod
    def from_env(cls) -> Settings:
        home = Path(os.environ.get("CWSW_HOME", "var")).resolve()
        warehouse = Path(os.environ.get("CWSW_WAREHOUSE", str(home / "warehouse.duckdb")))
        app_db = os.environ.get("DATABASE_URL", f"sqlite:///{home / 'app.sqlite3'}")
        return cls(
            home=home,
            warehouse_path=warehouse.resolve(),
            app_database_url=app_db,
            suppression_threshold=_int("CWSW_SUPPRESSION_THRESHOLD", 5),
            secret_key=os.environ.get("CWSW_SECRET_KEY", ""),
            debug=os.environ.get("CWSW_DEBUG", "0") == "1",
        )


def get_settings() -> Settings:
    return Settings.from_env()
