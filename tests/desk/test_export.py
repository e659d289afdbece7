"""One exporter: the window's path and the command line give the same bytes (no Qt).

A follow-up with one of two targets measured exports its measurements as recorded and
no response row; the export says which timepoint it left without one and why.
"""

import csv
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from mrecist_reader.cli import main
from mrecist_reader.core.errors import MrecistError
from mrecist_reader.core.model import NewLesionStatus, Organ, ReadKey, ReadType
from mrecist_reader.core.protocol import ProtocolProfile
from mrecist_reader.desk.export import (
    EXPORT_FILES,
    ExportFolderError,
    database_reads,
    existing_export_files,
    export_reads,
    is_blinded,
)
from mrecist_reader.resources import load_profile
from mrecist_reader.session import ReadSession, open_database, stored_reads
from tests.test_session import caliper


@pytest.fixture(scope="module")
def profile() -> ProtocolProfile:
    return load_profile("nct06779461")


@pytest.fixture
def url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'reads.db'}"


def open_read(
    url: str, profile: ProtocolProfile, subject: str, read_type: ReadType
) -> ReadSession:
    repository = open_database(url)
    key = ReadKey("NCT06779461", subject, "R01", read_type)
    return ReadSession.open(repository, key, site_id="SITE07", profile=profile)


def half_read_follow_up(session: ReadSession) -> ReadSession:
    """BASELINE T1 60 mm, T2 40 mm (signed); FU1 with T1 measured and T2 not yet."""
    session.add_timepoint("BASELINE", 0, study_day=0)
    session.designate_target(Organ.LIVER, "segment VII", caliper=caliper(60.0))
    session.designate_target(Organ.LIVER, "segment II", caliper=caliper(40.0))
    session.sign_timepoint(0)
    session.add_timepoint("FU1", 1, study_day=30)
    session.record_measurement("T1", 1, caliper(50.0))
    return session


@pytest.fixture
def central(url: str, profile: ProtocolProfile) -> Iterator[ReadSession]:
    session = half_read_follow_up(open_read(url, profile, "S01", ReadType.CENTRAL))
    yield session
    session._repository.close()


def rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as stream:
        return list(csv.DictReader(stream))


def cli_export(url: str, folder: Path, *extra: str) -> int:
    return main(["export", "--db", url, "-o", str(folder), *extra])


