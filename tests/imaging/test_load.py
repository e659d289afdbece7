"""load_volume() / open_volume(): values in modality units, geometry, errors."""

import dataclasses
import os
import threading
from pathlib import Path

import numpy as np
import pydicom
import pytest
from pydicom.uid import JPEG2000Lossless, RLELossless

from mrecist_reader.core.errors import MrecistError
from mrecist_reader.imaging import fastpath as fastpath_module
from mrecist_reader.imaging import load as load_module
from mrecist_reader.imaging import pixels as pixels_module
from mrecist_reader.imaging.geometry import index_to_patient, patient_to_index
from mrecist_reader.imaging.load import VolumeLoadError, load_volume, open_volume
from mrecist_reader.imaging.scan import scan
from mrecist_reader.imaging.volume import SeriesInfo
from tests.kit.dicom import (
    SeriesSpec,
    compressed,
    oblique_orientation,
    rewrite,
    slice_positions,
    stored_values,
    write_series,
)


def _series(folder: Path, spec: SeriesSpec) -> SeriesInfo:
    write_series(folder, spec)
    (series,) = scan(folder).series
    return series


def _expected(spec: SeriesSpec) -> np.ndarray:
    return np.stack(
        [
            stored_values(spec, k) * spec.slope + spec.intercept
            for k in range(spec.n_slices)
        ]
    )


def test_ct_volume_is_in_hounsfield_units_in_int16(tmp_path: Path) -> None:
    spec = SeriesSpec()
    volume = load_volume(_series(tmp_path, spec))
    assert volume.shape == (10, 32, 32)
    assert volume.array.dtype == np.int16
    np.testing.assert_array_equal(volume.array, _expected(spec))
    assert volume.sop_instance_uids == volume.series.sop_instance_uids


@pytest.mark.parametrize(
    ("slope", "intercept", "signed", "bits", "dtype"),
    [
        (1.0, 0.0, False, 16, np.uint16),
        (1.0, -1024.0, True, 16, np.int16),
        (2.0, -1024.0, False, 12, np.int16),
        (0.5, 3.0, False, 12, np.float32),
    ],
)
def test_output_dtype_is_the_smallest_that_holds_the_rescaled_range(
    tmp_path: Path, slope: float, intercept: float, signed: bool, bits: int, dtype: type
) -> None:
    spec = SeriesSpec(
        n_slices=3, slope=slope, intercept=intercept, signed=signed, bits_stored=bits
    )
    volume = load_volume(_series(tmp_path, spec))
    assert volume.array.dtype == dtype
    np.testing.assert_allclose(
        volume.array.astype(np.float64), _expected(spec), rtol=1e-6
    )


def test_volume_widens_to_int32_only_when_a_value_overflows_int16(
    tmp_path: Path,
) -> None:
    spec = SeriesSpec(n_slices=4, signed=True, bits_stored=16)
    paths = write_series(tmp_path, spec)
    ds = pydicom.dcmread(paths[2])
    values = ds.pixel_array.copy()
    values[5, 6] = -32000
    ds.PixelData = values.tobytes()
    ds.save_as(paths[2])
    volume = load_volume(scan(tmp_path).series[0])
    expected = _expected(spec)
    expected[2, 5, 6] = -32000 - 1024
    assert volume.array.dtype == np.int32
    np.testing.assert_array_equal(volume.array, expected)


def test_a_slice_whose_header_differs_from_the_first_is_still_rescaled(
    tmp_path: Path,
) -> None:
    spec = SeriesSpec(n_slices=5, shuffle=False)
    paths = write_series(tmp_path, spec)
    first = pydicom.dcmread(paths[0])
    del first.RescaleSlope, first.RescaleIntercept  # identity rescale on slice 0 only
    # a longer header too, so later files are laid out differently
    first.ImageComments = "x" * 40
    first.save_as(paths[0])
    volume = load_volume(scan(tmp_path).series[0])
    expected = _expected(spec)
    expected[0] = stored_values(spec, 0)
    np.testing.assert_array_equal(volume.array, expected)


