"""`mrecist-reader export --sr DIR [--images PATH]`: one TID 1500 SR per signed timepoint."""

import shutil
import stat
import subprocess
from dataclasses import replace
from pathlib import Path

import pydicom
import pytest

from mrecist_reader.archive.sr import read_report, read_responses
from mrecist_reader.cli import main
from mrecist_reader.core.model import Read, ReadStatus, ReadType
from mrecist_reader.desk.image_places import default_places, remember
from mrecist_reader.imaging.scan import scan
from mrecist_reader.transfer.csv_out import write_measurements
from tests.archive.test_sr import BASELINE, FOLLOW_UP, IMAGES, sample_read
from tests.conftest import SAMPLE_DICOM

SUBJECT_IMAGES = SAMPLE_DICOM / "S01"


def stored_read(**changes: object) -> Read:
    """Return the sample read with the generic mRECIST profile (T2 is 28 mm)."""
    return replace(sample_read(), protocol_profile="mrecist", **changes)  # type: ignore[arg-type]


@pytest.fixture
def db(tmp_path: Path) -> str:
    """Return a reads database holding the sample read (both timepoints signed)."""
    url = f"sqlite:///{tmp_path / 'reads.db'}"
    source = tmp_path / "in" / "measurements.csv"
    source.parent.mkdir()
    write_measurements(source, [stored_read()])
    assert main(["import", str(source), "--db", url]) == 0
    return url


def export_sr(db: str, out: Path, *extra: str) -> int:
    return main(["export", "--db", db, "--sr", str(out), *extra])


