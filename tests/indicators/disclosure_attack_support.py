"""Marts for the disclosure attack tests (issue 14): small LAs from pupil-level rows, the
issue's two attacks as a crafted mart, and a deliberately weak suppressor.

:func:`mart_from_pupils` aggregates pupil-level rows into the mart's columns
(:data:`cwsw.indicators.marts.MART_COLUMNS`) as :func:`cwsw.indicators.marts.build_marts`
does: one row per measure x cohort x breakdown value with members (an empty group has no
row), the year by every breakdown and the absence measures also by term (``total`` only).
:func:`random_la` draws a small LA of such rows from a seed.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from cwsw.indicators.marts import MART_COLUMNS
from cwsw.indicators.measures import BY_NAME

YEAR = "2024/25"
TERMS = ("autumn", "spring", "summer")
REFERENCE_DATE = dt.date(2025, 3, 31)
BUILT_AT = dt.datetime(2025, 9, 1, 12, 0, 0)
HEADLINE_PHASES = ("Primary", "Secondary", "Special")  # the absence population's schools
GROUPS = ("CLA 12 months", "CLA under 12 months", "CPPO", "CINO")
ALL_PUPILS, EVER_CIN, NOT_CIN = "All pupils", "Ever CIN last 6 years", "Not CIN in last 6 years"
# name -> (kind, complement of)
COHORTS = {
    ALL_PUPILS: ("all", ""),
    "CINO": ("at", ""),
    "CPPO": ("at", ""),
    "CLA 12 months": ("at", ""),
    EVER_CIN: ("ever", ""),
    NOT_CIN: ("not", EVER_CIN),
}
BREAKDOWNS = ("total", "school", "phase", "sen", "fsm", "fsm_sen", "social_care_group")
SEN_LABELS = {"N": "No SEN", "K": "SEN support", "E": "EHC plan"}


@dataclass(frozen=True)
class Pupil:
    """One pupil of a small LA: school, characteristics, group at 31 March and outcomes.

    ``sessions``: per census term, (possible, authorised, unauthorised) sessions of the
    pupil's one enrolment. ``ks2_maths`` / ``ks4_basics``: None if not at the end of the key
    stage this year, else whether the standard was met."""

    school: str
    phase: str
    fsm: bool = False
    sen: str = "N"
    group: str | None = None
    ever_cin: bool = False
    sessions: tuple[tuple[int, int, int], ...] = ()
    ks2_maths: bool | None = None
    ks4_basics: bool | None = None

    def cohorts(self) -> list[str]:
        ever = self.ever_cin or self.group is not None
        inside = [ALL_PUPILS, EVER_CIN if ever else NOT_CIN]
        return inside + ([self.group] if self.group in COHORTS else [])

    def label(self, breakdown: str) -> str:
        sen = self.sen in ("K", "E")
        return {
            "total": "All",
            "school": self.school,
            "phase": self.phase,
            "sen": SEN_LABELS[self.sen],
            "fsm": "FSM" if self.fsm else "Not FSM",
            "fsm_sen": (
                ("FSM and SEN" if sen else "FSM, no SEN")
                if self.fsm
                else ("SEN, not FSM" if sen else "Neither FSM nor SEN")
            ),
            "social_care_group": self.group or "Not in a group",
        }[breakdown]


# Each measure's numerator and denominator for one pupil (None: not in the population);
# for absence, for the parts of the year (term indexes) counted.
Figures = Callable[[Pupil, Sequence[int]], tuple[float, float] | None]


def _enrolment(pupil: Pupil, terms: Sequence[int]) -> tuple[int, int, int] | None:
    if pupil.phase not in HEADLINE_PHASES or not pupil.sessions:
        return None
    possible = sum(pupil.sessions[t][0] for t in terms)
    if possible <= 0:
        return None
    return (
        possible,
        sum(pupil.sessions[t][1] for t in terms),
        sum(pupil.sessions[t][2] for t in terms),
    )


def _absence(figure: Callable[[tuple[int, int, int]], tuple[float, float]]) -> Figures:
    def of(pupil: Pupil, terms: Sequence[int]) -> tuple[float, float] | None:
        sessions = _enrolment(pupil, terms)
        return None if sessions is None else figure(sessions)

    return of


def _pupils(figure: Callable[[Pupil], float]) -> Figures:
    return lambda pupil, _terms: (figure(pupil), 1.0)


def _met(flag: Callable[[Pupil], bool | None]) -> Figures:
    def of(pupil: Pupil, _terms: Sequence[int]) -> tuple[float, float] | None:
        met = flag(pupil)
        return None if met is None else (float(met), 1.0)

    return of


FIGURES: dict[str, Figures] = {
    "enrolments": _absence(lambda s: (1.0, 1.0)),
    "overall_absence": _absence(lambda s: (s[1] + s[2], s[0])),
    "authorised_absence": _absence(lambda s: (s[1], s[0])),
    "unauthorised_absence": _absence(lambda s: (s[2], s[0])),
    "persistent_absence": _absence(lambda s: (float((s[1] + s[2]) >= 0.1 * s[0]), 1.0)),
    "pupils": _pupils(lambda p: 1.0),
    "fsm": _pupils(lambda p: float(p.fsm)),
    "sen_support": _pupils(lambda p: float(p.sen == "K")),
    "ehc_plan": _pupils(lambda p: float(p.sen == "E")),
    "ks2_pupils": _met(lambda p: None if p.ks2_maths is None else True),
    "ks2_maths_expected": _met(lambda p: p.ks2_maths),
    "ks4_pupils": _met(lambda p: None if p.ks4_basics is None else True),
    "ks4_basics_94": _met(lambda p: p.ks4_basics),
}
ABSENCE = ("enrolments", "overall_absence", "authorised_absence", "unauthorised_absence")
DEFAULT_MEASURES = (
    *ABSENCE,
    "persistent_absence",
    "pupils",
    "fsm",
    "sen_support",
    "ks2_pupils",
    "ks2_maths_expected",
)


def mart_from_pupils(
    pupils: Sequence[Pupil],
    *,
    measures: Sequence[str] = DEFAULT_MEASURES,
    cohorts: Sequence[str] = tuple(COHORTS),
    breakdowns: Sequence[str] = BREAKDOWNS,
) -> pd.DataFrame:
    """The mart's rows (:data:`MART_COLUMNS`) of ``pupils``, as ``build_marts`` gives them."""
    rows = []
    periods: list[tuple[str, str, tuple[int, ...], Sequence[str]]] = [
        (YEAR, "year", (0, 1, 2), breakdowns)
    ]
    periods += [(f"{YEAR} {t} term", "term", (i,), ("total",)) for i, t in enumerate(TERMS)]
    for name in measures:
        measure = BY_NAME[name]
        figures = FIGURES[name]
        for period, period_type, terms, by in periods:
            if period_type == "term" and measure.population != "enrolments":
                continue
            sums: dict[tuple[str, str, str], list[float]] = defaultdict(lambda: [0.0, 0.0])
            for pupil in pupils:
                figure = figures(pupil, terms)
                if figure is None:
                    continue
                for cohort in pupil.cohorts():
                    if cohort not in cohorts:
                        continue
                    for breakdown in by:
                        cell = sums[(cohort, breakdown, pupil.label(breakdown))]
                        cell[0] += figure[0]
                        cell[1] += figure[1]
            for (cohort, breakdown, value), (numerator, denominator) in sorted(sums.items()):
                kind, complement = COHORTS[cohort]
                if measure.is_count:
                    shown: float | None = numerator
                else:
                    shown = measure.scale * numerator / denominator if denominator else None
                rows.append(
                    {
                        "academic_year": YEAR,
                        "period": period,
                        "period_type": period_type,
                        "reference_date": REFERENCE_DATE,
                        "population": measure.population,
                        "measure": name,
                        "cohort": cohort,
                        "cohort_kind": kind,
                        "complement_of": complement,
                        "breakdown": breakdown,
                        "breakdown_value": value,
                        "numerator": numerator,
                        "denominator": denominator,
                        "value": shown,
                        "numerator_quantity": measure.numerator,
                        "denominator_quantity": measure.denominator,
                        "definition_version": "synthetic",
                        "source_loads": "synthetic",
                        "built_at": BUILT_AT,
                    }
                )
    frame = pd.DataFrame(rows, columns=list(MART_COLUMNS))
    for column in ("numerator", "denominator", "value"):
        frame[column] = frame[column].astype("float64")
    return frame


