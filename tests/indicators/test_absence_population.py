"""DfE's absence population, to the last enrolment: the synthetic LA's absence marts against a
calculation written here from its raw school census files (csv only, none of cwsw's code).

DfE's definitions (docs/domain.md §4.1; DfE, "Pupil absence in schools in England",
methodology): enrolment based, over the six half terms (absence a term in arrears: the spring,
summer and autumn censuses of 2025 carry 2024/25), pupils aged 5 to 15 on 31 August 2024
(NC year = age - 4, from the date of birth, whatever the census records), leavers included,
state-funded primary, secondary and special schools, at least one possible session; overall,
authorised and unauthorised absence rates are sessions over possible sessions; persistent and
severe absence are enrolments missing 10% and 50% or more of their own possible sessions.

The synthetic LA has both kinds of enrolment a first-census-row NC year got wrong: leavers seen
only in a "no longer on roll" table (which has no NC year column in spring and summer), and
late joiners first seen on the autumn census's roll (whose NC year is the next year's).
Cohorts come from the social care files through the pipeline's stored links
(``tests/synth/synth_measures.SocialCareFiles``: linkage and cohorts are tested elsewhere).
"""

from __future__ import annotations

import csv
import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, cast

import pandas as pd
import pytest

from cwsw.indicators import marts
from cwsw.warehouse.connection import Warehouse
from tests.synth.synth_measures import SocialCareFiles

if TYPE_CHECKING:
    from tests.conftest import BuiltLA

END_YEAR = 2025
YEAR = "2024/25"
AGE_DAY = dt.date(END_YEAR - 1, 8, 31)  # ages are taken on 31 August before the year
CENSUSES = ("spring", "summer", "autumn")  # in academic order of the terms they carry
TERM_OF = {"spring": "autumn", "summer": "spring", "autumn": "summer"}
HEADLINE_PHASES = {"Primary", "Secondary", "Special"}
AUTHORISED = {"C", "C1", "C2", "E", "I", "M", "J1", "R", "S", "T", "H", "J"}
UNAUTHORISED = {"G", "N", "O", "U"}
CHECK_LETTERS = "ABCDEFGHJKLMNPQRTUVWXYZ"
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
# A child cohort of the default build, and the cohorts formed from the population.
CHILD_COHORTS = (
    "CINO",
    "CPPO",
    "CLA 12 months",
    "CIN at any point in the year",
    "Ever CIN last 6 years",
)
ABSENCE_MEASURES = (
    "enrolments",
    "overall_absence",
    "authorised_absence",
    "unauthorised_absence",
    "persistent_absence",
    "severe_absence",
)


