"""DfE's published files: every percentage and average reproduced from its published counts.

Acceptance (issue 5): for every row of absence_la.csv, ks2_la.csv and ks4_la.csv where both
the counts and the figure are given, the product's measure and rounding functions give the
published figure. DfE computes from unrounded counts and rounds some published counts (the
national and regional totals) to the nearest 10, so a figure whose count is a multiple of 10
is reproduced within the range that count stands for; every other one exactly.
"""

from __future__ import annotations

from collections import Counter
from decimal import Decimal
from pathlib import Path
from typing import Any, cast

import pandas as pd
import pytest

from cwsw.indicators import benchmarks
from cwsw.indicators.benchmarks import Reproduction, check_published, read_figure
from cwsw.indicators.measures import BY_NAME, MEASURES

FILES = ("absence_la.csv", "ks2_la.csv", "ks4_la.csv")


def _figures(row: Any) -> tuple[str, Decimal | None, Decimal | None, Decimal | None]:
    """A published row's measure name, numerator, denominator and value: pandas-stubs types
    an ``itertuples()`` field as any scalar, but ``published_measures`` gives a name and
    Decimals (or None where a symbol stands)."""
    return (
        cast(str, row.measure),
        cast("Decimal | None", row.numerator),
        cast("Decimal | None", row.denominator),
        cast("Decimal | None", row.value),
    )


@pytest.fixture(scope="module")
def published(fixtures_dir: Path) -> dict[str, pd.DataFrame]:
    return {f: benchmarks.published_measures(fixtures_dir / "dfe-outcomes" / f) for f in FILES}


@pytest.mark.parametrize("file", FILES)
def test_every_published_figure_is_reproduced_from_its_counts(
    published: dict[str, pd.DataFrame], file: str
) -> None:
    frame = published[file]
    outcomes: Counter[tuple[str, Reproduction]] = Counter()
    mismatches = []
    for row in frame.itertuples():
        name, numerator, denominator, value = _figures(row)
        outcome = check_published(BY_NAME[name], numerator, denominator, value)
        outcomes[(name, outcome)] += 1
        if outcome is Reproduction.MISMATCH:
            mismatches.append((row.academic_year, row.la_name, row.cohort, row.measure))
    assert not mismatches, mismatches[:10]
    measured = {m.name for m in MEASURES if m.ees and m.ees.file == file}
    for measure in measured:
        exact = outcomes[(measure, Reproduction.EXACT)]
        banded = outcomes[(measure, Reproduction.WITHIN_COUNT_ROUNDING)]
        # Most rows carry exact (LA) counts; only rounded totals may need the band.
        assert exact > 600 and banded < exact / 4, (measure, exact, banded)


def test_the_figures_reproduced(published: dict[str, pd.DataFrame]) -> None:
    """The totals the acceptance asks for, stated (and kept from shrinking unnoticed)."""
    given = {
        file: sum(
            check_published(BY_NAME[name], numerator, denominator, value)
            is not Reproduction.NOT_GIVEN
            for name, numerator, denominator, value in map(_figures, frame.itertuples())
        )
        for file, frame in published.items()
    }
    assert given == {"absence_la.csv": 51869, "ks2_la.csv": 6981, "ks4_la.csv": 8053}


def test_a_figure_one_unit_out_is_caught(published: dict[str, pd.DataFrame]) -> None:
    """The check is not vacuous: nudging a figure whose counts are exact (not multiples of
    10, so not rounded) by one published unit fails it."""
    caught = total = 0
    for frame in published.values():
        for row in frame.head(3000).itertuples():
            name, numerator, denominator, value = _figures(row)
            measure = BY_NAME[name]
            if numerator is None or denominator is None or value is None:
                continue
            if numerator % 10 == 0 or denominator % 10 == 0:
                continue
            nudged = value + Decimal(1).scaleb(-measure.places)
            total += 1
            caught += check_published(measure, numerator, denominator, nudged) is (
                Reproduction.MISMATCH
            )
    assert total > 1000 and caught == total


def test_the_national_cino_row_for_2024_25(published: dict[str, pd.DataFrame]) -> None:
    # ../shared/fixtures/README.md: 120,250 pupils, 42,464,140 possible sessions, 7,397,200
    # missed: overall 17.4%, persistent 46.0%, severe 11.3%.
    frame = published["absence_la.csv"]
    row = frame[
        (frame.academic_year == "2024/25")
        & (frame.geographic_level == "National")
        & (frame.cohort == "CINO")
        & (frame.breakdown_value == "All")
    ].set_index("measure")
    overall = BY_NAME["overall_absence"]
    assert overall.published(
        row.numerator["overall_absence"], row.denominator["overall_absence"]
    ) == Decimal("17.4")
    assert row.value["persistent_absence"] == Decimal("46")
    assert row.value["severe_absence"] == Decimal("11.3")


