"""Issue 21, item 17: a CSV with 100,000 extra columns (the header check was quadratic).

The checks count comparisons between column names rather than time them: counting
each name's occurrences separately compares every name with every other one.
"""

from pathlib import Path

import pytest

from mrecist_reader.core.errors import InvalidRead, Problem
from mrecist_reader.resources import load_profile
from mrecist_reader.transfer import csv_in, table_in
from mrecist_reader.transfer.columns import MEASUREMENT_COLUMNS, repeated_columns
from mrecist_reader.transfer.csv_in import format_problem, read_measurements
from tests.transfer.csv_edit import records, render, two_subjects


class _Name(str):
    """A column name that counts how often it is compared with another name."""

    __slots__ = ()
    comparisons = 0

    def __eq__(self, other: object) -> bool:
        _Name.comparisons += 1
        return str.__eq__(self, other)

    __hash__ = str.__hash__


def _counted(names: list[str]) -> list[str]:
    _Name.comparisons = 0
    return [_Name(name) for name in names]


WIDE = 5_000
"""Extra columns in the counted headers: a quadratic check compares 25 million pairs."""


def _wide_header() -> list[str]:
    extra = [f"extra_{n}" for n in range(WIDE)]
    return [*MEASUREMENT_COLUMNS, *extra, "extra_7", "extra_7"]


def test_a_wide_header_is_checked_with_a_linear_number_of_comparisons() -> None:
    header = _counted(_wide_header())
    problems = list(csv_in._header_problems(header, 1))
    assert [p.message for p in problems] == ["column 'extra_7' appears more than once"]
    assert _Name.comparisons < 10 * len(header)


def test_a_wide_table_header_is_checked_with_a_linear_number_of_comparisons() -> None:
    header = _counted(["subject_id", *(f"extra_{n}" for n in range(WIDE)), "x", "x"])
    problems = table_in._header_problems(header, 1, ("subject_id", "arm"), "arms.csv")
    assert [p.message for p in problems] == [
        "missing column 'arm' (arms.csv has the columns subject_id, arm)",
        "column 'x' appears more than once",
    ]
    assert _Name.comparisons < 10 * len(header)


def test_repeated_columns_are_named_once_each_sorted() -> None:
    assert repeated_columns(["b", "a", "b", "c", "a", "b"]) == ["a", "b"]
    assert repeated_columns(["a", "b"]) == []


def _with_extra_columns(count: int, *, repeat: str | None = None) -> str:
    rows = records(two_subjects())
    extra = [f"x{n}" for n in range(count)]
    if repeat is not None:
        extra[-1] = repeat
    return render([rows[0] + extra, *(row + [""] * count for row in rows[1:])])


def test_a_file_with_100000_extra_columns_is_read_ignoring_them(
    tmp_path: Path,
) -> None:
    path = tmp_path / "measurements.csv"
    plain = tmp_path / "plain.csv"
    path.write_text(_with_extra_columns(100_000), encoding="utf-8")
    plain.write_text(two_subjects(), encoding="utf-8")
    wide = read_measurements(path, profile_for=load_profile)
    assert wide == read_measurements(plain, profile_for=load_profile)


def test_a_repeated_column_among_100000_extra_ones_is_named(tmp_path: Path) -> None:
    path = tmp_path / "measurements.csv"
    path.write_text(_with_extra_columns(100_000, repeat="x5"), encoding="utf-8")
    with pytest.raises(InvalidRead) as error:
        read_measurements(path, profile_for=load_profile)
    assert [format_problem("m.csv", p) for p in error.value.problems] == [
        "m.csv:1: column 'x5' appears more than once"
    ]
    assert isinstance(error.value.problems[0], Problem)
