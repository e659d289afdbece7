"""scan(): grouping, ordering by position, warnings, junk files, zip and DICOMDIR."""

import zipfile
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pydicom
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydicom.uid import ExplicitVRLittleEndian, RLELossless, generate_uid

from mrecist_reader.imaging import scan as scan_module
from mrecist_reader.imaging.load import VolumeLoadError, load_volume
from mrecist_reader.imaging.scan import scan
from mrecist_reader.imaging.volume import Phase, SeriesInfo, pseudonymous_subject_id
from tests.kit.dicom import (
    AXIAL,
    CORONAL,
    SAGITTAL,
    SeriesSpec,
    new_dataset,
    oblique_orientation,
    save,
    write_dicomdir,
    write_series,
)


def _only(result: scan_module.ScanResult) -> SeriesInfo:
    assert len(result.series) == 1, [s.stack_label for s in result.series]
    return result.series[0]


def test_slices_are_ordered_by_position_not_by_file_name_or_instance_number(
    tmp_path: Path,
) -> None:
    paths = write_series(tmp_path, SeriesSpec(slice_step=-2.5))
    series = _only(scan(tmp_path, cache_dir=tmp_path / "cache"))
    expected = list(reversed(paths))  # the step is negative: last written is lowest
    assert list(series.files) == expected
    assert series.sop_instance_uids == tuple(
        pydicom.dcmread(p, stop_before_pixels=True).SOPInstanceUID for p in expected
    )
    assert series.slice_spacing_mm == pytest.approx(2.5)
    assert series.pixel_spacing_mm == (0.7, 0.9)
    assert series.warnings == ()
    assert series.frames == (0,) * 10


def test_series_fields_come_from_the_headers(tmp_path: Path) -> None:
    extra: dict[str, object] = {
        "ClinicalTrialSubjectID": "S07",
        "ClinicalTrialTimePointID": "FU1",
        "ClinicalTrialProtocolID": "NCT06779461",
        "ClinicalTrialSiteID": "SITE3",
        "InstitutionName": "General Hospital",
    }
    write_series(tmp_path, SeriesSpec(extra=extra))
    series = _only(scan(tmp_path))
    assert series.subject_id == "S07"
    assert series.timepoint_label == "FU1"
    assert series.trial_protocol_id == "NCT06779461"
    assert series.trial_site_id == "SITE3"
    assert series.acquisition_seconds == 10 * 3600 + 15 * 60
    assert series.identity.patient_id == "P-SECRET"
    assert series.identity.institution == "General Hospital"
    assert series.identity.study_date is not None
    assert series.phase is Phase.ARTERIAL
    assert series.modality == "CT"
    assert series.transfer_syntaxes == (ExplicitVRLittleEndian,)


def test_without_a_trial_subject_id_the_patient_id_is_replaced_by_a_pseudonym(
    tmp_path: Path,
) -> None:
    """A PatientID (a hospital number) must not reach the screen, database or CSV."""
    write_series(tmp_path / "a")
    write_series(tmp_path / "b", SeriesSpec(extra={"PatientID": "P-OTHER"}))
    subjects = sorted(s.subject_id for s in scan(tmp_path).series)
    assert subjects == sorted(
        [pseudonymous_subject_id("P-SECRET"), pseudonymous_subject_id("P-OTHER")]
    )
    assert all(s.startswith("patient-") and "SECRET" not in s for s in subjects)
    # the code never changes between versions: reads already saved keep their subject
    assert _only(scan(tmp_path / "a")).subject_id == "patient-3c080a4c"


def test_oblique_series_keeps_orientation_and_first_position(tmp_path: Path) -> None:
    orientation = oblique_orientation()
    spec = SeriesSpec(orientation=orientation, pixel_spacing=(0.6, 1.1), slice_step=3.0)
    write_series(tmp_path, spec)
    series = _only(scan(tmp_path))
    assert series.image_orientation == pytest.approx(orientation, abs=1e-7)
    assert series.first_position_mm == pytest.approx(spec.origin, abs=1e-5)
    assert series.slice_spacing_mm == pytest.approx(3.0)
    assert series.stack_label == ""


