"""Attendance codes, the one list every reader and measure uses (docs/domain.md §3).

Source: DfE, "Working together to improve school attendance" (2024) and "School attendance:
guidance for schools", table of attendance codes; legacy codes kept so older files still count.
The school census and attendance readers classify codes with these lists
(``school_census.absence_type``) and the absence measures count sessions with them
(``cwsw.indicators.absence``).
"""

from __future__ import annotations

PRESENT_CODES = ("/", "\\", "L")
# Approved educational activity counts as present.
APPROVED_ACTIVITY_CODES = ("K", "V", "P", "W", "B")
# Legacy H and J were authorised before 2024.
AUTHORISED_ABSENCE_CODES = ("C", "C1", "C2", "E", "I", "M", "J1", "R", "S", "T", "H", "J")
UNAUTHORISED_ABSENCE_CODES = ("G", "N", "O", "U")
# Not counted in possible sessions (legacy Y before the Y1-Y7 split).
NOT_COUNTED_CODES = ("D", "Q", "X", "Z", "#", "Y", "Y1", "Y2", "Y3", "Y4", "Y5", "Y6", "Y7")

CODES_BY_KIND: dict[str, tuple[str, ...]] = {
    "present": PRESENT_CODES,
    "approved": APPROVED_ACTIVITY_CODES,
    "authorised": AUTHORISED_ABSENCE_CODES,
    "unauthorised": UNAUTHORISED_ABSENCE_CODES,
    "not_counted": NOT_COUNTED_CODES,
}
