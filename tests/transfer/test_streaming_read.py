"""Issue 21, item 17: ``import`` and ``assess`` held about 19 x the CSV's size.

The whole file's text, its list of records and every parsed row were held at once.
The file is now read record by record, equal cells share one string and each read's
rows go once it is built. Measured with tracemalloc (allocations, not time): the peak
while reading stays well under the 17.5 x the earlier reader took on this file.
"""

import tracemalloc
from pathlib import Path

from mrecist_reader.resources import load_profile
from mrecist_reader.transfer.csv_in import read_measurements_with_roles
from tests.transfer.csv_edit import records, render, two_subjects

SUBJECTS = 150
LIMIT = 12.0
"""Peak allocations while reading, in multiples of the file's size (was 17.5)."""


def _many_subjects(path: Path) -> int:
    rows = records(two_subjects())
    header, body = rows[0], rows[1:]
    subject = header.index("subject_id")
    copies = [
        [*row[:subject], f"{row[subject]}-{n:04d}", *row[subject + 1 :]]
        for n in range(SUBJECTS)
        for row in body
    ]
    path.write_text(render([header, *copies]), encoding="utf-8")
    return path.stat().st_size


def test_reading_a_large_file_holds_a_small_multiple_of_it(tmp_path: Path) -> None:
    path = tmp_path / "measurements.csv"
    size = _many_subjects(path)
    read_measurements_with_roles(path, profile_for=load_profile)  # imports, caches
    tracemalloc.start()
    try:
        reads = read_measurements_with_roles(path, profile_for=load_profile)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert len(reads) == 2 * SUBJECTS
    assert peak < LIMIT * size, f"peak {peak / size:.1f} x the file's size"


def test_every_row_is_read_whatever_the_order_of_the_reads(tmp_path: Path) -> None:
    rows = records(two_subjects())
    path, shuffled = tmp_path / "in_order.csv", tmp_path / "interleaved.csv"
    path.write_text(render(rows), encoding="utf-8")
    # Rows of the two subjects alternate: a read's rows are not contiguous.
    body = rows[1:]
    first = [r for r in body if r[3] == body[0][3]]
    other = [r for r in body if r[3] != body[0][3]]
    mixed = [r for pair in zip(first, other, strict=False) for r in pair]
    mixed += first[len(other) :] + other[len(first) :]
    shuffled.write_text(render([rows[0], *mixed]), encoding="utf-8")
    assert read_measurements_with_roles(
        shuffled, profile_for=load_profile
    ) == read_measurements_with_roles(path, profile_for=load_profile)