def read(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as f:
        return list(csv.DictReader(f))


def census_date(text: str) -> dt.date | None:
    """The flattened census's ``2019-Sep-01 00:00:00``."""
    if not text.strip():
        return None
    year, month, day = text.split(" ")[0].split("-")
    return dt.date(int(year), MONTHS.index(month) + 1, int(day))


def valid_upn(text: str) -> str | None:
    """The UPN if its check letter is right (docs/domain.md §3.2), else None."""
    upn = text.strip().upper()
    if (
        len(upn) != 13
        or not upn[1:12].isdigit()
        or not (upn[12].isdigit() or upn[12] in CHECK_LETTERS)
    ):
        return None
    last = int(upn[12]) if upn[12].isdigit() else CHECK_LETTERS.index(upn[12])
    total = sum(int(c) * w for c, w in zip(upn[1:12], range(2, 13), strict=True)) + 13 * last
    return upn if CHECK_LETTERS[total % 23] == upn[0] else None


def nc_year_by_age(born: dt.date) -> int:
    """Age on 31 August before the year, less 4 (5 -> Year 1, 15 -> Year 11)."""
    age = AGE_DAY.year - born.year - ((born.month, born.day) > (AGE_DAY.month, AGE_DAY.day))
    return age - 4


@dataclass
class Enrolment:
    school: str
    upn: str | None = None
    born: dt.date | None = None
    seen: list[tuple[str, str]] = field(default_factory=list)  # (census, "on" / "off")
    possible: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    authorised: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    unauthorised: dict[str, int] = field(default_factory=lambda: defaultdict(int))


def enrolments_of(folder: Path) -> dict[tuple[str, str], Enrolment]:
    """Every enrolment on the year's three censuses, on roll or no longer on roll."""
    found: dict[tuple[str, str], Enrolment] = {}
    sc = folder / "school_census"
    for census in CENSUSES:
        for side, table in (("on", "pupilonroll"), ("off", "pupilnolongeronroll")):
            idcol = f"{table}tableid"
            for r in read(sc / f"{END_YEAR}_{census}_{table}.csv"):
                key = (r["NativeId"].strip(), r[idcol].strip())
                e = found.setdefault(key, Enrolment(key[0]))
                e.seen.append((census, side))
                e.upn = e.upn or valid_upn(r["upn"])
                e.born = e.born or census_date(r["dob"])
                for column in ("termlysessionspossible", "summerhalfterm2sessionspossible"):
                    if (r.get(column) or "").strip():
                        e.possible[census] += int(float(r[column]))
            prefixes = ("termly", "summerhalfterm2") if census == "autumn" else ("termly",)
            for prefix in prefixes:
                for r in read(sc / f"{END_YEAR}_{census}_{prefix}sessiondetails{side}roll.csv"):
                    key = (r["NativeId"].strip(), r[f"{table}tableid"].strip())
                    code = r["attendancereason"].strip().upper()
                    sessions = int(float(r["sessions"]))
                    if code in AUTHORISED:
                        found[key].authorised[census] += sessions
                    elif code in UNAUTHORISED:
                        found[key].unauthorised[census] += sessions
    return found


Figures = dict[tuple[str, str, str, str, str], tuple[float, float]]


def independent_absence(folder: Path, linked: dict[str, set[str]]) -> Figures:
    """Every absence figure: (period, cohort, breakdown, value, measure) -> (num, den)."""
    phase = {r["laestab"]: r["phase"] for r in read(folder / "establishments.csv")}
    child_cohorts, _groups = SocialCareFiles(folder).cohorts(dt.date(END_YEAR, 3, 31))

    def cohorts(upn: str | None) -> list[str]:
        children = linked.get(upn or "", set())
        named = [c for c in CHILD_COHORTS if children & child_cohorts[c]]
        ever = "Ever CIN last 6 years" in named
        return [*named, *([] if ever else ["Not CIN in last 6 years"]), "All pupils"]

    # period -> (enrolments, possible, authorised, unauthorised, persistent, severe)
    totals: dict[tuple[str, str, str, str], list[int]] = defaultdict(lambda: [0] * 6)
    for e in enrolments_of(folder).values():
        assert e.born is not None  # the synthetic census always has a date of birth
        nc = nc_year_by_age(e.born)
        if not 1 <= nc <= 11 or phase.get(e.school) not in HEADLINE_PHASES:
            continue
        periods = [(YEAR, CENSUSES), *((f"{YEAR} {TERM_OF[c]} term", (c,)) for c in CENSUSES)]
        for period, censuses in periods:
            possible = sum(e.possible[c] for c in censuses)
            if possible <= 0:
                continue
            auth = sum(e.authorised[c] for c in censuses)
            unauth = sum(e.unauthorised[c] for c in censuses)
            missed = auth + unauth
            parts = (1, possible, auth, unauth, missed * 10 >= possible, missed * 2 >= possible)
            labels = [("total", "All")]
            if period == YEAR:
                labels += [("phase", phase[e.school]), ("nc_year", str(nc))]
            for cohort in cohorts(e.upn):
                for breakdown, value in labels:
                    cell = totals[(period, cohort, breakdown, value)]
                    for i, part in enumerate(parts):
                        cell[i] += int(part)
    out: Figures = {}
    for key, (n, possible, auth, unauth, pa, sa) in totals.items():
        out[(*key, "enrolments")] = (n, n)
        out[(*key, "overall_absence")] = (auth + unauth, possible)
        out[(*key, "authorised_absence")] = (auth, possible)
        out[(*key, "unauthorised_absence")] = (unauth, possible)
        out[(*key, "persistent_absence")] = (pa, n)
        out[(*key, "severe_absence")] = (sa, n)
    return out


@pytest.fixture(scope="module")
def built(built_la: BuiltLA) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, set[str]]]:
    """The built LA's absence marts, its year's absence population, and its stored links."""
    with Warehouse.open(built_la.warehouse_path, read_only=True) as warehouse:
        con = warehouse.ibis
        mart = con.table(marts.MART).execute()
        population = marts.enrolment_population(con, END_YEAR, with_fsm=False).execute()
        links = con.table("child_pupil_link").execute()
    linked: dict[str, set[str]] = defaultdict(set)
    for upn, child in zip(links.upn, links.la_child_id, strict=True):
        linked[upn].add(child)
    return mart[mart.measure.isin(ABSENCE_MEASURES)], population, linked


