"""Read a responses.csv as the input of the endpoints (endpoints.md §Inputs).

Each subject's final read is used: the ``final`` rows when the file has ``read_role``
and final rows (an export of a double-read database); otherwise the file must hold one
read per subject (a file of the first version, or of single reads, whose rows are all
``primary`` or ``local``). Every problem is reported at once
with its line, as by the measurements reader.
"""

import logging
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

from mrecist_reader.core.endpoints import ScanResponse
from mrecist_reader.core.model import ReadStatus, Response
from mrecist_reader.transfer.columns import RESPONSE_COLUMNS_V1, SCHEMA_VERSION
from mrecist_reader.transfer.table_in import CellProblems, TableRow, read_table

logger = logging.getLogger(__name__)

FINAL_ROLE = "final"
"""The ``read_role`` of the read the endpoints use (central-review.md)."""


@dataclass(frozen=True, slots=True)
class ResponseReads:
    """The timepoints of each subject's read in a responses.csv.

    ``study_id`` and ``protocol_profile`` are those of the first row used.
    """

    study_id: str
    protocol_profile: str
    subjects: dict[str, tuple[ScanResponse, ...]]


def read_responses(path: Path) -> ResponseReads:
    """Return each subject's timepoints (drafts included, marked), checked completely.

    Parameters
    ----------
    path
        The responses.csv file.

    Raises
    ------
    InvalidRead
        Every problem with its line: missing columns, bad cells, a subject with two
        reads where the file has no ``read_role``, a timepoint listed twice.

    """
    _header, rows = read_table(path, required=RESPONSE_COLUMNS_V1, what="responses.csv")
    finals = tuple(r for r in rows if r.cells.get("read_role") == FINAL_ROLE)
    if finals:
        rows = finals
    cells = CellProblems("responses.csv")
    _check_one_read_per_subject(cells, rows)
    subjects: dict[str, list[ScanResponse]] = {}
    seen: dict[tuple[str, str, str, int], int] = {}
    for row in rows:
        scan = _scan(cells, row)
        subject_id = cells.text(row, "subject_id")
        if scan is None or not subject_id:
            continue
        read = (subject_id, row.cells["reader_id"], row.cells["read_type"])
        first = seen.setdefault((*read, scan.index), row.line)
        if first != row.line:
            cells.fail(
                row.line,
                f"{subject_id} {scan.label} (timepoint_index {scan.index}) is already "
                f"on line {first}: one row per timepoint",
            )
        subjects.setdefault(subject_id, []).append(scan)
    cells.check()
    first_row = rows[0].cells if rows else {}
    logger.info("read the responses of %d subject(s)", len(subjects))
    return ResponseReads(
        study_id=first_row.get("study_id", ""),
        protocol_profile=first_row.get("protocol_profile", ""),
        subjects={
            s: tuple(sorted(scans, key=lambda t: t.index))
            for s, scans in subjects.items()
        },
    )


def _check_one_read_per_subject(
    cells: CellProblems, rows: tuple[TableRow, ...]
) -> None:
    reads: dict[str, tuple[str, str, int]] = {}
    named: set[str] = set()
    for row in rows:
        subject = row.cells["subject_id"]
        read = (row.cells["reader_id"], row.cells["read_type"])
        first = reads.setdefault(subject, (*read, row.line))
        if first[:2] != read and subject not in named:
            named.add(subject)
            cells.fail(
                row.line,
                f"subject {subject} has a second read ({read[0]}/{read[1]}; the first, "
                f"{first[0]}/{first[1]}, is on line {first[2]}): without read_role, "
                "responses.csv must hold one read per subject",
                column="reader_id",
            )


def _scan(cells: CellProblems, row: TableRow) -> ScanResponse | None:
    if row.cells["schema_version"] != SCHEMA_VERSION:
        cells.fail(
            row.line,
            f"schema_version {row.cells['schema_version']!r} is not supported (this "
            f"version reads {SCHEMA_VERSION})",
            column="schema_version",
        )
    index = cells.whole(row, "timepoint_index", low=0)
    status = _choice(cells, row, "read_status", {str(s) for s in ReadStatus})
    day = cells.whole(row, "study_day", low=0, required=status == ReadStatus.SIGNED)
    label = cells.text(row, "timepoint")
    required = bool(index) and status == ReadStatus.SIGNED
    responses = [
        _response(
            cells, row, column, required=required and not column.startswith("best")
        )
        for column in ("target_response", "overall_response", "best_response_to_date")
    ]
    change = _percent(cells, row, "change_from_baseline_pct")
    if index is None or status is None or not label:
        return None
    return ScanResponse(
        index=index,
        label=label,
        study_day=0 if day is None else day,
        target_response=responses[0],
        overall_response=responses[1],
        is_signed=status == ReadStatus.SIGNED and day is not None,
        progression_backdated_to=row.cells["progression_backdated_to"] or None,
        change_from_baseline_pct=change,
        best_response_to_date=responses[2],
    )


def _choice(
    cells: CellProblems, row: TableRow, column: str, allowed: set[str]
) -> str | None:
    value = row.cells[column]
    if value not in allowed:
        cells.fail(
            row.line,
            f"{column} {value!r} is not one of: {', '.join(sorted(allowed))}",
            column=column,
        )
        return None
    return value


def _response(
    cells: CellProblems, row: TableRow, column: str, *, required: bool
) -> Response | None:
    value = row.cells[column]
    if not value and not required:
        return None
    token = _choice(cells, row, column, {str(r) for r in Response})
    return None if token is None else Response(token)


def _percent(cells: CellProblems, row: TableRow, column: str) -> Fraction | None:
    value = row.cells[column].strip()
    if not value:
        return None
    try:
        return Fraction(value)
    except ValueError:
        cells.fail(
            row.line,
            f"{column} {value!r} is not a percentage (e.g. -32.5)",
            column=column,
        )
        return None
