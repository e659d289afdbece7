"""Read the sponsor's treatments.csv and arms.csv (endpoints.md §Inputs) strictly.

Both readers report every problem at once as ``FILE:LINE: message`` problems
(:class:`~mrecist_reader.core.errors.InvalidRead`) and return nothing unless the whole
file is valid. treatments.csv is sponsor data a blinded reader never loads; arms.csv is
unblinded: only the ``endpoints`` command reads it.
"""

import itertools
import logging
from collections.abc import Mapping
from pathlib import Path

from mrecist_reader.core.endpoints import ArmAssignment, Treatment
from mrecist_reader.transfer.columns import SCHEMA_VERSION
from mrecist_reader.transfer.table_in import CellProblems, TableRow, read_table

logger = logging.getLogger(__name__)

TREATMENT_COLUMNS: tuple[str, ...] = (
    "schema_version",
    "study_id",
    "subject_id",
    "treatment",
    "session",
    "study_day",
)
"""treatments.csv: one row per treatment session (endpoints.md §Inputs)."""

ARM_COLUMNS: tuple[str, ...] = ("subject_id", "arm")
"""arms.csv: one row per subject; an optional ``stratum`` column may follow."""

ARM_OPTIONAL_COLUMNS: tuple[str, ...] = ("stratum",)


def read_treatments(path: Path) -> dict[str, tuple[Treatment, ...]]:
    """Return each subject's treatment sessions, checked completely.

    Sessions of a subject must be numbered 1…n in increasing study day; any other
    numbering, a repeated session or a day that does not increase is a problem naming
    the line. One file holds one study.

    Parameters
    ----------
    path
        The treatments.csv file.

    Returns
    -------
    dict[str, tuple[Treatment, ...]]
        Subject ID → sessions in session order.

    Raises
    ------
    InvalidRead
        Listing every problem with its line; nothing is returned.

    """
    _header, rows = read_table(path, required=TREATMENT_COLUMNS, what="treatments.csv")
    cells = CellProblems("treatments.csv")
    parsed: dict[str, list[tuple[int, Treatment]]] = {}
    study: tuple[str, int] | None = None
    for row in rows:
        if row.cells["schema_version"] != SCHEMA_VERSION:
            cells.fail(
                row.line,
                f"schema_version {row.cells['schema_version']!r} is not supported "
                f"(this version reads {SCHEMA_VERSION})",
                column="schema_version",
            )
        study_id = cells.text(row, "study_id")
        if study is None:
            study = (study_id, row.line)
        elif study_id and study_id != study[0]:
            cells.fail(
                row.line,
                f"study_id {study_id!r} differs from {study[0]!r} on line {study[1]}; "
                "the file holds one study",
                column="study_id",
            )
        treatment = _treatment(cells, row)
        if treatment is not None:
            parsed.setdefault(row.cells["subject_id"], []).append((row.line, treatment))
    for subject_id, sessions in parsed.items():
        _check_numbering(cells, subject_id, sessions)
    cells.check()
    logger.info("read %d subject(s) from %s", len(parsed), Path(path).name)
    return {
        subject: tuple(t for _line, t in sorted(s, key=lambda p: p[1].session))
        for subject, s in parsed.items()
    }


def _treatment(cells: CellProblems, row: TableRow) -> Treatment | None:
    subject_id = cells.text(row, "subject_id")
    name = cells.text(row, "treatment")
    session = cells.whole(row, "session", low=1)
    day = cells.whole(row, "study_day", low=0)
    if not subject_id or not name or session is None or day is None:
        return None
    return Treatment(session=session, study_day=day, treatment=name)


def _check_numbering(
    cells: CellProblems, subject_id: str, sessions: list[tuple[int, Treatment]]
) -> None:
    """Sessions 1…n, each on a later study day than the one before (§Inputs)."""
    by_number: dict[int, int] = {}
    for line, treatment in sessions:
        first = by_number.setdefault(treatment.session, line)
        if first != line:
            cells.fail(
                line,
                f"{subject_id}: session {treatment.session} is already on line {first}",
                column="session",
            )
    numbers = sorted(by_number)
    for expected, number in enumerate(numbers, start=1):
        if number != expected:
            cells.fail(
                by_number[number],
                f"{subject_id}: session {number} but no session {expected} (sessions "
                "are numbered 1, 2, 3 … without gaps)",
                column="session",
            )
            break
    ordered = sorted(sessions, key=lambda pair: pair[1].session)
    for (_l1, before), (line, after) in itertools.pairwise(ordered):
        if after.session != before.session and after.study_day <= before.study_day:
            cells.fail(
                line,
                f"{subject_id}: session {after.session} on study day "
                f"{after.study_day} is not after session {before.session} on day "
                f"{before.study_day} (sessions are numbered in increasing study day)",
                column="study_day",
            )


def read_arms(path: Path) -> Mapping[str, ArmAssignment]:
    """Return each subject's arm (and stratum when the file has a ``stratum`` column).

    Parameters
    ----------
    path
        The arms.csv file (unblinded, sponsor only).

    Returns
    -------
    Mapping[str, ArmAssignment]
        Subject ID → arm, in the file's order.

    Raises
    ------
    InvalidRead
        A missing column, an empty subject or arm, a subject listed twice, a stratum
        column with an empty cell: every problem with its line.

    """
    header, rows = read_table(path, required=ARM_COLUMNS, what="arms.csv")
    has_stratum = "stratum" in header
    cells = CellProblems("arms.csv")
    arms: dict[str, ArmAssignment] = {}
    lines: dict[str, int] = {}
    for row in rows:
        subject_id = cells.text(row, "subject_id")
        arm = cells.text(row, "arm")
        stratum = cells.text(row, "stratum") if has_stratum else ""
        if subject_id in lines:
            cells.fail(
                row.line,
                f"subject {subject_id} is already on line {lines[subject_id]} (one arm "
                "per subject)",
                column="subject_id",
            )
            continue
        if subject_id and arm:
            lines[subject_id] = row.line
            arms[subject_id] = ArmAssignment(subject_id, arm, stratum)
    cells.check()
    logger.info("read the arms of %d subject(s) from %s", len(arms), Path(path).name)
    return arms
