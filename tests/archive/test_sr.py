"""DICOM SR TID 1500 of a signed timepoint: contents, round trip, validators, archive."""

import io
import math
import shutil
import subprocess
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pydicom
import pytest
from pydicom.dataset import Dataset

from mrecist_reader.archive.dicomweb import DicomwebArchive
from mrecist_reader.archive.dimse import DimseArchive
from mrecist_reader.archive.nodes import DicomwebNode, DimseNode
from mrecist_reader.archive.sr import (
    SRExportError,
    caliper_in_patient_mm,
    image_headers,
    lesions_and_observations,
    measurement_report,
    read_report,
    read_responses,
    tracking_uid,
    write_reports,
)
from mrecist_reader.core.assess import assess
from mrecist_reader.core.model import (
    Caliper,
    Organ,
    PointMm,
    Read,
    ReadStatus,
)
from mrecist_reader.resources import load_profile
from tests.archive import orthanc as o
from tests.archive.orthanc import Orthanc
from tests.archive.samples import SampleSeries, sample_series
from tests.kit.reads import Detail, build_read

BASELINE, FOLLOW_UP = sample_series("S01/BASELINE/ART"), sample_series("S01/FU1/ART")
SIGNED_AT = datetime(2026, 1, 5, 10, 0, tzinfo=UTC)


def headers(files: dict[str, Path]) -> dict[str, Dataset]:
    return {
        uid: pydicom.dcmread(path, stop_before_pixels=True)
        for uid, path in files.items()
    }


IMAGES = headers(BASELINE.files) | headers(FOLLOW_UP.files)


def at_pixel(image: Dataset, column: float, row: float) -> PointMm:
    """Return the patient position (mm) of image coordinates (column, row)."""
    position = [float(v) for v in image.ImagePositionPatient]
    orientation = [float(v) for v in image.ImageOrientationPatient]
    row_spacing, column_spacing = (float(v) for v in image.PixelSpacing)
    # image coordinates: (0, 0) is the top left corner of the top left pixel
    c, r = column - 0.5, row - 0.5
    x, y, z = (
        position[i]
        + c * column_spacing * orientation[i]
        + r * row_spacing * orientation[3 + i]
        for i in range(3)
    )
    return (x, y, z)


def caliper_on(
    sop_uid: str, start: tuple[float, float], end: tuple[float, float]
) -> Caliper:
    image = IMAGES[sop_uid]
    return Caliper(at_pixel(image, *start), at_pixel(image, *end))


def on_slice(
    series: SampleSeries,
    slice_number: int,
    caliper: tuple[tuple[float, float], tuple[float, float]] | None = None,
) -> Detail:
    """Return an observation's detail on one slice of ``series`` (a caliper in pixels)."""
    sop_uid = sorted(series.files)[slice_number]
    drawn = caliper_on(sop_uid, *caliper) if caliper is not None else None
    return Detail(drawn, series.series_uid, sop_uid)


def mm(detail: Detail) -> float:
    """Return the length of a detail's caliper in millimetres."""
    assert detail.caliper is not None
    return detail.caliper.length() / 10


def sample_read(*, signed: bool = True) -> Read:
    t1_baseline = on_slice(BASELINE, 12, ((30.25, 40.5), (90.75, 52.0)))
    t2_baseline = on_slice(BASELINE, 8, ((100.0, 100.0), (100.0, 131.5)))
    t1_follow_up = on_slice(FOLLOW_UP, 12, ((35.0, 42.0), (80.0, 50.0)))
    return build_read(
        {
            "T1": [mm(t1_baseline), mm(t1_follow_up)],
            "T2": [mm(t2_baseline), "too_small"],
        },
        non_targets={"NT1": ["present", "progression"]},
        new={"N1": [None, "equivocal"]},
        organs={"NT1": Organ.PORTAL_VEIN, "N1": Organ.LUNG},
        locations={"T1": "segment VIII", "T2": "segment II"},
        details={
            ("T1", 0): t1_baseline,
            ("T2", 0): t2_baseline,
            ("NT1", 0): on_slice(BASELINE, 10),
            ("T1", 1): t1_follow_up,
            ("T2", 1): on_slice(FOLLOW_UP, 8),
            ("NT1", 1): on_slice(FOLLOW_UP, 10),
            ("N1", 1): on_slice(FOLLOW_UP, 14),
        },
        signed=2 if signed else 0,
        signed_at=SIGNED_AT,
    )


def written(sr: Dataset) -> Dataset:
    """Return the SR as a file would give it back."""
    buffer = io.BytesIO()
    sr.save_as(buffer, enforce_file_format=True)
    return pydicom.dcmread(io.BytesIO(buffer.getvalue()))


