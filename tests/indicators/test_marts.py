"""The marts of the synthetic LA: every figure equals an independent calculation from the
generated files (tests/synth/synth_measures.py, no cwsw code), and what leaves is disclosed."""

from __future__ import annotations

import shutil
from collections import defaultdict
from pathlib import Path
from typing import TYPE_CHECKING, cast

import pandas as pd
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from cwsw import pipeline
from cwsw.cli import app
from cwsw.cohort.definitions import parse_cohorts, with_defaults
from cwsw.indicators import marts
from cwsw.indicators.export import EXPORT_COLUMNS
from cwsw.indicators.measures import BY_NAME, MEASURES
from cwsw.warehouse.connection import Warehouse
from tests.indicators.test_suppression import determined
from tests.synth.synth_measures import independent_marts

if TYPE_CHECKING:
    from tests.conftest import BuiltLA

THRESHOLD = 5


@pytest.fixture(scope="module")
def mart(built_la: BuiltLA) -> pd.DataFrame:
    with Warehouse.open(built_la.warehouse_path, read_only=True) as warehouse:
        return warehouse.ibis.table(marts.MART).execute()


@pytest.fixture(scope="module")
def expected(built_la: BuiltLA) -> dict[tuple[str, str, str, str, str], tuple[float, float]]:
    with Warehouse.open(built_la.warehouse_path, read_only=True) as warehouse:
        links = warehouse.ibis.table("child_pupil_link").execute()
    linked: dict[str, set[str]] = defaultdict(set)
    for upn, child in zip(links.upn, links.la_child_id, strict=True):
        linked[upn].add(child)
    return independent_marts(built_la.data_dir, linked)


def test_every_measure_cohort_breakdown_and_term_equals_the_independent_calculation(
    mart: pd.DataFrame, expected: dict[tuple[str, str, str, str, str], tuple[float, float]]
) -> None:
    got = {
        (r.period, r.cohort, r.breakdown, r.breakdown_value, r.measure): (
            r.numerator,
            r.denominator,
        )
        for r in mart.itertuples()
    }
    assert set(got) == set(expected)
    wrong = [
        (key, got[key], want)
        for key, want in expected.items()
        if got[key] != pytest.approx(want, abs=1e-6)
    ]
    assert not wrong, wrong[:10]
    # Every measure, breakdown and cohort is there, and the groups are big enough to mean it.
    assert set(mart.measure) == {m.name for m in MEASURES}
    assert set(mart.breakdown) == set(marts.breakdowns.BREAKDOWNS)
    assert {"2024/25", "2024/25 autumn term", "2024/25 spring term", "2024/25 summer term"} == set(
        mart.period
    )
    totals = mart[(mart.breakdown == "total") & (mart.measure == "pupils")].set_index("cohort")
    assert (totals.numerator > 20).all(), totals.numerator


def test_values_lineage_and_versions(mart: pd.DataFrame) -> None:
    for row in mart.sample(200, random_state=1).itertuples():
        # pandas-stubs types a row's fields as any scalar: these are strings and floats.
        name, version = cast(str, row.measure), cast(str, row.definition_version)
        measure = BY_NAME[name]
        assert row.value == pytest.approx(
            measure.value(cast(float, row.numerator), cast(float, row.denominator)), nan_ok=True
        )
        assert version.startswith(f"{row.measure}-{measure.version}+measures-")
        assert f"+{row.cohort}:" in version
    ks2 = mart[mart.population == "ks2"].source_loads.iloc[0]
    absence = mart[mart.population == "enrolments"].source_loads.iloc[0]
    assert "ks2_2025.csv" in ks2 and "ks2_2025.csv" not in absence
    assert "termlysessiondetails" in absence and "cin_census_2025.xml" in absence


def _components(unknown: set, relations: list) -> list[tuple[list, list]]:
    owner: dict = {}
    groups: list[tuple[set, list]] = []
    for relation in relations:
        members = {k for k in relation.members() if k in unknown}
        if not members:
            continue
        found = {owner[k] for k in members if k in owner}
        merged_keys, merged_relations = set(members), [relation]
        for index in found:
            keys, rels = groups[index]
            merged_keys |= keys
            merged_relations += rels
            groups[index] = (set(), [])
        groups.append((merged_keys, merged_relations))
        for k in merged_keys:
            owner[k] = len(groups) - 1
    return [(sorted(k, key=str), r) for k, r in groups if k]


