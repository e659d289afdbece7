"""Compressed slices decoded from the fragments ``scan`` recorded, without parsing.

``scan`` records where a single-frame compressed image's fragments lie
(:class:`~mrecist_reader.imaging.volume.EncodedSlice`): RLE Lossless, JPEG 2000,
JPEG-LS and JPEG Lossless. The loader reads those bytes with one ``pread`` and hands
them to the codec itself instead of parsing the header again and walking the fragments
through pydicom. A file whose size or modification time changed since the scan is
parsed as before.

Codecs: RLE by pylibjpeg-rle (about 1 ms a 512 x 512 slice); JPEG 2000, JPEG-LS and
JPEG Lossless by imagecodecs (OpenJPEG, CharLS, libjpeg-turbo), whose decoders release
the GIL, so the loader's threads decode them on every core (measured in
``benchmarks/scan_codec_gil.py``: pylibjpeg-openjpeg and CharLS through pyjpegls hold
it). Their values are brought to what pydicom's ``pixel_array`` gives, bit for bit:
the codestream's own sign and precision (read from its SIZ or SOF marker) corrected
against PixelRepresentation as pydicom 3 does, then the bits above BitsStored. A frame
imagecodecs cannot decode, or decodes to another size, sample count or width than the
header's, is decoded by the pylibjpeg codecs as before (never an image of other values).
"""

import contextlib
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from mrecist_reader.imaging.files import open_regular, open_regular_fd
from mrecist_reader.imaging.pixels import (
    _PARSE_ERRORS,
    _SOF_MARKERS,
    VolumeLoadError,
    _fix_high_bits,
    _Pixels,
)
from mrecist_reader.imaging.volume import (
    J2K_SYNTAXES,
    LIBJPEG_SYNTAXES,
    RLE_SYNTAX,
    EncodedSlice,
)

JPEG_LS_SYNTAXES = frozenset(
    {"1.2.840.10008.1.2.4.80", "1.2.840.10008.1.2.4.81"}  # JPEG-LS (Near-)Lossless
)
_RELEASING = frozenset({*J2K_SYNTAXES, *LIBJPEG_SYNTAXES})
"""Syntaxes imagecodecs decodes here with the GIL released."""


@dataclass(frozen=True, slots=True)
class RecordedSlice:
    """What decoding one recorded slice needs, from the scan (no header parsed)."""

    encoded: EncodedSlice
    rows: int
    columns: int
    position: tuple[float, float, float] | None


def decode_recorded(
    path: Path, recorded: RecordedSlice
) -> tuple[_Pixels, npt.NDArray[Any]] | None:
    """Return a recorded slice's description and stored values.

    ``None`` when the file is no longer what the scan saw (another size or
    modification time, or its fragments cut short): the caller parses it again.

    Raises
    ------
    VolumeLoadError
        When the file cannot be read or its fragments do not decode to the image.

    """
    encoded = recorded.encoded
    data = _read_fragments(path, encoded)
    if data is None:
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
        stored = _decode(data, recorded, pixels.stored_dtype)
    except (ValueError, RuntimeError, TypeError) as error:
        raise VolumeLoadError(
            f"{path}: cannot decode pixel data ({_codec_name(encoded.syntax)}): "
            f"{str(error).splitlines()[0] if str(error) else type(error).__name__}"
        ) from error
    if stored.shape != (recorded.rows, recorded.columns):
        raise VolumeLoadError(
            f"{path}: cannot decode pixel data ({_codec_name(encoded.syntax)}): the "
            f"frame is {'x'.join(map(str, stored.shape[::-1]))} pixels, the header "
            f"says {recorded.columns}x{recorded.rows}"
        )
    _fix_high_bits(stored, pixels)
    return pixels, stored


def _read_fragments(path: Path, encoded: EncodedSlice) -> bytes | None:
    """Return the frame's bytes (fragments joined), None if the file changed."""
    first = encoded.fragments[0][0]
    last_offset, last_length = encoded.fragments[-1]
    span = last_offset + last_length - first
    try:
        fd, status = open_regular_fd(path)
        with contextlib.closing(os.fdopen(fd, "rb", buffering=0)):
            if (status.st_size, status.st_mtime_ns) != (
                encoded.file_size,
                encoded.mtime_ns,
            ):
                return None
            data = os.pread(fd, span, first)
    except OSError as error:
        raise VolumeLoadError(f"{path}: cannot read the file: {error}") from error
    if len(data) != span:
        return None
    if len(encoded.fragments) == 1:
        return data
    view = memoryview(data)
    return b"".join(
        view[offset - first : offset - first + length]
        for offset, length in encoded.fragments
    )


