"""Which walk reads each ``Child`` of a CIN census: the compiled one or the Python reference.

The compiled walk (``cwsw.formats._cin_walk``, Cython, built in place by ``make env`` or
``make extensions`` with ``tools/build_extensions.py``) builds exactly the raw rows that
``reader._Reader._child`` builds, from the same ``spec``, and turns them into columns in C
(docs/adr/0003-cin-census-reading-at-national-scale.md). Where it is not built, or built
against another lxml, the reader walks in Python: the same rows, slower.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from cwsw.formats.cin_census.spec import (
    CHILD_LEAVES,
    EPISODE_GROUP,
    EPISODE_LEAVES,
    ITEM_KEYS,
    ITEMS,
    MODULES,
    SHARED_LEAF,
)
from cwsw.formats.common import Row, child_id
from cwsw.settings import get_settings

# CWSW_CIN_WALK=python reads with ``_Reader._child`` even where the compiled walk is built.
WALK_VARIABLE = "CWSW_CIN_WALK"
# The key of the walks' raw rows under which each trimmed text is noted: (its row, its leaf,
# the text as written), for the reader to report (the compiled walk uses the same literal).
PADDED = "_padded"


def walk_in_use() -> str:
    """Which walk reads each child: "compiled" (``_cin_walk``, built by ``make env``) or
    "python" (``_Reader._child``: the reference, and the fallback where it is not built)."""
    return "python" if compiled_walker() is None else "compiled"


def compiled_walker() -> Any:
    """The compiled walk over ``spec``, or None for the Python walk."""
    if get_settings().cin_walk == "python":
        return None
    try:
        from cwsw.formats import _cin_walk
    except ImportError:  # not built (or built against another lxml): the Python walk
        return None
    spec = (CHILD_LEAVES, EPISODE_LEAVES, MODULES, ITEMS, ITEM_KEYS, SHARED_LEAF, EPISODE_GROUP)
    return _cin_walk.Walker(*spec, child_id)


def compiled_columns() -> Callable[[list[Row], tuple[str, ...]], list[list[Any]]]:
    """``_cin_walk.columns``: a batch's raw rows as columns, in C (with ``compiled_walker``)."""
    from cwsw.formats import _cin_walk

    return _cin_walk.columns


def columns_of(rows: list[Row], keys: tuple[str, ...]) -> list[list[Any]]:
    """Raw rows as columns (``_cin_walk.columns`` in Python)."""
    return [[row.get(key) for row in rows] for key in keys]
