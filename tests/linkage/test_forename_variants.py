"""The forename variant table (``data/forename_variants.csv``): the variants councils see are
one class, read both ways and transitively; different names stay apart; a chain that joins
two standard names is there because someone accepted it."""

from __future__ import annotations

import pytest

from cwsw.linkage import keys

# Pairs the issue names, and others councils see, that must be one class (for the sex).
SAME = [
    ("F", "Maddie", "Madison"),
    ("F", "Ellie", "Ella"),
    ("F", "Ella", "Eleanor"),
    ("F", "Ellie", "Eleanor"),
    ("F", "Nell", "Ellie"),  # two diminutives of Eleanor: transitive
    ("M", "Tom", "Tommy"),  # two diminutives of Thomas: transitive
    ("M", "Tom", "Thomas"),
    ("M", "Thomas", "Tom"),  # both directions
    ("M", "Tomasz", "Tommy"),
    ("M", "Alfie", "Alfred"),
    ("M", "Alfy", "Alfred"),
    ("M", "Mohammed", "Muhammad"),
    ("M", "Muhammad", "Mohamed"),
    ("M", "Md", "Mohammad"),
    ("M", "Jack", "Johnny"),
    ("M", "Bill", "Liam"),
    ("M", "Harry", "Henry"),
    ("M", "Jake", "Kuba"),
    ("M", "Zak", "Zach"),
    ("F", "Katie", "Kathryn"),
    ("F", "Kasia", "Kate"),
    ("F", "Izzy", "Isobel"),
    ("F", "Lottie", "Charlie"),
    ("F", "Ayesha", "Aisha"),
    ("F", "Yasmin", "Jazz"),
    ("F", "Sophie", "Sofia"),
    ("F", "Gosia", "Margaret"),
    ("M", "Michał", "Mick"),
]

# Names that must not be one class: different names, and short forms of one sex only.
APART = [
    ("M", "John", "James"),
    ("M", "John", "Jonathan"),  # Johnny is John's, Jonny Jonathan's
    ("M", "Alfie", "Freddie"),  # twins are named like this
    ("M", "Edward", "Theodore"),  # Ted is Edward's, Teddy Theodore's
    ("M", "Charlie", "Charlotte"),  # a boy's Charlie is Charles
    ("F", "Charlie", "Charles"),  # a girl's Charlie is Charlotte
    ("M", "Sam", "Samantha"),
    ("F", "Amelia", "Emily"),
    ("F", "Isabella", "Arabella"),
    ("F", "Ella", "Isabella"),
    ("F", "Elizabeth", "Eleanor"),
    ("F", "Emma", "Emily"),
    ("M", "Jack", "Jake"),
    ("M", "Luke", "Lucas"),
]

# Classes holding two standard names (a ``name`` of the table), each accepted on purpose:
# the shared short form is used for both today, or one is a short form standing as a name.
ACCEPTED_JOINS = {
    ("M", ("alfie", "alfred")),  # Alfy is a spelling of Alfie, Alfie Alfred's
    ("M", ("leonard", "leonardo")),  # Leo
    ("M", ("lewis", "louis")),  # spellings of one name (Louie is Louis's)
    ("M", ("nathan", "nathaniel")),  # Nate, Nat
    ("M", ("zachary", "zakariya")),  # Zak; one name in two languages
    ("F", ("bethany", "elizabeth")),  # Beth
    ("F", ("evelyn", "evie")),  # Evey is a spelling of Evie, Evie Evelyn's
    ("F", ("lillian", "lily")),
    ("F", ("madeleine", "madison")),  # Maddie, Maddy
    ("F", ("rose", "rosemary")),  # Rosie
    ("F", ("sophia", "sophie")),
}


def _same(sex: str, a: str, b: str) -> bool:
    return bool(set(keys.forename_class_list(a, sex)) & set(keys.forename_class_list(b, sex)))


@pytest.mark.parametrize(("sex", "a", "b"), SAME)
def test_variants_councils_see_are_one_class(sex: str, a: str, b: str) -> None:
    assert _same(sex, a, b)
    assert _same(sex, b, a)


@pytest.mark.parametrize(("sex", "a", "b"), APART)
def test_different_names_stay_apart(sex: str, a: str, b: str) -> None:
    assert not _same(sex, a, b)


def test_a_child_of_unknown_sex_may_be_either() -> None:
    charlie = keys.forename_class_list("Charlie", None)
    assert set(charlie) & set(keys.forename_class_list("Charles", "M"))
    assert set(charlie) & set(keys.forename_class_list("Charlotte", "F"))
    assert keys.forename_class_list("Zebedee-Not-A-Name", None) == []


def test_every_row_holds_both_ways_for_its_sex() -> None:
    for row in keys.variant_rows():
        for sex in [row.sex] if row.sex else list(keys.SEXES):
            assert _same(sex, row.name, row.variant), row
            assert _same(sex, row.variant, row.name), row


def test_the_table_is_well_formed() -> None:
    rows = keys.variant_rows()
    assert len(rows) >= 500
    seen = set()
    for row in rows:
        a, b = keys.name_key(row.name), keys.name_key(row.variant)
        assert a and b and a != b, row
        assert (a, b, row.sex) not in seen, f"duplicate row {row}"
        seen.add((a, b, row.sex))
    kinds = {row.kind for row in rows}
    assert kinds == set(keys.VARIANT_KINDS)


def test_only_accepted_chains_join_two_standard_names() -> None:
    rows = keys.variant_rows()
    standard = {k for row in rows if (k := keys.name_key(row.name))}
    joins = set()
    for sex, table in keys.forename_classes().items():
        members: dict[str, list[str]] = {}
        for key, name_class in table.items():
            members.setdefault(name_class, []).append(key)
        for keys_in_class in members.values():
            assert len(keys_in_class) <= 20, keys_in_class  # no runaway chain
            names = tuple(sorted(k for k in keys_in_class if k in standard))
            if len(names) > 1:
                joins.add((sex, names))
    assert joins == ACCEPTED_JOINS