def test_dfe_rounding_is_exact_decimal_half_away_from_zero() -> None:
    # -10.86 / 12 = -0.905 exactly; binary floating point gives -0.90499999...
    assert BY_NAME["ks4_progress8"].published(Decimal("-10.86"), Decimal("12")) == Decimal("-0.91")
    assert BY_NAME["overall_absence"].published(1, 8) == Decimal("12.5")
    assert BY_NAME["ks2_rwm_expected"].published(1, 8) == Decimal("13")


@pytest.mark.parametrize(
    ("text", "value", "symbol"),
    [
        ("17.4", Decimal("17.4"), None),
        ("c", None, "c"),
        ("x", None, "x"),
        ("z", None, "z"),
        ("k", None, "k"),
        ("low", None, "low"),
        ("", None, "x"),
        (" 1,234 ", Decimal(1234), None),
    ],
)
def test_symbols_are_kept_as_symbols(text: str, value: Decimal | None, symbol: str | None) -> None:
    figure = read_figure(text)
    assert (figure.value, figure.symbol) == (value, symbol)


def test_statistical_neighbours_both_groupings(fixtures_dir: Path) -> None:
    folder = fixtures_dir / "dfe-outcomes"
    new = benchmarks.statistical_neighbours(folder / "sn_model_2025_wide.csv")
    old = benchmarks.statistical_neighbours(
        folder / "New_Statistical_Neighbour_Groupings_April_2021.csv"
    )
    for frame, model in ((new, "2025"), (old, "2021")):
        assert set(frame.model) == {model}
        per_la = frame.groupby("la_code")["rank"].apply(list)
        assert all(ranks == list(range(1, 11)) for ranks in per_la)
    assert new.la_code.nunique() == 153 and old.la_code.nunique() == 156
    camden = old[old.la_code == "202"].set_index("rank")
    assert (camden.neighbour_code[1], camden.closeness[1]) == ("213", "Very Close")


def test_an_la_beside_england_its_region_and_neighbours(
    published: dict[str, pd.DataFrame], fixtures_dir: Path
) -> None:
    neighbours = benchmarks.statistical_neighbours(
        fixtures_dir / "dfe-outcomes" / "sn_model_2025_wide.csv"
    )
    frame = published["absence_la.csv"]
    table = benchmarks.comparators(frame, "800", neighbours, "2025")
    row = table[
        (table.academic_year == "2024/25")
        & (table.cohort == "CINO")
        & (table.breakdown_value == "All")
        & (table.measure == "overall_absence")
    ].iloc[0]
    assert row.england == Decimal("17.4")
    # The region's own published row, and the mean of the ten neighbours' published figures.
    la = frame[
        (frame.la_code == "800")
        & (frame.academic_year == "2024/25")
        & (frame.cohort == "CINO")
        & (frame.breakdown_value == "All")
        & (frame.measure == "overall_absence")
    ].iloc[0]
    region = frame[
        (frame.geographic_level == "Regional")
        & (frame.region_code == la.region_code)
        & (frame.academic_year == "2024/25")
        & (frame.cohort == "CINO")
        & (frame.breakdown_value == "All")
        & (frame.measure == "overall_absence")
    ]
    assert row.region == region.value.iloc[0]
    codes = set(
        neighbours[(neighbours.model == "2025") & (neighbours.la_code == "800")].neighbour_code
    )
    theirs = frame[
        frame.la_code.isin(codes)
        & (frame.academic_year == "2024/25")
        & (frame.cohort == "CINO")
        & (frame.breakdown_value == "All")
        & (frame.measure == "overall_absence")
    ].value
    values = [v for v in theirs if v is not None]
    assert row.neighbours_with_figure == len(values) == 10
    assert row.statistical_neighbours == BY_NAME["overall_absence"].published(
        sum(values), len(values) * 100
    )
    with pytest.raises(ValueError, match="model"):
        benchmarks.comparators(frame, "800", neighbours, "2019")


def test_times_as_likely() -> None:
    assert benchmarks.times_as_likely(Decimal("46.0"), Decimal("18.0")) == Decimal("2.6")
    assert benchmarks.times_as_likely(3, 0) is None


def test_a_file_that_is_not_ees_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "other.csv"
    path.write_text("a,b\n1,2\n", encoding="utf-8")
    with pytest.raises(benchmarks.BenchmarkFileError, match="not an EES file"):
        benchmarks.read_ees(path)
    with pytest.raises(benchmarks.BenchmarkFileError, match="statistical neighbour"):
        benchmarks.statistical_neighbours(path)
