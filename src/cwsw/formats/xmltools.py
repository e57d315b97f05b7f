"""Helpers for the XML returns, used by format detection, the loader and the readers.

DfE's XML returns (the CIN census, and others that share its ``<Message><Header>`` shape;
SSDA903 as XML starts with ``<EXPSSDA903...>``) are told apart by their root element first
(docs/domain.md §3), which ``root_element`` reads without parsing the rest of the file. Some
suppliers put the elements in a namespace; the readers compare local names.
"""

from __future__ import annotations

from pathlib import Path

from lxml import etree


def local_name(tag: object) -> str:
    """Element name without a namespace (some suppliers add one); comments have no name."""
    if not isinstance(tag, str):
        return ""
    return tag.rpartition("}")[2] if tag[:1] == "{" else tag


def strip_namespaces(element: etree._Element) -> None:
    """Give ``element`` and everything in it their local names, so lookups need no namespace."""
    for item in element.iter():
        if isinstance(item.tag, str) and item.tag[:1] == "{":
            item.tag = local_name(item.tag)


def root_element(path: Path) -> tuple[str | None, int | None]:
    """The root element's name and line, or (None, None) when there is none to find."""
    try:
        with path.open("rb") as handle:
            for _event, element in etree.iterparse(handle, events=("start",)):
                return local_name(element.tag), element.sourceline
    except (etree.XMLSyntaxError, OSError):
        return None, None
    return None, None
