"""Read measurements.csv (shared/spec/data-transfer.md) into reads, checking everything.

:func:`read_measurements` reports every problem at once, each with its line: the
header, each cell (unknown tokens, text in a number, bad dates), the structure of each
read (missing baseline, duplicated lesion rows, a lesion that changes type, read-level
values that differ within a read) and finally the rules of the protocol profile
(:func:`mrecist_reader.core.validate.validate_read`). A file can hold many reads; rows
are grouped by (study_id, subject_id, reader_id, read_type, read_role).

Second version of the files (data-transfer.md §Added in the second version): the
columns ``read_role``, ``source_reader``, ``whole_diameter_mm`` and
``viable_perpendicular_mm`` may follow the first version's; a file without them is read
as before (a central read is ``primary``, a site's read ``local``). An empty
``read_role`` cell is read the same way. :func:`read_measurements` (``import``) refuses
``final`` rows: final reads are derived, never imported;
:func:`read_measurements_with_roles` (``assess``) reads them as reads of their own,
never mixed with their source read. The second-version diameters are read into each
observation's :class:`~mrecist_reader.core.model.MeasurementEvidence` (``import`` stores
them with the measurement; mRECIST responses never use them).
"""

import csv
import logging
import math
import re
import unicodedata
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from pathlib import Path
from typing import TypeVar

from mrecist_reader.core.errors import InvalidRead, MrecistError, Problem
from mrecist_reader.core.field_limits import MAX_LENGTHS, field_problem
from mrecist_reader.core.import_merge import lock_state_problems
from mrecist_reader.core.model import (
    STATUSES_BY_TYPE,
    Caliper,
    Criteria,
    Lesion,
    LesionType,
    MeasurementEvidence,
    Method,
    NewLesionStatus,
    NonTargetStatus,
    Observation,
    Organ,
    Read,
    ReadKey,
    ReadStatus,
    ReadType,
    TargetStatus,
    Timepoint,
)
from mrecist_reader.core.protocol import ProtocolProfile
from mrecist_reader.core.subject_ids import identifier_problem
from mrecist_reader.core.units import from_mm
from mrecist_reader.core.validate import validate_read
from mrecist_reader.transfer.columns import (
    CALIPER_COLUMNS,
    MEASUREMENT_COLUMNS,
    MEASUREMENT_COLUMNS_V1,
    NUMERIC_COLUMNS,
    SCHEMA_VERSION,
    SECOND_DIAMETER_COLUMNS,
    ReadRole,
    repeated_columns,
)
from mrecist_reader.transfer.csv_out import (
    RoleRead,
    default_role,
    lesion_sort_key,
    role_sort_key,
)
from mrecist_reader.transfer.spreadsheet import restore_row

logger = logging.getLogger(__name__)

_E = TypeVar("_E", bound=StrEnum)
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_TIMESTAMP_FORMAT = "%Y-%m-%dT%H:%M:%SZ"
# ASCII digits only: ``\d`` would take Arabic-Indic or full-width digits as numbers.
_WHOLE = re.compile(r"-?[0-9]+")
_LENGTH = re.compile(r"[0-9]+(\.[0-9]+)?")
MAX_WHOLE_NUMBER = 2**31 - 1
"""Largest timepoint_index / study_day accepted (what every database integer holds)."""
MAX_LENGTH_MM = Decimal(1000)
"""Largest viable diameter accepted, mm: no lesion in a patient is a metre long."""
MAX_COORDINATE_MM = 1_000_000.0
"""Largest caliper coordinate accepted (absolute value), mm."""


class UnreadableFile(OSError):
    """The file cannot be read as text at all (not UTF-8): exit status 2."""


def _shown(value: str, limit: int = 40) -> str:
    """Quote a cell for a message, shortened when it is long (a 5000-digit number)."""
    if len(value) <= limit:
        return repr(value)
    return f"{value[:limit]!r}... ({len(value)} characters)"


