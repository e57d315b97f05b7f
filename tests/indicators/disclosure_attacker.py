"""An independent disclosure attacker (issue 14): what can be worked out from what leaves?

The attacker sees what an aggregate role sees for a period: the rows of the disclosed export
(:func:`cwsw.indicators.export.disclosed_export`), or the pages' view of them
(:func:`pages_view`: rates rounded as published, with their base). It knows nothing of how
cells were chosen for suppression; it knows only what anyone reading the published
definitions knows about how such tables add up (docs/marts.md, DfE's methodology), and writes
those relations down itself:

- the values of a breakdown partition the cohort (they sum to its total); a value without a
  row is an empty group (0);
- schools nest within phases (a school's phase is public: :class:`Knowledge`);
- FSM x SEN cross-classified values sum to each one-way margin (FSM, and SEN support plus EHC
  plan);
- a complement cohort plus its cohort is all pupils; a social care group's cohort is all
  pupils in that group of the ``social_care_group`` breakdown;
- a year's sessions are its terms' sessions; a term's enrolments are among the year's, and
  every enrolment of the year is in one of its terms;
- sessions missed are authorised plus unauthorised;
- a quantity shown in several rows is one unknown (the enrolments under persistent and severe
  absence), and a share's numerator within one of the ``sen`` / ``fsm`` / ``fsm_sen`` values
  is that value's pupils or none (the pupils with SEN support in ``sen = SEN support`` are all
  its pupils);
- bounds: counts are non-negative integers; a row exists only for a non-empty group (its
  population count is at least 1); a share's numerator is at most its denominator (and
  severe absence at most persistent, and so on); a published rate rounded half up to its
  places, with its denominator, bounds its numerator; ``z`` means a zero base.

It then takes every suppressed count (a count of pupils, enrolments or events given only as
``c``), and the sum of the suppressed parts of every relation (some of whose parts are not
suppressed), and finds the least and the greatest value each can take by linear programming
(HiGHS through :mod:`scipy.optimize`, on each connected set of unknowns; integer programs
where rounding bounds make a range's ends fractional). A **disclosure** is a count pinned to
a value from 1 to the threshold, or to an interval of fewer than ``threshold`` whole numbers
that reaches into 1..threshold; or a share whose numerator is pinned to none (or all) of a
suppressed group of at most ``threshold`` (the group disclosure "0 of at most 5"), unless
the definitions and the published zeros alone imply it. Each finding names the relations
the linear program's proof rests on (its non-zero dual values).

None of this imports the suppression code (:mod:`cwsw.indicators.suppression`,
:mod:`cwsw.indicators.disclosure`): the attacker must not share its blind spots.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import numpy as np
import pandas as pd
from scipy import sparse
from scipy.optimize import Bounds, LinearConstraint, linprog, milp

try:  # scipy's own binding of HiGHS: the same solver as linprog, but kept warm
    from scipy.optimize._highspy import _core as _highs_core

    WARM_HIGHS = True
except ImportError:  # pragma: no cover - an older or newer scipy
    WARM_HIGHS = False

Key = tuple[str, str, str, str, str]  # period, quantity, cohort, breakdown, breakdown value

TOTAL = "total"
ALL = "All"
SOCIAL_CARE_GROUP = "social_care_group"

# What each quantity is: a count of pupils, enrolments or events (what suppression protects),
# sessions (whole numbers, not protected themselves), or score points (not whole numbers;
# Progress 8 may be negative).
COUNT, SESSIONS, POINTS, SIGNED_POINTS = "count", "sessions", "points", "signed points"


@dataclass(frozen=True)
class Parts:
    """A published measure as the attacker reads it: which quantities its numerator and
    denominator are, how its value is scaled and rounded, and whether its numerator counts
    members of its denominator's group (so it is at most the denominator)."""

    numerator: str
    denominator: str
    scale: int
    places: int
    share: bool


def _count(name: str) -> Parts:
    return Parts(name, name, 1, 0, False)


def _share(numerator: str, denominator: str, places: int) -> Parts:
    return Parts(numerator, denominator, 100, places, True)


