"""Decode a scanned series into a :class:`Volume` (modality LUT applied, CT in HU).

Two ways to read a slice:

- **Fast path** (little-endian uncompressed, MONOCHROME2, no Modality LUT Sequence): a
  small header walker finds the Pixel Data offset and the rescale tags of the first
  file; the other files are checked against that layout (each element found at its
  offset or a few bytes away, so no walk) and their bytes are read straight into the
  preallocated output array (``readinto``), then rescaled in place. No pydicom parse,
  no intermediate copy. Native enhanced multi-frame files read each frame at its
  offset after one pydicom header parse.
- **pydicom path** (everything else: JPEG Lossless, JPEG-LS, JPEG 2000, RLE, deflate, big
  endian, files without preamble, enhanced multi-frame CT/MR with per-frame functional
  groups, Modality LUT Sequence), using the pylibjpeg plugins (a multi-frame file is
  decoded in chunks of frames with one header parse each, ``iter_pixels``), and GDCM
  (python-gdcm) directly for what pydicom's plugins cannot decode (12-bit JPEG
  Extended).

Slices are decoded by a thread pool of one thread per core: file reads and the C codecs
release the GIL. Output dtype: the stored integer dtype when the rescale is the identity;
int16 when slope and intercept are integers and the values fit (checked per slice when
the BitsStored range alone does not prove it; int32 otherwise); float32 for non-integer
rescales. Never a float64 copy of the whole volume.

The affine comes from the slice positions (first to last, divided by ``n - 1``), so gantry
tilt shears the volume correctly. A series with several images per position (4-D) or with
duplicate positions is refused with :class:`VolumeLoadError`. A series with non-uniform
spacing or missing slices loads with that mean step (its ``warnings`` say so: distances
across slices are then approximate; in-plane measurements are exact).
"""

import dataclasses
import functools
import logging
import os
import struct
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from mrecist_reader.core.errors import MrecistError
from mrecist_reader.imaging.geometry import series_affine
from mrecist_reader.imaging.headers import (
    LONG_VRS,
    UNDEFINED_LENGTH,
    native_pixel_element,
    quiet_pydicom,
)
from mrecist_reader.imaging.volume import NativeSlice, SeriesInfo, Volume

logger = logging.getLogger(__name__)

EXPLICIT_LE = "1.2.840.10008.1.2.1"
IMPLICIT_LE = "1.2.840.10008.1.2"
EXPLICIT_BE = "1.2.840.10008.1.2.2"
DEFLATED = "1.2.840.10008.1.2.1.99"
_NATIVE = {EXPLICIT_LE, IMPLICIT_LE}
_PROBE_BYTES = 1 << 16
_REFUSED = ("4-D series", "duplicate positions", "at one position")


__all__ = [
    "VolumeLoadError",
    "VolumeLoader",
    "load_volume",
    "open_volume",
    "series_affine",  # moved to geometry; kept importable here
]


class VolumeLoadError(MrecistError):
    """A series cannot be loaded as a volume; the message names the file and the reason."""


@dataclass(frozen=True, slots=True)
class _Pixels:
    """How to get one slice's stored values and turn them into modality values."""

    path: Path
    frame: int
    syntax: str
    rows: int
    columns: int
    bits_allocated: int
    bits_stored: int
    signed: bool
    samples: int
    slope: float
    intercept: float
    offset: int | None  # byte offset of this frame's pixels (fast path) or None
    position: tuple[float, float, float] | None
    lut: Any = None  # pydicom Dataset when a Modality LUT Sequence applies
    has_meta: bool = True  # False: no File Meta Information (syntax was guessed)

    @property
    def stored_dtype(self) -> np.dtype[Any]:
        """Return the numpy dtype of the stored values."""
        kind = "i" if self.signed else "u"
        return np.dtype(f"<{kind}{max(1, self.bits_allocated // 8)}")


# ---------------------------------------------------------------- header walker


class _Walker:
    """Walk top-level elements of a little-endian dataset held in ``buf``."""

    def __init__(self, buf: bytes, *, implicit: bool) -> None:
        self.buf = buf
        self.implicit = implicit

    def element(self, pos: int) -> tuple[int, bytes, int, int]:
        """Return ``(tag, vr, length, value_offset)`` of the element at ``pos``."""
        group, elem = struct.unpack_from("<HH", self.buf, pos)
        tag = (group << 16) | elem
        if self.implicit or group == 0xFFFE:
            (length,) = struct.unpack_from("<I", self.buf, pos + 4)
            return tag, b"", length, pos + 8
        vr = self.buf[pos + 4 : pos + 6]
        if vr in LONG_VRS:
            (length,) = struct.unpack_from("<I", self.buf, pos + 8)
            return tag, vr, length, pos + 12
        (length,) = struct.unpack_from("<H", self.buf, pos + 6)
        return tag, vr, length, pos + 8

    def skip_undefined(self, pos: int, end_tag: int) -> int:
        """Skip nested content until ``end_tag`` (item or sequence delimiter)."""
        while True:
            tag, _vr, length, value = self.element(pos)
            if tag == end_tag:
                return value
            if length == UNDEFINED_LENGTH:
                inner_end = 0xFFFEE00D if tag == 0xFFFEE000 else 0xFFFEE0DD
                pos = self.skip_undefined(value, inner_end)
            else:
                pos = value + length


_WANTED = {
    0x00280002: "samples",
    0x00280004: "photometric",
    0x00280008: "frames",
    0x00280010: "rows",
    0x00280011: "columns",
    0x00280100: "bits_allocated",
    0x00280101: "bits_stored",
    0x00280103: "pixel_representation",
    0x00281052: "intercept",
    0x00281053: "slope",
    0x00200032: "position",
}
_SHORTS = {"samples", "rows", "columns", "bits_allocated", "bits_stored"}
_SHORTS |= {"pixel_representation"}
_FORCE_PYDICOM = {0x00283000, 0x52009229, 0x52009230, 0x00280009}


def _meta_syntax(buf: bytes) -> tuple[str, int, int] | None:
    if buf[128:132] != b"DICM":
        return None
    walker = _Walker(buf, implicit=False)
    pos = 132
    syntax = ""
    check = 0
    while pos + 8 <= len(buf):
        tag, _vr, length, value = walker.element(pos)
        if tag >> 16 != 0x0002:
            return syntax, pos, check
        if tag == 0x00020010:
            syntax = buf[value : value + length].decode("ascii", "replace").strip("\0 ")
            check = pos
        pos = value + length
    return None


