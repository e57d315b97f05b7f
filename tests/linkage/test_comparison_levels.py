"""Each comparison level and blocking rule added for issue 15, on a pair of records with the
fault it is there for: the level the pair falls in, and the blocking rule that makes it a
candidate pair at all (none of the rules before it does).

All pairs are compared in one small Splink run on DuckDB (levels and candidate pairs need
no trained model); the same run on Spark must agree (marker ``spark``).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import pandas as pd
import pyarrow as pa
import pytest

from cwsw.linkage import probabilistic
from cwsw.linkage.splink_engine import (
    BLOCKING_RULES,
    COMPARISON_LEVELS,
    SparkOptions,
    SplinkEngine,
)

# The rules linkage had before issue 15: a pair they do not generate was never compared.
ORIGINAL_RULES = {rule.name for rule in BLOCKING_RULES[:4]}


@dataclass(frozen=True)
class Person:
    forename: str | None
    surname: str | None
    born: str  # ISO date
    sex: str | None = "F"
    postcode: str | None = None
    previous_surnames: str | None = None
    aliases: str | None = None


@dataclass(frozen=True)
class Fault:
    """A child's record (social care) and a pupil's (school census) for the same child,
    with one fault or more between them, and what should recover it."""

    id: str
    child: Person
    pupil: Person
    comparison: str = ""  # the comparison whose level recovers the fault...
    level: str = ""  # ...and that level's name (COMPARISON_LEVELS)
    rule: str = ""  # the blocking rule that first generates the pair
    also: dict[str, str] = field(default_factory=dict)  # other comparisons' levels


def _girl(forename: str, surname: str = "Smith", born: str = "2014-05-20") -> Person:
    return Person(forename, surname, born)


def _boy(forename: str, surname: str = "Smith", born: str = "2014-05-20") -> Person:
    return Person(forename, surname, born, sex="M")


LEVELS = [
    # Forenames: the variant table, both ways and transitively; sex decides Charlie.
    Fault("maddie", _girl("Maddie"), _girl("Madison"), "forename", "nickname or other spelling"),
    Fault("ellie-ella", _girl("Ellie"), _girl("Ella"), "forename", "nickname or other spelling"),
    Fault(
        "ella-eleanor", _girl("Eleanor"), _girl("Ella"), "forename", "nickname or other spelling"
    ),
    Fault("tom-tommy", _boy("Tom"), _boy("Tommy"), "forename", "nickname or other spelling"),
    Fault("alfie", _boy("Alfred"), _boy("Alfie"), "forename", "nickname or other spelling"),
    Fault("muhammad", _boy("Mohammed"), _boy("Muhammad"), "forename", "nickname or other spelling"),
    Fault("maxamed", _boy("Maxamed"), _boy("Mohamed"), "forename", "nickname or other spelling"),
    Fault("michal", _boy("Michał"), _boy("Michael"), "forename", "nickname or other spelling"),
    Fault(
        "charlie-sex-unknown",
        Person("Charlie", "Smith", "2014-05-20", sex=None),
        _girl("Charlotte"),
        "forename",
        "nickname or other spelling",
    ),
    # A boy's Charlie is Charles, not Charlotte: only the first three letters agree.
    Fault(
        "charlie-boy", _boy("Charlie"), _girl("Charlotte"), "forename", "same first three letters"
    ),
    Fault("prefix", _girl("Ros"), _girl("Rosalind"), "forename", "same first three letters"),
    Fault("initial", _boy("J"), _boy("Jayden"), "forename", "same initial"),
    Fault(
        "alias-forename",
        Person("Kayden", "Brown", "2014-05-20", "M", aliases="Jay Brown"),
        _boy("Jay", "Brown"),
        "forename",
        "an alias",
    ),
    # Forename and surname the other way round: both comparisons see it.
    Fault(
        "swapped-names",
        _boy("Jordan", "Lee"),
        _boy("Lee", "Jordan"),
        "forename",
        "forename and surname swapped",
        also={"surname": "forename and surname swapped", "birth_date": "same"},
    ),
    # Surnames: a previous surname or an alias, on either side.
    Fault(
        "previous-surname",
        Person("Amber", "Brown", "2014-05-20", previous_surnames="Walker; Green"),
        _girl("Amber", "Walker"),
        "surname",
        "a previous surname or alias",
    ),
    Fault(
        "alias-surname",
        Person("Amber", "Brown", "2014-05-20", aliases="Amber Walker | Amy Brown"),
        _girl("Amber", "Walker"),
        "surname",
        "a previous surname or alias",
    ),
    Fault(
        "pupil-former-surname",
        _girl("Amber", "Brown"),
        Person("Amber", "Walker", "2014-05-20", previous_surnames="Brown"),
        "surname",
        "a previous surname or alias",
    ),
    # Dates of birth.
    Fault(
        "dob-swapped",
        _girl("Ava", born="2014-03-07"),
        _girl("Ava", born="2014-07-03"),
        "birth_date",
        "day and month swapped",
    ),
    Fault(
        "dob-across-month",
        _girl("Ava", born="2014-09-30"),
        _girl("Ava", born="2014-10-01"),
        "birth_date",
        "within 7 days",
    ),
    Fault(
        "dob-across-year",
        _girl("Ava", born="2014-12-31"),
        _girl("Ava", born="2015-01-02"),
        "birth_date",
        "within 7 days",
    ),
    Fault(
        "dob-a-week",
        _girl("Ava", born="2014-05-13"),
        _girl("Ava", born="2014-05-20"),
        "birth_date",
        "within 7 days",
    ),
    Fault(
        "dob-eight-days",  # beyond a week, and more than one digit: different
        _girl("Ava", born="2014-05-12"),
        _girl("Ava", born="2014-05-20"),
        "birth_date",
        "different",
    ),
    Fault(
        "dob-year-out",
        _girl("Ava", born="2015-05-20"),
        _girl("Ava", born="2014-05-20"),
        "birth_date",
        "year one out",
    ),
    Fault(
        "dob-year-out-decade",  # two digits change, still one year
        _girl("Ava", born="2019-05-20"),
        _girl("Ava", born="2020-05-20"),
        "birth_date",
        "year one out",
    ),
    Fault(
        "dob-month-digit",
        _girl("Ava", born="2014-05-20"),
        _girl("Ava", born="2014-08-20"),
        "birth_date",
        "one digit different",
    ),
    Fault(
        "dob-day-digits-transposed",
        _girl("Ava", born="2014-05-12"),
        _girl("Ava", born="2014-05-21"),
        "birth_date",
        "one digit different",
    ),
    Fault(
        "dob-different",
        _girl("Ava", born="2014-05-20"),
        _girl("Ava", born="2012-11-03"),
        "birth_date",
        "different",
    ),
    # Postcodes: the same written another way, a move within the sector, the district.
    Fault(
        "postcode-spelling",
        Person("Ava", "Smith", "2014-05-20", postcode="ls62ab"),
        Person("Ava", "Smith", "2014-05-20", postcode="LS6 2AB"),
        "postcode",
        "same",
    ),
    Fault(
        "moved-in-sector",
        Person("Ava", "Smith", "2014-05-20", postcode="LS6 2AB"),
        Person("Ava", "Smith", "2014-05-20", postcode="LS6 2QT"),
        "postcode",
        "same sector",
    ),
    Fault(
        "moved-in-district",
        Person("Ava", "Smith", "2014-05-20", postcode="LS6 2AB"),
        Person("Ava", "Smith", "2014-05-20", postcode="LS6 4NU"),
        "postcode",
        "same district",
    ),
    Fault(
        "moved-away",
        Person("Ava", "Smith", "2014-05-20", postcode="LS6 2AB"),
        Person("Ava", "Smith", "2014-05-20", postcode="M1 1AE"),
        "postcode",
        "different",
    ),
]

BLOCKING = [
    # Swapped names and a nickname: no name and no initial agrees position by position.
    Fault(
        "swap-and-nickname",
        _boy("Tom", "Lee"),
        _boy("Lee", "Thomas"),
        rule="birth_date+forename_initial~surname_initial",
    ),
    # Swapped names and a date a day out: nothing agrees position by position.
    Fault(
        "swap-and-dob",
        _boy("Jordan", "Lee", born="2014-09-30"),
        _boy("Lee", "Jordan", born="2014-10-01"),
        rule="forename~surname",
    ),
    # A day and month swapped, a nickname and a surname spelt another way.
    Fault(
        "dob-swapped-nickname-spelling",
        _girl("Maddie", "Smyth", born="2014-03-07"),
        _girl("Madison", "Smith", born="2014-07-03"),
        rule="surname_soundex+forename_initial+birth_year",
    ),
    # A day out across a month end, and a nickname.
    Fault(
        "dob-across-month-nickname",
        _girl("Maddie", born="2014-09-30"),
        _girl("Madison", born="2014-10-01"),
        rule="surname_soundex+forename_initial+birth_year",
    ),
    # The year one out, and a nickname (with the same initial, or not).
    Fault(
        "year-out-nickname",
        _boy("Alfie", "Khan", born="2015-05-20"),
        _boy("Alfred", "Khan", born="2014-05-20"),
        rule="surname+birth_day_month",
    ),
    Fault(
        "year-out-other-initial",
        _boy("Bill", "Khan", born="2016-05-20"),
        _boy("William", "Khan", born="2015-05-20"),
        rule="surname+birth_day_month",
    ),
]


def _records(people: dict[str, Person]) -> pa.Table:
    ids = list(people)
    column = [people[i] for i in ids]
    return probabilistic.prepare(
        pa.table(
            {
                "unique_id": ids,
                "forename": [p.forename for p in column],
                "surname": [p.surname for p in column],
                "birth_date": pa.array(
                    [dt.date.fromisoformat(p.born) for p in column], pa.date32()
                ),
                "sex": pa.array([p.sex for p in column], pa.string()),
                "postcode": pa.array([p.postcode for p in column], pa.string()),
                "previous_surnames": pa.array([p.previous_surnames for p in column], pa.string()),
                "aliases": pa.array([p.aliases for p in column], pa.string()),
            }
        )
    )


def _candidate_pairs(engine: SplinkEngine) -> pd.DataFrame:
    faults = LEVELS + BLOCKING
    children = _records({f"c-{f.id}": f.child for f in faults})
    pupils = _records({f"p-{f.id}": f.pupil for f in faults})
    pairs = engine.candidate_pairs(children, pupils).to_pandas()
    return pairs.sort_values(["child_id", "pupil_id"]).reset_index(drop=True)


@pytest.fixture(scope="module")
def pairs() -> pd.DataFrame:
    with SplinkEngine() as engine:
        return _candidate_pairs(engine)


def _pair(pairs: pd.DataFrame, fault: Fault) -> dict[str, str]:
    """The levels of the fault's own pair by comparison, and the rule that generated it."""
    row = pairs[(pairs.child_id == f"c-{fault.id}") & (pairs.pupil_id == f"p-{fault.id}")]
    assert len(row) == 1, f"{fault.id}: the pair is not a candidate pair"
    record = row.iloc[0]
    out = {
        name: levels[int(record[f"gamma_{name}"])]
        for name, levels in COMPARISON_LEVELS.items()
        if f"gamma_{name}" in record
    }
    out["blocking_rule"] = record["blocking_rule"]
    return out


