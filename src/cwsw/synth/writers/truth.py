"""The answers: true child-pupil links, injected faults, pupils who left a school in the year
with no next school, and a manifest of every file.

Synthetic only; the pipeline never reads ``truth/``.
"""

from __future__ import annotations

import hashlib
import json

from cwsw.synth.dates import iso
from cwsw.synth.faults import FAULTS_HEADER
from cwsw.synth.world import World
from cwsw.synth.writers.csvio import write_csv


def pupil_id(child: int) -> str:
    return f"P{child:07d}"


NO_NEXT_SCHOOL_HEADER = ("la_child_id", "pupil_id", "upn", "laestab", "leaving_date")


def write(
    world: World, seed: int, pupils: int, level: str, no_next_school_rate: float = 0.0
) -> None:
    c = world.children
    enrolled = set(int(p) for p in world.education.enrolments.pupil)
    write_csv(
        world.out / "truth/child_pupil.csv",
        ("la_child_id", "pupil_id", "upn"),
        {
            "la_child_id": [str(world.la_child_id[ch]) for ch in world.known],
            "pupil_id": [pupil_id(ch) if ch in enrolled else "" for ch in world.known],
            "upn": [str(c.upn[ch]) for ch in world.known],
        },
    )
    rows = world.faults.rows
    write_csv(
        world.out / "truth/faults.csv",
        FAULTS_HEADER,
        {h: [str(r[i]) for r in rows] for i, h in enumerate(FAULTS_HEADER)},
    )
    _no_next_school(world)
    files = {rel: hashlib.sha256((world.out / rel).read_bytes()).hexdigest() for rel in world.files}
    manifest = {
        "seed": seed,
        "pupils": pupils,
        "end_year": world.calendar.end_year,
        "years": world.calendar.years,
        "la_code": world.la_code,
        "faults": level,
        "fault_rates": world.faults.rates,
        "no_next_school_rate": no_next_school_rate,
        "files": dict(sorted(files.items())),
    }
    (world.out / "truth/manifest.json").write_text(
        json.dumps(manifest, indent=2, sort_keys=True) + "\n", encoding="utf-8"
    )


def _no_next_school(world: World) -> None:
    """``truth/no_next_school.csv``: each pupil drawn to leave a school in the year and join no
    other, with the school and the leaving date the census records (ISO); ``la_child_id`` is
    blank for a pupil never known to social care. In pupil order."""
    en = world.education.enrolments
    rows = sorted((int(e) for e in world.education.no_next_school), key=lambda e: int(en.pupil[e]))
    children = [int(en.pupil[e]) for e in rows]
    write_csv(
        world.out / "truth/no_next_school.csv",
        NO_NEXT_SCHOOL_HEADER,
        {
            "la_child_id": [str(world.la_child_id[ch]) for ch in children],
            "pupil_id": [pupil_id(ch) for ch in children],
            "upn": [str(world.children.upn[ch]) for ch in children],
            "laestab": [str(world.schools.laestab[en.school[e]]) for e in rows],
            "leaving_date": [iso(int(en.leave[e])) for e in rows],
        },
    )
