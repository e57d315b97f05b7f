"""What records are compared on: name keys, forename variant classes, Soundex codes,
postcode sectors and other names, each computed once per distinct value in Python so that
the comparisons themselves are plain SQL every engine runs alike (``splink_engine``).

The comparisons and the faults each level recovers: ``docs/linkage-comparisons.md``.
"""

from __future__ import annotations

import csv
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from importlib import resources

MALE, FEMALE = "M", "F"
SEXES = (MALE, FEMALE)
VARIANT_KINDS = ("diminutive", "spelling")
FORENAME_VARIANTS = "data/forename_variants.csv"
# Letters Unicode does not decompose into a base letter and a mark (so NFKD leaves them):
# Polish ł (Michał, Małgorzata), Scandinavian ø and æ, Turkish dotless ı, and a few more.
_UNDECOMPOSED = str.maketrans(
    {"ł": "l", "đ": "d", "ð": "d", "ħ": "h", "ı": "i", "ø": "o", "þ": "th", "æ": "ae", "œ": "oe"}
)
# Separators between the names of a list column written as text ("Smith; Walker").
_LIST_SEPARATORS = re.compile(r"[;|]")


def name_key(text: str | None) -> str | None:
    """A name as compared: accents dropped, case folded, only letters (of any script) kept.

    ``"O'Brien"`` and ``"OBrien"`` compare equal, as do ``"Zoë"`` and ``"Zoe"`` and
    ``"Michał"`` and ``"Michal"``; a name in another script stays in it (there is no
    transliteration).
    """
    if text is None:
        return None
    decomposed = unicodedata.normalize("NFKD", text)
    kept = "".join(c for c in decomposed if c.isalpha()).casefold().translate(_UNDECOMPOSED)
    return kept or None


def name_parts(text: str | None) -> list[str]:
    """The parts of a double-barrelled or multi-word name, each as ``name_key``."""
    if not text:
        return []
    spaced = "".join(" " if c in "-\u2010\u2011\u2013\u2014/," or c.isspace() else c for c in text)
    return [k for part in spaced.split() if (k := name_key(part))]


@dataclass(frozen=True)
class VariantRow:
    """One row of the forename variant table: ``variant`` is a diminutive or another
    spelling of ``name`` for children of ``sex`` (``M``, ``F``, or empty for either)."""

    name: str
    variant: str
    sex: str
    kind: str


def variant_rows() -> list[VariantRow]:
    """The forename variant table (``data/forename_variants.csv``) as written."""
    source = resources.files("cwsw.linkage").joinpath(FORENAME_VARIANTS)
    with source.open(encoding="utf-8") as handle:
        rows = [
            VariantRow(r["name"], r["variant"], r["sex"], r["kind"]) for r in csv.DictReader(handle)
        ]
    for number, row in enumerate(rows, start=2):
        if row.sex not in ("", *SEXES) or row.kind not in VARIANT_KINDS:
            raise ValueError(f"{FORENAME_VARIANTS} line {number}: bad sex or kind in {row}")
    return rows


def _components(pairs: list[tuple[str, str]]) -> dict[str, str]:
    """Each key's connected component, named by its alphabetically first member."""
    parent: dict[str, str] = {}

    def root(key: str) -> str:
        while parent[key] != key:
            parent[key] = parent[parent[key]]
            key = parent[key]
        return key

    for a, b in pairs:
        for key in (a, b):
            parent.setdefault(key, key)
        ra, rb = root(a), root(b)
        if ra != rb:  # the smaller root stays the root: a component's root is its minimum
            parent[max(ra, rb)] = min(ra, rb)
    return {key: root(key) for key in sorted(parent)}


@cache
def forename_classes() -> dict[str, dict[str, str]]:
    """Each forename's equivalence class, per sex: ``{sex: {name key: class}}``.

    Two names are equivalent when a chain of rows of the variant table joins them, in either
    direction (Tom and Tommy, both rows of Thomas, are equivalent), among the rows for that
    sex or for either sex: so Charlie is Charles for a boy and Charlotte for a girl, and
    Charles and Charlotte are never equivalent. A class is named by its sex and its first
    member in alphabetical order (``"M:thomas"`` is Tom's).
    """
    rows = variant_rows()
    out: dict[str, dict[str, str]] = {}
    for sex in SEXES:
        pairs = [
            (a, b)
            for row in rows
            if row.sex in ("", sex)
            and (a := name_key(row.name))
            and (b := name_key(row.variant))
            and a != b
        ]
        out[sex] = {key: f"{sex}:{root}" for key, root in _components(pairs).items()}
    return out


