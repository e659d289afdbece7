"""The second version of the files (data-transfer.md §Added in the second version).

``read_role`` and ``source_reader`` in measurements.csv: what ``import`` refuses and
what ``assess`` reads; the second-version diameters; a first-version file read as
before; responses.csv's final rows for the endpoints.
"""

from pathlib import Path

import pytest

from mrecist_reader.cli import main
from mrecist_reader.core.errors import InvalidRead
from mrecist_reader.core.model import MeasurementEvidence
from mrecist_reader.resources import load_profile
from mrecist_reader.transfer.columns import (
    MEASUREMENT_COLUMNS,
    MEASUREMENT_COLUMNS_V1,
    RESPONSE_COLUMNS,
    ReadRole,
)
from mrecist_reader.transfer.csv_in import (
    format_problem,
    read_measurements,
    read_measurements_with_roles,
)
from mrecist_reader.transfer.csv_out import write_measurements
from mrecist_reader.transfer.responses_in import read_responses
from tests.transfer.csv_edit import TWO_SUBJECTS, edit, records, render, two_subjects

ADDED = MEASUREMENT_COLUMNS[len(MEASUREMENT_COLUMNS_V1) :]


def second_version(text: str, role: str = "primary") -> str:
    """Return a first-version file with the second version's columns appended."""
    rows = records(text)
    return render(
        [rows[0] + list(ADDED), *([*row, role, "", "", ""] for row in rows[1:])]
    )


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "measurements.csv"
    path.write_text(text, encoding="utf-8", newline="")
    return path


def problems(path: Path, *, for_import: bool = True) -> list[str]:
    read = read_measurements if for_import else read_measurements_with_roles
    with pytest.raises(InvalidRead) as error:
        read(path, profile_for=load_profile)
    return [format_problem(path.name, p) for p in error.value.problems]


def test_a_first_version_file_is_read_as_primary_reads(tmp_path: Path) -> None:
    found = read_measurements_with_roles(TWO_SUBJECTS, profile_for=load_profile)
    assert [(r.read.key.subject_id, r.role, r.source_reader) for r in found] == [
        ("S01", ReadRole.PRIMARY, ""),
        ("S02", ReadRole.PRIMARY, ""),
    ]
    second = write(tmp_path, second_version(two_subjects()))
    assert read_measurements(second, profile_for=load_profile) == read_measurements(
        TWO_SUBJECTS, profile_for=load_profile
    )


def test_an_empty_read_role_is_the_read_types(tmp_path: Path) -> None:
    path = write(tmp_path, second_version(two_subjects(), role=""))
    found = read_measurements_with_roles(path, profile_for=load_profile)
    assert {r.role for r in found} == {ReadRole.PRIMARY}


def test_final_rows_are_refused_on_import_each_with_its_line(tmp_path: Path) -> None:
    rows = records(second_version(two_subjects()))
    for row in rows[1:]:
        row[-4:-2] = ["final", row[rows[0].index("reader_id")]]
    assert problems(write(tmp_path, render(rows))) == [
        f"measurements.csv:{line}: read_role 'final': final reads are derived, never "
        "imported (they come from the primary reads and the adjudication in the "
        "database)"
        for line in range(2, len(rows) + 1)
    ]


def test_an_unknown_read_role_is_refused_naming_the_allowed_ones(
    tmp_path: Path,
) -> None:
    text = edit(second_version(two_subjects()), 4, "read_role", "reader_1")
    assert problems(write(tmp_path, text)) == [
        "measurements.csv:4: read_role 'reader_1' is not one of: primary, final, local"
    ]
    assert problems(write(tmp_path, text), for_import=False) == [
        "measurements.csv:4: read_role 'reader_1' is not one of: primary, final, local"
    ]


def test_a_role_that_is_not_the_read_types_is_refused(tmp_path: Path) -> None:
    text = edit(second_version(two_subjects()), 2, "read_role", "local")
    assert problems(write(tmp_path, text)) == [
        "measurements.csv:2: read_role 'local' is not one of a central read's roles "
        "(primary or final)"
    ]


def test_a_source_reader_belongs_to_a_final_read_only(tmp_path: Path) -> None:
    text = edit(second_version(two_subjects()), 2, "source_reader", "R1")
    assert problems(write(tmp_path, text)) == [
        "measurements.csv:2: source_reader 'R1' is given for a read that is not "
        "final (it names the source of a final read only; leave it empty)"
    ]


def final_copy(text: str, source: str = "R1") -> str:
    """Return the file with a final copy of every row appended."""
    rows = records(text)
    role, named = rows[0].index("read_role"), rows[0].index("source_reader")
    finals = [[*row] for row in rows[1:]]
    for row in finals:
        row[role], row[named] = "final", source
    return render([*rows, *finals])