SELECTIONS = {
    # the benchmark's like-for-like run: no FSM, no social care group, the year as one part
    "headline": (
        ("overall_absence", "persistent_absence", "one_plus_suspension"),
        ("total",),
        False,
    ),
    "fsm and groups": (
        ("fsm", "enrolments", "ks2_rwm_expected"),
        ("social_care_group", "fsm_sen"),
        True,
    ),
    "details by term": (("overall_absence", "severe_absence"), ("sex", "sen"), True),
}


@pytest.mark.parametrize("selection", SELECTIONS, ids=list(SELECTIONS))
def test_a_build_of_some_figures_is_the_full_builds_rows_for_them(
    built_la: BuiltLA, mart: pd.DataFrame, selection: str
) -> None:
    """What a restricted build leaves out (FSM flags, social care groups, pupil details,
    the terms) changes none of the figures it keeps."""
    chosen, names, by_term = SELECTIONS[selection]
    with Warehouse.open(built_la.warehouse_path, read_only=True) as warehouse:
        (reference,) = pipeline.reference_dates(warehouse)
        got = marts.build_marts(
            warehouse.ibis,
            reference,
            pipeline.source_loads(warehouse),
            with_defaults(()),
            [BY_NAME[m] for m in chosen],
            names,
            by_term=by_term,
        )
    # Terms are built for the total alone, whatever the year's breakdowns.
    of_year = mart.breakdown.isin(names) & (mart.period_type == marts.YEAR)
    of_terms = (mart.period_type == marts.TERM) & by_term
    wanted = mart[mart.measure.isin(chosen) & (of_year | of_terms)]
    assert len(got) == len(wanted) > 0
    key = ["period", "measure", "cohort", "breakdown", "breakdown_value"]

    def same(frame: pd.DataFrame) -> pd.DataFrame:
        columns = [c for c in marts.MART_COLUMNS if c != "built_at"]
        return frame[columns].sort_values(key, ignore_index=True).astype({"reference_date": str})

    pd.testing.assert_frame_equal(same(wanted), same(got), check_exact=True)


def test_the_columns_a_build_reads_are_found_from_its_expressions(built_la: BuiltLA) -> None:
    with Warehouse.open(built_la.warehouse_path, read_only=True) as warehouse:
        con = warehouse.ibis
        (reference,) = pipeline.reference_dates(warehouse)

        def reads(chosen: tuple[str, ...], names: tuple[str, ...]) -> set[str]:
            measures = [BY_NAME[m] for m in chosen]
            return marts.columns_read(con, reference.year, reference, measures, names)

        headline = reads(("overall_absence", "one_plus_suspension"), ("total",))
        assert {"authorised", "unauthorised", "sessions_possible", "suspensions"} <= headline
        assert not {"fsm", "fsm6", "social_care_group", "sex", "ethnicity"} & headline
        assert {"fsm"} <= reads(("overall_absence",), ("fsm_sen",))
        assert {"fsm6"} <= reads(("fsm6",), ("total",))
        assert "social_care_group" in reads(("pupils",), ("social_care_group",))
        assert "ethnicity" in reads(("ks4_attainment8",), ("ethnicity",))


def test_what_leaves_has_no_small_count_and_nothing_recoverable(mart: pd.DataFrame) -> None:
    shown = marts.disclosed_mart(mart, threshold=THRESHOLD)
    visible = shown[shown.symbol.isna()]
    counted = visible[[BY_NAME[m].denominator_is_count for m in visible.measure]]
    for column in ("denominator",):
        assert not ((counted[column] > 0) & (counted[column] <= THRESHOLD)).any()
    numerators = visible[[BY_NAME[m].numerator_is_count for m in visible.measure]]
    assert not ((numerators.numerator > 0) & (numerators.numerator <= THRESHOLD)).any()
    assert shown.suppressed.sum() > 0
    # Recovery: the mart's own additive relations, against what is visible.
    relations = marts.mart_relations(mart)
    keys = {
        side: marts.cell_keys(shown, f"{side}_quantity") for side in ("numerator", "denominator")
    }
    hidden = shown.symbol == "c"
    in_c = {k for side in keys for k, h in zip(keys[side], hidden, strict=True) if h}
    seen = {k for side in keys for k, h in zip(keys[side], shown.symbol.isna(), strict=True) if h}
    unknown = in_c - seen
    everything = set(keys["numerator"]) | set(keys["denominator"])
    known = dict.fromkeys(everything - unknown, 0.0)
    for relation in relations:
        assert sum(k in unknown for k in relation.members()) != 1, relation
    for members, touching in _components(unknown, relations):
        assert determined(members, touching, known) == []


