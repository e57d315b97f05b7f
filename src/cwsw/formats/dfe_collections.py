"""Which DfE return an XML file is, read from its header before anything is loaded.

Several of DfE's XML returns share one shape, ``<Message><Header><CollectionDetails>`` with
``Collection``, ``Year`` and ``ReferenceDate``, then the return's body: the CIN census
(``Children``), SEN2 (``Persons``), the children's social work workforce census
(``LALevelVacancies`` and ``CSWWWorker``), and the COLLECT censuses of schools, alternative
provision and early years. Only ``Header/CollectionDetails/Collection`` tells them apart
(docs/domain.md §3); where a file leaves it out (the schemas make it optional), the body's
first element does. SSDA903 as XML has a root of its own (``EXPSSDA903``, CLA.xsd) and no such
header.

Sources: the ``Collection`` enumeration of each return's published XML schema: ``CIN`` in
``CIN_schema_2017..2026.xsd`` (``../shared/fixtures/cin-census/xsd``), ``SEN2`` in the SEN2
schemas and ``CSWW`` in the workforce schemas of SocialFinanceDigitalLabs/liia-tools-pipeline
(``liiatools/sen2_pipeline/spec``, ``liiatools/csww_pipeline/spec``), derived from DfE's. The
COLLECT censuses' schemas are not at hand: their usual codes are listed so the message can
name the return, and a code in no list is refused by name all the same.

A return cwsw does not read is refused with one line naming it ("an SEN2 return: cwsw does not
read SEN2"), never read as another: a ``<Message>`` root alone once made an SEN2 return an
empty CIN census that superseded the year's real one.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import NoReturn

from lxml import etree

from cwsw.formats.errors import FormatError
from cwsw.formats.xmltools import local_name

# What cwsw reads: the format of the reader for each collection it reads.
CIN_CENSUS = "cin_census"
SSDA903_XML = "ssda903_xml"
# The root of SSDA903 as XML (``EXPSSDA903``, sometimes with a suffix).
SSDA903_ROOT = "EXPSSDA903"
# The root of the returns that carry ``Header/CollectionDetails``.
MESSAGE = "Message"
# A header is small: a file still inside it after this many elements has none to read.
_MAX_HEADER_ELEMENTS = 200


@dataclass(frozen=True)
class Collection:
    """One DfE collection as its XML names it."""

    code: str  # the ``Collection`` value DfE's schema gives it
    format: str  # the format name cwsw gives a file of it (a reader's, or a refused one's)
    description: str  # the return, for a message: "an SEN2 return"
    reads: bool = False  # whether cwsw reads it
    aliases: tuple[str, ...] = ()  # other ``Collection`` values naming it
    bodies: tuple[str, ...] = ()  # the first element under ``Message`` after ``Header``
    hint: str = ""  # what to send instead, for a collection cwsw does not read

    def refusal(self, written: str | None = None) -> str:
        """The one line that refuses a file of this collection."""
        line = f"{self.description}: cwsw does not read {written or self.code}"
        return f"{line} ({self.hint})" if self.hint else line


COLLECTIONS = (
    Collection("CIN", CIN_CENSUS, "a CIN census return", reads=True, bodies=("Children",)),
    Collection("SEN2", "sen2", "an SEN2 return", bodies=("Persons",)),
    Collection(
        "CSWW",
        "csww",
        "a children's social work workforce (CSWW) return",
        bodies=("LALevelVacancies", "CSWWWorker"),
    ),
    Collection(
        "CENSUS",
        "school_census_xml",
        "a school census XML return",
        aliases=("SC", "SCHOOL CENSUS", "SCHOOLCENSUS"),
        hint="cwsw reads the school census as the LA's flattened CSV tables",
    ),
    Collection(
        "AP",
        "ap_census",
        "an alternative provision census return",
        aliases=("APCENSUS", "AP CENSUS", "ALTERNATIVE PROVISION CENSUS"),
    ),
    Collection(
        "EY",
        "early_years_census",
        "an early years census return",
        aliases=("EYCENSUS", "EY CENSUS", "EARLY YEARS CENSUS"),
    ),
    Collection(
        "SWF",
        "school_workforce_census",
        "a school workforce census return",
        aliases=("SWC", "SCHOOL WORKFORCE CENSUS"),
    ),
)
SSDA903 = Collection("SSDA903", SSDA903_XML, "an SSDA903 return", reads=True)
_BY_CODE = {
    name: collection
    for collection in COLLECTIONS
    for name in (collection.code, *collection.aliases)
}
_BY_BODY = {body: collection for collection in COLLECTIONS for body in collection.bodies}


@dataclass(frozen=True)
class Located:
    """A header element's text (trimmed; None when absent or blank) and line."""

    text: str | None = None
    line: int | None = None


@dataclass(frozen=True)
class XmlHeader:
    """What the start of an XML file says, read without parsing the rest."""

    root: str | None = None  # the root element's local name; None: no root could be read
    root_line: int | None = None
    namespace: str | None = None  # the root's namespace, if it has one
    collection: Located = Located()
    year: Located = Located()
    reference_date: Located = Located()
    body: str | None = None  # the first element under the root that is not ``Header``
    # libxml2's message and line when the file broke before its header had been read
    error: str | None = None
    error_line: int | None = None


