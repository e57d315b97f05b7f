"""A coded field's list of codes over the collection years, kept as data: the first year's
list and each later year's additions and removals (liia-tools-pipeline's idea of a return's
schema per year with the year's differences). Used by the CIN census and SSDA903 readers."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class YearlyCodes:
    """The codes of one field: ``first`` and (year, added, removed) changes in year order."""

    first: tuple[str, ...]
    changes: tuple[tuple[int, tuple[str, ...], tuple[str, ...]], ...]

    def in_year(self, year: int) -> frozenset[str]:
        """The codes valid in collection year ``year``."""
        codes = set(self.first)
        for changed, added, removed in self.changes:
            if changed > year:
                break
            codes -= set(removed)
            codes |= set(added)
        return frozenset(codes)

    @property
    def ever(self) -> frozenset[str]:
        """Every code valid in some year."""
        codes = set(self.first)
        for _year, added, _removed in self.changes:
            codes |= set(added)
        return frozenset(codes)