@dataclass(frozen=True, slots=True)
class _Entry:
    """One element of a layout: its name, offset and the bytes that identify it."""

    name: str  # a _WANTED name, "syntax" or "pixels"
    offset: int
    key: bytes  # tag (+ VR in explicit VR) bytes
    length_format: str  # "<H" or "<I"
    header_length: int  # 8 or 12


@dataclass(frozen=True, slots=True)
class _Layout:
    """Where a native file's elements sit, to re-read similar files without a walk.

    Files of one series written by one scanner have nearly identical header layouts;
    only some values (positions, times) change length. :func:`_locate` finds each
    recorded element at its offset, or within a few bytes of it after the previous
    element's shift, so most files need no element-by-element walk.
    """

    syntax: str
    entries: tuple[_Entry, ...]
    pixel_value_offset: int
    absent: tuple[
        bytes, ...
    ] = ()  # tags of wanted/refused elements the first file lacks


FRAMES_PER_TASK = 16
"""Frames of one multi-frame file decoded per task (one header parse each)."""

_DRIFT = 64
"""Bytes an element may move relative to the previous one between files of a series."""


def _entry(name: str, buf: bytes, pos: int, *, implicit: bool) -> _Entry:
    if implicit:
        return _Entry(name, pos, buf[pos : pos + 4], "<I", 8)
    long_vr = buf[pos + 4 : pos + 6] in LONG_VRS
    return _Entry(
        name, pos, buf[pos : pos + 6], "<I" if long_vr else "<H", 12 if long_vr else 8
    )


def _locate(buf: bytes, layout: _Layout) -> tuple[dict[str, bytes], int, int] | None:
    """Return (raw values by name, pixel value offset, pixel length) or None."""
    delta = 0
    floor = 0
    values: dict[str, bytes] = {}
    for entry in layout.entries:
        expected = entry.offset + delta
        if buf[expected : expected + len(entry.key)] != entry.key:
            start = max(floor, expected - _DRIFT)
            expected = buf.find(entry.key, start, expected + _DRIFT + len(entry.key))
            if expected < 0:
                return None
            delta = expected - entry.offset
        length_at = (
            expected + entry.header_length - (4 if entry.length_format == "<I" else 2)
        )
        (length,) = struct.unpack_from(entry.length_format, buf, length_at)
        value = expected + entry.header_length
        if entry.name == "pixels":
            if any(buf.find(tag, 0, expected) >= 0 for tag in layout.absent):
                return None  # an element the first file lacks: walk this one
            return values, value, length
        values[entry.name] = buf[value : value + length]
        floor = value + length
    return None


def _fast_probe(path: Path, frame: int) -> tuple[_Pixels, _Layout] | None:
    """Return the slice's pixel layout from raw bytes, or None to use pydicom."""
    with path.open("rb") as stream:
        buf = stream.read(_PROBE_BYTES)
    try:
        layout = _walk_for_layout(buf)
        if layout is None:
            return None
        pixels = _pixels_from_buffer(path, frame, buf, layout)
    except (struct.error, ValueError, IndexError, KeyError, RecursionError):
        return None
    return (pixels, layout) if pixels is not None else None


def _walk_for_layout(buf: bytes) -> _Layout | None:
    meta = _meta_syntax(buf)
    if meta is None or meta[0] not in _NATIVE:
        return None
    syntax, pos, syntax_at = meta
    implicit = syntax == IMPLICIT_LE
    walker = _Walker(buf, implicit=implicit)
    entries = [_entry("syntax", buf, syntax_at, implicit=False)]
    while pos + 12 <= len(buf):
        tag, _vr, length, value = walker.element(pos)
        if tag in _FORCE_PYDICOM:
            return None
        if tag == 0x7FE00010:
            if length == UNDEFINED_LENGTH:
                return None
            entries.append(_entry("pixels", buf, pos, implicit=implicit))
            return _Layout(syntax, tuple(entries), value, _absent_tags(entries, buf))
        if tag > 0x7FE00010:
            return None
        if length == UNDEFINED_LENGTH:
            pos = walker.skip_undefined(value, 0xFFFEE0DD)
            continue
        name = _WANTED.get(tag)
        if name is not None:
            entries.append(_entry(name, buf, pos, implicit=implicit))
        pos = value + length
    return None


def _absent_tags(entries: list[_Entry], buf: bytes) -> tuple[bytes, ...]:
    present = {struct.unpack_from("<HH", buf, e.offset) for e in entries}
    tags = [*_WANTED, *_FORCE_PYDICOM]
    return tuple(
        struct.pack("<HH", tag >> 16, tag & 0xFFFF)
        for tag in tags
        if (tag >> 16, tag & 0xFFFF) not in present
    )


def _pixels_from_buffer(
    path: Path, frame: int, buf: bytes, layout: _Layout
) -> _Pixels | None:
    found = _template_from_buffer(frame, buf, layout)
    if found is None:
        return None
    template, position = found
    return dataclasses.replace(template, path=path, position=position)


def _template_from_buffer(
    frame: int, buf: bytes, layout: _Layout
) -> tuple[_Pixels, tuple[float, float, float] | None] | None:
    """Return the slice's path-independent description and its position, or None."""
    located = _locate(buf, layout)
    if located is None:
        return None
    raw_values, pixel_value_offset, pixel_length = located
    raw_position = raw_values.pop("position", b"")
    key = (
        tuple(raw_values.items()),
        layout.syntax,
        frame,
        pixel_value_offset,
        pixel_length,
    )
    template = _pixel_template(key)
    if template is None:
        return None
    position = _ds_triplet(raw_position.decode("ascii", "replace").strip("\0 "))
    return template, position


