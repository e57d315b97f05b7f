"""Rule files: read into typed rules, and every faulty file refused with its line, rule and reason.

Each refusal is checked against the line counted by hand in the file text the test writes
(:func:`line_of` finds the line a test marks with ``# <-``), never against a line the
reader reports for another case.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from cwsw.cohort.status import CHILD_IN_NEED, CP_PLAN, LOOKED_AFTER
from cwsw.errors import UserError
from cwsw.targeting.rules import (
    DEFAULT_RULES,
    MEASURES,
    OPERATORS,
    UNKNOWN_DOES_NOT_FIRE,
    UNKNOWN_FIRES,
    AllOf,
    AnyOf,
    ChangeIs,
    CountIs,
    Not,
    RuleFileError,
    Term,
    ValueIs,
    column,
    parse_rules,
    read_rules,
)

# A valid amber rating, added to files whose fault is elsewhere.
AMBER = """
[[amber.rule]]
name = "Persistently absent"
measure = "persistently_absent"
op = "=="
value = true
"""
# A valid red rating, likewise.
RED = """
[[red.rule]]
name = "Severely absent"
measure = "severely_absent"
op = "=="
value = true
"""


def line_of(text: str, marker: str = "# <-") -> int:
    """The 1-based line of ``text`` that carries ``marker`` (the line a refusal must name)."""
    lines = [n for n, line in enumerate(text.splitlines(), start=1) if marker in line]
    assert len(lines) == 1, f"mark exactly one line with {marker!r}"
    return lines[0]


def refusal(text: str, source: str = "la_rules.toml") -> RuleFileError:
    with pytest.raises(RuleFileError) as caught:
        parse_rules(textwrap.dedent(text), source=source)
    return caught.value


def assert_refused(text: str, rule: str | None, *reason_parts: str) -> RuleFileError:
    """The file is refused at the marked line, naming ``rule`` and every part of the reason,
    in a one-line message that starts with the file and line."""
    text = textwrap.dedent(text)
    error = refusal(text)
    line = line_of(text)
    assert error.line == line, str(error)
    assert error.rule == rule, str(error)
    message = str(error)
    assert "\n" not in message
    assert message.startswith(f"rule file la_rules.toml, line {line}")
    if rule is not None:
        assert f"rule '{rule}'" in message
    for part in reason_parts:
        assert part in error.reason, message
    assert isinstance(error, UserError)
    return error


# --- reading ----------------------------------------------------------------------------------


def test_default_rules_read_as_written() -> None:
    """The default file's rules, in order, with the conditions its text spells out."""
    rules = read_rules()
    assert rules.source == str(DEFAULT_RULES)
    assert [r.name for r in rules.ratings] == ["red", "amber"]
    assert [r.unknown for r in rules.ratings] == [UNKNOWN_DOES_NOT_FIRE] * 2
    assert [(r.rating, r.name) for r in rules.rules] == [
        ("red", "On a CP plan and severely absent"),
        ("red", "Suspended this term"),
        ("red", "Missing from school rolls"),
        ("amber", "Persistently absent"),
        ("amber", "Child in need with falling attendance"),
    ]
    cp, suspended, missing, persistent, falling = (r.condition for r in rules.rules)
    assert isinstance(cp, AllOf)
    assert cp.conditions == (
        ValueIs("social_care_status", "==", CP_PLAN, None, cp.conditions[0].line),
        ValueIs("severely_absent", "==", True, 0, cp.conditions[1].line),
    )
    assert suspended == ValueIs("suspensions", ">=", 1, 0, suspended.line)
    assert isinstance(missing, AllOf)
    assert missing.conditions == (
        ValueIs(
            "social_care_status",
            "in",
            (LOOKED_AFTER, CP_PLAN, CHILD_IN_NEED),
            None,
            missing.conditions[0].line,
        ),
        ValueIs("compulsory_school_age", "==", True, None, missing.conditions[1].line),
        ValueIs("on_roll", "==", False, None, missing.conditions[2].line),
    )
    assert persistent == ValueIs("persistently_absent", "==", True, 0, persistent.line)
    assert isinstance(falling, AllOf)
    assert falling.conditions == (
        ValueIs("social_care_status", "==", CHILD_IN_NEED, None, falling.conditions[0].line),
        ChangeIs("attendance_pct", "<=", -5, 2, 0, falling.conditions[1].line),
    )
    assert all(rule.why for rule in rules.rules), "every default rule says why"
    assert len(rules.sha256) == 64


