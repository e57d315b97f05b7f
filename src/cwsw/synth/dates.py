"""Day numbers, the collection calendar and the date formats of the returns.

Dates are held as int64 day numbers (days since 1970-01-01) so that whole populations can be
shifted and compared with numpy; ``NO_DATE`` stands for an open or unknown end.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

IntArray = npt.NDArray[np.int64]
NO_DATE = np.int64(2**40)  # later than any real date: "still open"
_EPOCH = dt.date(1970, 1, 1)
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def day(year: int, month: int, dom: int) -> int:
    return (dt.date(year, month, dom) - _EPOCH).days


def to_date(days: int) -> dt.date:
    return _EPOCH + dt.timedelta(days=int(days))


def iso(days: int) -> str:
    return to_date(days).isoformat()


def dmy(days: int) -> str:
    """SSDA903's dd/mm/yyyy."""
    d = to_date(days)
    return f"{d.day:02d}/{d.month:02d}/{d.year}"


def census(days: int) -> str:
    """The flattened school census's ``2020-Apr-25 00:00:00``."""
    d = to_date(days)
    return f"{d.year}-{_MONTHS[d.month - 1]}-{d.day:02d} 00:00:00"


class DateFormatter:
    """Vectorised formatting through a lookup table over a range of days (fast for big tables)."""

    def __init__(self, first: int, last: int, fmt: str) -> None:
        fn = {"iso": iso, "dmy": dmy, "census": census}[fmt]
        self.first = first
        self.table = np.array([fn(d) for d in range(first, last + 1)], dtype=object)

    def __call__(self, days: IntArray) -> npt.NDArray[np.object_]:
        out = np.full(len(days), "", dtype=object)
        ok = days < NO_DATE
        out[ok] = self.table[days[ok] - self.first]
        return out


def _ymd(days: IntArray) -> tuple[IntArray, IntArray, IntArray]:
    d = np.asarray(days, dtype=np.int64).astype("datetime64[D]")
    y = d.astype("datetime64[Y]").astype(np.int64) + 1970
    m = d.astype("datetime64[M]").astype(np.int64) % 12 + 1
    dd = (d - d.astype("datetime64[M]")).astype(np.int64) + 1
    return y, m, dd


def birth_cohort(birth: IntArray) -> IntArray:
    """The calendar year whose 1 September starts a child's school year group's birth span.

    A child born 1 September ``C`` to 31 August ``C+1`` starts Reception in September ``C+5``.
    """
    by, bm, _ = _ymd(birth)
    return np.asarray(np.where(bm >= 9, by, by - 1), dtype=np.int64)


def day_month(days: IntArray) -> tuple[IntArray, IntArray]:
    _, m, d = _ymd(days)
    return d, m


@dataclass(frozen=True)
class Calendar:
    """The collection years and the academic year whose absence the census files carry.

    CIN collection year ``Y`` runs 1 April ``Y-1`` to 31 March ``Y``. The school census files of
    ``end_year`` (spring, summer, autumn) carry the absence of academic year ``end_year-1``/
    ``end_year`` (data-contracts §1).
    """

    end_year: int
    years: int

    @property
    def collection_years(self) -> list[int]:
        return list(range(self.end_year - self.years + 1, self.end_year + 1))

    def year_start(self, year: int) -> int:
        return day(year - 1, 4, 1)

    def year_end(self, year: int) -> int:
        return day(year, 3, 31)

    @property
    def reference_date(self) -> int:
        return self.year_end(self.end_year)

    @property
    def sim_start(self) -> int:
        # Burn-in so that episodes and care periods open at the first collection year exist.
        return day(self.end_year - self.years - 4, 4, 1)

    # Academic year end_year-1/end_year: terms and half terms (start, end inclusive).
    @property
    def autumn(self) -> tuple[int, int]:
        return day(self.end_year - 1, 9, 4), day(self.end_year - 1, 12, 20)

    @property
    def spring(self) -> tuple[int, int]:
        return day(self.end_year, 1, 6), day(self.end_year, 4, 4)

    @property
    def summer1(self) -> tuple[int, int]:
        return day(self.end_year, 4, 22), day(self.end_year, 5, 23)

    @property
    def summer2(self) -> tuple[int, int]:
        return day(self.end_year, 6, 2), day(self.end_year, 7, 22)

    @property
    def census_days(self) -> dict[str, int]:
        return {
            "spring": day(self.end_year, 1, 16),
            "summer": day(self.end_year, 5, 15),
            "autumn": day(self.end_year, 10, 2),
        }

    @property
    def next_year_start(self) -> int:
        return day(self.end_year, 9, 3)

    @property
    def year_start_sept(self) -> int:
        """1 September that starts the academic year (for NC year from date of birth)."""
        return day(self.end_year - 1, 9, 1)


# Full-enrolment possible sessions per block: autumn, spring, summer first and second half.
BLOCK_SESSIONS = np.array([142, 120, 46, 72], dtype=np.int64)
