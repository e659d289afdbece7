"""assignments.csv: which readers read and adjudicate each subject (central review).

central-review.md §Roles and assignment: ``subject_id, reader_1, reader_2,
adjudicator``, three distinct reader IDs per subject, each subject once. Read by
``mrecist-reader assign`` and by the review manager's screen; checked completely,
every problem with its line, nothing returned unless the whole file is valid.
"""

from pathlib import Path

from mrecist_reader.core.adjudication import Assignment
from mrecist_reader.transfer.table_in import CellProblems, read_table

ASSIGNMENT_COLUMNS: tuple[str, ...] = (
    "subject_id",
    "reader_1",
    "reader_2",
    "adjudicator",
)
"""assignments.csv's columns (central-review.md §Roles and assignment)."""


def read_assignments(path: Path) -> "list[Assignment]":
    """Return the rows of assignments.csv, checked completely.

    Raises
    ------
    InvalidRead
        Every problem with its line (empty cells, the same reader twice in a row, a
        subject on two lines); nothing is returned.

    """
    _header, rows = read_table(
        path, required=ASSIGNMENT_COLUMNS, what="assignments.csv"
    )
    cells = CellProblems("assignments.csv")
    found: list[Assignment] = []
    first_line: dict[str, int] = {}
    for row in rows:
        values = [cells.text(row, column).strip() for column in ASSIGNMENT_COLUMNS]
        if not all(values):
            continue
        assignment = Assignment(*values)
        problem = assignment.problem()
        if problem is not None:
            cells.fail(row.line, problem, column="adjudicator")
            continue
        if assignment.subject_id in first_line:
            cells.fail(
                row.line,
                f"subject_id {assignment.subject_id!r} is assigned on line "
                f"{first_line[assignment.subject_id]} already",
                column="subject_id",
            )
            continue
        first_line[assignment.subject_id] = row.line
        found.append(assignment)
    cells.check()
    return found