def test_export_marts_writes_the_documented_columns(
    la_environment: BuiltLA, tmp_path: Path
) -> None:
    result = CliRunner().invoke(app, ["export", "marts", "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    csv = pd.read_csv(tmp_path / "marts.csv", dtype=str, keep_default_na=False)
    parquet = pq.read_table(tmp_path / "marts.parquet").to_pandas()
    assert list(csv.columns) == list(parquet.columns) == list(EXPORT_COLUMNS)
    documented = (Path(__file__).parents[2] / "docs" / "marts.md").read_text(encoding="utf-8")
    assert all(f"`{c}`" in documented for c in EXPORT_COLUMNS)
    assert len(csv) == len(parquet) > 1000
    suppressed = csv[csv.symbol == "c"]
    assert (suppressed.value == "c").all() and (suppressed.numerator == "c").all()
    counts = csv[(csv.unit == "count") & (csv.symbol == "")]
    assert not counts.value.astype(float).between(1, 5).any()
    assert parquet.value[parquet.suppressed].isna().all()
    # "x times as likely", from the disclosed figures only.
    pa = parquet[
        (parquet.measure == "persistent_absence")
        & (parquet.breakdown == "total")
        & (parquet.period_type == "year")
    ].set_index("cohort")
    assert pa.times_all_pupils["CPPO"] == pytest.approx(
        round(pa.value["CPPO"] / pa.value["All pupils"], 1)
    )
    assert pd.isna(pa.times_all_pupils["All pupils"])
    assert parquet.times_not_cin[parquet.suppressed].isna().all()


def test_build_with_cohorts_a_user_names(built_la: BuiltLA, tmp_path: Path) -> None:
    copy = tmp_path / "warehouse.duckdb"
    shutil.copy(built_la.warehouse_path, copy)
    specs = with_defaults(
        parse_cohorts(
            {
                "cohorts": {
                    "Ever CP last 3 years": {"kind": "ever", "status": "CP", "years": 3},
                    "CIN or CP, not looked after": {
                        "any_of": ["Ever CIN last 6 years", "Ever CP last 3 years"],
                        "exclude": ["CLA 12 months"],
                    },
                    "Open case": {"kind": "open", "status": "CIN"},
                }
            }
        )
    )
    with Warehouse.open(copy) as warehouse:
        pipeline.build(warehouse, cohorts=specs)
        mart = warehouse.ibis.table(marts.MART).execute()
    pupils = mart[(mart.measure == "pupils") & (mart.breakdown == "total")].set_index("cohort")
    n = pupils.numerator
    assert (
        n["CIN or CP, not looked after"] <= n["Ever CIN last 6 years"] + n["Ever CP last 3 years"]
    )
    assert n["Ever CP last 3 years"] > 0 and n["Open case"] > 0
    assert (
        "CIN or CP, not looked after:combine-1"
        in pupils.definition_version["CIN or CP, not looked after"]
    )


# -- Rates on few pupils (issue 5: DOMAIN.md §4, "and rates built on them") -------------------

ABSENCE_RATES = ("overall_absence", "authorised_absence", "unauthorised_absence")


def _enrolment_mart(cells: dict[tuple[str, str, str], int]) -> pd.DataFrame:
    """A year's mart of enrolment measures by hand: (cohort, breakdown, value) -> enrolments.

    Each enrolment has 300 possible sessions and misses 12 authorised and 6 unauthorised, so
    no session figure is small however few the pupils.
    """
    kinds = {"CLA 12 months": "at", "All pupils": "all"}
    chosen = [BY_NAME[m] for m in ("enrolments", *ABSENCE_RATES, "persistent_absence")]
    rows = []
    for (cohort, breakdown, value), n in cells.items():
        figures = {
            "enrolments": n,
            "sessions_possible": 300 * n,
            "sessions_authorised": 12 * n,
            "sessions_unauthorised": 6 * n,
            "sessions_missed": 18 * n,
            "enrolments_persistently_absent": n // 2,
        }
        for measure in chosen:
            numerator, denominator = figures[measure.numerator], figures[measure.denominator]
            rows.append(
                {
                    "academic_year": "2024/25",
                    "period": "2024/25",
                    "period_type": marts.YEAR,
                    "population": "enrolments",
                    "measure": measure.name,
                    "cohort": cohort,
                    "cohort_kind": kinds[cohort],
                    "complement_of": "",
                    "breakdown": breakdown,
                    "breakdown_value": value,
                    "numerator": float(numerator),
                    "denominator": float(denominator),
                    "value": measure.value(numerator, denominator),
                    "numerator_quantity": measure.numerator,
                    "denominator_quantity": measure.denominator,
                }
            )
    return pd.DataFrame(rows).reindex(columns=list(marts.MART_COLUMNS))


SMALL_AND_LARGE = {
    ("CLA 12 months", "total", "All"): 3,  # one looked-after pupil's rate must not show
    ("All pupils", "total", "All"): 400,
    ("All pupils", "sen", "No SEN"): 3,
    ("All pupils", "sen", "SEN support"): 200,
    ("All pupils", "sen", "EHC plan"): 197,
}


def _by_cell(shown: pd.DataFrame) -> dict[tuple[str, str, str, str], pd.Series]:
    return {(r.cohort, r.breakdown, r.breakdown_value, r.measure): r for _, r in shown.iterrows()}


def test_absence_rates_on_one_to_five_enrolments_are_withheld_from_aggregate_roles() -> None:
    mart = _enrolment_mart(SMALL_AND_LARGE)
    shown = _by_cell(marts.disclosed_mart(mart, threshold=THRESHOLD))
    for cell in (("CLA 12 months", "total", "All"), ("All pupils", "sen", "No SEN")):
        assert shown[(*cell, "enrolments")].symbol == "c"
        for measure in ABSENCE_RATES:
            row = shown[(*cell, measure)]
            assert row.symbol == "c" and row.suppressed, (cell, measure)
            assert pd.isna(row.value) and pd.isna(row.numerator) and pd.isna(row.denominator)
    # The large cohort's rates are shown, as computed: 18, 12 and 6 sessions in 300.
    for measure, percent in zip(ABSENCE_RATES, (6.0, 4.0, 2.0), strict=True):
        row = shown[("All pupils", "total", "All", measure)]
        assert pd.isna(row.symbol) and not row.suppressed
        assert row.value == pytest.approx(percent) and row.denominator == 300 * 400
    # Child-level roles see every figure as it is in the mart.
    unrestricted = marts.disclosed_mart(mart, threshold=THRESHOLD, unrestricted=True)
    assert unrestricted.symbol.isna().all()
    assert (unrestricted.value == mart.value).all()


def test_an_absence_rate_goes_with_its_secondarily_suppressed_enrolments() -> None:
    shown = marts.disclosed_mart(_enrolment_mart(SMALL_AND_LARGE), threshold=THRESHOLD)
    counts = shown[shown.measure == "enrolments"]
    original = _enrolment_mart(SMALL_AND_LARGE).set_index(["cohort", "breakdown_value", "measure"])
    # pandas-stubs types a row's fields as any scalar: these are strings.
    secondary = [
        cast("tuple[str, str, str]", (r.cohort, r.breakdown, r.breakdown_value))
        for r in counts.itertuples()
        if r.suppressed
        and original.numerator[
            cast("tuple[str, str, str]", (r.cohort, r.breakdown_value, r.measure))
        ]
        > 5
    ]
    # "No SEN" (3) would be 400 - 200 - 197: one of the other two must go with it.
    assert secondary and all(cell[1] == "sen" for cell in secondary)
    by_cell = _by_cell(shown)
    for cell in secondary:
        for measure in ABSENCE_RATES:
            assert by_cell[(*cell, measure)].symbol == "c", (cell, measure)


def test_every_rate_on_no_pupil_count_names_the_pupil_count_it_rests_on() -> None:
    counts = {m.numerator: m.population for m in MEASURES if m.is_count}
    on_no_count = [m for m in MEASURES if not (m.numerator_is_count or m.denominator_is_count)]
    assert {m.name for m in on_no_count} >= set(ABSENCE_RATES)
    for measure in on_no_count:
        assert measure.built_on is not None, measure.name
        assert counts.get(measure.built_on) == measure.population, measure.name