# From the published definitions (docs/marts.md, "Populations and measures"), written out
# here rather than read from the catalogue the suppression code uses.
MEASURES: dict[str, Parts] = {
    "enrolments": _count("enrolments"),
    "overall_absence": Parts("sessions_missed", "sessions_possible", 100, 1, False),
    "authorised_absence": Parts("sessions_authorised", "sessions_possible", 100, 1, False),
    "unauthorised_absence": Parts("sessions_unauthorised", "sessions_possible", 100, 1, False),
    "persistent_absence": _share("enrolments_persistently_absent", "enrolments", 1),
    "severe_absence": _share("enrolments_severely_absent", "enrolments", 1),
    "pupils": _count("pupils"),
    "one_plus_suspension": _share("pupils_suspended", "pupils", 2),
    "suspension_rate": Parts("suspensions", "pupils", 100, 2, False),
    "permanent_exclusion": _share("pupils_permanently_excluded", "pupils", 2),
    "sen_support": _share("pupils_sen_support", "pupils", 1),
    "ehc_plan": _share("pupils_ehc_plan", "pupils", 1),
    "fsm": _share("pupils_fsm", "pupils", 1),
    "fsm6": _share("pupils_fsm6", "pupils", 1),
    "ks2_pupils": _count("ks2_pupils"),
    "ks2_rwm_expected": _share("ks2_rwm_met", "ks2_pupils", 0),
    "ks2_reading_expected": _share("ks2_read_met", "ks2_pupils", 0),
    "ks2_writing_expected": _share("ks2_writ_met", "ks2_pupils", 0),
    "ks2_maths_expected": _share("ks2_mat_met", "ks2_pupils", 0),
    "ks4_pupils": _count("ks4_pupils"),
    "ks4_attainment8": Parts("att8_points", "ks4_pupils", 1, 1, False),
    "ks4_basics_94": _share("ks4_basics_94", "ks4_pupils", 1),
    "ks4_basics_95": _share("ks4_basics_95", "ks4_pupils", 1),
    "ks4_progress8": Parts("p8_points", "p8_pupils", 1, 2, False),
}
KIND: dict[str, str] = defaultdict(lambda: COUNT)
KIND.update(
    {
        "sessions_missed": SESSIONS,
        "sessions_possible": SESSIONS,
        "sessions_authorised": SESSIONS,
        "sessions_unauthorised": SESSIONS,
        "att8_points": POINTS,
        "p8_points": SIGNED_POINTS,
    }
)
# Each population's size: a row of the population exists only if this is at least 1.
POPULATION_SIZE = {
    "enrolments": "enrolments",
    "pupils": "pupils",
    "ks2": "ks2_pupils",
    "ks4": "ks4_pupils",
}
# Sessions add up over a year's terms.
TERM_ADDITIVE = (
    "sessions_possible",
    "sessions_missed",
    "sessions_authorised",
    "sessions_unauthorised",
)
# Within one cell: the first is at most the second (subsets by definition).
AT_MOST = (
    ("enrolments_severely_absent", "enrolments_persistently_absent"),  # 50% missed is 10%
    ("pupils_suspended", "suspensions"),  # a suspended pupil has one or more suspensions
    ("pupils_fsm", "pupils_fsm6"),  # eligible on census day is eligible in the six years
    ("ks4_basics_95", "ks4_basics_94"),  # grade 5 is grade 4 or above
    ("ks2_rwm_met", "ks2_read_met"),
    ("ks2_rwm_met", "ks2_writ_met"),
    ("ks2_rwm_met", "ks2_mat_met"),
    ("p8_pupils", "ks4_pupils"),
    ("enrolments", "sessions_possible"),  # each enrolment has at least one possible session
)
# The FSM x SEN cross-classification (docs/marts.md, Breakdowns).
FSM_SEN = {
    "FSM and SEN": (True, True),
    "FSM, no SEN": (True, False),
    "SEN, not FSM": (False, True),
    "Neither FSM nor SEN": (False, False),
}
FSM_VALUES = {True: "FSM", False: "Not FSM"}
SEN_VALUES = ("SEN support", "EHC plan")  # the SEN side of fsm_sen
# A share whose numerator, within a value of these breakdowns, is all or none of its pupils.
SHARE_BY_VALUE = {
    "pupils_sen_support": {"sen": {"SEN support"}},
    "pupils_ehc_plan": {"sen": {"EHC plan"}},
    "pupils_fsm": {"fsm": {"FSM"}, "fsm_sen": {"FSM and SEN", "FSM, no SEN"}},
}


@dataclass(frozen=True)
class Knowledge:
    """What the attacker knows beyond the figures: the public structure of the cohorts
    (docs/marts.md, Cohorts) and each school's phase (public: Get Information about Schools)."""

    all_pupils: str = "All pupils"
    complements: Mapping[str, str] = field(
        default_factory=lambda: {"Not CIN in last 6 years": "Ever CIN last 6 years"}
    )
    group_cohorts: tuple[str, ...] = ("CINO", "CPPO", "CLA 12 months")
    school_phase: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Constraint:
    """``sum(coefficient * key) sense rhs``, with the relation it states in words."""

    terms: tuple[tuple[Key, float], ...]
    sense: str  # "=" or "<="
    rhs: float
    relation: str

    def holds(self, values: Mapping[Key, float], tolerance: float = 1e-6) -> bool:
        total = sum(c * values[k] for k, c in self.terms)
        if self.sense == "=":
            return abs(total - self.rhs) <= tolerance * max(1.0, abs(self.rhs))
        return total <= self.rhs + tolerance * max(1.0, abs(self.rhs))


@dataclass(frozen=True)
class Target:
    """A count the attacker tries to pin down: one cell, or the sum of the suppressed parts
    of a relation (``of``)."""

    keys: tuple[Key, ...]
    of: str = ""

    def describe(self) -> str:
        cells = " + ".join(describe(k) for k in self.keys)
        return f"{cells} (the suppressed parts of {self.of})" if self.of else cells


@dataclass(frozen=True)
class Finding:
    """A disclosure: what was found, the interval it is pinned to, and the proof's relations."""

    kind: str  # "exact", "narrow" or "group"
    target: Target
    interval: tuple[int, int]
    relations: tuple[str, ...]
    detail: str = ""

    def describe(self) -> str:
        low, high = self.interval
        pinned = f"= {low}" if low == high else f"in [{low}, {high}]"
        extra = f"; {self.detail}" if self.detail else ""
        used = "; ".join(self.relations)
        return f"{self.kind}: {self.target.describe()} {pinned}{extra} — by {used}"


def describe(key: Key) -> str:
    period, quantity, cohort, breakdown, value = key
    where = "" if breakdown == TOTAL else f" {breakdown}={value}"
    return f"{quantity} [{cohort}{where}, {period}]"


