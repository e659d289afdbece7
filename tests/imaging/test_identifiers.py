"""Images whose UIDs or PatientID are empty (a common anonymisation result).

Empty SOP/Series/Study Instance UIDs get stand-ins made from the files' contents (the
same in every scan), so no image is taken for a gap and every caliper has its image;
images without PatientID are never merged with other patients.
"""

import shutil
from collections.abc import Iterable
from pathlib import Path

import numpy as np
import pydicom
import pytest

from mrecist_reader.imaging.identifiers import (
    NO_PATIENT_PREFIX,
    identifier_note,
)
from mrecist_reader.imaging.load import load_volume
from mrecist_reader.imaging.scan import scan
from mrecist_reader.imaging.volume import SeriesInfo
from mrecist_reader.imaging.worklist import build_worklist
from tests.kit.dicom import SeriesSpec, rewrite, set_elements, write_series

IDENTIFIERS = ("SOPInstanceUID", "SeriesInstanceUID", "StudyInstanceUID", "PatientID")


def _blank(paths: Iterable[Path], keywords: Iterable[str] = IDENTIFIERS) -> None:
    """Set ``keywords`` to empty strings in each file (file meta's SOP UID too)."""

    def blank(dataset: pydicom.Dataset) -> None:
        set_elements(**dict.fromkeys(keywords, ""))(dataset)
        if "SOPInstanceUID" in keywords:
            dataset.file_meta.MediaStorageSOPInstanceUID = pydicom.uid.UID("")

    rewrite(paths, blank)


def _copy_blanked(source: Path, target: Path, pattern: str = "*.dcm") -> list[Path]:
    target.mkdir(parents=True)
    copies = [Path(shutil.copy(f, target)) for f in sorted(source.glob(pattern))]
    _blank(copies)
    return copies


def _assert_every_image_named(series: SeriesInfo) -> None:
    uids = series.sop_instance_uids
    assert all(uids), uids
    assert len(set(uids)) == len(uids)
    assert series.series_instance_uid
    assert series.study_instance_uid
    assert not series.gap_slices
    assert all(series.slice_sop_instance_uids)


# --- synthetic files ------------------------------------------------------------------


def test_empty_uids_get_stand_ins_and_no_image_is_a_gap(tmp_path: Path) -> None:
    write_series(tmp_path / "ct", SeriesSpec(n_slices=6))
    _blank((tmp_path / "ct").glob("*.dcm"))
    (series,) = scan(tmp_path).series
    _assert_every_image_named(series)
    assert series.n_images == 6
    assert set(series.substituted_identifiers) == set(IDENTIFIERS)
    assert any("stand-in identifiers" in w for w in series.warnings)
    assert any(w.startswith("no PatientID") for w in series.warnings)
    note = identifier_note(series)
    assert "SOP Instance UID" in note
    assert "PatientID" in note
    volume = load_volume(series)
    assert volume.sop_instance_uids == series.sop_instance_uids
    assert all(volume.sop_instance_uids)


def test_stand_ins_are_the_same_in_every_scan_and_after_a_move(tmp_path: Path) -> None:
    write_series(tmp_path / "first" / "ct", SeriesSpec(n_slices=4))
    _blank((tmp_path / "first" / "ct").glob("*.dcm"))
    shutil.copytree(tmp_path / "first", tmp_path / "moved" / "elsewhere")
    (one,) = scan(tmp_path / "first").series
    (again,) = scan(tmp_path / "first").series
    (moved,) = scan(tmp_path / "moved").series
    assert one.sop_instance_uids == again.sop_instance_uids == moved.sop_instance_uids
    assert one.series_instance_uid == moved.series_instance_uid
    assert one.study_instance_uid == moved.study_instance_uid
    assert pydicom.uid.UID(one.series_instance_uid).is_valid


