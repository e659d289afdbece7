"""`mrecist-reader import` and `export`: round trip, all or nothing, signed reads, blinding."""

import csv
import io
import shutil
from dataclasses import replace
from pathlib import Path

import pytest

from mrecist_reader.cli import main
from mrecist_reader.core.model import ReadType
from mrecist_reader.storage.repository import ReadRepository, Viewer
from mrecist_reader.transfer.csv_out import write_measurements
from tests.storage.samples import sample_read

DATA = Path(__file__).resolve().parents[1] / "data" / "measurements"
LOCAL_FILE = DATA / "mrecist_local_ne_then_pd.csv"


def rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as stream:
        return [
            {k: v for k, v in row.items() if k != "software_version"}
            for row in csv.DictReader(stream)
        ]


@pytest.fixture
def db(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'reads.db'}"


@pytest.fixture
def awkward_csv(tmp_path: Path) -> Path:
    """Return a measurements.csv with quotes, commas, line breaks, non-Latin text."""
    path = tmp_path / "in" / "measurements.csv"
    path.parent.mkdir()
    write_measurements(path, [sample_read(), sample_read("R2", subject_id="S02")])
    return path


def export(db: str, out: Path, *extra: str) -> int:
    return main(["export", "--db", db, "-o", str(out), *extra])


def test_import_then_export_gives_back_the_same_rows(
    db: str, awkward_csv: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["import", str(awkward_csv), "--db", db]) == 0
    assert "imported 2 read(s)" in capsys.readouterr().out
    assert export(db, tmp_path / "out") == 0
    assert rows(tmp_path / "out" / "measurements.csv") == rows(awkward_csv)
    text = (tmp_path / "out" / "measurements.csv").read_text(encoding="utf-8")
    assert '"segment VII, ""dome"""' in text
    assert "сегмент III 肝" in text


def test_a_shipped_example_round_trips_row_for_row(db: str, tmp_path: Path) -> None:
    """The example is a first-version file: its rows come back with their role."""
    assert main(["import", str(LOCAL_FILE), "--db", db]) == 0
    assert export(db, tmp_path / "out") == 0
    second_version = {
        "read_role": "local",
        "source_reader": "",
        "whole_diameter_mm": "",
        "viable_perpendicular_mm": "",
    }
    assert rows(tmp_path / "out" / "measurements.csv") == [
        {**row, **second_version} for row in rows(LOCAL_FILE)
    ]


def test_an_exported_file_round_trips_row_for_row(db: str, tmp_path: Path) -> None:
    assert main(["import", str(LOCAL_FILE), "--db", db]) == 0
    assert export(db, tmp_path / "first") == 0
    other = f"sqlite:///{tmp_path / 'other.db'}"
    exported = tmp_path / "first" / "measurements.csv"
    assert main(["import", str(exported), "--db", other]) == 0
    assert export(other, tmp_path / "second") == 0
    assert rows(tmp_path / "second" / "measurements.csv") == rows(exported)


def test_exported_responses_equal_assess_on_the_same_measurements(
    db: str, tmp_path: Path
) -> None:
    assert main(["import", str(LOCAL_FILE), "--db", db]) == 0
    assert export(db, tmp_path / "out") == 0
    assessed = tmp_path / "assessed.csv"
    assert main(["assess", str(LOCAL_FILE), "-o", str(assessed)]) == 0
    assert rows(tmp_path / "out" / "responses.csv") == rows(assessed)


def test_signed_rows_are_imported_as_signed(db: str, awkward_csv: Path) -> None:
    main(["import", str(awkward_csv), "--db", db])
    with ReadRepository(db) as repository:
        read = repository.load(sample_read().key, viewer=Viewer("R1", ReadType.LOCAL))
    assert read == sample_read()


def test_a_bad_line_leaves_nothing_behind(
    db: str, awkward_csv: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    lines = awkward_csv.read_text(encoding="utf-8").split("\n")
    lines[-2] = lines[-2].replace(",equivocal,", ",grown,")
    bad = tmp_path / "bad.csv"
    bad.write_text("\n".join(lines), encoding="utf-8")
    assert main(["import", str(bad), "--db", db]) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"{bad}:{len(lines) - 1}: ")
    assert "grown" in err
    with ReadRepository(db) as repository:
        assert repository.all_reads() == ()


def test_a_signed_timepoint_in_the_database_is_never_overwritten(
    db: str, awkward_csv: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["import", str(awkward_csv), "--db", db]) == 0
    changed = tmp_path / "changed.csv"
    original = sample_read()
    t1 = original.observations[0]
    edited = replace(
        original,
        observations=(
            replace(t1, comment="edited elsewhere"),
            *original.observations[1:],
        ),
    )
    write_measurements(changed, [edited])
    assert main(["import", str(changed), "--db", db]) == 1
    err = capsys.readouterr().err
    assert "subject S01, reader R1" in err
    assert "timepoint BASELINE is signed" in err
    with ReadRepository(db) as repository:
        assert (
            repository.load(original.key, viewer=Viewer("R1", ReadType.LOCAL))
            == original
        )