def test_assess_reads_a_final_read_apart_from_its_source_read(tmp_path: Path) -> None:
    path = write(tmp_path, final_copy(second_version(two_subjects())))
    found = read_measurements_with_roles(path, profile_for=load_profile)
    assert [(r.read.key.subject_id, r.role, r.source_reader) for r in found] == [
        ("S01", ReadRole.PRIMARY, ""),
        ("S01", ReadRole.FINAL, "R1"),
        ("S02", ReadRole.PRIMARY, ""),
        ("S02", ReadRole.FINAL, "R1"),
    ]
    assert found[0].read == found[1].read
    out = tmp_path / "responses.csv"
    assert main(["assess", str(path), "-o", str(out)]) == 0
    lines = out.read_text(encoding="utf-8").splitlines()
    assert lines[0] == ",".join(RESPONSE_COLUMNS)
    primary = [line.removesuffix(",primary,") for line in lines if ",primary," in line]
    final = [line.removesuffix(",final,R1") for line in lines if ",final," in line]
    assert len(primary) == 6
    assert primary == final


def test_a_final_reads_source_reader_is_its_reader_id(tmp_path: Path) -> None:
    path = write(tmp_path, final_copy(second_version(two_subjects()), source="R2"))
    found = problems(path, for_import=False)
    assert len(found) == 14
    assert found[0] == (
        "measurements.csv:16: source_reader 'R2' of a final read must be its "
        "reader_id 'R1' (the reader whose read was chosen or was concordant)"
    )


def test_the_second_version_diameters_are_checked_and_kept_as_evidence(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = edit(second_version(two_subjects()), 2, "whole_diameter_mm", "52.5")
    path = write(tmp_path, text)
    imported = read_measurements(path, profile_for=load_profile)
    kept = [o.evidence for r in imported for o in r.observations if o.evidence]
    assert kept == [MeasurementEvidence(whole_diameter=525)]  # issue 16 item 4
    assert len(read_measurements_with_roles(path, profile_for=load_profile)) == 2
    assert main(["assess", str(path)]) == 0  # mRECIST never uses it
    capsys.readouterr()
    bad = write(tmp_path, edit(text, 3, "viable_perpendicular_mm", "wide"))
    assert problems(bad, for_import=False) == [
        "measurements.csv:3: viable_perpendicular_mm 'wide' is not a length in "
        "millimetres (e.g. 23.4)"
    ]


def test_the_written_diameters_are_empty(tmp_path: Path) -> None:
    reads = read_measurements(TWO_SUBJECTS, profile_for=load_profile)
    write_measurements(tmp_path / "out.csv", reads)
    rows = records((tmp_path / "out.csv").read_text(encoding="utf-8"))
    assert rows[0] == list(MEASUREMENT_COLUMNS)
    assert {tuple(row[-2:]) for row in rows[1:]} == {("", "")}


def test_a_first_version_file_is_assessed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["assess", str(TWO_SUBJECTS)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == ",".join(RESPONSE_COLUMNS)
    assert len(out) > 1
    assert all(line.endswith(",primary,") for line in out[1:])


def responses_text(tmp_path: Path, measurements: str) -> Path:
    path = write(tmp_path, measurements)
    out = tmp_path / "responses.csv"
    assert main(["assess", str(path), "-o", str(out)]) == 0
    return out


def test_the_endpoints_read_a_single_read_file_with_roles_and_no_final_rows(
    tmp_path: Path,
) -> None:
    out = responses_text(tmp_path, second_version(two_subjects()))
    assert sorted(read_responses(out).subjects) == ["S01", "S02"]


def test_the_endpoints_read_only_the_final_rows_when_there_are_some(
    tmp_path: Path,
) -> None:
    text = second_version(two_subjects())
    rows = records(text)
    subject = rows[0].index("subject_id")
    only_s01 = render([rows[0], *(r for r in rows[1:] if r[subject] == "S01")])
    with_finals = final_copy(only_s01)
    rest = [r for r in records(text)[1:] if r[subject] == "S02"]
    out = responses_text(tmp_path, with_finals + render(rest))
    assert sorted(read_responses(out).subjects) == ["S01"]


def test_a_second_version_diameter_of_a_non_target_is_refused(tmp_path: Path) -> None:
    text = second_version(two_subjects())
    rows = records(text)
    line = next(
        n
        for n, row in enumerate(rows, start=1)
        if row[rows[0].index("lesion_type")] == "non_target"
    )
    path = write(tmp_path, edit(text, line, "viable_perpendicular_mm", "12.0"))
    assert problems(path) == [
        f"measurements.csv:{line}: viable_perpendicular_mm '12.0' is given for a "
        "non-target lesion, which is not measured (leave it empty)"
    ]