@functools.lru_cache(maxsize=64)
def _pixel_template(
    key: tuple[tuple[tuple[str, bytes], ...], str, int, int, int],
) -> _Pixels | None:
    """Return the path-independent pixel description of raw header values.

    Cached: the files of a series mostly share these values, so each is parsed once.
    """
    raw_values, syntax, frame, pixel_value_offset, pixel_length = key
    values = dict(raw_values)
    if values.pop("syntax", b"").decode("ascii", "replace").strip("\0 ") != syntax:
        return None
    found: dict[str, Any] = {
        name: struct.unpack_from("<H", raw)[0]
        if name in _SHORTS
        else raw.decode("ascii", "replace").strip("\0 ")
        for name, raw in values.items()
    }
    return _pixels_from_values(
        frame,
        found,
        syntax=syntax,
        pixel_value_offset=pixel_value_offset,
        pixel_length=pixel_length,
    )


def _pixels_from_values(
    frame: int,
    found: dict[str, Any],
    *,
    syntax: str,
    pixel_value_offset: int,
    pixel_length: int,
) -> _Pixels | None:
    samples = int(found.get("samples", 1))
    photometric = str(found.get("photometric", "MONOCHROME2"))
    bits = int(found.get("bits_allocated", 0))
    if samples != 1 or photometric != "MONOCHROME2" or bits not in (8, 16, 32):
        return None
    rows, columns = int(found["rows"]), int(found["columns"])
    n_frames = int(str(found.get("frames") or "1").strip() or 1)
    frame_bytes = rows * columns * bits // 8
    if pixel_length < frame_bytes * n_frames or frame >= n_frames:
        return None
    return _Pixels(
        path=Path(),
        frame=frame,
        syntax=syntax,
        rows=rows,
        columns=columns,
        bits_allocated=bits,
        bits_stored=int(found.get("bits_stored", bits)),
        signed=int(found.get("pixel_representation", 0)) == 1,
        samples=1,
        slope=_ds(found.get("slope"), 1.0),
        intercept=_ds(found.get("intercept"), 0.0),
        offset=pixel_value_offset + frame * frame_bytes,
        position=_ds_triplet(found.get("position")),
    )


def _ds(text: Any, default: float) -> float:
    try:
        return float(str(text).split("\\")[0]) if text not in (None, "") else default
    except ValueError:
        return default


def _ds_triplet(text: Any) -> tuple[float, float, float] | None:
    if not text:
        return None
    try:
        values = [float(v) for v in str(text).split("\\")]
    except ValueError:
        return None
    return (values[0], values[1], values[2]) if len(values) == 3 else None


# ---------------------------------------------------------------- pydicom path


def _read_header_dataset(path: Path) -> Any:
    """Return the pydicom header (no pixels) of ``path`` (cached while unchanged)."""
    try:
        stat = path.stat()
    except OSError as error:
        raise VolumeLoadError(f"{path}: cannot read the file: {error}") from error
    return _cached_header(path, stat.st_mtime_ns, stat.st_size)


@functools.lru_cache(maxsize=4)
def _cached_header(path: Path, mtime_ns: int, size: int) -> Any:
    """Parse a header once: multi-frame files are asked for frame after frame."""
    import pydicom
    from pydicom.errors import InvalidDicomError

    del mtime_ns, size  # cache key only
    try:
        with path.open("rb") as stream:
            dataset = pydicom.dcmread(stream, stop_before_pixels=True, force=True)
            element_offset = stream.tell()  # dcmread stops right before Pixel Data
            element = stream.read(12)
    except (InvalidDicomError, OSError, ValueError, EOFError, struct.error) as error:
        raise VolumeLoadError(f"{path}: cannot read the header: {error}") from error
    return dataset, _native_pixel_offset(
        dataset, stream_offset=element_offset, raw=element
    )


def _native_pixel_offset(dataset: Any, *, stream_offset: int, raw: bytes) -> int | None:
    """Return the file offset of native little-endian Pixel Data values, else None."""
    syntax = str(getattr(dataset.get("file_meta"), "TransferSyntaxUID", "") or "")
    found = native_pixel_element(syntax, raw)
    return None if found is None else stream_offset + found[0]


def _pydicom_probe(path: Path, frame: int) -> _Pixels:
    return _pixels_from_dataset(_read_header_dataset(path), path, frame)


def _pixels_from_dataset(
    header: tuple[Any, int | None], path: Path, frame: int
) -> _Pixels:
    """Return one frame's pixel description from a pydicom header.

    Native little-endian monochrome frames get a byte ``offset`` (read directly, even
    inside enhanced multi-frame files); others are left to pydicom's decoders.
    """
    dataset, pixel_offset = header
    meta = dataset.get("file_meta")
    syntax = str(getattr(meta, "TransferSyntaxUID", "") or "")
    has_meta = bool(syntax)
    if not syntax:
        syntax = IMPLICIT_LE if dataset.is_implicit_VR else EXPLICIT_LE
        if not dataset.is_little_endian:
            syntax = EXPLICIT_BE
    slope, intercept = _frame_rescale(dataset, frame)
    position = _frame_position(dataset, frame)
    samples = int(dataset.get("SamplesPerPixel", 1) or 1)
    if samples not in (1, 3):
        raise VolumeLoadError(
            f"{path}: images with {samples} samples per pixel are not supported "
            "(expected 1, grey, or 3, colour)"
        )
    if samples == 3:
        slope, intercept = 1.0, 0.0  # colour values have no modality rescale
    lut = dataset if "ModalityLUTSequence" in dataset and samples == 1 else None
    rows, columns = int(dataset.Rows), int(dataset.Columns)
    bits = int(dataset.get("BitsAllocated", 16) or 16)
    direct = (
        pixel_offset is not None
        and lut is None
        and bits in (8, 16, 32)
        and str(dataset.get("PhotometricInterpretation", "")) == "MONOCHROME2"
    )
    return _Pixels(
        path=path,
        frame=frame,
        syntax=syntax,
        rows=rows,
        columns=columns,
        bits_allocated=bits,
        bits_stored=int(dataset.get("BitsStored", bits) or bits),
        signed=int(dataset.get("PixelRepresentation", 0) or 0) == 1,
        samples=samples,
        slope=slope,
        intercept=intercept,
        offset=pixel_offset + frame * rows * columns * bits // 8
        if direct and pixel_offset is not None
        else None,
        position=position,
        lut=lut,
        has_meta=has_meta,
    )


