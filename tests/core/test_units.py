"""mrecist-rules.md §Arithmetic: exact tenths, rounding half away from zero."""

from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mrecist_reader.core.units import format_mm, format_percent, from_mm


@given(count=st.integers(min_value=1, max_value=500))
def test_sum_of_many_tenths_is_exact(count: int) -> None:
    assert sum(from_mm(0.1) for _ in range(count)) == count
    assert (
        format_mm(sum(from_mm("0.1") for _ in range(count)))
        == f"{count // 10}.{count % 10}"
    )


@given(tenths=st.integers(min_value=-100_000, max_value=100_000))
def test_half_tenths_round_away_from_zero(tenths: int) -> None:
    half = Decimal(tenths) / 10 + (Decimal("0.05") if tenths >= 0 else Decimal("-0.05"))
    assert from_mm(half) == tenths + (1 if tenths >= 0 else -1)


@pytest.mark.parametrize(
    ("value", "expected"), [(12.25, 123), (12.35, 124), (-12.25, -123), ("0.04", 0)]
)
def test_from_mm_examples(value: float | str, expected: int) -> None:
    assert from_mm(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (Fraction(-100, 3), "-33.3"),
        (Fraction(-1, 20), "-0.1"),
        (Fraction(1, 20), "0.1"),
    ],
)
def test_percent_display_rounds_half_away_from_zero(
    value: Fraction, expected: str
) -> None:
    assert format_percent(value) == expected
