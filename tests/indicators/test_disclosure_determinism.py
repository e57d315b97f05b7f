"""The same data, the same disclosed outputs: whatever Python's hash seed (issue 14).

Which cells secondary suppression hides once depended on the iteration order of sets of
string keys, so two runs of ``cwsw export marts`` hid different cells and, together, revealed
what each hid. Here the export and the VSH report (HTML, Excel, CSV, Parquet) are written in
fresh processes under different ``PYTHONHASHSEED`` values from one warehouse and compared
byte for byte. The report's one wall-clock field, its labelled generation time
(``VshReport.generated_at``), is fixed to the same value in every run; nothing else is
excluded (the Excel file's own dates follow that generation time).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.conftest import BuiltLA

HASH_SEEDS = ("0", "1", "2", "12345")
GENERATED_AT = "1 January 2027 09:00 UTC"
THRESHOLD = 5

# One process per seed: the export and the report, as `cwsw export marts` and
# `cwsw report` write them (the report's generation time fixed, as above).
SCRIPT = """
import dataclasses, sys
from pathlib import Path
from cwsw.indicators.export import export_marts
from cwsw.reports import vsh, writers
from cwsw.warehouse.connection import Warehouse

warehouse_path, out = Path(sys.argv[1]), Path(sys.argv[2])
threshold, generated = int(sys.argv[3]), sys.argv[4]
with Warehouse.open(warehouse_path, read_only=True) as warehouse:
    export_marts(warehouse, out / "export", threshold=threshold)
    report = vsh.read_report(warehouse, threshold=threshold, la_name="")
report = dataclasses.replace(report, generated_at=generated)
writers.write_report(report, out / "report", ("html", "xlsx", "csv", "parquet"))
"""


def _args(warehouse: Path, out: Path) -> list[str]:
    return [str(warehouse), str(out), str(THRESHOLD), GENERATED_AT]


def _run(seeds: tuple[str, ...], warehouse: Path, root: Path) -> None:
    """Two processes at a time (the suite shares two cores)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CWSW_")}
    for start in range(0, len(seeds), 2):
        running = [
            subprocess.Popen(
                [sys.executable, "-c", SCRIPT, *_args(warehouse, root / seed)],
                env={**env, "PYTHONHASHSEED": seed},
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for seed in seeds[start : start + 2]
        ]
        for process in running:
            _, err = process.communicate(timeout=300)
            assert process.returncode == 0, err


def _files(folder: Path) -> list[Path]:
    return sorted(p.relative_to(folder) for p in folder.rglob("*") if p.is_file())


def test_outputs_are_byte_identical_under_every_hash_seed(
    built_la: BuiltLA, tmp_path: Path
) -> None:
    _run(HASH_SEEDS, built_la.warehouse_path, tmp_path)
    first = tmp_path / HASH_SEEDS[0]
    files = _files(first)
    assert {p.parts[0] for p in files} == {"export", "report"}
    assert {p.suffix for p in files} >= {".csv", ".parquet", ".html", ".xlsx"}
    for seed in HASH_SEEDS[1:]:
        assert _files(tmp_path / seed) == files, seed
    differing = {
        seed: [
            str(p) for p in files if (tmp_path / seed / p).read_bytes() != (first / p).read_bytes()
        ]
        for seed in HASH_SEEDS[1:]
    }
    assert differing == {seed: [] for seed in HASH_SEEDS[1:]}, differing
