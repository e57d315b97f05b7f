"""Need rating rules: a declarative TOML file read into typed, validated rules.

A rule file names the conditions that make a child red or amber (green is "otherwise"),
over the facts :mod:`cwsw.targeting.engine` rates: a measure's value in a term (attendance,
absence, persistent and severe absence, suspensions, permanent exclusions), its change
between two terms, a count over the last few terms, and facts about the child now (social
care status, compulsory school age, on a school roll). The language is written up for the
analysts who edit it in ``docs/targeting.md``; the default rules are ``default_rules.toml``.

The whole file is checked before anything is rated. A file that cannot be used is refused
with a :class:`RuleFileError` whose one-line message names the file, the line, the rule and
the reason. ``tomllib`` gives positions only for syntax errors, so the line of a key that is
wrong in meaning is found in the source text (:class:`_Source`).
"""

from __future__ import annotations

import difflib
import hashlib
import math
import re
import tomllib
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TypeAlias

from cwsw.cohort.status import STATUS_PRIORITY
from cwsw.domain.calendar import ABSENCE_TERM, CENSUS_SEASONS
from cwsw.errors import UserError

# The ratings, highest need first; green is what a child is when no red or amber rule fires.
RED = "red"
AMBER = "amber"
GREEN = "green"
RATINGS = (RED, AMBER, GREEN)
RULED_RATINGS = (RED, AMBER)

# How a rating counts a rule whose answer is unknown (a value it needs is missing).
UNKNOWN_DOES_NOT_FIRE = "does not fire"
UNKNOWN_FIRES = "fires"
UNKNOWN_CHOICES = (UNKNOWN_DOES_NOT_FIRE, UNKNOWN_FIRES)

OPERATORS = ("<", "<=", ">", ">=", "==", "!=", "in")
ORDERING = ("<", "<=", ">", ">=")
EQUALITY = ("==", "!=")

# Kinds of measure: what values they take and so which operators and forms apply.
PERCENT = "percent"  # 0 to 100
FLAG = "flag"  # yes or no
COUNT = "count"  # a whole number, 0 or more
STATUS = "status"  # one of cwsw.cohort.status.STATUS_PRIORITY

# Six years of terms: further back than the "ever in the last 6 years" cohort is a mistake.
MAX_TERMS_AGO = 17
MAX_NAME_LENGTH = 80


@dataclass(frozen=True)
class Measure:
    """A fact a rule can test, as the facts table holds it (see ``docs/targeting.md``).

    ``per_term``: one value per term (column ``name[spring 2025]``), else one per child
    (column ``name``). ``words`` names it in an explanation: for a number its noun
    ("attendance"), for a count its singular and plural, for a flag what it says when yes,
    with ``words_no`` when no.
    """

    name: str
    kind: str
    per_term: bool
    words: str
    words_no: str = ""
    plural: str = ""
    definition: str = ""


MEASURES: dict[str, Measure] = {
    m.name: m
    for m in (
        Measure(
            "attendance_pct",
            PERCENT,
            True,
            "attendance",
            definition="sessions attended (present or approved educational activity) as a "
            "% of possible sessions in the term, over all the child's enrolments: 100 less "
            "the absence rate",
        ),
        Measure(
            "absence_pct",
            PERCENT,
            True,
            "absence",
            definition="authorised and unauthorised absence as a % of possible sessions in the "
            "term (DfE overall absence rate, cwsw.indicators.absence.overall_absence)",
        ),
        Measure(
            "persistently_absent",
            FLAG,
            True,
            "persistently absent",
            "not persistently absent",
            definition="missed 10% or more of possible sessions in the term (DfE persistent "
            "absence, cwsw.indicators.absence.PERSISTENT_ABSENCE_THRESHOLD)",
        ),
        Measure(
            "severely_absent",
            FLAG,
            True,
            "severely absent",
            "not severely absent",
            definition="missed 50% or more of possible sessions in the term (DfE severe "
            "absence, cwsw.indicators.absence.SEVERE_ABSENCE_THRESHOLD)",
        ),
        Measure(
            "suspensions",
            COUNT,
            True,
            "suspension",
            plural="suspensions",
            definition="suspensions (fixed-period exclusions) the school census records for "
            "the term",
        ),
        Measure(
            "permanent_exclusions",
            COUNT,
            True,
            "permanent exclusion",
            plural="permanent exclusions",
            definition="permanent exclusions the school census records for the term",
        ),
        Measure(
            "on_roll",
            FLAG,
            False,
            "on a school roll",
            "on no school roll",
            definition="on the roll of a school in the LA's latest school census",
        ),
        Measure(
            "compulsory_school_age",
            FLAG,
            False,
            "of compulsory school age",
            "not of compulsory school age",
            definition="aged 5 to 15 on 31 August before the academic year of the rating "
            "date (NC years 1 to 11 by date of birth, cwsw.domain.calendar)",
        ),
        Measure(
            "social_care_status",
            STATUS,
            False,
            "social care status",
            definition="the child's social care status on the rating date "
            "(cwsw.cohort.status.social_care_status_at)",
        ),
    )
}