@pytest.mark.parametrize("fault", LEVELS, ids=lambda f: f.id)
def test_each_fault_falls_in_the_level_that_recovers_it(pairs: pd.DataFrame, fault: Fault) -> None:
    found = _pair(pairs, fault)
    assert found[fault.comparison] == fault.level
    for comparison, level in fault.also.items():
        assert found[comparison] == level


@pytest.mark.parametrize("fault", BLOCKING, ids=lambda f: f.id)
def test_each_new_blocking_rule_brings_in_the_pair_it_is_for(
    pairs: pd.DataFrame, fault: Fault
) -> None:
    found = _pair(pairs, fault)
    # The first rule to generate the pair is the new one: none before it, and none of the
    # original four, would have compared these records.
    assert found["blocking_rule"] == fault.rule
    assert fault.rule not in ORIGINAL_RULES


def test_the_new_levels_leave_the_exact_pair_exact() -> None:
    exact = Fault("exact", _girl("Ava"), _girl("Ava"))
    with SplinkEngine() as engine:
        found = engine.candidate_pairs(
            _records({"c-exact": exact.child}), _records({"p-exact": exact.pupil})
        ).to_pandas()
    record = _pair(found, exact)
    assert {k: v for k, v in record.items() if k != "blocking_rule"} == {
        "forename": "same",
        "surname": "same",
        "birth_date": "same",
        "sex": "same",
    }
    assert record["blocking_rule"] == "birth_date+surname_initial"


