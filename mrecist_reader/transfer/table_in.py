"""Strict reading of the sponsor's small CSV tables (treatments.csv, arms.csv, responses).

The same strictness as the measurements reader (:mod:`mrecist_reader.transfer.csv_in`):
UTF-8 text, a header with every required column, one problem per bad cell with its line,
every problem collected before anything is used (all or nothing). Text cells lose one
leading apostrophe where it guards a spreadsheet formula character (data-transfer.md
§Files, spreadsheet safety).
"""

import csv
import io
import logging
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from mrecist_reader.core.errors import InvalidRead, Problem
from mrecist_reader.transfer.columns import repeated_columns
from mrecist_reader.transfer.csv_in import UnreadableFile
from mrecist_reader.transfer.spreadsheet import restore

logger = logging.getLogger(__name__)

_WHOLE = re.compile(r"-?[0-9]{1,9}")


@dataclass(frozen=True, slots=True)
class TableRow:
    """One data row: the line it starts on and its cells by column name."""

    line: int
    cells: dict[str, str]


class CellProblems:
    """Parses cells, noting one problem (with its line) for each invalid cell."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.problems: list[Problem] = []

    def fail(self, line: int, message: str, *, column: str | None = None) -> None:
        """Note a problem on a line."""
        self.problems.append(Problem(message, field=column, line=line))

    def text(self, row: TableRow, column: str, *, required: bool = True) -> str:
        """Return a text cell (one guarding apostrophe removed); note it if empty."""
        value = restore(row.cells.get(column, ""))
        if required and not value.strip():
            self.fail(row.line, f"{column} is empty (required)", column=column)
        elif any(unicodedata.category(c) == "Cc" for c in value):
            self.fail(
                row.line,
                f"{column} {value!r} contains a control character (expected printable "
                "text on one line)",
                column=column,
            )
        return value

    def whole(
        self, row: TableRow, column: str, *, low: int, required: bool = True
    ) -> int | None:
        """Return a whole-number cell of at least ``low`` (``None`` when invalid)."""
        value = row.cells.get(column, "").strip()
        if not value and not required:
            return None
        if not _WHOLE.fullmatch(value):
            shown = value if len(value) <= 40 else value[:40] + "..."
            self.fail(
                row.line, f"{column} {shown!r} is not a whole number", column=column
            )
            return None
        number = int(value)
        if number < low:
            self.fail(row.line, f"{column} {number} is less than {low}", column=column)
            return None
        return number

    def check(self) -> None:
        """Raise :class:`InvalidRead` listing every problem noted, in line order."""
        if self.problems:
            raise InvalidRead(sorted(self.problems, key=lambda p: p.line or 0))


def read_table(
    path: Path, *, required: Sequence[str], what: str
) -> tuple[tuple[str, ...], tuple[TableRow, ...]]:
    """Read a CSV table whose header must hold ``required`` (more columns may follow).

    Parameters
    ----------
    path
        The CSV file.
    required
        Columns the header must hold (in any order).
    what
        The file's name in messages (``treatments.csv``).

    Returns
    -------
    tuple
        The header and the data rows (blank lines skipped).

    Raises
    ------
    InvalidRead
        An empty file, text that is not CSV, a missing or repeated column, a row with
        another number of fields than the header: every problem, with its line.
    UnreadableFile
        When the file is not UTF-8 text.
    OSError
        When the file cannot be opened.

    """
    records = _records(_text(path, what), what)
    header_line, header = records[0]
    problems = list(_header_problems(header, header_line, required, what))
    rows: list[TableRow] = []
    for line, record in records[1:]:
        if len(record) != len(header):
            problems.append(
                Problem(
                    f"the row has {len(record)} fields but the header has {len(header)}",
                    line=line,
                )
            )
            continue
        rows.append(TableRow(line, dict(zip(header, record, strict=True))))
    if problems:
        raise InvalidRead(problems)
    return tuple(header), tuple(rows)


def _text(path: Path, what: str) -> str:
    data = Path(path).read_bytes()
    try:
        text = data.decode("utf-8").removeprefix("\ufeff")
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        raise UnreadableFile(
            f"{path}:{line}: not UTF-8 text (byte 0x{data[error.start]:02x}); save "
            f"{what} as UTF-8"
        ) from error
    if not text.strip():
        raise InvalidRead([Problem(f"the file is empty (expected {what})", line=1)])
    return text


def _records(text: str, what: str) -> list[tuple[int, list[str]]]:
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    records: list[tuple[int, list[str]]] = []
    start = 1
    try:
        for record in reader:
            if record and any(cell.strip() for cell in record):
                records.append((start, record))
            start = reader.line_num + 1
    except csv.Error as error:
        raise InvalidRead([Problem(f"not valid CSV: {error}", line=start)]) from error
    if not records:
        raise InvalidRead([Problem(f"the file is empty (expected {what})", line=1)])
    return records


def _header_problems(
    header: Sequence[str], line: int, required: Iterable[str], what: str
) -> list[Problem]:
    expected = ", ".join(required)
    if len(header) == 1 and any(header[0].count(sep) >= 1 for sep in (";", "\t", "|")):
        return [
            Problem(
                f"the header row is not separated by commas: {what} is comma separated",
                line=line,
            )
        ]
    present = set(header)
    problems = [
        Problem(
            f"missing column {column!r} ({what} has the columns {expected})",
            field=column,
            line=line,
        )
        for column in required
        if column not in present
    ]
    problems += [
        Problem(f"column {column!r} appears more than once", field=column, line=line)
        for column in repeated_columns(header)
    ]
    return problems
