"""The linkage quality report: what matched how, what did not and why, who is left out.

Aggregates only (no names, dates of birth or UPNs), read from the tables a run wrote, so the
report can be printed again without linking again. Linkage bias is a known fairness risk, so
match rates are broken down by age, sex and ethnicity. Where a synthetic ``truth/`` folder is
given, precision, recall and F1 are measured against its ``child_pupil.csv``.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import pandas as pd

from cwsw.errors import UserError
from cwsw.linkage import review
from cwsw.linkage.probabilistic import BANDS
from cwsw.linkage.run import (
    CHILD_PUPIL_LINK,
    METHODS,
    OUTCOME_TABLE,
    RUN_TABLE,
)
from cwsw.warehouse.connection import Warehouse

AGE_BANDS = ((None, 4, "under 4"), (4, 11, "4 to 10"), (11, 16, "11 to 15"), (16, 19, "16 to 18"))


class NotLinked(UserError):
    """The warehouse has no linkage run yet."""


def age_band(age: object) -> str:
    if age is None or pd.isna(age):  # type: ignore[call-overload]
        return "unknown"
    value = int(age)  # type: ignore[call-overload]
    for low, high, label in AGE_BANDS:
        if (low is None or value >= low) and value < high:
            return label
    return "19 and over"


AGE_ORDER = [label for _low, _high, label in AGE_BANDS] + ["19 and over", "unknown"]


def _rates(outcome: pd.DataFrame, column: str) -> list[dict[str, Any]]:
    groups = list(outcome.groupby(column, sort=True))
    if column == "age_band":
        groups.sort(key=lambda group: AGE_ORDER.index(str(group[0])))
    return [
        {
            "group": str(name),
            "children": len(g),
            "linked": int((g.band == "match").sum()),
            "rate": round(float((g.band == "match").mean()), 4),
        }
        for name, g in groups
    ]


def read_truth(truth_dir: Path) -> set[tuple[str, str]]:
    """The true (LA child ID, UPN) pairs of children who are pupils, from ``child_pupil.csv``."""
    path = truth_dir / "child_pupil.csv"
    if not path.is_file():
        raise FileNotFoundError(f"{path} not found: --truth takes a synthetic LA's truth/ folder")
    with path.open(encoding="utf-8", newline="") as handle:
        return {
            (row["la_child_id"], row["upn"])
            for row in csv.DictReader(handle)
            if row.get("pupil_id") and row.get("upn")
        }


def accuracy(links: set[tuple[str, str]], truth: set[tuple[str, str]]) -> dict[str, Any]:
    true_positives = len(links & truth)
    precision = true_positives / len(links) if links else 1.0
    recall = true_positives / len(truth) if truth else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {
        "true_pairs": len(truth),
        "links": len(links),
        "true_positives": true_positives,
        "false_positives": len(links - truth),
        "false_negatives": len(truth - links),
        "precision": round(precision, 5),
        "recall": round(recall, 5),
        "f1": round(f1, 5),
    }


def build_report(
    warehouse: Warehouse, *, truth_dir: Path | None = None, decisions_path: Path | None = None
) -> dict[str, Any]:
    """The report as a dictionary (what ``cwsw link --json`` prints)."""
    con = warehouse.ibis
    if RUN_TABLE not in con.list_tables():
        raise NotLinked("no linkage has been run: run `cwsw link` first")
    outcome = con.table(OUTCOME_TABLE).execute()
    links = con.table(CHILD_PUPIL_LINK).execute()
    run = con.table(RUN_TABLE).execute()
    details = json.loads(run.details.iloc[0]) if len(run) else {}
    outcome["age_band"] = outcome.age.map(age_band)
    unmatched = outcome[outcome.band != "match"]
    decisions = details.get("decisions", {})
    overridden = decisions.get("identifier_claims_overridden", [])
    report: dict[str, Any] = {
        "reference_date": details.get("reference_date"),
        "children": len(outcome),
        "linked": len(links),
        "link_rate": round(len(links) / len(outcome), 4) if len(outcome) else None,
        "by_method": {m: int((links.match_method == m).sum()) for m in METHODS},
        "bands": {b: int((outcome.band == b).sum()) for b in BANDS},
        "unmatched_reasons": {
            str(k): int(v) for k, v in unmatched.reason.value_counts().sort_index().items()
        },
        "rates_by": {
            "age": _rates(outcome, "age_band"),
            "sex": _rates(outcome, "sex"),
            "ethnicity": _rates(outcome, "ethnicity"),
        },
        "thresholds": details.get("thresholds"),
        "model": details.get("model"),
        "probabilistic_inputs": details.get("probabilistic_inputs"),
        "candidate_pairs_by_blocking_rule": details.get("candidate_pairs_by_blocking_rule"),
        "decisions": {
            "accepted": decisions.get("accepted", 0),
            "rejected": decisions.get("rejected", 0),
            "accepted_not_applicable": decisions.get("accepted_not_applicable", 0),
            "identifier_claims_overridden": len(overridden),
        },
    }
    if decisions_path is not None and review.REVIEW_TABLE in con.list_tables():
        candidates = con.table(review.REVIEW_TABLE).execute().to_dict("records")
        report["review_queue"] = len(review.queue(candidates, decisions_path))
    if truth_dir is not None:
        truth = read_truth(truth_dir)
        pairs = set(zip(links.la_child_id, links.upn, strict=True))
        report["accuracy"] = accuracy(pairs, truth)
    return report