def format_problem(path: Path | str, problem: Problem) -> str:
    """Format a problem as ``FILE:LINE: message`` (``FILE: message`` without a line)."""
    if problem.line is None:
        return f"{path}: {problem.message}"
    return f"{path}:{problem.line}: {problem.message}"


@dataclass
class _Row:
    """One parsed data row; ``None`` where a cell was invalid (and a problem noted)."""

    line: int
    cells: dict[str, str]
    ok: bool = True
    values: dict[str, object] = field(default_factory=dict)
    bad: frozenset[str] = frozenset()  # shared while empty: one per held row adds up


def read_measurements(
    path: Path,
    *,
    profile_for: Callable[[str], ProtocolProfile],
    now: datetime | None = None,
) -> tuple[Read, ...]:
    """Read every read of a measurements.csv to import it, and check it completely.

    As :func:`read_measurements_with_roles`, but a ``final`` row is a problem (final
    reads are derived, never imported).

    Raises
    ------
    InvalidRead
        Listing every problem; each carries the ``line`` it was found on.
    UnreadableFile
        When the file is not UTF-8 text (an ``OSError``).
    OSError
        When the file cannot be opened.

    """
    found = _read_file(path, profile_for=profile_for, now=now, for_import=True)
    return tuple(item.read for item in found)


def read_measurements_with_roles(
    path: Path,
    *,
    profile_for: Callable[[str], ProtocolProfile],
    now: datetime | None = None,
) -> tuple[RoleRead, ...]:
    """Read every read of a measurements.csv with its role, and check it completely.

    Parameters
    ----------
    path
        The measurements.csv file.
    profile_for
        Returns the protocol profile to validate a read with, given its
        ``protocol_profile`` cell (may raise ``OSError``/``LookupError``/``MrecistError``
        for an unknown name, reported as a problem on that read's first line).
    now
        The current time: a ``signed_at`` after it is refused (default: now).

    Returns
    -------
    tuple[RoleRead, ...]
        The reads with their ``read_role`` (a ``final`` read apart from its source
        read), ordered by study, subject, reader, read type and role.

    Raises
    ------
    InvalidRead
        Listing every problem; each carries the ``line`` it was found on.
    UnreadableFile
        When the file is not UTF-8 text (an ``OSError``).
    OSError
        When the file cannot be opened.

    """
    return _read_file(path, profile_for=profile_for, now=now, for_import=False)


def _read_file(
    path: Path,
    *,
    profile_for: Callable[[str], ProtocolProfile],
    now: datetime | None,
    for_import: bool,
) -> tuple[RoleRead, ...]:
    _check_text(path)
    with Path(path).open(encoding="utf-8-sig", newline="") as stream:
        records = _records(stream, path)
        first = next(records, None)
        if first is None:  # the file changed after it was checked
            raise InvalidRead([_EMPTY])
        header_line, header = first
        problems = list(_header_problems(header, header_line))
        if problems:
            raise InvalidRead(problems)
        known = _known_positions(header)
        shared: dict[str, str] = {}
        # One record at a time: only the parsed rows are held (issue 21, item 17).
        rows = [
            _parse_row(line, header, record, problems, for_import, (known, shared))
            for line, record in records
        ]
    # A row that could not be split may be a read's baseline: do not claim it is missing.
    complete = all(row is not None for row in rows)
    groups = _group(r for r in rows if r is not None)
    del rows  # each read's rows go once it is built
    reads: list[RoleRead] = []
    for key in list(groups):
        group = groups.pop(key)
        read = _build_read(
            group,
            problems,
            profile_for,
            complete=complete,
            now=now or datetime.now(UTC),
        )
        if read is not None:
            role = group[0].values["read_role"]
            reads.append(
                RoleRead(
                    read,
                    role if isinstance(role, ReadRole) else default_role(read),
                    group[0].cells.get("source_reader", ""),
                )
            )
    if problems:
        raise InvalidRead(sorted(problems, key=lambda p: p.line or 0))
    logger.info("read %d read(s) from %s", len(reads), path.name)
    return tuple(sorted(reads, key=role_sort_key))


