"""An XML file is known by its ``Header/CollectionDetails/Collection`` before it is loaded: a
DfE return cwsw does not read (SEN2, the workforce census...) is refused by name, never read as
an empty CIN census that would supersede the year's real one.

The SEN2 and CSWW files here are small synthetic ones written from the structure of their
published schemas (SocialFinanceDigitalLabs/liia-tools-pipeline, ``sen2_schema_2025.xsd`` and
``csww_schema_2024.xsd``, derived from DfE's): the same ``Message/Header/CollectionDetails``
as the CIN census, then ``Persons/Person`` (SEN2) or ``LALevelVacancies`` and ``CSWWWorker``
(CSWW). No real data.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from cwsw.formats.cin_census import read_cin_census
from cwsw.formats.detect import detect, read_file
from cwsw.formats.dfe_collections import identify
from cwsw.formats.errors import FormatError
from cwsw.warehouse.connection import Warehouse
from cwsw.warehouse.load import ingest


def _header(collection: str | None, year: int, reference: str) -> str:
    named = f"      <Collection>{collection}</Collection>\n" if collection else ""
    return (
        "  <Header>\n"
        "    <CollectionDetails>\n"
        f"{named}"
        f"      <Year>{year}</Year>\n"
        f"      <ReferenceDate>{reference}</ReferenceDate>\n"
        "    </CollectionDetails>\n"
        "    <Source>\n"
        "      <SourceLevel>L</SourceLevel>\n"
        "      <LEA>201</LEA>\n"
        "    </Source>\n"
        "  </Header>\n"
    )


def sen2(collection: str | None = "SEN2", namespace: str = "") -> str:
    """An SEN2 return: one person with one EHC needs assessment request (synthetic)."""
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f"<Message{namespace}>\n" + _header(collection, 2025, "2025-01-16") + "  <Persons>\n"
        "    <Person>\n"
        "      <Surname>Testperson</Surname>\n"
        "      <Forename>Alex</Forename>\n"
        "      <PersonBirthDate>2012-05-01</PersonBirthDate>\n"
        "      <Sex>F</Sex>\n"
        "      <Ethnicity>WBRI</Ethnicity>\n"
        "      <UPNunknown>UN1</UPNunknown>\n"
        "      <Requests>\n"
        "        <ReceivedDate>2024-06-03</ReceivedDate>\n"
        "        <RYA>0</RYA>\n"
        "        <RequestOutcome>A</RequestOutcome>\n"
        "      </Requests>\n"
        "    </Person>\n"
        "  </Persons>\n"
        "</Message>\n"
    )


def csww(collection: str | None = "CSWW") -> str:
    """A children's social work workforce return: vacancies and one worker (synthetic)."""
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        "<Message>\n" + _header(collection, 2024, "2024-09-30") + "  <LALevelVacancies>\n"
        "    <NumberOfVacancies>3.00</NumberOfVacancies>\n"
        "    <NoAgencyFTE>1.50</NoAgencyFTE>\n"
        "    <NoAgencyHeadcount>2</NoAgencyHeadcount>\n"
        "  </LALevelVacancies>\n"
        "  <CSWWWorker>\n"
        "    <AgencyWorker>0</AgencyWorker>\n"
        "    <SWENo>SW123456</SWENo>\n"
        "    <QualInst>Test University</QualInst>\n"
        "  </CSWWWorker>\n"
        "</Message>\n"
    )


def cin(collection: str | None = "CIN", children: int = 1) -> str:
    """A small CIN census of ``children`` children (synthetic)."""
    body = "".join(
        f"    <Child><ChildIdentifiers><LAchildID>C{n}</LAchildID></ChildIdentifiers>"
        "<CINdetails><CINreferralDate>2023-05-01</CINreferralDate></CINdetails></Child>\n"
        for n in range(1, children + 1)
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n<Message>\n'
        + _header(collection, 2024, "2024-03-31")
        + f"  <Children>\n{body}  </Children>\n</Message>\n"
    )


def _write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