# What a status says in an explanation.
STATUS_WORDS = dict(
    zip(
        STATUS_PRIORITY,
        (
            "looked after",
            "on a child protection plan",
            "a child in need",
            "previously had a social worker",
        ),
        strict=True,
    )
)

# --- terms ------------------------------------------------------------------------------------


@dataclass(frozen=True, order=True, repr=False)
class Term:
    """A school term, named by its season and the calendar year it falls in.

    Autumn 2024, spring 2025 and summer 2025 make academic year 2024/25. Ordered in time.
    (Not a census term: the census named ``2025_summer`` carries spring 2025's absence,
    a term in arrears; :meth:`of_census`.)
    """

    index: int  # 3 x calendar year + 0 spring, 1 summer, 2 autumn: consecutive terms differ by 1

    @classmethod
    def of(cls, season: str, year: int) -> Term:
        if season not in CENSUS_SEASONS:
            raise ValueError(f"no term season {season!r}: use autumn, spring or summer")
        return cls(3 * year + CENSUS_SEASONS.index(season))

    @classmethod
    def parse(cls, text: str) -> Term:
        """``"spring 2025"`` (as :attr:`label` writes it) -> the term."""
        match = re.fullmatch(r"\s*(autumn|spring|summer)\s+(\d{4})\s*", text.lower())
        if not match:
            raise ValueError(f"{text!r} is not a term: write e.g. 'spring 2025'")
        return cls.of(match.group(1), int(match.group(2)))

    @classmethod
    def of_census(cls, census_term: str) -> Term:
        """The term whose absence and exclusions a census carries (a term in arrears):
        census ``2025_spring`` -> autumn 2024, ``2025_summer`` -> spring 2025,
        ``2025_autumn`` -> summer 2025 (:data:`cwsw.domain.calendar.ABSENCE_TERM`)."""
        year, _, census_season = census_term.partition("_")
        season = ABSENCE_TERM[census_season]
        return cls.of(season, int(year) - 1 if season == "autumn" else int(year))

    @property
    def year(self) -> int:
        return self.index // 3

    @property
    def season(self) -> str:
        return CENSUS_SEASONS[self.index % 3]

    @property
    def academic_year_end(self) -> int:
        """The calendar year its academic year ends in: autumn 2024 -> 2025."""
        return self.year + 1 if self.season == "autumn" else self.year

    @property
    def census_term(self) -> str:
        """The census that carries this term's absence: spring 2025 -> ``2025_summer``."""
        after = self.index + 1
        return f"{after // 3}_{CENSUS_SEASONS[after % 3]}"

    @property
    def label(self) -> str:
        return f"{self.season} {self.year}"

    def before(self, terms: int) -> Term:
        """The term ``terms`` before this one (0 is this term)."""
        return Term(self.index - terms)

    def __str__(self) -> str:
        return self.label

    def __repr__(self) -> str:
        return f"Term.parse({self.label!r})"


def column(measure: str, term: Term | None = None) -> str:
    """The facts table's column for a measure: ``attendance_pct[spring 2025]`` for a term,
    ``social_care_status`` for a fact about the child now."""
    return measure if term is None else f"{measure}[{term.label}]"


# --- the rules as data ------------------------------------------------------------------------

Scalar: TypeAlias = bool | int | float | str
Threshold: TypeAlias = Scalar | tuple[Scalar, ...]


