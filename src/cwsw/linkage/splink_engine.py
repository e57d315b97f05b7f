"""The one wrapper over Splink: every other module links records through ``SplinkEngine``.

Splink runs on its own in-memory DuckDB database by default (never the warehouse's
connection), so its scratch tables never land in the warehouse and a linkage that fails leaves
the warehouse as it was; with ``engine="spark"`` the same model runs on Splink's Spark backend
(local mode on one machine, or a cluster for a region or a national body). The comparisons and
blocking rules are defined here, once, in SQL each backend runs (``_DialectLevel``), so both
engines score the same pairs the same way; ``probabilistic`` prepares the records and decides
what the scores mean.

Both inputs carry the same columns (``PREPARED_COLUMNS``): the two sides of a link-only job,
``children`` (the person extract) and ``pupils`` (the school census).

About 600 lines by design: it is the only module that imports Splink (ruff's banned-api), so
the comparisons, the blocking rules and the training and prediction calls stay together. Each
level and rule, and the fault it is there for: ``docs/linkage-comparisons.md``.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
import splink
import splink.comparison_level_library as cll
import splink.comparison_library as cl
from splink import DuckDBAPI, Linker, SettingsCreator, block_on
from splink.blocking_rule_library import CustomRule
from splink.internals.blocking_rule_creator import BlockingRuleCreator
from splink.internals.comparison_level_creator import ComparisonLevelCreator
from splink.internals.dialects import SplinkDialect

from cwsw.errors import UserError

CHILDREN = "children"
PUPILS = "pupils"
DUCKDB = "duckdb"
SPARK = "spark"
ENGINES = (DUCKDB, SPARK)
MODEL_FORMAT = 1
# Labels fewer than this are too few to estimate m probabilities from: use EM instead.
MIN_LABELS = 30

PREPARED_COLUMNS = (
    "unique_id",
    "forename",
    "forename_classes",  # the forename's variant classes (keys.forename_class_list)
    "other_forenames",  # forenames of the record's aliases
    "surname",
    "surname_parts",  # the parts of a double-barrelled surname
    "other_surnames",  # previous surnames and aliases' surnames
    "surname_soundex",  # a blocking key
    "birth_date",  # ISO text: compared as text for one-digit typos
    "birth_date_swapped",  # day and month swapped, where that is a date
    "birth_days",  # days since 1970-01-01: for "within 7 days"
    "birth_year",
    "birth_month",  # year and month, "YYYY-MM": a blocking key
    "birth_day_month",  # "MM-DD": for "year one out", and a blocking key
    "sex",
    "postcode",
    "postcode_sector",  # "LS6 2": the outward code and the sector digit
    "postcode_district",
    "surname_initial",
    "forename_initial",
)


@dataclass(frozen=True)
class BlockingRule:
    """Candidate pairs: an equi-join on ``columns`` both records share, and crosswise on
    ``crosswise`` (each pair of columns, one record's first equal to the other's second,
    given both ways round so the rule is the same whichever record Splink puts on the
    left); ``recovers`` is the fault it is there for."""

    recovers: str
    columns: tuple[str, ...] = ()
    crosswise: tuple[tuple[str, str], ...] = ()

    @property
    def name(self) -> str:
        """The columns joined by ``+``, and a crosswise pair as ``a~b`` (its mirror, given
        for the rule's symmetry, is not repeated)."""
        swapped = {tuple(sorted(pair)) for pair in self.crosswise}
        return "+".join([*self.columns, *(f"{a}~{b}" for a, b in sorted(swapped))])

    def creator(self) -> BlockingRuleCreator:
        if not self.crosswise:
            return block_on(*self.columns)
        same = [f"l.{c} = r.{c}" for c in self.columns]
        return CustomRule(" AND ".join(same + [f"l.{a} = r.{b}" for a, b in self.crosswise]))


_SWAP = (("forename", "surname"), ("surname", "forename"))
_SWAP_INITIALS = (("forename_initial", "surname_initial"), ("surname_initial", "forename_initial"))

# Candidate pairs: each rule is an equi-join on keys every true pair shares unless the
# faults named in ``recovers`` are joined by others, and none is a cross product at
# national scale (pair counts: docs/adr/0004-linkage.md, docs/linkage-comparisons.md).
# The first four are the original rules; the others bring in faults they cannot see.
BLOCKING_RULES = (
    BlockingRule("forename faults (nickname, typo)", ("birth_date", "surname_initial")),
    BlockingRule("surname faults (change, typo, half dropped)", ("birth_date", "forename_initial")),
    BlockingRule("a forename fault with a day wrong in the month", ("surname", "birth_month")),
    BlockingRule("date of birth faults, names exact", ("forename", "surname")),
    BlockingRule(
        "forename and surname swapped, even with a nickname or typo in one",
        ("birth_date",),
        _SWAP_INITIALS,
    ),
    BlockingRule("forename and surname swapped, with a date of birth fault", (), _SWAP),
    BlockingRule(
        "a date of birth fault within the year (day and month swapped, days across a month "
        "end) with a surname typo or a nickname sharing the initial",
        ("surname_soundex", "forename_initial", "birth_year"),
    ),
    BlockingRule("the year of birth wrong, with a forename fault", ("surname", "birth_day_month")),
)

_log = logging.getLogger(__name__)


class EngineError(UserError, ValueError):
    """A linkage engine setting no backend can honour (the message says which)."""


class _DialectLevel(ComparisonLevelCreator):
    """A comparison level written once per SQL dialect: Splink's own level builders cover
    names and dates, but list functions differ between DuckDB and Spark SQL (and sqlglot's
    translation of them is not reliable), so each engine gets its SQL spelled out."""

    def __init__(self, sql: dict[str, str], label: str) -> None:
        self.sql = sql
        self.label = label

    def create_sql(self, sql_dialect: SplinkDialect) -> str:
        return self.sql[sql_dialect.sql_dialect_str]

    def create_label_for_charts(self) -> str:
        return self.label


def _either_contains(lists: str, value: str, label: str) -> _DialectLevel:
    """Either side's ``value`` among the other side's ``lists``."""
    return _DialectLevel(
        {
            DUCKDB: f"list_contains({lists}_l, {value}_r) OR list_contains({lists}_r, {value}_l)",
            SPARK: f"array_contains({lists}_l, {value}_r) OR array_contains({lists}_r, {value}_l)",
        },
        label,
    )


def _level(sql: str, label: str) -> ComparisonLevelCreator:
    """A level in SQL that DuckDB and Spark read alike (no translation)."""
    return cll.CustomLevel(sql, label_for_charts=label)


# A forename variant: the two forenames share a class of the variant table (Tom and Tommy,
# Ellie and Eleanor, Mohammed and Muhammad; data/forename_variants.csv).
_VARIANT = _DialectLevel(
    {
        DUCKDB: "list_has_any(forename_classes_l, forename_classes_r)",
        SPARK: "arrays_overlap(forename_classes_l, forename_classes_r)",
    },
    "nickname or other spelling",
)
# One part of a double-barrelled surname shared (one side at least has two parts).
_SURNAME_PART = _DialectLevel(
    {
        DUCKDB: "len(surname_parts_l) + len(surname_parts_r) > 2 "
        "AND list_has_any(surname_parts_l, surname_parts_r)",
        SPARK: "size(surname_parts_l) + size(surname_parts_r) > 2 "
        "AND arrays_overlap(surname_parts_l, surname_parts_r)",
    },
    "one part of a double-barrelled surname",
)
# Forename and surname written the other way round: each name is the other's, crosswise.
_SWAPPED_SQL = "forename_l = surname_r AND surname_l = forename_r"


def _two_edits(column: str) -> ComparisonLevelCreator:
    """Two letters different (Damerau-Levenshtein 2) between names of five letters or more.

    In place of a Jaro-Winkler threshold: DuckDB's ``jaro_winkler_similarity`` and the
    Spark jar's ``jaro_winkler`` compute the Jaro window differently (about 1% of name pairs
    score differently, and some cross any threshold), so a Jaro-Winkler level would score
    the same pair differently on the two engines. Damerau-Levenshtein agrees on both.
    """
    return cll.And(
        cll.DamerauLevenshteinLevel(column, 2),
        cll.CustomLevel(f"least(length({column}_l), length({column}_r)) >= 5"),
    ).configure(label_for_charts="two letters different")


# Each comparison's levels from the strongest down, as (the name a reviewer reads, the
# level); a null level ("missing") comes first and the last is "different" (else). Splink
# numbers them from len - 1 down to 0 (gamma), and -1 for missing.
Levels = list[tuple[str, ComparisonLevelCreator]]


def _forename_levels() -> Levels:
    return [
        ("same", cll.ExactMatchLevel("forename")),
        ("forename and surname swapped", _level(_SWAPPED_SQL, "names swapped")),
        ("nickname or other spelling", _VARIANT),
        ("an alias", _either_contains("other_forenames", "forename", "alias")),
        ("one letter different", cll.DamerauLevenshteinLevel("forename", 1)),
        ("two letters different", _two_edits("forename")),
        (
            "same first three letters",
            _level("substr(forename_l, 1, 3) = substr(forename_r, 1, 3)", "first three letters"),
        ),
        ("same initial", _level("forename_initial_l = forename_initial_r", "initial")),
    ]


def _surname_levels() -> Levels:
    return [
        ("same", cll.ExactMatchLevel("surname")),
        ("forename and surname swapped", _level(_SWAPPED_SQL, "names swapped")),
        (
            "a previous surname or alias",
            _either_contains("other_surnames", "surname", "previous surname or alias"),
        ),
        ("one letter different", cll.DamerauLevenshteinLevel("surname", 1)),
        ("one part shared", _SURNAME_PART),
        ("two letters different", _two_edits("surname")),
    ]


def _birth_date_levels() -> Levels:
    return [
        ("same", cll.ExactMatchLevel("birth_date")),
        (
            "day and month swapped",
            _level(
                "birth_date_swapped_l = birth_date_r OR birth_date_l = birth_date_swapped_r",
                "day and month swapped",
            ),
        ),
        # Days, not text: 30 September and 1 October are one day apart.
        ("within 7 days", _level("abs(birth_days_l - birth_days_r) <= 7", "within 7 days")),
        (
            "year one out",
            _level(
                "birth_day_month_l = birth_day_month_r AND abs(birth_year_l - birth_year_r) = 1",
                "year one out",
            ),
        ),
        ("one digit different", cll.DamerauLevenshteinLevel("birth_date", 1)),
    ]


def _sex_levels() -> Levels:
    return [("same", cll.ExactMatchLevel("sex"))]


def _postcode_levels() -> Levels:
    return [
        ("same", cll.ExactMatchLevel("postcode")),
        # A move within the sector (a few streets): families move house, records lag.
        ("same sector", cll.ExactMatchLevel("postcode_sector")),
        ("same district", cll.ExactMatchLevel("postcode_district")),
    ]


_COMPARISONS: dict[str, Callable[[], Levels]] = {
    "forename": _forename_levels,
    "surname": _surname_levels,
    "birth_date": _birth_date_levels,
    "sex": _sex_levels,
    "postcode": _postcode_levels,
}


def _comparison(name: str) -> cl.CustomComparison:
    levels = _COMPARISONS[name]()
    return cl.CustomComparison(
        output_column_name=name,
        comparison_levels=[
            cll.NullLevel(name),
            *(level for _label, level in levels),
            cll.ElseLevel(),
        ],
    )


def settings(with_postcode: bool) -> SettingsCreator:
    names = ["forename", "surname", "birth_date", "sex"] + (["postcode"] if with_postcode else [])
    return SettingsCreator(
        link_type="link_only",
        comparisons=[_comparison(name) for name in names],
        blocking_rules_to_generate_predictions=[rule.creator() for rule in BLOCKING_RULES],
        retain_matching_columns=True,
        retain_intermediate_calculation_columns=False,
    )


def _level_names(name: str) -> dict[int, str]:
    labels = [label for label, _level in _COMPARISONS[name]()]
    top = len(labels)
    out = {top - i: label for i, label in enumerate(labels)}
    return {**out, 0: "different", -1: "missing"}


# Each comparison's levels by gamma (the evidence shown to a reviewer), from the highest
# gamma down to the null level (-1).
COMPARISON_LEVELS: dict[str, dict[int, str]] = {name: _level_names(name) for name in _COMPARISONS}


@dataclass(frozen=True)
class TrainedModel:
    """A trained Splink model: its settings dictionary and how it was trained."""

    settings: dict[str, Any]
    trained_with: str  # "labels" (deterministic links as known matches) or "em"
    labels: int
    seed: int
    splink_version: str
    trained_at: str

    def to_json(self) -> str:
        return json.dumps(
            {
                "format": MODEL_FORMAT,
                "splink_version": self.splink_version,
                "trained_at": self.trained_at,
                "trained_with": self.trained_with,
                "labels": self.labels,
                "seed": self.seed,
                "settings": self.settings,
            },
            indent=2,
            sort_keys=True,
            default=str,
        )

    @property
    def comparisons(self) -> list[str]:
        return [c["output_column_name"] for c in self.settings["comparisons"]]

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(path.suffix + ".tmp")
        tmp.write_text(self.to_json() + "\n", encoding="utf-8")
        tmp.replace(path)

    @classmethod
    def load(cls, path: Path) -> TrainedModel:
        data = json.loads(path.read_text(encoding="utf-8"))
        return cls(
            settings=data["settings"],
            trained_with=data["trained_with"],
            labels=int(data["labels"]),
            seed=int(data["seed"]),
            splink_version=data["splink_version"],
            trained_at=data["trained_at"],
        )


@dataclass(frozen=True)
class SparkOptions:
    """Where Splink's Spark backend runs: a master URL (``local[2]``: this machine, two
    cores) and the partitions of each shuffle (a handful in local mode)."""

    master: str = "local[2]"
    shuffle_partitions: int = 4


def similarity_jar() -> str:
    """The path of Splink's jar of Spark similarity functions. Every Spark session cwsw starts
    carries it: the JVM is started once per process and a jar added to a later session is not
    loaded, so a marts build that started Spark without it would leave linkage in the same
    process unable to score pairs."""
    from splink.backends.spark import similarity_jar_location

    return str(similarity_jar_location())


def _spark_session(options: SparkOptions) -> tuple[Any, bool]:
    """The active Spark session, else a new one (small, UI off, Splink's similarity
    functions on the class path); and whether this engine created it (and so stops it)."""
    from pyspark.sql import SparkSession

    jar = similarity_jar()
    # The running session may be another thread's (getActiveSession is per thread), and
    # ``builder.getOrCreate`` would return it: look at the process's session too.
    active = SparkSession.getActiveSession() or SparkSession._instantiatedSession
    if active is not None:
        # The jars the driver started with (a session's own conf can name a jar that
        # ``builder.config`` set after the driver started, which loads nothing).
        if jar in (active.sparkContext.getConf().get("spark.jars", "") or ""):
            return active, False
        # A session started without Splink's similarity functions (a marts build's) cannot
        # score pairs, and a jar cannot be added to a running driver: start afresh.
        active.stop()
    partitions = str(options.shuffle_partitions)
    session = (
        SparkSession.builder.master(options.master)
        .appName("cwsw-linkage")
        .config("spark.jars", jar)
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.shuffle.partitions", partitions)
        .config("spark.default.parallelism", partitions)
        .config("spark.sql.adaptive.enabled", "true")
        .config("spark.sql.execution.arrow.pyspark.enabled", "true")
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    return session, True


class SplinkEngine:
    """Train a model on all records and score candidate pairs, on a private DuckDB
    (``engine="duckdb"``, the default) or on Spark (``engine="spark"``).

    Use it as a context manager, or call ``close``: a Spark session the engine started is
    stopped there (one it found running is left running).
    """

    def __init__(self, engine: str = DUCKDB, spark: SparkOptions | None = None) -> None:
        if engine not in ENGINES:
            raise EngineError(
                f"unknown linkage engine {engine!r} (CWSW_LINK_ENGINE): "
                f"use one of {', '.join(ENGINES)}"
            )
        self.engine = engine
        self._session: Any = None
        self._owns_session = False
        self._api: Any
        if engine == SPARK:
            from splink.backends.spark import SparkAPI

            self._session, self._owns_session = _spark_session(spark or SparkOptions())
            # Intermediate tables are cached in the executors' memory: no checkpoint
            # directory to configure, and nothing written outside the Spark session.
            self._api = SparkAPI(spark_session=self._session, break_lineage_method="persist")
        else:
            self._api = DuckDBAPI(":memory:")
        self._names = 0

    def __enter__(self) -> SplinkEngine:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def close(self) -> None:
        if self._owns_session and self._session is not None:
            self._session.stop()
        self._session = None
        self._owns_session = False

    def _register(self, table: pa.Table, kind: str) -> Any:
        self._names += 1
        return self._api.register(table, table_name=f"cwsw_{kind}_{self._names}")

    def _linker(self, children: pa.Table, pupils: pa.Table, model: dict[str, Any] | Any) -> Linker:
        left = self._register(children.select(PREPARED_COLUMNS), CHILDREN)
        right = self._register(pupils.select(PREPARED_COLUMNS), PUPILS)
        left.dataset_display_name = CHILDREN
        right.dataset_display_name = PUPILS
        return Linker([left, right], model, log_level=logging.WARNING)

    def train(
        self,
        children: pa.Table,
        pupils: pa.Table,
        labels: pa.Table,
        *,
        seed: int,
        prior: float,
        max_pairs: float = 1.2e6,  # Splink warns at its default of exactly 1e6
    ) -> TrainedModel:
        """Train on every record: u from a seeded random sample of pairs, m from the known
        matches in ``labels`` (columns ``child_id``, ``pupil_id``: the deterministic links),
        or by expectation maximisation where there are too few of them."""
        with_postcode = _has_values(children, "postcode") and _has_values(pupils, "postcode")
        linker = self._linker(children, pupils, settings(with_postcode))
        # The whole sample is counted in one pass per comparison, with no early stop once
        # each level has 100 pairs: which chunk comes first depends on the backend's hash
        # function, so an early stop would make u differ between DuckDB and Spark on the
        # same records (and on Spark every chunk is a job of its own, about a second each).
        linker.training.estimate_u_using_random_sampling(
            max_pairs=max_pairs, seed=seed, min_count_per_level=None, num_chunks=1
        )
        if labels.num_rows >= MIN_LABELS:
            label_table = pa.table(
                {
                    "source_dataset_l": pa.array([CHILDREN] * labels.num_rows, pa.string()),
                    "unique_id_l": labels.column("child_id"),
                    "source_dataset_r": pa.array([PUPILS] * labels.num_rows, pa.string()),
                    "unique_id_r": labels.column("pupil_id"),
                }
            )
            labelled = self._register(label_table, "labels")
            linker.training.estimate_m_from_pairwise_labels(labelled)
            trained_with = "labels"
        else:
            for rule in (block_on("birth_date"), block_on("surname", "forename")):
                linker.training.estimate_parameters_using_expectation_maximisation(
                    rule, estimate_without_term_frequencies=True
                )
            trained_with = "em"
        model = linker.misc.save_model_to_json()
        _smooth(model, {"m_probability": max(labels.num_rows, 1), "u_probability": max_pairs})
        model["probability_two_random_records_match"] = prior
        return TrainedModel(
            settings=model,
            trained_with=trained_with,
            labels=labels.num_rows,
            seed=seed,
            splink_version=splink.__version__,
            trained_at=dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat(),
        )

    def predict(
        self, model: TrainedModel, children: pa.Table, pupils: pa.Table, threshold: float
    ) -> pa.Table:
        """Scored candidate pairs at or above ``threshold`` match probability.

        Columns: ``child_id``, ``pupil_id``, ``match_weight``, ``match_probability`` and a
        ``gamma_<comparison>`` level per comparison.
        """
        gammas = [f"gamma_{name}" for name in model.comparisons]
        if children.num_rows == 0 or pupils.num_rows == 0:
            empty: dict[str, pa.Array] = {
                "child_id": pa.array([], pa.string()),
                "pupil_id": pa.array([], pa.string()),
                "match_weight": pa.array([], pa.float64()),
                "match_probability": pa.array([], pa.float64()),
            }
            empty.update({g: pa.array([], pa.int32()) for g in gammas})
            return pa.table(empty)
        linker = self._linker(children, pupils, dict(model.settings))
        scored = linker.inference.predict(
            threshold_match_probability=threshold, warning_mode="never"
        ).as_pyarrow_table()
        out = _child_and_pupil(scored)
        out.update(
            {
                "match_weight": scored["match_weight"].cast(pa.float64()),
                "match_probability": scored["match_probability"].cast(pa.float64()),
            }
        )
        out.update({g: scored[g].cast(pa.int32()) for g in gammas})
        return pa.table(out)

    def candidate_pairs(self, children: pa.Table, pupils: pa.Table) -> pa.Table:
        """Every pair the blocking rules generate, unscored: the first rule that generates
        it (``blocking_rule``, a ``BlockingRule.name``) and the level each comparison puts
        it in (``gamma_<comparison>``, named in ``COMPARISON_LEVELS``).

        Needs no trained model (levels and candidate pairs do not depend on m and u): it
        shows which pairs a run compares and how, for tests and for checking a change to
        the comparisons or the blocking rules.
        """
        with_postcode = _has_values(children, "postcode") and _has_values(pupils, "postcode")
        names = ["forename", "surname", "birth_date", "sex"] + (
            ["postcode"] if with_postcode else []
        )
        linker = self._linker(children, pupils, settings(with_postcode))
        pairs = linker.inference.predict(warning_mode="never").as_pyarrow_table()
        rule_names = pa.array([rule.name for rule in BLOCKING_RULES], pa.string())
        out = _child_and_pupil(pairs)
        out["blocking_rule"] = rule_names.take(pairs["match_key"].cast(pa.int32()))
        out.update({f"gamma_{n}": pairs[f"gamma_{n}"].cast(pa.int32()) for n in names})
        return pa.table(out)

    def count_pairs(self, children: pa.Table, pupils: pa.Table) -> dict[str, int]:
        """Candidate pairs each blocking rule adds to the rules before it (exact counts)."""
        from splink.blocking_analysis import count_comparisons_from_blocking_rules

        left = self._register(children.select(PREPARED_COLUMNS), CHILDREN)
        right = self._register(pupils.select(PREPARED_COLUMNS), PUPILS)
        left.dataset_display_name = CHILDREN
        right.dataset_display_name = PUPILS
        records = count_comparisons_from_blocking_rules(
            [left, right],
            blocking_rules=[rule.creator() for rule in BLOCKING_RULES],
            link_type="link_only",
            record_sample_proportion=1.0,
        )
        return {
            rule.name: int(record["marginal_comparison_count"])
            for rule, record in zip(BLOCKING_RULES, records, strict=True)
        }


def _child_and_pupil(pairs: pa.Table) -> dict[str, Any]:
    """The child's and the pupil's ID of each pair, whichever side Splink put them on."""
    left_is_child = pa.compute.equal(pairs.column("source_dataset_l"), CHILDREN)
    pick = pa.compute.if_else
    return {
        "child_id": pick(left_is_child, pairs["unique_id_l"], pairs["unique_id_r"]),
        "pupil_id": pick(left_is_child, pairs["unique_id_r"], pairs["unique_id_l"]),
    }


def _smooth(model: dict[str, Any], observations: dict[str, float]) -> None:
    """Add half an observation to every level of every comparison (a Jeffreys prior).

    A level no training pair fell into (a forename typo, where the known matches have none)
    otherwise gets Splink's placeholder or default value; with the half count it gets a small,
    explicit probability, and the model saved is the model used. A level seen neither among
    the known matches nor among the random pairs says nothing either way: its m and u are
    made equal (a Bayes factor of 1) rather than letting two half counts decide.
    """
    for comparison in model["comparisons"]:
        levels = [lv for lv in comparison["comparison_levels"] if not lv.get("is_null_level")]
        counts: dict[str, list[float]] = {}
        for key, n in observations.items():
            values = [level.get(key) for level in levels]
            counts[key] = [float(v) * n if isinstance(v, int | float) else 0.0 for v in values]
            total = sum(counts[key]) + 0.5 * len(levels)
            for level, count in zip(levels, counts[key], strict=True):
                level[key] = (count + 0.5) / total
        for i, level in enumerate(levels):
            if all(counts[key][i] == 0 for key in observations):
                level["u_probability"] = level["m_probability"]


def _has_values(table: pa.Table, column: str) -> bool:
    return table.num_rows > 0 and table.column(column).null_count < table.num_rows
