"""The faults real returns carry, injected at configurable rates and recorded as truth.

Rates are per opportunity (one UPN written, one ID written, one yes/no value, one CSV file...);
``FAULT_RATES`` is the one place they are set. Every injected fault becomes one row of
``truth/faults.csv``: file, location (XML line or CSV data row; 0 for the whole file), LA child
ID, field, fault, original value, written value.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from cwsw.domain.upn import CHECK_LETTERS
from cwsw.synth import codes

FAULT_TYPES = (
    "upn_missing",  # UPN dropped; the CIN census gets a UPNunknown code instead
    "upn_bad_check",  # wrong check letter
    "upn_former",  # the former UPN given instead of the current one (children with one)
    "upn_whitespace",  # leading / trailing spaces
    "upn_lowercase",
    "id_float",  # LA child ID as a spreadsheet float: 123456.0
    "name_typo",  # person extract: one letter of the surname changed or dropped
    "name_nickname",  # person extract: a nickname instead of the forename (where one exists)
    "dob_swapped",  # person extract: day and month swapped (where both are 12 or less)
    "bom",  # byte-order mark at the start of a CSV file
    "yesno_truefalse",  # CIN yes/no field written true/false instead of 1/0
)

FAULT_RATES: dict[str, dict[str, float]] = {
    "none": dict.fromkeys(FAULT_TYPES, 0.0),
    "default": {
        "upn_missing": 0.02,
        "upn_bad_check": 0.01,
        "upn_former": 0.2,
        "upn_whitespace": 0.01,
        "upn_lowercase": 0.01,
        "id_float": 0.02,
        "name_typo": 0.03,
        "name_nickname": 0.2,
        "dob_swapped": 0.02,
        "bom": 0.2,
        "yesno_truefalse": 0.03,
    },
    "heavy": {
        "upn_missing": 0.06,
        "upn_bad_check": 0.04,
        "upn_former": 0.5,
        "upn_whitespace": 0.04,
        "upn_lowercase": 0.04,
        "id_float": 0.10,
        "name_typo": 0.08,
        "name_nickname": 0.5,
        "dob_swapped": 0.06,
        "bom": 0.5,
        "yesno_truefalse": 0.15,
    },
}

FAULTS_HEADER = ("file", "location", "la_child_id", "field", "fault", "original", "written")


@dataclass
class FaultLog:
    rng: np.random.Generator
    rates: dict[str, float]
    rows: list[tuple[str, int, str, str, str, str, str]] = field(default_factory=list)

    def hit(self, fault: str) -> bool:
        """Draw whether this opportunity gets ``fault`` (a draw is made even at rate 0)."""
        return bool(self.rng.random() < self.rates[fault])

    def record(
        self,
        file: str,
        location: int,
        child: str,
        fld: str,
        fault: str,
        original: str,
        written: str,
    ) -> None:
        self.rows.append((file, location, child, fld, fault, original, written))

    def upn(
        self,
        file: str,
        location: int,
        child: str,
        fld: str,
        upn: str,
        former: str,
        missing: str = "",
    ) -> str | None:
        """The UPN to write, recording any fault (None: dropped; ``missing`` is then recorded)."""
        out: str | None = upn
        fault = ""
        if self.hit("upn_missing"):
            out, fault = None, "upn_missing"
        elif self.hit("upn_bad_check"):
            wrong = CHECK_LETTERS[
                (CHECK_LETTERS.index(upn[0]) + 1 + int(self.rng.integers(0, 22))) % 23
            ]
            out, fault = wrong + upn[1:], "upn_bad_check"
        elif former and self.hit("upn_former"):
            out, fault = former, "upn_former"
        elif self.hit("upn_whitespace"):
            out, fault = (" " + upn if self.rng.random() < 0.5 else upn + " "), "upn_whitespace"
        elif self.hit("upn_lowercase"):
            out, fault = upn.lower(), "upn_lowercase"
        if fault:
            self.record(file, location, child, fld, fault, upn, missing if out is None else out)
        return out

    def child_id(self, file: str, location: int, child: str, fld: str) -> str:
        if self.hit("id_float"):
            self.record(file, location, child, fld, "id_float", child, child + ".0")
            return child + ".0"
        return child

    def yesno(self, file: str, location: int, child: str, fld: str, value: bool) -> str:
        v = "1" if value else "0"
        if self.hit("yesno_truefalse"):
            w = "true" if value else "false"
            self.record(file, location, child, fld, "yesno_truefalse", v, w)
            return w
        return v

    def typo(self, name: str) -> str:
        i = int(self.rng.integers(1, len(name))) if len(name) > 1 else 0
        if self.rng.random() < 0.5:
            return name[:i] + name[i + 1 :]
        letters = "aeioulnrst"
        c = letters[int(self.rng.integers(0, len(letters)))]
        if c == name[i].lower():
            c = "y"
        return name[:i] + c + name[i + 1 :]

    @staticmethod
    def nickname(name: str) -> str | None:
        return codes.NICKNAMES.get(name)
