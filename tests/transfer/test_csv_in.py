"""csv_in.read_measurements: round trips and every problem reported with its line."""

from pathlib import Path

import pytest

from mrecist_reader.core.errors import InvalidRead
from mrecist_reader.core.model import LesionType, ReadType
from mrecist_reader.resources import load_profile
from mrecist_reader.transfer.csv_in import (
    UnreadableFile,
    format_problem,
    read_measurements,
)
from mrecist_reader.transfer.csv_out import write_measurements
from tests.transfer.csv_edit import (
    EXAMPLES,
    drop_lines,
    edit,
    records,
    render,
    two_subjects,
)
from tests.transfer.reads import example_read


def read_text(tmp_path: Path, text: str) -> tuple:  # type: ignore[type-arg]
    path = tmp_path / "measurements.csv"
    path.write_text(text, encoding="utf-8")
    return read_measurements(path, profile_for=load_profile)


def problems(tmp_path: Path, text: str) -> list[str]:
    with pytest.raises(InvalidRead) as error:
        read_text(tmp_path, text)
    return [format_problem("m.csv", p) for p in error.value.problems]


def test_reads_are_grouped_by_subject_reader_and_read_type(tmp_path: Path) -> None:
    reads = read_text(tmp_path, two_subjects())
    assert [(r.key.subject_id, r.key.read_type) for r in reads] == [
        ("S01", ReadType.CENTRAL),
        ("S02", ReadType.CENTRAL),
    ]
    assert [les.lesion_type for les in reads[1].lesions] == [
        LesionType.TARGET,
        LesionType.NEW,
    ]


def test_write_read_write_gives_back_the_same_reads_and_bytes(tmp_path: Path) -> None:
    write_measurements(tmp_path / "first.csv", [example_read(), example_read("S02")])
    reads = read_measurements(tmp_path / "first.csv", profile_for=load_profile)
    write_measurements(tmp_path / "second.csv", reads)
    again = read_measurements(tmp_path / "second.csv", profile_for=load_profile)
    assert again == reads
    assert (tmp_path / "second.csv").read_bytes() == (
        tmp_path / "first.csv"
    ).read_bytes()


@pytest.mark.parametrize(
    "example", ["nct06779461_central_two_subjects.csv", "mrecist_local_ne_then_pd.csv"]
)
def test_import_then_export_of_an_example_gives_back_the_same_file(
    tmp_path: Path, example: str
) -> None:
    """The examples are first-version files: the export appends the second's columns.

    Every first-version cell comes back unchanged; each row gains its read's role
    (central: primary, local: local) and empty source_reader and diameters. The
    export, imported and exported again, gives back the same bytes.
    """
    reads = read_measurements(EXAMPLES / example, profile_for=load_profile)
    write_measurements(tmp_path / "out.csv", reads)
    original = (EXAMPLES / example).read_text(encoding="utf-8").splitlines()
    exported = (tmp_path / "out.csv").read_text(encoding="utf-8").splitlines()
    role = "local" if "local" in example else "primary"
    assert exported == [
        original[0]
        + ",read_role,source_reader,whole_diameter_mm,viable_perpendicular_mm",
        *(line + f",{role},,," for line in original[1:]),
    ]
    again = read_measurements(tmp_path / "out.csv", profile_for=load_profile)
    assert again == reads
    write_measurements(tmp_path / "again.csv", again)
    assert (tmp_path / "again.csv").read_bytes() == (tmp_path / "out.csv").read_bytes()


def test_a_missing_header_column_is_named_with_what_was_expected(
    tmp_path: Path,
) -> None:
    text = two_subjects().replace(",status,", ",state,", 1)
    found = problems(tmp_path, text)
    assert len(found) == 1
    assert found[0].startswith(
        "m.csv:1: missing column 'status' (measurements.csv starts with the columns "
        "schema_version, study_id,"
    )