@dataclass(frozen=True)
class ValueIs:
    """A measure's value in a term (``terms_ago`` 0 is this term) or, for a fact about the
    child, now (``terms_ago`` None), compared with ``value``."""

    measure: str
    op: str
    value: Threshold
    terms_ago: int | None
    line: int


@dataclass(frozen=True)
class ChangeIs:
    """The change in a measure from ``from_terms_ago`` to ``to_terms_ago`` (later less
    earlier: a fall is negative), compared with ``value``."""

    measure: str
    op: str
    value: Threshold
    from_terms_ago: int
    to_terms_ago: int
    line: int


@dataclass(frozen=True)
class CountIs:
    """A count summed, or the terms a flag was yes counted, over this term and the
    ``in_last_terms`` - 1 before it, compared with ``value``."""

    measure: str
    op: str
    value: Threshold
    in_last_terms: int
    line: int


@dataclass(frozen=True)
class AllOf:
    conditions: tuple[Condition, ...]
    line: int


@dataclass(frozen=True)
class AnyOf:
    conditions: tuple[Condition, ...]
    line: int


@dataclass(frozen=True)
class Not:
    condition: Condition
    line: int


Leaf: TypeAlias = ValueIs | ChangeIs | CountIs
Condition: TypeAlias = ValueIs | ChangeIs | CountIs | AllOf | AnyOf | Not


@dataclass(frozen=True)
class Rule:
    """A named condition that gives a child its rating; ``why`` is the file's reason."""

    name: str
    rating: str
    condition: Condition
    why: str
    line: int


@dataclass(frozen=True)
class Rating:
    """A rating's rules, in file order, and how it counts a rule whose answer is unknown."""

    name: str
    rules: tuple[Rule, ...]
    unknown: str = UNKNOWN_DOES_NOT_FIRE


@dataclass(frozen=True)
class RuleSet:
    """A validated rule file: red then amber (green is otherwise), and where it came from."""

    title: str
    ratings: tuple[Rating, ...]
    source: str
    sha256: str

    @property
    def rules(self) -> tuple[Rule, ...]:
        """Every rule in precedence order: red's in file order, then amber's."""
        return tuple(rule for rating in self.ratings for rule in rating.rules)

    def columns(self, this_term: Term) -> dict[str, tuple[Rule, ...]]:
        """The facts columns rating on ``this_term`` reads, each with the rules that read it,
        in the order the rules first read them."""
        found: dict[str, list[Rule]] = {}
        for rule in self.rules:
            for leaf in leaves(rule.condition):
                for name in leaf_columns(leaf, this_term):
                    readers = found.setdefault(name, [])
                    if rule not in readers:
                        readers.append(rule)
        return {name: tuple(rules) for name, rules in found.items()}

    def terms(self, this_term: Term) -> tuple[Term, ...]:
        """The terms the rules read, earliest first (for a facts builder to fetch)."""
        back = {0}
        for rule in self.rules:
            for leaf in leaves(rule.condition):
                back.update(_terms_ago(leaf))
        return tuple(this_term.before(n) for n in sorted(back, reverse=True))


def leaves(condition: Condition) -> Iterator[Leaf]:
    """The comparisons in a condition, in file order."""
    if isinstance(condition, AllOf | AnyOf):
        for inner in condition.conditions:
            yield from leaves(inner)
    elif isinstance(condition, Not):
        yield from leaves(condition.condition)
    else:
        yield condition


def _terms_ago(leaf: Leaf) -> tuple[int, ...]:
    if isinstance(leaf, ValueIs):
        return () if leaf.terms_ago is None else (leaf.terms_ago,)
    if isinstance(leaf, ChangeIs):
        return (leaf.from_terms_ago, leaf.to_terms_ago)
    return tuple(range(leaf.in_last_terms))


def leaf_columns(leaf: Leaf, this_term: Term) -> tuple[str, ...]:
    """The facts columns one comparison reads, on ``this_term``."""
    if isinstance(leaf, ValueIs) and leaf.terms_ago is None:
        return (column(leaf.measure),)
    return tuple(column(leaf.measure, this_term.before(n)) for n in _terms_ago(leaf))


# --- refusals ---------------------------------------------------------------------------------