@dataclass
class Model:
    """What the attacker knows: the figures shown, the unknowns, and the relations."""

    threshold: int
    known: dict[Key, float] = field(default_factory=dict)
    seen: set[Key] = field(default_factory=set)
    nonempty: set[Key] = field(default_factory=set)
    constraints: list[Constraint] = field(default_factory=list)
    shown: set[Key] = field(default_factory=set)
    suppressed_counts: set[Key] = field(default_factory=set)
    shares: set[tuple[Key, Key]] = field(default_factory=set)

    @property
    def unknown(self) -> set[Key]:
        return self.seen - set(self.known)

    def lower_bound(self, key: Key) -> tuple[float | None, str]:
        if key in self.nonempty:
            return 1.0, f"a row exists, so {describe(key)} >= 1"
        if KIND[key[1]] == SIGNED_POINTS:
            return None, ""
        return 0.0, f"{describe(key)} >= 0"

    def violated(self, values: Mapping[Key, float]) -> list[str]:
        """The relations and bounds that ``values`` (every figure, unsuppressed) break: an
        attacker that assumes something false would report disclosures that are not."""
        broken = [c.relation for c in self.constraints if not c.holds(values)]
        for key in sorted(self.seen):
            low, reason = self.lower_bound(key)
            if low is not None and values[key] < low - 1e-9:
                broken.append(reason)
            if KIND[key[1]] in (COUNT, SESSIONS) and not float(values[key]).is_integer():
                broken.append(f"{describe(key)} is a whole number")
        for key, value in self.known.items():
            if values[key] != value:
                broken.append(f"{describe(key)} shown as {value}")
        return broken


def _empty_with_base(parts: Parts) -> bool:
    """A share's count, or a total of points, over no pupils is 0."""
    return parts.share or KIND[parts.numerator] in (POINTS, SIGNED_POINTS)


def _number(value: object) -> float | None:
    if value is None:
        return None
    number = float(value)  # type: ignore[arg-type]
    return None if math.isnan(number) else number


def _published(value: float, places: int) -> Decimal:
    return Decimal(repr(value)).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


class _Builder:
    def __init__(self, model: Model, knowledge: Knowledge) -> None:
        self.model = model
        self.knowledge = knowledge
        self.built: set[tuple[str, str, str]] = set()  # (period, quantity, breakdown)
        self.cohorts: set[str] = set()  # the cohorts the output publishes
        self.added: set[tuple[tuple[tuple[Key, float], ...], str, float]] = set()

    def term(self, key: Key) -> Key | bool | None:
        """The key if shown in a row; False (the value 0) if its cohort is published and its
        breakdown given for the period and quantity but the value has no row (an empty
        group); None if unknowable."""
        if key in self.model.seen:
            return key
        if key[2] in self.cohorts and (key[0], key[1], key[3]) in self.built:
            return False
        return None

    def add(
        self,
        left: Sequence[Key | bool | None],
        right: Sequence[Key | bool | None],
        sense: str,
        relation: str,
        rhs: float = 0.0,
    ) -> None:
        """``sum(left) - sum(right) sense rhs``; skipped if a member is unknowable."""
        if any(k is None for k in (*left, *right)):
            return
        coefficients: dict[Key, float] = defaultdict(float)
        for k in left:
            if isinstance(k, tuple):
                coefficients[k] += 1.0
        for k in right:
            if isinstance(k, tuple):
                coefficients[k] -= 1.0
        terms = tuple(sorted((k, c) for k, c in coefficients.items() if c != 0.0))
        if not terms:
            return
        signature = (terms, sense, rhs)
        if signature not in self.added:
            self.added.add(signature)
            self.model.constraints.append(Constraint(terms, sense, rhs, relation))


def observe(export: pd.DataFrame, *, threshold: int, knowledge: Knowledge | None = None) -> Model:
    """Everything the attacker can write down from ``export`` (export columns, any rows)."""
    knowledge = knowledge or Knowledge()
    model = Model(threshold)
    builder = _Builder(model, knowledge)
    rounding: list[tuple[Key, Key, Parts, float, str]] = []
    columns = [
        "period",
        "measure",
        "cohort",
        "breakdown",
        "breakdown_value",
        "population",
        "numerator",
        "denominator",
        "value",
        "symbol",
    ]
    for period, measure, cohort, breakdown, value_name, population, num, den, val, symbol in zip(
        *(export[c].tolist() for c in columns), strict=True
    ):
        parts = MEASURES[str(measure)]
        cell = (str(period), str(cohort), str(breakdown), str(value_name))
        num_key: Key = (cell[0], parts.numerator, *cell[1:])
        den_key: Key = (cell[0], parts.denominator, *cell[1:])
        builder.cohorts.add(cell[1])
        for key in (num_key, den_key):
            model.seen.add(key)
            builder.built.add((key[0], key[1], key[3]))
        size: Key = (cell[0], POPULATION_SIZE[str(population)], *cell[1:])
        model.nonempty.add(size)
        if parts.share:
            model.shares.add((num_key, den_key))
        shown = symbol is None or (isinstance(symbol, float) and math.isnan(symbol)) or symbol == ""
        numerator, denominator, value = _number(num), _number(den), _number(val)
        if shown:
            model.shown.update((num_key, den_key))
            for key, amount in ((num_key, numerator), (den_key, denominator)):
                if amount is not None and model.known.setdefault(key, amount) != amount:
                    raise ValueError(f"{describe(key)} is shown as two values")
            if numerator is None and value is not None and den_key != num_key:
                rounding.append((num_key, den_key, parts, value, str(measure)))
        elif symbol == "z":  # no base: the denominator is 0, and so is a share's numerator
            model.known.setdefault(den_key, 0.0)
            if _empty_with_base(parts):
                model.known.setdefault(num_key, 0.0)
    model.nonempty &= model.seen
    # Suppressed: given only as c (a figure behind a rounded rate is shown, if not exactly).
    for key in model.seen - set(model.known) - model.shown:
        if KIND[key[1]] == COUNT:
            model.suppressed_counts.add(key)
    _relations(builder, export)
    for num_key, den_key, parts, value, measure in rounding:
        _rounding_bounds(builder, num_key, den_key, parts, value, measure)
    return model


