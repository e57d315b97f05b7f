"""Everything the writers need: the simulated LA and where its files go."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from cwsw.synth.dates import Calendar
from cwsw.synth.education import Education
from cwsw.synth.faults import FaultLog
from cwsw.synth.population import Children, Schools, StrArray
from cwsw.synth.social_care import SocialCare


@dataclass
class World:
    out: Path
    calendar: Calendar
    la_code: str
    schools: Schools
    children: Children
    social_care: SocialCare
    education: Education
    la_child_id: StrArray  # per child; "" when never known to social care
    known: list[int]  # children in at least one CIN census file, in LA child ID order
    faults: FaultLog
    files: list[str] = field(default_factory=list)  # relative paths written, in order

    def path(self, rel: str) -> Path:
        self.files.append(rel)
        p = self.out / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        return p