def _decode(
    data: bytes, recorded: RecordedSlice, dtype: np.dtype[Any]
) -> npt.NDArray[Any]:
    """Return the frame's stored values as a writable (rows, columns) array of ``dtype``.

    A codec's own sign or width (a JPEG-LS or JPEG 2000 stream of unsigned samples for
    signed pixels, 8-bit samples in 16 bits allocated) is brought to ``dtype`` bit for
    bit or value for value; bits above BitsStored are fixed by the caller.
    """
    syntax = recorded.encoded.syntax
    if syntax == RLE_SYNTAX:
        from rle.utils import decode_pixel_data

        raw = decode_pixel_data(
            data,
            version=2,
            rows=recorded.rows,
            columns=recorded.columns,
            bits_allocated=recorded.encoded.bits_allocated,
            byteorder="<",
        )
        expected = recorded.rows * recorded.columns * dtype.itemsize
        if len(raw) != expected:
            raise ValueError(f"decoded frame has {len(raw)} bytes, expected {expected}")
        return np.frombuffer(raw, dtype=dtype).reshape(recorded.rows, recorded.columns)
    declared = _declared_size(data, syntax)
    if declared is not None and declared != (recorded.rows, recorded.columns):
        raise ValueError(  # checked before a codec allocates what the stream declares
            f"the codestream declares {declared[1]}x{declared[0]} pixels, the header "
            f"{recorded.columns}x{recorded.rows}"
        )
    encoded = recorded.encoded
    released = _decode_releasing_gil(
        data,
        _Frame(
            syntax, recorded.rows, recorded.columns, encoded.signed, encoded.bits_stored
        ),
        dtype,
    )
    if released is not None:
        return released
    if syntax in J2K_SYNTAXES:
        from openjpeg.utils import decode as decode_j2k

        decoded: npt.NDArray[Any] = decode_j2k(data)
    elif syntax in LIBJPEG_SYNTAXES:
        from libjpeg.utils import decode as decode_jpeg

        decoded = decode_jpeg(data)
    else:  # pragma: no cover - EncodedSlice is recorded only for the syntaxes above
        raise ValueError(f"no codec for transfer syntax {syntax}")
    if decoded.dtype.itemsize == dtype.itemsize:
        return decoded.view(dtype)
    return decoded.astype(dtype)


@dataclass(frozen=True, slots=True)
class _Frame:
    """What the decoding of one monochrome frame needs from its header."""

    syntax: str
    rows: int
    columns: int
    signed: bool
    bits_stored: int


def decode_parsed(pixels: _Pixels) -> npt.NDArray[Any] | None:
    """Return a parsed single-frame monochrome image's stored values, by imagecodecs.

    For JPEG 2000, JPEG-LS and JPEG Lossless images ``scan`` did not record (the file
    changed since, or the scan index lacks them): the file is read with pydicom, its
    frame decoded with the GIL released, values brought to pydicom's as for recorded
    frames. None: left to pydicom (another syntax, colour or palette, several frames,
    a Modality LUT Sequence, or anything imagecodecs cannot decode exactly).
    """
    if (
        pixels.syntax not in _RELEASING
        or pixels.samples != 1
        or pixels.frame != 0
        or pixels.lut is not None
        or not pixels.has_meta
    ):
        return None
    import pydicom
    from pydicom.encaps import generate_frames

    from mrecist_reader.imaging.headers import _encoded_slice

    try:
        with open_regular(pixels.path) as stream:
            dataset = pydicom.dcmread(stream, force=True)
        # the scan's own rules for what it records (MONOCHROME2, one frame, a plain
        # PlanarConfiguration, no functional groups or Modality LUT...): nothing else
        if _encoded_slice(dataset, ((0, 1),), file_stat=(0, 0)) is None:
            return None
        (data,) = generate_frames(dataset.PixelData, number_of_frames=1)
    except _PARSE_ERRORS:
        return None  # pydicom reads it again and names what is wrong
    frame = _Frame(
        pixels.syntax, pixels.rows, pixels.columns, pixels.signed, pixels.bits_stored
    )
    declared = _declared_size(data, pixels.syntax)
    if declared is not None and declared != (pixels.rows, pixels.columns):
        return None
    values = _decode_releasing_gil(data, frame, pixels.stored_dtype)
    if values is not None:
        _fix_high_bits(values, pixels)
    return values


