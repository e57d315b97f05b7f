"""The one wrapper over Splink: every other module links records through ``SplinkEngine``.

Splink runs on its own in-memory DuckDB database (never the warehouse's connection), so its
scratch tables never land in the warehouse and a linkage that fails leaves the warehouse as it
was. The comparisons and blocking rules are defined here, once; ``probabilistic`` prepares the
records and decides what the scores mean.

Both inputs carry the same columns (``PREPARED_COLUMNS``): the two sides of a link-only job,
``children`` (the person extract) and ``pupils`` (the school census).
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
import splink
import splink.comparison_level_library as cll
import splink.comparison_library as cl
from splink import DuckDBAPI, Linker, SettingsCreator, block_on

CHILDREN = "children"
PUPILS = "pupils"
MODEL_FORMAT = 1
# Labels fewer than this are too few to estimate m probabilities from: use EM instead.
MIN_LABELS = 30

PREPARED_COLUMNS = (
    "unique_id",
    "forename",
    "forename_variants",  # the forename's nicknames, or the full names it is a nickname of
    "surname",
    "surname_parts",  # the parts of a double-barrelled surname
    "birth_date",  # ISO text: compared as text for one-digit typos
    "birth_date_swapped",  # day and month swapped, where that is a date
    "birth_year",
    "sex",
    "postcode",
    "postcode_district",
    "surname_initial",
    "forename_initial",
)

# Candidate pairs: each rule is an equi-join on columns that every true pair shares unless
# two faults hit the same record, so no rule is a cross product at national scale (see
# docs/adr/0004-linkage.md for pair counts).
BLOCKING_RULES = (
    ("birth_date", "surname_initial"),
    ("birth_date", "forename_initial"),
    ("surname", "birth_year"),
    ("forename", "surname"),
)

_log = logging.getLogger(__name__)


def _forename() -> cl.CustomComparison:
    return cl.CustomComparison(
        output_column_name="forename",
        comparison_levels=[
            cll.NullLevel("forename"),
            cll.ExactMatchLevel("forename"),
            cll.CustomLevel(
                "list_contains(forename_variants_l, forename_r) "
                "OR list_contains(forename_variants_r, forename_l)",
                label_for_charts="nickname",
            ),
            cll.DamerauLevenshteinLevel("forename", 1),
            cll.JaroWinklerLevel("forename", 0.88),
            cll.ElseLevel(),
        ],
    )


def _surname() -> cl.CustomComparison:
    return cl.CustomComparison(
        output_column_name="surname",
        comparison_levels=[
            cll.NullLevel("surname"),
            cll.ExactMatchLevel("surname"),
            cll.DamerauLevenshteinLevel("surname", 1),
            cll.CustomLevel(
                "len(surname_parts_l) + len(surname_parts_r) > 2 "
                "AND list_has_any(surname_parts_l, surname_parts_r)",
                label_for_charts="one part of a double-barrelled surname",
            ),
            cll.JaroWinklerLevel("surname", 0.88),
            cll.ElseLevel(),
        ],
    )


def _birth_date() -> cl.CustomComparison:
    return cl.CustomComparison(
        output_column_name="birth_date",
        comparison_levels=[
            cll.NullLevel("birth_date"),
            cll.ExactMatchLevel("birth_date"),
            cll.CustomLevel(
                "birth_date_swapped_l = birth_date_r OR birth_date_l = birth_date_swapped_r",
                label_for_charts="day and month swapped",
            ),
            cll.DamerauLevenshteinLevel("birth_date", 1),
            cll.CustomLevel("birth_year_l = birth_year_r", label_for_charts="same year"),
            cll.ElseLevel(),
        ],
    )


def _sex() -> cl.CustomComparison:
    return cl.CustomComparison(
        output_column_name="sex",
        comparison_levels=[cll.NullLevel("sex"), cll.ExactMatchLevel("sex"), cll.ElseLevel()],
    )


def _postcode() -> cl.CustomComparison:
    return cl.CustomComparison(
        output_column_name="postcode",
        comparison_levels=[
            cll.NullLevel("postcode"),
            cll.ExactMatchLevel("postcode"),
            cll.ExactMatchLevel("postcode_district"),
            cll.ElseLevel(),
        ],
    )


def settings(with_postcode: bool) -> SettingsCreator:
    comparisons: list[Any] = [_forename(), _surname(), _birth_date(), _sex()]
    if with_postcode:
        comparisons.append(_postcode())
    return SettingsCreator(
        link_type="link_only",
        comparisons=comparisons,
        blocking_rules_to_generate_predictions=[block_on(*rule) for rule in BLOCKING_RULES],
        retain_matching_columns=True,
        retain_intermediate_calculation_columns=False,
    )


# The comparisons in the order the settings list them, and their levels' names (for the
# evidence shown to a reviewer), from the highest gamma down to the null level (-1).
COMPARISON_LEVELS: dict[str, dict[int, str]] = {
    "forename": {
        4: "same",
        3: "nickname",
        2: "one letter different",
        1: "similar",
        0: "different",
        -1: "missing",
    },
    "surname": {
        4: "same",
        3: "one letter different",
        2: "one part shared",
        1: "similar",
        0: "different",
        -1: "missing",
    },
    "birth_date": {
        4: "same",
        3: "day and month swapped",
        2: "one digit different",
        1: "same year",
        0: "different",
        -1: "missing",
    },
    "sex": {1: "same", 0: "different", -1: "missing"},
    "postcode": {2: "same", 1: "same district", 0: "different", -1: "missing"},
}


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


class SplinkEngine:
    """Train a model on all records and score candidate pairs, on a private DuckDB."""

    def __init__(self) -> None:
        self._api = DuckDBAPI(":memory:")
        self._names = 0

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
        max_pairs: float = 2e6,
    ) -> TrainedModel:
        """Train on every record: u from a seeded random sample of pairs, m from the known
        matches in ``labels`` (columns ``child_id``, ``pupil_id``: the deterministic links),
        or by expectation maximisation where there are too few of them."""
        with_postcode = _has_values(children, "postcode") and _has_values(pupils, "postcode")
        linker = self._linker(children, pupils, settings(with_postcode))
        linker.training.estimate_u_using_random_sampling(max_pairs=max_pairs, seed=seed)
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
        left_is_child = pa.compute.equal(scored.column("source_dataset_l"), CHILDREN)
        pick = pa.compute.if_else
        out = {
            "child_id": pick(left_is_child, scored["unique_id_l"], scored["unique_id_r"]),
            "pupil_id": pick(left_is_child, scored["unique_id_r"], scored["unique_id_l"]),
            "match_weight": scored["match_weight"].cast(pa.float64()),
            "match_probability": scored["match_probability"].cast(pa.float64()),
        }
        out.update({g: scored[g].cast(pa.int32()) for g in gammas})
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
            blocking_rules=[block_on(*rule) for rule in BLOCKING_RULES],
            link_type="link_only",
            record_sample_proportion=1.0,
        )
        return {
            "+".join(rule): int(record["marginal_comparison_count"])
            for rule, record in zip(BLOCKING_RULES, records, strict=True)
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