class RuleFileError(UserError):
    """A rule file that cannot be used: one line naming the file, line, rule and reason."""

    def __init__(self, source: str, line: int, rule: str | None, reason: str) -> None:
        self.source = source
        self.line = line
        self.rule = rule
        self.reason = reason
        where = f"{source}, line {line}" + (f", rule '{rule}'" if rule else "")
        super().__init__(f"rule file {where}: {reason}")


_HEADER = re.compile(r"^\s*(\[\[?)\s*([A-Za-z0-9_\-\"' .]+?)\s*\]\]?\s*(#.*)?$")


def _code(text: str) -> str:
    """A line of TOML without its comment (a ``#`` outside quotes)."""
    quote = ""
    for position, char in enumerate(text):
        if quote:
            if char == quote:
                quote = ""
        elif char in "\"'":
            quote = char
        elif char == "#":
            return text[:position]
    return text


class _Source:
    """The rule file's text, to find the line of a key that ``tomllib`` accepted but the
    rules refuse (tomllib keeps no positions). Tables are found by their headers
    (``[red]``, the n-th ``[[red.rule]]``); a key by ``key =`` within a span of lines,
    preferring the line that also holds the offending value."""

    def __init__(self, text: str) -> None:
        self.lines = text.splitlines()
        # (line number, table name with spaces and quotes taken out)
        self.headers: list[tuple[int, str]] = []
        for number, text_line in enumerate(self.lines, start=1):
            match = _HEADER.match(text_line)
            if match:
                self.headers.append((number, re.sub(r"[\s\"']", "", match.group(2))))

    def table(self, name: str, index: int = 0) -> tuple[int, int] | None:
        """First and last line of the ``index``-th table called ``name`` (header and
        sub-tables included), or None if it has no header of its own."""
        found = [number for number, header in self.headers if header == name]
        if index >= len(found):
            return None
        start = found[index]
        # Its sub-tables ([[red.rule.all]] under [[red.rule]]) belong to it.
        later = [
            number
            for number, header in self.headers
            if number > start and not header.startswith(f"{name}.")
        ]
        return start, (later[0] - 1 if later else len(self.lines))

    def table_under(self, name: str) -> tuple[int, int] | None:
        """The first table whose name begins ``name.`` (``[[green.rule]]`` under green)."""
        for _, header in self.headers:
            if header.startswith(f"{name}."):
                return self.table(header)
        return None

    def header(self, span: tuple[int, int], key: str) -> int | None:
        """The first header in ``span`` of a sub-table named ``key`` (``[[red.rule.any]]``)."""
        for number, header in self.headers:
            if span[0] <= number <= span[1] and header.endswith(f".{key}"):
                return number
        return None

    def top(self) -> tuple[int, int]:
        """The lines before the first table header (at least line 1)."""
        return 1, max(1, self.headers[0][0] - 1 if self.headers else len(self.lines))

    def table_at(self, line: int) -> tuple[str, tuple[int, int]] | None:
        """The name and lines of the table holding ``line``, if it is under a header."""
        starts = [(number, name) for number, name in self.headers if number <= line]
        if not starts:
            return None
        start, name = starts[-1]
        later = [number for number, _ in self.headers if number > start]
        return name, (start, later[0] - 1 if later else len(self.lines))

    def key(self, span: tuple[int, int], key: str, value: object = None) -> int | None:
        """The line in ``span`` where ``key =`` is written (with ``value`` if it can)."""
        pattern = re.compile(rf"(?:^|[\s{{,]){re.escape(key)}\s*=(.*)$")
        candidates = []
        for number in range(span[0], min(span[1], len(self.lines)) + 1):
            match = pattern.search(_code(self.lines[number - 1]))
            if match:
                candidates.append((number, match.group(1)))
        if not candidates:
            return None
        if value is not None:
            shown = _toml_text(value)
            for number, after in candidates:
                if shown in after:
                    return number
        return candidates[0][0]


