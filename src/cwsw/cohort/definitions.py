"""Named, versioned cohort definitions, and the combinations a user names in configuration.

A cohort is a set of children built from the status timelines (:mod:`cwsw.cohort.groups`),
then mapped to pupils through ``child_pupil_link``. The kinds, each a DfE definition:

``at``       a DfE social care group at the reference 31 March (CINO / CPPO / CLA 12 months /
             CLA under 12 months, mutually exclusive, highest first);
``in_year``  a DfE group at any point in the collection year (CLA > CPPO > CINO);
``ever``     a status (CIN, CP or CLA) at any time in the last ``years`` collection years;
``open``     a case (CIN, CP or CLA) open on the reference date ("currently open");
``combine``  ``any_of`` (union) and / or ``all_of`` (intersection) of other cohorts, less
             those in ``exclude``;
``not``      the pupils of a population who are not in cohort ``of`` (e.g. never CIN);
``all``      every pupil of a population.

NFA referrals are left out of every CIN status unless ``include_nfa = true``. Configuration is
TOML (or the same shape as a dict)::

    [cohorts."CIN or CP in last 3 years"]
    kind = "combine"
    any_of = ["Ever CIN last 3 years", "Ever CP last 3 years"]

    [cohorts."Ever CIN last 3 years"]
    kind = "ever"
    status = "CIN"
    years = 3
"""

from __future__ import annotations

import datetime as dt
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import ibis
from ibis.expr.types import Table

from cwsw.cohort import groups, timelines
from cwsw.cohort.groups import (
    CINO,
    CLA_12_MONTHS,
    CPPO,
    GROUP_PRIORITY,
    IN_YEAR_PRIORITY,
)
from cwsw.cohort.timelines import CIN, STATUSES
from cwsw.domain.labels import (
    ALL_PUPILS,
    CIN_IN_YEAR,
    COHORT_LABELS,
    EVER_CIN_6_YEARS,
    NEVER_CIN_6_YEARS,
)
from cwsw.errors import UserError

__all__ = ["ALL_PUPILS", "CIN_IN_YEAR", "EVER_CIN_6_YEARS", "NEVER_CIN_6_YEARS"]

DEFINITION_VERSION = f"cohorts-1+{groups.DEFINITION_VERSION}+{timelines.DEFINITION_VERSION}"

KINDS = ("at", "in_year", "ever", "open", "combine", "not", "all")
CHILD_KINDS = ("at", "in_year", "ever", "open", "combine")


class CohortConfigError(UserError, ValueError):
    """A cohort configuration that cannot be used; the message names the cohort and key."""


@dataclass(frozen=True)
class CohortSpec:
    """One named cohort. See the module docstring for the kinds and their keys."""

    name: str
    kind: str
    label: str = ""
    groups: tuple[str, ...] = ()
    status: str = CIN
    years: int = 6
    include_nfa: bool = False
    any_of: tuple[str, ...] = ()
    all_of: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    of: str = ""
    version: str = field(default="1")

    @property
    def definition_version(self) -> str:
        """The cohort's own version with the timeline and group definitions it rests on."""
        return f"{self.kind}-{self.version}"

    @property
    def display_label(self) -> str:
        return self.label or self.name


# Labels from cwsw.domain.labels, the one list the report, export and pages share.
DEFAULT_COHORTS: tuple[CohortSpec, ...] = (
    CohortSpec(CINO, "at", COHORT_LABELS[CINO], groups=(CINO,)),
    CohortSpec(CPPO, "at", COHORT_LABELS[CPPO], groups=(CPPO,)),
    CohortSpec(CLA_12_MONTHS, "at", COHORT_LABELS[CLA_12_MONTHS], groups=(CLA_12_MONTHS,)),
    CohortSpec(CIN_IN_YEAR, "in_year", COHORT_LABELS[CIN_IN_YEAR], groups=IN_YEAR_PRIORITY),
    CohortSpec(EVER_CIN_6_YEARS, "ever", COHORT_LABELS[EVER_CIN_6_YEARS], status=CIN, years=6),
    CohortSpec(NEVER_CIN_6_YEARS, "not", COHORT_LABELS[NEVER_CIN_6_YEARS], of=EVER_CIN_6_YEARS),
    CohortSpec(ALL_PUPILS, "all", COHORT_LABELS[ALL_PUPILS]),
)


def _strings(name: str, key: str, value: Any) -> tuple[str, ...]:
    if isinstance(value, str):
        return (value,)
    if not isinstance(value, Sequence) or not all(isinstance(v, str) for v in value):
        raise CohortConfigError(f"cohort {name!r}: {key} must be a list of names, got {value!r}")
    return tuple(value)