def _relations(builder: _Builder, export: pd.DataFrame) -> None:
    model, knowledge = builder.model, builder.knowledge
    seen = sorted(model.seen)
    by_group: dict[tuple[str, str, str], list[Key]] = defaultdict(list)
    for key in seen:
        by_group[key[:3]].append(key)
    term = builder.term
    for (period, quantity, cohort), keys in by_group.items():
        total: Key = (period, quantity, cohort, TOTAL, ALL)
        breakdowns = sorted({k[3] for k in keys} - {TOTAL})
        label = f"{quantity} [{cohort}, {period}]"
        for breakdown in breakdowns:
            parts = [k for k in keys if k[3] == breakdown]
            builder.add([total], parts, "=", f"the {breakdown} values of {label} sum to its total")
        # Schools nest within phases.
        schools = [k for k in keys if k[3] == "school"]
        if (
            schools
            and "phase" in breakdowns
            and all(k[4] in knowledge.school_phase for k in schools)
        ):
            phases = sorted(
                {knowledge.school_phase[k[4]] for k in schools}
                | {k[4] for k in keys if k[3] == "phase"}
            )
            for phase in phases:
                inside = [k for k in schools if knowledge.school_phase[k[4]] == phase]
                builder.add(
                    [term((period, quantity, cohort, "phase", phase))],
                    inside,
                    "=",
                    f"the schools of phase {phase} sum to it ({label})",
                )
        # FSM x SEN sums to each one-way margin.
        if "fsm_sen" in breakdowns:
            _cross_classified(builder, (period, quantity, cohort), breakdowns)
        # Sessions missed are authorised plus unauthorised.
        if quantity == "sessions_missed":
            for key in keys:
                builder.add(
                    [key],
                    [
                        term((key[0], q, *key[2:]))
                        for q in ("sessions_authorised", "sessions_unauthorised")
                    ],
                    "=",
                    f"sessions missed = authorised + unauthorised ({describe(key)})",
                )
    for key in seen:
        period, quantity, cohort, breakdown, value = key
        # A cohort and its complement make up all pupils.
        if cohort == knowledge.all_pupils:
            for complement, of in sorted(knowledge.complements.items()):
                builder.add(
                    [key],
                    [
                        term((period, quantity, of, breakdown, value)),
                        term((period, quantity, complement, breakdown, value)),
                    ],
                    "=",
                    f"{of} + {complement} = {cohort} ({describe(key)})",
                )
            if breakdown == SOCIAL_CARE_GROUP and value in knowledge.group_cohorts:
                builder.add(
                    [key],
                    [term((period, quantity, value, TOTAL, ALL))],
                    "=",
                    f"cohort {value} is {cohort} in group {value} ({quantity}, {period})",
                )
        # Within one cell: subsets.
        for smaller, larger in AT_MOST:
            if quantity == smaller:
                builder.add(
                    [key],
                    [term((period, larger, cohort, breakdown, value))],
                    "<=",
                    f"{smaller} <= {larger} ({describe(key)})",
                )
        # A share within a value of sen / fsm / fsm_sen is all of its pupils or none.
        for breakdown_name, members in SHARE_BY_VALUE.get(quantity, {}).items():
            if breakdown == breakdown_name:
                pupils = term((period, "pupils", cohort, breakdown, value))
                if value in members:
                    builder.add(
                        [key],
                        [pupils],
                        "=",
                        f"every pupil of {breakdown}={value} is counted ({describe(key)})",
                    )
                else:
                    builder.add(
                        [key],
                        [],
                        "=",
                        f"no pupil of {breakdown}={value} is counted ({describe(key)})",
                    )
        if quantity == "pupils_sen_support":
            builder.add(
                [key, term((period, "pupils_ehc_plan", cohort, breakdown, value))],
                [term((period, "pupils", cohort, breakdown, value))],
                "<=",
                f"SEN support + EHC plan <= pupils ({describe(key)})",
            )
    for num_key, den_key in sorted(model.shares):
        builder.add(
            [num_key], [den_key], "<=", f"{num_key[1]} <= {den_key[1]} ({describe(den_key)})"
        )
    _terms(builder, export)


def _cross_classified(
    builder: _Builder, group: tuple[str, str, str], breakdowns: Sequence[str]
) -> None:
    """The ``fsm_sen`` values sum to ``fsm = FSM`` (and ``Not FSM``) and to ``sen = SEN
    support`` plus ``EHC plan``."""
    label = f"{group[1]} [{group[2]}, {group[0]}]"

    def term(breakdown: str, value: str) -> Key | bool | None:
        return builder.term((*group, breakdown, value))

    def cross(fsm: bool | None, sen: bool | None) -> list[Key | bool | None]:
        return [
            term("fsm_sen", v)
            for v, (f, s) in FSM_SEN.items()
            if (fsm is None or f == fsm) and (sen is None or s == sen)
        ]

    if "fsm" in breakdowns:
        for flag, name in FSM_VALUES.items():
            builder.add(
                [term("fsm", name)], cross(flag, None), "=", f"fsm_sen sums to fsm={name} ({label})"
            )
    if "sen" in breakdowns:
        builder.add(
            [term("sen", v) for v in SEN_VALUES],
            cross(None, True),
            "=",
            f"fsm_sen sums to sen=SEN support + EHC plan ({label})",
        )


