"""KS2 and KS4 attainment measures, on the results of the year (data contracts §2.1-2.2).

Sources: DfE, "Key stage 2 attainment" and "Key stage 4 performance" methodology, and the
"Outcomes for children in need" attainment tables (EES ``ks2_la`` / ``ks4_la`` columns).
"""

from __future__ import annotations

import ibis
from ibis.expr.types import Table

DEFINITION_VERSION = "attainment-1"

CHARACTERISTICS = ("nc_year", "sex", "ethnicity", "sen_provision", "fsm", "fsm6")
# Scores are totalled as decimals to 9 places (results files give two), exactly: a total of
# doubles depends on the order the rows are added in, which differs between DuckDB,
# PostgreSQL and Spark (Progress 8 totals differed in the last bit), and an exact total does not.
SCORE_TOTAL = ibis.dtype("decimal(38, 9)")


def _with_characteristics(results: Table, pupils: Table, establishment: Table) -> Table:
    """Results with the pupil's spring census characteristics (by UPN) and school phase."""
    # A census built without FSM (for figures that read none) has no fsm columns to bring.
    present = [c for c in CHARACTERISTICS if c != "nc_year" and c in pupils.columns]
    chars = pupils.filter(pupils.upn.notnull()).select(_char_upn="upn", **{c: c for c in present})
    phases = establishment.select(_phase_laestab="laestab", phase="phase").distinct()
    joined = results.left_join(chars, results.upn == chars._char_upn).drop("_char_upn")
    joined = joined.left_join(phases, joined.laestab == phases._phase_laestab).drop(
        "_phase_laestab"
    )
    flags = [c for c in ("fsm", "fsm6") if c in present]
    return joined.mutate(**{c: joined[c].fill_null(False) for c in flags})


def _results_of_year(
    results: Table,
    pupils: Table,
    establishment: Table,
    academic_year_end: int,
    columns: tuple[str, ...],
    nc_year: str,
) -> Table:
    year = results.filter(results.year == academic_year_end).select("upn", "laestab", *columns)
    joined = _with_characteristics(year, pupils, establishment)
    return joined.mutate(nc_year=ibis.literal(nc_year))


def ks2_pupils(
    ks2_result: Table, pupils: Table, establishment: Table, academic_year_end: int
) -> Table:
    """Pupils at the end of KS2 in the year, one row each, with their characteristics."""
    columns = ("ks2_read_exp", "ks2_writ_exp", "ks2_mat_exp", "ks2_rwm_exp")
    return _results_of_year(ks2_result, pupils, establishment, academic_year_end, columns, "6")


def ks4_pupils(
    ks4_result: Table, pupils: Table, establishment: Table, academic_year_end: int
) -> Table:
    """Pupils at the end of KS4 in the year, one row each, with their characteristics."""
    columns = ("att8", "p8score", "l2basics_94", "l2basics_95")
    return _results_of_year(ks4_result, pupils, establishment, academic_year_end, columns, "11")


def _met(results: Table, flag: ibis.ir.BooleanColumn) -> dict[str, ibis.Value]:
    return {"numerator": flag.fill_null(False).sum(), "denominator": results.count()}


def ks2_pupil_count(results: Table) -> dict[str, ibis.Value]:
    """Pupils at the end of KS2 (EES ``t_rwm_eligible_pupils``)."""
    n = results.count()
    return {"numerator": n, "denominator": n}


def ks2_rwm_expected(results: Table) -> dict[str, ibis.Value]:
    """KS2: % meeting the expected standard in reading, writing and maths.

    EES ``pt_rwm_met_expected_standard`` = ``t_rwm_met_expected_standard`` /
    ``t_rwm_eligible_pupils``, published as a whole percentage.
    """
    return _met(results, results.ks2_rwm_exp)


def ks2_reading_expected(results: Table) -> dict[str, ibis.Value]:
    """KS2: % meeting the expected standard in reading (``pt_read_met_expected_standard``)."""
    return _met(results, results.ks2_read_exp)


def ks2_writing_expected(results: Table) -> dict[str, ibis.Value]:
    """KS2: % meeting the expected standard in writing, teacher assessment
    (``pt_writta_met_expected_standard``)."""
    return _met(results, results.ks2_writ_exp)


def ks2_maths_expected(results: Table) -> dict[str, ibis.Value]:
    """KS2: % meeting the expected standard in maths (``pt_mat_met_expected_standard``)."""
    return _met(results, results.ks2_mat_exp)


def _score_total(scores: ibis.ir.NumericColumn) -> ibis.ir.NumericScalar:
    """The total of a score column, a missing score counting 0, summed exactly."""
    return scores.fill_null(0).cast(SCORE_TOTAL).sum()


def ks4_pupil_count(results: Table) -> dict[str, ibis.Value]:
    """Pupils at the end of KS4 (EES ``t_pupils``)."""
    n = results.count()
    return {"numerator": n, "denominator": n}


def ks4_attainment8(results: Table) -> dict[str, ibis.Value]:
    """KS4: average Attainment 8 score per pupil (EES ``avg_att8`` = ``t_att8`` / ``t_pupils``).

    Every pupil at the end of KS4 is in the base; a pupil with no score counts as 0, as a
    pupil with no qualifications does in DfE's figures.
    """
    return {"numerator": _score_total(results.att8), "denominator": results.count()}


def ks4_basics_94(results: Table) -> dict[str, ibis.Value]:
    """KS4: % achieving grade 4 or above in English and maths (``pt_l2basics_94``)."""
    return _met(results, results.l2basics_94)


def ks4_basics_95(results: Table) -> dict[str, ibis.Value]:
    """KS4: % achieving grade 5 or above in English and maths (``pt_l2basics_95``)."""
    return _met(results, results.l2basics_95)


def ks4_progress8(results: Table) -> dict[str, ibis.Value]:
    """KS4: average Progress 8 score, over pupils with a score (``avg_p8score`` =
    ``t_p8score`` / ``t_inp8calc``). Only where the results file gives ``p8score``."""
    has = results.p8score.notnull()
    return {
        "numerator": _score_total(results.p8score),
        "denominator": has.sum(),
    }