def test_rule_and_condition_lines_are_the_file_lines() -> None:
    suspended = '{ measure = "suspensions", op = ">=", value = 1 }'
    not_on_roll = '{ not = { measure = "on_roll", op = "==", value = true } }'
    text = (
        'title = "Test"\n'
        "\n"
        "[[red.rule]]\n"
        'name = "Nested"\n'
        "all = [\n"
        '  { measure = "social_care_status", op = "==", value = "Child protection plan" },\n'
        f"  {{ any = [ {suspended}, {not_on_roll} ] }},\n"
        "]\n"
    ) + AMBER
    rules = parse_rules(text)
    nested = rules.rules[0]
    assert rules.title == "Test"
    assert nested.line == 3  # its [[red.rule]] header
    assert isinstance(nested.condition, AllOf)
    status, either = nested.condition.conditions
    assert isinstance(status, ValueIs) and status.line == 6
    assert isinstance(either, AnyOf) and either.line == 7
    first, negated = either.conditions
    assert first == ValueIs("suspensions", ">=", 1, 0, 7)
    assert isinstance(negated, Not) and negated.condition == ValueIs("on_roll", "==", True, None, 7)
    assert rules.rules[1].line == 10


def test_conditions_as_sub_tables_read_with_their_lines() -> None:
    """A long condition may be written as sub-tables, one key a line, instead of inline."""
    text = """\
    [[red.rule]]
    name = "Out of school"

    [[red.rule.any]]
    measure = "on_roll"
    op = "=="
    value = false

    [[red.rule.any]]
    count = "suspensions"
    in_last_terms = 2
    op = ">="
    value = 2
    """
    rules = parse_rules(textwrap.dedent(text) + AMBER)
    out = rules.rules[0].condition
    assert out == AnyOf(
        (ValueIs("on_roll", "==", False, None, 5), CountIs("suspensions", ">=", 2, 2, 10)), 4
    )
    bad = text.replace("in_last_terms = 2", "in_last_terms = 0   # <-")
    assert_refused(bad + AMBER, "Out of school", "in_last_terms = 0 is out of range")


def test_every_form_of_condition_reads() -> None:
    text = """
    [red]
    unknown = "fires"

    [[red.rule]]
    name = "Windowed"
    count = "persistently_absent"
    in_last_terms = 3
    op = "in"
    value = [2, 3]

    [[red.rule]]
    name = "Changed"
    change = "suspensions"
    from_terms_ago = 3
    to_terms_ago = 1
    op = ">="
    value = 2

    [[red.rule]]
    name = "Earlier term"
    measure = "absence_pct"
    terms_ago = 4
    op = ">"
    value = 12.5
    """
    rules = parse_rules(textwrap.dedent(text) + AMBER)
    assert rules.ratings[0].unknown == UNKNOWN_FIRES
    windowed, changed, earlier, _ = rules.rules
    assert windowed.condition == CountIs("persistently_absent", "in", (2, 3), 3, 7)
    assert changed.condition == ChangeIs("suspensions", ">=", 2, 3, 1, 14)
    assert earlier.condition == ValueIs("absence_pct", ">", 12.5, 4, 22)


def test_columns_and_terms_a_rule_set_reads() -> None:
    """On spring 2025 the default rules read this term, the term two back (summer 2024, for the
    change) and the facts about the child now: worked out from the file by hand."""
    rules = read_rules()
    spring = Term.parse("spring 2025")
    assert set(rules.columns(spring)) == {
        "social_care_status",
        "severely_absent[spring 2025]",
        "suspensions[spring 2025]",
        "compulsory_school_age",
        "on_roll",
        "persistently_absent[spring 2025]",
        "attendance_pct[summer 2024]",
        "attendance_pct[spring 2025]",
    }
    assert [r.name for r in rules.columns(spring)["social_care_status"]] == [
        "On a CP plan and severely absent",
        "Missing from school rolls",
        "Child in need with falling attendance",
    ]
    assert [t.label for t in rules.terms(spring)] == ["summer 2024", "spring 2025"]


