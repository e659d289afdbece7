"""Lengths as exact integer tenths of a millimetre (mrecist-rules.md §Arithmetic).

All rule arithmetic works on :data:`Tenths`, an ``int`` count of 0.1 mm, so that sums of
many recorded values never suffer binary floating-point error.
"""

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from fractions import Fraction
from typing import TypeAlias

Tenths: TypeAlias = int
"""A length in tenths of a millimetre (``123`` is 12.3 mm)."""

_ONE_TENTH = Decimal("0.1")


def from_mm(value_mm: float | str | Decimal) -> Tenths:
    """Round a length in millimetres to whole tenths, half away from zero.

    Parameters
    ----------
    value_mm
        The length in millimetres. A float is taken through its shortest ``repr`` so that
        ``12.25`` becomes 12.3 mm, as a reader typing 12.25 expects.

    Returns
    -------
    Tenths
        The length in tenths of a millimetre.

    Raises
    ------
    ValueError
        When the value is not a finite number.

    """
    try:
        decimal_mm = Decimal(
            repr(value_mm) if isinstance(value_mm, float) else value_mm
        )
    except InvalidOperation as error:
        raise ValueError(f"{value_mm!r} is not a number") from error
    if not decimal_mm.is_finite():
        raise ValueError(f"{value_mm!r} is not a finite number")
    # ROUND_HALF_UP in decimal rounds half away from zero (unlike round(): banker's).
    return int((decimal_mm / _ONE_TENTH).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def to_mm(value: Tenths) -> float:
    """Return the length in millimetres as a float, for display and geometry only."""
    return value / 10


def format_mm(value: Tenths) -> str:
    """Format tenths as millimetres with one decimal (``123`` -> ``"12.3"``)."""
    sign = "-" if value < 0 else ""
    whole, tenth = divmod(abs(value), 10)
    return f"{sign}{whole}.{tenth}"


def format_percent(value: Fraction) -> str:
    """Format an exact percentage with one decimal, rounded half away from zero."""
    tenths = Decimal(value.numerator) / Decimal(value.denominator) / _ONE_TENTH
    rounded = int(tenths.quantize(Decimal(1), rounding=ROUND_HALF_UP))
    return format_mm(rounded)
