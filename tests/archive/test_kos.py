"""Key images travel beside the SR as a Key Object Selection document."""

import re
import shutil
import subprocess
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pydicom
import pytest

from mrecist_reader.archive.kos import key_object_selection
from mrecist_reader.archive.sr import SRExportError
from mrecist_reader.core.model import KeyImage, Read, ReadType
from tests.archive.test_sr import BASELINE, FOLLOW_UP, IMAGES, sample_read

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
