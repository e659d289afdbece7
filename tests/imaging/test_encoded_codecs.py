"""Recorded JPEG 2000, JPEG-LS and JPEG Lossless slices decode unparsed (issue 20).

The scan records each single-frame image's fragments; the loader decodes them
without parsing the file again (item 1).
"""

import os
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pydicom
import pytest
from pydicom.dataset import Dataset
from pydicom.encaps import encapsulate, generate_frames
from pydicom.uid import JPEG2000Lossless, JPEGLSLossless

from mrecist_reader.imaging import pixels as pixels_module
from mrecist_reader.imaging.encoded import RecordedSlice, decode_recorded
from mrecist_reader.imaging.headers import FileHeader, read_header
from mrecist_reader.imaging.load import load_volume
from mrecist_reader.imaging.scan import scan
from mrecist_reader.imaging.volume import RECORDED_SYNTAXES, SeriesInfo
from tests.kit.dicom import SeriesSpec, write_series

SIGNED = SeriesSpec(n_slices=4, rows=64, columns=72, signed=True, bits_stored=12)


def _copy(folder: Path, spec: SeriesSpec, mutate: Callable[[Dataset], None]) -> Path:
    """Write ``spec`` uncompressed into ``folder/plain``, a mutated copy alongside."""
    plain = folder / "plain"
    write_series(plain, spec)
    other = folder / "compressed"
    other.mkdir()
    for path in sorted(plain.iterdir()):
        dataset = pydicom.dcmread(path)
        mutate(dataset)
        dataset.save_as(other / path.name, enforce_file_format=True)
    return other


def _only(folder: Path) -> SeriesInfo:
    (series,) = scan(folder, use_index=False).series
    return series


def _j2k(dataset: Dataset) -> None:
    dataset.compress(JPEG2000Lossless)


def _jpeg_ls(dataset: Dataset) -> None:
    dataset.compress(JPEGLSLossless)


def _j2k_in_three_fragments(dataset: Dataset) -> None:
    dataset.compress(JPEG2000Lossless)
    (frame,) = generate_frames(dataset.PixelData, number_of_frames=1)
    dataset.PixelData = encapsulate([frame], fragments_per_frame=3)


@pytest.mark.parametrize(
    "mutate", [_j2k, _jpeg_ls, _j2k_in_three_fragments], ids=lambda f: f.__name__
)
def test_recorded_slices_load_without_parsing_and_match_the_uncompressed_ones(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, mutate: Callable[[Dataset], None]
) -> None:
    compressed = _copy(tmp_path, SIGNED, mutate)
    expected = load_volume(_only(tmp_path / "plain"), workers=1).array
    assert expected.min() < 0  # signed 12-bit values: the high bits matter
    series = _only(compressed)
    assert all(e is not None for e in series.encoded_slices)
    if mutate is _j2k_in_three_fragments:
        assert {len(e.fragments) for e in series.encoded_slices if e} == {3}

    def no_parsing(*_args: object, **_kwargs: object) -> None:
        raise AssertionError("a recorded slice was parsed again")

    monkeypatch.setattr(pixels_module, "_decode_with_pydicom", no_parsing)
    assert np.array_equal(load_volume(series, workers=1).array, expected)


def test_a_damaged_recorded_fragment_is_named_not_a_traceback(tmp_path: Path) -> None:
    compressed = _copy(tmp_path, SIGNED, _j2k)
    series = _only(compressed)
    path, encoded = series.files[0], series.encoded_slices[0]
    assert encoded is not None
    offset, length = encoded.fragments[0]
    with path.open("r+b") as stream:  # same size; keep the mtime the scan saw
        stream.seek(offset)
        stream.write(b"\0" * min(length, 64))
    os.utime(path, ns=(encoded.mtime_ns, encoded.mtime_ns))
    recorded = RecordedSlice(encoded, series.rows, series.columns, None)
    with pytest.raises(pixels_module.VolumeLoadError, match=r"JPEG 2000") as error:
        decode_recorded(path, recorded)
    assert str(path) in str(error.value)


@pytest.mark.shared
def test_every_recorded_syntax_of_the_real_matrix_decodes_as_pydicom_does(
    shared_samples: Path,
) -> None:
    """dcm_qa_ts: one MR slice in 9 syntaxes; pydicom's test files add sign traps."""
    files = sorted((shared_samples / "dcm_qa_ts" / "In").glob("*.dcm")) + [
        shared_samples / "pydicom" / "test_files" / name
        for name in (
            "J2K_pixelrep_mismatch.dcm",
            "JPEG2000.dcm",
            "JPEGLSNearLossless_08.dcm",
            "JPEGLSNearLossless_16.dcm",
            "MR_small_jpeg_ls_lossless.dcm",
        )
    ]
    seen: set[str] = set()
    for path in files:
        header = read_header(path)
        assert isinstance(header, FileHeader), path
        if header.encoded is None:
            continue
        seen.add(header.encoded.syntax)
        dataset = pydicom.dcmread(path)
        recorded = RecordedSlice(header.encoded, dataset.Rows, dataset.Columns, None)
        found = decode_recorded(path, recorded)
        assert found is not None, path
        assert np.array_equal(found[1], dataset.pixel_array), path
    # RLE, JPEG Lossless SV1, JPEG-LS (both), JPEG 2000 (both)
    assert seen >= {
        "1.2.840.10008.1.2.5",
        "1.2.840.10008.1.2.4.70",
        "1.2.840.10008.1.2.4.80",
        "1.2.840.10008.1.2.4.81",
        "1.2.840.10008.1.2.4.90",
        "1.2.840.10008.1.2.4.91",
    }
    assert seen <= RECORDED_SYNTAXES
