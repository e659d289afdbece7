"""Compressed series decoded by worker processes give the same voxels as threads."""

from dataclasses import replace
from pathlib import Path

import numpy as np
import pydicom
import pytest
from pydicom.uid import JPEG2000Lossless, RLELossless

from mrecist_reader.imaging import decode_pool
from mrecist_reader.imaging import load as load_module
from mrecist_reader.imaging.load import VolumeLoadError, load_volume, open_volume
from mrecist_reader.imaging.scan import scan
from tests.kit.dicom import SeriesSpec, compressed, rewrite, write_series

N_SLICES = decode_pool.MIN_SLICES + 4


def _compressed_series(folder: Path, syntax: str) -> list[Path]:
    paths = write_series(folder, SeriesSpec(n_slices=N_SLICES, rows=48, columns=40))
    rewrite(paths, compressed(syntax, "pylibjpeg"))
    return paths


@pytest.mark.parametrize("syntax", [RLELossless, JPEG2000Lossless], ids=["RLE", "J2K"])
def test_decoding_in_processes_gives_the_voxels_of_decoding_in_threads(
    tmp_path: Path, syntax: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    _compressed_series(tmp_path / "series", syntax)
    (series,) = scan(tmp_path / "series", use_index=False).series
    # recorded RLE fragments are decoded in this process (faster than a round trip):
    # without them, as for RLE that scan could not record, workers decode RLE too
    series = replace(series, encoded_slices=())
    assert decode_pool.processes_for(series.n_slices)
    in_processes = load_volume(series)
    assert decode_pool._pool is not None  # the worker processes were used
    monkeypatch.setattr(load_module, "processes_for", lambda count: False)
    in_threads = load_volume(series)
    assert in_processes.array.dtype == in_threads.array.dtype
    assert np.array_equal(in_processes.array, in_threads.array)
    assert np.array_equal(in_processes.affine, in_threads.affine)
    by_pydicom = np.stack(
        [
            pydicom.dcmread(f).pixel_array.astype(np.int32) * 1 - 1024
            for f in series.files
        ]
    )
    assert np.array_equal(in_processes.array, by_pydicom)


def test_a_requested_slice_is_decoded_at_once_and_matches_the_whole_volume(
    tmp_path: Path,
) -> None:
    _compressed_series(tmp_path / "series", RLELossless)
    (series,) = scan(tmp_path / "series", use_index=False).series
    loader = open_volume(series)
    middle = loader.request_slice(N_SLICES // 2).copy()
    volume = loader.wait()
    assert np.array_equal(middle, volume.array[N_SLICES // 2])


def test_a_damaged_compressed_file_decoded_by_a_process_is_named(
    tmp_path: Path,
) -> None:
    paths = _compressed_series(tmp_path / "series", RLELossless)
    (series,) = scan(tmp_path / "series", use_index=False).series
    damaged = series.files[5]
    data = bytearray(damaged.read_bytes())
    data[-200:] = b"\xff" * 200  # the end of the last RLE segment
    damaged.write_bytes(bytes(data))
    assert damaged in paths
    with pytest.raises(VolumeLoadError, match=damaged.name):
        load_volume(series)


def test_one_worker_starts_no_worker_process(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The start-up prefetch decodes one slice in a process that ends at once.

    Worker processes started there would still be booting when it exits (a traceback
    from multiprocessing on every start of the application).
    """
    _compressed_series(tmp_path / "series", RLELossless)
    (series,) = scan(tmp_path / "series", use_index=False).series
    monkeypatch.setattr(decode_pool, "_pool", None)
    loader = open_volume(series, workers=1)
    middle = loader.request_slice(N_SLICES // 2).copy()
    volume = loader.wait()
    assert decode_pool._pool is None
    assert np.array_equal(middle, volume.array[N_SLICES // 2])