def test_every_lesion_and_length_comes_back_from_the_sr() -> None:
    read = sample_read()
    lesions = read_report(written(measurement_report(read, 1, IMAGES)))
    expected = [
        (o.lesion_id, str(o.status), None if o.diameter is None else o.diameter / 10)
        for o in read.observations
        if o.timepoint_index == 1
    ]
    assert [
        (lesion.lesion_id, lesion.status, lesion.diameter_mm) for lesion in lesions
    ] == expected
    assert [lesion.lesion_type for lesion in lesions] == [
        "target",
        "target",
        "non_target",
        "new",
    ]


def test_the_caliper_comes_back_on_its_image_in_patient_mm() -> None:
    read = sample_read()
    (t1, *_) = read_report(written(measurement_report(read, 0, IMAGES)))
    original = read.observation("T1", 0)
    assert original is not None
    assert original.caliper is not None
    assert t1.sop_instance_uid == original.sop_instance_uid
    back = caliper_in_patient_mm(t1, IMAGES[t1.sop_instance_uid])
    for got, want in zip(
        back, (original.caliper.p1_mm, original.caliper.p2_mm), strict=True
    ):
        assert math.dist(got, want) < 0.01


def test_the_sr_gives_back_the_reads_lesions_and_observations() -> None:
    read = sample_read()
    sr = written(measurement_report(read, 1, IMAGES))
    lesions, observations = lesions_and_observations(sr, 1, IMAGES)
    assert lesions == tuple(replace(lesion, location="") for lesion in read.lesions)
    originals = [o for o in read.observations if o.timepoint_index == 1]
    for got, want in zip(observations, originals, strict=True):
        assert (got.lesion_id, got.status, got.diameter) == (
            want.lesion_id,
            want.status,
            want.diameter,
        )
        assert got.sop_instance_uid == (want.sop_instance_uid if want.caliper else "")
        if want.caliper is not None:
            assert got.caliper is not None
            assert math.dist(got.caliper.p1_mm, want.caliper.p1_mm) < 0.01


def test_a_lesion_keeps_its_tracking_uid_across_timepoints() -> None:
    read = sample_read()
    baseline, follow_up = (
        read_report(written(measurement_report(read, i, IMAGES))) for i in (0, 1)
    )
    uids = {lesion.lesion_id: lesion.tracking_uid for lesion in baseline}
    assert all(
        uids[lesion.lesion_id] == lesion.tracking_uid
        for lesion in follow_up
        if lesion.lesion_id in uids
    )
    assert uids["T1"] == tracking_uid(read, "T1") != uids["T2"]


def test_one_sr_per_timepoint_in_that_timepoints_study() -> None:
    read = sample_read()
    baseline, follow_up = (measurement_report(read, i, IMAGES) for i in (0, 1))
    assert (baseline.StudyInstanceUID, follow_up.StudyInstanceUID) == (
        BASELINE.study_uid,
        FOLLOW_UP.study_uid,
    )
    assert baseline.SOPInstanceUID != follow_up.SOPInstanceUID


def test_a_blinded_read_sr_carries_no_identity_from_the_images() -> None:
    image = next(iter(IMAGES.values()))
    buffer = io.BytesIO()
    measurement_report(sample_read(), 0, IMAGES).save_as(
        buffer, enforce_file_format=True
    )
    data = buffer.getvalue()
    for identity in (
        image.PatientName,
        image.PatientID,
        image.AccessionNumber,
        image.StudyDate,
    ):
        assert str(identity).encode() not in data
    back = pydicom.dcmread(io.BytesIO(data))
    assert (back.PatientID, back.ClinicalTrialSubjectID) == ("S01", "S01")


def test_the_timepoint_responses_come_back_from_the_sr() -> None:
    read = sample_read()
    assessment = assess(read, load_profile("nct06779461")).timepoints[1]
    sr = written(measurement_report(read, 1, IMAGES, responses=assessment))
    assert read_responses(sr) == {
        "target_response": str(assessment.target_response),
        "non_target_resp": str(assessment.non_target_response),
        "new_lesions": str(assessment.new_lesions),
        "overall_response": str(assessment.overall_response),
    }
    assert read_responses(sr)["non_target_resp"] == "PD"  # NT1 progressed
    assert len(read_report(sr)) == 4  # the container is not a lesion


def test_an_unsigned_timepoint_gets_no_sr() -> None:
    with pytest.raises(SRExportError, match="only a signed timepoint gets an SR"):
        measurement_report(sample_read(signed=False), 0, IMAGES)