def _frame_rescale(dataset: Any, frame: int) -> tuple[float, float]:
    slope = _ds(dataset.get("RescaleSlope"), 1.0)
    intercept = _ds(dataset.get("RescaleIntercept"), 0.0)
    for sequence_name, index in (
        ("SharedFunctionalGroupsSequence", 0),
        ("PerFrameFunctionalGroupsSequence", frame),
    ):
        groups = dataset.get(sequence_name)
        if not groups or index >= len(groups):
            continue
        transform = groups[index].get("PixelValueTransformationSequence")
        if transform:
            slope = _ds(transform[0].get("RescaleSlope"), slope)
            intercept = _ds(transform[0].get("RescaleIntercept"), intercept)
    return slope, intercept


def _frame_position(dataset: Any, frame: int) -> tuple[float, float, float] | None:
    groups = dataset.get("PerFrameFunctionalGroupsSequence")
    if groups and frame < len(groups):
        plane = groups[frame].get("PlanePositionSequence")
        if plane and plane[0].get("ImagePositionPatient"):
            values = [float(v) for v in plane[0].ImagePositionPatient]
            return (values[0], values[1], values[2])
    position = dataset.get("ImagePositionPatient")
    if position and len(position) == 3:
        return (float(position[0]), float(position[1]), float(position[2]))
    return None


def _decode_with_pydicom(pixels: _Pixels) -> npt.NDArray[Any]:
    from pydicom.pixels.utils import pixel_array
    from pydicom.uid import UID

    options: dict[str, Any] = {}
    if not pixels.has_meta:
        options["transfer_syntax_uid"] = UID(pixels.syntax)
    try:
        if pixels.syntax == DEFLATED:  # pydicom inflates whole datasets only
            import pydicom

            dataset = pydicom.dcmread(pixels.path, force=True)
            return as_grey(pixel_array(dataset, index=pixels.frame), pixels.samples)
        decoded = pixel_array(str(pixels.path), index=pixels.frame, **options)
        return as_grey(decoded, pixels.samples)
    except (
        RuntimeError,
        NotImplementedError,
        ValueError,
        TypeError,
        AttributeError,
        KeyError,
    ) as error:
        try:
            return _decode_with_gdcm(pixels)
        except VolumeLoadError:
            pass
        raise VolumeLoadError(
            f"{pixels.path}: cannot decode pixel data ({_syntax_name(pixels.syntax)}): "
            f"{str(error).splitlines()[0]}"
        ) from error


LUMA_WEIGHTS = (0.299, 0.587, 0.114)
"""ITU-R BT.601 luma weights of red, green and blue."""


def as_grey(decoded: Any, samples: int) -> npt.NDArray[Any]:
    """Return decoded pixels as one grey value per pixel.

    Colour (3 samples, RGB as pydicom returns it, YBR converted) becomes its luminance
    (ITU-R BT.601) in the same integer dtype: the viewer and the measurement work on
    grey values, and a colour series (a secondary capture, a fused or annotated image)
    can then still be looked at.
    """
    values: npt.NDArray[Any] = np.asarray(decoded)
    if samples != 3 or values.ndim != 3 or values.shape[-1] != 3:
        return values
    luma = values @ np.asarray(LUMA_WEIGHTS, dtype=np.float32)
    grey: npt.NDArray[Any] = np.rint(luma).astype(values.dtype)
    return grey


def _decode_with_gdcm(pixels: _Pixels) -> npt.NDArray[Any]:
    """Decode with python-gdcm (12-bit JPEG Extended and other pydicom failures)."""
    try:
        return _gdcm_frame(pixels)
    except (RuntimeError, TypeError, ValueError, AttributeError) as error:
        raise VolumeLoadError(
            f"{pixels.path}: GDCM cannot decode it: {error}"
        ) from error


def _gdcm_frame(pixels: _Pixels) -> npt.NDArray[Any]:
    import gdcm

    reader = gdcm.ImageReader()
    reader.SetFileName(str(pixels.path))
    if not reader.Read():
        raise VolumeLoadError(f"{pixels.path}: GDCM cannot read the file")
    image = reader.GetImage()
    scalar = image.GetPixelFormat().GetScalarTypeAsString()
    dtypes = {"UINT8": "u1", "INT8": "i1", "UINT16": "<u2", "INT16": "<i2"}
    dtypes |= {"UINT32": "<u4", "INT32": "<i4"}
    if scalar not in dtypes or image.GetPixelFormat().GetSamplesPerPixel() != 1:
        raise VolumeLoadError(
            f"{pixels.path}: GDCM pixel format {scalar} not supported"
        )
    buffer = image.GetBuffer()
    if buffer is None:
        raise VolumeLoadError(f"{pixels.path}: GDCM returned no pixels")
    raw = (
        buffer.encode("utf-8", "surrogateescape") if isinstance(buffer, str) else buffer
    )
    values = np.frombuffer(raw, dtype=np.dtype(dtypes[scalar]))
    per_frame = pixels.rows * pixels.columns
    start = pixels.frame * per_frame
    if values.size < start + per_frame:
        raise VolumeLoadError(f"{pixels.path}: GDCM returned too few pixels")
    return values[start : start + per_frame].reshape(pixels.rows, pixels.columns)


def _syntax_name(syntax: str) -> str:
    try:
        from pydicom.uid import UID

        return f"{UID(syntax).name} {syntax}" if syntax else "unknown transfer syntax"
    except (ValueError, KeyError):
        return syntax


# ---------------------------------------------------------------- dtype planning


def _value_range(pixels: _Pixels) -> tuple[float, float]:
    bits = max(1, min(pixels.bits_stored, pixels.bits_allocated))
    low, high = (
        (-(2 ** (bits - 1)), 2 ** (bits - 1) - 1) if pixels.signed else (0, 2**bits - 1)
    )
    ends = (
        low * pixels.slope + pixels.intercept,
        high * pixels.slope + pixels.intercept,
    )
    return min(ends), max(ends)


class _TooWide(Exception):
    """A slice's rescaled values do not fit the volume's integer dtype."""


def _range_fits(pixels: _Pixels, dtype: np.dtype[Any]) -> bool:
    low, high = _value_range(pixels)
    info = np.iinfo(dtype)
    return bool(info.min <= low and high <= info.max)


