"""Write endpoint_subjects.csv and endpoint_summary.csv (endpoints.md §Outputs).

RFC 4180 CSV, UTF-8 without BOM, LF line ends; a text cell that begins with a
spreadsheet formula character gets one leading apostrophe, numbers never do
(data-transfer.md §Files, spreadsheet safety).
"""

import logging
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

from mrecist_reader.transfer.csv_out import write_rows

logger = logging.getLogger(__name__)

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


def write_table(
    path: Path, columns: Sequence[str], rows: Iterable[Mapping[str, str]]
) -> int:
    """Write one CSV table (header and rows) to ``path``; return the number of rows.

    The caller writes into a temporary folder that replaces the output folder only
    when everything is written (all or nothing).
    """
    written = list(rows)
    with Path(path).open("w", encoding="utf-8", newline="") as stream:
        write_rows(stream, columns, written, numeric=NUMERIC_COLUMNS)
    count = len(written)
    logger.debug("wrote %d rows to %s", count, Path(path).name)
    return count
