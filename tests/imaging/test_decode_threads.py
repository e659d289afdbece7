"""Recorded JPEG 2000, JPEG-LS and JPEG Lossless slices decoded by imagecodecs (issue 20).

imagecodecs' decoders release the GIL, so the loader's own threads decode compressed
series on every core. Its values must be pydicom's, bit for bit: the codestream's
signedness and precision corrected against PixelRepresentation as pydicom 3 does, the
bits above BitsStored fixed; whatever it cannot decode falls back to the pylibjpeg
codecs, and damaged data is an error naming the file, never a crash.
"""

import multiprocessing
import subprocess
import sys
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import imagecodecs
import numpy as np
import numpy.typing as npt
import pydicom
import pytest
from pydicom.dataset import Dataset
from pydicom.encaps import encapsulate, generate_frames
from pydicom.pixels.utils import get_j2k_parameters
from pydicom.uid import (
    JPEG2000Lossless,
    JPEGLosslessSV1,
    JPEGLSLossless,
    RLELossless,
)

from mrecist_reader.imaging import encoded as encoded_module
from mrecist_reader.imaging.encoded import (
    RecordedSlice,
    decode_parsed,
    decode_recorded,
)
from mrecist_reader.imaging.fastpath import _probe
from mrecist_reader.imaging.headers import FileHeader, read_header
from mrecist_reader.imaging.load import VolumeLoadError, load_volume, open_volume
from mrecist_reader.imaging.scan import scan
from mrecist_reader.imaging.volume import SeriesInfo
from tests.kit.dicom import SeriesSpec, compressed, rewrite, stored_values, write_series

N_SLICES = 20


def _signed(k: int) -> npt.NDArray[np.int64]:
    """Return stored values of both signs (12-bit signed range)."""
    return stored_values(SeriesSpec(rows=64, columns=72), k) - 300


SIGNED = SeriesSpec(
    n_slices=N_SLICES, rows=64, columns=72, signed=True, bits_stored=12, pixels=_signed
)


def _series(folder: Path) -> SeriesInfo:
    (series,) = scan(folder, use_index=False).series
    return series


def _by_pydicom(series: SeriesInfo) -> npt.NDArray[np.int64]:
    """Each file's ``pixel_array`` (pydicom 3), rescaled: the reference."""
    first = pydicom.dcmread(series.files[0], stop_before_pixels=True)
    slope, intercept = int(first.RescaleSlope), int(first.RescaleIntercept)
    return np.stack(
        [
            pydicom.dcmread(path).pixel_array.astype(np.int64) * slope + intercept
            for path in series.files
        ]
    )


