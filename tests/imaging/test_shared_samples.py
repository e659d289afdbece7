"""One test per loader trap of the real public files in ../shared/dicom_samples."""

from pathlib import Path

import numpy as np
import pydicom
import pytest
from pydicom.pixels.processing import apply_modality_lut

from mrecist_reader.imaging.load import VolumeLoadError, load_volume
from mrecist_reader.imaging.scan import ScanResult, scan
from mrecist_reader.imaging.volume import Phase, SeriesInfo, Volume
from mrecist_reader.imaging.worklist import build_worklist, set_aside

pytestmark = pytest.mark.shared


def _one(path: Path) -> SeriesInfo:
    result = scan(path)
    assert len(result.series) == 1, [s.series_description for s in result.series]
    return result.series[0]


def _volume(path: Path) -> Volume:
    return load_volume(_one(path))


def test_gantry_tilt_and_non_uniform_spacing_from_positions(
    shared_samples: Path,
) -> None:
    series = _one(shared_samples / "dcm_qa_ct" / "In" / "GE")
    assert series.n_images == 28
    assert any(w.startswith("gantry tilt 18.5 deg") for w in series.warnings)
    assert any(
        w.startswith("non-uniform slice spacing: steps 1.08-7.00 mm")
        for w in series.warnings
    )


def test_duplicate_positions_are_warned_and_not_stacked(shared_samples: Path) -> None:
    series = _one(shared_samples / "dicom-numpy_dupe-positions")
    assert any("duplicate positions" in w and "-90.0" in w for w in series.warnings)
    with pytest.raises(VolumeLoadError, match="duplicate positions"):
        load_volume(series)


@pytest.mark.slow
def test_fmri_with_repeated_positions_is_a_4d_series(shared_samples: Path) -> None:
    series = _one(shared_samples / "dcm_qa_nih" / "In" / "20180918GE" / "mr_0004")
    assert series.n_images == 150
    assert any(
        w.startswith("4-D series: 10 images at each of 15") for w in series.warnings
    )
    with pytest.raises(VolumeLoadError, match="4-D series"):
        load_volume(series)


def test_three_plane_localizer_is_split_by_orientation(shared_samples: Path) -> None:
    result = scan(shared_samples / "fo-dicom" / "abd1")
    counts = {s.stack_label: s.n_images for s in result.series}
    assert counts == {
        "localizer axial": 3,
        "localizer coronal": 5,
        "localizer sagittal": 3,
    }
    # Philips writes no LOCALIZER in ImageType: the survey is still set aside, not
    # three worklist rows of one series of which two would open nothing
    assert all(s.phase is Phase.UNKNOWN for s in result.series)
    assert build_worklist(result.series) == ()
    assert set_aside(result.series) == result.series


def test_ge_three_plane_loc_is_a_localizer(shared_samples: Path) -> None:
    (series,) = scan(shared_samples / "fo-dicom" / "benchmark_mr.dcm").series
    assert series.stack_label.startswith("localizer")


def test_philips_study_keeps_localizer_apart_and_skips_dose_pages(
    shared_samples: Path,
) -> None:
    result = scan(shared_samples / "dcm_qa_ct" / "In" / "Philips")
    labels = sorted((s.stack_label, s.n_images) for s in result.series)
    assert labels == [("", 28), ("localizer sagittal", 1)]
    pages = [s for s in result.skipped if "S4010" in s.path and "DIRFILE" not in s.path]
    assert len(pages) == 6
    assert all("dose report or exam summary" in s.reason for s in pages)
    head = next(s for s in result.series if s.n_images == 28)
    volume = load_volume(head)
    assert volume.array.dtype == np.int16  # unsigned 12-bit with intercept -1024
    assert volume.array.min() >= -1024


def test_missing_pixel_spacing_and_position_load_with_warnings(
    shared_samples: Path,
) -> None:
    series = _one(shared_samples / "fo-dicom" / "CT-MONO2-16-ankle")
    assert any("no PixelSpacing" in w for w in series.warnings)
    assert any("no ImagePositionPatient" in w for w in series.warnings)
    volume = load_volume(series)
    reference = pydicom.dcmread(series.files[0])
    np.testing.assert_array_equal(
        volume.array[0], apply_modality_lut(reference.pixel_array, reference)
    )