def parse_cohorts(config: Mapping[str, Any]) -> tuple[CohortSpec, ...]:
    """Cohort specs from a configuration mapping (``{"cohorts": {name: {...}}}``).

    Every reference is checked: a ``combine`` or ``not`` may name a cohort defined here or a
    default one; unknown keys, kinds, groups and statuses are refused with the cohort's name.
    """
    entries = config.get("cohorts", config)
    if not isinstance(entries, Mapping):
        raise CohortConfigError("the configuration must be a table of cohorts")
    allowed = {"kind", "label", "groups", "status", "years", "include_nfa"}
    allowed |= {"any_of", "all_of", "exclude", "of", "version"}
    specs = []
    for name, entry in entries.items():
        if not isinstance(entry, Mapping):
            raise CohortConfigError(f"cohort {name!r} must be a table of keys")
        unknown = set(entry) - allowed
        if unknown:
            raise CohortConfigError(f"cohort {name!r}: unknown keys {sorted(unknown)}")
        kind = entry.get("kind", "combine" if "any_of" in entry or "all_of" in entry else None)
        if kind not in KINDS:
            raise CohortConfigError(f"cohort {name!r}: kind must be one of {KINDS}, got {kind!r}")
        years = entry.get("years", 6)
        if not isinstance(years, int) or isinstance(years, bool) or years < 1:
            raise CohortConfigError(f"cohort {name!r}: years must be a whole number >= 1")
        include_nfa = entry.get("include_nfa", False)
        if not isinstance(include_nfa, bool):
            raise CohortConfigError(f"cohort {name!r}: include_nfa must be true or false")
        spec = CohortSpec(
            name=str(name),
            kind=kind,
            label=str(entry.get("label", "")),
            groups=_strings(name, "groups", entry.get("groups", ())),
            status=str(entry.get("status", CIN)),
            years=years,
            include_nfa=include_nfa,
            any_of=_strings(name, "any_of", entry.get("any_of", ())),
            all_of=_strings(name, "all_of", entry.get("all_of", ())),
            exclude=_strings(name, "exclude", entry.get("exclude", ())),
            of=str(entry.get("of", "")),
            version=str(entry.get("version", "1")),
        )
        specs.append(spec)
    validate(specs)
    return tuple(specs)


def load_cohorts(path: Path) -> tuple[CohortSpec, ...]:
    """The default cohorts followed by those a TOML file names (a name may redefine one)."""
    try:
        config = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as error:
        raise CohortConfigError(f"{path}: not valid TOML ({error})") from None
    except OSError as error:
        raise CohortConfigError(f"{path}: cannot be read ({error.strerror})") from None
    return with_defaults(parse_cohorts(config))


def with_defaults(specs: Sequence[CohortSpec]) -> tuple[CohortSpec, ...]:
    """The defaults, then ``specs``; a spec with a default's name replaces it in place."""
    named = {s.name: s for s in specs}
    merged = [named.pop(s.name, s) for s in DEFAULT_COHORTS]
    merged.extend(s for s in specs if s.name in named)
    validate(merged)
    return tuple(merged)


def validate(specs: Sequence[CohortSpec]) -> None:
    """Refuse unknown groups, statuses and references, and circular combinations."""
    known = {s.name: s for s in (*DEFAULT_COHORTS, *specs)}
    for spec in specs:
        where = f"cohort {spec.name!r}"
        if spec.kind == "at" and (not spec.groups or set(spec.groups) - set(GROUP_PRIORITY)):
            raise CohortConfigError(f"{where}: groups must be among {GROUP_PRIORITY}")
        if spec.kind == "in_year" and (not spec.groups or set(spec.groups) - set(IN_YEAR_PRIORITY)):
            raise CohortConfigError(f"{where}: groups must be among {IN_YEAR_PRIORITY}")
        if spec.kind in ("ever", "open") and spec.status not in STATUSES:
            raise CohortConfigError(f"{where}: status must be one of {STATUSES}")
        if spec.kind == "combine" and not (spec.any_of or spec.all_of):
            raise CohortConfigError(f"{where}: a combination needs any_of or all_of")
        refs = (*spec.any_of, *spec.all_of, *spec.exclude)
        for ref in refs:
            if ref not in known:
                raise CohortConfigError(f"{where}: names an unknown cohort {ref!r}")
            if known[ref].kind not in CHILD_KINDS:
                raise CohortConfigError(
                    f"{where}: {ref!r} is a '{known[ref].kind}' cohort of pupils; "
                    "combinations are of children"
                )
        if spec.kind == "not" and (spec.of not in known or known[spec.of].kind == "not"):
            raise CohortConfigError(f"{where}: 'of' must name a cohort of children")
    for spec in specs:
        _check_cycle(spec.name, known, ())