def test_gap_in_positions_is_reported_as_missing_slices(tmp_path: Path) -> None:
    offsets = [0.0, 2.5, 5.0, 10.0, 12.5, 15.0]
    write_series(tmp_path, SeriesSpec(n_slices=6, offsets=offsets))
    series = _only(scan(tmp_path))
    assert series.slice_spacing_mm == pytest.approx(2.5)
    assert any("missing slices" in w for w in series.warnings)


def test_irregular_steps_are_reported_as_non_uniform_spacing(tmp_path: Path) -> None:
    write_series(tmp_path, SeriesSpec(n_slices=5, offsets=[0.0, 1.0, 3.5, 4.2, 8.0]))
    (warning,) = _only(scan(tmp_path)).warnings
    assert warning.startswith("non-uniform slice spacing: steps 0.70-3.80 mm")


def test_tilted_stack_is_reported(tmp_path: Path) -> None:
    write_series(tmp_path, SeriesSpec(tilt_mm_per_slice=0.8, slice_step=2.5))
    (warning,) = _only(scan(tmp_path)).warnings
    assert warning.startswith("gantry tilt 17.7 deg")


def test_repeated_positions_make_a_4d_warning(tmp_path: Path) -> None:
    uid = generate_uid()
    write_series(tmp_path / "t0", SeriesSpec(n_slices=4, series_uid=uid))
    write_series(tmp_path / "t1", SeriesSpec(n_slices=4, series_uid=uid), seed=3)
    series = _only(scan(tmp_path))
    assert series.n_images == 8
    assert any(
        w.startswith("4-D series: 2 images at each of 4 positions")
        for w in series.warnings
    )


def test_renaming_the_files_never_reorders_images_at_one_position(
    tmp_path: Path,
) -> None:
    uid = generate_uid()
    write_series(tmp_path / "t0", SeriesSpec(n_slices=4, series_uid=uid))
    write_series(tmp_path / "t1", SeriesSpec(n_slices=4, series_uid=uid), seed=3)
    before = _only(scan(tmp_path)).sop_instance_uids
    files = sorted(p for p in tmp_path.rglob("*") if p.is_file())
    for number, path in enumerate(reversed(files)):
        path.rename(path.parent.parent / f"{number:03d}.dcm")  # reversed name order
    after = _only(scan(tmp_path)).sop_instance_uids
    assert after == before


def test_localizer_and_other_orientations_and_sizes_are_separate_stacks(
    tmp_path: Path,
) -> None:
    uid = generate_uid()
    write_series(tmp_path / "axial", SeriesSpec(series_uid=uid))
    localizer = SeriesSpec(
        n_slices=1,
        series_uid=uid,
        extra={"ImageType": ["ORIGINAL", "PRIMARY", "LOCALIZER"]},
    )
    write_series(tmp_path / "loc", localizer)
    coronal = SeriesSpec(n_slices=3, series_uid=uid, orientation=(1, 0, 0, 0, 0, -1))
    write_series(tmp_path / "cor", coronal)
    big = SeriesSpec(n_slices=2, series_uid=uid, rows=40, origin=(0, 0, 300))
    write_series(tmp_path / "big", big)
    result = scan(tmp_path)
    labels = sorted(s.stack_label for s in result.series)
    assert labels == [
        "axial 32x32",
        "axial 32x40",
        "coronal 32x32",
        "localizer axial 32x32",
    ]
    counts = {s.stack_label: s.n_images for s in result.series}
    assert counts["axial 32x32"] == 10
    assert all(any("mixed image sizes" in w for w in s.warnings) for s in result.series)
    localizer_stack = next(
        s for s in result.series if s.stack_label.startswith("localizer")
    )
    assert localizer_stack.phase is Phase.UNKNOWN