def test_columns_out_of_order_are_reported(tmp_path: Path) -> None:
    rows = records(two_subjects())
    for row in rows:
        row[1], row[2] = row[2], row[1]
    assert problems(tmp_path, render(rows))[0].startswith(
        "m.csv:1: column 2 is 'site_id' but 'study_id' was expected"
    )


def test_extra_columns_after_the_spec_columns_are_accepted(tmp_path: Path) -> None:
    rows = records(two_subjects())
    for number, row in enumerate(rows):
        row.append("reviewer_note" if number == 0 else "")
    assert len(read_text(tmp_path, render(rows))) == 2


def test_unknown_status_lists_the_allowed_values(tmp_path: Path) -> None:
    assert problems(tmp_path, edit(two_subjects(), 5, "status", "grown")) == [
        "m.csv:5: status 'grown' is not allowed for a target lesion (allowed: measured, "
        "too_small, absent, not_evaluable)"
    ]


def test_unknown_token_lists_the_allowed_values(tmp_path: Path) -> None:
    assert problems(tmp_path, edit(two_subjects(), 7, "organ", "spleen")) == [
        "m.csv:7: organ 'spleen' is not one of: liver, lymph_node, lung, peritoneum, "
        "portal_vein, other"
    ]


def test_control_characters_in_text_are_refused_with_their_place(
    tmp_path: Path,
) -> None:
    text = edit(two_subjects(), 6, "location", "segment 7\x00")
    text = edit(text, 7, "lesion_id", "T\t2")
    assert problems(tmp_path, text) == [
        "m.csv:6: location contains the control character U+0000 at character 10 "
        "(expected text)",
        "m.csv:7: lesion_id contains the control character U+0009 at character 2 "
        "(expected printable text on one line)",
    ]


def test_text_in_a_number_is_reported(tmp_path: Path) -> None:
    text = edit(two_subjects(), 6, "viable_diameter_mm", "20,0 mm")
    text = edit(text, 12, "study_day", "thirty")
    assert problems(tmp_path, text) == [
        "m.csv:6: viable_diameter_mm '20,0 mm' is not a length in millimetres "
        "(e.g. 23.4)",
        "m.csv:12: study_day 'thirty' is not a whole number",
    ]


def test_a_read_without_baseline_is_reported(tmp_path: Path) -> None:
    assert problems(tmp_path, drop_lines(two_subjects(), 11)) == [
        "m.csv:11: read S02/R1/central has no baseline (no row with timepoint_index 0)"
    ]


def test_duplicated_lesion_rows_are_reported(tmp_path: Path) -> None:
    rows = records(two_subjects())
    rows.insert(6, rows[5])
    assert problems(tmp_path, render(rows)) == [
        "m.csv:7: T2 at FU1 (timepoint_index 1) is already on line 6: one row per "
        "lesion per timepoint"
    ]


def test_a_lesion_that_changes_type_is_reported(tmp_path: Path) -> None:
    text = edit(two_subjects(), 7, "lesion_type", "new")
    assert problems(tmp_path, text) == [
        "m.csv:7: lesion_type 'new' differs from 'non_target' on line 4; lesion NT1 keeps "
        "its type, organ and location at every timepoint"
    ]


def test_read_level_values_must_agree_within_a_read(tmp_path: Path) -> None:
    text = edit(two_subjects(), 9, "protocol_profile", "mrecist")
    assert problems(tmp_path, text) == [
        "m.csv:9: protocol_profile 'mrecist' differs from 'nct06779461' on line 2; a "
        "read has one value for it"
    ]


def test_schema_version_other_than_1_and_bad_dates_are_reported(tmp_path: Path) -> None:
    text = edit(two_subjects(), 3, "schema_version", "2")
    text = edit(text, 14, "scan_date", "2026-02-30")
    text = edit(text, 15, "signed_at", "yesterday")
    found = problems(tmp_path, text)
    assert (
        found[0]
        == "m.csv:3: schema_version '2' is not supported (this version reads 1)"
    )
    assert "m.csv:14: scan_date '2026-02-30' is not a date like 2026-03-01" in found
    assert (
        "m.csv:15: signed_at 'yesterday' is not a UTC time like 2026-03-01T14:03:22Z"
        in found
    )