def _terms(builder: _Builder, export: pd.DataFrame) -> None:
    """A year's sessions are its terms'; a term's enrolments are among the year's, and each
    of the year's enrolments is in some term."""
    periods = export[["academic_year", "period", "period_type"]].drop_duplicates()
    for _year, group in periods.groupby("academic_year", sort=True):
        years = sorted(str(p) for p in group.period[group.period_type == "year"])
        terms = sorted(str(p) for p in group.period[group.period_type == "term"])
        if len(years) != 1 or len(terms) != 3:
            continue
        for key in sorted(builder.model.seen):
            if key[0] != years[0] or key[3] != TOTAL:
                continue
            in_terms = [builder.term((t, *key[1:])) for t in terms]
            if key[1] in TERM_ADDITIVE:
                builder.add(
                    [key], in_terms, "=", f"the terms' sessions sum to the year's ({describe(key)})"
                )
            if key[1] == "enrolments":
                builder.add(
                    [key],
                    in_terms,
                    "<=",
                    f"each of the year's enrolments is in a term ({describe(key)})",
                )
                for one in in_terms:
                    builder.add(
                        [one],
                        [key],
                        "<=",
                        f"a term's enrolments are among the year's ({describe(key)})",
                    )


def _rounding_bounds(
    builder: _Builder, num_key: Key, den_key: Key, parts: Parts, value: float, measure: str
) -> None:
    """``r`` published (half up, ``places``): ``r - h <= scale * n / d < r + h``, linear in
    ``n`` and ``d``; for whole ``n`` and ``d`` the strict side is ``<= -10^-(places+1)``."""
    published = _published(value, parts.places)
    half = Decimal(5).scaleb(-(parts.places + 1))
    low, high = float(published - half), float(published + half)
    step = float(Decimal(1).scaleb(-(parts.places + 1)))
    label = f"{measure} published as {published} ({describe(num_key)} over {den_key[1]})"
    model = builder.model
    scale = float(parts.scale)
    terms_low = ((num_key, -scale), (den_key, low))
    terms_high = ((num_key, scale), (den_key, -high))
    model.constraints.append(Constraint(tuple(sorted(terms_low)), "<=", 0.0, label))
    strict = -step if KIND[num_key[1]] in (COUNT, SESSIONS) else 0.0
    model.constraints.append(Constraint(tuple(sorted(terms_high)), "<=", strict, label))


# -- Solving ---------------------------------------------------------------------------------


@dataclass
class Attack:
    """What the attacker found: the disclosures, and the exact interval of every target it
    had to work out (the others were seen to take ``threshold`` or more whole values)."""

    threshold: int
    findings: list[Finding]
    intervals: dict[Target, tuple[int, int]]
    targets: int = 0
    linear_programs: int = 0
    components: int = 0
    largest_component: int = 0

    def summary(self) -> dict[str, int]:
        kinds: dict[str, int] = defaultdict(int)
        for finding in self.findings:
            kinds[finding.kind] += 1
        return dict(sorted(kinds.items()))


def _components(model: Model) -> list[tuple[list[Key], list[Constraint]]]:
    """Connected sets of unknowns (through relations), each with its relations, in key order."""
    unknown = model.unknown
    parent = {k: k for k in sorted(unknown)}

    def find(k: Key) -> Key:
        while parent[k] != k:
            parent[k] = parent[parent[k]]
            k = parent[k]
        return k

    touching = []
    for constraint in model.constraints:
        members = [k for k, _c in constraint.terms if k in unknown]
        if members:
            touching.append((constraint, members[0]))
            for other in members[1:]:
                a, b = find(members[0]), find(other)
                if a != b:
                    parent[max(a, b)] = min(a, b)
    groups: dict[Key, tuple[list[Key], list[Constraint]]] = {}
    for k in sorted(unknown):
        groups.setdefault(find(k), ([], []))[0].append(k)
    for constraint, member in touching:
        groups[find(member)][1].append(constraint)
    return [groups[root] for root in sorted(groups)]


CEILING_FACTOR = 1e4


class Unbounded(Exception):
    """The objective has no optimum: the figure can be as large as you like."""


