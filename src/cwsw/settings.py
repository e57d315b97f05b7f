"""One typed settings object, read from the environment (12-factor, as find-moj-data does).

Every environment variable cwsw reads is declared once, here, in :data:`SETTINGS`: its name,
default, type, what it does and where it is used. :class:`Settings` carries the values the code
uses, and :meth:`Settings.from_env` reads each through the registry (a name that is not declared
is refused). ``tools/settings_doc.py`` writes the table in ``docs/settings.md`` from the
registry, and ``tests/test_settings_doc.py`` fails when that table is out of date or when any
module under ``src/`` reads a variable the registry does not declare.

Over 500 lines by design: most of it is the registry, one declaration per variable, kept
beside the object that reads them so that a new setting is one edit in one file.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from cwsw.errors import UserError

# The repository this module was installed from (src/cwsw/settings.py -> the repository).
REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_GOVUK_FRONTEND_DIR = REPO_ROOT / "node_modules" / "govuk-frontend" / "dist" / "govuk"

# The smallest suppression threshold cwsw accepts without CWSW_ALLOW_UNSAFE_SUPPRESSION_THRESHOLD:
# below 3 a suppressed count of 1 or 2 is easily guessed (DfE's statistics suppress counts
# under 3 at least; GSS "Statistical disclosure control for tables produced from
# administrative sources" recommends a threshold of 3 or more for counts of people).
SUPPRESSION_THRESHOLD_FLOOR = 3

RUNTIME = "runtime"  # read by the product (src/)
TESTS = "tests"  # read by the test suite only
BENCHMARKS = "benchmarks"  # read by the scripts in benchmarks/ only


@dataclass(frozen=True)
class Setting:
    """One environment variable: the one place it is declared."""

    name: str
    group: str  # the heading it is listed under in docs/settings.md
    type: str  # path, text, secret, URL, integer, number, flag (1 = on), list
    default: str  # as a person reads it (Markdown)
    description: str  # what it does (Markdown)
    used_by: tuple[str, ...]  # modules or files that act on it
    field: str | None = None  # the Settings attribute that carries it, if any
    scope: str = RUNTIME


SETTINGS: tuple[Setting, ...] = (
    # -- Where state lives ------------------------------------------------------------------
    Setting(
        "CWSW_HOME",
        "Where state lives",
        "path",
        "`var` (relative to the working directory)",
        "The folder cwsw keeps its state in: the warehouse, the app database, the linkage "
        "decisions and model, and the generated secret and pseudonym keys, unless their own "
        "settings say otherwise. `cwsw demo` sets it to its `--dir`.",
        ("cwsw.settings", "cwsw.web.keys", "cwsw.cli (demo)"),
        field="home",
    ),
    Setting(
        "CWSW_WAREHOUSE",
        "Where state lives",
        "path",
        "`<home>/warehouse.duckdb`",
        "The DuckDB warehouse file: loads and findings, canonical tables, links, marts.",
        ("cwsw.cli", "cwsw.web.children.reads", "cwsw.web.insight.services"),
        field="warehouse_path",
    ),
    Setting(
        "DATABASE_URL",
        "Where state lives",
        "URL",
        "`sqlite:///<home>/app.sqlite3`",
        "The web app's database (accounts, audit log, caseloads): `sqlite:////absolute/path` "
        "or `postgresql://user:password@host:port/name`.",
        ("cwsw.web.settings", "cwsw.web.database"),
        field="app_database_url",
    ),
    Setting(
        "CWSW_LINKAGE_DECISIONS",
        "Where state lives",
        "path",
        "`<home>/linkage_decisions.sqlite3`",
        "The append-only log of accept / reject decisions on linkage pairs (SQLite). Kept "
        "apart from the warehouse so that decisions outlive every rebuild (ADR 0004).",
        ("cwsw.cli (link)", "cwsw.linkage.review", "cwsw.pipeline", "cwsw.web.data.services"),
        field="linkage_decisions_path",
    ),
    Setting(
        "CWSW_LINKAGE_MODEL",
        "Where state lives",
        "path",
        "`<home>/linkage_model.json`",
        "Where the trained Splink model is saved (JSON, with the Splink version, seed, "
        "training method and label count).",
        ("cwsw.pipeline",),
        field="linkage_model_path",
    ),
    # -- Disclosure control -----------------------------------------------------------------
    Setting(
        "CWSW_SUPPRESSION_THRESHOLD",
        "Disclosure control",
        "integer",
        "`5`",
        "Counts from 1 to this value are shown as `c`, with every rate built on them; "
        "secondary suppression then hides whatever could be worked back from totals "
        "(`docs/domain.md` §4, `docs/marts.md`).",
        (
            "cwsw.cli (export marts, report, demo)",
            "cwsw.indicators.insight",
            "cwsw.web.insight.services",
        ),
        field="suppression_threshold",
    ),
    Setting(
        "CWSW_ALLOW_UNSAFE_SUPPRESSION_THRESHOLD",
        "Disclosure control",
        "flag (1 = on)",
        "`0`",
        "A `CWSW_SUPPRESSION_THRESHOLD` below 3 is refused (every command and the web app "
        "stop with a one-line error); `1` allows 1 or 2, for testing only: every command "
        "then prints a warning and every output records it. 0 or less is always refused.",
        ("cwsw.settings", "cwsw.cli", "cwsw.indicators.export", "cwsw.reports.writers"),
        field="allow_unsafe_suppression_threshold",
    ),
    # -- Linkage ----------------------------------------------------------------------------
    Setting(
        "CWSW_LINK_MATCH_PROBABILITY",
        "Linkage",
        "number",
        "`0.95`",
        "A Splink pair at or above this match probability (each the other's best, and clear "
        "of the runner-up by the margin) is linked as a match.",
        ("cwsw.pipeline", "cwsw.linkage.run", "cwsw.linkage.probabilistic"),
        field="link_match_probability",
    ),
    Setting(
        "CWSW_LINK_POTENTIAL_PROBABILITY",
        "Linkage",
        "number",
        "`0.2`",
        "A pair at or above this probability that is not a match is a potential match and "
        "goes to the review queue (`cwsw link review`).",
        ("cwsw.pipeline", "cwsw.linkage.run", "cwsw.linkage.probabilistic"),
        field="link_potential_probability",
    ),
    Setting(
        "CWSW_LINK_MARGIN_WEIGHT",
        "Linkage",
        "number",
        "`3.0`",
        "Two candidates within this many match-weight units (log2 Bayes factor; 3 is 8 times "
        'as likely) are too close to call: "many matches", sent to review.',
        ("cwsw.pipeline", "cwsw.linkage.run", "cwsw.linkage.probabilistic"),
        field="link_margin_weight",
    ),
    Setting(
        "CWSW_LINK_SEED",
        "Linkage",
        "integer",
        "`42`",
        "The seed of Splink's random sample for u estimation: the same seed, the same model.",
        ("cwsw.pipeline", "cwsw.linkage.run", "cwsw.linkage.splink_engine"),
        field="link_seed",
    ),
    Setting(
        "CWSW_LINK_ENGINE",
        "Linkage",
        "text",
        "`duckdb`",
        "Where Splink runs: `duckdb` (its own in-memory DuckDB) or `spark` (a region or "
        "national body); any other value is refused when a linkage starts.",
        ("cwsw.pipeline", "cwsw.linkage.run", "cwsw.linkage.splink_engine"),
        field="link_engine",
    ),
    Setting(
        "CWSW_SPARK_MASTER",
        "Linkage",
        "text",
        "`local[2]`",
        "The Spark master for linkage on `spark` and for `cwsw build --engine spark`.",
        ("cwsw.pipeline", "cwsw.linkage.splink_engine", "cwsw.indicators.engines"),
        field="spark_master",
    ),
    Setting(
        "CWSW_SPARK_SHUFFLE_PARTITIONS",
        "Linkage",
        "integer",
        "`4`",
        "Spark's partitions per shuffle (small for local mode, larger on a cluster).",
        ("cwsw.pipeline", "cwsw.linkage.splink_engine", "cwsw.indicators.engines"),
        field="spark_shuffle_partitions",
    ),
    # -- Building the marts -----------------------------------------------------------------
    Setting(
        "CWSW_BUILD_ENGINE",
        "Building the marts",
        "text",
        "`duckdb`",
        "Where `cwsw build` computes the marts: `duckdb` (the warehouse itself), `postgres` "
        "or `spark`; the rows are stored in the warehouse whichever computes them. "
        "`cwsw build --engine` overrides it.",
        ("cwsw.cli (build)", "cwsw.indicators.engines"),
        field="build_engine",
    ),
    Setting(
        "CWSW_BUILD_POSTGRES_URL",
        "Building the marts",
        "URL",
        "unset",
        "The PostgreSQL server a `postgres` build copies the tables to (a scratch schema "
        "`cwsw_build_<random>`, dropped at the end). Needed for `--engine postgres`.",
        ("cwsw.pipeline", "cwsw.indicators.engines"),
        field="build_postgres_url",
    ),
    # -- Web app ----------------------------------------------------------------------------
    Setting(
        "CWSW_SECRET_KEY",
        "Web app",
        "secret",
        "unset: generated once into `<home>/secret_key` (mode 0600)",
        "Django's `SECRET_KEY` (sessions, CSRF tokens).",
        ("cwsw.web.settings", "cwsw.web.keys"),
        field="secret_key",
    ),
    Setting(
        "CWSW_PSEUDONYM_KEY",
        "Web app",
        "secret",
        "unset: generated once into `<home>/pseudonym_key` (mode 0600)",
        "The key of children's pseudonymous keys in URLs, the audit log and the analyst's "
        "pages. Separate from the secret key, so rotating Django's key does not change every "
        "child's key (ADR 0005).",
        ("cwsw.web.settings", "cwsw.web.keys", "cwsw.web.children.keys"),
        field="pseudonym_key",
    ),
    Setting(
        "CWSW_DEBUG",
        "Web app",
        "flag (1 = on)",
        "`0`",
        "`1`: Django's debug mode. Never in production.",
        ("cwsw.web.settings",),
        field="debug",
    ),
    Setting(
        "CWSW_ALLOWED_HOSTS",
        "Web app",
        "list",
        "`127.0.0.1,localhost`",
        "The host names the web app answers to, comma-separated.",
        ("cwsw.web.settings",),
        field="allowed_hosts",
    ),
    Setting(
        "CWSW_HTTPS",
        "Web app",
        "flag (1 = on)",
        "`0`",
        "`1`: served over HTTPS behind a proxy: `__Host-` secure cookies, HSTS, a redirect to "
        "HTTPS, `X-Forwarded-Proto` trusted, and django-axes counting one proxy.",
        ("cwsw.web.settings",),
        field="https",
    ),
    Setting(
        "CWSW_REQUIRE_TOTP_FOR_CHILD_LEVEL",
        "Web app",
        "flag (on unless `0`)",
        "`1`",
        "On (the default): the child-level roles (advisory teacher, DSL, analyst) and "
        "administrators must set up a TOTP app before any other page (ADR 0015). `0` (or "
        "`false`, `no`, `off`) makes it optional, for a demonstration only: the sign-in page "
        "then says so. `cwsw demo` turns it off unless the variable is set.",
        (
            "cwsw.web.settings",
            "cwsw.web.accounts.second_factor",
            "cwsw.web.accounts.views",
            "cwsw.cli (demo)",
        ),
        field="require_totp_for_child_level",
    ),
    Setting(
        "CWSW_GOVUK_FRONTEND_DIR",
        "Web app",
        "path",
        "`node_modules/govuk-frontend/dist/govuk` in the repository",
        "GOV.UK Frontend's `dist/govuk` folder, served as static files (no CDN).",
        ("cwsw.web.settings",),
        field="govuk_frontend_dir",
    ),
    Setting(
        "CWSW_BENCHMARKS_DIR",
        "Web app",
        "path",
        "unset: the dashboard says no published figures are loaded",
        "A folder of DfE's published EES files (`absence_la.csv`, `ks2_la.csv`, `ks4_la.csv`, "
        "statistical neighbours), read in place: the dashboard sets the LA's disclosed figures "
        "beside England's (ADR 0010). The report takes `--benchmarks` instead.",
        ("cwsw.web.insight.services", "cwsw.indicators.benchmarks"),
        field="benchmarks_dir",
    ),
    Setting(
        "CWSW_LA_CODE",
        "Web app",
        "text",
        "unset",
        "The LA's old 3-digit code: with `CWSW_BENCHMARKS_DIR`, the dashboard adds its "
        "region's and its statistical neighbours' figures. The report takes `--la-code`.",
        ("cwsw.web.insight.services", "cwsw.indicators.benchmarks"),
        field="la_code",
    ),
    # -- The report --------------------------------------------------------------------------
    Setting(
        "CWSW_LA_NAME",
        "The report",
        "text",
        "unset: DfE's name for `--la-code` when `--benchmarks` is given, else no name",
        "The local authority's name as the VSH report's title gives it (`Kent`: \"Children "
        'with a social worker: Kent Virtual School report, 2024/25").',
        ("cwsw.reports.vsh",),
        field="la_name",
    ),
    Setting(
        "CWSW_TEST_DATABASE_NAME",
        "Web app",
        "text",
        "unset: Django's `test_<name>`",
        "The name of the database Django's test runner creates, for a test run on a shared "
        "PostgreSQL server (`tests/web/test_postgres.py` sets it).",
        ("cwsw.web.settings",),
        field="test_database_name",
    ),
    # -- Command line -----------------------------------------------------------------------
    Setting(
        "CWSW_PROGRESS",
        "Command line",
        "flag (1 = on)",
        "`0`: progress bars only on a terminal",
        "`1`: show progress bars even when standard error is not a terminal.",
        ("cwsw.cli",),
        field="progress",
    ),
    Setting(
        "CWSW_USER",
        "Command line",
        "text",
        "unset: the login name",
        "Who `cwsw link accept` and `cwsw link reject` record as deciding when `--by` is not "
        "given.",
        ("cwsw.cli (link accept, link reject)",),
        field="user",
    ),
    # -- Reading files ----------------------------------------------------------------------
    Setting(
        "CWSW_INGEST_WORKERS",
        "Reading files",
        "integer",
        "unset: 2 reading processes for a CIN census of 64 MiB or more (at most the cores), else 1",
        "How many processes read one CIN census file (ADR 0003).",
        ("cwsw.formats.cin_census",),
        field="ingest_workers",
    ),
    Setting(
        "CWSW_CIN_WALK",
        "Reading files",
        "text",
        "unset: the compiled walk where `make env` built it",
        "`python`: read each CIN census child with the Python walk (the reference) even where "
        "the compiled walk is built (ADR 0003).",
        ("cwsw.formats.cin_census",),
        field="cin_walk",
    ),
    Setting(
        "CWSW_SUPERSEDE_MIN_RATIO",
        "Reading files",
        "number",
        "`0.5`",
        "A file of the same dataset and period as an earlier load replaces it only if it "
        "holds at least this share of the earlier load's rows (children, for a CIN census); "
        "a file holding fewer, or none, is refused, so a wrong or empty file never empties a "
        "year. `cwsw ingest --replace` loads it anyway. From 0 (only an empty file is "
        "refused) to 1 (`docs/ingest.md`).",
        ("cwsw.warehouse.load",),
        field="supersede_min_ratio",
    ),
    # -- Tests ------------------------------------------------------------------------------
    Setting(
        "CWSW_TEST_POSTGRES_URL",
        "Tests",
        "URL",
        "`postgresql://postgres@127.0.0.1:5432/test`",
        "The PostgreSQL server the `postgres`-marked tests create their databases and schemas on.",
        (
            "tests/indicators/test_engines.py",
            "tests/web/test_postgres.py",
            "tests/test_benchmark_scripts.py",
        ),
        scope=TESTS,
    ),
    Setting(
        "CWSW_SCREENSHOTS",
        "Tests",
        "path",
        "`var/test-artefacts/screenshots`",
        "Where the browser tests keep a full-page screenshot of every page, per role (ADR 0011).",
        ("tests/web/test_web_walks.py", "tests/web/test_web_browser.py"),
        scope=TESTS,
    ),
    # -- Benchmark scripts ------------------------------------------------------------------
    Setting(
        "CWSW_BENCH_DIR",
        "Benchmark scripts",
        "path",
        "`var/bench`",
        "Where `build_marts_national.py` keeps its synthetic national warehouses.",
        ("benchmarks/build_marts_national.py",),
        scope=BENCHMARKS,
    ),
    Setting(
        "CWSW_BENCH_CACHE",
        "Benchmark scripts",
        "path",
        "`var/bench`",
        "Where `ingest_school_census.py` keeps its generated census extracts "
        "(`<cache>/school_census`).",
        ("benchmarks/ingest_school_census.py",),
        scope=BENCHMARKS,
    ),
    Setting(
        "CWSW_BENCH_POSTGRES_URL",
        "Benchmark scripts",
        "URL",
        "`postgresql://postgres@127.0.0.1:5432/test`",
        "The PostgreSQL server `web_load.py` creates and drops its database on.",
        ("benchmarks/web_load.py",),
        scope=BENCHMARKS,
    ),
)

BY_NAME: dict[str, Setting] = {s.name: s for s in SETTINGS}


class SettingError(UserError, ValueError):
    """An environment variable holds a value its setting cannot take (exit code 1, as for
    every error a user can fix; 2 is kept for a bad option, which the shell's user typed)."""


def _raw(name: str) -> str | None:
    """The variable's value; only a variable declared in :data:`SETTINGS` may be read."""
    if name not in BY_NAME:
        raise KeyError(f"{name} is not declared in cwsw.settings.SETTINGS")
    return os.environ.get(name)


def _text(name: str, default: str = "") -> str:
    value = _raw(name)
    return default if value is None else value


def _int(name: str, default: int) -> int:
    value = _raw(name)
    if value in (None, ""):
        return default
    try:
        return int(value)
    except ValueError:
        raise SettingError(f"{name} must be a whole number, not {value!r}") from None


def _optional_int(name: str) -> int | None:
    value = _raw(name)
    if value is None or not value.strip():
        return None
    try:
        return int(value)
    except ValueError:
        raise SettingError(f"{name} must be a whole number, not {value!r}") from None


def _float(name: str, default: float) -> float:
    value = _raw(name)
    if value in (None, ""):
        return default
    try:
        return float(value)
    except ValueError:
        raise SettingError(f"{name} must be a number, not {value!r}") from None


def _share(name: str, value: float) -> float:
    """``value`` (read from ``name``) checked to be a number from 0 to 1."""
    if not 0 <= value <= 1:
        raise SettingError(f"{name} must be a number from 0 to 1, not {value!r}")
    return value


def _flag(name: str) -> bool:
    """On when the variable is exactly ``1``."""
    return _raw(name) == "1"


def _on_unless_off(value: str) -> bool:
    """An opt-out flag: on unless the value says off (``0``, ``false``, ``no``, ``off``)."""
    return value.strip().lower() not in {"0", "false", "no", "off"}


def _choice(name: str, default: str) -> str:
    """Trimmed and lower-cased; blank is the default."""
    return _text(name).strip().lower() or default


@dataclass(frozen=True)
class Settings:
    """Where cwsw keeps its state, how it discloses figures, links, builds and serves.

    Every value comes from an environment variable declared in :data:`SETTINGS`, with a
    default that suits a single analyst's machine (the embedded SQLite + DuckDB set-up).
    """

    home: Path
    warehouse_path: Path
    app_database_url: str
    # Disclosure control: counts from 1 to this value are suppressed as "c" (docs/domain.md §4).
    suppression_threshold: int
    secret_key: str
    debug: bool
    # A threshold below SUPPRESSION_THRESHOLD_FLOOR (1 or 2) only with this flag, and warned.
    allow_unsafe_suppression_threshold: bool = False
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
    # The LA's name on the VSH report's title (CWSW_LA_NAME); empty: DfE's name for the
    # report's --la-code if its benchmark files give one, else the title names no LA.
    la_name: str = ""
    # The web app (cwsw.web.settings). An empty key is generated once into <home>.
    pseudonym_key: str = ""
    allowed_hosts: tuple[str, ...] = ("127.0.0.1", "localhost")
    https: bool = False
    require_totp_for_child_level: bool = True
    govuk_frontend_dir: Path = DEFAULT_GOVUK_FRONTEND_DIR
    test_database_name: str = ""
    # The command line: progress bars off a terminal; who decides a linkage pair.
    progress: bool = False
    user: str = ""
    # Reading a CIN census: reading processes (None: by file size) and the walk ("python"
    # forces the Python walk; anything else uses the compiled one where it is built).
    ingest_workers: int | None = None
    cin_walk: str = ""
    # A load replaces an earlier one of its dataset and period only if it holds at least this
    # share of its rows (docs/ingest.md); fewer, or none, is refused without --replace.
    supersede_min_ratio: float = 0.5

    @classmethod
    def from_env(cls) -> Settings:
        home = Path(_text("CWSW_HOME", "var")).resolve()
        warehouse = Path(_text("CWSW_WAREHOUSE", str(home / "warehouse.duckdb")))
        benchmarks_dir = _text("CWSW_BENCHMARKS_DIR")
        return cls(
            home=home,
            warehouse_path=warehouse.resolve(),
            app_database_url=_text("DATABASE_URL", f"sqlite:///{home / 'app.sqlite3'}"),
            suppression_threshold=_threshold(),
            allow_unsafe_suppression_threshold=_flag("CWSW_ALLOW_UNSAFE_SUPPRESSION_THRESHOLD"),
            secret_key=_text("CWSW_SECRET_KEY"),
            debug=_flag("CWSW_DEBUG"),
            linkage_decisions_path=Path(
                _text("CWSW_LINKAGE_DECISIONS", str(home / "linkage_decisions.sqlite3"))
            ).resolve(),
            linkage_model_path=Path(
                _text("CWSW_LINKAGE_MODEL", str(home / "linkage_model.json"))
            ).resolve(),
            link_match_probability=_float("CWSW_LINK_MATCH_PROBABILITY", 0.95),
            link_potential_probability=_float("CWSW_LINK_POTENTIAL_PROBABILITY", 0.2),
            link_margin_weight=_float("CWSW_LINK_MARGIN_WEIGHT", 3.0),
            link_seed=_int("CWSW_LINK_SEED", 42),
            link_engine=_choice("CWSW_LINK_ENGINE", "duckdb"),
            spark_master=_text("CWSW_SPARK_MASTER", "local[2]"),
            spark_shuffle_partitions=_int("CWSW_SPARK_SHUFFLE_PARTITIONS", 4),
            build_engine=_choice("CWSW_BUILD_ENGINE", "duckdb"),
            build_postgres_url=_text("CWSW_BUILD_POSTGRES_URL"),
            benchmarks_dir=(Path(benchmarks_dir).resolve() if benchmarks_dir.strip() else None),
            la_code=_text("CWSW_LA_CODE").strip(),
            la_name=_text("CWSW_LA_NAME").strip(),
            pseudonym_key=_text("CWSW_PSEUDONYM_KEY"),
            allowed_hosts=tuple(
                host.strip()
                for host in _text("CWSW_ALLOWED_HOSTS", "127.0.0.1,localhost").split(",")
                if host.strip()
            ),
            https=_flag("CWSW_HTTPS"),
            require_totp_for_child_level=_on_unless_off(_text("CWSW_REQUIRE_TOTP_FOR_CHILD_LEVEL")),
            govuk_frontend_dir=Path(
                _text("CWSW_GOVUK_FRONTEND_DIR", str(DEFAULT_GOVUK_FRONTEND_DIR))
            ),
            test_database_name=_text("CWSW_TEST_DATABASE_NAME"),
            progress=_flag("CWSW_PROGRESS"),
            user=_text("CWSW_USER"),
            ingest_workers=_optional_int("CWSW_INGEST_WORKERS"),
            cin_walk=_choice("CWSW_CIN_WALK", ""),
            supersede_min_ratio=_share(
                "CWSW_SUPERSEDE_MIN_RATIO", _float("CWSW_SUPERSEDE_MIN_RATIO", 0.5)
            ),
        )

    @property
    def suppression_warning(self) -> str | None:
        """The warning every command prints and every output records when the threshold is
        below the floor (allowed only by ``CWSW_ALLOW_UNSAFE_SUPPRESSION_THRESHOLD``)."""
        return unsafe_threshold_warning(self.suppression_threshold)


def unsafe_threshold_warning(threshold: int) -> str | None:
    """``None`` for a threshold at or above the floor, else the one-line warning."""
    if threshold >= SUPPRESSION_THRESHOLD_FLOOR:
        return None
    return (
        f"the suppression threshold is {threshold}, below the safe floor of "
        f"{SUPPRESSION_THRESHOLD_FLOOR} (allowed by CWSW_ALLOW_UNSAFE_SUPPRESSION_THRESHOLD=1): "
        "counts this small may identify children; do not publish these figures"
    )


def _threshold() -> int:
    """``CWSW_SUPPRESSION_THRESHOLD``, refused below the floor unless explicitly allowed
    (docs/domain.md §4.6): 0 or a negative would turn primary suppression off."""
    threshold = _int("CWSW_SUPPRESSION_THRESHOLD", 5)
    if threshold < 1:
        raise SettingError(
            f"CWSW_SUPPRESSION_THRESHOLD must be at least {SUPPRESSION_THRESHOLD_FLOOR}, not "
            f"{threshold}: suppression cannot be turned off"
        )
    if threshold < SUPPRESSION_THRESHOLD_FLOOR and not _flag(
        "CWSW_ALLOW_UNSAFE_SUPPRESSION_THRESHOLD"
    ):
        raise SettingError(
            f"CWSW_SUPPRESSION_THRESHOLD must be at least {SUPPRESSION_THRESHOLD_FLOOR}, not "
            f"{threshold} (set CWSW_ALLOW_UNSAFE_SUPPRESSION_THRESHOLD=1 to allow it, unsafely)"
        )
    return threshold


def get_settings() -> Settings:
    return Settings.from_env()