def forename_class_list(forename: str | None, sex: str | None) -> list[str]:
    """The classes a record's forename belongs to: its sex's class, or, where the sex is not
    known, its class for each sex (so a Charlie of unknown sex may be a Charles or a
    Charlotte). Empty for a name the table does not hold."""
    key = name_key(forename)
    if key is None:
        return []
    table = forename_classes()
    sexes = (sex,) if sex in SEXES else SEXES
    return sorted({table[s][key] for s in sexes if key in table[s]})


# Soundex codes of the consonants; vowels and y separate equal codes, h and w do not.
_SOUNDEX_CODES = {
    **dict.fromkeys("bfpv", "1"),
    **dict.fromkeys("cgjkqsxz", "2"),
    **dict.fromkeys("dt", "3"),
    "l": "4",
    **dict.fromkeys("mn", "5"),
    "r": "6",
}


def soundex(name: str | None) -> str | None:
    """American Soundex: the first letter and three digits (Robert and Rupert are R163).

    As the US National Archives define it ("The Soundex Indexing System", 2007): the first
    letter is kept; the other consonants are coded b f p v 1, c g j k q s x z 2, d t 3, l 4,
    m n 5, r 6; letters with the same code side by side, or separated only by h or w, are
    coded once (a first letter's code included: Pfister is P236); vowels and y are dropped
    but separate equal codes (Tymczak T522); the code is cut or padded with zeros to four.
    Computed on the name's key; None where the key does not start with a letter a to z.
    """
    key = name_key(name)
    letters = [c for c in key or "" if "a" <= c <= "z"]
    if not letters or letters[0] != (key or "")[0]:
        return None
    code = letters[0].upper()
    previous = _SOUNDEX_CODES.get(letters[0], "")
    for letter in letters[1:]:
        digit = _SOUNDEX_CODES.get(letter)
        if digit is None:
            if letter not in "hw":  # a vowel (or y) separates two equal codes
                previous = ""
            continue
        if digit != previous:
            code += digit
        previous = digit
    return (code + "000")[:4]


# A UK postcode: outward code (area letters, district digit, optional digit or letter),
# inward code (sector digit, two unit letters). Royal Mail, "Programmers' Guide to the PAF".
_POSTCODE = re.compile(r"^([A-Z]{1,2}[0-9][A-Z0-9]?)([0-9])([A-Z]{2})$")


@dataclass(frozen=True)
class PostcodeParts:
    postcode: str | None  # "LS6 2AB": one space before the inward code
    sector: str | None  # "LS6 2": the outward code and the sector digit
    district: str | None  # "LS6": the outward code


def postcode_parts(text: str | None) -> PostcodeParts:
    """A postcode in one spelling (upper case, one space before the inward code), with its
    sector and district (Royal Mail, "Programmers' Guide to the PAF": a postcode is its
    outward code, the district, then its inward code, a sector digit and two unit letters).
    Text that is not a postcode's shape is kept (upper case, spaces collapsed) with no
    sector or district."""
    if text is None or not text.strip():
        return PostcodeParts(None, None, None)
    squeezed = "".join(text.split()).upper()
    shape = _POSTCODE.match(squeezed)
    if shape is None:
        return PostcodeParts(" ".join(text.upper().split()), None, None)
    outward, sector, unit = shape.groups()
    return PostcodeParts(f"{outward} {sector}{unit}", f"{outward} {sector}", outward)


def _items(value: object) -> list[str]:
    """The names of a list column: a list, or text separated by ``;`` or ``|``."""
    if isinstance(value, str):
        return [item for item in _LIST_SEPARATORS.split(value) if item.strip()]
    if isinstance(value, Iterable):
        return [item for item in value if isinstance(item, str) and item.strip()]
    return []


def previous_surname_keys(value: object) -> list[str]:
    """Keys of the surnames a child was known by before (``previous_surnames``)."""
    return sorted({k for item in _items(value) if (k := name_key(item))})


def alias_keys(value: object) -> tuple[list[str], list[str]]:
    """Forename and surname keys of a child's aliases (``aliases``: full names, the first
    word the forename and the rest the surname; a single word is a forename, a "known as")."""
    forenames, surnames = set(), set()
    for item in _items(value):
        words = item.split()
        if key := name_key(words[0]):
            forenames.add(key)
        if len(words) > 1 and (key := name_key(" ".join(words[1:]))):
            surnames.add(key)
    return sorted(forenames), sorted(surnames)
