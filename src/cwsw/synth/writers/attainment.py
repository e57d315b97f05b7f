"""KS2 and KS4 results (data-contracts §2.1–2.2) and the establishment list (§2.3)."""

from __future__ import annotations

import numpy as np

from cwsw.synth import calibration as cal
from cwsw.synth.world import World
from cwsw.synth.writers.csvio import write_csv

KS2_COLUMNS = (
    "upn", "laestab", "year", "ks2_read_exp", "ks2_writ_exp", "ks2_mat_exp", "ks2_rwm_exp",
)  # fmt: skip
KS4_COLUMNS = ("upn", "laestab", "year", "att8", "p8score", "l2basics_94", "l2basics_95")
ESTABLISHMENT_COLUMNS = ("laestab", "urn", "establishment_name", "phase")


def write_results(world: World) -> None:
    r = world.education.results
    y = str(world.calendar.end_year)
    c = world.children
    s = world.schools
    n2 = len(r.ks2_pupil)
    ks2 = [[str(v) for v in r.ks2[:, j]] for j in range(4)]
    write_csv(
        world.path(f"attainment/ks2_{y}.csv"),
        KS2_COLUMNS,
        {
            "upn": c.upn[r.ks2_pupil],
            "laestab": s.laestab[r.ks2_school],
            "year": [y] * n2,
            "ks2_read_exp": ks2[0],
            "ks2_writ_exp": ks2[1],
            "ks2_mat_exp": ks2[2],
            "ks2_rwm_exp": ks2[3],
        },
    )
    n4 = len(r.ks4_pupil)
    write_csv(
        world.path(f"attainment/ks4_{y}.csv"),
        KS4_COLUMNS,
        {
            "upn": c.upn[r.ks4_pupil],
            "laestab": s.laestab[r.ks4_school],
            "year": [y] * n4,
            "att8": [f"{v:.1f}" for v in r.att8],
            "p8score": ["" if np.isnan(v) else f"{v:.2f}" for v in r.p8],
            "l2basics_94": [str(v) for v in r.basics94],
            "l2basics_95": [str(v) for v in r.basics95],
        },
    )


def write_establishments(world: World) -> None:
    s = world.schools
    write_csv(
        world.path("establishments.csv"),
        ESTABLISHMENT_COLUMNS,
        {
            "laestab": s.laestab,
            "urn": s.urn,
            "establishment_name": s.name,
            "phase": [cal.PHASE_NAMES[p] for p in s.phase],
        },
    )