def test_the_la_has_leavers_and_late_joiners(built_la: BuiltLA) -> None:
    """Enrolments only a "no longer on roll" table lists, and ones first on the autumn roll."""
    found = enrolments_of(built_la.data_dir).values()
    leavers = [e for e in found if {side for _, side in e.seen} == {"off"}]
    without_nc_year = [e for e in leavers if all(c != "autumn" for c, _ in e.seen)]
    late = [e for e in found if e.seen[0] == ("autumn", "on") and e.possible["autumn"] > 0]
    assert len(without_nc_year) > 20 and len(late) > 20, (len(without_nc_year), len(late))


def test_the_population_is_every_enrolment_dfe_counts(
    built_la: BuiltLA, built: tuple[pd.DataFrame, pd.DataFrame, dict[str, set[str]]]
) -> None:
    """The same enrolments, each in the same NC year (by age) and phase."""
    _mart, population, _links = built
    phase = {r["laestab"]: r["phase"] for r in read(built_la.data_dir / "establishments.csv")}
    want = set()
    for (school, enrolment), e in enrolments_of(built_la.data_dir).items():
        assert e.born is not None
        nc = nc_year_by_age(e.born)
        if 1 <= nc <= 11 and phase.get(school) in HEADLINE_PHASES and sum(e.possible.values()) > 0:
            want.add((school, enrolment, str(nc), phase[school]))
    got = set(
        zip(
            population.laestab,
            population.enrolment_id,
            population.nc_year.astype(str),
            population.phase,
            strict=True,
        )
    )
    assert len(got) == len(population)
    assert got == want, (sorted(got - want)[:5], sorted(want - got)[:5], len(got), len(want))


def test_every_absence_figure_equals_the_independent_calculation(
    built_la: BuiltLA, built: tuple[pd.DataFrame, pd.DataFrame, dict[str, set[str]]]
) -> None:
    """Every cohort, by phase and NC year for the year, and each term: all six measures'
    numerators and denominators (possible sessions, sessions missed, authorised and
    unauthorised sessions, enrolments, persistent and severe absentees) and values."""
    mart, _population, linked = built
    expected = independent_absence(built_la.data_dir, linked)
    chosen = mart[mart.breakdown.isin(["total", "phase", "nc_year"])]
    got = {
        (r.period, r.cohort, r.breakdown, r.breakdown_value, r.measure): (
            float(cast(float, r.numerator)),
            float(cast(float, r.denominator)),
        )
        for r in chosen.itertuples()
        # A cohort with no enrolment in a phase has no row; the calculation has none either.
    }
    wrong = sorted(
        (key, got.get(key), want)
        for key, want in expected.items()
        if got.get(key) != (float(want[0]), float(want[1]))
    )
    extra = sorted(set(got) - set(expected))
    assert not wrong and not extra, (len(wrong), wrong[:12], extra[:5])
    # Every cohort, phase, NC year and period is there, so the comparison covered them.
    periods = {k[0] for k in got}
    assert periods == {YEAR, *(f"{YEAR} {t} term" for t in ("autumn", "spring", "summer"))}
    assert {k[1] for k in got} >= {*CHILD_COHORTS, "Not CIN in last 6 years", "All pupils"}
    assert {k[3] for k in got if k[2] == "phase"} == HEADLINE_PHASES
    assert {k[3] for k in got if k[2] == "nc_year"} == {str(y) for y in range(1, 12)}
    # Values are 100 x numerator / denominator (the enrolment count its count).
    for r in chosen.itertuples():
        value, numerator, denominator = (
            cast(float, v) for v in (r.value, r.numerator, r.denominator)
        )
        if r.measure == "enrolments":
            assert value == numerator
        elif denominator:
            assert value == pytest.approx(100 * numerator / denominator, rel=1e-12)
