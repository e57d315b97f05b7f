"""The answers: true child-pupil links, injected faults, and a manifest of every file.

Synthetic only; the pipeline never reads ``truth/``.
"""

from __future__ import annotations

import hashlib
import json

from cwsw.synth.faults import FAULTS_HEADER
from cwsw.synth.world import World
from cwsw.synth.writers.csvio import write_csv


def pupil_id(child: int) -> str:
    return f"P{child:07d}"


def write(world: World, seed: int, pupils: int, level: str) -> None:
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
    files = {rel: hashlib.sha256((world.out / rel).read_bytes()).hexdigest() for rel in world.files}
    manifest = {
        "seed": seed,
        "pupils": pupils,
        "end_year": world.calendar.end_year,
        "years": world.calendar.years,
        "la_code": world.la_code,
        "faults": level,
        "fault_rates": world.faults.rates,
        "files": dict(sorted(files.items())),
    }
    (world.out / "truth/manifest.json").write_text(
        json.dumps(manifest, indent=2, sort_keys=True) + "\n", encoding="utf-8"
    )