def _output_dtype(pixels: _Pixels) -> np.dtype[Any]:
    """Return the volume dtype planned from one slice's header.

    Identity rescale: the stored dtype. Integer slope and intercept: int16 when the
    rescaled BitsStored range fits, else int16 still when it fits int32 (each slice's
    actual values are then checked, and the volume widens to int32 only if one does
    not fit: 16-bit signed CT with intercept -1024 stays int16). Otherwise float32.
    """
    if pixels.lut is not None:
        return np.dtype(np.int32)
    if pixels.slope == 1.0 and pixels.intercept == 0.0:
        return pixels.stored_dtype.newbyteorder("=")
    integral = float(pixels.slope).is_integer() and float(pixels.intercept).is_integer()
    if integral and _range_fits(pixels, np.dtype(np.int32)):
        return np.dtype(np.int16)
    return np.dtype(np.float32)


def _wide_dtype(pixels: _Pixels) -> np.dtype[Any]:
    """Return a dtype that surely holds the slice's rescaled values."""
    planned = _output_dtype(pixels)
    if planned.kind == "f" or pixels.lut is not None:
        return planned
    identity = pixels.slope == 1.0 and pixels.intercept == 0.0
    if identity or _range_fits(pixels, planned):
        return planned
    return (
        np.dtype(np.int32)
        if _range_fits(pixels, np.dtype(np.int32))
        else np.dtype(np.float32)
    )


def _fits(pixels: _Pixels, dtype: np.dtype[Any]) -> bool:
    """Return whether the slice may be decoded into ``dtype`` (int16: checked later)."""
    needed = _output_dtype(pixels)
    if needed == dtype or dtype.kind == "f":
        return True
    if needed.kind == "f" or pixels.lut is not None:
        return False
    if _range_fits(pixels, dtype):
        return True
    return dtype == np.int16 and _range_fits(pixels, np.dtype(np.int32))


@functools.lru_cache(maxsize=256)
def _template_fits(template: _Pixels, dtype: np.dtype[Any]) -> bool:
    """Return :func:`_fits` for a path-independent template (cached)."""
    return _fits(template, dtype)


def _check_actual_range(
    stored: npt.NDArray[Any], target: npt.NDArray[Any], pixels: _Pixels
) -> None:
    """Raise _TooWide when the rescaled values of ``stored`` overflow ``target``."""
    if target.dtype.kind == "f" or _range_fits(pixels, target.dtype):
        return
    low, high = int(stored.min()), int(stored.max())
    ends = (
        low * pixels.slope + pixels.intercept,
        high * pixels.slope + pixels.intercept,
    )
    info = np.iinfo(target.dtype)
    if min(ends) < info.min or max(ends) > info.max:
        raise _TooWide


# ---------------------------------------------------------------- one slice


def _fix_high_bits(values: npt.NDArray[Any], pixels: _Pixels) -> None:
    """Mask (unsigned) or sign-extend (signed) bits above BitsStored, in place."""
    spare = pixels.bits_allocated - pixels.bits_stored
    if spare <= 0 or values.dtype.kind not in "iu":
        return
    if pixels.signed:
        values <<= spare
        values >>= spare
    else:
        values &= (1 << pixels.bits_stored) - 1


def _rescale_into(
    stored: npt.NDArray[Any], target: npt.NDArray[Any], pixels: _Pixels
) -> None:
    if pixels.lut is not None:
        from pydicom.pixels.processing import apply_modality_lut

        target[...] = apply_modality_lut(stored, pixels.lut)
        return
    if target.dtype.kind != "f":
        _check_actual_range(stored, target, pixels)
    if stored is not target:
        np.copyto(target, stored, casting="unsafe")
    if target.dtype.kind == "f":
        if pixels.slope != 1.0:
            target *= np.float32(pixels.slope)
        if pixels.intercept != 0.0:
            target += np.float32(pixels.intercept)
        return
    if pixels.slope != 1.0:
        target *= int(pixels.slope)
    if pixels.intercept != 0.0:
        target += int(pixels.intercept)


def _reads_directly(
    target: np.dtype[Any], stored: np.dtype[Any], bits_stored: int
) -> bool:
    """Return whether stored values may be read straight into a ``target`` array.

    The same dtype, or unsigned values of at most 15 bits into int16 (their bit pattern
    is the same number).
    """
    return target == stored or (
        target == np.int16 and stored == np.uint16 and bits_stored <= 15
    )


def _read_native(stream: Any, pixels: _Pixels, target: npt.NDArray[Any]) -> None:
    """Read native pixels from ``stream`` (at the frame's offset) into ``target``.

    The bytes go straight into the output slice when the stored dtype allows it
    (including unsigned <= 15-bit data into int16), else into a scratch array; then the
    bits above BitsStored are cleared and the rescale is applied in place.
    """
    stored_dtype = pixels.stored_dtype
    direct = _reads_directly(target.dtype, stored_dtype, pixels.bits_stored)
    buffer = target if direct else np.empty(target.shape, dtype=stored_dtype)
    view = buffer.reshape(-1).view(np.uint8).data
    count = stream.readinto(view)
    if count != view.nbytes:
        raise VolumeLoadError(
            f"{pixels.path}: truncated pixel data ({count} of {view.nbytes} bytes)"
        )
    _fix_high_bits(buffer.view(stored_dtype), pixels)
    _rescale_into(buffer, target, pixels)


def _read_fast(pixels: _Pixels, target: npt.NDArray[Any]) -> None:
    """Open the file, seek to the frame and read it (see :func:`_read_native`)."""
    assert pixels.offset is not None
    with pixels.path.open("rb", buffering=0) as stream:
        stream.seek(pixels.offset)
        _read_native(stream, pixels, target)


def _read_with_layout(
    path: Path, frame: int, layout: _Layout, target: npt.NDArray[Any]
) -> _Pixels | None:
    """Decode a file laid out like the series' first one; None when it is not alike."""
    with path.open("rb", buffering=0) as stream:
        header = stream.read(layout.pixel_value_offset + 4 * _DRIFT)
        try:
            found = _template_from_buffer(frame, header, layout)
        except (struct.error, ValueError, IndexError, KeyError):
            return None
        if found is None:
            return None
        template, position = found
        offset = template.offset
        if offset is None or (template.rows, template.columns) != target.shape:
            return None
        if not _template_fits(template, target.dtype):
            return None
        pixels = dataclasses.replace(template, path=path, position=position)
        stream.seek(offset)
        _read_native(stream, pixels, target)
    return pixels


