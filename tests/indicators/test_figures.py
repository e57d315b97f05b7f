"""The one model of shown figures (:mod:`cwsw.indicators.figures`): DfE's rounding, symbols,
"times as likely", shares, changes, and the orders of cohorts, breakdown values and periods."""

from __future__ import annotations

import pandas as pd
import pytest

from cwsw.indicators import figures
from cwsw.indicators.figures import DisclosedFigures, Figure, Source


def _row(cohort: str, value: float | None, symbol: str | None = None, **more: object) -> dict:
    return {
        "academic_year": "2024/25",
        "period": "2024/25",
        "period_type": "year",
        "measure": "persistent_absence",
        "cohort": cohort,
        "breakdown": "total",
        "breakdown_value": "All",
        "value": value,
        "symbol": symbol,
        "times_all_pupils": None,
        "times_not_cin": None,
        **more,
    }


@pytest.fixture
def disclosed() -> DisclosedFigures:
    frame = pd.DataFrame(
        [
            _row("CINO", 46.0, times_all_pupils=2.25, times_not_cin=3.05),
            _row("CPPO", None, "c"),
            _row("All pupils", 20.45),
            _row("Not CIN in last 6 years", 15.0),
            _row("Mine (configured)", 30.0),
            {**_row("CINO", 120.0), "measure": "pupils"},
            {
                **_row("CINO", 30.0),
                "measure": "pupils",
                "breakdown": "fsm_sen",
                "breakdown_value": "FSM and SEN",
            },
            {
                **_row("CINO", None, "c"),
                "measure": "pupils",
                "breakdown": "fsm_sen",
                "breakdown_value": "FSM, no SEN",
            },
        ]
    )
    return DisclosedFigures(frame)


def test_numbers_are_rounded_half_away_from_zero_to_the_measures_places() -> None:
    source = Source("persistent_absence")
    assert Figure.shown(2.25, 1, "%", source).text == "2.3"
    assert Figure.shown(-0.905, 2, "average", source).text == "-0.91"
    assert Figure.shown(1234.0, 0, "count", source).text == "1,234"
    assert Figure.shown(1234.0, 0, "count", source).plain == "1234"
    assert figures.number_text(0.125, 2, grouped=False) == "0.13"


def test_figures_are_values_symbols_or_ratios(disclosed: DisclosedFigures) -> None:
    value = disclosed.figure("2024/25", "persistent_absence", "All pupils")
    assert (value.text, value.number, value.symbol, value.unit) == ("20.5", 20.5, None, "%")
    assert disclosed.figure("2024/25", "persistent_absence", "CPPO").text == "c"
    assert disclosed.figure("2024/25", "persistent_absence", "CLA 12 months").text == "x"
    times = disclosed.figure("2024/25", "persistent_absence", "CINO", kind=figures.TIMES_ALL_PUPILS)
    assert (times.text, times.unit) == ("2.3", "times as likely")
    itself = disclosed.figure(
        "2024/25", "persistent_absence", "All pupils", kind="times_all_pupils"
    )
    assert itself.text == "z"
    withheld = disclosed.figure("2024/25", "persistent_absence", "CPPO", kind="times_not_cin")
    assert withheld.text == "c"
    no_ratio = disclosed.figure("2024/25", "persistent_absence", "All pupils", kind="times_not_cin")
    assert no_ratio.text == "x"  # its comparator's ratio is not given


def test_a_share_comes_from_two_shown_counts(disclosed: DisclosedFigures) -> None:
    share = disclosed.share("2024/25", "pupils", "CINO", "fsm_sen", "FSM and SEN")
    assert (share.text, share.unit, share.source.kind) == ("25.0", "%", "share")
    assert disclosed.share("2024/25", "pupils", "CINO", "fsm_sen", "FSM, no SEN").text == "c"


def test_a_change_is_the_difference_of_the_figures_shown() -> None:
    now = Figure.shown(46.04, 1, "%", Source("persistent_absence", "CINO", "2024/25"))
    before = Figure.shown(44.36, 1, "%", Source("persistent_absence", "CINO", "2023/24"))
    change = figures.change(now, before)
    assert (change.text, change.unit, change.source.kind) == ("+1.6", "percentage points", "change")
    assert figures.change(before, now).text == "-1.6"
    assert figures.change(now, now).text == "0.0"
    withheld = Figure.withheld("c", "%", Source("persistent_absence", "CINO", "2023/24"))
    assert figures.change(now, withheld).text == "c"


def test_orders(disclosed: DisclosedFigures) -> None:
    assert disclosed.cohorts() == (
        "CINO",
        "CPPO",
        "Mine (configured)",
        "Not CIN in last 6 years",
        "All pupils",
    )
    values = ["Unknown", "EHC plan", "No SEN", "SEN support"]
    assert sorted(values, key=lambda v: figures.value_sort_key("sen", v)) == [
        "No SEN",
        "SEN support",
        "EHC plan",
        "Unknown",
    ]
    years = ["10", "R", "2", "1", "Unknown"]
    assert sorted(years, key=lambda v: figures.value_sort_key("nc_year", v)) == [
        "R",
        "1",
        "2",
        "10",
        "Unknown",
    ]
    periods = ["2024/25 summer term", "2024/25", "2023/24", "2024/25 autumn term"]
    assert sorted(periods, key=figures.period_sort_key) == [
        "2023/24",
        "2024/25",
        "2024/25 autumn term",
        "2024/25 summer term",
    ]
    assert figures.previous_period("2024/25 spring term") == "2023/24 spring term"
    assert figures.breakdown_phrase("sen") == "SEN provision"
    assert disclosed.value_label("nc_year", "7") == "Year 7"
