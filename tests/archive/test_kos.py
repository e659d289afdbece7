"""Key images travel beside the SR as a Key Object Selection document."""

import re
import shutil
import subprocess
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pydicom
import pytest

from mrecist_reader.archive.dicomweb import DicomwebArchive
from mrecist_reader.archive.dimse import DimseArchive
from mrecist_reader.archive.kos import key_object_selection
from mrecist_reader.archive.nodes import DicomwebNode, DimseNode
from mrecist_reader.archive.sr import SRExportError, measurement_report
from mrecist_reader.core.model import KeyImage, Read, ReadType
from mrecist_reader.imaging.scan import scan
from mrecist_reader.imaging.volume import SeriesInfo
from tests.archive import orthanc as o
from tests.archive.orthanc import Orthanc
from tests.archive.test_sign_off_archive import FakeArchive, archiver, signed_through
from tests.archive.test_sr import BASELINE, FOLLOW_UP, IMAGES, sample_read
from tests.conftest import SAMPLE_DICOM

MARKED = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


def key(series_uid: str, sop_uid: str, lesion: str, timepoint: int = 0) -> KeyImage:
    return KeyImage(timepoint, lesion, series_uid, sop_uid, 0, MARKED)


def with_keys(read: Read, *keys: KeyImage) -> Read:
    return replace(read, key_images=keys)


def baseline_keys() -> tuple[KeyImage, ...]:
    slices = sorted(BASELINE.files)
    return (
        key(BASELINE.series_uid, slices[12], "T1"),
        key(BASELINE.series_uid, slices[8], "T2"),
        key(BASELINE.series_uid, slices[12], "NT1"),  # the same image twice
    )


def test_a_timepoints_key_images_are_referenced_once_each() -> None:
    read = with_keys(
        sample_read(), *baseline_keys(), key(FOLLOW_UP.series_uid, "1.2.3", "T1", 1)
    )
    document = key_object_selection(read, 0, IMAGES)
    assert document is not None
    referenced = {
        str(item.ReferencedSOPSequence[0].ReferencedSOPInstanceUID)
        for item in document.ContentSequence
        if item.ValueType == "IMAGE"
    }
    slices = sorted(BASELINE.files)
    assert referenced == {slices[12], slices[8]}
    assert document.ConceptNameCodeSequence[0].CodeValue == "113000"  # Of Interest
    assert document.StudyInstanceUID == IMAGES[slices[12]].StudyInstanceUID
    texts = [
        str(i.TextValue) for i in document.ContentSequence if i.ValueType == "TEXT"
    ]
    assert texts == ["mRECIST key images: NT1, T1, T2"]
    assert document.SeriesDescription == "mRECIST key images BASELINE reader R1"


def test_no_key_images_no_document_and_an_unsigned_or_unknown_one_is_refused() -> None:
    assert key_object_selection(sample_read(), 0, IMAGES) is None
    draft = with_keys(sample_read(signed=False), *baseline_keys())
    with pytest.raises(SRExportError, match="only a signed timepoint"):
        key_object_selection(draft, 0, IMAGES)
    lost = with_keys(sample_read(), key("9.9.9", "9.9.9.1", "T1"))
    with pytest.raises(
        SRExportError, match=re.escape("key images not found in series 9.9.9")
    ):
        key_object_selection(lost, 0, IMAGES)


def test_a_blinded_reads_document_carries_no_identity() -> None:
    read = with_keys(sample_read(), *baseline_keys())
    central = replace(read, key=replace(read.key, read_type=ReadType.CENTRAL))
    document = key_object_selection(central, 0, IMAGES)
    assert document is not None
    image = IMAGES[sorted(BASELINE.files)[12]]
    assert image.StudyDate
    assert document.PatientID == central.key.subject_id != image.PatientID
    assert str(document.PatientName) == f"{central.key.subject_id}^"
    assert document.StudyDate == ""


