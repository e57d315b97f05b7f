"""Bad input: an empty person extract, all-null columns, no UPN column, names in mixed
scripts and with apostrophes and hyphens. Each has a clear behaviour."""

from __future__ import annotations

import csv
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import pyarrow as pa
import pytest

from cwsw.linkage import probabilistic
from cwsw.linkage.report import build_report, read_truth
from cwsw.linkage.run import NO_IDENTIFIERS
from cwsw.linkage.splink_engine import SplinkEngine, TrainedModel
from cwsw.warehouse import load
from cwsw.warehouse.connection import Warehouse
from tests.linkage.conftest import ingest_and_link

if TYPE_CHECKING:
    from tests.linkage.conftest import Linked


def _rewrite_person(data: Path, change: Callable[[list[str], list[list[str]]], tuple]) -> None:
    path = data / "person_extract.csv"
    with path.open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.reader(handle))
    header, body = change(rows[0], rows[1:])
    with path.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerows([header, *body])


def _report(path: Path, data: Path) -> dict:
    with Warehouse.open(path, read_only=True) as warehouse:
        return build_report(warehouse, truth_dir=data / "truth")


def test_an_empty_person_extract_links_on_identifiers_alone(
    copy_of_small_la: Callable[[], Path], tmp_path: Path
) -> None:
    data = copy_of_small_la()
    _rewrite_person(data, lambda header, rows: (header, []))
    report = _report(ingest_and_link(data, tmp_path), data)
    assert report["by_method"]["probabilistic"] == 0
    assert report["by_method"]["valid_upn_exact"] > 0
    assert report["accuracy"]["precision"] >= 0.995
    assert report["model"] is None  # nothing to train on: no names


def test_all_null_columns_are_no_names_not_a_failure(
    copy_of_small_la: Callable[[], Path], tmp_path: Path
) -> None:
    data = copy_of_small_la()
    _rewrite_person(
        data,
        lambda header, rows: (
            header,
            [[r[0]] + [""] * (len(header) - 1) for r in rows],
        ),
    )
    path = ingest_and_link(data, tmp_path)
    report = _report(path, data)
    assert report["by_method"]["probabilistic"] == 0
    assert report["accuracy"]["precision"] >= 0.995
    with Warehouse.open(path, read_only=True) as warehouse:
        outcome = warehouse.ibis.table("linkage_outcome").execute()
    no_ids = outcome[outcome.reason == NO_IDENTIFIERS]
    assert report["unmatched_reasons"].get(NO_IDENTIFIERS, 0) == len(no_ids)


def test_a_person_extract_without_a_upn_column_is_refused_by_name(
    copy_of_small_la: Callable[[], Path], tmp_path: Path
) -> None:
    data = copy_of_small_la()
    _rewrite_person(
        data,
        lambda header, rows: (
            [h for h in header if h != "upn"],
            [[v for h, v in zip(header, r, strict=True) if h != "upn"] for r in rows],
        ),
    )
    with Warehouse.open(tmp_path / "w.duckdb") as warehouse:
        results = load.ingest(warehouse, [data])
    person = [r for r in results if r.file.name == "person_extract.csv"]
    assert [r.status for r in person] == ["failed"]
    assert "upn" in str(person[0].message)
    # The other returns still load and link: the extract is left out, not guessed at.
    path = ingest_and_link(data, tmp_path / "again")
    report = _report(path, data)
    assert report["linked"] > 0 and report["accuracy"]["precision"] >= 0.995


def test_a_blank_upn_column_links_children_on_names(
    copy_of_small_la: Callable[[], Path], tmp_path: Path
) -> None:
    data = copy_of_small_la()
    column = {}

    def blank(header: list[str], rows: list[list[str]]) -> tuple:
        column["upn"] = header.index("upn")
        return header, [[("" if i == column["upn"] else v) for i, v in enumerate(r)] for r in rows]

    _rewrite_person(data, blank)
    path = ingest_and_link(data, tmp_path)
    report = _report(path, data)
    assert report["accuracy"]["precision"] >= 0.995
    assert report["accuracy"]["recall"] >= 0.98


def test_names_in_mixed_scripts_and_punctuation_run_through_the_pipeline(
    copy_of_small_la: Callable[[], Path], tmp_path: Path
) -> None:
    data = copy_of_small_la()
    odd = [
        "O'Brien",
        "Smith-Jones",
        "Zoë",
        "Иванова",
        "李",
        "ʻOkalani",
        "  ",
        "D'Arcy-Ó Súilleabháin",
    ]

    def names(header: list[str], rows: list[list[str]]) -> tuple:
        fore, sur = header.index("forename"), header.index("surname")
        for i, row in enumerate(rows):
            row[sur if i % 2 else fore] = odd[i % len(odd)]
        return header, rows

    _rewrite_person(data, names)
    report = _report(ingest_and_link(data, tmp_path), data)
    assert report["accuracy"]["precision"] >= 0.995
    assert report["accuracy"]["true_pairs"] == len(read_truth(data / "truth"))


@pytest.mark.parametrize(
    ("raw", "key"),
    [
        ("O'Brien", "obrien"),
        ("O’Brien", "obrien"),
        ("Zoë", "zoe"),
        ("SMITH-JONES", "smithjones"),
        ("Иванова", "иванова"),
        ("李", "李"),
        (" - ", None),
        (None, None),
    ],
)
def test_name_keys(raw: str | None, key: str | None) -> None:
    assert probabilistic.name_key(raw) == key


def test_name_parts() -> None:
    assert probabilistic.name_parts("Smith-Jones") == ["smith", "jones"]
    assert probabilistic.name_parts("D'Arcy  Ó Súilleabháin") == ["darcy", "o", "suilleabhain"]


def test_punctuation_and_scripts_with_the_trained_model(linked: Linked) -> None:
    """The comparisons on names that differ only in punctuation, accents or the part of a
    double-barrelled surname; a name in another script matches itself, not a transliteration."""
    import datetime as dt

    model = TrainedModel.load(linked.la.home / "linkage_model.json")
    born = dt.date(2014, 5, 20)

    def records(rows: list[tuple[str, str, str]]) -> pa.Table:
        return probabilistic.prepare(
            pa.table(
                {
                    "unique_id": [r[0] for r in rows],
                    "forename": [r[1] for r in rows],
                    "surname": [r[2] for r in rows],
                    "birth_date": pa.array([born] * len(rows), pa.date32()),
                    "sex": ["F"] * len(rows),
                    "postcode": pa.array([None] * len(rows), pa.string()),
                }
            )
        )

    children = records(
        [
            ("c1", "Siobhan", "O'Brien"),
            ("c2", "Amelia", "Smith-Jones"),
            ("c3", "Zoë", "Taylor"),
            ("c4", "Мария", "Иванова"),
        ]
    )
    pupils = records(
        [
            ("p1", "Siobhán", "OBrien"),
            ("p2", "Amelia", "Jones"),
            ("p3", "Zoe", "Taylor"),
            ("p4", "Мария", "Иванова"),
            ("p5", "Maria", "Ivanova"),
        ]
    )
    pairs = SplinkEngine().predict(model, children, pupils, 0.0).to_pandas()
    best = pairs.sort_values("match_weight", ascending=False).drop_duplicates("child_id")
    assert dict(zip(best.child_id, best.pupil_id, strict=True)) == {
        "c1": "p1",
        "c2": "p2",
        "c3": "p3",
        "c4": "p4",
    }
    latin = pairs[(pairs.child_id == "c4") & (pairs.pupil_id == "p5")]
    assert latin.empty or (latin.gamma_surname == 0).all()