def _check_text(path: Path) -> None:
    """Check that the file is UTF-8 text with something in it (it is read after).

    Neither the bytes nor the text are kept: the records are read from the file one at
    a time (issue 21, item 17: a whole-file copy, its records and its rows held at once
    took about 19 times the file's size).
    """
    data = Path(path).read_bytes()
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        column = error.start - (data.rfind(b"\n", 0, error.start) + 1) + 1
        raise UnreadableFile(
            f"{path}:{line}: not UTF-8 text (byte 0x{data[error.start]:02x} at "
            f"character {column} of the line); save the file as UTF-8"
        ) from error
    text = text.removeprefix("\ufeff")
    if not text.strip():
        # Read but invalid (exit 1, like a wrong header), not unreadable.
        raise InvalidRead([_EMPTY])


_EMPTY = Problem(
    "the file is empty (expected the header row "
    f"{','.join(MEASUREMENT_COLUMNS)} and one row per lesion per timepoint)",
    line=1,
)


def _records(lines: Iterable[str], path: Path) -> Iterator[tuple[int, list[str]]]:
    """Split CSV lines into records with the line each starts on (blank lines skipped).

    Records are yielded one at a time; the file's text is never held whole.
    """
    reader = csv.reader(lines, strict=True)
    start = 1
    try:
        for record in reader:
            if record:
                yield start, record
            start = reader.line_num + 1
    except csv.Error as error:
        raise InvalidRead([Problem(f"not valid CSV: {error}", line=start)]) from error
    except UnicodeDecodeError as error:  # the file changed after it was checked
        raise UnreadableFile(
            f"{path}:{start}: not UTF-8 text; save the file as UTF-8"
        ) from error


def _cells(
    record: list[str], known: Sequence[tuple[str, int]], shared: dict[str, str]
) -> dict[str, str]:
    """Return a record's known cells, restored as data-transfer.md §Files says.

    Equal cells of different rows become one string (``shared``): a read's study,
    reader, dates, labels and UIDs repeat on many rows, and every row is held until
    the whole file is checked (issue 21, item 17).
    """
    cells = restore_row({c: record[n] for c, n in known}, NUMERIC_COLUMNS)
    return {c: shared.setdefault(v, v) for c, v in cells.items()}


def _known_positions(header: Sequence[str]) -> tuple[tuple[str, int], ...]:
    """Return each known column with its position; other columns are ignored.

    data-transfer.md: a reader ignores columns it does not know, so a row keeps only
    the cells of known columns (a file with 100,000 extra columns parses as fast as
    one without them).
    """
    known = set(MEASUREMENT_COLUMNS)
    return tuple((name, n) for n, name in enumerate(header) if name in known)


def _header_problems(header: Sequence[str], line: int) -> Iterator[Problem]:
    expected = ", ".join(MEASUREMENT_COLUMNS_V1)
    separator = _other_separator(header)
    if separator is not None:
        yield Problem(
            f"the header row is separated by {separator!r}, not by commas: "
            "measurements.csv is comma separated (save it as CSV with ',' as the "
            "separator)",
            line=line,
        )
        return
    present = set(header)
    missing = [c for c in MEASUREMENT_COLUMNS_V1 if c not in present]
    for column in missing:
        yield Problem(
            f"missing column {column!r} (measurements.csv starts with the columns "
            f"{expected})",
            field=column,
            line=line,
        )
    for column in repeated_columns(header):
        yield Problem(
            f"column {column!r} appears more than once", field=column, line=line
        )
    leading = tuple(header[: len(MEASUREMENT_COLUMNS_V1)])
    if not missing and leading != MEASUREMENT_COLUMNS_V1:
        position, found, wanted = next(
            (i + 1, got, want)
            for i, (got, want) in enumerate(
                zip(leading, MEASUREMENT_COLUMNS_V1, strict=True)
            )
            if got != want
        )
        yield Problem(
            f"column {position} is {found!r} but {wanted!r} was expected (the columns of "
            f"data-transfer.md come first, in order: {expected}; more may follow them)",
            line=line,
        )