@dataclass(frozen=True, slots=True)
class _Recipe:
    """How recorded slices sharing one set of pixel header values become volume values.

    Planned once per distinct set (a series usually has one). ``direct``: the bytes go
    straight into the volume's slice. ``quick``: direct, and every rescaled BitsStored
    value fits the volume's integer dtype, so a mask, a multiply and an add finish the
    slice with no range check; otherwise :func:`_fix_high_bits` and
    :func:`_rescale_into` do.
    """

    template: _Pixels
    fits: bool
    direct: bool
    quick: bool
    mask: int  # bits above BitsStored to clear (unsigned); 0 when none
    slope: int
    intercept: int


_RecipeKey = tuple[int, int, bool, float, float]


@functools.lru_cache(maxsize=64)
def _recipe(key: _RecipeKey, shape: tuple[int, int], dtype: np.dtype[Any]) -> _Recipe:
    """Plan the reading of recorded slices with header values ``key`` (cached)."""
    bits_allocated, bits_stored, signed, slope, intercept = key
    template = _Pixels(
        path=Path(),
        frame=0,
        syntax=EXPLICIT_LE,
        rows=shape[0],
        columns=shape[1],
        bits_allocated=bits_allocated,
        bits_stored=bits_stored,
        signed=signed,
        samples=1,
        slope=slope,
        intercept=intercept,
        offset=None,
        position=None,
    )
    stored = template.stored_dtype
    direct = _reads_directly(dtype, stored, bits_stored)
    spare = bits_allocated - bits_stored
    quick = (
        direct
        and dtype.kind in "iu"
        and not (signed and spare > 0)
        and slope.is_integer()
        and intercept.is_integer()
        and _range_fits(template, dtype)
    )
    return _Recipe(
        template=template,
        fits=_fits(template, dtype),
        direct=direct,
        quick=quick,
        mask=(1 << bits_stored) - 1 if spare > 0 and not signed else 0,
        slope=int(slope) if quick else 1,
        intercept=int(intercept) if quick else 0,
    )


def _read_recorded(path: Path, native: NativeSlice, target: npt.NDArray[Any]) -> bool:
    """Read a slice at the offset ``scan`` recorded; False when the file has changed.

    One open, one ``fstat`` (size and modification time as recorded) and one vectored
    read of the Pixel Data element header (which must be as recorded) and the values,
    straight into ``target`` (or a scratch array when the stored dtype differs). No
    header parse.
    """
    key = (
        native.bits_allocated,
        native.bits_stored,
        native.signed,
        native.slope,
        native.intercept,
    )
    recipe = _recipe(key, target.shape, target.dtype)
    if not recipe.fits:
        return False
    stored_dtype = recipe.template.stored_dtype
    buffer = target if recipe.direct else np.empty(target.shape, dtype=stored_dtype)
    if not _read_unchanged(path, native, buffer):
        return False
    if not recipe.quick:
        _fix_high_bits(buffer.view(stored_dtype), recipe.template)
        _rescale_into(buffer, target, recipe.template)
        return True
    if recipe.mask:
        np.bitwise_and(target, recipe.mask, out=target)
    if recipe.slope != 1:
        np.multiply(target, recipe.slope, out=target)
    if recipe.intercept:
        np.add(target, recipe.intercept, out=target)
    return True


def _read_unchanged(path: Path, native: NativeSlice, buffer: npt.NDArray[Any]) -> bool:
    """Read the recorded pixel values into ``buffer``; False if the file has changed."""
    values = buffer.reshape(-1).view(np.uint8).data
    element = bytearray(len(native.element_header))
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_BINARY", 0))
    try:
        status = os.fstat(fd)
        if (status.st_size, status.st_mtime_ns) != (native.file_size, native.mtime_ns):
            return False
        count = _read_at(fd, (element, values), native.value_offset - len(element))
    finally:
        os.close(fd)
    return count == len(element) + values.nbytes and element == native.element_header


def _read_at(fd: int, buffers: tuple[bytearray, memoryview], offset: int) -> int:
    """Fill ``buffers`` from ``offset`` of ``fd``; return the bytes read."""
    if hasattr(os, "preadv"):
        return os.preadv(fd, buffers, offset)
    os.lseek(fd, offset, os.SEEK_SET)
    total = 0
    for buffer in buffers:
        total += (
            os.readv(fd, [buffer]) if hasattr(os, "readv") else _read_into(fd, buffer)
        )
    return total


def _read_into(fd: int, buffer: bytearray | memoryview) -> int:
    with os.fdopen(fd, "rb", buffering=0, closefd=False) as stream:
        return stream.readinto(buffer) or 0


def _decode_slice(pixels: _Pixels, target: npt.NDArray[Any]) -> None:
    if (pixels.rows, pixels.columns) != target.shape:
        raise VolumeLoadError(
            f"{pixels.path}: image size {pixels.columns}x{pixels.rows} differs from the "
            f"series' {target.shape[1]}x{target.shape[0]} (mixed sizes)"
        )
    if pixels.offset is not None:
        _read_fast(pixels, target)
        return
    stored = _decode_with_pydicom(pixels)
    if stored.shape != target.shape:
        raise VolumeLoadError(
            f"{pixels.path}: decoded frame has shape {stored.shape}, expected "
            f"{target.shape}"
        )
    _rescale_into(stored, target, pixels)


def _probe(path: Path, frame: int) -> tuple[_Pixels, _Layout | None]:
    try:
        fast = _fast_probe(path, frame)
    except OSError as error:
        raise VolumeLoadError(f"{path}: cannot read the file: {error}") from error
    return fast if fast is not None else (_pydicom_probe(path, frame), None)


# ---------------------------------------------------------------- loader


def _check_loadable(series: SeriesInfo) -> None:
    if not series.files:
        raise VolumeLoadError(f"series {series.series_instance_uid} has no images")
    for warning in series.warnings:
        if any(marker in warning for marker in _REFUSED):
            raise VolumeLoadError(
                f"{series.files[0].parent}: series {series.series_description!r} "
                f"cannot be loaded as one volume: {warning}"
            )