def _toml_text(value: object) -> str:
    """How a value reads in the file, enough to tell its line from another's."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    if isinstance(value, list | tuple):
        return "["
    if isinstance(value, dict):
        return "{"
    return str(value)


Refuse: TypeAlias = Callable[[str], "RuleFileError"]


@dataclass
class _Place:
    """Where in the file a rule is, for messages: its table's lines, its name, and the line
    of the condition being read (searched first)."""

    span: tuple[int, int]
    rule: str | None
    cursor: int = 0


# The keys of each form of condition; the first names it.
_FORMS: dict[str, tuple[str, ...]] = {
    "measure": ("measure", "terms_ago", "op", "value"),
    "change": ("change", "from_terms_ago", "to_terms_ago", "op", "value"),
    "count": ("count", "in_last_terms", "op", "value"),
    "all": ("all",),
    "any": ("any",),
    "not": ("not",),
}
_CONDITION_KEYS = tuple(dict.fromkeys(key for keys in _FORMS.values() for key in keys))
_REQUIRED = {
    "measure": ("op", "value"),
    "change": ("from_terms_ago", "op", "value"),
    "count": ("in_last_terms", "op", "value"),
}
_CONDITION_HOW = (
    "give measure, change or count with op and value, or combine conditions with all, any "
    "or not (docs/targeting.md)"
)
_EXAMPLE = {
    "measure": 'e.g. measure = "attendance_pct", op = "<", value = 50',
    "change": 'e.g. change = "attendance_pct", from_terms_ago = 2, op = "<=", value = -5',
    "count": 'e.g. count = "suspensions", in_last_terms = 3, op = ">=", value = 1',
}
# The operators each kind of value may be compared with.
_KIND_OPERATORS = {
    PERCENT: ORDERING + EQUALITY,
    COUNT: OPERATORS,
    FLAG: EQUALITY,
    STATUS: (*EQUALITY, "in"),
}
_KIND_WORDS = {
    PERCENT: "a percentage",
    COUNT: "a count",
    FLAG: "yes or no",
    STATUS: "social care status",
}


class _Reader:
    """Turns the parsed TOML into a :class:`RuleSet`, refusing the first fault in file order."""

    def __init__(self, source: str, text: str) -> None:
        self.source_name = source
        self.text = _Source(text)

    def fail(
        self, place: _Place, reason: str, key: str | None = None, value: object = None
    ) -> RuleFileError:
        """The refusal, at the line of ``key`` (with ``value``) from the condition being read
        on, else anywhere in the rule, else at the rule's first line."""
        line = None
        if key is not None:
            if place.cursor:
                line = self.text.key((place.cursor, place.span[1]), key, value)
            line = line or self.text.key(place.span, key, value)
        return RuleFileError(
            self.source_name, line or place.cursor or place.span[0], place.rule, reason
        )

    # -- the file ------------------------------------------------------------------------------

    def rule_set(self, data: Mapping[str, object], sha256: str) -> RuleSet:
        top = _Place(self.text.top(), None)
        for key in data:
            if key not in ("title", *RULED_RATINGS):
                span = self.text.table(key) or self.text.table_under(key) or top.span
                reason = (
                    "green takes no rules: a child no red or amber rule fires for is green"
                    if key == GREEN
                    else f"unknown key '{key}'{_did_you_mean(key, ('title', *RULED_RATINGS))}"
                )
                raise self.fail(
                    _Place(span, None), f"{reason}; a rule file holds title, red and amber", key
                )
        title = data.get("title", "")
        if not isinstance(title, str):
            raise self.fail(top, "title must be text in quotes", "title")
        names: dict[str, Rule] = {}
        ratings = tuple(self.rating(name, data.get(name), names) for name in RULED_RATINGS)
        return RuleSet(title.strip(), ratings, self.source_name, sha256)

    def rating(self, name: str, body: object, names: dict[str, Rule]) -> Rating:
        span = self.text.table(name) or self.text.table(f"{name}.rule") or self.text.top()
        place = _Place(span, None)
        how = f"write [[{name}.rule]] tables (double brackets), each with a name and a condition"
        if body is None:
            raise self.fail(place, f"the file has no {name} rules: {how}")
        if not isinstance(body, dict):
            raise self.fail(place, f"{name} must be a table: {how}", name)
        for key in body:
            if key not in ("unknown", "rule"):
                raise self.fail(
                    place,
                    f"unknown key '{key}' in {name}{_did_you_mean(key, ('unknown', 'rule'))}; "
                    f"a rating holds unknown and its [[{name}.rule]] tables",
                    key,
                )
        unknown = body.get("unknown", UNKNOWN_DOES_NOT_FIRE)
        if unknown not in UNKNOWN_CHOICES:
            raise self.fail(
                place,
                f'unknown = {_shown(unknown)} in {name}: write unknown = "does not fire" or '
                'unknown = "fires" (how a rule whose values are missing counts)',
                "unknown",
                unknown,
            )
        rules_body = body.get("rule")
        if not isinstance(rules_body, list) or not rules_body:
            raise self.fail(place, f"{name} has no rules: {how}", "rule")
        rules = tuple(
            self.rule(name, index, rule_body, names) for index, rule_body in enumerate(rules_body)
        )
        return Rating(name, rules, str(unknown))

    def rule(self, rating: str, index: int, body: object, names: dict[str, Rule]) -> Rule:
        span = self.text.table(f"{rating}.rule", index) or self.text.table(rating)
        place = _Place(span or self.text.top(), f"{rating} rule {index + 1}")
        if not isinstance(body, dict):
            raise self.fail(place, "a rule must be a table with a name and a condition")
        name = body.get("name")
        if not isinstance(name, str) or not name.strip():
            raise self.fail(
                place,
                'the rule has no name: give it name = "..." (shown with its ratings)',
                "name",
            )
        name = name.strip()
        if len(name) > MAX_NAME_LENGTH or "\n" in name or ";" in name:
            raise self.fail(
                place,
                f"the rule's name must be one line of at most {MAX_NAME_LENGTH} characters "
                "with no ';'",
                "name",
            )
        place.rule = name
        if name in names:
            earlier = names[name]
            raise self.fail(
                place,
                f"duplicate rule name: the {earlier.rating} rule on line {earlier.line} is "
                "already called that; give each rule its own name",
                "name",
                name,
            )
        why = body.get("why", "")
        if not isinstance(why, str):
            raise self.fail(place, "why must be text in quotes", "why")
        condition_body = {k: v for k, v in body.items() if k not in ("name", "why")}
        if not condition_body:
            raise self.fail(place, f"the rule has no condition: {_CONDITION_HOW}")
        condition = self.condition(condition_body, place)
        rule = Rule(name, rating, condition, " ".join(why.split()), place.span[0])
        names[name] = rule
        return rule

    # -- conditions ----------------------------------------------------------------------------

    def condition(self, body: object, place: _Place) -> Condition:
        if not isinstance(body, dict):
            raise self.fail(
                place,
                f"a condition must be a table {{ ... }}, not {_shown(body)}: {_CONDITION_HOW}",
            )
        forms = [key for key in _FORMS if key in body]
        if len(forms) > 1:
            raise self.fail(
                place,
                f"one condition has both '{forms[0]}' and '{forms[1]}': write each as its own "
                "condition inside all = [ ... ] or any = [ ... ]",
                forms[1],
            )
        allowed = _FORMS[forms[0]] if forms else _CONDITION_KEYS
        for key in body:
            if key not in allowed:
                takes = (
                    f"a {forms[0]} condition takes {', '.join(_FORMS[forms[0]])}"
                    if forms
                    else _CONDITION_HOW
                )
                raise self.fail(
                    place, f"unknown key '{key}'{_did_you_mean(key, allowed)}; {takes}", key
                )
        if not forms:
            raise self.fail(
                place, f"a condition has no measure: {_CONDITION_HOW}", next(iter(body))
            )
        form = forms[0]
        after = (place.cursor or place.span[0], place.span[1])
        line = self.text.key(after, form, body[form]) or self.text.header(after, form)
        place.cursor = line or place.cursor
        line = line or place.span[0]
        if form in ("all", "any"):
            inner = body[form]
            if not isinstance(inner, list) or not inner:
                raise self.fail(
                    place,
                    f"{form} must be a list of one or more conditions: "
                    f"{form} = [ {{ ... }}, {{ ... }} ]",
                    form,
                )
            conditions = tuple(self.condition(c, place) for c in inner)
            return AllOf(conditions, line) if form == "all" else AnyOf(conditions, line)
        if form == "not":
            return Not(self.condition(body["not"], place), line)
        return self.leaf(form, body, place, line)

    def leaf(self, form: str, body: dict[str, object], place: _Place, line: int) -> Leaf:
        name = body[form]
        if not isinstance(name, str) or name not in MEASURES:
            raise self.fail(
                place,
                f"unknown measure {_shown(name)}{_did_you_mean(name, tuple(MEASURES))}; "
                f"the measures are {', '.join(MEASURES)} (docs/targeting.md)",
                form,
                name,
            )
        measure = MEASURES[name]
        for key in _REQUIRED[form]:
            if key not in body:
                raise self.fail(
                    place,
                    f"the {form} condition on {name} has no {key}: {_EXAMPLE[form]}",
                    form,
                    name,
                )
        op = body["op"]
        if not isinstance(op, str) or op not in OPERATORS:
            raise self.fail(
                place,
                f"unknown operator {_shown(op)}{_did_you_mean(op, OPERATORS)}: use one of "
                f"{', '.join(OPERATORS)}",
                "op",
                op,
            )
        if form == "measure":
            terms_ago: int | None = None
            if measure.per_term:
                terms_ago = self.whole(body.get("terms_ago", 0), "terms_ago", place, 0)
            elif "terms_ago" in body:
                raise self.fail(
                    place,
                    f"{name} is a fact about the child on the rating date, not about a term: "
                    "remove terms_ago",
                    "terms_ago",
                )
            value = self.threshold(measure.kind, name, op, body["value"], place, change=False)
            return ValueIs(name, op, value, terms_ago, line)
        if form == "change":
            if measure.kind not in (PERCENT, COUNT) or not measure.per_term:
                raise self.fail(
                    place,
                    "change applies to a termly number (attendance_pct, absence_pct, "
                    f"suspensions, permanent_exclusions), not to {name}",
                    form,
                    name,
                )
            earlier = self.whole(body["from_terms_ago"], "from_terms_ago", place, 1)
            later = self.whole(body.get("to_terms_ago", 0), "to_terms_ago", place, 0)
            if later >= earlier:
                raise self.fail(
                    place,
                    f"to_terms_ago ({later}) must be more recent than from_terms_ago "
                    f"({earlier}): the change runs from the earlier term to the later",
                    "to_terms_ago",
                )
            value = self.threshold(measure.kind, name, op, body["value"], place, change=True)
            return ChangeIs(name, op, value, earlier, later, line)
        if measure.kind not in (COUNT, FLAG) or not measure.per_term:
            raise self.fail(
                place,
                "count applies to a termly count (suspensions, permanent_exclusions) or "
                f"yes/no measure (persistently_absent, severely_absent), not to {name}",
                form,
                name,
            )
        window = self.whole(body["in_last_terms"], "in_last_terms", place, 1, MAX_TERMS_AGO + 1)
        # A flag counted over terms is a count of terms.
        value = self.threshold(COUNT, name, op, body["value"], place, change=False)
        return CountIs(name, op, value, window, line)

    def whole(
        self, value: object, key: str, place: _Place, least: int, most: int = MAX_TERMS_AGO
    ) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.fail(
                place, f"{key} must be a whole number of terms, not {_shown(value)}", key
            )
        if not least <= value <= most:
            raise self.fail(
                place,
                f"{key} = {value} is out of range: use {least} to {most} "
                "(0 is this term, 1 the term before, ...)",
                key,
                value,
            )
        return value

    def threshold(
        self, kind: str, name: str, op: str, value: object, place: _Place, *, change: bool
    ) -> Threshold:
        """The value a measure is compared with, checked against its kind and the operator."""
        allowed = _KIND_OPERATORS[kind]
        if op not in allowed:
            raise self.fail(
                place,
                f"operator {op} does not apply to {name} ({_KIND_WORDS[kind]}): use one of "
                f"{', '.join(allowed)}",
                "op",
                op,
            )

        def refuse(reason: str) -> RuleFileError:
            return self.fail(place, reason, "value", value)

        if op == "in":
            if not isinstance(value, list) or not value:
                raise refuse(f"in needs a list of values, e.g. value = [1, 2], not {_shown(value)}")
            return tuple(_one_value(kind, name, v, refuse, change=change) for v in value)
        if isinstance(value, list):
            raise refuse(f"a list of values goes with the operator in, not with {op}")
        return _one_value(kind, name, value, refuse, change=change)


