"""CSV output: columns in, bytes out, fast and byte-stable (``\\n`` endings, no quoting needed)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import numpy.typing as npt

Column = Sequence[str] | npt.NDArray[np.object_]


def write_csv(
    path: Path, header: Sequence[str], columns: Mapping[str, Column], bom: bool = False
) -> int:
    """Write ``columns`` under ``header`` (missing columns blank); returns the data row count.

    Values never contain commas, quotes or newlines (they are codes, dates, names and IDs we
    generate), so rows are joined directly: an order of magnitude faster than the csv module.
    """
    n = len(next(iter(columns.values()))) if columns else 0
    blank = [""] * n
    cols = [list(columns[h]) if h in columns else blank for h in header]
    for h, c in zip(header, cols, strict=True):
        if len(c) != n:
            raise ValueError(f"column {h} has {len(c)} values, expected {n}")
    lines = [",".join(header)]
    lines.extend(",".join(row) for row in zip(*cols, strict=True))
    text = "\n".join(lines) + "\n"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(("\ufeff" if bom else "").encode("utf-8") + text.encode("utf-8"))
    return n
