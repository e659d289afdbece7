"""RLE slices are decoded from the fragment the scan recorded (issue 20 item 1)."""

import os
from pathlib import Path

import numpy as np
import pydicom
import pytest
from pydicom.encaps import generate_frames
from pydicom.uid import RLELossless

from mrecist_reader.imaging import pixels as pixels_module
from mrecist_reader.imaging.load import load_volume
from mrecist_reader.imaging.scan import scan
from mrecist_reader.imaging.volume import SeriesInfo
from tests.kit.dicom import SeriesSpec, write_series


def _rle_copy(folder: Path, spec: SeriesSpec) -> tuple[Path, Path]:
    """Write ``spec`` uncompressed and as RLE (same SOP UIDs); return both folders."""
    plain = folder / "plain"
    write_series(plain, spec)
    rle = folder / "rle"
    rle.mkdir()
    for path in sorted(plain.iterdir()):
        dataset = pydicom.dcmread(path)
        dataset.compress(RLELossless, encoding_plugin="pydicom")
        dataset.save_as(rle / path.name, enforce_file_format=True)
    return plain, rle


def _only(folder: Path) -> SeriesInfo:
    (series,) = scan(folder, use_index=False).series
    return series


SIGNED = SeriesSpec(n_slices=5, rows=24, columns=20, signed=True, bits_stored=12)


def test_the_scan_records_each_rle_fragment(tmp_path: Path) -> None:
    _plain, rle = _rle_copy(tmp_path, SIGNED)
    series = _only(rle)
    assert len(series.encoded_slices) == series.n_images
    for path, encoded in zip(series.files, series.encoded_slices, strict=True):
        assert encoded is not None
        ((offset, length),) = encoded.fragments
        frame = next(
            generate_frames(pydicom.dcmread(path).PixelData, number_of_frames=1)
        )
        with path.open("rb") as stream:
            stream.seek(offset)
            assert stream.read(length) == frame


def test_recorded_rle_slices_load_without_parsing_and_match_the_uncompressed_ones(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    plain, rle = _rle_copy(tmp_path, SIGNED)
    expected = load_volume(_only(plain), workers=1).array
    assert expected.min() < 0  # signed 12-bit values: the high bits matter
    series = _only(rle)

    def no_parsing(*_args: object, **_kwargs: object) -> None:
        raise AssertionError("a recorded RLE slice was parsed again")

    monkeypatch.setattr(pixels_module, "_decode_with_pydicom", no_parsing)
    volume = load_volume(series, workers=1)
    assert np.array_equal(volume.array, expected)


def test_a_file_changed_since_the_scan_is_parsed_again(tmp_path: Path) -> None:
    plain, rle = _rle_copy(tmp_path, SIGNED)
    expected = load_volume(_only(plain), workers=1).array
    series = _only(rle)
    changed = series.files[2]
    os.utime(changed, ns=(0, 1_000_000_000))  # another modification time
    volume = load_volume(series, workers=1)
    assert np.array_equal(volume.array, expected)


def test_the_scan_index_keeps_the_fragments(tmp_path: Path) -> None:
    _plain, rle = _rle_copy(tmp_path, SIGNED)
    first = scan(rle, index_dir=tmp_path / "index")
    again = scan(rle, index_dir=tmp_path / "index")
    assert again.files_reused == SIGNED.n_slices
    assert again.series[0].encoded_slices == first.series[0].encoded_slices
    assert all(e is not None for e in again.series[0].encoded_slices)