class _Program:
    """One connected set of unknowns as a linear program (the shown figures substituted).

    Solved with HiGHS: through scipy's own binding of it where present, kept warm between
    objectives (the same constraints, a new objective each time: a few simplex steps instead
    of a fresh solve, 7 times faster on the synthetic LA), else :func:`scipy.optimize.linprog`.
    """

    def __init__(self, model: Model, keys: list[Key], constraints: list[Constraint]) -> None:
        self.keys = keys
        self.index = {k: i for i, k in enumerate(keys)}
        data: list[float] = []
        row_index: list[int] = []
        col_index: list[int] = []
        row_lower: list[float] = []
        row_upper: list[float] = []
        self.row_relations: list[str] = []
        for constraint in constraints:
            coefficients: dict[int, float] = defaultdict(float)
            rhs = constraint.rhs
            for key, c in constraint.terms:
                if key in self.index:
                    coefficients[self.index[key]] += c
                else:
                    rhs -= c * model.known[key]
            for j, c in sorted(coefficients.items()):
                data.append(c)
                row_index.append(len(row_lower))
                col_index.append(j)
            row_lower.append(rhs if constraint.sense == "=" else -np.inf)
            row_upper.append(rhs)
            self.row_relations.append(constraint.relation)
        self.matrix = sparse.csr_array(
            (data, (row_index, col_index)), shape=(len(row_lower), len(keys))
        )
        self.row_lower, self.row_upper = np.array(row_lower), np.array(row_upper)
        lower = [model.lower_bound(k) for k in keys]
        self.lower = np.array([-np.inf if low is None else low for low, _r in lower])
        # A ceiling no figure reaches, so that no program is unbounded (HiGHS's presolve
        # calls some unbounded programs infeasible): at it, a figure is as large as you like.
        self.ceiling = CEILING_FACTOR * max([1.0, *(abs(v) for v in model.known.values())])
        self.upper = np.full(len(keys), self.ceiling)
        self.lower_relations = [reason for _l, reason in lower]
        self.integrality = np.array([KIND[k[1]] in (COUNT, SESSIONS) for k in keys], dtype=int)
        # Only rounding bounds have coefficients other than 1 and -1; without them whole
        # numbers narrowed no range on the synthetic LA, and integer programs cost twice the rest.
        self.fractional = bool((np.abs(self.matrix.data) != 1.0).any())
        self.solved = 0
        self._highs = _warm_highs(self) if WARM_HIGHS else None

    def objective(self, target: Target, sign: float) -> np.ndarray:
        c = np.zeros(len(self.keys))
        for key in target.keys:
            c[self.index[key]] += sign
        return c

    def solve(self, c: np.ndarray) -> tuple[np.ndarray, float, list[str]]:
        """The optimum (minimise ``c @ x``), its value, and the relations its proof uses (the
        rows and bounds with a non-zero dual value); :class:`Unbounded` if there is none."""
        self.solved += 1
        if self._highs is not None:
            x, value, row_duals, column_duals = _solve_warm(self._highs, c)
        else:
            x, value, row_duals, column_duals = self._solve_linprog(c)
        if abs(value) >= self.ceiling / 2:
            raise Unbounded
        used = [r for r, d in zip(self.row_relations, row_duals, strict=True) if abs(d) > 1e-9]
        used += [
            r
            for r, d, v, low in zip(self.lower_relations, column_duals, x, self.lower, strict=True)
            if abs(d) > 1e-9 and abs(v - low) <= 1e-9
        ]
        return x, value, used

    def _solve_linprog(self, c: np.ndarray) -> tuple[np.ndarray, float, np.ndarray, np.ndarray]:
        equal = self.row_lower == self.row_upper
        a_eq, a_ub = self.matrix[equal], self.matrix[~equal]
        result = linprog(
            c,
            A_ub=a_ub if a_ub.shape[0] else None,
            b_ub=self.row_upper[~equal] if a_ub.shape[0] else None,
            A_eq=a_eq if a_eq.shape[0] else None,
            b_eq=self.row_upper[equal] if a_eq.shape[0] else None,
            bounds=list(zip(self.lower, self.upper, strict=True)),
            method="highs",
        )
        if result.status == 3:
            raise Unbounded
        if result.status != 0:
            raise RuntimeError(f"the attacker's program failed: {result.message}")
        duals = np.zeros(len(self.row_relations))
        if a_eq.shape[0]:
            duals[equal] = result.eqlin.marginals
        if a_ub.shape[0]:
            duals[~equal] = result.ineqlin.marginals
        return result.x, float(result.fun), duals, result.lower.marginals

    def solve_integer(self, c: np.ndarray) -> float:
        """The optimum with whole counts and sessions (no proof: integrality narrows)."""
        self.solved += 1
        result = milp(
            c,
            integrality=self.integrality,
            bounds=Bounds(self.lower, self.upper),
            constraints=[LinearConstraint(self.matrix, self.row_lower, self.row_upper)],
            options={"time_limit": 30},
        )
        if result.status != 0:
            raise RuntimeError(f"the attacker's integer program failed: {result.message}")
        return float(result.fun)


def _warm_highs(program: _Program) -> Any:
    """The program loaded into a HiGHS instance (scipy's binding), objectives to follow."""
    highs = _highs_core._Highs()
    highs.setOptionValue("output_flag", False)
    infinity = highs.getInfinity()
    n = len(program.keys)
    lower = np.where(np.isinf(program.lower), -infinity, program.lower)
    highs.addVars(n, lower, program.upper)
    matrix = program.matrix.tocsr()
    if matrix.shape[0]:
        highs.addRows(
            matrix.shape[0],
            np.where(np.isinf(program.row_lower), -infinity, program.row_lower),
            program.row_upper,
            matrix.nnz,
            matrix.indptr[:-1].astype(np.int32),
            matrix.indices.astype(np.int32),
            matrix.data.astype(np.float64),
        )
    return highs


def _solve_warm(highs: Any, c: np.ndarray) -> tuple[np.ndarray, float, np.ndarray, np.ndarray]:
    n = len(c)
    highs.changeColsCost(n, np.arange(n, dtype=np.int32), c.astype(np.float64))
    highs.run()
    status = highs.getModelStatus()
    if status == _highs_core.HighsModelStatus.kUnknown:  # lost its way from the warm start
        highs.clearSolver()
        highs.run()
        status = highs.getModelStatus()
    if status in (
        _highs_core.HighsModelStatus.kUnbounded,
        _highs_core.HighsModelStatus.kUnboundedOrInfeasible,
    ):
        raise Unbounded
    if status != _highs_core.HighsModelStatus.kOptimal:
        raise RuntimeError(f"the attacker's program failed: {highs.modelStatusToString(status)}")
    solution = highs.getSolution()
    return (
        np.array(solution.col_value),
        float(highs.getInfo().objective_function_value),
        np.array(solution.row_dual),
        np.array(solution.col_dual),
    )


