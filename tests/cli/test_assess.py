"""`mrecist-reader assess` per shared/spec/data-transfer.md §Command line."""

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from mrecist_reader.cli import main
from tests.transfer.csv_edit import (
    EXAMPLES,
    drop_lines,
    edit,
    records,
    render,
    two_subjects,
)

TWO_SUBJECTS = EXAMPLES / "nct06779461_central_two_subjects.csv"
INVALID = EXAMPLES / "invalid_nct06779461_target_too_small.csv"


def test_responses_go_to_stdout_without_output(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["assess", str(TWO_SUBJECTS)]) == 0
    out = capsys.readouterr().out
    assert out.startswith("schema_version,study_id,site_id,subject_id,")
    assert ",FU2,2,2026-04-04,61,50.0,60.0,55.0,-16.7,-9.1,SD,NA,yes,PD,FU1,PD," in out
    assert len(out.splitlines()) == 1 + 6


def test_output_file_holds_the_same_as_stdout(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["assess", str(TWO_SUBJECTS), "-o", str(tmp_path / "r.csv")]) == 0
    assert capsys.readouterr().out == ""
    main(["assess", str(TWO_SUBJECTS)])
    assert (tmp_path / "r.csv").read_text(encoding="utf-8") == capsys.readouterr().out


def test_protocol_option_overrides_the_profile_column(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["assess", str(INVALID), "--protocol", "mrecist"]) == 0
    rows = records(capsys.readouterr().out)
    column = rows[0].index("protocol_profile")
    # data-transfer.md: protocol_profile is "name of the rule profile used".
    assert {row[column] for row in rows[1:]} == {"mrecist"}


def test_out_of_range_target_exits_1_with_file_line_message(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "r.csv"
    assert main(["assess", str(INVALID), "-o", str(out)]) == 1
    assert capsys.readouterr().err == (
        f"{INVALID}:4: T3: baseline viable diameter 29.9 mm is outside the allowed range "
        "30.0–100.0 mm for target lesions of profile nct06779461; it may be recorded as "
        "a non-target lesion\n"
    )
    assert not out.exists()


BROKEN = {
    "wrong header": (
        lambda text: text.replace(",lesion_type,", ",type,", 1),
        "1: missing column 'lesion_type'",
    ),
    "unknown status": (
        lambda text: edit(text, 6, "status", "smaller"),
        "6: status 'smaller' is not allowed for a target lesion",
    ),
    "text in number": (
        lambda text: edit(text, 5, "viable_diameter_mm", "thirty"),
        "5: viable_diameter_mm 'thirty' is not a length in millimetres",
    ),
    "missing baseline": (
        lambda text: drop_lines(text, 11),
        "11: read S02/R1/central has no baseline",
    ),
    "duplicated lesion rows": (
        lambda text: render([*records(text), records(text)[14]]),
        "16: N1 at FU2 (timepoint_index 2) is already on line 15",
    ),
    "lesion changes type": (
        lambda text: edit(
            edit(text, 6, "lesion_type", "non_target"), 6, "status", "present"
        ),
        "6: lesion_type 'non_target' differs from 'target' on line 3",
    ),
}


@pytest.mark.parametrize("case", sorted(BROKEN))
def test_broken_csv_exits_1_names_file_and_line_and_writes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], case: str
) -> None:
    change, expected = BROKEN[case]
    source = tmp_path / "measurements.csv"
    source.write_text(change(two_subjects()), encoding="utf-8")
    out = tmp_path / "responses.csv"
    assert main(["assess", str(source), "-o", str(out)]) == 1
    captured = capsys.readouterr()
    assert captured.err.startswith(f"{source}:{expected}")
    assert captured.out == ""
    assert sorted(p.name for p in tmp_path.iterdir()) == ["measurements.csv"]


def test_an_existing_output_is_left_alone_when_the_input_is_invalid(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "responses.csv"
    out.write_text("previous\n", encoding="utf-8")
    assert main(["assess", str(INVALID), "-o", str(out)]) == 1
    assert out.read_text(encoding="utf-8") == "previous\n"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "m.csv: no such file"),
        (b"schema_version\n\xff\xfe1,2", "m.csv:2: not UTF-8 text (byte 0xff at character 1"),
        ("folder", "m.csv: is a folder, expected a measurements.csv file"),
    ],
)  # fmt: skip
def test_unreadable_input_exits_2(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    content: bytes | str | None,
    message: str,
) -> None:
    source = tmp_path / "m.csv"
    if content == "folder":
        source.mkdir()
    elif isinstance(content, bytes):
        source.write_bytes(content)
    assert main(["assess", str(source), "-o", str(tmp_path / "r.csv")]) == 2
    captured = capsys.readouterr()
    assert captured.err.startswith(f"error: {tmp_path / message}")
    assert captured.err.count("\n") == 1
    assert not (tmp_path / "r.csv").exists()