@pytest.mark.skipif(
    shutil.which("dciodvfy") is None,
    reason="dciodvfy (Debian dicom3tools) is not installed",
)
def test_the_document_passes_dciodvfy_without_errors(tmp_path: Path) -> None:
    document = key_object_selection(
        with_keys(sample_read(), *baseline_keys()), 0, IMAGES
    )
    assert document is not None
    path = tmp_path / "kos.dcm"
    document.save_as(path, enforce_file_format=True)
    assert pydicom.dcmread(path).Modality == "KO"
    result = subprocess.run(
        ["dciodvfy", str(path)], capture_output=True, text=True, check=False, timeout=60
    )
    errors = [line for line in result.stderr.splitlines() if line.startswith("Error")]
    assert errors == []
    assert "KeyObjectSelectionDocument" in result.stderr


@pytest.fixture(scope="module")
def series() -> tuple[SeriesInfo, ...]:
    return scan(SAMPLE_DICOM / "S01", use_index=False).series


def test_sign_off_queues_the_key_images_beside_the_sr(
    tmp_path: Path, series: tuple[SeriesInfo, ...]
) -> None:
    archive = FakeArchive()
    hook = archiver(tmp_path, archive)
    follow_up = sorted(FOLLOW_UP.files)[12]
    read = with_keys(sample_read(), key(FOLLOW_UP.series_uid, follow_up, "T1", 1))
    hook.read_changed(signed_through(read, 0), series)
    queued = hook.read_changed(read, series)  # FU1 just signed
    assert sorted(pydicom.dcmread(p).Modality for p in queued) == ["KO", "SR"]
    assert hook.status.problem == ""
    assert hook.send_now() is not None
    kinds = {str(d.Modality): d for d in archive.stored}
    assert set(kinds) == {"SR", "KO"}
    evidence = kinds["KO"].CurrentRequestedProcedureEvidenceSequence[0]
    image = evidence.ReferencedSeriesSequence[0].ReferencedSOPSequence[0]
    assert image.ReferencedSOPInstanceUID == follow_up


def test_key_images_not_found_are_said_and_the_sr_goes_anyway(
    tmp_path: Path, series: tuple[SeriesInfo, ...]
) -> None:
    hook = archiver(tmp_path, FakeArchive())
    read = with_keys(sample_read(), key("9.9.9", "9.9.9.1", "T1", 1))
    hook.read_changed(signed_through(read, 0), series)
    queued = hook.read_changed(read, series)
    assert [pydicom.dcmread(p).Modality for p in queued] == ["SR"]
    assert "key images not queued" in hook.status.text()
    assert "9.9.9" in hook.status.text()


@pytest.mark.orthanc
@pytest.mark.parametrize("protocol", ["dicomweb", "dimse"])
def test_orthanc_takes_the_document(orthanc: Orthanc, protocol: str) -> None:
    document = key_object_selection(
        with_keys(sample_read(), *baseline_keys()), 0, IMAGES
    )
    assert document is not None
    client = (
        DicomwebArchive(
            DicomwebNode(
                orthanc.dicomweb_url, username=o.USER, password=o.PASSWORD, attempts=1
            )
        )
        if protocol == "dicomweb"
        else DimseArchive(
            DimseNode(o.ARCHIVE_AET, "127.0.0.1", o.DICOM_PORT, our_ae_title=o.OUR_AET)
        )
    )
    orthanc.in_namespace(lambda: client.store(document))
    uid = str(document.SOPInstanceUID)
    found = orthanc.rest("POST", "/tools/lookup", uid.encode())
    assert isinstance(found, list)
    assert [item["Type"] for item in found] == ["Instance"]
    for item in found:
        orthanc.rest("DELETE", f"/instances/{item['ID']}")


def test_blinding_a_document_leaves_the_images_headers_as_they_were() -> None:
    image = IMAGES[sorted(BASELINE.files)[12]]
    before = (str(image.PatientName), str(image.PatientID), str(image.StudyDate))
    read = with_keys(sample_read(), *baseline_keys())
    central = replace(read, key=replace(read.key, read_type=ReadType.CENTRAL))
    for _ in range(2):
        assert key_object_selection(central, 0, IMAGES) is not None
        assert measurement_report(central, 0, IMAGES, blinded=True) is not None
    assert (str(image.PatientName), str(image.PatientID), str(image.StudyDate)) == (
        before
    )