def _other_separator(header: Sequence[str]) -> str | None:
    """Return the separator of a header that is one cell split by ``;``, tab or ``|``."""
    if len(header) != 1:
        return None
    return next((sep for sep in (";", "\t", "|") if header[0].count(sep) >= 2), None)


_LAYOUT_CHARACTERS = "\t\n\r"


def _first_control_character(value: str, allowed: str) -> tuple[int, str] | None:
    """Return the 1-based position and character of the first control character.

    NUL and the other control characters have no place in a cell (PostgreSQL refuses
    NUL in text outright); tabs and line breaks only in free text such as a location.
    """
    for position, character in enumerate(value, start=1):
        if unicodedata.category(character) == "Cc" and character not in allowed:
            return position, character
    return None


class _CellReader:
    """Parses the cells of one row, noting a problem for each invalid cell."""

    def __init__(self, row: _Row, problems: list[Problem]) -> None:
        self.row = row
        self.problems = problems

    def fail(self, column: str, message: str) -> None:
        self.row.ok = False
        self.row.bad |= {column}
        self.problems.append(Problem(message, field=column, line=self.row.line))

    def text(
        self, column: str, *, required: bool = False, free_text: bool = False
    ) -> str:
        """Return the cell as text; free text may hold tabs and line breaks."""
        value = self.row.cells[column]
        if required and not value.strip():
            self.fail(column, f"{column} is empty (required)")
        allowed = _LAYOUT_CHARACTERS if free_text else ""
        control = _first_control_character(value, allowed)
        if control is not None:
            position, character = control
            expected = "text" if free_text else "printable text on one line"
            self.fail(
                column,
                f"{column} contains the control character U+{ord(character):04X} at "
                f"character {position} (expected {expected})",
            )
        return value

    def identifier(self, column: str, *, required: bool = False) -> str:
        """Return an identifier cell normalised (NFC, stripped); refuse hidden characters.

        The normalised value replaces the cell, so that rows are grouped into reads by
        it (``" S01"`` and ``"S01"`` are one subject; issue 21, item 4).
        """
        value = unicodedata.normalize("NFC", self.row.cells[column]).strip()
        self.row.cells[column] = value
        if required and not value:
            self.fail(column, f"{column} is empty (required)")
        problem = identifier_problem(value, field=column)
        if problem is not None:
            self.fail(column, problem)
        return value

    def choice(
        self, column: str, enum: type[_E], *, required: bool = True
    ) -> _E | None:
        value = self.row.cells[column]
        if not value and not required:
            return None
        try:
            return enum(value)
        except ValueError:
            allowed = ", ".join(str(member) for member in enum)
            self.fail(column, f"{column} {value!r} is not one of: {allowed}")
            return None

    def integer(self, column: str, *, required: bool) -> int | None:
        value = self.row.cells[column]
        if not value and not required:
            return None
        digits = value.strip()
        if _WHOLE.fullmatch(digits):
            # int() refuses more than 4300 digits; such a number is too large anyway.
            if len(digits) <= 100 and abs(int(digits)) <= MAX_WHOLE_NUMBER:
                return int(digits)
            self.fail(
                column,
                f"{column} {_shown(value)} is too large (at most {MAX_WHOLE_NUMBER})",
            )
            return None
        self.fail(column, f"{column} {_shown(value)} is not a whole number")
        return None

    def length_mm(self, column: str) -> int | None:
        value = self.row.cells[column].strip()
        if not value:
            return None
        if not _LENGTH.fullmatch(value):
            self.fail(
                column,
                f"{column} {_shown(value)} is not a length in millimetres (e.g. 23.4)",
            )
            return None
        if Decimal(value) > MAX_LENGTH_MM:
            self.fail(
                column,
                f"{column} {_shown(value)} is larger than any lesion (at most "
                f"{MAX_LENGTH_MM} mm)",
            )
            return None
        # mrecist-rules.md §Arithmetic: recorded to 0.1 mm, half away from zero.
        return from_mm(Decimal(value))

    def coordinate(self, column: str) -> float | None:
        value = self.row.cells[column].strip()
        try:
            number = float(Decimal(value)) if value.isascii() else math.nan
        except InvalidOperation:
            number = math.nan
        if not math.isfinite(number) or abs(number) > MAX_COORDINATE_MM:
            self.fail(
                column,
                f"{column} {_shown(value)} is not a number of millimetres (a "
                f"coordinate within ±{MAX_COORDINATE_MM:.0f} mm, e.g. -52.30)",
            )
            return None
        return number

    def day(self, column: str) -> date | None:
        value = self.row.cells[column].strip()
        if not value:
            return None
        try:
            if _DATE.fullmatch(value):
                return date.fromisoformat(value)
        except ValueError:
            pass
        self.fail(column, f"{column} {value!r} is not a date like 2026-03-01")
        return None

    def timestamp(self, column: str) -> datetime | None:
        value = self.row.cells[column].strip()
        if not value:
            return None
        try:
            return datetime.strptime(value, _TIMESTAMP_FORMAT).replace(tzinfo=UTC)
        except ValueError:
            self.fail(
                column,
                f"{column} {value!r} is not a UTC time like 2026-03-01T14:03:22Z",
            )
            return None