def targets_of(model: Model) -> list[Target]:
    """Every suppressed count, and the sum of the suppressed parts of every relation whose
    parts are counts (a margin whose hidden cells hold 4 together discloses 4)."""
    targets = {Target((k,)) for k in model.suppressed_counts}
    for constraint in model.constraints:
        if constraint.sense != "=" or constraint.rhs != 0.0:
            continue
        every = [k for k, c in constraint.terms if c < 0]
        parts = [k for k in every if k in model.suppressed_counts]
        # All parts suppressed: their sum is the total, a target (or shown) already.
        if 2 <= len(parts) < len(every):
            targets.add(Target(tuple(sorted(parts)), constraint.relation))
    unique: dict[tuple[Key, ...], Target] = {}
    for target in sorted(targets, key=lambda t: (t.keys, t.of)):
        unique.setdefault(target.keys, target)
    return list(unique.values())


def disclosing(low: int, high: int, threshold: int) -> str | None:
    """``exact`` or ``narrow`` if the whole numbers ``low``..``high`` give a count away."""
    if high < 1 or low > threshold:
        return None
    if low == high:
        return "exact"
    if high - low + 1 < threshold:
        return "narrow"
    return None


def attack(
    export: pd.DataFrame,
    *,
    threshold: int,
    knowledge: Knowledge | None = None,
    integer: bool = True,
) -> Attack:
    """Try to recover every suppressed count of ``export`` (see the module docstring)."""
    model = observe(export, threshold=threshold, knowledge=knowledge)
    return solve(model, integer=integer)


def solve(model: Model, *, integer: bool = True) -> Attack:
    threshold = model.threshold
    targets = targets_of(model)
    component_of: dict[Key, int] = {}
    components = _components(model)
    for i, (keys, _constraints) in enumerate(components):
        for key in keys:
            component_of[key] = i
    by_component: dict[int, list[Target]] = defaultdict(list)
    for target in targets:
        by_component[component_of[target.keys[0]]].append(target)
    findings: list[Finding] = []
    intervals: dict[Target, tuple[int, int]] = {}
    solved = 0
    published: _Published | None = None

    def implied(num_key: Key, den_key: Key, label: str) -> bool:
        nonlocal published
        published = published or _Published(model)
        return published.implies(num_key, den_key, label)

    for i in sorted(by_component):
        keys, constraints = components[i]
        program = _Program(model, keys, constraints)
        found, exact, highest = _attack_component(program, by_component[i], threshold, integer)
        findings += found
        intervals.update(exact)
        findings += _group_findings(model, program, highest, implied)
        solved += program.solved
    return Attack(
        threshold,
        sorted(findings, key=lambda f: (f.kind, f.target.keys, f.target.of)),
        intervals,
        len(targets),
        solved,
        len(components),
        max((len(k) for k, _c in components), default=0),
    )


def _whole(low: float, high: float) -> tuple[int, int]:
    return math.ceil(low - 1e-6), math.floor(high + 1e-6)


# Objectives with random signs tried on each component before any target's own: their
# optima spread the targets apart, so that fewer need programs of their own.
RANDOM_OBJECTIVES = 8


def _attack_component(
    program: _Program, targets: list[Target], threshold: int, integer: bool
) -> tuple[list[Finding], dict[Target, tuple[int, int]], dict[Target, float]]:
    """Least and greatest value of each target. Every optimum found is a feasible point,
    which shows a range every other target reaches too: a target whose range already covers
    ``threshold`` whole numbers needs no program of its own. Returns the findings, the exact
    intervals found, and the greatest value seen of every target."""
    rows = [t for t, target in enumerate(targets) for _k in target.keys]
    columns = [program.index[k] for target in targets for k in target.keys]
    matrix = sparse.csr_array(
        (np.ones(len(rows)), (rows, columns)), shape=(len(targets), len(program.keys))
    )
    seen_low = np.full(len(targets), np.inf)
    seen_high = np.full(len(targets), -np.inf)

    def record(x: np.ndarray) -> None:
        values = matrix @ x
        np.minimum(seen_low, values, out=seen_low)
        np.maximum(seen_high, values, out=seen_high)

    def covered(t: int) -> bool:
        low, high = _whole(seen_low[t], seen_high[t])
        return high - low + 1 >= threshold

    weights = np.asarray(matrix.sum(axis=0)).ravel()
    signs = np.random.default_rng(len(program.keys)).choice(
        [-1.0, 1.0], (RANDOM_OBJECTIVES, len(weights))
    )
    for objective in (weights, -weights, *(weights * s for s in signs)):
        try:
            record(program.solve(objective)[0])
        except Unbounded:  # some target has no greatest value: its own program will say
            continue
    findings: list[Finding] = []
    intervals: dict[Target, tuple[int, int]] = {}
    for t, target in enumerate(targets):
        if covered(t):
            continue
        x, low, used_low = program.solve(program.objective(target, 1.0))
        record(x)
        if math.ceil(low - 1e-6) > threshold or covered(t):
            continue
        try:
            x, negative_high, used_high = program.solve(program.objective(target, -1.0))
        except Unbounded:
            continue
        record(x)
        low_whole, high_whole = _whole(low, -negative_high)
        kind = disclosing(low_whole, high_whole, threshold)
        if (
            kind is None
            and integer
            and program.fractional
            and high_whole - low_whole + 1 < threshold + 2
        ):
            # Whole numbers may narrow a range by one at either end.
            low_whole = math.ceil(program.solve_integer(program.objective(target, 1.0)) - 1e-6)
            high_whole = math.floor(-program.solve_integer(program.objective(target, -1.0)) + 1e-6)
            kind = disclosing(low_whole, high_whole, threshold)
            used_low = [*used_low, "counts are whole numbers"]
        intervals[target] = (low_whole, high_whole)
        if kind is not None:
            relations = tuple(dict.fromkeys([*used_low, *used_high]))
            findings.append(Finding(kind, target, (low_whole, high_whole), relations))
    highest = {target: float(seen_high[t]) for t, target in enumerate(targets)}
    return findings, intervals, highest