def test_a_real_gap_is_still_a_gap_when_uids_are_empty(tmp_path: Path) -> None:
    spec = SeriesSpec(n_slices=4, offsets=[0.0, 2.5, 7.5, 10.0])
    write_series(tmp_path / "ct", spec)
    _blank((tmp_path / "ct").glob("*.dcm"))
    (series,) = scan(tmp_path).series
    assert series.n_slices == 5
    assert series.gap_slices == frozenset({2})
    assert [bool(u) for u in series.slice_sop_instance_uids] == [
        True,
        True,
        False,
        True,
        True,
    ]


def test_patients_without_patient_id_are_never_merged(tmp_path: Path) -> None:
    for z, name in enumerate(("alpha", "beta")):
        spec = SeriesSpec(n_slices=3, origin=(0.0, 0.0, 100.0 * z))
        write_series(tmp_path / name, spec)
        _blank((tmp_path / name).glob("*.dcm"))
    subjects = build_worklist(scan(tmp_path).series)
    assert [s.subject_id for s in subjects] == [
        NO_PATIENT_PREFIX + "alpha",
        NO_PATIENT_PREFIX + "beta",
    ]
    assert all(len(s.timepoints) == 1 for s in subjects)


def test_no_patient_id_studies_with_uids_are_separate_subjects(tmp_path: Path) -> None:
    # only PatientID is empty: the real study UIDs keep the two patients apart
    for name in ("p1", "p2"):
        paths = write_series(tmp_path / name, SeriesSpec(n_slices=3))
        _blank(paths, ["PatientID"])
    subjects = build_worklist(scan(tmp_path).series)
    assert len(subjects) == 2
    assert {len(s.timepoints) for s in subjects} == {1}
    series = [x for s in subjects for x in s.timepoints[0].series]
    assert all(s.substituted_identifiers == ("PatientID",) for s in series)


def test_one_study_without_patient_id_stays_one_subject(tmp_path: Path) -> None:
    study = pydicom.uid.generate_uid()
    for name, description in (("art", "LIVER ARTERIAL"), ("pv", "LIVER PORTAL")):
        paths = write_series(
            tmp_path / "study7" / name,
            SeriesSpec(n_slices=3, study_uid=study, description=description),
        )
        _blank(paths, ["PatientID"])
    (subject,) = build_worklist(scan(tmp_path).series)
    assert subject.subject_id == NO_PATIENT_PREFIX + "study7"
    (timepoint,) = subject.timepoints
    assert len(timepoint.series) == 2


def test_same_folder_names_give_distinct_subjects(tmp_path: Path) -> None:
    for z, parent in enumerate(("site1", "site2")):
        spec = SeriesSpec(n_slices=3, origin=(0.0, 0.0, 100.0 * z))
        write_series(tmp_path / parent / "CT", spec)
        _blank((tmp_path / parent / "CT").glob("*.dcm"))
    subjects = build_worklist(scan(tmp_path).series)
    names = [s.subject_id for s in subjects]
    assert len(set(names)) == 2
    assert all(n.startswith(NO_PATIENT_PREFIX + "CT #") for n in names)


def test_one_patient_without_study_uid_is_one_timepoint(tmp_path: Path) -> None:
    # PatientID kept; the two series of one study (same date and time) lie in two
    # folders and lost their Study Instance UID: one study, not a follow-up
    for name in ("art", "pv"):
        paths = write_series(tmp_path / name, SeriesSpec(n_slices=3))
        _blank(paths, ["StudyInstanceUID"])
    (subject,) = build_worklist(scan(tmp_path).series)
    assert subject.subject_id.startswith("patient-")
    (timepoint,) = subject.timepoints
    assert len(timepoint.series) == 2


def test_zip_member_folder_names_the_subject(tmp_path: Path) -> None:
    paths = write_series(tmp_path / "src", SeriesSpec(n_slices=3))
    _blank(paths)
    archive = tmp_path / "export.zip"
    shutil.make_archive(str(archive.with_suffix("")), "zip", tmp_path / "src")
    (series,) = scan(archive, cache_dir=tmp_path / "cache").series
    assert series.subject_id == NO_PATIENT_PREFIX + "export.zip"
    _assert_every_image_named(series)