def test_oblique_anisotropic_geometry_round_trips(tmp_path: Path) -> None:
    orientation = oblique_orientation(25.0, -40.0)
    spec = SeriesSpec(
        n_slices=6,
        orientation=orientation,
        pixel_spacing=(0.6, 1.3),
        slice_step=2.0,
        rows=24,
    )
    volume = load_volume(_series(tmp_path, spec))
    assert volume.pixel_spacing_mm == pytest.approx((0.6, 1.3))
    assert volume.slice_spacing_mm == pytest.approx(2.0)
    row_cosine, column_cosine = np.array(orientation[:3]), np.array(orientation[3:])
    k, r, c = 4, 5, 17
    expected_mm = (
        np.array(slice_positions(spec)[k])
        + c * 1.3 * row_cosine
        + r * 0.6 * column_cosine
    )
    assert index_to_patient(volume.affine, (k, r, c)) == pytest.approx(
        expected_mm, abs=1e-4
    )
    assert patient_to_index(volume.affine, expected_mm) == pytest.approx(
        (k, r, c), abs=1e-6
    )
    assert volume.array[k, r, c] == stored_values(spec, k)[r, c] - 1024


def test_gantry_tilt_shears_the_affine_along_the_positions(tmp_path: Path) -> None:
    spec = SeriesSpec(n_slices=5, tilt_mm_per_slice=0.8, slice_step=2.5)
    volume = load_volume(_series(tmp_path, spec))
    positions = slice_positions(spec)
    for k in range(5):
        assert index_to_patient(volume.affine, (k, 0, 0)) == pytest.approx(positions[k])


def test_implicit_and_rle_files_give_the_same_values(tmp_path: Path) -> None:
    spec = SeriesSpec(n_slices=4, implicit=True)
    paths = write_series(tmp_path, spec)
    rewrite(paths[:2], compressed(RLELossless))
    (series,) = scan(tmp_path).series
    assert RLELossless in series.transfer_syntaxes
    volume = load_volume(series)
    np.testing.assert_array_equal(volume.array, _expected(spec))


def test_request_slice_decodes_that_slice_and_wait_returns_the_volume(
    tmp_path: Path,
) -> None:
    spec = SeriesSpec(n_slices=8)
    loader = open_volume(_series(tmp_path, spec))
    np.testing.assert_array_equal(loader.request_slice(6), _expected(spec)[6])
    volume = loader.wait()
    assert loader.progress == 1.0
    np.testing.assert_array_equal(volume.array, _expected(spec))
    with pytest.raises(IndexError):
        loader.request_slice(8)


