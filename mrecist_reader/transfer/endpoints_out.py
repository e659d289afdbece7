"""Write endpoint_subjects.csv and endpoint_summary.csv (endpoints.md §Outputs).

RFC 4180 CSV, UTF-8 without BOM, LF line ends; a text cell that begins with a
spreadsheet formula character gets one leading apostrophe, numbers never do
(data-transfer.md §Files, spreadsheet safety).
"""

import csv
import logging
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

logger = logging.getLogger(__name__)

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
"""A text cell starting with one of these is guarded with an apostrophe."""

NUMERIC_COLUMNS = frozenset(
    {
        "anchor_day",
        "target_day",
        "study_day",
        "n",
        "responders",
        "rate",
        "ci_low",
        "ci_high",
        "difference",
        "diff_ci_low",
        "diff_ci_high",
        "p_fisher",
        "p_cmh",
    }
)
"""Columns holding numbers: never prefixed."""


def guarded(column: str, value: str) -> str:
    """Return a cell as written: text starting like a formula gets an apostrophe."""
    if column in NUMERIC_COLUMNS or not value.startswith(FORMULA_STARTS):
        return value
    return "'" + value


def write_table(
    path: Path, columns: Sequence[str], rows: Iterable[Mapping[str, str]]
) -> int:
    """Write one CSV table (header and rows) to ``path``; return the number of rows.

    The caller writes into a temporary folder that replaces the output folder only
    when everything is written (all or nothing).
    """
    count = 0
    with Path(path).open("w", encoding="utf-8", newline="") as stream:
        writer = csv.writer(stream, lineterminator="\n")
        writer.writerow(columns)
        for row in rows:
            writer.writerow([guarded(c, row.get(c, "")) for c in columns])
            count += 1
    logger.debug("wrote %d rows to %s", count, Path(path).name)
    return count