# (file name, text, the one line that refuses it, the line it points at)
REFUSED = {
    "sen2": ("SEN2_2025.xml", sen2(), "an SEN2 return: cwsw does not read SEN2", 5),
    "csww": (
        "CSWW_2024.xml",
        csww(),
        "a children's social work workforce (CSWW) return: cwsw does not read CSWW",
        5,
    ),
    # named like a CIN census, and still not read as one
    "sen2-named-cin": (
        "cin_census_2025.xml",
        sen2(),
        "an SEN2 return: cwsw does not read SEN2",
        5,
    ),
    "sen2-namespaced": (
        "sen2.xml",
        sen2(namespace=' xmlns="urn:example:sen2"'),
        "an SEN2 return: cwsw does not read SEN2",
        5,
    ),
    # the schemas make Collection optional: the body's first element then tells
    "sen2-no-collection": (
        "SEN2_2025.xml",
        sen2(collection=None),
        "an SEN2 return: cwsw does not read SEN2",
        2,
    ),
    "csww-no-collection": (
        "workforce.xml",
        csww(collection=None),
        "a children's social work workforce (CSWW) return: cwsw does not read CSWW",
        2,
    ),
    "school-census": (
        "school_census_spring.xml",
        cin(collection="CENSUS")
        .replace("<Children>", "<School>")
        .replace("</Children>", "</School>"),
        "a school census XML return: cwsw does not read CENSUS (cwsw reads the school "
        "census as the LA's flattened CSV tables)",
        5,
    ),
    # a CIN header over an SEN2 body is not a CIN census either
    "cin-header-over-persons": (
        "cin_census_2025.xml",
        sen2(collection="CIN"),
        "Header/CollectionDetails/Collection says CIN but the return holds <Persons> where a "
        "CIN census return has <Children>: not a CIN census return",
        5,
    ),
    "unknown-collection": (
        "returns.xml",
        cin(collection="PLAMS"),
        "a DfE return of collection PLAMS (Header/CollectionDetails/Collection): cwsw does "
        "not read PLAMS",
        5,
    ),
}


@pytest.mark.parametrize("case", sorted(REFUSED))
def test_other_dfe_returns_are_refused_by_name(tmp_path: Path, case: str) -> None:
    name, text, message, line = REFUSED[case]
    path = _write(tmp_path, name, text)
    detected = detect(path)
    assert detected is not None and detected.format != "cin_census"
    assert detected.note == message
    # read through detection, or given straight to the CIN census reader: refused in one
    # line naming the file, the line and the return; never read as an empty census
    for read in (read_file, read_cin_census):
        with pytest.raises(FormatError) as raised:
            read(path)
        assert str(raised.value) == f"{path}, line {line}: {message}"


def test_a_cin_census_is_read_by_its_collection_or_its_body(tmp_path: Path) -> None:
    for name, text in [
        ("return.xml", cin()),  # the name says nothing; the Collection does
        ("return_no_collection.xml", cin(collection=None)),  # <Children> does
        ("lower.xml", cin(collection=" cin ")),
    ]:
        path = _write(tmp_path, name, text)
        detected = detect(path)
        assert detected is not None and detected.format == "cin_census", name
        result = read_file(path)
        assert [row["la_child_id"] for row in result.tables["cin_child"]] == ["C1"]


def test_the_real_fixtures_are_known_by_their_header(fixtures: Path) -> None:
    for path in sorted((fixtures / "cin-census").glob("*.xml")):
        found = identify(path)
        assert (found.reads, found.header.collection.text) == ("cin_census", "CIN"), path.name
        assert found.header.body == "Children"
    ssda903 = identify(fixtures / "ssda903/fake_903.xml")
    assert ssda903.reads == "ssda903_xml" and ssda903.refusal is None


def test_the_header_is_read_without_reading_the_file(tmp_path: Path) -> None:
    """Only the header: a file broken after it is still known (and fails in its reader)."""
    text = cin(children=2)
    path = _write(tmp_path, "cin_census_2024.xml", text[: text.index("</Child>") + 3])
    found = identify(path)
    assert found.reads == "cin_census" and found.header.error is None
    assert (found.header.year.text, found.header.year.line) == ("2024", 6)
    assert (found.header.reference_date.text, found.header.reference_date.line) == (
        "2024-03-31",
        7,
    )
    with pytest.raises(FormatError, match="not well-formed XML"):
        read_cin_census(path)


def test_a_message_with_nothing_to_tell_it_by_is_not_a_cin_census(tmp_path: Path) -> None:
    path = _write(tmp_path, "data.xml", "<Message><Header/><Pupils><Pupil/></Pupils></Message>")
    with pytest.raises(FormatError) as raised:
        read_file(path)
    assert raised.value.message == (
        "a <Message> return with no Header/CollectionDetails/Collection and <Pupils> where a "
        "CIN census has <Children>: not a CIN census"
    )


def test_a_wrong_collection_never_supersedes_the_cin_census(tmp_path: Path) -> None:
    """The issue's data loss: an SEN2 return loaded after the year's CIN census left the
    warehouse with no children in need. Now it fails by name and the children stay."""
    census = _write(tmp_path, "cin_census_2024.xml", cin(children=3))
    other = _write(tmp_path, "cin_census_2024_resubmitted.xml", sen2())
    with Warehouse.open(tmp_path / "warehouse.duckdb") as warehouse:
        (loaded,) = ingest(warehouse, [census])
        assert loaded.status == "loaded"
        (refused,) = ingest(warehouse, [other])
        assert (refused.status, refused.load_id) == ("failed", None)
        assert refused.message == f"{other}, line 5: an SEN2 return: cwsw does not read SEN2"
        children = warehouse.execute(
            "SELECT la_child_id FROM cin_child JOIN loads USING (load_id) "
            "WHERE superseded_by IS NULL ORDER BY la_child_id"
        )
        assert children == [("C1",), ("C2",), ("C3",)]