@dataclass(frozen=True)
class Identified:
    """An XML file's header and the collection it says it is (None: none that cwsw knows)."""

    header: XmlHeader
    collection: Collection | None
    # The ``Collection`` value as written, when it names no collection cwsw knows.
    unknown_code: str | None = None
    # A collection cwsw reads whose header sits over another return's body.
    contradicted: Collection | None = None

    @property
    def format(self) -> str:
        """The format name a file of it is given (``dfe_xml``: a collection cwsw does not
        know)."""
        return self.collection.format if self.collection is not None else "dfe_xml"

    @property
    def reads(self) -> str | None:
        """The format of the reader for it, when cwsw reads it."""
        return self.collection.format if self.collection and self.collection.reads else None

    @property
    def refusal(self) -> str | None:
        """The one line refusing it, when it is a DfE return cwsw does not read."""
        said = self.contradicted
        if said is not None:
            return (
                f"Header/CollectionDetails/Collection says {self.header.collection.text} but "
                f"the return holds <{self.header.body}> where {said.description} has "
                f"<{said.bodies[0]}>: not {said.description}"
            )
        if self.collection is not None and not self.collection.reads:
            return self.collection.refusal(self.header.collection.text)
        if self.unknown_code is not None:
            return (
                f"a DfE return of collection {self.unknown_code} "
                f"(Header/CollectionDetails/Collection): cwsw does not read {self.unknown_code}"
            )
        header = self.header
        if header.root == MESSAGE and header.error is None and self.collection is None:
            found = f"<{header.body}>" if header.body else "nothing"
            return (
                "a <Message> return with no Header/CollectionDetails/Collection and "
                f"{found} where a CIN census has <Children>: not a CIN census"
            )
        return None

    @property
    def line(self) -> int | None:
        """The line that says what the file is (its Collection, else its root)."""
        return self.header.collection.line or self.header.root_line


def read_header(path: Path) -> XmlHeader:
    """The root, ``Header/CollectionDetails`` and first body element of an XML file.

    Stops at the first element after the header, so a national-size file costs a few
    kilobytes; a file that is not well-formed gives what was read before the fault.
    """
    found: dict[str, Located] = {}
    root: str | None = None
    root_line: int | None = None
    namespace: str | None = None
    body: str | None = None
    path_names: list[str] = []
    try:
        with path.open("rb") as handle:
            events = etree.iterparse(
                handle, events=("start", "end"), remove_comments=True, remove_pis=True
            )
            for count, (event, element) in enumerate(events):
                name = local_name(element.tag)
                if event == "end":
                    if len(path_names) == 4 and path_names[1:3] == ["Header", "CollectionDetails"]:
                        text = (element.text or "").strip() or None
                        found.setdefault(name, Located(text, _line(element)))
                    path_names.pop()
                    continue
                path_names.append(name)
                if root is None:
                    root, root_line = name, _line(element)
                    tag = element.tag
                    namespace = tag[1:].partition("}")[0] if tag[:1] == "{" else None
                    if name != MESSAGE:
                        break  # no DfE header to read: the root is what there is to know
                elif len(path_names) == 2 and name != "Header":
                    body = name
                    break
                if count > _MAX_HEADER_ELEMENTS and len(path_names) > 1:
                    break
    except etree.XMLSyntaxError as error:
        return XmlHeader(
            root,
            root_line,
            namespace,
            found.get("Collection", Located()),
            found.get("Year", Located()),
            found.get("ReferenceDate", Located()),
            body,
            error.msg,
            error.lineno or None,
        )
    except OSError as error:
        return XmlHeader(error=f"cannot read the file: {error}")
    return XmlHeader(
        root,
        root_line,
        namespace,
        found.get("Collection", Located()),
        found.get("Year", Located()),
        found.get("ReferenceDate", Located()),
        body,
    )


def identify(path: Path) -> Identified:
    """Which DfE collection ``path`` is: by ``Header/CollectionDetails/Collection``, else by
    its body's first element; SSDA903 by its root."""
    header = read_header(path)
    if header.root is not None and header.root.upper().startswith(SSDA903_ROOT):
        return Identified(header, SSDA903)
    if header.root != MESSAGE:
        return Identified(header, None)
    code = header.collection.text
    if code is not None:
        collection = _BY_CODE.get(" ".join(code.upper().split()))
        if collection is None:
            return Identified(header, None, unknown_code=code)
        body = header.body
        if collection.reads and collection.bodies and body and body not in collection.bodies:
            return Identified(header, None, contradicted=collection)
        return Identified(header, collection)
    return Identified(header, _BY_BODY.get(header.body or ""))


def refuse(path: Path, *, message: str, line: int | None = None, **_: object) -> NoReturn:
    """The reader of a return cwsw does not read: it refuses the file in one line naming the
    return (``Identified.refusal``), so a load fails rather than passing it over."""
    raise FormatError(path, message, line)


def _line(element: etree._Element) -> int | None:
    line = element.sourceline
    return line if isinstance(line, int) else None
