"""The fast path: uncompressed files read without pydicom.

The first file of a series is walked element by element (with the element parser of
:mod:`mrecist_reader.imaging.dicom_elements`, the one ``scan``'s header reader uses) to
find the Pixel Data offset and the rescale tags; the other files are checked against
that layout (each element found at its offset or a few bytes away, so no walk) and
their bytes read straight into the output array. Slices ``scan`` recorded
(:class:`~mrecist_reader.imaging.volume.NativeSlice`) are read at their recorded offset
with one open, one ``fstat`` and one vectored read.

Files are opened only when they are regular files (never a FIFO or a device). A header
value the fast path cannot read with certainty (a rescale that does not parse or is
not finite, a RescaleSlope of 0, a NumberOfFrames that is not a count) sends the file
to the pydicom path, which refuses it with a :class:`VolumeLoadError` naming the tag.
"""

import dataclasses
import functools
import math
import os
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
from pydicom.uid import (
    ExplicitVRLittleEndian,
    ImplicitVRLittleEndian,
)

from mrecist_reader.imaging.byte_header import read_byte_header
from mrecist_reader.imaging.dicom_elements import (
    LONG_VRS,
    NATIVE_LITTLE_ENDIAN,
    UNDEFINED_LENGTH,
    ElementWalker,
    meta_syntax,
)
from mrecist_reader.imaging.files import open_regular, open_regular_fd
from mrecist_reader.imaging.headers import HEADER_KEYWORDS
from mrecist_reader.imaging.pixels import (
    VolumeLoadError,
    _ds_triplet,
    _fits,
    _fix_high_bits,
    _Pixels,
    _pixels_from_dataset,
    _pydicom_probe,
    _range_fits,
    _read_native,
    _reads_directly,
    _rescale_into,
    _template_fits,
)
from mrecist_reader.imaging.volume import (
    NativeSlice,
)

_PROBE_BYTES = 1 << 16


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
    with open_regular(path) as stream:
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
    meta = meta_syntax(buf)
    if meta is None or meta[0] not in NATIVE_LITTLE_ENDIAN:
        return None
    syntax, pos, syntax_at = meta
    implicit = syntax == ImplicitVRLittleEndian
    walker = ElementWalker(buf, implicit=implicit)
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
    if pixel_length < frame_bytes * n_frames or not 0 <= frame < n_frames:
        return None
    slope = _exact_ds(found.get("slope"), 1.0)
    intercept = _exact_ds(found.get("intercept"), 0.0)
    if slope is None or intercept is None or slope == 0 or rows * columns == 0:
        return None  # the pydicom path names the unusable value
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
        slope=slope,
        intercept=intercept,
        offset=pixel_value_offset + frame * frame_bytes,
        position=_ds_triplet(found.get("position")),
    )


def _exact_ds(text: Any, default: float) -> float | None:
    """Return a DS value as a finite float (``default`` when empty), else None."""
    if text in (None, ""):
        return default
    try:
        value = float(str(text).split("\\")[0])
    except ValueError:
        return None
    return value if math.isfinite(value) and abs(value) <= 1e15 else None


def _read_with_layout(
    path: Path, frame: int, layout: _Layout, target: npt.NDArray[Any]
) -> _Pixels | None:
    """Decode a file laid out like the series' first one; None when it is not alike."""
    with open_regular(path, buffering=0) as stream:
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
        syntax=ExplicitVRLittleEndian,
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
    fd, status = open_regular_fd(path)
    try:
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


def _probe(path: Path, frame: int) -> tuple[_Pixels, _Layout | None]:
    """Describe one frame: by the fast path, else by pydicom.

    Raises
    ------
    VolumeLoadError
        Naming the file (and the tag) when it cannot be read or described.

    """
    try:
        fast = _fast_probe(path, frame)
    except OSError as error:
        raise VolumeLoadError(f"{path}: cannot read the file: {error}") from error
    if fast is not None:
        return fast
    try:
        described = _byte_probe(path, frame)
    except OSError as error:
        raise VolumeLoadError(f"{path}: cannot read the file: {error}") from error
    return (described or _pydicom_probe(path, frame)), None


def _byte_probe(path: Path, frame: int) -> _Pixels | None:
    """Describe a compressed frame from its header's bytes; None to ask pydicom.

    The values come from :func:`~mrecist_reader.imaging.byte_header.read_byte_header`,
    the reader ``scan`` uses, so a compressed file's header is not parsed by pydicom
    before its decoder parses it again. A header that reader cannot read, or a frame
    whose description would be refused, goes to pydicom (which words the refusal).
    """
    with open_regular(path) as stream:
        buf = stream.read(_PROBE_BYTES)
        size = os.fstat(stream.fileno()).st_size
    found = read_byte_header(buf, HEADER_KEYWORDS)
    if found is None:
        return None
    try:
        return _pixels_from_dataset((found[0], None, size), path, frame)
    except VolumeLoadError:
        return None