def test_cancel_stops_the_background_decoding(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    spec = SeriesSpec(n_slices=10)
    series = _series(tmp_path, spec)
    gate = threading.Event()
    original_decode = pixels_module._decode_slice
    original_read = fastpath_module._read_recorded

    def slow_decode(pixels: object, target: np.ndarray) -> None:
        if pixels.path != series.files[3]:  # type: ignore[attr-defined]
            gate.wait(5)
        original_decode(pixels, target)  # type: ignore[arg-type]

    def slow_read(path: Path, native: object, target: np.ndarray) -> bool:
        if path != series.files[3]:
            gate.wait(5)
        return original_read(path, native, target)  # type: ignore[arg-type]

    monkeypatch.setattr(load_module, "_decode_slice", slow_decode)
    monkeypatch.setattr(load_module, "_read_recorded", slow_read)
    loader = open_volume(series, workers=1)
    np.testing.assert_array_equal(loader.request_slice(3), _expected(spec)[3])
    loader.cancel()
    gate.set()
    with pytest.raises(VolumeLoadError, match="cancelled"):
        loader.wait()
    assert loader.progress < 1.0


def test_four_d_series_is_refused(tmp_path: Path) -> None:
    spec = SeriesSpec(n_slices=3)
    write_series(tmp_path / "a", spec)
    write_series(
        tmp_path / "b", SeriesSpec(n_slices=3, series_uid=spec.series_uid), seed=2
    )
    (series,) = scan(tmp_path).series
    with pytest.raises(VolumeLoadError, match="4-D series"):
        load_volume(series)


def test_mixed_sizes_name_the_file(tmp_path: Path) -> None:
    small = _series(tmp_path / "small", SeriesSpec(n_slices=3))
    big = _series(tmp_path / "big", SeriesSpec(n_slices=3, rows=40))
    mixed = dataclasses.replace(small, files=(*small.files[:2], big.files[2]))
    with pytest.raises(VolumeLoadError, match=r"big.*mixed sizes"):
        load_volume(mixed)


def test_undecodable_pixel_data_is_a_clear_error(tmp_path: Path) -> None:
    spec = SeriesSpec(n_slices=3)
    paths = write_series(tmp_path, spec)
    ds = pydicom.dcmread(paths[1])
    ds.compress(RLELossless)
    # RLE fragments labelled JPEG 2000: intact encapsulation, undecodable codestream
    ds.file_meta.TransferSyntaxUID = JPEG2000Lossless
    ds.save_as(paths[1])
    (series,) = scan(tmp_path).series
    with pytest.raises(
        VolumeLoadError, match=rf"{paths[1].name}: cannot decode"
    ) as raised:
        load_volume(series)
    assert isinstance(raised.value, MrecistError)


def test_file_truncated_after_the_scan_is_reported(tmp_path: Path) -> None:
    spec = SeriesSpec(n_slices=3)
    series = _series(tmp_path, spec)
    data = series.files[1].read_bytes()
    series.files[1].write_bytes(data[:-100])
    with pytest.raises(VolumeLoadError, match=series.files[1].name):
        load_volume(series)


# ------------------------------------------------ pixel layouts recorded by scan


@pytest.mark.parametrize("implicit", [False, True])
def test_scan_records_where_each_plain_slice_keeps_its_values(
    tmp_path: Path, implicit: bool
) -> None:
    spec = SeriesSpec(n_slices=4, implicit=implicit)
    paths = write_series(tmp_path, spec)
    (series,) = scan(tmp_path).series
    assert series.files == tuple(paths)
    for k, native in enumerate(series.native_slices):
        assert native is not None
        data = paths[k].read_bytes()
        values = np.frombuffer(
            data,
            dtype="<u2",
            count=spec.rows * spec.columns,
            offset=native.value_offset,
        )
        np.testing.assert_array_equal(values.reshape(32, 32), stored_values(spec, k))
        assert (native.slope, native.intercept) == (1.0, -1024.0)
        assert native.file_size == len(data)
    assert series.slice_positions_mm == tuple(slice_positions(spec))


def test_scan_records_no_layout_for_compressed_slices(tmp_path: Path) -> None:
    paths = write_series(tmp_path, SeriesSpec(n_slices=3))
    ds = pydicom.dcmread(paths[1])
    ds.compress(RLELossless)
    ds.save_as(paths[1])
    (series,) = scan(tmp_path).series
    assert [n is None for n in series.native_slices] == [False, True, False]


def test_plain_slices_are_read_at_the_recorded_offset_without_a_header_parse(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    spec = SeriesSpec(n_slices=6)
    series = _series(tmp_path, spec)

    def no_parse(*args: object) -> None:
        raise AssertionError("header parsed although scan recorded the layout")

    monkeypatch.setattr(load_module, "_read_with_layout", no_parse)
    monkeypatch.setattr(fastpath_module, "_pydicom_probe", no_parse)
    np.testing.assert_array_equal(load_volume(series).array, _expected(spec))


def test_bits_above_bits_stored_are_cleared_on_the_recorded_path(
    tmp_path: Path,
) -> None:
    spec = SeriesSpec(n_slices=3)
    paths = write_series(tmp_path, spec)
    ds = pydicom.dcmread(paths[1])
    values = ds.pixel_array.copy()
    values |= 0xF000  # overlay bits above the 12 stored ones
    ds.PixelData = values.tobytes()
    ds.save_as(paths[1])
    (series,) = scan(tmp_path).series
    assert series.native_slices[1] is not None
    np.testing.assert_array_equal(load_volume(series).array, _expected(spec))


def test_a_file_rewritten_after_the_scan_is_read_as_it_is_now(tmp_path: Path) -> None:
    spec = SeriesSpec(n_slices=4)
    series = _series(tmp_path, spec)
    longer, same_size = series.files[1], series.files[2]
    ds = pydicom.dcmread(longer)
    ds.RescaleIntercept = "-1000"
    ds.ImageComments = "rewritten with a longer header"
    ds.save_as(longer)
    ds = pydicom.dcmread(same_size)
    ds.RescaleIntercept = "-1000.0"  # as long as "-1024.0": the size stays the same
    ds.save_as(same_size)
    recorded = series.native_slices[2]
    assert recorded is not None
    assert same_size.stat().st_size == recorded.file_size
    os.utime(same_size, ns=(recorded.mtime_ns + 10**9, recorded.mtime_ns + 10**9))
    expected = _expected(spec)
    expected[1:3] += 24
    np.testing.assert_array_equal(load_volume(series).array, expected)


def test_a_file_deleted_after_the_scan_is_named(tmp_path: Path) -> None:
    series = _series(tmp_path, SeriesSpec(n_slices=3))
    series.files[2].unlink()
    with pytest.raises(VolumeLoadError, match=rf"{series.files[2].name}: cannot read"):
        load_volume(series)


# ------------------------------------------------ missing slices and copies


def test_missing_slices_are_filled_blank_so_every_image_keeps_its_position(
    tmp_path: Path,
) -> None:
    spec = SeriesSpec(n_slices=9)
    paths = write_series(tmp_path, spec)
    paths[2].unlink()
    paths[3].unlink()
    (series,) = scan(tmp_path).series
    assert any(
        w.startswith("missing slices: 2 missing") and "true position" in w
        for w in series.warnings
    )
    assert (series.n_images, series.n_slices) == (7, 9)
    volume = load_volume(series)
    assert volume.shape == (9, 32, 32)
    expected = _expected(spec)
    positions = slice_positions(spec)
    for k in (0, 1, 4, 5, 6, 7, 8):
        np.testing.assert_array_equal(volume.array[k], expected[k])
        np.testing.assert_allclose(
            index_to_patient(volume.affine, (k, 0, 0)), positions[k], atol=1e-4
        )
    assert (volume.array[2:4] == -1024).all()  # air: blank in any CT window
    assert volume.sop_instance_uids[2:4] == ("", "")
    assert volume.sop_instance_uids[4] == series.sop_instance_uids[2]


def test_a_filled_gap_is_served_at_once_and_images_around_it_by_volume_slice(
    tmp_path: Path,
) -> None:
    spec = SeriesSpec(n_slices=6)
    paths = write_series(tmp_path, spec)
    paths[3].unlink()
    (series,) = scan(tmp_path).series
    loader = open_volume(series, workers=1)
    assert (loader.request_slice(3) == -1024).all()
    np.testing.assert_array_equal(loader.request_slice(4), _expected(spec)[4])
    with pytest.raises(IndexError):
        loader.request_slice(6)
    assert loader.wait().shape == (6, 32, 32)


def test_a_series_mostly_missing_is_not_padded_and_says_so(tmp_path: Path) -> None:
    spec = SeriesSpec(n_slices=12)
    paths = write_series(tmp_path, spec)
    for path in paths[2:10]:
        path.unlink()
    (series,) = scan(tmp_path).series
    assert any("too many to fill" in w for w in series.warnings)
    assert load_volume(series).shape == (4, 32, 32)


def test_an_exact_copy_of_an_image_is_ignored_with_a_warning(tmp_path: Path) -> None:
    spec = SeriesSpec(n_slices=5)
    paths = write_series(tmp_path / "study", spec)
    (tmp_path / "study" / "copy").mkdir()
    (tmp_path / "study" / "copy" / "IM0001").write_bytes(paths[2].read_bytes())
    (series,) = scan(tmp_path).series
    assert series.n_images == 5
    assert any("1 duplicate copy" in w for w in series.warnings)
    np.testing.assert_array_equal(load_volume(series).array, _expected(spec))


# ------------------------------------------------ colour


@pytest.mark.parametrize("compressed", [False, True])
def test_a_colour_image_is_shown_as_its_luminance(
    tmp_path: Path, compressed: bool
) -> None:
    paths = write_series(tmp_path, SeriesSpec(n_slices=2, modality="MR"))
    rng = np.random.default_rng(3)
    rgb = rng.integers(0, 256, (2, 32, 32, 3), dtype=np.uint8)
    for path, values in zip(paths, rgb, strict=True):
        ds = pydicom.dcmread(path)
        ds.SamplesPerPixel, ds.PhotometricInterpretation = 3, "RGB"
        ds.PlanarConfiguration = 0
        ds.BitsAllocated = ds.BitsStored = 8
        ds.HighBit = 7
        del ds.RescaleSlope, ds.RescaleIntercept
        ds.PixelData = values.tobytes()
        if compressed:
            ds.compress(RLELossless)
        ds.save_as(path)
    (series,) = scan(tmp_path).series
    assert "colour images: shown in grey (their luminance)" in series.warnings
    volume = load_volume(series)
    luminance = rgb @ np.array([0.299, 0.587, 0.114])
    assert volume.array.dtype == np.uint8
    np.testing.assert_allclose(volume.array.astype(np.float64), luminance, atol=0.51)


def test_four_samples_per_pixel_are_refused_by_name(tmp_path: Path) -> None:
    paths = write_series(tmp_path, SeriesSpec(n_slices=1))
    ds = pydicom.dcmread(paths[0])
    ds.SamplesPerPixel, ds.PhotometricInterpretation = 4, "ARGB"
    ds.PlanarConfiguration = 0
    ds.BitsAllocated = ds.BitsStored = 8
    ds.HighBit = 7
    ds.PixelData = bytes(32 * 32 * 4)
    ds.save_as(paths[0])
    (series,) = scan(tmp_path).series
    with pytest.raises(VolumeLoadError, match=r"4 samples per pixel are not supported"):
        load_volume(series)