def test_terms_follow_the_school_year_and_the_census_a_term_in_arrears() -> None:
    """Autumn 2024, spring and summer 2025 make 2024/25; each census carries the term before
    it (DfE school census guide: spring census = autumn term's absence)."""
    spring = Term.parse("Spring 2025")
    assert spring.label == "spring 2025" and str(spring) == "spring 2025"
    assert [spring.before(n).label for n in range(4)] == [
        "spring 2025",
        "autumn 2024",
        "summer 2024",
        "spring 2024",
    ]
    assert Term.parse("autumn 2024").academic_year_end == 2025
    assert spring.academic_year_end == 2025
    assert Term.parse("summer 2025").academic_year_end == 2025
    assert Term.of_census("2025_spring") == Term.parse("autumn 2024")
    assert Term.of_census("2025_summer") == spring
    assert Term.of_census("2025_autumn") == Term.parse("summer 2025")
    assert spring.census_term == "2025_summer"
    assert Term.parse("autumn 2024").census_term == "2025_spring"
    assert Term.parse("summer 2025").census_term == "2025_autumn"
    assert Term.parse("autumn 2024") < spring
    assert column("attendance_pct", spring) == "attendance_pct[spring 2025]"
    assert column("on_roll") == "on_roll"
    with pytest.raises(ValueError, match="not a term"):
        Term.parse("easter 2025")


# --- refusals ---------------------------------------------------------------------------------


def test_toml_syntax_error_names_line_and_rule() -> None:
    assert_refused(
        """\
        [[red.rule]]
        name = "Low attendance"
        measure = "attendance_pct" op = "<"   # <-
        value = 50
        """
        + AMBER,
        "Low attendance",
        "not valid TOML at column",
    )


def test_toml_syntax_error_outside_a_rule_names_no_rule() -> None:
    assert_refused('title = "unfinished   # <-\n' + RED + AMBER, None, "not valid TOML")


def test_unknown_measure_is_refused_with_a_suggestion() -> None:
    assert_refused(
        """\
        [[red.rule]]
        name = "Low attendance"
        measure = "attendence_pct"   # <-
        op = "<"
        value = 50
        """
        + AMBER,
        "Low attendance",
        "unknown measure 'attendence_pct'",
        "did you mean 'attendance_pct'",
    )


def test_unknown_measure_deep_in_a_later_rating_is_refused() -> None:
    """Every rule is checked before any rating: a bad measure in amber's second rule, nested
    in any inside all, stops the whole file at its own line."""
    suspended = '{ measure = "suspensions", op = ">=", value = 1 }'
    excluded = '{ measure = "exclusions", op = ">=", value = 1 }'
    assert_refused(
        RED
        + AMBER
        + f"""
        [[amber.rule]]
        name = "Nested"
        all = [
          {{ measure = "social_care_status", op = "==", value = "Child in need" }},
          {{ any = [ {suspended}, {excluded} ] }},   # <-
        ]
        """,
        "Nested",
        "unknown measure 'exclusions'",
    )


def test_unknown_operator() -> None:
    assert_refused(
        """\
        [[red.rule]]
        name = "Low attendance"
        measure = "attendance_pct"
        op = "=<"   # <-
        value = 50
        """
        + AMBER,
        "Low attendance",
        "unknown operator '=<'",
        "<, <=, >, >=, ==, !=, in",
    )


@pytest.mark.parametrize(
    ("measure", "op", "value", "reason"),
    [
        (
            "severely_absent",
            "<",
            "true",
            "operator < does not apply to severely_absent (yes or no)",
        ),
        ("attendance_pct", "in", "[40, 50]", "operator in does not apply to attendance_pct"),
        ("social_care_status", ">", '"Child in need"', "operator > does not apply"),
    ],
)
def test_operator_that_does_not_apply_to_the_measure(
    measure: str, op: str, value: str, reason: str
) -> None:
    assert_refused(
        f"""\
        [[red.rule]]
        name = "Odd comparison"
        measure = "{measure}"
        op = "{op}"   # <-
        value = {value}
        """
        + AMBER,
        "Odd comparison",
        reason,
    )


