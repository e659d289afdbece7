"""RLE slices decoded from the fragment ``scan`` recorded, without parsing the file.

``scan`` records where a single-frame RLE Lossless image's one fragment lies
(:class:`~mrecist_reader.imaging.volume.EncodedSlice`). The loader reads those bytes
with one ``pread`` and decodes them with pylibjpeg-rle (Rust), instead of parsing the
header again and walking the fragments through pydicom. A file whose size or
modification time changed since the scan is parsed as before.
"""

import contextlib
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from mrecist_reader.imaging.files import open_regular_fd
from mrecist_reader.imaging.pixels import VolumeLoadError, _fix_high_bits, _Pixels
from mrecist_reader.imaging.volume import EncodedSlice


@dataclass(frozen=True, slots=True)
class RecordedSlice:
    """What a worker needs to decode one recorded slice (picklable)."""

    encoded: EncodedSlice
    rows: int
    columns: int
    position: tuple[float, float, float] | None


def decode_recorded(
    path: Path, recorded: RecordedSlice
) -> tuple[_Pixels, npt.NDArray[Any]] | None:
    """Return a recorded RLE slice's description and stored values.

    ``None`` when the file is no longer what the scan saw (another size or
    modification time, or its fragment cut short): the caller parses it again.

    Raises
    ------
    VolumeLoadError
        When the file cannot be read or its fragment is not valid RLE for the size.

    """
    from rle.utils import decode_pixel_data

    encoded = recorded.encoded
    offset, length = encoded.fragments[0]
    try:
        fd, status = open_regular_fd(path)
        with contextlib.closing(os.fdopen(fd, "rb", buffering=0)):
            if (status.st_size, status.st_mtime_ns) != (
                encoded.file_size,
                encoded.mtime_ns,
            ):
                return None
            data = os.pread(fd, length, offset)
    except OSError as error:
        raise VolumeLoadError(f"{path}: cannot read the file: {error}") from error
    if len(data) != length:
        return None
    pixels = _Pixels(
        path=path,
        frame=0,
        syntax=encoded.syntax,
        rows=recorded.rows,
        columns=recorded.columns,
        bits_allocated=encoded.bits_allocated,
        bits_stored=encoded.bits_stored,
        signed=encoded.signed,
        samples=1,
        slope=encoded.slope,
        intercept=encoded.intercept,
        offset=None,
        position=recorded.position,
    )
    try:
        raw = decode_pixel_data(
            data,
            version=2,
            rows=recorded.rows,
            columns=recorded.columns,
            bits_allocated=encoded.bits_allocated,
            byteorder="<",
        )
    except (ValueError, RuntimeError, TypeError) as error:
        raise VolumeLoadError(
            f"{path}: cannot decode pixel data (RLE Lossless): "
            f"{str(error).splitlines()[0] if str(error) else type(error).__name__}"
        ) from error
    expected = recorded.rows * recorded.columns * encoded.bits_allocated // 8
    if len(raw) != expected:
        raise VolumeLoadError(
            f"{path}: decoded RLE frame has {len(raw)} bytes, expected {expected}"
        )
    stored = np.frombuffer(raw, dtype=pixels.stored_dtype).reshape(
        recorded.rows, recorded.columns
    )
    _fix_high_bits(stored, pixels)
    return pixels, stored