def _one_value(kind: str, name: str, value: object, refuse: Refuse, *, change: bool) -> Scalar:
    """One value a measure of ``kind`` is compared with (a change when ``change``)."""
    if kind == FLAG:
        if not isinstance(value, bool):
            raise refuse(
                f"{name} is yes or no: its value must be true or false, not {_shown(value)}"
            )
        return value
    if kind == STATUS:
        if not isinstance(value, str) or value not in STATUS_PRIORITY:
            statuses = ", ".join(f"'{s}'" for s in STATUS_PRIORITY)
            raise refuse(
                f"unknown social care status {_shown(value)}"
                f"{_did_you_mean(value, STATUS_PRIORITY)}; the statuses are {statuses}"
            )
        return value
    if kind == COUNT:
        if isinstance(value, bool) or not isinstance(value, int):
            raise refuse(f"{name} is counted in whole numbers, not {_shown(value)}")
        if value < 0 and not change:
            raise refuse(f"a count of {name} cannot be negative ({value})")
        return value
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise refuse(f"{name} is a percentage: its value must be a number, not {_shown(value)}")
    low = -100 if change else 0
    if not low <= value <= 100:
        what = "a change in percentage points" if change else "a percentage"
        raise refuse(f"{name} is {what}: its value must be from {low} to 100, not {value}")
    return value


