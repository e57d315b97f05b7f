import pytest
from hypothesis import given
from hypothesis import strategies as st

from cwsw.domain.upn import check_letter, clean_upn, is_valid_upn, normalise_id


def test_published_example_upn_is_valid() -> None:
    # The worked example in python-stdnum's UPN module (from DfE's UPN guidance).
    assert is_valid_upn("B801200005001")
    assert not is_valid_upn("A801200005001")


def test_check_letter_by_hand() -> None:
    # 8*2 + 0*3 + 1*4 + 2*5 + 0*6 + 0*7 + 0*8 + 0*9 + 5*10 + 0*11 + 0*12 + 1*13 = 93;
    # 93 mod 23 = 1 -> "B".
    assert check_letter("801200005001") == "B"


def test_temporary_upn_letter_in_position_13_counts_as_its_alphabet_index() -> None:
    body = "80120000500A"  # A is index 0: same sum as ...5000 -> 80 mod 23 = 11 -> "M"
    assert check_letter(body) == "M"
    assert is_valid_upn("M" + body)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("  b801200005001 ", "B801200005001"),
        ("\ufeffB801200005001", "B801200005001"),
        ("123456.0", "123456"),
        ("", None),
        ("   ", None),
        (None, None),
    ],
)
def test_normalise_id(raw: str | None, expected: str | None) -> None:
    assert normalise_id(raw) == expected


@pytest.mark.parametrize(
    "raw", ["A801200005001", "B80120000500", "B8012000050011", "I801200005001", "UN1"]
)
def test_invalid_upns_are_cleaned_to_none(raw: str) -> None:
    assert clean_upn(raw) is None


def test_lower_case_and_spaces_are_cleaned_to_a_valid_upn() -> None:
    assert clean_upn(" b801200005001") == "B801200005001"


@given(
    st.text(alphabet="0123456789", min_size=11, max_size=11),
    st.sampled_from("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"),
    st.sampled_from("ABCDEFGHIJKLMNOPQRSTUVWXYZ"),
)
def test_the_fast_validity_check_agrees_with_check_letter(
    digits: str, last: str, letter: str
) -> None:
    body = digits + last
    try:
        expected = check_letter(body) == letter
    except ValueError:  # I, O or S in position 13
        expected = False
    assert is_valid_upn(letter + body) is expected