def test_file_without_preamble_or_meta_is_read(shared_samples: Path) -> None:
    volume = _volume(shared_samples / "fo-dicom" / "CR-MONO1-10-chest")
    assert volume.shape == (1, 440, 440)
    assert volume.array.max() > 0


def test_big_endian_equals_little_endian(shared_samples: Path) -> None:
    folder = shared_samples / "pydicom" / "test_files"
    little = _volume(folder / "MR_small.dcm")
    big = _volume(folder / "MR_small_bigendian.dcm")
    np.testing.assert_array_equal(big.array, little.array)


@pytest.mark.parametrize("image", ["CT1", "CT2", "MR1", "MR3", "MR4"])
def test_nema_lossless_syntaxes_equal_the_uncompressed_reference(
    shared_samples: Path, image: str
) -> None:
    folder = shared_samples / "nema_wg04" / "IMAGES"
    reference = _volume(folder / "REF" / f"{image}_UNC").array
    for syntax in ("JPLL", "JLSL", "J2KR", "RLE"):
        decoded = _volume(folder / syntax / f"{image}_{syntax}").array
        assert decoded.dtype == reference.dtype, syntax
        np.testing.assert_array_equal(decoded, reference, err_msg=syntax)


def test_twelve_bit_jpeg_extended_is_decoded_by_gdcm(shared_samples: Path) -> None:
    folder = shared_samples / "nema_wg04" / "IMAGES"
    reference = _volume(folder / "REF" / "MR1_UNC").array.astype(np.float32)
    lossy = _volume(folder / "JPLY" / "MR1_JPLY").array.astype(np.float32)
    assert lossy.shape == reference.shape
    assert np.corrcoef(lossy.ravel(), reference.ravel())[0, 1] > 0.99


def test_all_nine_transfer_syntaxes_give_identical_pixels(shared_samples: Path) -> None:
    result = scan(shared_samples / "dcm_qa_ts" / "In")
    (series,) = result.series
    assert series.n_images == 9
    assert len(series.transfer_syntaxes) == 7  # two JPEG Lossless, two JPEG-LS files
    reference = _volume(series.files[0]).array
    for path in series.files[1:]:
        np.testing.assert_array_equal(_volume(path).array, reference, err_msg=path.name)


def test_enhanced_ct_frames_and_geometry(shared_samples: Path) -> None:
    series = _one(shared_samples / "pydicom-data" / "eCT_Supplemental.dcm")
    assert sorted(series.frames) == [0, 1]
    assert len(set(series.files)) == 1
    volume = load_volume(series)
    assert volume.shape == (2, 512, 512)
    assert volume.slice_spacing_mm == pytest.approx(series.slice_spacing_mm)
    dataset = pydicom.dcmread(series.files[0])
    frames = dataset.PerFrameFunctionalGroupsSequence
    positions = [
        [float(v) for v in f.PlanePositionSequence[0].ImagePositionPatient]
        for f in frames
    ]
    first, second = (positions[f] for f in series.frames)
    assert volume.affine[:3, 3] == pytest.approx(first)
    assert volume.affine[:3, 0] == pytest.approx(np.subtract(second, first))
    assert series.slice_spacing_mm == pytest.approx(10.0)


@pytest.mark.parametrize(
    "variant", ["big_endian", "RLE", "jpeg_ls_lossless", "jpeg_2k_lossless"]
)
def test_enhanced_mr_frames_decode_like_the_uncompressed_file(
    shared_samples: Path, variant: str
) -> None:
    folder = shared_samples / "pydicom-data"
    reference = _volume(folder / "emri_small.dcm")
    assert reference.shape == (10, 64, 64)
    decoded = _volume(folder / f"emri_small_{variant}.dcm")
    np.testing.assert_array_equal(decoded.array, reference.array)