class _Counted:
    """Count the frames imagecodecs decoded (and those left to pylibjpeg)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.by_imagecodecs = 0
        self.left = 0
        original = encoded_module._decode_releasing_gil

        def counted(*args: object) -> object:
            values = original(*args)  # type: ignore[arg-type]
            if values is None:
                self.left += 1
            else:
                self.by_imagecodecs += 1
            return values

        monkeypatch.setattr(encoded_module, "_decode_releasing_gil", counted)


def _jpeg_lossless(dataset: Dataset) -> None:
    """Compress into JPEG Lossless SV1 (pydicom has no encoder: libjpeg-turbo's)."""
    bits = dataset.pixel_array.astype(np.uint16) & ((1 << dataset.BitsStored) - 1)
    stream = imagecodecs.jpeg8_encode(
        bits, lossless=True, bitspersample=dataset.BitsStored, predictor=1
    )
    dataset.PixelData = encapsulate([bytes(stream)])
    dataset.file_meta.TransferSyntaxUID = JPEGLosslessSV1


@pytest.mark.parametrize(
    "syntax", [JPEG2000Lossless, JPEGLSLossless, JPEGLosslessSV1], ids=str
)
def test_a_compressed_series_decodes_in_threads_as_pydicom_does(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, syntax: str
) -> None:
    paths = write_series(tmp_path / "series", SIGNED)
    rewrite(paths, _jpeg_lossless if syntax == JPEGLosslessSV1 else compressed(syntax))
    series = _series(tmp_path / "series")
    assert all(e is not None for e in series.encoded_slices)
    counted = _Counted(monkeypatch)
    volume = load_volume(series)
    assert (counted.by_imagecodecs, counted.left) == (N_SLICES, 0)
    expected = _by_pydicom(series)
    assert expected.min() < -1024 < expected.max()  # both signs stored
    assert np.array_equal(volume.array, expected)


def _unsigned_stream_for_signed_pixels(syntax: str) -> Callable[[Dataset], None]:
    """Compress 12-bit two's complement values as an unsigned 12-bit codestream.

    The dataset then says PixelRepresentation 1 and BitsStored 16: pydicom sign-extends
    at the codestream's precision (12), not at BitsStored (a real writer's trap, as
    pydicom's J2K_pixelrep_mismatch.dcm).
    """

    def mutate(dataset: Dataset) -> None:
        values = dataset.pixel_array
        dataset.PixelRepresentation = 0
        dataset.PixelData = (values.astype(np.uint16) & 0xFFF).tobytes()
        dataset.compress(syntax)
        dataset.PixelRepresentation = 1
        dataset.BitsStored, dataset.HighBit = 16, 15

    return mutate


@pytest.mark.parametrize("syntax", [JPEG2000Lossless, JPEGLSLossless], ids=str)
def test_a_codestream_whose_sign_disagrees_with_the_header_is_corrected_as_pydicom_does(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, syntax: str
) -> None:
    folder = tmp_path / "series"
    write_series(folder, SIGNED)
    expected_stored = np.stack(
        [pydicom.dcmread(p).pixel_array for p in _series(folder).files]
    )
    rewrite(_series(folder).files, _unsigned_stream_for_signed_pixels(syntax))
    series = _series(folder)
    first = pydicom.dcmread(series.files[0])
    (frame,) = generate_frames(first.PixelData, number_of_frames=1)
    if syntax == JPEG2000Lossless:
        assert get_j2k_parameters(frame) == {
            "jp2": False,
            "precision": 12,
            "is_signed": False,
        }
    else:
        assert encoded_module._jpeg_precision(frame) == 12
    counted = _Counted(monkeypatch)
    volume = load_volume(series)
    assert counted.by_imagecodecs == N_SLICES
    assert np.array_equal(volume.array, _by_pydicom(series))
    assert np.array_equal(volume.array, expected_stored.astype(np.int64) - 1024)


def test_what_imagecodecs_cannot_decode_falls_back_to_pylibjpeg(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    paths = write_series(tmp_path / "series", SIGNED)
    rewrite(paths, compressed(JPEG2000Lossless))
    series = _series(tmp_path / "series")

    def refuses(*_args: object, **_kwargs: object) -> None:
        raise imagecodecs.Jpeg2kError("not this one")

    monkeypatch.setattr(imagecodecs, "jpeg2k_decode", refuses)
    counted = _Counted(monkeypatch)
    volume = load_volume(series)
    assert (counted.by_imagecodecs, counted.left) == (0, N_SLICES)
    assert np.array_equal(volume.array, _by_pydicom(series))


def _damaged(kind: str) -> Callable[[Dataset], None]:
    def mutate(dataset: Dataset) -> None:
        (frame,) = generate_frames(dataset.PixelData, number_of_frames=1)
        if kind == "truncated":
            frame = frame[: len(frame) // 2]
        elif kind == "header only":
            frame = frame[:40]
        else:  # garbage after a valid SOC + SIZ
            rng = np.random.default_rng(3)
            frame = frame[:60] + rng.integers(0, 256, 4000, np.uint8).tobytes()
        dataset.PixelData = encapsulate([frame])

    return mutate


@pytest.mark.parametrize("kind", ["truncated", "header only", "garbage"])
def test_a_hostile_codestream_is_an_error_naming_the_file_not_a_crash(
    tmp_path: Path, kind: str
) -> None:
    """Decoded in the application's own threads: a decoder must raise, not abort."""
    paths = write_series(tmp_path / "series", SIGNED)
    rewrite(paths, compressed(JPEG2000Lossless))
    series = _series(tmp_path / "series")
    hostile = series.files[7]
    rewrite([hostile], _damaged(kind))
    series = _series(tmp_path / "series")
    assert series.encoded_slices[7] is not None
    if kind == "garbage":  # J2K has no checksum: may decode to noise, as pydicom's
        try:
            reference = pydicom.dcmread(hostile).pixel_array
        except (RuntimeError, ValueError):
            reference = None
        if reference is not None:
            volume = load_volume(series)
            assert np.array_equal(volume.array[7], reference.astype(np.int64) - 1024)
            return
    with pytest.raises(VolumeLoadError, match=hostile.name):
        load_volume(series)


def test_the_requested_slice_is_decoded_first_and_matches_the_volume(
    tmp_path: Path,
) -> None:
    paths = write_series(tmp_path / "series", SIGNED)
    rewrite(paths, compressed(JPEG2000Lossless))
    series = _series(tmp_path / "series")
    loader = open_volume(series)
    middle = loader.request_slice(N_SLICES // 2).copy()
    volume = loader.wait()
    assert np.array_equal(middle, volume.array[N_SLICES // 2])
    assert loader.progress == 1.0


@pytest.mark.shared
def test_every_recorded_real_file_decodes_as_pydicom_does(
    shared_samples: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every single-frame compressed file of ../shared the scan records.

    Sign traps (J2K_pixelrep_mismatch, JLSL_16_15_1_1F), 8-bit JPEG-LS, lossy J2K and
    JPEG-LS, fragments in several items; a file pydicom cannot decode is an error naming
    it here too.
    """
    counted = _Counted(monkeypatch)
    checked: dict[str, str] = {}
    for path in sorted(p for p in shared_samples.rglob("*") if p.is_file()):
        header = read_header(path)
        if not isinstance(header, FileHeader) or header.encoded is None:
            continue
        dataset = pydicom.dcmread(path)
        recorded = RecordedSlice(header.encoded, dataset.Rows, dataset.Columns, None)
        try:
            expected = dataset.pixel_array
        except (RuntimeError, ValueError):
            with pytest.raises(VolumeLoadError, match=path.name):
                decode_recorded(path, recorded)
            checked[path.relative_to(shared_samples).as_posix()] = "refused by both"
            continue
        found = decode_recorded(path, recorded)
        assert found is not None, path
        assert found[1].dtype == expected.dtype, path
        assert np.array_equal(found[1], expected), path
        parsed = decode_parsed(_probe(path, 0)[0])  # as if the scan had not recorded it
        if header.encoded.syntax != RLELossless:
            assert parsed is not None, path
            assert np.array_equal(parsed, expected), path
        checked[path.relative_to(shared_samples).as_posix()] = header.encoded.syntax
    assert len(checked) >= 60
    for trap in (
        "pydicom/test_files/J2K_pixelrep_mismatch.dcm",
        "pydicom-data/JLSL_16_15_1_1F.dcm",
    ):
        assert checked[trap].startswith("1.2.840.10008.1.2.4."), trap
    refused = "pydicom/test_files/JPEG2000-embedded-sequence-delimiter.dcm"
    assert checked[refused] == "refused by both"
    # all but the one pydicom refuses too went through imagecodecs (RLE does not)
    rle = sum(syntax == "1.2.840.10008.1.2.5" for syntax in checked.values())
    assert counted.by_imagecodecs == 2 * (len(checked) - rle - 1)


def test_imagecodecs_is_imported_with_the_first_compressed_slice_not_at_start_up() -> (
    None
):
    """Start-up stays as fast as before: the codecs load lazily (as scipy does)."""
    script = (
        "import sys\n"
        "import mrecist_reader.desk.first_image, mrecist_reader.imaging.load\n"
        "import mrecist_reader.imaging.encoded, mrecist_reader.imaging.scan\n"
        "print('imagecodecs' in sys.modules)\n"
    )
    loaded = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    )
    assert loaded.stdout.strip() == "False"
    started = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "mrecist_reader", "--help"],
        capture_output=True,
        text=True,
        check=True,
    )
    imported = [
        line.rsplit("|", 1)[-1].strip()
        for line in started.stderr.splitlines()
        if line.startswith("import time:")
    ]
    assert "mrecist_reader" in imported
    assert not [name for name in imported if name.startswith("imagecodecs")]


@pytest.mark.parametrize("syntax", [RLELossless, JPEG2000Lossless], ids=["RLE", "J2K"])
def test_compressed_series_load_in_threads_recorded_or_not_and_start_no_process(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, syntax: str
) -> None:
    """Recorded or parsed again (the file changed, or scan could not record it)."""
    paths = write_series(tmp_path / "series", SIGNED)
    rewrite(paths, compressed(syntax, "pylibjpeg"))
    series = _series(tmp_path / "series")
    expected = _by_pydicom(series)
    recorded = load_volume(series)
    counted = _Counted(monkeypatch)
    parsed = load_volume(replace(series, encoded_slices=()))
    assert multiprocessing.active_children() == []
    # not recorded: J2K parsed by pydicom, decoded by imagecodecs; RLE by pydicom
    decoded_here = N_SLICES if syntax == JPEG2000Lossless else 0
    assert (counted.by_imagecodecs, counted.left) == (decoded_here, 0)
    assert recorded.array.dtype == parsed.array.dtype
    assert np.array_equal(recorded.array, expected)
    assert np.array_equal(parsed.array, expected)
    assert np.array_equal(recorded.affine, parsed.affine)


def test_a_damaged_file_parsed_again_is_named(tmp_path: Path) -> None:
    paths = write_series(tmp_path / "series", SIGNED)
    rewrite(paths, compressed(RLELossless, "pylibjpeg"))
    series = replace(_series(tmp_path / "series"), encoded_slices=())
    damaged = series.files[5]
    data = bytearray(damaged.read_bytes())
    data[-200:] = b"\xff" * 200  # the end of the last RLE segment
    damaged.write_bytes(bytes(data))
    with pytest.raises(VolumeLoadError, match=damaged.name):
        load_volume(series)


@pytest.mark.parametrize("syntax", [JPEG2000Lossless, JPEGLSLossless], ids=str)
def test_a_codestream_of_another_size_is_refused_before_decoding(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, syntax: str
) -> None:
    """A small header, a huge codestream: nothing is allocated for the stream's size."""
    paths = write_series(tmp_path / "series", SIGNED)
    rewrite(paths, compressed(syntax))
    other = write_series(
        tmp_path / "other", SeriesSpec(n_slices=2, rows=40, columns=48)
    )
    rewrite(other, compressed(syntax))
    (foreign,) = generate_frames(
        pydicom.dcmread(other[0]).PixelData, number_of_frames=1
    )
    hostile = paths[3]

    def swapped(dataset: Dataset) -> None:
        dataset.PixelData = encapsulate([foreign])

    rewrite([hostile], swapped)
    counted = _Counted(monkeypatch)
    with pytest.raises(VolumeLoadError, match=rf"{hostile.name}.*declares 48x40"):
        load_volume(_series(tmp_path / "series"), workers=1)
    assert counted.left == 0  # refused before any codec, imagecodecs or pylibjpeg