class VolumeLoader:
    """Progressive loading of one series; see :func:`open_volume`.

    Slices are decoded in the background by a thread pool; :meth:`request_slice` decodes
    a slice at once in the calling thread when no worker has it yet.
    """

    def __init__(self, series: SeriesInfo, *, workers: int | None = None) -> None:
        _check_loadable(series)
        quiet_pydicom()
        self.series = series
        count = len(series.files)
        self._lock = threading.Lock()
        self._decoded = threading.Condition(self._lock)  # a slice's state became 2
        self._state = [0] * count  # 0 pending, 1 decoding, 2 done
        known = series.slice_positions_mm
        self._positions: list[tuple[float, float, float] | None] = (
            list(known) if len(known) == count else [None] * count
        )
        self._native = (
            series.native_slices if len(series.native_slices) == count else ()
        )
        self._promoted: dict[int, npt.NDArray[Any]] = {}
        self._errors: list[tuple[int, Exception]] = []
        self._cancelled = threading.Event()
        self._done = 0
        first, self._layout = _probe(series.files[0], series.frames[0])
        self._dtype = _output_dtype(first)
        try:
            self._array: npt.NDArray[Any] = np.empty(
                (series.n_slices, series.rows, series.columns), dtype=self._dtype
            )
        except MemoryError as error:
            raise VolumeLoadError(
                f"{series.files[0].parent}: not enough memory for a "
                f"{series.columns}x{series.rows}x{series.n_slices} volume"
            ) from error
        self._slot = series.volume_slice_of_image  # volume slice of each image
        self._image_at = {slot: k for k, slot in enumerate(self._slot)}
        self._fill_gaps(first)
        self._first = first
        self._groups = _multi_frame_groups(series)
        self._stored: set[int] = set()
        n_workers = max(1, workers or min(count, os.cpu_count() or 1))
        # each worker starts on its own stretch of the series: neighbouring slices
        # share memory pages, and two threads faulting in one page wait on each other
        self._cursors = [worker * count // n_workers for worker in range(n_workers)]
        self._pool = ThreadPoolExecutor(max_workers=n_workers)
        self._futures: list[Future[None]] = [
            self._pool.submit(self._work, worker) for worker in range(n_workers)
        ]
        self._pool.shutdown(wait=False)

    @property
    def progress(self) -> float:
        """Return the fraction of slices decoded, 0..1."""
        return self._done / len(self._state)

    def _claim(self, index: int, *, group: bool = True) -> tuple[int, ...]:
        """Mark ``index`` (and, with ``group``, its multi-frame chunk) as taken.

        Call with the lock held; returns () when ``index`` is already taken.
        """
        if self._state[index] != 0:
            return ()
        members = self._groups.get(index, (index,)) if group else (index,)
        claimed = tuple(i for i in members if self._state[i] == 0)
        for i in claimed:
            self._state[i] = 1
        return claimed

    def _claim_next(self, worker: int) -> tuple[int, ...]:
        """Claim the next free slice from ``worker``'s cursor; then help with the rest."""
        count = len(self._state)
        with self._lock:
            for _ in range(2):  # own stretch and beyond, then from the start
                cursor = self._cursors[worker]
                while cursor < count and self._state[cursor] != 0:
                    cursor += 1
                self._cursors[worker] = cursor
                if cursor < count:
                    return self._claim(cursor)
                self._cursors[worker] = 0
            return ()

    def _work(self, worker: int) -> None:
        while not self._cancelled.is_set() and not self._errors:
            indices = self._claim_next(worker)
            if not indices:
                return
            self._run(indices)

    def _run(self, indices: tuple[int, ...]) -> None:
        try:
            if len(indices) == 1:
                self._decode(indices[0])
            else:
                self._decode_frames(indices)
        except Exception as error:
            logger.debug(
                "slices %s of %s failed",
                indices,
                self.series.series_instance_uid,
                exc_info=True,
            )
            with self._lock:
                self._errors.append((indices[0], error))
        finally:
            with self._lock:
                for index in indices:
                    self._state[index] = 2
                self._done += len(indices)
                self._decoded.notify_all()

    def _decode_frames(self, indices: tuple[int, ...]) -> None:
        """Decode several frames of one multi-frame file, parsing its header once."""
        from pydicom.pixels.utils import iter_pixels
        from pydicom.uid import UID

        path = self.series.files[indices[0]]
        by_frame = sorted(indices, key=lambda i: self.series.frames[i])
        frames = [self.series.frames[i] for i in by_frame]
        header = _read_header_dataset(path)
        described = [_pixels_from_dataset(header, path, f) for f in frames]
        if described[0].offset is not None:  # native: read frame by frame, no decoder
            for index in by_frame:
                self._decode(index)
            return
        options: dict[str, Any] = {}
        if not described[0].has_meta:
            options["transfer_syntax_uid"] = UID(described[0].syntax)
        try:
            decoded = iter_pixels(str(path), indices=frames, **options)
            for index, pixels, stored in zip(by_frame, described, decoded, strict=True):
                self._store(index, pixels, as_grey(stored, pixels.samples))
        except (RuntimeError, NotImplementedError, ValueError, TypeError):
            logger.debug("frame-by-frame decoding of %s", path, exc_info=True)
            for index in by_frame:
                if index not in self._stored:
                    self._decode(index)

    def _store(self, index: int, pixels: _Pixels, stored: npt.NDArray[Any]) -> None:
        """Rescale decoded stored values of slice ``index`` into the volume."""
        self._positions[index] = pixels.position
        if stored.shape != (self.series.rows, self.series.columns):
            raise VolumeLoadError(
                f"{pixels.path}: frame {pixels.frame} has shape {stored.shape}, "
                f"expected {(self.series.rows, self.series.columns)} (mixed sizes)"
            )
        try:
            if _fits(pixels, self._dtype):
                _rescale_into(stored, self._array[self._slot[index]], pixels)
                self._stored.add(index)
                return
        except _TooWide:
            logger.debug("slice %d needs a wider dtype than %s", index, self._dtype)
        wide = np.empty(stored.shape, dtype=_wide_dtype(pixels))
        _rescale_into(stored, wide, pixels)
        self._promoted[index] = wide
        self._stored.add(index)

    def _decode(self, index: int) -> None:
        path, frame = self.series.files[index], self.series.frames[index]
        try:
            if self._decode_into_volume(index, path, frame):
                return
        except _TooWide:
            logger.debug("slice %d needs a wider dtype than %s", index, self._dtype)
        pixels = self._first if index == 0 else _probe(path, frame)[0]
        self._positions[index] = pixels.position
        wide = np.empty(
            (self.series.rows, self.series.columns), dtype=_wide_dtype(pixels)
        )
        _decode_slice(pixels, wide)
        self._promoted[index] = wide

    def _decode_into_volume(self, index: int, path: Path, frame: int) -> bool:
        """Decode slice ``index`` into the volume's array; False if its dtype is too small."""
        native = self._native[index] if self._native else None
        if native is not None:
            try:
                if _read_recorded(path, native, self._array[self._slot[index]]):
                    return True
            except OSError as error:
                raise VolumeLoadError(
                    f"{path}: cannot read the file: {error}"
                ) from error
        if index and self._layout is not None:
            try:
                done = _read_with_layout(
                    path, frame, self._layout, self._array[self._slot[index]]
                )
            except OSError as error:
                raise VolumeLoadError(
                    f"{path}: cannot read the file: {error}"
                ) from error
            if done is not None:
                self._positions[index] = done.position
                return True
        pixels = self._first if index == 0 else _probe(path, frame)[0]
        self._positions[index] = pixels.position
        if not _fits(pixels, self._dtype):
            return False
        _decode_slice(pixels, self._array[self._slot[index]])
        return True

    def request_slice(self, index: int) -> npt.NDArray[Any]:
        """Return volume slice ``index`` (modality values), decoding it now if needed.

        A slice that fills a gap of missing images is blank (the lowest value).

        Raises
        ------
        VolumeLoadError
            When the slice cannot be decoded.
        IndexError
            When ``index`` is outside the volume.

        """
        if not 0 <= index < len(self._array):
            raise IndexError(f"slice {index} outside 0..{len(self._array) - 1}")
        image = self._image_at.get(index)
        if image is None:
            blank: npt.NDArray[Any] = self._array[index]
            return blank
        with self._lock:
            claimed = self._claim(image, group=False)  # this image only: show it now
        if claimed:
            self._run(claimed)
        with self._lock:
            while self._state[image] != 2:
                self._decoded.wait()
        self._raise_errors()
        promoted = self._promoted.get(image)
        return promoted if promoted is not None else self._array[index]

    def _fill_gaps(self, first: _Pixels) -> None:
        """Give the volume slices that no image fills the lowest possible value."""
        gaps = sorted(set(range(len(self._array))) - set(self._slot))
        if not gaps:
            return
        low, _high = _value_range(first)
        if self.series.modality.upper() == "CT":
            low = max(low, -1024.0)  # air: blank in any CT window
        if self._dtype.kind in "iu":
            info = np.iinfo(self._dtype)
            low = min(max(low, info.min), info.max)
        self._array[gaps] = low

    def cancel(self) -> None:
        """Stop decoding; slices already decoded stay available."""
        self._cancelled.set()

    def wait(self) -> Volume:
        """Wait for every slice and return the volume.

        Raises
        ------
        VolumeLoadError
            When a slice cannot be decoded or loading was cancelled.

        """
        for future in self._futures:
            future.exception()
        self._raise_errors()
        if self._cancelled.is_set() and self._done < len(self._state):
            raise VolumeLoadError(
                f"loading of series {self.series.series_description!r} was cancelled"
            )
        array = self._array
        if self._promoted:
            wide = np.result_type(
                self._array.dtype, *(v.dtype for v in self._promoted.values())
            )
            array = self._array.astype(wide)
            for index, values in self._promoted.items():
                array[self._slot[index]] = values
        return Volume(
            array=array,
            affine=series_affine(self.series, self._positions),
            sop_instance_uids=self.series.slice_sop_instance_uids,
            series=self.series,
        )

    def _raise_errors(self) -> None:
        if not self._errors:
            return
        index, error = self._errors[0]
        if isinstance(error, MrecistError):
            raise error
        raise VolumeLoadError(
            f"{self.series.files[index]}: cannot load this image: {error}"
        ) from error


def _multi_frame_groups(
    series: SeriesInfo, *, chunk: int = FRAMES_PER_TASK
) -> dict[int, tuple[int, ...]]:
    """Map each slice of a multi-slice file to its chunk of that file's slices.

    A worker decodes a chunk with one header parse (``iter_pixels``); chunks let both
    workers share a single-file enhanced series.
    """
    by_file: dict[Path, list[int]] = {}
    for index, path in enumerate(series.files):
        by_file.setdefault(path, []).append(index)
    groups: dict[int, tuple[int, ...]] = {}
    for indices in by_file.values():
        if len(indices) < 2:
            continue
        ordered = sorted(indices, key=lambda i: series.frames[i])
        for start in range(0, len(ordered), chunk):
            members = tuple(ordered[start : start + chunk])
            groups.update(dict.fromkeys(members, members))
    return groups


def open_volume(series: SeriesInfo, *, workers: int | None = None) -> VolumeLoader:
    """Start loading ``series`` in the background and return the loader.

    Parameters
    ----------
    series
        A stack found by ``scan``.
    workers
        Decoding threads (default: one per CPU core).

    Returns
    -------
    VolumeLoader
        ``request_slice(k)`` decodes slice ``k`` first; ``wait()`` returns the Volume.

    Raises
    ------
    VolumeLoadError
        When the series cannot be a volume (4-D, duplicate positions) or its first image
        cannot be read.

    """
    return VolumeLoader(series, workers=workers)


def load_volume(series: SeriesInfo, *, workers: int | None = None) -> Volume:
    """Decode every slice of ``series`` and return the volume (modality LUT applied).

    Parameters
    ----------
    series
        A stack found by ``scan``.
    workers
        Decoding threads (default: one per CPU core).

    Returns
    -------
    Volume
        ``array[slice, row, column]`` in modality units (CT: HU), the affine from the
        slice positions, and the SOP Instance UID of each slice.

    Raises
    ------
    VolumeLoadError
        Naming the file and the reason (undecodable syntax, mixed sizes, 4-D series...).

    """
    return open_volume(series, workers=workers).wait()