def _decode_releasing_gil(
    data: bytes, frame: _Frame, dtype: np.dtype[Any]
) -> npt.NDArray[Any] | None:
    """Decode a JPEG 2000, JPEG-LS or JPEG Lossless frame with imagecodecs.

    Returns the stored values as pydicom gives them (before the bits above BitsStored
    are fixed), or None when imagecodecs cannot decode the frame to exactly that: an
    error, another size, more than one sample, another width than ``dtype``'s.
    """
    import imagecodecs

    syntax = frame.syntax
    try:
        if syntax in J2K_SYNTAXES:
            decoded = imagecodecs.jpeg2k_decode(data, numthreads=1)
        elif syntax in JPEG_LS_SYNTAXES:
            decoded = imagecodecs.jpegls_decode(data)
        else:
            decoded = imagecodecs.jpeg8_decode(data)
    except (RuntimeError, ValueError, TypeError, MemoryError):
        return None  # the pylibjpeg codecs try, and name what is wrong
    if (
        decoded.shape != (frame.rows, frame.columns)
        or decoded.dtype.kind not in "iu"
        or decoded.dtype.itemsize != dtype.itemsize
    ):
        return None
    values: npt.NDArray[Any] = decoded.view(dtype)
    shift = _sign_correction(data, frame, dtype)
    if shift < 0:
        return None
    if shift:
        values <<= shift
        values >>= shift
    return values


def _sign_correction(data: bytes, frame: _Frame, dtype: np.dtype[Any]) -> int:
    """Return the shift pydicom 3 applies to a codec's values (0: none; <0: unknown).

    JPEG 2000 whose codestream signedness disagrees with PixelRepresentation, and
    signed JPEG-LS (which has no sign), are sign-extended or masked at the codestream's
    precision (``pydicom.pixels.decoders.base._apply_sign_correction``).
    """
    width = 8 * dtype.itemsize
    if frame.syntax in J2K_SYNTAXES:
        from pydicom.pixels.utils import get_j2k_parameters

        found = get_j2k_parameters(data)
        signed = bool(found.get("is_signed", frame.signed))
        precision = int(found.get("precision", frame.bits_stored))
        return width - precision if signed != frame.signed else 0
    if frame.syntax in JPEG_LS_SYNTAXES and frame.signed:
        return width - (_jpeg_precision(data) or frame.bits_stored)
    return 0


_FRAME_MARKERS = _SOF_MARKERS | {0xF7}
"""JPEG start-of-frame markers (SOF0-SOF15) and JPEG-LS's SOF55."""


def _jpeg_frame(data: bytes) -> tuple[int, int, int] | None:
    """Return (precision, rows, columns) of a JPEG or JPEG-LS stream's frame header."""
    if data[:2] != b"\xff\xd8":
        return None
    offset = 2
    while offset + 9 <= len(data):
        if data[offset] != 0xFF:
            return None
        marker = data[offset + 1]
        if marker in _FRAME_MARKERS:
            rows = int.from_bytes(data[offset + 5 : offset + 7], "big")
            columns = int.from_bytes(data[offset + 7 : offset + 9], "big")
            return data[offset + 4], rows, columns
        offset += 2 + int.from_bytes(data[offset + 2 : offset + 4], "big")
    return None


def _jpeg_precision(data: bytes) -> int | None:
    """Return the sample precision of a JPEG or JPEG-LS stream's frame header."""
    frame = _jpeg_frame(data)
    return None if frame is None else frame[0]


def _declared_size(data: bytes, syntax: str) -> tuple[int, int] | None:
    """Return the (rows, columns) a codestream declares; None when not read here.

    Called for the syntaxes imagecodecs decodes (RLE is decoded before, unchecked).
    JPEG 2000: the SIZ segment of a bare codestream (image size less its offset);
    JPEG family: the frame header (0 rows: defined later by a DNL marker, not read).
    """
    if syntax in J2K_SYNTAXES:
        if data[:4] != b"\xff\x4f\xff\x51" or len(data) < 24:
            return None
        x, y, x_offset, y_offset = (
            int.from_bytes(data[k : k + 4], "big") for k in (8, 12, 16, 20)
        )
        return y - y_offset, x - x_offset
    frame = _jpeg_frame(data)
    return None if frame is None or frame[1] == 0 else (frame[1], frame[2])


def _codec_name(syntax: str) -> str:
    if syntax == RLE_SYNTAX:
        return "RLE Lossless"
    if syntax in J2K_SYNTAXES:
        return "JPEG 2000"
    return "JPEG-LS" if syntax in JPEG_LS_SYNTAXES else "JPEG Lossless"