def _check_cycle(name: str, known: Mapping[str, CohortSpec], path: tuple[str, ...]) -> None:
    if name in path:
        raise CohortConfigError(f"cohorts refer to each other in a circle: {' -> '.join(path)}")
    spec = known[name]
    for ref in (*spec.any_of, *spec.all_of, *spec.exclude):
        _check_cycle(ref, known, (*path, name))


@dataclass(frozen=True)
class Timelines:
    """The social care tables a cohort is built from (Ibis tables on one backend)."""

    cin_episode: Table
    cp_plan: Table
    cla_episode: Table

    @classmethod
    def from_backend(cls, con: ibis.BaseBackend) -> Timelines:
        return cls(con.table("cin_episode"), con.table("cp_plan"), con.table("cla_episode"))


def child_members(
    spec: CohortSpec,
    data: Timelines,
    reference_date: dt.date,
    known: Mapping[str, CohortSpec] | None = None,
) -> Table:
    """The children (``la_child_id``) in a child cohort at ``reference_date``."""
    known = known or {s.name: s for s in DEFAULT_COHORTS}
    nfa = spec.include_nfa
    if spec.kind == "at":
        at = groups.social_care_group_at(
            data.cin_episode, data.cp_plan, data.cla_episode, reference_date, include_nfa=nfa
        )
        return at.filter(at.social_care_group.isin(spec.groups)).select("la_child_id")
    if spec.kind == "in_year":
        in_year = groups.social_care_group_in_year(
            data.cin_episode, data.cp_plan, data.cla_episode, reference_date, include_nfa=nfa
        )
        return in_year.filter(in_year.social_care_group.isin(spec.groups)).select("la_child_id")
    spells = timelines.status_spells(
        data.cin_episode, data.cp_plan, data.cla_episode, include_nfa=nfa
    )
    if spec.kind == "ever":
        return groups.ever_with_status(spells, spec.status, reference_date, spec.years)
    if spec.kind == "open":
        return groups.currently_open(spells, reference_date, (spec.status,))
    if spec.kind == "combine":
        result: Table | None = None
        for ref in spec.any_of:
            part = child_members(known[ref], data, reference_date, known)
            result = part if result is None else result.union(part)
        for ref in spec.all_of:
            part = child_members(known[ref], data, reference_date, known)
            result = part if result is None else result.intersect(part)
        assert result is not None
        for ref in spec.exclude:
            result = result.difference(child_members(known[ref], data, reference_date, known))
        return result.distinct()
    raise CohortConfigError(f"cohort {spec.name!r} ({spec.kind}) is not a cohort of children")


def pupil_memberships(
    specs: Sequence[CohortSpec], data: Timelines, link: Table, reference_date: dt.date
) -> Table:
    """Pupils (``upn``) in each child cohort, through the child-pupil links.

    Columns: ``upn``, ``cohort``. ``all`` and ``not`` cohorts are not listed: they depend on
    the population a measure counts and are formed there (:func:`cohort_tagged`).
    """
    known = {s.name: s for s in (*DEFAULT_COHORTS, *specs)}
    links = link.select("la_child_id", "upn")
    parts = [
        links.join(child_members(spec, data, reference_date, known), "la_child_id")
        .select("upn", cohort=ibis.literal(spec.name))
        .distinct()
        for spec in specs
        if spec.kind in CHILD_KINDS
    ]
    if not parts:
        return ibis.memtable(
            {"upn": [], "cohort": []}, schema={"upn": "string", "cohort": "string"}
        )
    result = parts[0]
    for part in parts[1:]:
        result = result.union(part)
    return result


def cohort_tagged(population: Table, memberships: Table, specs: Sequence[CohortSpec]) -> Table:
    """``population`` (a table with ``upn``) with a ``cohort`` column, once per cohort a row is in.

    ``all`` takes every row; ``not`` the rows whose pupil is not in cohort ``of``; the others
    the rows whose pupil the memberships list.
    """
    parts = []
    for spec in specs:
        if spec.kind == "all":
            parts.append(population.mutate(cohort=ibis.literal(spec.name)))
        elif spec.kind == "not":
            members = memberships.filter(memberships.cohort == spec.of).select("upn")
            outside = population.anti_join(members, population.upn == members.upn)
            parts.append(outside.mutate(cohort=ibis.literal(spec.name)))
        else:
            chosen = memberships.filter(memberships.cohort == spec.name).select(_member_upn="upn")
            inside = population.join(chosen, population.upn == chosen._member_upn).drop(
                "_member_upn"
            )
            parts.append(inside.mutate(cohort=ibis.literal(spec.name)))
    result = parts[0]
    for part in parts[1:]:
        result = result.union(part)
    return result
