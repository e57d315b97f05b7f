"""The keys records are compared and blocked on: Soundex against its published examples,
postcode sectors, other names, and the records ``prepare`` builds from them."""

from __future__ import annotations

import datetime as dt

import pyarrow as pa
import pytest

from cwsw.linkage import keys, probabilistic


@pytest.mark.parametrize(
    ("name", "code"),
    [
        # US National Archives, "The Soundex Indexing System" (2007).
        ("Gutierrez", "G362"),
        ("Pfister", "P236"),  # P and f share a code: f is not coded
        ("Jackson", "J250"),
        ("Tymczak", "T522"),  # a vowel separates the two 2s of c-z and k
        ("Ashcraft", "A261"),  # h does not separate: s and c are coded once
        ("Ashcroft", "A261"),
        ("Lee", "L000"),
        # D. E. Knuth, The Art of Computer Programming vol. 3, §6: Soundex.
        ("Robert", "R163"),
        ("Rupert", "R163"),
        ("Rubin", "R150"),
        ("Euler", "E460"),
        ("Ellery", "E460"),
        ("Gauss", "G200"),
        ("Ghosh", "G200"),
        ("Hilbert", "H416"),
        ("Heilbronn", "H416"),
        ("Knuth", "K530"),
        ("Kant", "K530"),
        ("Lloyd", "L300"),
        ("Ladd", "L300"),
        ("Lukasiewicz", "L222"),
        ("Lissajous", "L222"),
        # Names as cwsw keys them: punctuation and accents first, then the code.
        ("O'Brien", "O165"),
        ("Smyth", "S530"),
        ("Smith", "S530"),
        ("Иванова", None),
        (None, None),
    ],
)
def test_soundex_gives_the_published_codes(name: str | None, code: str | None) -> None:
    assert keys.soundex(name) == code


@pytest.mark.parametrize(
    ("text", "postcode", "sector", "district"),
    [
        ("LS6 2AB", "LS6 2AB", "LS6 2", "LS6"),
        ("ls62ab", "LS6 2AB", "LS6 2", "LS6"),
        ("SW1A  1AA", "SW1A 1AA", "SW1A 1", "SW1A"),
        ("M1 1AE", "M1 1AE", "M1 1", "M1"),
        ("EC1V 9HX", "EC1V 9HX", "EC1V 9", "EC1V"),
        ("not known", "NOT KNOWN", None, None),
        ("  ", None, None, None),
        (None, None, None, None),
    ],
)
def test_postcode_sector_and_district(
    text: str | None, postcode: str | None, sector: str | None, district: str | None
) -> None:
    assert keys.postcode_parts(text) == keys.PostcodeParts(postcode, sector, district)


def test_other_names_as_text_or_lists() -> None:
    assert keys.previous_surname_keys("Walker; O'Neill|Green") == ["green", "oneill", "walker"]
    assert keys.previous_surname_keys(["Walker", " "]) == ["walker"]
    assert keys.previous_surname_keys(None) == []
    assert keys.alias_keys("Jay Brown; Kay | Amy Smith-Jones") == (
        ["amy", "jay", "kay"],
        ["brown", "smithjones"],
    )


def test_letters_unicode_does_not_decompose_are_read_as_their_base_letter() -> None:
    assert keys.name_key("Michał") == "michal"
    assert keys.name_key("Małgorzata") == "malgorzata"
    assert keys.name_key("Søren") == "soren"
    assert keys.name_key("Elżbieta") == "elzbieta"  # this one NFKD decomposes


def test_prepare_builds_every_key_from_one_record() -> None:
    frame = pa.table(
        {
            "unique_id": ["c1", "c2"],
            "forename": ["Kai", None],
            "surname": ["Lee", "Smith"],
            "birth_date": pa.array([dt.date(2014, 9, 30), None], pa.date32()),
            "sex": ["M", "U"],
            "postcode": ["ls62ab", None],
            "previous_surnames": [["Walker"], []],
            "aliases": pa.array([["Jay Walker"], None], pa.list_(pa.string())),
        }
    )
    rows = probabilistic.prepare(frame).to_pylist()
    kai, smith = rows
    assert kai["forename_classes"] == []  # Kai has no variants
    assert kai["other_forenames"] == ["jay"]
    assert kai["other_surnames"] == ["walker"]
    assert kai["surname_soundex"] == "L000"
    assert kai["birth_days"] == (dt.date(2014, 9, 30) - dt.date(1970, 1, 1)).days
    assert kai["birth_day_month"] == "09-30"
    assert kai["postcode"] == "LS6 2AB"
    assert kai["postcode_sector"] == "LS6 2"
    assert smith["forename_classes"] == [] and smith["other_surnames"] == []
    assert smith["birth_days"] is None
    assert smith["sex"] is None


def test_prepare_without_other_name_columns() -> None:
    frame = pa.table(
        {
            "unique_id": ["c1"],
            "forename": ["Tommy"],
            "surname": ["Lee"],
            "birth_date": pa.array([dt.date(2014, 9, 30)], pa.date32()),
            "sex": [None],
            "postcode": pa.array([None], pa.string()),
        }
    )
    row = probabilistic.prepare(frame).to_pylist()[0]
    assert row["other_forenames"] == [] and row["other_surnames"] == []
    assert row["forename_classes"] == ["M:thomas"]  # Thomas's class; no girl is a Tommy


def test_previous_names_and_aliases_reach_the_comparison_when_the_extract_has_them() -> None:
    import ibis

    from cwsw.warehouse.schema import arrow_schema

    person = pa.table(
        {
            "load_id": pa.array([1], pa.int32()),
            "la_child_id": ["C1"],
            "forename": ["Amber"],
            "surname": ["Brown"],
            "birth_date": pa.array([dt.date(2014, 5, 20)], pa.date32()),
            "sex": ["F"],
            "upn": pa.array([None], pa.string()),
            "upn_raw": pa.array([None], pa.string()),
            "postcode": pa.array([None], pa.string()),
            "previous_surnames": ["Walker"],
            "aliases": ["Amy Green"],
        }
    )
    returns = [ibis.memtable(arrow_schema(n).empty_table()) for n in ("cin_child", "cla_child")]
    con = ibis.duckdb.connect()
    frame = con.to_pyarrow(probabilistic.child_frame(ibis.memtable(person), *returns))
    row = probabilistic.prepare(frame).to_pylist()[0]
    assert row["other_surnames"] == ["green", "walker"]
    assert row["other_forenames"] == ["amy"]
    # Without the columns (the extract cwsw reads today) the lists are empty.
    plain = person.drop_columns(["previous_surnames", "aliases"])
    frame = con.to_pyarrow(probabilistic.child_frame(ibis.memtable(plain), *returns))
    row = probabilistic.prepare(frame).to_pylist()[0]
    assert row["other_surnames"] == [] and row["other_forenames"] == []
