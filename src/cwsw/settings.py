"""One typed settings object, read from the environment (12-factor, as find-moj-data does)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path


def _int(name: str, default: int) -> int:
    value = os.environ.get(name)
    return int(value) if value not in (None, "") else default


def _float(name: str, default: float) -> float:
    value = os.environ.get(name)
    return float(value) if value not in (None, "") else default


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
    # Linkage (issue 4): human decisions survive every rebuild of the warehouse, so they
    # live in their own file (docs/adr/0004-linkage.md); the trained model is saved as JSON.
    linkage_decisions_path: Path = Path("var/linkage_decisions.sqlite3")
    linkage_model_path: Path = Path("var/linkage_model.json")
    # Outcome bands: a match at or above this match probability (and clear of the next
    # candidate by the margin), a potential match at or above the potential threshold.
    link_match_probability: float = 0.95
    link_potential_probability: float = 0.2
    # Two candidates within this many match weight units (log2 Bayes factor) are too close
    # to call: "many matches".
    link_margin_weight: float = 3.0
    link_seed: int = 42
    # Where Splink runs: "duckdb" (default: its own in-memory DuckDB, one machine up to
    # national scale) or "spark" (a region or a national body on a Spark cluster); any
    # other value is refused when a linkage starts.
    link_engine: str = "duckdb"
    # The Spark master when link_engine is "spark" ("local[2]": this machine, two cores)
    # and the partitions of each shuffle (small for local mode, larger on a cluster).
    spark_master: str = "local[2]"
    spark_shuffle_partitions: int = 4
    # Where `cwsw build` computes the marts: "duckdb" (the warehouse itself, default),
    # "postgres" (the tables copied to a scratch schema on the server at
    # build_postgres_url) or "spark" (spark_master); the rows are stored in the warehouse.
    build_engine: str = "duckdb"
    build_postgres_url: str = ""
    # Benchmarks (issue 6): a folder of DfE's published EES files (as in the VSH report's
    # --benchmarks), read in place; and the LA's 3-digit code, for its region's and
    # statistical neighbours' figures. Unset: the dashboard says none are loaded.
    benchmarks_dir: Path | None = None
    la_code: str = ""

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
            linkage_decisions_path=Path(
                os.environ.get("CWSW_LINKAGE_DECISIONS", str(home / "linkage_decisions.sqlite3"))
            ).resolve(),
            linkage_model_path=Path(
                os.environ.get("CWSW_LINKAGE_MODEL", str(home / "linkage_model.json"))
            ).resolve(),
            link_match_probability=_float("CWSW_LINK_MATCH_PROBABILITY", 0.95),
            link_potential_probability=_float("CWSW_LINK_POTENTIAL_PROBABILITY", 0.2),
            link_margin_weight=_float("CWSW_LINK_MARGIN_WEIGHT", 3.0),
            link_seed=_int("CWSW_LINK_SEED", 42),
            link_engine=os.environ.get("CWSW_LINK_ENGINE", "").strip().lower() or "duckdb",
            spark_master=os.environ.get("CWSW_SPARK_MASTER", "local[2]"),
            spark_shuffle_partitions=_int("CWSW_SPARK_SHUFFLE_PARTITIONS", 4),
            build_engine=os.environ.get("CWSW_BUILD_ENGINE", "").strip().lower() or "duckdb",
            build_postgres_url=os.environ.get("CWSW_BUILD_POSTGRES_URL", ""),
            benchmarks_dir=(
                Path(os.environ["CWSW_BENCHMARKS_DIR"]).resolve()
                if os.environ.get("CWSW_BENCHMARKS_DIR", "").strip()
                else None
            ),
            la_code=os.environ.get("CWSW_LA_CODE", "").strip(),
        )


def get_settings() -> Settings:
    return Settings.from_env()