def test_reimporting_the_same_file_is_allowed(db: str, awkward_csv: Path) -> None:
    assert main(["import", str(awkward_csv), "--db", db]) == 0
    assert main(["import", str(awkward_csv), "--db", db]) == 0


def test_blinded_export_has_no_dates_and_no_site(
    db: str, awkward_csv: Path, tmp_path: Path
) -> None:
    main(["import", str(awkward_csv), "--db", db])
    assert export(db, tmp_path / "out", "--blinded") == 0
    for name in ("measurements.csv", "responses.csv"):
        exported = rows(tmp_path / "out" / name)
        assert exported
        assert {row["scan_date"] for row in exported} == {""}
        assert {row["site_id"] for row in exported} == {""}
        text = (tmp_path / "out" / name).read_text(encoding="utf-8")
        assert "2026-03-01" not in text
        assert "SITE01" not in text


def test_an_unreadable_file_is_a_usage_error(db: str, tmp_path: Path) -> None:
    assert main(["import", str(tmp_path / "missing.csv"), "--db", db]) == 2


def test_export_of_an_empty_database_writes_headers_only(
    db: str, tmp_path: Path
) -> None:
    from mrecist_reader.storage.repository import ReadRepository

    with ReadRepository(db):
        pass  # an existing database without reads
    assert export(db, tmp_path / "out") == 0
    text = (tmp_path / "out" / "measurements.csv").read_text(encoding="utf-8")
    assert text.startswith("schema_version,study_id")
    assert len(list(csv.reader(io.StringIO(text)))) == 1


def test_central_reads_keep_no_scan_dates_on_import(db: str, tmp_path: Path) -> None:
    central = DATA / "nct06779461_central_two_subjects.csv"
    copy = tmp_path / "central.csv"
    shutil.copyfile(central, copy)
    assert main(["import", str(copy), "--db", db]) == 0
    assert export(db, tmp_path / "out") == 0
    assert {
        row["scan_date"] for row in rows(tmp_path / "out" / "measurements.csv")
    } == {""}


def test_without_db_the_users_default_database_is_used(
    awkward_csv: Path, tmp_path: Path
) -> None:
    import os

    assert main(["import", str(awkward_csv)]) == 0
    data_home = Path(os.environ["XDG_DATA_HOME"])
    assert (data_home / "mrecist_reader" / "reads.db").is_file()
    assert main(["export", "-o", str(tmp_path / "out")]) == 0
    assert rows(tmp_path / "out" / "measurements.csv") == rows(awkward_csv)


def half_measured_follow_up(db: str) -> None:
    """Store a local read: BASELINE T1 and T2 signed, FU1 with only T1 measured."""
    from mrecist_reader.core.model import Caliper, Organ, ReadKey
    from mrecist_reader.resources import load_profile
    from mrecist_reader.session import ReadSession

    def caliper(length_mm: float) -> Caliper:
        return Caliper((0.0, 0.0, 0.0), (length_mm, 0.0, 0.0))

    with ReadRepository(db) as repository:
        session = ReadSession.open(
            repository,
            ReadKey("NCT06779461", "S01", "R1", ReadType.LOCAL),
            site_id="SITE01",
            profile=load_profile("nct06779461"),
        )
        session.add_timepoint("BASELINE", 0, study_day=0)
        session.designate_target(Organ.LIVER, "segment VII", caliper=caliper(60.0))
        session.designate_target(Organ.LIVER, "segment II", caliper=caliper(40.0))
        session.sign_timepoint(0)
        session.add_timepoint("FU1", 1, study_day=30)
        session.record_measurement("T1", 1, caliper(50.0))


def test_a_half_measured_follow_up_exports_no_response_and_says_so(
    db: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    half_measured_follow_up(db)
    assert export(db, tmp_path / "out") == 0
    out = capsys.readouterr().out
    assert "exported 1 read(s)" in out
    assert "no response for 1 timepoint(s) that are not complete:" in out
    assert "  S01 FU1: T2 (target) not assessed" in out
    measurements = rows(tmp_path / "out" / "measurements.csv")
    assert [(r["timepoint"], r["lesion_id"]) for r in measurements] == [
        ("BASELINE", "T1"),
        ("BASELINE", "T2"),
        ("FU1", "T1"),
    ]
    responses = rows(tmp_path / "out" / "responses.csv")
    assert [row["timepoint"] for row in responses] == ["BASELINE"]


def test_a_central_read_is_exported_blinded_even_without_blinded(
    db: str, tmp_path: Path
) -> None:
    central = DATA / "nct06779461_central_two_subjects.csv"
    assert main(["import", str(central), "--db", db]) == 0
    assert export(db, tmp_path / "out", "--no-blinded") == 0
    for name in ("measurements.csv", "responses.csv"):
        exported = rows(tmp_path / "out" / name)
        assert exported
        assert {row["site_id"] for row in exported} == {""}


def test_an_unknown_protocol_is_a_usage_error_and_writes_nothing(
    db: str, awkward_csv: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["import", str(awkward_csv), "--db", db]) == 0
    assert export(db, tmp_path / "out", "--protocol", "no_such_profile") == 2
    assert "--protocol: unknown protocol profile" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()
