import pytest

from cwsw.indicators.suppression import Symbol, disclose


@pytest.mark.parametrize("count", [1, 2, 5])
def test_small_counts_are_suppressed(count: int) -> None:
    shown = disclose(numerator=count, value=count, threshold=5)
    assert shown.symbol is Symbol.SUPPRESSED and shown.value is None


@pytest.mark.parametrize("count", [0, 6, 120])
def test_zero_and_counts_above_the_threshold_are_shown(count: int) -> None:
    assert disclose(numerator=count, value=count, threshold=5).value == count


def test_a_rate_on_a_small_numerator_or_denominator_is_suppressed() -> None:
    assert disclose(numerator=3, denominator=40, value=7.5, threshold=5).suppressed
    assert disclose(numerator=4, denominator=4, value=100.0, threshold=5).suppressed
    assert disclose(numerator=10, denominator=40, value=25.0, threshold=5).value == 25.0


def test_threshold_is_a_setting() -> None:
    assert disclose(numerator=8, value=8, threshold=10).suppressed
    assert not disclose(numerator=8, value=8, threshold=5).suppressed


def test_no_denominator_is_not_applicable_and_no_value_not_available() -> None:
    assert (
        disclose(numerator=0, denominator=0, value=None, threshold=5).symbol
        is Symbol.NOT_APPLICABLE
    )
    assert disclose(numerator=None, value=None, threshold=5).symbol is Symbol.NOT_AVAILABLE


def test_child_level_roles_see_unsuppressed_figures() -> None:
    assert disclose(numerator=3, value=3, threshold=5, unrestricted=True).value == 3