@pytest.mark.parametrize(
    ("measure", "op", "value", "reason"),
    [
        (
            "attendance_pct",
            "<",
            '"50"',
            "attendance_pct is a percentage: its value must be a number",
        ),
        ("attendance_pct", "<", "150", "must be from 0 to 100, not 150"),
        ("attendance_pct", "<", "true", "must be a number, not true"),
        ("suspensions", ">=", "1.5", "suspensions is counted in whole numbers, not 1.5"),
        ("suspensions", ">=", "-1", "cannot be negative"),
        ("suspensions", "in", "2", "in needs a list of values"),
        ("suspensions", ">=", "[1, 2]", "a list of values goes with the operator in"),
        ("severely_absent", "==", '"yes"', "its value must be true or false, not 'yes'"),
        ("social_care_status", "==", '"CP plan"', "unknown social care status 'CP plan'"),
        ("social_care_status", "in", '["Looked after", "CIN"]', "unknown social care status 'CIN'"),
    ],
)
def test_bad_value_for_the_measure(measure: str, op: str, value: str, reason: str) -> None:
    assert_refused(
        f"""\
        [[red.rule]]
        name = "Bad value"
        measure = "{measure}"
        op = "{op}"
        value = {value}   # <-
        """
        + AMBER,
        "Bad value",
        reason,
    )


def test_bad_value_inside_an_inline_condition_is_found_on_its_line() -> None:
    assert_refused(
        """\
        [[red.rule]]
        name = "Two tests"
        all = [
          { measure = "attendance_pct", op = "<", value = 50 },
          { measure = "absence_pct", op = ">", value = 500 },   # <-
        ]
        """
        + AMBER,
        "Two tests",
        "absence_pct is a percentage: its value must be from 0 to 100, not 500",
    )


def test_unknown_key_in_a_rule() -> None:
    assert_refused(
        """\
        [[red.rule]]
        name = "Low attendance"
        measure = "attendance_pct"
        op = "<"
        value = 50
        term = 1   # <-
        """
        + AMBER,
        "Low attendance",
        "unknown key 'term'",
        "did you mean 'terms_ago'",
    )


def test_unknown_key_at_the_top_and_in_a_rating() -> None:
    assert_refused('titel = "x"   # <-\n' + RED + AMBER, None, "unknown key 'titel'")
    assert_refused(
        """\
        [red]
        unkown = "fires"   # <-
        """
        + RED
        + AMBER,
        None,
        "unknown key 'unkown' in red",
    )


def test_green_takes_no_rules() -> None:
    assert_refused(
        RED
        + AMBER
        + """
        [[green.rule]]   # <-
        name = "Fine"
        measure = "attendance_pct"
        op = ">="
        value = 95
        """,
        None,
        "green takes no rules",
    )


def test_rating_with_no_rules() -> None:
    assert_refused(
        RED
        + """
        [amber]   # <-
        unknown = "fires"
        """,
        None,
        "amber has no rules",
    )


def test_file_with_no_amber_rules_at_all() -> None:
    error = refusal(RED)
    assert error.line == 1 and error.rule is None
    assert "the file has no amber rules" in error.reason


def test_rules_in_single_brackets_are_refused() -> None:
    """``[red.rule]`` (one table) where ``[[red.rule]]`` (a list of rules) was meant."""
    assert_refused(
        """\
        [red.rule]   # <-
        name = "Low attendance"
        measure = "attendance_pct"
        op = "<"
        value = 50
        """
        + AMBER,
        None,
        "red has no rules",
        "[[red.rule]]",
    )


def test_duplicate_rule_names_across_ratings() -> None:
    error = assert_refused(
        """\
        [[red.rule]]
        name = "Persistently absent"
        measure = "absence_pct"
        op = ">="
        value = 50

        [[amber.rule]]
        name = "Persistently absent"   # <-
        measure = "persistently_absent"
        op = "=="
        value = true
        """,
        "Persistently absent",
        "duplicate rule name",
    )
    assert "the red rule on line 1" in error.reason


def test_rule_without_a_name_or_a_condition() -> None:
    assert_refused(
        """\
        [[red.rule]]   # <-
        measure = "attendance_pct"
        op = "<"
        value = 50
        """
        + AMBER,
        "red rule 1",
        "the rule has no name",
    )
    assert_refused(
        RED
        + """
        [[red.rule]]   # <-
        name = "Nothing to test"
        why = "forgot the condition"
        """
        + AMBER,
        "Nothing to test",
        "the rule has no condition",
    )


def test_condition_with_two_forms_or_an_empty_list() -> None:
    assert_refused(
        """\
        [[red.rule]]
        name = "Muddled"
        measure = "attendance_pct"
        op = "<"
        value = 50
        all = [ { measure = "on_roll", op = "==", value = false } ]   # <-
        """
        + AMBER,
        "Muddled",
        "both 'measure' and 'all'",
    )
    assert_refused(
        """\
        [[red.rule]]
        name = "Empty"
        any = []   # <-
        """
        + AMBER,
        "Empty",
        "any must be a list of one or more conditions",
    )