def test_an_image_that_cannot_be_found_is_named() -> None:
    read = sample_read()
    t1 = read.observation("T1", 0)
    assert t1 is not None
    images = {uid: ds for uid, ds in IMAGES.items() if uid != t1.sop_instance_uid}
    with pytest.raises(
        SRExportError, match=f"series {BASELINE.series_uid} image {t1.sop_instance_uid}"
    ):
        measurement_report(read, 0, images)


def test_a_caliper_off_its_image_plane_is_refused() -> None:
    read = sample_read()
    t1 = read.observation("T1", 0)
    assert t1 is not None
    assert t1.caliper is not None
    moved = Caliper(
        t1.caliper.p1_mm,
        (t1.caliper.p2_mm[0], t1.caliper.p2_mm[1], t1.caliper.p2_mm[2] + 5),
    )
    others = tuple(o for o in read.observations if o is not t1)
    shifted = replace(read, observations=(replace(t1, caliper=moved), *others))
    with pytest.raises(SRExportError, match="off the plane of image"):
        measurement_report(shifted, 0, IMAGES)


def test_every_signed_timepoint_gets_one_file_and_a_draft_none(tmp_path: Path) -> None:
    read = sample_read()
    draft = replace(read.timepoints[1], read_status=ReadStatus.DRAFT)
    read = replace(read, timepoints=(read.timepoints[0], draft))
    images = image_headers([*BASELINE.files.values(), *FOLLOW_UP.files.values()])
    written_files = write_reports(read, images, tmp_path / "sr")
    assert [path.name for path in written_files] == ["sr_S01_R1_tp0.dcm"]
    assert sorted(p.name for p in (tmp_path / "sr").iterdir()) == ["sr_S01_R1_tp0.dcm"]
    assert read_report(pydicom.dcmread(written_files[0]))[0].lesion_id == "T1"


def test_a_missing_image_writes_no_sr_at_all(tmp_path: Path) -> None:
    images = image_headers(BASELINE.files.values())  # the follow-up's are missing
    with pytest.raises(SRExportError, match=f"series {FOLLOW_UP.series_uid}"):
        write_reports(sample_read(), images, tmp_path / "sr")
    assert not (tmp_path / "sr").exists()


@pytest.fixture
def sr_file(tmp_path: Path) -> Path:
    path = tmp_path / "sr.dcm"
    read = sample_read()
    assessment = assess(read, load_profile("nct06779461")).timepoints[1]
    report = measurement_report(read, 1, IMAGES, responses=assessment)
    report.save_as(path, enforce_file_format=True)
    return path


@pytest.mark.skipif(
    shutil.which("dciodvfy") is None,
    reason="dciodvfy (Debian dicom3tools) is not installed",
)
def test_the_sr_passes_dciodvfy_without_errors(sr_file: Path) -> None:
    result = subprocess.run(
        ["dciodvfy", str(sr_file)],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    errors = [line for line in result.stderr.splitlines() if line.startswith("Error")]
    assert errors == []
    assert "Comprehensive3DSR" in result.stderr  # it recognised the IOD


@pytest.mark.skipif(
    shutil.which("dsrdump") is None, reason="dsrdump (Debian dcmtk) is not installed"
)
def test_dsrdump_prints_the_lesion_tree(sr_file: Path) -> None:
    result = subprocess.run(
        ["dsrdump", str(sr_file)],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    assert "Imaging Measurement Report" in result.stdout
    assert '"T1"' in result.stdout
    assert '"Long axis"' in result.stdout


@pytest.mark.orthanc
@pytest.mark.parametrize("protocol", ["dimse", "dicomweb"])
def test_the_sr_is_stored_in_the_archive_and_read_back(
    orthanc: Orthanc, protocol: str
) -> None:
    sr = written(measurement_report(sample_read(), 0, IMAGES))
    dicomweb = DicomwebArchive(
        DicomwebNode(
            orthanc.dicomweb_url, username=o.USER, password=o.PASSWORD, attempts=1
        )
    )
    sender = (
        dicomweb
        if protocol == "dicomweb"
        else DimseArchive(
            DimseNode(o.ARCHIVE_AET, "127.0.0.1", o.DICOM_PORT, our_ae_title=o.OUR_AET)
        )
    )
    orthanc.in_namespace(lambda: sender.store(sr))
    back = orthanc.in_namespace(
        lambda: dicomweb.client.retrieve_instance(
            sr.StudyInstanceUID, sr.SeriesInstanceUID, sr.SOPInstanceUID
        )
    )
    assert read_report(back) == read_report(sr)