def test_the_windows_export_and_the_command_lines_are_byte_identical(
    central: ReadSession, url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    window = export_reads(
        [central.read], tmp_path / "window", blinded=False, profile=central.profile
    )
    assert cli_export(url, tmp_path / "cli") == 0
    for name in EXPORT_FILES:
        assert (tmp_path / "window" / name).read_bytes() == (
            tmp_path / "cli" / name
        ).read_bytes()
    assert window.without_response == ("S01 FU1: T2 (target) not assessed",)
    assert "S01 FU1: T2 (target) not assessed" in capsys.readouterr().out


def test_every_subject_of_the_reader_from_the_window_equals_the_command_line(
    central: ReadSession, url: str, profile: ProtocolProfile, tmp_path: Path
) -> None:
    other = open_read(url, profile, "S02", ReadType.CENTRAL)
    other.add_timepoint("BASELINE", 0, study_day=0)
    other.designate_target(Organ.LIVER, "segment IV", caliper=caliper(45.0))
    reads = stored_reads(other._repository, "R01", ReadType.CENTRAL)
    other._repository.close()
    result = export_reads(reads, tmp_path / "window", profile=profile)
    assert cli_export(url, tmp_path / "cli") == 0
    for name in EXPORT_FILES:
        assert (tmp_path / "window" / name).read_bytes() == (
            tmp_path / "cli" / name
        ).read_bytes()
    assert (result.reads, result.blinded_reads) == (2, 2)
    assert [r["subject_id"] for r in rows(result.paths[1])] == ["S01", "S02"]


def test_a_half_measured_follow_up_exports_its_measurements_and_no_response(
    central: ReadSession, tmp_path: Path
) -> None:
    result = export_reads([central.read], tmp_path, profile=central.profile)
    measurements = rows(result.paths[0])
    assert [
        (r["timepoint"], r["lesion_id"], r["read_status"]) for r in measurements
    ] == [
        ("BASELINE", "T1", "signed"),
        ("BASELINE", "T2", "signed"),
        ("FU1", "T1", "draft"),
    ]
    responses = rows(result.paths[1])
    assert [r["timepoint"] for r in responses] == ["BASELINE"]
    assert "NE" not in {r["overall_response"] for r in responses}
    assert (result.measurement_rows, result.response_rows) == (3, 1)
    assert "no response for 1 timepoint(s)" in result.summary()


def test_a_not_evaluable_target_is_complete_and_gets_its_ne_row(
    central: ReadSession, tmp_path: Path
) -> None:
    central.record_status("T2", 1, "not_evaluable")
    result = export_reads([central.read], tmp_path, profile=central.profile)
    fu1 = rows(result.paths[1])[-1]
    assert (fu1["timepoint"], fu1["overall_response"], fu1["read_status"]) == (
        "FU1",
        "NE",
        "draft",
    )
    assert result.without_response == ()


def test_a_new_lesion_without_its_status_at_fu2_leaves_fu2_without_a_response(
    central: ReadSession, tmp_path: Path
) -> None:
    central.record_measurement("T2", 1, caliper(38.0))
    central.add_new_lesion(
        Organ.LIVER, "segment III", 1, status=NewLesionStatus.EQUIVOCAL
    )
    central.add_timepoint("FU2", 2, study_day=60)
    central.record_measurement("T1", 2, caliper(50.0))
    central.record_measurement("T2", 2, caliper(38.0))
    result = export_reads([central.read], tmp_path, profile=central.profile)
    assert [r["timepoint"] for r in rows(result.paths[1])] == ["BASELINE", "FU1"]
    assert result.without_response == (
        "S01 FU2: N1 (new, first seen at FU1) not assessed",
    )


def test_a_new_lesions_measured_diameter_is_exported(
    central: ReadSession, tmp_path: Path
) -> None:
    central.add_new_lesion(
        Organ.LIVER, "segment III", 1, status=NewLesionStatus.PRESENT
    )
    central.record_measurement("N1", 1, caliper(14.0))
    result = export_reads([central.read], tmp_path, profile=central.profile)
    n1 = [r for r in rows(result.paths[0]) if r["lesion_id"] == "N1"]
    assert [r["viable_diameter_mm"] for r in n1] == ["14.0"]


# ---------------------------------------------------------------- blinding
def test_a_central_read_is_always_blinded_a_local_one_when_asked(
    central: ReadSession, url: str, profile: ProtocolProfile, tmp_path: Path
) -> None:
    local = open_read(url, profile, "S09", ReadType.LOCAL)
    assert is_blinded(central.read, blinded=False)
    assert not is_blinded(local.read, blinded=False)
    assert is_blinded(local.read, blinded=True)
    local.add_timepoint("BASELINE", 0, study_day=0)
    local.designate_target(Organ.LIVER, "segment VI", caliper=caliper(50.0))
    local._repository.close()
    assert cli_export(url, tmp_path / "plain", "--no-blinded") == 0
    sites = {
        (r["subject_id"], r["site_id"])
        for r in rows(tmp_path / "plain" / "measurements.csv")
    }
    assert sites == {("S01", ""), ("S09", "SITE07")}
    assert cli_export(url, tmp_path / "blind", "--blinded") == 0
    blind_sites = {r["site_id"] for r in rows(tmp_path / "blind" / "measurements.csv")}
    assert blind_sites == {""}


# ---------------------------------------------------------------- both or neither
def test_a_folder_that_is_a_file_is_refused_and_left_alone(
    central: ReadSession, tmp_path: Path
) -> None:
    target = tmp_path / "not a folder"
    target.write_text("keep me", encoding="utf-8")
    with pytest.raises(ExportFolderError, match="is a file, expected the folder"):
        export_reads([central.read], target, profile=central.profile)
    assert target.read_text(encoding="utf-8") == "keep me"


def test_a_failing_write_leaves_both_earlier_files_unchanged(
    central: ReadSession, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "export"
    folder.mkdir()
    for name in EXPORT_FILES:
        (folder / name).write_text(f"earlier {name}\n", encoding="utf-8")
    assert existing_export_files(folder) == EXPORT_FILES
    from mrecist_reader.transfer import csv_out

    real = csv_out.write_rows
    calls: list[int] = []

    def second_fails(*args: Any, **kwargs: Any) -> None:
        calls.append(1)
        if len(calls) == 2:  # measurements.csv is written, responses.csv fails
            raise OSError("disk full")
        real(*args, **kwargs)

    monkeypatch.setattr(csv_out, "write_rows", second_fails)
    with pytest.raises(OSError, match="disk full"):
        export_reads([central.read], folder, profile=central.profile)
    assert len(calls) == 2
    for name in EXPORT_FILES:
        assert (folder / name).read_text(encoding="utf-8") == f"earlier {name}\n"
    assert sorted(p.name for p in folder.iterdir()) == sorted(EXPORT_FILES)


def test_a_read_whose_profile_cannot_be_loaded_writes_nothing(
    central: ReadSession, tmp_path: Path
) -> None:
    from dataclasses import replace

    foreign = replace(central.read, protocol_profile="sponsor_x")
    with pytest.raises(MrecistError, match="protocol profile sponsor_x") as refused:
        export_reads([foreign], tmp_path / "out")
    assert "Traceback" not in str(refused.value)
    assert not (tmp_path / "out").exists()


def test_database_reads_can_be_one_subjects(
    central: ReadSession, url: str, profile: ProtocolProfile
) -> None:
    other = open_read(url, profile, "S02", ReadType.CENTRAL)
    other._repository.close()
    assert [r.key.subject_id for r in database_reads(url)] == ["S01", "S02"]
    assert [r.key.subject_id for r in database_reads(url, subject_id="S02")] == ["S02"]
