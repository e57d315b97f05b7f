"""The identifier rules, each on its own and in their order, on tables made by hand."""

from __future__ import annotations

import ibis
import pytest

from cwsw.linkage import deterministic as d

CIN = {
    "la_child_id": "string",
    "collection_year": "int64",
    "upn": "string",
    "upn_raw": "string",
    "former_upn": "string",
}
CLA = {k: v for k, v in CIN.items() if k != "former_upn"}
PERSON = {"la_child_id": "string", "load_id": "int64", "upn": "string", "upn_raw": "string"}
PUPIL = {"upn": "string", "former_upn": "string"}

U1, U2, U3, U4, U5, U6 = (
    "B801200005001",
    "Q801200005002",
    "E801200005003",
    "U801200005004",
    "H801200005005",
    "X801200005006",
)
FORMER = "M80120000500A"


def table(schema: dict[str, str], rows: list[tuple]) -> ibis.Table:
    return ibis.memtable([dict(zip(schema, r, strict=True)) for r in rows], schema=schema)


def run(cin: list[tuple], cla: list[tuple], person: list[tuple], pupils: list[tuple]) -> dict:
    links = ibis.duckdb.connect().execute(
        d.link_deterministic(
            table(CIN, cin), table(CLA, cla), table(PUPIL, pupils), table(PERSON, person)
        )
    )
    return {r.la_child_id: (r.upn, r.match_method) for r in links.itertuples()}


def test_each_rule_records_itself_as_the_match_method() -> None:
    links = run(
        cin=[
            ("exact", 2025, U1, U1, None),
            ("former", 2025, FORMER, FORMER, None),  # a pupil's former UPN as the UPN
            ("other_year", 2025, None, "UN5", None),  # lost this year, given last year
            ("other_year", 2024, U3, U3, None),
            ("messy", 2025, None, f" {U4[:6]} {U4[6:].lower()}.0", None),
        ],
        cla=[("cla_only", 2025, None, "UN2"), ("cla_only", 2023, U5, U5)],
        person=[("person_only", 1, U6, U6)],
        pupils=[(U1, None), (U2, FORMER), (U3, None), (U4, None), (U5, None), (U6, None)],
    )
    assert links == {
        "exact": (U1, d.VALID_UPN_EXACT),
        "former": (U2, d.FORMER_UPN),
        "other_year": (U3, d.LA_CHILD_ID),
        "messy": (U4, d.NORMALISED_UPN),
        "cla_only": (U5, d.LA_CHILD_ID),
        "person_only": (U6, d.VALID_UPN_EXACT),  # a child only in the extract: its anchor
    }


def test_the_newest_return_is_the_anchor_and_earlier_rules_win() -> None:
    links = run(
        # the newest CIN record says U1; an older one and the extract say U2
        cin=[("c", 2025, U1, U1, None), ("c", 2024, U2, U2, None)],
        cla=[],
        person=[("c", 1, U2, U2)],
        pupils=[(U1, None), (U2, None)],
    )
    assert links == {"c": (U1, d.VALID_UPN_EXACT)}


def test_ambiguity_is_left_unlinked_and_a_taken_pupil_is_not_offered_again() -> None:
    links = run(
        cin=[
            ("twin_a", 2025, U1, U1, None),  # two children claim U1 exactly: neither linked
            ("twin_b", 2025, U1, U1, None),
            ("linked", 2025, U2, U2, None),
            ("late", 2025, None, "UN5", None),  # another record names U2, already taken
            ("late", 2024, U2, U2, None),
        ],
        cla=[],
        person=[],
        pupils=[(U1, None), (U2, None)],
    )
    assert links == {"linked": (U2, d.VALID_UPN_EXACT)}


def test_fixed_decisions_come_first_and_rejected_pairs_never_link() -> None:
    cin = table(CIN, [("a", 2025, U1, U1, None), ("b", 2025, U2, U2, None)])
    pupils = table(PUPIL, [(U1, None), (U2, None), (U3, None)])
    records = d.child_records(cin, table(CLA, []))
    fixed = table(d.LINK_SCHEMA, [("a", U3, "review_accepted")])
    rejected = table(d.PAIR_SCHEMA, [("b", U2)])
    links = ibis.duckdb.connect().execute(
        d.cascade(d.rule_claims(records, pupils), fixed=fixed, rejected=rejected)
    )
    assert set(zip(links.la_child_id, links.upn, links.match_method, strict=True)) == {
        ("a", U3, "review_accepted")
    }


@pytest.mark.parametrize(
    ("raw", "expected"),
    [(f" {U1.lower()} ", U1), (f"{U1[:5]} {U1[5:]}", U1), (f"{U1}.0", U1), ("\ufeff" + U1, U1)],
)
def test_normalisation(raw: str, expected: str) -> None:
    con = ibis.duckdb.connect()
    assert con.execute(d.normalise_upn_expr(ibis.literal(raw))) == expected
