"""endpoints.md §Inputs: treatments.csv, arms.csv and responses.csv, read strictly."""

from pathlib import Path

import pytest

from mrecist_reader.core.endpoints import ArmAssignment, Treatment
from mrecist_reader.core.errors import InvalidRead
from mrecist_reader.core.model import Response

# First-version files: the tests add read_role where they need it.
from mrecist_reader.transfer.columns import RESPONSE_COLUMNS_V1 as RESPONSE_COLUMNS
from mrecist_reader.transfer.csv_in import UnreadableFile, format_problem
from mrecist_reader.transfer.responses_in import read_responses
from mrecist_reader.transfer.treatments import read_arms, read_treatments

HEADER = "schema_version,study_id,subject_id,treatment,session,study_day\n"


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8", newline="")
    return path


def messages(call: object, path: Path) -> list[str]:
    with pytest.raises(InvalidRead) as error:
        call(path)  # type: ignore[operator]
    return [format_problem(path.name, p) for p in error.value.problems]


def test_treatments_are_read_per_subject_in_session_order(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "treatments.csv",
        HEADER + "1,NCT1,S2,TACE,2,40\n1,NCT1,S2,TACE,1,3\n1,NCT1,S1,TACE,1,5\n",
    )
    assert read_treatments(path) == {
        "S2": (Treatment(1, 3, "TACE"), Treatment(2, 40, "TACE")),
        "S1": (Treatment(1, 5, "TACE"),),
    }


def test_sessions_out_of_day_order_are_named_by_line(tmp_path: Path) -> None:
    text = HEADER + "1,NCT1,S1,TACE,1,40\n1,NCT1,S1,TACE,2,30\n"
    assert messages(read_treatments, write(tmp_path, "treatments.csv", text)) == [
        "treatments.csv:3: S1: session 2 on study day 30 is not after session 1 on "
        "day 40 (sessions are numbered in increasing study day)"
    ]


def test_a_gap_in_session_numbers_is_named_by_line(tmp_path: Path) -> None:
    text = HEADER + "1,NCT1,S1,TACE,1,4\n1,NCT1,S1,TACE,3,60\n"
    assert messages(read_treatments, write(tmp_path, "treatments.csv", text)) == [
        "treatments.csv:3: S1: session 3 but no session 2 (sessions are numbered 1, "
        "2, 3 … without gaps)"
    ]


def test_a_repeated_session_is_named_by_line(tmp_path: Path) -> None:
    text = HEADER + "1,NCT1,S1,TACE,1,4\n1,NCT1,S1,TACE,1,60\n"
    assert messages(read_treatments, write(tmp_path, "treatments.csv", text)) == [
        "treatments.csv:3: S1: session 1 is already on line 2"
    ]


def test_every_treatment_problem_is_reported_at_once(tmp_path: Path) -> None:
    text = (
        HEADER
        + "2,NCT1,S1,TACE,1,4\n"
        + "1,NCT2,,TACE,x,60\n"
        + "1,NCT1,S3,,1,-2\n"
        + "1,NCT1,S4,TACE\n"
    )
    assert messages(read_treatments, write(tmp_path, "treatments.csv", text)) == [
        "treatments.csv:5: the row has 4 fields but the header has 6"
    ]
    text = text.replace("1,NCT1,S4,TACE\n", "")
    assert messages(read_treatments, write(tmp_path, "treatments.csv", text)) == [
        "treatments.csv:2: schema_version '2' is not supported (this version reads 1)",
        "treatments.csv:3: study_id 'NCT2' differs from 'NCT1' on line 2; the file "
        "holds one study",
        "treatments.csv:3: subject_id is empty (required)",
        "treatments.csv:3: session 'x' is not a whole number",
        "treatments.csv:4: treatment is empty (required)",
        "treatments.csv:4: study_day -2 is less than 0",
    ]


def test_a_treatments_file_without_a_column_is_refused(tmp_path: Path) -> None:
    text = "schema_version,study_id,subject_id,session,study_day\n1,N,S1,1,3\n"
    assert messages(read_treatments, write(tmp_path, "treatments.csv", text)) == [
        "treatments.csv:1: missing column 'treatment' (treatments.csv has the columns "
        "schema_version, study_id, subject_id, treatment, session, study_day)"
    ]


def test_a_file_that_is_not_utf8_is_unreadable(tmp_path: Path) -> None:
    path = tmp_path / "treatments.csv"
    path.write_bytes(HEADER.encode() + b"1,N,S\xe9,TACE,1,3\n")
    with pytest.raises(UnreadableFile, match=r"treatments\.csv:2: not UTF-8"):
        read_treatments(path)