def test_three_plane_survey_without_localizer_image_type_is_a_localizer(
    tmp_path: Path,
) -> None:
    # as Philips writes it: ImageType ORIGINAL, PRIMARY, M_FFE; no word in the text
    uid = generate_uid()
    plain: dict[str, object] = {"ImageType": ["ORIGINAL", "PRIMARY", "M_FFE"]}
    for name, orientation in (("a", AXIAL), ("c", CORONAL), ("s", SAGITTAL)):
        spec = SeriesSpec(
            n_slices=3,
            series_uid=uid,
            orientation=orientation,
            description="Breath hold",
            extra=plain,
        )
        write_series(tmp_path / name, spec)
    labels = sorted(s.stack_label for s in scan(tmp_path).series)
    assert labels == ["localizer axial", "localizer coronal", "localizer sagittal"]


@pytest.mark.parametrize(
    "description",
    ["Breath holdSURVEY/SBC$1", "Surview", "Topogram 0.6 T20f", "3-PLANE LOC"],
)
def test_localizer_named_only_in_its_description(
    tmp_path: Path, description: str
) -> None:
    spec = SeriesSpec(n_slices=2, description=description)
    write_series(tmp_path, spec)
    assert _only(scan(tmp_path)).stack_label == "localizer axial"


def test_two_planes_of_a_series_are_not_taken_for_a_survey(tmp_path: Path) -> None:
    uid = generate_uid()
    write_series(tmp_path / "a", SeriesSpec(series_uid=uid))
    write_series(tmp_path / "c", SeriesSpec(series_uid=uid, orientation=CORONAL))
    labels = sorted(s.stack_label for s in scan(tmp_path).series)
    assert labels == ["axial", "coronal"]


def test_missing_position_and_spacing_are_warned_not_fatal(tmp_path: Path) -> None:
    path = write_series(tmp_path, SeriesSpec(n_slices=1))[0]
    ds = pydicom.dcmread(path)
    del ds.ImagePositionPatient
    del ds.PixelSpacing
    ds.save_as(path)
    series = _only(scan(tmp_path))
    assert series.pixel_spacing_mm == (1.0, 1.0)
    assert any("no ImagePositionPatient" in w for w in series.warnings)
    assert any("no PixelSpacing" in w for w in series.warnings)


def _sr_file(path: Path) -> None:
    comprehensive_sr = "1.2.840.10008.5.1.4.1.1.88.22"
    ds = new_dataset(comprehensive_sr, series_uid=generate_uid())
    ds.Modality = "SR"
    save(ds, path)


def test_junk_files_are_skipped_with_a_reason_and_scan_goes_on(tmp_path: Path) -> None:
    paths = write_series(tmp_path / "good", SeriesSpec(n_slices=3))
    junk = tmp_path / "junk"
    junk.mkdir()
    (junk / "empty.dcm").write_bytes(b"")
    (junk / "notes.txt").write_text("not an image at all\n" * 20)
    (junk / "random.bin").write_bytes(np.random.default_rng(1).bytes(4000))
    whole = paths[0].read_bytes()
    (junk / "truncated.dcm").write_bytes(whole[: len(whole) - 700])
    (junk / "header_only.dcm").write_bytes(whole[:300])
    _sr_file(junk / "report.dcm")
    too_big = pydicom.dcmread(paths[2])
    too_big.Rows = 64  # the pixel data holds 32 rows
    too_big.SeriesInstanceUID = generate_uid()
    too_big.save_as(junk / "rows_lie.dcm")
    no_pixels = pydicom.dcmread(paths[1])
    del no_pixels.PixelData
    no_pixels.SeriesInstanceUID = generate_uid()
    no_pixels.save_as(junk / "no_pixels.dcm")
    result = scan(tmp_path)
    assert [s.n_images for s in result.series] == [3]
    reasons = {Path(s.path).name: s.reason for s in result.skipped}
    assert reasons["empty.dcm"] == "empty file"
    assert reasons["notes.txt"].startswith("not a DICOM file")
    assert reasons["random.bin"].startswith("not a DICOM file")
    assert reasons["truncated.dcm"].startswith("truncated file")
    assert "header_only.dcm" in reasons
    assert reasons["report.dcm"] == "not an image (modality SR)"
    assert reasons["no_pixels.dcm"].startswith("no pixel data")
    assert reasons["rows_lie.dcm"] == (
        "pixel data holds 2048 bytes but Rows x Columns x frames x bits needs 4096"
    )


