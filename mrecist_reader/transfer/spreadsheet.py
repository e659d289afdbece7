"""Spreadsheet safety of CSV text cells (data-transfer.md §Files, OWASP CSV injection).

A text cell whose value begins with ``=``, ``+``, ``-``, ``@``, a tab or a carriage
return is written with one leading apostrophe, so that a spreadsheet shows it as text
instead of running it as a formula; readers remove exactly one leading apostrophe where
it precedes one of those characters, so an import/export round trip is unchanged.
Numeric cells (``-12.5``) are never prefixed: writers name their numeric columns.
"""

from collections.abc import Collection, Mapping

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
"""The first characters a spreadsheet takes as the start of a formula."""


def neutralise(value: str) -> str:
    """Return a text cell as written: one apostrophe before a formula's first character."""
    return "'" + value if value.startswith(FORMULA_STARTS) else value


def restore(value: str) -> str:
    """Return a text cell as read: one apostrophe before a formula character removed."""
    if value.startswith("'") and value[1:].startswith(FORMULA_STARTS):
        return value[1:]
    return value


def neutralise_row(row: Mapping[str, str], numeric: Collection[str]) -> dict[str, str]:
    """Return a row with every text cell (not in ``numeric``) neutralised."""
    return {
        column: value if column in numeric else neutralise(value)
        for column, value in row.items()
    }


def restore_row(row: Mapping[str, str], numeric: Collection[str]) -> dict[str, str]:
    """Return a row read from a file with every text cell restored."""
    return {
        column: value if column in numeric else restore(value)
        for column, value in row.items()
    }