def _parse_row(
    line: int,
    header: Sequence[str],
    record: list[str],
    problems: list[Problem],
    for_import: bool,
    cells_of: tuple[Sequence[tuple[str, int]], dict[str, str]],
) -> _Row | None:
    if len(record) != len(header):
        problems.append(
            Problem(
                f"the row has {len(record)} fields but the header has {len(header)}",
                line=line,
            )
        )
        return None
    # data-transfer.md §Files: one apostrophe before a formula character is removed.
    row = _Row(line, _cells(record, *cells_of))
    cells = _CellReader(row, problems)
    if row.cells["schema_version"] != SCHEMA_VERSION:
        cells.fail(
            "schema_version",
            f"schema_version {row.cells['schema_version']!r} is not supported "
            f"(this version reads {SCHEMA_VERSION})",
        )
    row.values = {**_read_values(cells), **_lesion_values(cells)}
    row.values["read_role"] = _role(cells, for_import=for_import)
    row.values["evidence"] = _second_diameters(
        cells, row.values["lesion_type"] is LesionType.NON_TARGET
    )
    for column in ("series_instance_uid", "sop_instance_uid"):
        cells.text(column)
    cells.text("comment", free_text=True)
    # Lengths the database holds, checked here with the line (issue 21, item 16).
    for column in MAX_LENGTHS:
        problem = (
            None if column in row.bad else field_problem(column, row.cells[column])
        )
        if problem is not None:
            cells.fail(column, problem)
    return row


_ROLES_OF_TYPE = {
    ReadType.CENTRAL: (ReadRole.PRIMARY, ReadRole.FINAL),
    ReadType.LOCAL: (ReadRole.LOCAL,),
}


def _role(cells: _CellReader, *, for_import: bool) -> ReadRole | None:
    """Return the row's ``read_role`` (``None``: not given, the read type decides).

    ``source_reader`` is checked with it: the reader_id of a ``final`` row, empty on
    any other.
    """
    row = cells.row
    source = row.cells.get("source_reader", "")
    if source:
        cells.identifier("source_reader")
        source = row.cells["source_reader"]
    role = (
        cells.choice("read_role", ReadRole, required=False)
        if "read_role" in row.cells
        else None
    )
    if role is ReadRole.FINAL and for_import:
        cells.fail(
            "read_role",
            "read_role 'final': final reads are derived, never imported (they come "
            "from the primary reads and the adjudication in the database)",
        )
        return None
    read_type = row.values.get("read_type")
    if (
        role is not None
        and isinstance(read_type, ReadType)
        and role not in _ROLES_OF_TYPE[read_type]
    ):
        allowed = " or ".join(map(str, _ROLES_OF_TYPE[read_type]))
        cells.fail(
            "read_role",
            f"read_role {str(role)!r} is not one of a {read_type} read's roles "
            f"({allowed})",
        )
        return None
    if role is ReadRole.FINAL and source != row.cells["reader_id"]:
        cells.fail(
            "source_reader",
            f"source_reader {source!r} of a final read must be its reader_id "
            f"{row.cells['reader_id']!r} (the reader whose read was chosen or was "
            "concordant)",
        )
    elif role is not ReadRole.FINAL and source:
        cells.fail(
            "source_reader",
            f"source_reader {source!r} is given for a read that is not final (it names "
            "the source of a final read only; leave it empty)",
        )
    return role


