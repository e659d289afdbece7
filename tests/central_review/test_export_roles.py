"""central-review.md §Exports: read_role and source_reader in the exported files.

The database of ``test_final_read.stored``: S01 concordant (final: R01's), S02
adjudicated for R02, S03 awaiting adjudication, S04 not assigned (R09), and a site's
local read of S01 (L01).
"""

import csv
from pathlib import Path

import pytest

from mrecist_reader.cli import main
from mrecist_reader.desk.export import database_reads, export_reads
from mrecist_reader.transfer.responses_in import read_responses
from tests.central_review.test_final_read import stored

Rows = list[dict[str, str]]


def rows(path: Path) -> Rows:
    with path.open(encoding="utf-8", newline="") as stream:
        return list(csv.DictReader(stream))


def reads_in(found: Rows) -> list[tuple[str, str, str, str, str]]:
    """Return each read of a file once, in file order: subject, reader, type, roles."""
    seen: list[tuple[str, str, str, str, str]] = []
    for row in found:
        read = (
            row["subject_id"],
            row["reader_id"],
            row["read_type"],
            row["read_role"],
            row["source_reader"],
        )
        if read not in seen:
            seen.append(read)
    return seen


@pytest.fixture
def db(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path}/reads.db"
    stored(url)
    return url


def export(db: str, out: Path, reader: str) -> int:
    return main(["export", "--db", db, "--reader", reader, "-o", str(out)])


EVERY_READ = [
    ("S01", "L01", "local", "local", ""),
    ("S01", "R01", "central", "primary", ""),
    ("S01", "R01", "central", "final", "R01"),  # concordant: reader 1's
    ("S01", "R02", "central", "primary", ""),
    ("S02", "R01", "central", "primary", ""),
    ("S02", "R02", "central", "primary", ""),
    ("S02", "R02", "central", "final", "R02"),  # adjudicated: the chosen reader's
    ("S03", "R01", "central", "primary", ""),  # awaiting: no final read
    ("S03", "R02", "central", "primary", ""),
    ("S04", "R09", "central", "primary", ""),  # not assigned: primary
]


def test_the_managers_export_holds_both_primary_reads_and_the_final_reads(
    db: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert export(db, tmp_path / "out", "PM01") == 0
    assert "and 2 final read(s)" in capsys.readouterr().out
    measurements = rows(tmp_path / "out" / "measurements.csv")
    responses = rows(tmp_path / "out" / "responses.csv")
    assert reads_in(measurements) == EVERY_READ
    assert reads_in(responses) == EVERY_READ
    assert {
        (r["whole_diameter_mm"], r["viable_perpendicular_mm"]) for r in measurements
    } == {("", "")}  # nothing measures them yet


@pytest.mark.parametrize("name", ["measurements.csv", "responses.csv"])
def test_a_final_reads_rows_are_its_source_reads_but_for_the_role(
    db: str, tmp_path: Path, name: str
) -> None:
    assert export(db, tmp_path / "out", "PM01") == 0
    found = rows(tmp_path / "out" / name)
    role_columns = ("read_role", "source_reader")

    def of(subject: str, reader: str, role: str) -> Rows:
        return [
            {k: v for k, v in row.items() if k not in role_columns}
            for row in found
            if (row["subject_id"], row["reader_id"], row["read_role"])
            == (subject, reader, role)
        ]

    for subject, reader in (("S01", "R01"), ("S02", "R02")):
        final = of(subject, reader, "final")
        assert final  # the reads are signed to the end: the cut is the last timepoint
        assert final == of(subject, reader, "primary")


def test_a_primary_readers_export_holds_only_their_own_primary_reads(
    db: str, tmp_path: Path
) -> None:
    assert export(db, tmp_path / "out", "R02") == 0
    expected = [
        read for read in EVERY_READ if read[1] == "R02" and read[3] == "primary"
    ]
    for name in ("measurements.csv", "responses.csv"):
        assert reads_in(rows(tmp_path / "out" / name)) == expected
    assert not (tmp_path / "out" / "adjudication.csv").exists()


def test_the_window_and_the_command_line_write_the_same_final_rows(
    db: str, tmp_path: Path
) -> None:
    assert export(db, tmp_path / "cli", "PM01") == 0
    export_reads(database_reads(db, reader_id="PM01"), tmp_path / "desk")
    for name in ("measurements.csv", "responses.csv", "adjudication.csv"):
        assert (tmp_path / "desk" / name).read_bytes() == (
            tmp_path / "cli" / name
        ).read_bytes()


def test_importing_an_export_with_final_rows_is_refused_line_by_line(
    db: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert export(db, tmp_path / "out", "PM01") == 0
    path = tmp_path / "out" / "measurements.csv"
    lines = [
        number
        for number, row in enumerate(rows(path), start=2)
        if row["read_role"] == "final"
    ]
    other = f"sqlite:///{tmp_path}/other.db"
    capsys.readouterr()
    assert main(["import", str(path), "--db", other]) == 1
    err = capsys.readouterr().err.splitlines()
    assert err == [
        f"{path}:{line}: read_role 'final': final reads are derived, never imported "
        "(they come from the primary reads and the adjudication in the database)"
        for line in lines
    ]
    assert not (tmp_path / "other.db").exists()  # all or nothing


def test_the_primary_rows_of_an_export_import_and_export_again(
    db: str, tmp_path: Path
) -> None:
    assert export(db, tmp_path / "out", "PM01") == 0
    found = rows(tmp_path / "out" / "measurements.csv")
    kept = [row for row in found if row["read_role"] == "primary"]
    path = tmp_path / "primary.csv"
    with path.open("w", encoding="utf-8", newline="") as stream:
        writer = csv.DictWriter(stream, fieldnames=list(found[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(kept)
    other = f"sqlite:///{tmp_path}/other.db"
    assert main(["import", str(path), "--db", other]) == 0
    assert main(["export", "--db", other, "-o", str(tmp_path / "again")]) == 0
    assert rows(tmp_path / "again" / "measurements.csv") == kept


def test_assess_keeps_a_final_read_apart_from_its_source_read(
    db: str, tmp_path: Path
) -> None:
    assert export(db, tmp_path / "out", "PM01") == 0
    assessed = tmp_path / "assessed.csv"
    measurements = tmp_path / "out" / "measurements.csv"
    assert main(["assess", str(measurements), "-o", str(assessed)]) == 0
    exported = rows(tmp_path / "out" / "responses.csv")

    def without_version(found: Rows) -> Rows:
        return [{k: v for k, v in r.items() if k != "software_version"} for r in found]

    # The reads are complete: the export's responses are assess's, final rows too.
    assert without_version(rows(assessed)) == without_version(exported)


def test_the_endpoints_read_the_final_rows_of_an_exported_responses_csv(
    db: str, tmp_path: Path
) -> None:
    assert export(db, tmp_path / "out", "PM01") == 0
    subjects = read_responses(tmp_path / "out" / "responses.csv").subjects
    assert sorted(subjects) == ["S01", "S02"]  # S03 awaits; S04 has no final read