def test_enhanced_mr_multi_file_series_is_4d(shared_samples: Path) -> None:
    series = _one(shared_samples / "dcm_qa_enh" / "In" / "Siemens")
    assert series.n_images == 24
    assert len(set(series.files)) == 4
    assert any(
        w.startswith("4-D series: 4 images at each of 6") for w in series.warnings
    )
    assert series.pixel_spacing_mm == pytest.approx((3.375, 3.375))


def test_modality_lut_sequence_is_applied(shared_samples: Path) -> None:
    path = shared_samples / "pydicom-data" / "mlut_18.dcm"
    dataset = pydicom.dcmread(path)
    np.testing.assert_array_equal(
        _volume(path).array[0], apply_modality_lut(dataset.pixel_array, dataset)
    )


def test_oblique_series_with_unequal_row_and_column_spacing(
    shared_samples: Path,
) -> None:
    series = _one(shared_samples / "example-dicom-structural_subset" / "dicoms")
    assert series.n_images == 120
    assert series.pixel_spacing_mm == pytest.approx((0.6667, 0.7000), abs=1e-3)
    assert series.warnings == ()


def _skipped_reasons(result: ScanResult) -> dict[str, str]:
    return {Path(s.path).name: s.reason for s in result.skipped}


def test_non_image_and_broken_files_are_skipped_with_reasons(
    shared_samples: Path,
) -> None:
    reasons = _skipped_reasons(scan(shared_samples / "fo-dicom"))
    assert reasons["GH178.dcm"].startswith("no pixel data")
    assert "GH177_D_CLUNIE_CT1_IVRLE_BigEndian_undefined_length.dcm" in reasons
    assert reasons["LICENSE"].startswith("not a DICOM file")
    segs = _skipped_reasons(scan(shared_samples / "pydicom-data"))
    assert segs["liver.dcm"] == "not an image (modality SEG)"


def test_truncated_pixel_data_is_skipped(shared_samples: Path) -> None:
    result = scan(shared_samples / "pydicom" / "test_files" / "MR_truncated.dcm")
    assert result.series == ()
    (skipped,) = result.skipped
    assert skipped.reason.startswith("truncated")


def test_dicomdir_whose_records_all_dangle(shared_samples: Path) -> None:
    result = scan(shared_samples / "dcm_qa_ct" / "DICOMDIR")
    assert result.series == ()
    assert result.skipped
    assert all(
        s.reason == "DICOMDIR record points at a missing file" for s in result.skipped
    )
    assert any("S21610" in s.path for s in result.skipped)


def test_nema_dicomdir_with_partly_missing_files(shared_samples: Path) -> None:
    result = scan(shared_samples / "nema_wg04" / "DICOMDIR")
    assert len(result.series) == 5  # CT1, CT2, MR1, MR3, MR4 under IMAGES/RLE
    assert all("RLE" in str(s.files[0]) for s in result.series)
    dangling = [s for s in result.skipped if s.reason.startswith("DICOMDIR record")]
    assert dangling
    assert all(not Path(s.path).exists() for s in dangling)


def test_packed_12_bit_pixels_are_skipped_at_scan_with_the_reason(
    shared_samples: Path,
) -> None:
    result = scan(shared_samples / "fo-dicom" / "GH340.dcm")
    assert result.series == ()
    (skipped,) = result.skipped
    assert skipped.reason.startswith("BitsAllocated 12 is not supported")


def test_series_with_missing_slices_keep_each_image_at_its_true_position(
    shared_samples: Path,
) -> None:
    """dicom2nifti's slice-increment series: whole or irregular gaps, never a wrong grid."""
    gapped = [
        series
        for series in scan(shared_samples / "dicom2nifti" / "failing").series
        if any("missing slices" in w for w in series.warnings)
    ]
    assert len(gapped) == 2
    for series in gapped:
        assert series.n_slices == series.n_images + 1
        volume = load_volume(series)
        for index, position in zip(
            series.volume_slice_of_image, series.slice_positions_mm, strict=True
        ):
            assert position is not None
            corner = volume.affine @ np.array([index, 0.0, 0.0, 1.0])
            np.testing.assert_allclose(corner[:3], position, atol=0.05)