def school_phases(pupils: Sequence[Pupil]) -> dict[str, str]:
    return {p.school: p.phase for p in pupils}


def random_la(seed: int, size: int, schools: int, in_care: float) -> list[Pupil]:
    """A small LA: ``size`` pupils in ``schools`` schools of two to four phases, about
    ``in_care`` of them in a social care group, with FSM, SEN, KS2 maths and three terms of
    sessions drawn from ``seed``."""
    rng = np.random.default_rng(seed)
    phases = ["Primary", "Secondary", "Special", "Alternative provision"]
    layout = [phases[0], phases[1]] + [phases[int(rng.integers(0, 4))] for _ in range(schools - 2)]
    pupils = []
    for _ in range(size):
        school = int(rng.integers(0, schools))
        phase = layout[school]
        group = GROUPS[int(rng.integers(0, 4))] if rng.random() < in_care else None
        sessions = []
        for _term in TERMS:
            possible = 0 if rng.random() < 0.1 else int(rng.integers(50, 140))
            missed = int(rng.binomial(possible, 0.03 + 0.25 * rng.random() ** 3))
            authorised = int(rng.binomial(missed, 0.7))
            sessions.append((possible, authorised, missed - authorised))
        ks2 = phase != "Secondary" and rng.random() < 0.3
        pupils.append(
            Pupil(
                school=f"99{school + 1:05d}",
                phase=phase,
                fsm=bool(rng.random() < 0.25 + 0.3 * (group is not None)),
                sen=str(rng.choice(["N", "K", "E"], p=[0.8, 0.14, 0.06])),
                group=group,
                ever_cin=bool(rng.random() < 0.08),
                sessions=tuple(sessions),
                ks2_maths=bool(rng.random() < 0.6) if ks2 else None,
            )
        )
    return pupils


