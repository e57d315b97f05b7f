"""``generate``: one synthetic local authority, deterministic in its seed."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from cwsw.synth import education, population, social_care
from cwsw.synth.dates import Calendar
from cwsw.synth.faults import FAULT_RATES, FaultLog
from cwsw.synth.world import World
from cwsw.synth.writers import attainment, cin_census, person, school_census, ssda903, truth

# One random stream per concern, so a change in one leaves the others' draws alone.
_STREAMS = {
    "schools": 1,
    "children": 2,
    "social_care": 3,
    "education": 4,
    "ids": 5,
    "faults": 6,
    "census_ids": 7,
    "no_next_school": 8,
}


@dataclass
class SynthSummary:
    out: Path
    seed: int
    faults: str
    schools: int
    children: int
    pupils_on_roll: int  # spring census
    children_known: int  # in at least one CIN census
    cin_episodes: int
    care_episodes: int
    faults_injected: int
    files: list[str] = field(default_factory=list)
    left_no_next_school: int = 0  # pupils who left a school in the year and joined none


def _rng(seed: int, stream: str) -> np.random.Generator:
    return np.random.default_rng([seed, _STREAMS[stream]])


def generate(
    out: Path,
    *,
    seed: int = 42,
    pupils: int = 30_000,
    faults: str = "default",
    end_year: int = 2025,
    years: int = 6,
    no_next_school_rate: float = education.DEFAULT_NO_NEXT_SCHOOL_RATE,
    progress: Callable[[str, float], None] | None = None,
) -> SynthSummary:
    """Write a synthetic LA's folder (docs/data-contracts.md §1) to ``out``.

    ``faults`` is ``none``, ``default`` or ``heavy`` (rates in ``cwsw.synth.faults``).
    ``no_next_school_rate`` is the share of pupils on roll who leave a school during the year
    and join no other (listed in ``truth/no_next_school.csv``).
    ``progress`` is called with a step name and the fraction done.
    """
    if faults not in FAULT_RATES:
        raise ValueError(f"faults must be one of {sorted(FAULT_RATES)}, got {faults!r}")
    if pupils < 100:
        raise ValueError(f"pupils must be at least 100, got {pupils}")
    if not 0.0 <= no_next_school_rate <= 1.0:
        raise ValueError(f"no_next_school_rate must be 0 to 1, got {no_next_school_rate}")
    if not 2017 <= end_year - years + 1 <= end_year <= 2026:
        raise ValueError("collection years must lie within 2017..2026 (the XSDs we follow)")

    def step(name: str, frac: float) -> None:
        if progress is not None:
            progress(name, frac)

    out = Path(out)
    for sub in ("cin_census", "ssda903", "school_census", "attainment", "truth"):
        if (out / sub).exists():
            shutil.rmtree(out / sub)  # stale files from another run would break the manifest
    out.mkdir(parents=True, exist_ok=True)
    calendar = Calendar(end_year=end_year, years=years)
    step("population", 0.0)
    schools = population.make_schools(_rng(seed, "schools"), pupils)
    children = population.make_children(_rng(seed, "children"), calendar, schools, pupils)
    step("social care", 0.1)
    sc = social_care.simulate(_rng(seed, "social_care"), calendar, children)
    step("education", 0.3)
    edu = education.build(
        _rng(seed, "education"),
        calendar,
        children,
        schools,
        sc,
        no_next_school_rate=no_next_school_rate,
        no_next_school_rng=_rng(seed, "no_next_school"),
    )

    # Children known: in at least one CIN census file of the collection years.
    ep = sc.episodes
    first = calendar.year_start(calendar.collection_years[0])
    shown = (ep.referral <= calendar.reference_date) & (ep.closure >= first)
    known_idx = np.unique(ep.child[shown])
    ids = _rng(seed, "ids").choice(
        np.arange(100_000, 1_000_000), size=len(known_idx), replace=False
    )
    la_child_id = np.full(len(children), "", dtype=object)
    la_child_id[known_idx] = [str(v) for v in ids]
    known = sorted((int(k) for k in known_idx), key=lambda k: str(la_child_id[k]))
    world = World(
        out=out,
        calendar=calendar,
        la_code=population.LA_CODE,
        schools=schools,
        children=children,
        social_care=sc,
        education=edu,
        la_child_id=la_child_id,
        known=known,
        faults=FaultLog(_rng(seed, "faults"), dict(FAULT_RATES[faults])),
    )
    step("establishments", 0.4)
    attainment.write_establishments(world)
    step("CIN census", 0.45)
    cin_census.write_all(world)
    step("SSDA903", 0.6)
    ssda903.write_all(world)
    step("person extract", 0.65)
    person.write(world)
    step("school census", 0.7)
    school_census.write_all(world, _rng(seed, "census_ids"))
    step("attainment", 0.9)
    attainment.write_results(world)
    step("truth", 0.95)
    truth.write(world, seed, pupils, faults, no_next_school_rate)
    step("done", 1.0)
    spring = calendar.census_days["spring"]
    en = edu.enrolments
    return SynthSummary(
        out=out,
        seed=seed,
        faults=faults,
        schools=len(schools),
        children=len(children),
        pupils_on_roll=int(((en.entry <= spring) & (en.leave > spring)).sum()),
        children_known=len(known),
        cin_episodes=int(shown.sum()),
        care_episodes=len(sc.care.child),
        faults_injected=len(world.faults.rows),
        files=list(world.files),
        left_no_next_school=len(edu.no_next_school),
    )
