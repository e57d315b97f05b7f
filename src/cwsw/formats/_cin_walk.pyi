"""Type stub for the compiled CIN census walk (``_cin_walk.pyx``)."""

from collections.abc import Callable, Mapping
from typing import Any

from lxml import etree

class Walker:
    def __init__(
        self,
        child_leaves: frozenset[str],
        episode_leaves: frozenset[str],
        modules: Mapping[str, tuple[str, str | None, tuple[tuple[str, str, Any], ...]]],
        items: Mapping[str, tuple[str, str, str, Any, str]],
        item_keys: Mapping[str, tuple[str, ...]],
        shared_leaf: str,
        episode_group: str,
        child_id: Callable[[str | None], str | None],
    ) -> None: ...
    def walk(
        self,
        child: etree._Element,
        number: int,
        lines: int,
        raw: dict[str, list[Any]],
        ids: list[tuple[int, str | None, int]],
    ) -> None: ...

def columns(rows: list[dict[str, Any]], keys: tuple[str, ...]) -> list[list[Any]]: ...