def test_unknown_profile_is_a_problem_on_the_reads_first_line(tmp_path: Path) -> None:
    rows = records(two_subjects())
    for row in rows[10:]:
        row[rows[0].index("protocol_profile")] = "recist11"
    found = problems(tmp_path, render(rows))
    assert len(found) == 1
    assert found[0].startswith(
        "m.csv:11: protocol_profile 'recist11': unknown protocol"
    )


def test_rules_problems_are_mapped_to_their_line(tmp_path: Path) -> None:
    text = edit(two_subjects(), 11, "viable_diameter_mm", "100.1")
    assert problems(tmp_path, text) == [
        "m.csv:11: T1: baseline viable diameter 100.1 mm is outside the allowed range "
        "30.0–100.0 mm for target lesions of profile nct06779461; it may be recorded "
        "as a non-target lesion"
    ]


def test_every_problem_of_the_file_is_reported_in_line_order(tmp_path: Path) -> None:
    text = edit(two_subjects(), 13, "status", "maybe")
    text = edit(text, 2, "read_type", "remote")
    text = edit(text, 6, "viable_diameter_mm", "12.3.4")
    found = problems(tmp_path, text)
    assert [line.split(":")[1] for line in found] == ["2", "6", "13"]


def test_a_diameter_with_more_decimals_is_recorded_to_the_tenth_half_away_from_zero(
    tmp_path: Path,
) -> None:
    text = edit(two_subjects(), 11, "viable_diameter_mm", "99.95")
    reads = read_text(tmp_path, text)
    diameters = [o.diameter for r in reads for o in r.observations]
    assert 1000 in diameters  # 99.95 mm is recorded as 100.0 mm, inside the range


def test_line_numbers_count_physical_lines_of_multi_line_cells(tmp_path: Path) -> None:
    write_measurements(tmp_path / "m.csv", [example_read()])
    text = (tmp_path / "m.csv").read_text(encoding="utf-8")
    assert text.split("\n")[8].startswith('no washout"')  # line 9 continues line 8
    broken = text.replace(",not_evaluable,", ",gone,")  # T1 at FU2, on line 10
    assert problems(tmp_path, broken)[0].startswith("m.csv:10: status 'gone'")


def test_a_row_with_the_wrong_number_of_fields_is_reported(tmp_path: Path) -> None:
    text = two_subjects().replace("segment VI,measured,60.0", "segment VI,measured", 1)
    assert problems(tmp_path, text) == [
        "m.csv:11: the row has 30 fields but the header has 31"
    ]


def test_a_utf8_bom_is_tolerated(tmp_path: Path) -> None:
    assert len(read_text(tmp_path, "\ufeff" + two_subjects())) == 2


def test_a_non_utf8_file_is_unreadable_and_the_byte_is_located(
    tmp_path: Path,
) -> None:
    path = tmp_path / "m.csv"
    path.write_bytes(
        two_subjects().replace("segment VII", "segment VII \xe9").encode("latin-1")
    )
    with pytest.raises(
        UnreadableFile, match=r"m\.csv:2: not UTF-8 text \(byte 0xe9 at character"
    ):
        read_measurements(path, profile_for=load_profile)


@pytest.mark.parametrize("data", [b"", b"\n\n", b"\xef\xbb\xbf\r\n"])
def test_an_empty_file_is_invalid_on_line_1(tmp_path: Path, data: bytes) -> None:
    path = tmp_path / "m.csv"
    path.write_bytes(data)
    with pytest.raises(InvalidRead) as error:
        read_measurements(path, profile_for=load_profile)
    (problem,) = error.value.problems
    assert format_problem(path, problem).startswith(
        f"{path}:1: the file is empty (expected the header row schema_version,study_id,"
    )


def test_crlf_line_ends_are_read_like_lf(tmp_path: Path) -> None:
    crlf = two_subjects().replace("\n", "\r\n")
    assert read_text(tmp_path, crlf) == read_text(tmp_path, two_subjects())