def test_every_new_rule_has_a_fault_and_every_level_a_test() -> None:
    rules = {rule.name for rule in BLOCKING_RULES} - ORIGINAL_RULES
    assert rules == {f.rule for f in BLOCKING}
    tested = {(f.comparison, f.level) for f in LEVELS}
    new_levels = {
        ("forename", "nickname or other spelling"),
        ("forename", "an alias"),
        ("forename", "forename and surname swapped"),
        ("forename", "same first three letters"),
        ("forename", "same initial"),
        ("surname", "a previous surname or alias"),
        ("birth_date", "within 7 days"),
        ("birth_date", "year one out"),
        ("birth_date", "one digit different"),
        ("birth_date", "day and month swapped"),
        ("postcode", "same sector"),
    }
    assert new_levels <= tested
    named = {(c, level) for c, levels in COMPARISON_LEVELS.items() for level in levels.values()}
    assert new_levels <= named


@pytest.mark.spark
@pytest.mark.filterwarnings("ignore:unclosed <socket.socket:ResourceWarning")
@pytest.mark.filterwarnings(
    "ignore:Exception ignored in. <socket.socket:pytest.PytestUnraisableExceptionWarning"
)
def test_spark_puts_every_pair_in_the_same_level_and_rule(pairs: pd.DataFrame) -> None:
    import gc

    with SplinkEngine("spark", SparkOptions("local[1]", 1)) as engine:
        spark = _candidate_pairs(engine)
    gc.collect()  # PySpark's result sockets are closed here, not in a later test
    pd.testing.assert_frame_equal(pairs, spark)