def _shown(value: object) -> str:
    """A value as a message quotes it."""
    if isinstance(value, str):
        return f"'{value}'"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, list):
        return "a list"
    return str(value)


def _did_you_mean(given: object, known: tuple[str, ...]) -> str:
    if not isinstance(given, str):
        return ""
    close = difflib.get_close_matches(given, known, n=1)
    return f" (did you mean '{close[0]}'?)" if close else ""


# --- reading a file ---------------------------------------------------------------------------

DEFAULT_RULES = Path(__file__).with_name("default_rules.toml")


def read_rules(path: Path | str | None = None) -> RuleSet:
    """The rule file at ``path`` (the default rules if None), checked in full.

    Raises :class:`RuleFileError` naming the file, line, rule and reason for the first
    fault in file order, or a :class:`~cwsw.errors.UserError` if it cannot be read.
    """
    path = Path(path) if path is not None else DEFAULT_RULES
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise UserError(f"rule file {path} not found: give the path of a TOML rule file") from None
    except OSError as error:
        raise UserError(f"rule file {path} cannot be read ({error.strerror})") from None
    return parse_rules(data, source=str(path))


def parse_rules(data: bytes | str, *, source: str = "<rules>") -> RuleSet:
    """A rule file's contents read and checked (see :func:`read_rules`)."""
    raw = data.encode("utf-8") if isinstance(data, str) else data
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = raw[: error.start].count(b"\n") + 1
        raise RuleFileError(source, line, None, "not UTF-8 text: save the file as UTF-8") from None
    try:
        parsed = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise _syntax_error(source, text, error) from None
    return _Reader(source, text).rule_set(parsed, hashlib.sha256(raw).hexdigest())


def _syntax_error(source: str, text: str, error: tomllib.TOMLDecodeError) -> RuleFileError:
    message = str(error)
    found = re.search(r"\(at line (\d+), column (\d+)\)", message)
    if found:
        line, where = int(found.group(1)), f" at column {found.group(2)}"
    else:
        line, where = max(1, len(text.splitlines())), " at the end of the file"
    reason = re.sub(r"\s*\(at [^)]*\)\s*$", "", message)
    rule = _rule_at(text, line)
    return RuleFileError(source, line, rule, f"not valid TOML{where}: {reason}")


def _rule_at(text: str, line: int) -> str | None:
    """The name of the rule whose table holds ``line``, when a syntax error is in a rule."""
    source = _Source(text)
    found = source.table_at(line)
    if found is None or not found[0].endswith(".rule"):
        return None
    start, end = found[1]
    for number in range(start, end + 1):
        match = re.match(r'^\s*name\s*=\s*"([^"]*)"', source.lines[number - 1])
        if match:
            return match.group(1).strip()
    return None