def _second_diameters(
    cells: _CellReader, non_target: bool
) -> MeasurementEvidence | None:
    """Return the second version's diameters as the click's evidence (none: None).

    The checks a click found are kept in the read and its audit trail only (the
    spec has no column for them), so an imported measurement has none. A non-target
    lesion is not measured: a value there is a problem.
    """
    given = [c for c in SECOND_DIAMETER_COLUMNS if cells.row.cells.get(c, "").strip()]
    if given and non_target:
        cells.fail(
            given[0],
            f"{given[0]} {cells.row.cells[given[0]]!r} is given for a non-target "
            "lesion, which is not measured (leave it empty)",
        )
        return None
    whole, perpendicular = (
        cells.length_mm(column) if column in given else None
        for column in SECOND_DIAMETER_COLUMNS
    )
    if whole is None and perpendicular is None:
        return None
    return MeasurementEvidence(whole_diameter=whole, perpendicular=perpendicular)


def _read_values(cells: _CellReader) -> dict[str, object]:
    index = cells.integer("timepoint_index", required=True)
    if index is not None and index < 0:
        cells.fail("timepoint_index", f"timepoint_index {index} is negative")
    return {
        "study_id": cells.identifier("study_id", required=True),
        "site_id": cells.identifier("site_id"),
        "subject_id": cells.identifier("subject_id", required=True),
        "reader_id": cells.identifier("reader_id", required=True),
        "read_type": cells.choice("read_type", ReadType),
        "criteria": cells.choice("criteria", Criteria),
        "protocol_profile": cells.text("protocol_profile", required=True),
        "timepoint": cells.text("timepoint", required=True),
        "timepoint_index": index,
        "scan_date": cells.day("scan_date"),
        "study_day": cells.integer("study_day", required=False),
        "read_status": cells.choice("read_status", ReadStatus),
        "signed_at": cells.timestamp("signed_at"),
    }


def _lesion_values(cells: _CellReader) -> dict[str, object]:
    lesion_type = cells.choice("lesion_type", LesionType)
    status: StrEnum | None = None
    if lesion_type is not None:
        status_enum = STATUSES_BY_TYPE[lesion_type]
        status = cells.choice("status", status_enum)
        if status is None:
            cells.problems[-1] = Problem(
                f"status {cells.row.cells['status']!r} is not allowed for a "
                f"{lesion_type} lesion (allowed: {', '.join(map(str, status_enum))})",
                field="status",
                line=cells.row.line,
            )
    return {
        "lesion_id": cells.text("lesion_id", required=True),
        "lesion_type": lesion_type,
        "organ": cells.choice("organ", Organ),
        "location": cells.text("location", free_text=True),
        "status": status,
        "diameter": cells.length_mm("viable_diameter_mm"),
        "caliper": _caliper(cells),
        "method": cells.choice("method", Method, required=False),
    }


def _caliper(cells: _CellReader) -> Caliper | None:
    given = [c for c in CALIPER_COLUMNS if cells.row.cells[c].strip()]
    if not given:
        return None
    if len(given) != len(CALIPER_COLUMNS):
        missing = ", ".join(c for c in CALIPER_COLUMNS if c not in given)
        cells.fail(
            missing.split(",")[0], f"caliper end points incomplete: {missing} empty"
        )
        return None
    numbers = [cells.coordinate(c) for c in CALIPER_COLUMNS]
    if any(n is None for n in numbers):
        return None
    x1, y1, z1, x2, y2, z2 = (float(n or 0.0) for n in numbers)
    return Caliper((x1, y1, z1), (x2, y2, z2))


