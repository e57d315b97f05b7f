"""Every fault the synthetic LA injects into its CIN census that changes a value is reported,
one finding per fault, counted against its ``truth/faults.csv`` (which the reader never sees);
and a clean synthetic LA's returns have nothing to report."""

from __future__ import annotations

import csv
from collections import Counter
from pathlib import Path

from cwsw.formats.cin_census import read_cin_census
from cwsw.synth import generate

# The fault the synthetic LA writes, and the finding it must give. upn_missing (a UPN left out,
# with UPNunknown UN5) and upn_former (a former UPN written as the UPN) change no value the
# reader could know was changed.
FAULT_RULE = {
    "yesno_truefalse": "normalised_flag",
    "upn_lowercase": "normalised_upn",
    "upn_whitespace": "normalised_white_space",
    "upn_bad_check": "invalid_upn",
}


def _findings(folder: Path) -> Counter[tuple[str, str]]:
    found: Counter[tuple[str, str]] = Counter()
    for path in sorted((folder / "cin_census").glob("cin_census_*.xml")):
        found.update((f.rule, f.field) for f in read_cin_census(path).findings)
    return found


def test_every_injected_fault_that_changes_a_value_is_reported(tmp_path: Path) -> None:
    generate(tmp_path, seed=13, pupils=2000, faults="heavy")
    with (tmp_path / "truth" / "faults.csv").open(encoding="utf-8") as handle:
        truth = [row for row in csv.DictReader(handle) if row["file"].startswith("cin_census/")]
    expected = Counter(
        (FAULT_RULE[row["fault"]], row["field"]) for row in truth if row["fault"] in FAULT_RULE
    )
    assert set(expected) >= {("normalised_flag", "ReferralNFA"), ("normalised_upn", "UPN")}
    assert _findings(tmp_path) == expected


def test_a_clean_synthetic_la_has_nothing_to_report(tmp_path: Path) -> None:
    """Its codes, elements, years and reference dates are each year's schema's own."""
    generate(tmp_path, seed=5, pupils=2000, faults="none")
    assert _findings(tmp_path) == Counter()
