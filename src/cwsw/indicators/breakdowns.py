"""Breakdowns: the dimensions every measure is split by, as Ibis expressions on a population.

A population table has ``laestab``, ``phase``, ``nc_year``, ``sex``, ``ethnicity``,
``sen_provision``, ``fsm`` and ``social_care_group``. Each breakdown maps a row to one label,
so the values of a breakdown partition the population (and add up to its total: secondary
suppression relies on it). Sources: DfE school census guide (codes), GSS harmonised ethnicity
standard for the major groups (Chinese within Asian, as DfE has published since 2022/23), and
the 2019 Children in Need review for the FSM and SEN overlap.
"""

from __future__ import annotations

from collections.abc import Callable

import ibis
from ibis.expr.types import Table

from cwsw.domain.labels import SEN_LABELS, SEX_LABELS

DEFINITION_VERSION = "breakdowns-1"

TOTAL = "All"
UNKNOWN = "Unknown"
NOT_IN_A_GROUP = "Not in a group"

ETHNIC_MAJOR_GROUPS = {
    "W": "White",
    "M": "Mixed",
    "A": "Asian",
    "B": "Black",
    "O": "Any other ethnic group",
}
UNCLASSIFIED = "Unclassified"


def ethnic_major_group(code: ibis.ir.StringValue) -> ibis.ir.StringValue:
    """DfE's ethnicity code (``WBRI``, ``MWBC``, ``CHNE``...) to its major group."""
    clean = code.upper().strip()
    first = clean.substr(0, 1)
    return ibis.cases(
        (clean == "CHNE", "Asian"),
        (clean.isin(["REFU", "NOBT"]) | clean.isnull() | (clean == ""), UNCLASSIFIED),
        *((first == letter, label) for letter, label in ETHNIC_MAJOR_GROUPS.items()),
        else_=UNCLASSIFIED,
    )


def _label(code: ibis.ir.StringValue, labels: dict[str, str]) -> ibis.ir.StringValue:
    clean = code.upper().strip()
    return ibis.cases(*((clean == k, v) for k, v in labels.items()), else_=UNKNOWN)


def nc_year_label(nc_year: ibis.ir.Value) -> ibis.ir.StringValue:
    """NC year as written (``R``, ``1``...``14``), ``4.0`` read as ``4``."""
    return nc_year.cast("string").strip().replace(".0", "").fill_null(UNKNOWN)


def fsm_label(fsm: ibis.ir.BooleanValue) -> ibis.ir.StringValue:
    return ibis.ifelse(fsm.fill_null(False), "FSM", "Not FSM")


def fsm_sen_label(table: Table) -> ibis.ir.StringValue:
    """The overlap of FSM and SEN (support or EHC plan), as the 2019 review reported it."""
    sen = table.sen_provision.upper().strip().isin(["K", "E"]).fill_null(False)
    fsm = table.fsm.fill_null(False)
    return ibis.cases(
        (fsm & sen, "FSM and SEN"),
        (fsm, "FSM, no SEN"),
        (sen, "SEN, not FSM"),
        else_="Neither FSM nor SEN",
    )


# Where two breakdowns cross, the same pupils counted twice: (breakdown, its values) holds
# the pupils of the ``fsm_sen`` values given (secondary suppression relies on it, so a cell
# hidden in one breakdown cannot be worked out from the other).
FSM_SEN_CROSSINGS: tuple[tuple[str, tuple[str, ...], tuple[str, ...]], ...] = (
    ("fsm", ("FSM",), ("FSM and SEN", "FSM, no SEN")),
    ("fsm", ("Not FSM",), ("SEN, not FSM", "Neither FSM nor SEN")),
    ("sen", (SEN_LABELS["K"], SEN_LABELS["E"]), ("FSM and SEN", "SEN, not FSM")),
)

BREAKDOWNS: dict[str, Callable[[Table], ibis.ir.StringValue]] = {
    "total": lambda t: ibis.literal(TOTAL),
    "school": lambda t: t.laestab.fill_null(UNKNOWN),
    "phase": lambda t: t.phase.fill_null(UNKNOWN),
    "nc_year": lambda t: nc_year_label(t.nc_year),
    "sex": lambda t: _label(t.sex, SEX_LABELS),
    "ethnicity": lambda t: ethnic_major_group(t.ethnicity),
    "sen": lambda t: _label(t.sen_provision, SEN_LABELS),
    "fsm": lambda t: fsm_label(t.fsm),
    "social_care_group": lambda t: t.social_care_group.fill_null(NOT_IN_A_GROUP),
    "fsm_sen": fsm_sen_label,
}


def label_column(name: str) -> str:
    """The column :func:`with_labels` stores breakdown ``name``'s label in."""
    return f"_breakdown_{name}"


def with_labels(table: Table, names: tuple[str, ...] = tuple(BREAKDOWNS)) -> Table:
    """``table`` with each breakdown's label in a column of its own (:func:`label_column`).

    Labelling a population once, before it is copied per cohort and per breakdown, saves
    computing every label again on every copy.
    """
    return table.mutate(**{label_column(name): BREAKDOWNS[name](table) for name in names})


def by_breakdown(table: Table, names: tuple[str, ...] = tuple(BREAKDOWNS)) -> Table:
    """``table`` once per breakdown, with ``breakdown`` and ``breakdown_value`` columns.

    Labels already stored by :func:`with_labels` are used as they are.
    """
    parts = [
        table.mutate(
            breakdown=ibis.literal(name),
            breakdown_value=table[label_column(name)]
            if label_column(name) in table.columns
            else BREAKDOWNS[name](table),
        )
        for name in names
    ]
    result = parts[0]
    for part in parts[1:]:
        result = result.union(part)
    return result