def _group(rows: Iterator[_Row]) -> dict[tuple[str, ...], list[_Row]]:
    """Group rows into reads by (study_id, subject_id, reader_id, read_type, role).

    A ``final`` read and its source read are two reads; an empty or absent
    ``read_role`` is the read type's (``primary`` or ``local``).
    """
    groups: dict[tuple[str, ...], list[_Row]] = {}
    for row in rows:
        key = tuple(
            row.cells[c] for c in ("study_id", "subject_id", "reader_id", "read_type")
        )
        final = row.cells.get("read_role") == ReadRole.FINAL
        groups.setdefault((*key, "final" if final else ""), []).append(row)
    return groups


def _read_name(row: _Row) -> str:
    cells = row.cells
    return f"read {cells['subject_id']}/{cells['reader_id']}/{cells['read_type']}"


_READ_LEVEL = ("site_id", "criteria", "protocol_profile")
_TIMEPOINT_LEVEL = ("timepoint", "scan_date", "study_day", "read_status", "signed_at")
_LESION_LEVEL = ("lesion_type", "organ", "location")


def _differences(
    rows: list[_Row], columns: Sequence[str], what: str
) -> Iterator[Problem]:
    """Report cells that differ from the first row of the same read, timepoint or lesion."""
    first = rows[0]
    for row in rows[1:]:
        for column in columns:
            if column in row.bad or column in first.bad:
                continue  # already reported as an invalid cell
            if row.cells[column] != first.cells[column]:
                yield Problem(
                    f"{column} {row.cells[column]!r} differs from {first.cells[column]!r} "
                    f"on line {first.line}; {what}",
                    field=column,
                    line=row.line,
                )


def _structure_problems(group: list[_Row], *, complete: bool) -> Iterator[Problem]:
    """Check one read's rows: shared values agree, no duplicates, a baseline exists."""
    yield from _differences(group, _READ_LEVEL, "a read has one value for it")
    by_index: dict[str, list[_Row]] = {}
    by_lesion: dict[str, list[_Row]] = {}
    seen: dict[tuple[str, str], int] = {}
    for row in group:
        index, lesion_id = row.cells["timepoint_index"], row.cells["lesion_id"]
        by_index.setdefault(index, []).append(row)
        by_lesion.setdefault(lesion_id, []).append(row)
        earlier = seen.setdefault((index, lesion_id), row.line)
        if earlier != row.line:
            yield Problem(
                f"{lesion_id} at {row.cells['timepoint']} (timepoint_index {index}) is "
                f"already on line {earlier}: one row per lesion per timepoint",
                lesion_id=lesion_id,
                line=row.line,
            )
    for rows in by_index.values():
        yield from _differences(
            rows, _TIMEPOINT_LEVEL, "a timepoint has one value for it"
        )
    for lesion_id, rows in by_lesion.items():
        yield from _differences(
            rows,
            _LESION_LEVEL,
            f"lesion {lesion_id} keeps its type, organ and location at every timepoint",
        )
    if complete and "0" not in by_index:
        yield Problem(
            f"{_read_name(group[0])} has no baseline (no row with timepoint_index 0)",
            line=group[0].line,
        )


def _build_read(
    group: list[_Row],
    problems: list[Problem],
    profile_for: Callable[[str], ProtocolProfile],
    *,
    complete: bool,
    now: datetime,
) -> Read | None:
    structure = list(_structure_problems(group, complete=complete))
    problems.extend(structure)
    if structure or not complete or not all(row.ok for row in group):
        return None  # the rules are checked once the rows themselves are sound
    first = group[0]
    name = str(first.values["protocol_profile"])
    try:
        profile = profile_for(name)
    except (OSError, LookupError, MrecistError) as error:
        problems.append(Problem(f"protocol_profile {name!r}: {error}", line=first.line))
        return None
    read = _make_read(group)
    # Impossible lock states first: a signed timepoint needs a past signed_at and
    # signed predecessors; a draft has no signed_at (issue 21, item 5).
    for problem in (*lock_state_problems(read, now=now), *validate_read(read, profile)):
        problems.append(_with_line(problem, group))
    return read