# -- The issue's two attacks -----------------------------------------------------------------


def issue_attacks_pupils() -> list[Pupil]:
    """CINO pupils as issue 14 found them (phase schools: one each).

    (a) 32 at the end of KS2: Primary 28 (13 met maths: 46%), Special 3 (1 met) and AP 1 (0):
    the two small cells hold 4 together, and 44% of 32 less 46% of 28 is the 1 who met it.
    (b) 40 at the end of KS4: Secondary 36 (8 with grade 4 in English and maths: 22.2%),
    Special 2 and AP 2 (none): 20.0% of 40 less 22.2% of 36 leaves 0 of at most 5 in AP."""
    schools = {"Primary": "9990001", "Special": "9990002", "Alternative provision": "9990003"}
    schools["Secondary"] = "9990004"

    def pupil(phase: str, **outcome: bool) -> Pupil:
        return Pupil(schools[phase], phase, group="CINO", **outcome)  # type: ignore[arg-type]

    ks2 = [("Primary", 28, 13), ("Special", 3, 1), ("Alternative provision", 1, 0)]
    ks4 = [("Secondary", 36, 8), ("Special", 2, 0), ("Alternative provision", 2, 0)]
    pupils = []
    for phase, size, met in ks2:
        pupils += [pupil(phase, ks2_maths=i < met) for i in range(size)]
    for phase, size, met in ks4:
        pupils += [pupil(phase, ks4_basics=i < met) for i in range(size)]
    return pupils


def issue_attacks_mart() -> pd.DataFrame:
    return mart_from_pupils(
        issue_attacks_pupils(),
        measures=("ks2_pupils", "ks2_maths_expected", "ks4_pupils", "ks4_basics_94"),
        cohorts=("CINO",),
        breakdowns=("total", "phase"),
    )


# -- A deliberately weak suppressor ----------------------------------------------------------


def weakly_disclosed(mart: pd.DataFrame, *, threshold: int) -> pd.DataFrame:
    """The mart through a weak suppressor, in the columns the attacker reads.

    Primary suppression (a count of 1..threshold, and every rate on it); then, table by
    table (a measure x cohort x breakdown with its total), if exactly one cell is hidden,
    the smallest other cell too. It ignores margins shared between tables, rounding, and what
    the hidden cells of a margin add up to: the blind spots issue 14 found."""
    out = mart.reset_index(drop=True).copy()
    small = [
        any(
            counted and 0 < amount <= threshold
            for counted, amount in (
                (BY_NAME[m].numerator_is_count, n),
                (BY_NAME[m].denominator_is_count, d),
            )
        )
        for m, n, d in zip(out.measure, out.numerator, out.denominator, strict=True)
    ]
    # A rate of sessions goes with its cell's enrolments.
    cell = ["period", "cohort", "breakdown", "breakdown_value"]
    counts = out[out.measure == "enrolments"].set_index(cell)["numerator"].to_dict()
    hidden = [
        s or (BY_NAME[m].built_on is not None and 0 < counts.get(k, 0) <= threshold)
        for s, m, k in zip(small, out.measure, out[cell].itertuples(index=False), strict=True)
    ]
    table = ["period", "measure", "cohort"]
    for (_p, _m, _c), rows in out.groupby(table, sort=True):
        total = rows.index[rows.breakdown == "total"]
        for _breakdown, parts in rows[rows.breakdown != "total"].groupby("breakdown", sort=True):
            members = [*total, *parts.index]
            if sum(hidden[i] for i in members) != 1:
                continue
            shown = parts[[not hidden[i] for i in parts.index]]
            if len(shown):
                hidden[int(shown.sort_values(["denominator", "breakdown_value"]).index[0])] = True
            elif len(total):
                hidden[int(total[0])] = True
    zero = (out.denominator == 0) & np.array([not BY_NAME[m].is_count for m in out.measure])
    out["symbol"] = ["c" if h else "z" if z else None for h, z in zip(hidden, zero, strict=True)]
    for column in ("numerator", "denominator", "value"):
        out[column] = out[column].where(out.symbol.isna())
    return out