@pytest.mark.parametrize("content", ["", "\n\n", "\ufeff"])
def test_an_empty_file_is_invalid_input_on_line_1(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: str
) -> None:
    source = tmp_path / "m.csv"
    source.write_text(content, encoding="utf-8")
    assert main(["assess", str(source), "-o", str(tmp_path / "r.csv")]) == 1
    assert capsys.readouterr().err.startswith(
        f"{source}:1: the file is empty (expected the header row schema_version,"
    )
    assert not (tmp_path / "r.csv").exists()


@pytest.mark.parametrize(
    ("target", "message"),
    [
        ("missing/r.csv", "r.csv: the folder {folder}/missing does not exist"),
        (".", ": is a folder, expected the responses.csv file to write"),
    ],
)
def test_an_unusable_output_path_is_a_usage_error_before_any_work(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], target: str, message: str
) -> None:
    output = tmp_path / target
    assert main(["assess", str(TWO_SUBJECTS), "-o", str(output)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: -o: ")
    assert err.rstrip("\n").endswith(message.format(folder=tmp_path))
    assert sorted(p.name for p in tmp_path.iterdir()) == []


def test_an_unwritable_output_folder_is_a_usage_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o500)
    if os.access(locked, os.W_OK):  # root ignores permissions
        pytest.skip("running as a user that may write anywhere")
    assert main(["assess", str(TWO_SUBJECTS), "-o", str(locked / "r.csv")]) == 2
    assert capsys.readouterr().err == f"error: {locked / 'r.csv'}: permission denied\n"


DATA_MANAGER_EDITS = {
    "byte order mark": lambda text: "\ufeff" + text,
    "CRLF line ends": lambda text: text.replace("\n", "\r\n"),
    "quoted commas and line breaks": lambda text: text.replace(
        "segment VII,", '"segment VII, posterior\r\n(""dome"")",'
    ),
}


@pytest.mark.parametrize("case", sorted(DATA_MANAGER_EDITS))
def test_spreadsheet_style_files_give_the_same_responses(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], case: str
) -> None:
    assert main(["assess", str(TWO_SUBJECTS)]) == 0
    clean = capsys.readouterr().out
    source = tmp_path / "m.csv"
    source.write_bytes(DATA_MANAGER_EDITS[case](two_subjects()).encode("utf-8"))
    assert main(["assess", str(source)]) == 0
    captured = capsys.readouterr()
    assert (captured.out, captured.err) == (clean, "")


def test_line_numbers_after_a_multi_line_cell_are_physical_lines(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = edit(two_subjects(), 2, "location", "segment VII,\nposterior")
    source = tmp_path / "m.csv"
    source.write_text(edit(text, 3, "status", "gone"), encoding="utf-8")
    assert main(["assess", str(source)]) == 1
    assert capsys.readouterr().err.startswith(
        f"{source}:4: status 'gone' is not allowed for a target lesion"
    )


def test_unknown_protocol_option_is_a_usage_error(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["assess", str(TWO_SUBJECTS), "--protocol", "recist9"]) == 2
    assert "known profiles: mrecist, nct06779461" in capsys.readouterr().err


def test_missing_argument_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["assess"]) == 2
    assert "MEASUREMENTS.csv" in capsys.readouterr().err


SCRIPT = textwrap.dedent(
    """
    import sys
    from mrecist_reader.cli import main
    code = main(["assess", sys.argv[1]])
    sys.stdout.flush()
    heavy = sorted(m for m in sys.modules if m.split(".")[0] in ("PySide6", "numpy"))
    print("HEAVY:", heavy, file=sys.stderr)
    raise SystemExit(code)
    """
)


def test_python_m_assess_runs_without_qt_or_numpy(tmp_path: Path) -> None:
    module_run = subprocess.run(
        [sys.executable, "-m", "mrecist_reader", "assess", str(TWO_SUBJECTS)],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert module_run.returncode == 0, module_run.stderr
    assert module_run.stdout.count("\n") == 7
    script = tmp_path / "probe.py"
    script.write_text(SCRIPT, encoding="utf-8")
    probe = subprocess.run(
        [sys.executable, str(script), str(TWO_SUBJECTS)],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert probe.returncode == 0, probe.stderr
    assert "HEAVY: []" in probe.stderr


def test_a_reader_that_stops_early_gets_no_error(tmp_path: Path) -> None:
    rows = records(two_subjects())
    subject = rows[0].index("subject_id")
    many = [rows[0]] + [
        [*row[:subject], f"{row[subject]}-{copy:03d}", *row[subject + 1 :]]
        for copy in range(300)
        for row in rows[1:]
    ]
    source = tmp_path / "m.csv"
    source.write_text(render(many), encoding="utf-8")
    with subprocess.Popen(
        [sys.executable, "-m", "mrecist_reader", "assess", str(source)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    ) as process:
        assert process.stdout is not None
        assert process.stderr is not None
        assert process.stdout.readline().startswith(b"schema_version,")
        process.stdout.close()  # like `| head -1`
        err = process.stderr.read()
        assert (process.wait(timeout=60), err) == (0, b"")