def test_missing_path_raises_file_not_found(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="nowhere"):
        scan(tmp_path / "nowhere")


def test_zip_archive_is_scanned_and_its_files_stay_readable(tmp_path: Path) -> None:
    paths = write_series(tmp_path / "src", SeriesSpec(n_slices=4))
    archive = tmp_path / "study.zip"
    with zipfile.ZipFile(archive, "w") as zipped:
        for path in paths:
            zipped.write(path, f"study/series/{path.name}")
    cache = tmp_path / "cache"
    series = _only(scan(archive, cache_dir=cache))
    assert series.n_images == 4
    assert all(f.is_file() and cache in f.parents for f in series.files)
    again = _only(scan(archive, cache_dir=cache))
    assert again.files == series.files  # extracted once, reused


def test_junk_in_a_zip_is_named_by_its_member_path(tmp_path: Path) -> None:
    paths = write_series(tmp_path / "src", SeriesSpec(n_slices=2))
    archive = tmp_path / "study.zip"
    with zipfile.ZipFile(archive, "w") as zipped:
        zipped.write(paths[0], "a/1.dcm")
        zipped.write(paths[1], "a/2.dcm")
        zipped.writestr("a/report.txt", "not an image")
    result = scan(archive, cache_dir=tmp_path / "cache")
    assert [(s.path, s.reason.split(" (")[0]) for s in result.skipped] == [
        (f"{archive}!a/report.txt", "not a DICOM file")
    ]


def test_compressed_file_cut_inside_its_fragments_is_skipped_as_truncated(
    tmp_path: Path,
) -> None:
    paths = write_series(tmp_path, SeriesSpec(n_slices=3))
    ds = pydicom.dcmread(paths[1])
    ds.compress(RLELossless)
    ds.save_as(paths[1])
    paths[1].write_bytes(paths[1].read_bytes()[:-40])
    result = scan(tmp_path)
    assert [s.reason for s in result.skipped if s.path == str(paths[1])] == [
        "truncated file: a compressed pixel data fragment is cut short"
    ]
    assert _only(result).n_images == 2


def test_zip_slip_members_are_refused_and_never_written(tmp_path: Path) -> None:
    paths = write_series(tmp_path / "src", SeriesSpec(n_slices=2))
    archive = tmp_path / "evil.zip"
    with zipfile.ZipFile(archive, "w") as zipped:
        zipped.write(paths[0], "ok/a.dcm")
        zipped.writestr("../../escaped.dcm", paths[1].read_bytes())
        zipped.writestr("/abs/escaped2.dcm", paths[1].read_bytes())
    cache = tmp_path / "deep" / "cache"
    result = scan(archive, cache_dir=cache)
    assert [s.n_images for s in result.series] == [1]
    refused = [s for s in result.skipped if "refused" in s.reason]
    assert {s.path.split("!", 1)[1] for s in refused} == {
        "../../escaped.dcm",
        "/abs/escaped2.dcm",
    }
    assert not list(tmp_path.rglob("escaped*.dcm"))


def _write_media(paths: list[Path], media: Path) -> Path:
    """Write ``paths`` as a DICOM file set (DICOMDIR and renamed files) into ``media``."""
    write_dicomdir(paths, media)
    return media