def test_missing_operator() -> None:
    assert_refused(
        """\
        [[red.rule]]
        name = "No operator"
        measure = "attendance_pct"   # <-
        value = 50
        """
        + AMBER,
        "No operator",
        "has no op",
    )


def test_terms_on_facts_about_the_child_and_terms_out_of_range() -> None:
    assert_refused(
        """\
        [[red.rule]]
        name = "Status last term"
        measure = "social_care_status"
        terms_ago = 1   # <-
        op = "=="
        value = "Looked after"
        """
        + AMBER,
        "Status last term",
        "social_care_status is a fact about the child on the rating date",
    )
    assert_refused(
        """\
        [[red.rule]]
        name = "Long ago"
        measure = "attendance_pct"
        terms_ago = 40   # <-
        op = "<"
        value = 50
        """
        + AMBER,
        "Long ago",
        "terms_ago = 40 is out of range",
    )
    assert_refused(
        """\
        [[red.rule]]
        name = "Half a term"
        measure = "attendance_pct"
        terms_ago = 1.5   # <-
        op = "<"
        value = 50
        """
        + AMBER,
        "Half a term",
        "terms_ago must be a whole number of terms",
    )


def test_change_and_count_only_where_they_mean_something() -> None:
    assert_refused(
        """\
        [[red.rule]]
        name = "Flag change"
        change = "severely_absent"   # <-
        from_terms_ago = 1
        op = ">"
        value = 0
        """
        + AMBER,
        "Flag change",
        "change applies to a termly number",
    )
    assert_refused(
        """\
        [[red.rule]]
        name = "Backwards"
        change = "attendance_pct"
        from_terms_ago = 1
        to_terms_ago = 2   # <-
        op = "<="
        value = -5
        """
        + AMBER,
        "Backwards",
        "to_terms_ago (2) must be more recent than from_terms_ago (1)",
    )
    assert_refused(
        """\
        [[red.rule]]
        name = "Counted percent"
        count = "attendance_pct"   # <-
        in_last_terms = 3
        op = ">="
        value = 1
        """
        + AMBER,
        "Counted percent",
        "count applies to a termly count",
    )
    assert_refused(
        """\
        [[red.rule]]
        name = "Big fall"
        change = "attendance_pct"
        from_terms_ago = 2
        op = "<="
        value = -150   # <-
        """
        + AMBER,
        "Big fall",
        "a change in percentage points: its value must be from -100 to 100",
    )


def test_bad_unknown_setting() -> None:
    assert_refused(
        """\
        [red]
        unknown = "maybe"   # <-
        """
        + RED
        + AMBER,
        None,
        "unknown = 'maybe' in red",
        '"does not fire"',
    )


def test_file_that_is_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "rules.toml"
    path.write_bytes(b'title = "x"\n# caf\xe9\n' + RED.encode())
    with pytest.raises(RuleFileError) as caught:
        read_rules(path)
    assert caught.value.line == 2
    assert "not UTF-8" in str(caught.value)
    assert str(path) in str(caught.value)


def test_missing_file_is_a_user_error(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="not found"):
        read_rules(tmp_path / "absent.toml")


def test_file_read_from_disk_names_its_path(tmp_path: Path) -> None:
    path = tmp_path / "la.toml"
    path.write_text(RED + AMBER.replace('"persistently_absent"', '"persistent"'))
    with pytest.raises(RuleFileError) as caught:
        read_rules(path)
    assert str(caught.value).startswith(f"rule file {path}, line 10, rule 'Persistently absent'")


# --- the analysts' page -----------------------------------------------------------------------

DOCS = Path(__file__).resolve().parents[2] / "docs" / "targeting.md"


def test_the_first_example_on_the_docs_page_is_a_valid_rule_file() -> None:
    page = DOCS.read_text(encoding="utf-8")
    example = page.split("```toml\n", 1)[1].split("```", 1)[0]
    rules = parse_rules(example)
    assert [r.name for r in rules.rules] == [
        "Suspended this term",
        "On a CP plan and severely absent",
        "Persistently absent",
    ]


def test_the_docs_page_lists_every_measure_and_operator() -> None:
    page = DOCS.read_text(encoding="utf-8")
    for name in MEASURES:
        assert f"| `{name}` |" in page, name
    for op in OPERATORS:
        assert f"`{op}`" in page, op