# --- real files (../shared/dicom_samples) ---------------------------------------------


@pytest.mark.shared
def test_real_abdominal_ct_with_empty_identifiers(
    shared_samples: Path, tmp_path: Path
) -> None:
    liver = _copy_blanked(shared_samples / "dcmqi_ct-3slice", tmp_path / "liver")
    body = _copy_blanked(
        shared_samples / "dicom-numpy_dupe-positions", tmp_path / "body", "CT*.dcm"
    )
    assert (len(liver), len(body)) == (3, 11)
    result = scan(tmp_path)
    assert not result.skipped
    by_folder = {s.files[0].parent.name: s for s in result.series}
    assert set(by_folder) == {"liver", "body"}
    for series in result.series:
        _assert_every_image_named(series)
        assert any("stand-in identifiers" in w for w in series.warnings)
    # the two real patients are two subjects, each with one timepoint
    subjects = build_worklist(result.series)
    assert [s.subject_id for s in subjects] == [
        NO_PATIENT_PREFIX + "body",
        NO_PATIENT_PREFIX + "liver",
    ]
    assert all(len(s.timepoints) == 1 for s in subjects)
    volume = load_volume(by_folder["liver"])
    assert volume.shape == (3, 512, 512)
    assert all(volume.sop_instance_uids)
    reference = pydicom.dcmread(shared_samples / "dcmqi_ct-3slice" / "01.dcm")
    assert np.isclose(volume.array.max(), reference.pixel_array.max() * float(reference.RescaleSlope) + float(reference.RescaleIntercept))  # fmt: skip


@pytest.mark.shared
def test_real_files_without_patient_id_are_not_one_subject(
    shared_samples: Path, tmp_path: Path
) -> None:
    # real pydicom test images without PatientID (and without Study/Series UIDs)
    folder = shared_samples / "pydicom" / "test_files"
    for name in (
        "JPEGLSNearLossless_08.dcm",
        "SC_rgb_jpeg_dcmd.dcm",
        "ExplVR_BigEnd.dcm",
    ):
        target = tmp_path / name.removesuffix(".dcm")
        target.mkdir()
        shutil.copy(folder / name, target)
    subjects = build_worklist(scan(tmp_path).series)
    assert len(subjects) == 3
    assert all(s.subject_id.startswith(NO_PATIENT_PREFIX) for s in subjects)


def test_different_images_sharing_one_sop_uid_are_all_kept(tmp_path: Path) -> None:
    # an anonymiser that wrote one constant SOP Instance UID into every file
    paths = write_series(tmp_path / "ct", SeriesSpec(n_slices=4))

    def one_uid(dataset: pydicom.Dataset) -> None:
        dataset.SOPInstanceUID = "1.2.3.4"
        dataset.file_meta.MediaStorageSOPInstanceUID = pydicom.uid.UID("1.2.3.4")

    rewrite(paths, one_uid)
    copy = tmp_path / "again" / "copy.dcm"
    copy.parent.mkdir()
    shutil.copy(paths[0], copy)  # an exact copy is still one image
    (series,) = scan(tmp_path).series
    assert series.n_images == 4
    _assert_every_image_named(series)
    assert "SOPInstanceUID (shared)" in series.substituted_identifiers
    assert any("same SOP Instance UID" in w for w in series.warnings)
    assert any("1 duplicate copy" in w for w in series.warnings)
    assert load_volume(series).shape == (4, 32, 32)


def test_one_image_saved_twice_is_still_one_image(tmp_path: Path) -> None:
    # the same SOP instance in two transfer syntaxes: one image, not two at one place
    paths = write_series(tmp_path / "ct", SeriesSpec(n_slices=3))
    dataset = pydicom.dcmread(paths[0])
    dataset.compress(pydicom.uid.RLELossless, generate_instance_uid=False)
    (tmp_path / "rle").mkdir()
    dataset.save_as(tmp_path / "rle" / "first.dcm")
    (series,) = scan(tmp_path).series
    assert series.n_images == 3
    assert series.substituted_identifiers == ()
