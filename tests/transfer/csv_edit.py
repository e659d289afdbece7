"""Edit cells of a measurements.csv in tests (one record per physical line)."""

import csv
import io
from pathlib import Path

EXAMPLES = Path(__file__).resolve().parents[1] / "data" / "measurements"
TWO_SUBJECTS = EXAMPLES / "nct06779461_central_two_subjects.csv"


def records(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text, newline="")))


def render(rows: list[list[str]]) -> str:
    out = io.StringIO(newline="")
    csv.writer(out, lineterminator="\n").writerows(rows)
    return out.getvalue()


def edit(text: str, line: int, column: str, value: str) -> str:
    """Return the CSV text with the cell of ``column`` on physical ``line`` replaced."""
    rows = records(text)
    rows[line - 1][rows[0].index(column)] = value
    return render(rows)


def drop_lines(text: str, *lines: int) -> str:
    rows = records(text)
    return render(
        [row for number, row in enumerate(rows, start=1) if number not in lines]
    )


def two_subjects() -> str:
    return TWO_SUBJECTS.read_text(encoding="utf-8")