def _pinned(program: _Program, num_key: Key, den_key: Key, label: str) -> tuple[bool, list[str]]:
    """Whether a share's numerator must be none (``label``) or all of its denominator: the
    greatest numerator (or denominator less numerator) is a whole number below 1."""
    c = np.zeros(len(program.keys))
    c[program.index[num_key]] = -1.0 if label == "none" else 1.0
    if label == "all":
        c[program.index[den_key]] = -1.0
    try:
        _x, value, used = program.solve(c)
    except Unbounded:
        return False, []
    return -value < 1.0 - 1e-6, used


class _Published:
    """What follows without any differencing: the definitions, the published zeros, and the
    shares published as all of their group (100%), no other figure known. A group's "none"
    that follows from these (no FSM pupil among "SEN, not FSM"; no exclusion anywhere, so
    none in the group) is what publishing zeros means, not a disclosure."""

    def __init__(self, model: Model) -> None:
        known = {k: v for k, v in model.known.items() if v == 0.0}
        constraints = list(model.constraints)
        for num_key, den_key in sorted(model.shares):
            num, den = model.known.get(num_key), model.known.get(den_key)
            if num is not None and num == den and num > 0:
                constraints.append(
                    Constraint(((den_key, 1.0), (num_key, -1.0)), "=", 0.0, "shown as all")
                )
        self.model = Model(
            model.threshold,
            known=known,
            seen=model.seen,
            nonempty=model.nonempty,
            constraints=constraints,
        )
        self.programs: dict[Key, _Program] = {}

    def implies(self, num_key: Key, den_key: Key, label: str) -> bool:
        if num_key in self.model.known:
            return label == "none"
        if num_key not in self.programs:
            for keys, constraints in _components(self.model):
                if num_key in keys:
                    program = _Program(self.model, keys, constraints)
                    self.programs.update(dict.fromkeys(keys, program))
        return _pinned(self.programs[num_key], num_key, den_key, label)[0]


def _group_findings(
    model: Model,
    program: _Program,
    highest: Mapping[Target, float],
    implied: Callable[[Key, Key, str], bool],
) -> list[Finding]:
    """A share's numerator pinned to none (or all) of a suppressed group of at most
    ``threshold``: "0 of at most 5 reached grade 4" says something of every one of them
    (unless ``implied`` without differencing)."""
    threshold = model.threshold
    findings = []
    for num_key, den_key in sorted(model.shares):
        if den_key not in program.index or num_key not in program.index:
            continue
        # A group seen to hold more than the threshold does; otherwise find its greatest.
        if highest.get(Target((den_key,)), 0.0) > threshold + 1e-6:
            continue
        try:
            _x, negative_high, used_high = program.solve(
                program.objective(Target((den_key,)), -1.0)
            )
        except Unbounded:
            continue
        _x, low, used_low = program.solve(program.objective(Target((den_key,)), 1.0))
        group = _whole(low, -negative_high)
        if group[1] > threshold or group[1] < 1:
            continue
        for label in ("none", "all"):
            pinned, used = _pinned(program, num_key, den_key, label)
            if pinned and not implied(num_key, den_key, label):
                relations = tuple(dict.fromkeys([*used, *used_low, *used_high]))
                detail = f"{label} of {describe(den_key)}, a group of {group[0]} to {group[1]}"
                findings.append(
                    Finding(
                        "group",
                        Target((num_key,)),
                        (0, 0) if label == "none" else group,
                        relations,
                        detail,
                    )
                )
    return findings


# -- The pages' view ------------------------------------------------------------------------


def pages_view(export: pd.DataFrame) -> pd.DataFrame:
    """The figures as the insight pages show them: a rate rounded to its published places,
    beside its base ("44% of 32"), its numerator not given."""
    view = export.copy()
    rates = [MEASURES[m].numerator != MEASURES[m].denominator for m in view.measure]
    view["value"] = [
        v if pd.isna(v) or not rate else float(_published(float(v), MEASURES[m].places))
        for v, rate, m in zip(view.value, rates, view.measure, strict=True)
    ]
    view["numerator"] = view["numerator"].where(~pd.Series(rates, index=view.index))
    return view


def truth(mart_export: pd.DataFrame) -> dict[Key, float]:
    """Every figure of an unsuppressed export (``disclosed_export(..., unrestricted=True)``),
    by the attacker's keys: to check the attacker's relations hold on the real figures."""
    values: dict[Key, float] = {}
    names = (
        "period",
        "measure",
        "cohort",
        "breakdown",
        "breakdown_value",
        "numerator",
        "denominator",
        "symbol",
    )
    for period, measure, cohort, breakdown, value, num, den, symbol in zip(
        *(mart_export[c].tolist() for c in names), strict=True
    ):
        parts = MEASURES[str(measure)]
        cell = (str(cohort), str(breakdown), str(value))
        num_key: Key = (str(period), parts.numerator, *cell)
        den_key: Key = (str(period), parts.denominator, *cell)
        for key, amount in ((num_key, _number(num)), (den_key, _number(den))):
            if amount is not None:
                values[key] = amount
        if symbol == "z":
            values.setdefault(den_key, 0.0)
            if _empty_with_base(parts):
                values.setdefault(num_key, 0.0)
    return values