def test_every_signed_timepoint_gets_an_sr_with_every_lesion_and_length(
    db: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "sr"
    assert export_sr(db, out, "--images", str(SUBJECT_IMAGES)) == 0
    assert "wrote 2 SR file(s)" in capsys.readouterr().out
    read = stored_read()
    names = sorted(p.name for p in out.iterdir())
    assert names == ["sr_S01_R1_central_tp0.dcm", "sr_S01_R1_central_tp1.dcm"]
    for index, name in enumerate(names):
        sr = pydicom.dcmread(out / name)
        expected = [
            (o.lesion_id, o.sop_instance_uid if o.caliper else "", o.diameter)
            for o in read.observations
            if o.timepoint_index == index
        ]
        got = [
            (
                lesion.lesion_id,
                lesion.sop_instance_uid,
                None if lesion.diameter_mm is None else round(lesion.diameter_mm * 10),
            )
            for lesion in read_report(sr)
        ]
        assert got == expected
        study = (BASELINE, FOLLOW_UP)[index].study_uid
        assert sr.StudyInstanceUID == study
    follow_up = pydicom.dcmread(out / names[1])
    assert read_responses(follow_up)["non_target_resp"] == "PD"


def test_csv_and_sr_beside_each_other_in_one_folder(db: str, tmp_path: Path) -> None:
    out = tmp_path / "export"
    assert (
        main(
            [
                "export",
                "--db",
                db,
                "-o",
                str(out),
                "--sr",
                str(out),
                "--images",
                str(SUBJECT_IMAGES),
            ]
        )
        == 0
    )
    names = {p.name for p in out.iterdir()}
    assert {"measurements.csv", "responses.csv", "sr_S01_R1_central_tp1.dcm"} <= names


def test_a_series_that_cannot_be_found_is_named_and_nothing_is_written(
    db: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "export"
    status = main(
        [
            "export",
            "--db",
            db,
            "-o",
            str(out),
            "--sr",
            str(out),
            "--images",
            str(SUBJECT_IMAGES / "BASELINE"),  # the follow-up's series are elsewhere
        ]
    )
    assert status == 1
    error = capsys.readouterr().err
    assert f"series {FOLLOW_UP.series_uid}" in error
    assert f"series {BASELINE.series_uid}" not in error
    assert "nothing was written" in error
    assert not out.exists()


def test_without_images_every_series_is_named(
    db: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert export_sr(db, tmp_path / "sr") == 1
    error = capsys.readouterr().err
    assert BASELINE.series_uid in error
    assert FOLLOW_UP.series_uid in error
    assert "--images" in error
    assert not (tmp_path / "sr").exists()


def test_only_signed_timepoints_get_an_sr(tmp_path: Path) -> None:
    read = stored_read()
    draft = replace(read.timepoints[1], read_status=ReadStatus.DRAFT, signed_at=None)
    url = f"sqlite:///{tmp_path / 'reads.db'}"
    source = tmp_path / "measurements.csv"
    write_measurements(source, [replace(read, timepoints=(read.timepoints[0], draft))])
    assert main(["import", str(source), "--db", url]) == 0
    assert export_sr(url, tmp_path / "sr", "--images", str(SUBJECT_IMAGES)) == 0
    assert [p.name for p in (tmp_path / "sr").iterdir()] == [
        "sr_S01_R1_central_tp0.dcm"
    ]


def test_a_blinded_reads_sr_refers_to_the_archives_uids_and_has_no_identity(
    db: str, tmp_path: Path
) -> None:
    read = stored_read()
    assert read.key.read_type is ReadType.CENTRAL  # a blinded read
    out = tmp_path / "sr"
    assert export_sr(db, out, "--images", str(SUBJECT_IMAGES)) == 0
    (first, _) = sorted(out.iterdir())
    data = first.read_bytes()
    image = next(iter(IMAGES.values()))
    for identity in (image.PatientName, image.PatientID, image.StudyDate):
        assert str(identity).encode() not in data
    assert pydicom.dcmread(first).PatientSex == ""
    t1 = read.observation("T1", 0)
    assert t1 is not None
    # the images are referenced as the archive holds them, not by pseudonyms
    assert read_report(pydicom.dcmread(first))[0].sop_instance_uid == (
        t1.sop_instance_uid
    )


@pytest.mark.skipif(
    shutil.which("dciodvfy") is None,
    reason="dciodvfy (Debian dicom3tools) is not installed",
)
def test_an_exported_sr_passes_dciodvfy(db: str, tmp_path: Path) -> None:
    out = tmp_path / "sr"
    assert export_sr(db, out, "--images", str(SUBJECT_IMAGES)) == 0
    for path in sorted(out.iterdir()):
        result = subprocess.run(
            ["dciodvfy", str(path)],
            capture_output=True,
            text=True,
            check=False,
            timeout=60,
        )
        errors = [
            line for line in result.stderr.splitlines() if line.startswith("Error")
        ]
        assert errors == [], path.name
        assert "Comprehensive3DSR" in result.stderr


def test_neither_o_nor_sr_is_refused(
    db: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["export", "--db", db]) == 2
    assert "-o DIR and/or --sr DIR" in capsys.readouterr().err


def test_read_sr_prints_every_lesion_and_length_of_the_exported_reports(
    db: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "sr"
    assert export_sr(db, out, "--images", str(SUBJECT_IMAGES)) == 0
    capsys.readouterr()
    follow_up = out / "sr_S01_R1_central_tp1.dcm"
    assert main(["read-sr", str(follow_up)]) == 0
    printed = capsys.readouterr().out
    read = stored_read()
    for o in read.observations:
        if o.timepoint_index != 1:
            continue
        line = next(
            x for x in printed.splitlines() if x.startswith(f"  {o.lesion_id} ")
        )
        assert str(o.status) in line
        if o.diameter is not None:
            assert f" {o.diameter / 10:g} mm" in line
    assert "overall_response" in printed
    image = next(iter(IMAGES.values()))
    assert str(image.PatientName) not in printed


def test_read_sr_names_a_file_that_is_not_a_report(
    capsys: pytest.CaptureFixture[str],
) -> None:
    image = next(SUBJECT_IMAGES.rglob("*.dcm"))
    assert main(["read-sr", str(image)]) == 1
    assert f"{image}: not a TID 1500 measurement report" in capsys.readouterr().err


def test_without_images_the_folders_the_series_were_opened_from_are_used(
    db: str, tmp_path: Path
) -> None:
    copy = tmp_path / "study"
    shutil.copytree(SUBJECT_IMAGES, copy)
    remember(scan(copy, use_index=False).series)  # as opening the study does
    assert export_sr(db, tmp_path / "sr") == 0
    assert len(list((tmp_path / "sr").iterdir())) == 2
    places = default_places()
    assert stat.S_IMODE(places.stat().st_mode) == 0o600
    shutil.rmtree(copy / "FU1")  # gone since: named again
    assert export_sr(db, tmp_path / "sr2") == 1
    assert not (tmp_path / "sr2").exists()
