""" "x times as likely" is for rates only: an average (Attainment 8, Progress 8) is compared
with all pupils by its difference in points, in the figure model, the export and the report.

Progress 8 is a score around zero (negative for most social care groups): a cohort's -1.20
against all pupils' -0.05 is not "24.0 times as likely". The expected figures are worked out
here from the disclosed values as shown (the export's CSV), not by the code under test.
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import TYPE_CHECKING, cast

import pandas as pd
import pytest
from lxml import html

from cwsw.domain.labels import cohort_label
from cwsw.indicators.export import export_marts, read_disclosed_export
from cwsw.indicators.figures import (
    TIMES_ALL_PUPILS,
    TIMES_AS_LIKELY,
    TIMES_NOT_CIN,
    DisclosedFigures,
    with_unit,
)
from cwsw.warehouse.connection import Warehouse

if TYPE_CHECKING:
    from pathlib import Path

    from tests.conftest import BuiltLA

THRESHOLD = 5
YEAR = "2024/25"
AVERAGES = ("ks4_progress8", "ks4_attainment8")


@pytest.fixture(scope="module")
def model(built_la: BuiltLA) -> DisclosedFigures:
    with Warehouse.open(built_la.warehouse_path, read_only=True) as warehouse:
        disclosed = read_disclosed_export(warehouse, threshold=THRESHOLD)
    assert disclosed is not None
    return DisclosedFigures(disclosed)


@pytest.fixture(scope="module")
def export(built_la: BuiltLA, tmp_path_factory: pytest.TempPathFactory) -> pd.DataFrame:
    out: Path = tmp_path_factory.mktemp("wording")
    with Warehouse.open(built_la.warehouse_path, read_only=True) as warehouse:
        export_marts(warehouse, out, threshold=THRESHOLD)
    return pd.read_csv(out / "marts.csv", dtype=str, keep_default_na=False)


def shown_cohort(export: pd.DataFrame, measure: str) -> str:
    """A cohort (not all pupils) whose figure for ``measure`` is shown, not withheld."""
    rows = export[
        (export.period == YEAR)
        & (export.measure == measure)
        & (export.breakdown == "total")
        & (export.symbol == "")
        & (export.cohort != "All pupils")
    ]
    assert len(rows), f"no cohort's {measure} is shown"
    return str(rows.cohort.iloc[0])


def shown_value(export: pd.DataFrame, measure: str, cohort: str) -> str:
    row = export[
        (export.period == YEAR)
        & (export.measure == measure)
        & (export.cohort == cohort)
        & (export.breakdown == "total")
    ]
    assert len(row) == 1
    return str(row.value.iloc[0])


@pytest.mark.parametrize("measure", AVERAGES)
def test_an_average_is_compared_by_its_difference_not_a_ratio(
    model: DisclosedFigures, export: pd.DataFrame, measure: str
) -> None:
    cohort = shown_cohort(export, measure)
    mine = shown_value(export, measure, cohort)
    everyone = shown_value(export, measure, "All pupils")
    want = Decimal(mine) - Decimal(everyone)  # as a reader works it out from the two figures
    places = len(mine.split(".")[1])
    compared = model.compared(YEAR, measure, cohort, TIMES_ALL_PUPILS)
    assert compared.text == f"{want:+.{places}f}"
    assert compared.unit == "points"
    assert with_unit(compared) == f"{want:+.{places}f} points"
    assert "times" not in with_unit(compared)
    # No ratio for it anywhere: "not applicable" in a "times as likely" column, and empty in
    # the export's ratio columns.
    for kind in (TIMES_ALL_PUPILS, TIMES_NOT_CIN):
        ratio = model.figure(YEAR, measure, cohort, kind=kind)
        assert ratio.text == "z" and ratio.unit != TIMES_AS_LIKELY
    rows = export[export.measure == measure]
    assert len(rows) > 10
    assert set(rows.times_all_pupils) == {""} and set(rows.times_not_cin) == {""}


def test_a_rate_keeps_its_times_as_likely(model: DisclosedFigures, export: pd.DataFrame) -> None:
    cohort = shown_cohort(export, "persistent_absence")
    mine = Decimal(shown_value(export, "persistent_absence", cohort))
    everyone = Decimal(shown_value(export, "persistent_absence", "All pupils"))
    compared = model.compared(YEAR, "persistent_absence", cohort, TIMES_ALL_PUPILS)
    assert compared.unit == TIMES_AS_LIKELY and compared.text.count(".") == 1
    # The ratio of the unrounded rates, to one place: within rounding of the shown ones'.
    assert abs(Decimal(compared.text) - mine / everyone) <= Decimal("0.06")
    assert with_unit(compared).endswith(" times as likely")


def test_the_report_says_progress_8_as_a_difference(
    built_la: BuiltLA, model: DisclosedFigures, export: pd.DataFrame
) -> None:
    page = built_la.report_path.read_text(encoding="utf-8")
    root = cast("html.HtmlElement", html.fromstring(page))
    # No table cell gives Progress 8 or Attainment 8 a ratio.
    for measure in AVERAGES:
        cells = cast("list[html.HtmlElement]", root.xpath(f"//td[@data-measure='{measure}']"))
        assert cells and {c.get("data-figure") for c in cells} == {"value"}
    text = " ".join(root.text_content().split())
    found = re.search(r"KS4 average Progress 8, difference from all pupils: (.*?)\.(?:\s|$)", text)
    assert found, "the report compares Progress 8 with all pupils"
    sentence = found[1]
    assert "times" not in sentence
    cohort = shown_cohort(export, "ks4_progress8")
    mine = shown_value(export, "ks4_progress8", cohort)
    want = Decimal(mine) - Decimal(shown_value(export, "ks4_progress8", "All pupils"))
    assert f"{cohort_label(cohort)} {want:+.2f} points" in sentence
    # A withheld figure's difference is withheld too (it would reveal it).
    assert "c (withheld)" in sentence