def test_arms_with_strata_are_read(tmp_path: Path) -> None:
    text = "subject_id,arm,stratum\nS1,TACE,BCLC-A\nS2,TACE+X,BCLC-B\n"
    assert dict(read_arms(write(tmp_path, "arms.csv", text))) == {
        "S1": ArmAssignment("S1", "TACE", "BCLC-A"),
        "S2": ArmAssignment("S2", "TACE+X", "BCLC-B"),
    }


def test_a_subject_in_two_arms_and_an_empty_arm_are_refused(tmp_path: Path) -> None:
    text = "subject_id,arm\nS1,TACE\nS1,TACE+X\nS2,\n"
    assert messages(read_arms, write(tmp_path, "arms.csv", text)) == [
        "arms.csv:3: subject S1 is already on line 2 (one arm per subject)",
        "arms.csv:4: arm is empty (required)",
    ]


def test_a_guarding_apostrophe_is_removed_from_an_arm(tmp_path: Path) -> None:
    text = "subject_id,arm\nS1,'+X\n"
    assert read_arms(write(tmp_path, "arms.csv", text))["S1"].arm == "+X"


def response_row(subject: str, index: int, day: int, target: str, **cells: str) -> str:
    values = dict.fromkeys(RESPONSE_COLUMNS, "")
    values.update(
        schema_version="1",
        study_id="NCT1",
        subject_id=subject,
        reader_id=cells.pop("reader_id", "R1"),
        read_type="central",
        criteria="mRECIST",
        protocol_profile="nct06779461",
        timepoint="BASELINE" if index == 0 else f"FU{index}",
        timepoint_index=str(index),
        study_day=str(day),
        target_response=target,
        overall_response=target,
        read_status="signed",
    )
    values.update(cells)
    return ",".join(values[c] for c in RESPONSE_COLUMNS) + "\n"


RESPONSE_HEADER = ",".join(RESPONSE_COLUMNS) + "\n"


def test_responses_give_each_subjects_timepoints(tmp_path: Path) -> None:
    text = (
        RESPONSE_HEADER
        + response_row("S1", 0, 0, "")
        + response_row("S1", 1, 31, "PR", change_from_baseline_pct="-32.5")
        + response_row("S1", 2, 62, "PD", read_status="draft")
    )
    reads = read_responses(write(tmp_path, "responses.csv", text))
    scans = reads.subjects["S1"]
    assert [(s.label, s.study_day, s.target_response, s.is_signed) for s in scans] == [
        ("BASELINE", 0, None, True),
        ("FU1", 31, Response.PR, True),
        ("FU2", 62, Response.PD, False),
    ]
    assert float(scans[1].change_from_baseline_pct or 0) == -32.5


def test_two_reads_of_a_subject_without_read_role_are_refused(tmp_path: Path) -> None:
    text = (
        RESPONSE_HEADER
        + response_row("S1", 0, 0, "")
        + response_row("S1", 0, 0, "", reader_id="R2")
    )
    assert messages(read_responses, write(tmp_path, "responses.csv", text)) == [
        "responses.csv:3: subject S1 has a second read (R2/central; the first, "
        "R1/central, is on line 2): without read_role, responses.csv must hold one "
        "read per subject"
    ]


def test_with_read_role_only_the_final_rows_count(tmp_path: Path) -> None:
    header = RESPONSE_HEADER.rstrip("\n") + ",read_role\n"
    text = (
        header
        + response_row("S1", 0, 0, "").rstrip("\n") + ",primary\n"
        + response_row("S1", 1, 30, "PD").rstrip("\n") + ",primary\n"
        + response_row("S1", 0, 0, "", reader_id="R2").rstrip("\n") + ",final\n"
        + response_row("S1", 1, 30, "PR", reader_id="R2").rstrip("\n") + ",final\n"
    )  # fmt: skip
    scans = read_responses(write(tmp_path, "responses.csv", text)).subjects["S1"]
    assert [s.target_response for s in scans] == [None, Response.PR]


def test_a_signed_follow_up_without_a_response_is_refused(tmp_path: Path) -> None:
    text = (
        RESPONSE_HEADER
        + response_row("S1", 0, 0, "")
        + response_row("S1", 1, 31, "", overall_response="SD")
    )
    assert messages(read_responses, write(tmp_path, "responses.csv", text)) == [
        "responses.csv:3: target_response '' is not one of: CR, NE, PD, PR, SD"
    ]