def _with_line(problem: Problem, group: list[_Row]) -> Problem:
    """Attach the line of the row a rules problem concerns (else the read's first line)."""

    def matches(row: _Row) -> bool:
        same_lesion = problem.lesion_id in (None, row.values["lesion_id"])
        same_index = problem.timepoint_index in (None, row.values["timepoint_index"])
        return same_lesion and same_index

    line = next((row.line for row in group if matches(row)), None)
    if line is None and problem.lesion_id is not None:
        line = next(
            (r.line for r in group if r.values["lesion_id"] == problem.lesion_id), None
        )
    return Problem(
        problem.message,
        lesion_id=problem.lesion_id,
        timepoint_index=problem.timepoint_index,
        field=problem.field,
        line=group[0].line if line is None else line,
    )


def _make_read(group: list[_Row]) -> Read:
    """Build the read of rows that are already known to be valid and consistent."""
    first = group[0].values
    timepoints: dict[int, Timepoint] = {}
    lesions: dict[str, Lesion] = {}
    observations: list[Observation] = []
    for row in group:
        v = row.values
        index = _as(v["timepoint_index"], int)
        timepoints.setdefault(
            index,
            Timepoint(
                index=index,
                label=str(v["timepoint"]),
                scan_date=_optional(v["scan_date"], date),
                study_day=_optional(v["study_day"], int),
                read_status=_as(v["read_status"], ReadStatus),
                signed_at=_optional(v["signed_at"], datetime),
            ),
        )
        lesion_id = str(v["lesion_id"])
        lesions.setdefault(
            lesion_id,
            Lesion(
                lesion_id=lesion_id,
                lesion_type=_as(v["lesion_type"], LesionType),
                organ=_as(v["organ"], Organ),
                location=str(v["location"]),
            ),
        )
        observations.append(_observation(row, index))
    ordered_lesions = sorted(lesions.values(), key=lesion_sort_key)
    order = {lesion.lesion_id: n for n, lesion in enumerate(ordered_lesions)}
    return Read(
        key=ReadKey(
            study_id=str(first["study_id"]),
            subject_id=str(first["subject_id"]),
            reader_id=str(first["reader_id"]),
            read_type=_as(first["read_type"], ReadType),
        ),
        site_id=str(first["site_id"]),
        criteria=_as(first["criteria"], Criteria),
        protocol_profile=str(first["protocol_profile"]),
        timepoints=tuple(timepoints[i] for i in sorted(timepoints)),
        lesions=tuple(ordered_lesions),
        observations=tuple(
            sorted(observations, key=lambda o: (o.timepoint_index, order[o.lesion_id]))
        ),
    )


def _observation(row: _Row, index: int) -> Observation:
    v = row.values
    status = v["status"]
    if not isinstance(status, TargetStatus | NonTargetStatus | NewLesionStatus):
        raise TypeError(f"line {row.line}: status was not parsed")
    return Observation(
        lesion_id=str(v["lesion_id"]),
        timepoint_index=index,
        status=status,
        diameter=_optional(v["diameter"], int),
        caliper=_optional(v["caliper"], Caliper),
        series_instance_uid=row.cells["series_instance_uid"],
        sop_instance_uid=row.cells["sop_instance_uid"],
        method=_optional(v["method"], Method),
        comment=row.cells["comment"],
        evidence=_optional(v["evidence"], MeasurementEvidence),
    )


_T = TypeVar("_T")


def _as(value: object, kind: type[_T]) -> _T:
    if not isinstance(value, kind):
        raise TypeError(f"expected {kind.__name__}, got {value!r}")
    return value


def _optional(value: object, kind: type[_T]) -> _T | None:
    return None if value is None else _as(value, kind)