def test_dicomdir_records_are_followed_and_dangling_ones_reported(
    tmp_path: Path,
) -> None:
    paths = write_series(tmp_path / "src", SeriesSpec(n_slices=3))
    media = _write_media(paths, tmp_path / "media")
    referenced = sorted(
        p for p in media.rglob("*") if p.is_file() and p.name != "DICOMDIR"
    )
    referenced[0].unlink()
    result = scan(media / "DICOMDIR")
    assert _only(result).n_images == 2
    (dangling,) = result.skipped
    assert dangling.reason == "DICOMDIR record points at a missing file"
    assert Path(dangling.path) == referenced[0]


@pytest.mark.slow
def test_many_files_are_read_by_a_process_pool(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(scan_module, "POOL_THRESHOLD", 5)
    write_series(tmp_path, SeriesSpec(n_slices=12))
    (tmp_path / "junk.txt").write_text("x")
    result = scan(tmp_path, workers=2)
    assert _only(result).n_images == 12
    assert len(result.skipped) == 1


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    cut=st.integers(min_value=0, max_value=3000),
    edits=st.lists(
        st.tuples(st.integers(min_value=0, max_value=2999), st.integers(0, 255)),
        max_size=6,
    ),
)
def test_corrupted_files_never_make_scan_or_load_crash(
    tmp_path_factory: pytest.TempPathFactory, cut: int, edits: list[tuple[int, int]]
) -> None:
    folder = tmp_path_factory.mktemp("fuzz")
    path = write_series(folder, SeriesSpec(n_slices=1, rows=16, columns=16))[0]
    data = bytearray(path.read_bytes())
    for offset, value in edits:
        if offset < len(data):
            data[offset] = value
    path.write_bytes(bytes(data[: len(data) - cut]))
    result = scan(folder)
    assert len(result.series) + len(result.skipped) == 1
    for series in result.series:
        try:
            volume = load_volume(series)
        except VolumeLoadError:
            continue
        assert volume.shape == (1, series.rows, series.columns)


def test_a_dicomdir_folder_that_cannot_be_listed_leaves_its_records_dangling(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    paths = write_series(tmp_path / "src", SeriesSpec(n_slices=2))
    media = _write_media(paths, tmp_path / "media")
    for path in sorted(media.rglob("*"), reverse=True):  # lower-case names on the CD
        if path.parent != media.parent and path.name != "DICOMDIR":
            path.rename(path.with_name(path.name.lower()))
    original_iterdir = Path.iterdir

    def locked_iterdir(self: Path) -> Iterator[Path]:
        if self != media:
            raise PermissionError(13, "Permission denied", str(self))
        return original_iterdir(self)

    monkeypatch.setattr(Path, "iterdir", locked_iterdir)
    result = scan(media / "DICOMDIR")
    assert result.series == ()
    assert [s.reason for s in result.skipped] == [
        "DICOMDIR record points at a missing file"
    ] * 2


def test_series_without_a_bolus_time_are_timed_from_their_studys_bolus(
    tmp_path: Path,
) -> None:
    """GE writes the contrast agent on every series but the bolus time on one only."""
    study = generate_uid()
    acquired = {"Body 2.0 A": "100000", "Body 2.0 B": "100100", "Body 2.0 C": "100200"}
    for number, (description, time_of_day) in enumerate(acquired.items()):
        extra: dict[str, object] = {
            "AcquisitionTime": time_of_day,
            "ContrastBolusAgent": "OMNIPAQUE 350",
            "SeriesNumber": number + 2,
        }
        if description.endswith("B"):
            extra["ContrastBolusStartTime"] = "100030"
        spec = SeriesSpec(
            n_slices=2, description=description, study_uid=study, extra=extra
        )
        write_series(tmp_path / description, spec)
    phases = {s.series_description: s.phase for s in scan(tmp_path).series}
    assert phases == {
        "Body 2.0 A": Phase.PRE_CONTRAST,  # acquired before the injection
        "Body 2.0 B": Phase.ARTERIAL,  # 30 s after it
        "Body 2.0 C": Phase.PORTAL_VENOUS,  # 90 s after it
    }
