"""Decode one slice into modality values: pydicom, GDCM, and the native read.

A slice is described by :class:`_Pixels` (where its stored values are and how to
rescale them). Uncompressed little-endian values at a known offset are read straight
into the output array; everything else goes through pydicom's decoders (pylibjpeg
plugins), then GDCM for what they cannot decode. The output dtype is planned from the
header (stored dtype, int16, int32 or float32) and each slice's actual range checked
where the header alone does not prove it fits. The modality LUT (rescale or Modality LUT
Sequence) is applied in place.

Nothing in a header is trusted before it is checked: the pixel bytes a frame declares
are compared with the file's bytes before anything is allocated
(:mod:`mrecist_reader.imaging.limits`), and every value the decoding needs (Rows,
Columns, bits, NumberOfFrames, the rescale) that is missing, unreadable, not finite or
would blank the image (RescaleSlope 0) is a :class:`VolumeLoadError` naming the file and
the tag, never an internal exception. Only regular files are opened.
"""

import contextlib
import functools
import math
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
from pydicom.errors import BytesLengthException, InvalidDicomError
from pydicom.uid import (
    DeflatedExplicitVRLittleEndian,
    ExplicitVRBigEndian,
    ExplicitVRLittleEndian,
    ImplicitVRLittleEndian,
    RLELossless,
)

from mrecist_reader.core.errors import (
    MrecistError,
)
from mrecist_reader.imaging.dicom_elements import (
    native_pixel_element,
)
from mrecist_reader.imaging.files import is_regular_file, open_regular
from mrecist_reader.imaging.limits import declared_pixel_bytes, pixel_size_problem


class VolumeLoadError(MrecistError):
    """A series cannot be loaded as a volume; the message names the file and the reason."""


HEADER_ERRORS: tuple[type[BaseException], ...] = (
    ValueError,
    TypeError,
    LookupError,
    AttributeError,
    NotImplementedError,
    ArithmeticError,
    EOFError,
    OSError,
    RecursionError,
    MemoryError,  # an element length far beyond the file: pydicom reads it at once
    struct.error,
    BytesLengthException,
)
"""What pydicom raises while converting a damaged header value on access (an unknown
VR, a sequence that is not one, a length that is no multiple of its value size)."""
_PARSE_ERRORS: tuple[type[BaseException], ...] = (InvalidDicomError, *HEADER_ERRORS)
_DECODE_ERRORS: tuple[type[BaseException], ...] = (RuntimeError, *HEADER_ERRORS)


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


def _ds(text: Any, default: float) -> float:
    """Return a DS value (the first of several) as a float; ``default`` when unusable."""
    try:
        value = float(str(text).split("\\")[0]) if text not in (None, "") else default
    except ValueError:
        return default
    return value if math.isfinite(value) else default


MAX_COORDINATE_MM = 1e6
"""A position farther than this from the scanner's origin is not a position."""


def _ds_triplet(text: Any) -> tuple[float, float, float] | None:
    """Return a position (3 finite values within :data:`MAX_COORDINATE_MM`) or None."""
    if not text:
        return None
    try:
        values = [float(v) for v in str(text).split("\\")]
    except ValueError:
        return None
    if len(values) != 3 or not all(abs(v) <= MAX_COORDINATE_MM for v in values):
        return None  # also NaN and infinities, which fail every comparison
    return (values[0], values[1], values[2])


_TAGS = {
    "Rows": "(0028,0010)",
    "Columns": "(0028,0011)",
    "SamplesPerPixel": "(0028,0002)",
    "BitsAllocated": "(0028,0100)",
    "BitsStored": "(0028,0101)",
    "PixelRepresentation": "(0028,0103)",
    "NumberOfFrames": "(0028,0008)",
    "RescaleSlope": "(0028,1053)",
    "RescaleIntercept": "(0028,1052)",
}


def _value(item: Any, keyword: str, path: Path) -> Any:
    """Return an element's value, or raise VolumeLoadError naming the file and tag."""
    try:
        return item.get(keyword)
    except HEADER_ERRORS as error:
        raise VolumeLoadError(
            f"{path}: {keyword} {_TAGS.get(keyword, '')} cannot be read: {error}"
        ) from error


def _whole(
    item: Any, keyword: str, path: Path, *, default: int | None, low: int, high: int
) -> int:
    """Return a whole-number element within ``low..high`` (``default`` when absent)."""
    value = _value(item, keyword, path)
    if value is None or str(value).strip() == "":
        if default is None:
            raise VolumeLoadError(f"{path}: {keyword} {_TAGS[keyword]} is missing")
        return default
    try:
        number = int(str(value).strip())
    except ValueError:
        number = low - 1
    if not low <= number <= high:
        raise VolumeLoadError(
            f"{path}: {keyword} {_TAGS[keyword]} {str(value)[:40]!r} is not usable "
            f"(expected a whole number from {low} to {high})"
        )
    return number


def _rescale_value(item: Any, keyword: str, path: Path, default: float) -> float:
    """Return RescaleSlope or RescaleIntercept; refuse what would blank the image."""
    value = _value(item, keyword, path)
    if isinstance(value, list | tuple) or type(value).__name__ == "MultiValue":
        value = value[0] if len(value) else None
    if value is None or str(value).strip() == "":
        return default
    try:
        number = float(str(value))
    except ValueError:
        number = math.nan
    if not math.isfinite(number) or abs(number) > 1e15:
        raise VolumeLoadError(
            f"{path}: {keyword} {_TAGS[keyword]} {str(value)[:40]!r} is not a finite "
            "number: the image cannot be rescaled"
        )
    if keyword == "RescaleSlope" and number == 0:
        raise VolumeLoadError(
            f"{path}: {keyword} {_TAGS[keyword]} is 0: every pixel would have the same "
            "value (a blank image)"
        )
    return number


# ---------------------------------------------------------------- pydicom path


_Header = tuple[Any, int | None, int]
"""A parsed header (no pixels), the native Pixel Data value offset, the file's size."""


def _read_header_dataset(path: Path) -> _Header:
    """Return the pydicom header (no pixels) of ``path`` (cached while unchanged)."""
    try:
        stat = path.stat()
    except OSError as error:
        raise VolumeLoadError(f"{path}: cannot read the file: {error}") from error
    return _cached_header(path, stat.st_mtime_ns, stat.st_size)


@functools.lru_cache(maxsize=4)
def _cached_header(path: Path, mtime_ns: int, size: int) -> _Header:
    """Parse a header once: multi-frame files are asked for frame after frame."""
    import pydicom

    del mtime_ns  # cache key only
    try:
        with open_regular(path) as stream:
            dataset = pydicom.dcmread(stream, stop_before_pixels=True, force=True)
            element_offset = stream.tell()  # dcmread stops right before Pixel Data
            element = stream.read(12)
    except OSError as error:
        raise VolumeLoadError(f"{path}: cannot read the file: {error}") from error
    except _PARSE_ERRORS as error:
        raise VolumeLoadError(f"{path}: cannot read the header: {error}") from error
    offset = _native_pixel_offset(dataset, stream_offset=element_offset, raw=element)
    return dataset, offset, size


def _native_pixel_offset(dataset: Any, *, stream_offset: int, raw: bytes) -> int | None:
    """Return the file offset of native little-endian Pixel Data values, else None."""
    syntax = str(getattr(dataset.get("file_meta"), "TransferSyntaxUID", "") or "")
    found = native_pixel_element(syntax, raw)
    return None if found is None else stream_offset + found[0]


def _pydicom_probe(path: Path, frame: int) -> _Pixels:
    return _pixels_from_dataset(_read_header_dataset(path), path, frame)


def _pixels_from_dataset(header: _Header, path: Path, frame: int) -> _Pixels:
    """Return one frame's pixel description from a pydicom header.

    Native little-endian monochrome frames get a byte ``offset`` (read directly, even
    inside enhanced multi-frame files); others are left to pydicom's decoders.

    Raises
    ------
    VolumeLoadError
        Naming the file and the tag when a value the decoding needs is missing or
        unusable, or when the pixels declared cannot come from the file's bytes.

    """
    try:
        return _describe_frame(header, path, frame)
    except VolumeLoadError:
        raise
    except HEADER_ERRORS as error:
        raise VolumeLoadError(f"{path}: unusable DICOM header: {error}") from error


def _describe_frame(header: _Header, path: Path, frame: int) -> _Pixels:
    dataset, pixel_offset, file_size = header
    meta = dataset.get("file_meta")
    syntax = str(getattr(meta, "TransferSyntaxUID", "") or "")
    has_meta = bool(syntax)
    if not syntax:
        syntax = (
            ImplicitVRLittleEndian if dataset.is_implicit_VR else ExplicitVRLittleEndian
        )
        if not dataset.is_little_endian:
            syntax = ExplicitVRBigEndian
    slope, intercept = _frame_rescale(dataset, frame, path)
    position = _frame_position(dataset, frame)
    samples = _whole(dataset, "SamplesPerPixel", path, default=1, low=0, high=4) or 1
    if samples not in (1, 3):
        raise VolumeLoadError(
            f"{path}: images with {samples} samples per pixel are not supported "
            "(expected 1, grey, or 3, colour)"
        )
    if samples == 3:
        slope, intercept = 1.0, 0.0  # colour values have no modality rescale
    lut = dataset if "ModalityLUTSequence" in dataset and samples == 1 else None
    rows = _whole(dataset, "Rows", path, default=None, low=1, high=65535)
    columns = _whole(dataset, "Columns", path, default=None, low=1, high=65535)
    bits = _whole(dataset, "BitsAllocated", path, default=16, low=0, high=64) or 16
    if bits not in (8, 16, 32):
        raise VolumeLoadError(
            f"{path}: BitsAllocated (0028,0100) {bits} is not supported (expected 8, "
            "16 or 32 bits per pixel)"
        )
    bits_stored = _whole(dataset, "BitsStored", path, default=bits, low=1, high=bits)
    frames = _whole(dataset, "NumberOfFrames", path, default=1, low=1, high=1 << 31)
    if frame >= frames:
        raise VolumeLoadError(
            f"{path}: frame {frame + 1} asked for, NumberOfFrames (0028,0008) is {frames}"
        )
    declared = declared_pixel_bytes(
        rows, columns, samples=samples, bits_allocated=bits, frames=frames
    )
    if str(dataset.get("PhotometricInterpretation", "")) == "YBR_FULL_422":
        declared = declared * 2 // 3  # chroma is stored for every other pixel
    _check_declared_size(
        path,
        declared,
        frames=frames,
        syntax=syntax,
        available=file_size - (pixel_offset or 0),
    )
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
        bits_stored=bits_stored,
        signed=_whole(dataset, "PixelRepresentation", path, default=0, low=0, high=1)
        == 1,
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


_UNCOMPRESSED = frozenset(
    {ImplicitVRLittleEndian, ExplicitVRLittleEndian, ExplicitVRBigEndian}
)


def _check_declared_size(
    path: Path, declared: int, *, frames: int, syntax: str, available: int
) -> None:
    """Refuse, before anything is allocated, pixels the file's bytes cannot hold.

    ``available`` is the file's size after the Pixel Data element's header (the whole
    file when its offset is unknown).
    """
    compressed = syntax not in _UNCOMPRESSED
    problem = pixel_size_problem(
        declared, frames=frames, file_size=available, compressed=compressed
    )
    if not problem and not compressed and declared > available:
        problem = (
            f"Rows x Columns x samples x bits x frames declare {declared} bytes of "
            f"pixels, the file holds {available} (truncated or a false header)"
        )
    if problem:
        raise VolumeLoadError(f"{path}: {problem}")


def _frame_rescale(dataset: Any, frame: int, path: Path) -> tuple[float, float]:
    slope = _rescale_value(dataset, "RescaleSlope", path, 1.0)
    intercept = _rescale_value(dataset, "RescaleIntercept", path, 0.0)
    for sequence_name, index in (
        ("SharedFunctionalGroupsSequence", 0),
        ("PerFrameFunctionalGroupsSequence", frame),
    ):
        groups = dataset.get(sequence_name)
        if not groups or index >= len(groups):
            continue
        transform = groups[index].get("PixelValueTransformationSequence")
        if transform:
            slope = _rescale_value(transform[0], "RescaleSlope", path, slope)
            intercept = _rescale_value(
                transform[0], "RescaleIntercept", path, intercept
            )
    return slope, intercept


def _frame_position(dataset: Any, frame: int) -> tuple[float, float, float] | None:
    """Return a frame's position; None when absent or not a position (not finite...)."""
    try:
        groups = dataset.get("PerFrameFunctionalGroupsSequence")
        if groups and frame < len(groups):
            plane = groups[frame].get("PlanePositionSequence")
            if plane and plane[0].get("ImagePositionPatient"):
                return _position(plane[0].ImagePositionPatient)
        return _position(dataset.get("ImagePositionPatient"))
    except HEADER_ERRORS:
        return None  # unreadable: the position scan recorded (if any) is used


def _position(value: Any) -> tuple[float, float, float] | None:
    if not value or len(value) != 3:
        return None
    try:
        values = [float(v) for v in value]
    except (TypeError, ValueError):
        return None
    if not all(abs(v) <= MAX_COORDINATE_MM for v in values):
        return None
    return (values[0], values[1], values[2])


@functools.cache
def without_gdcm_plugin() -> None:
    """Take GDCM out of pydicom's decoders (once per process).

    pydicom tries its GDCM plugin (first, for some syntaxes) when others fail, and GDCM
    aborts the whole process on a frame that does not match its header (an uncaught C++
    exception): hostile input could close the application. GDCM is only used through
    :func:`_decode_with_gdcm`, after its checks.
    """
    import pydicom.pixels.decoders.base as decoders

    for decoder in vars(decoders).values():
        if isinstance(decoder, decoders.Decoder):
            with contextlib.suppress(ValueError, KeyError):
                decoder.remove_plugin("gdcm")


def _decode_with_pydicom(pixels: _Pixels) -> npt.NDArray[Any]:
    from pydicom.pixels.utils import pixel_array
    from pydicom.uid import UID

    without_gdcm_plugin()
    options: dict[str, Any] = {}
    if not pixels.has_meta:
        options["transfer_syntax_uid"] = UID(pixels.syntax)
    if pixels.syntax == RLELossless and _rle_in_rust():
        # pydicom's own RLE plugin (numpy, Python loops) comes first and is ~10x slower
        options["decoding_plugin"] = "pylibjpeg"
    try:
        if (
            pixels.syntax == DeflatedExplicitVRLittleEndian
        ):  # pydicom inflates whole datasets only
            import pydicom

            with open_regular(pixels.path) as stream:
                dataset = pydicom.dcmread(stream, force=True)
            return as_grey(pixel_array(dataset, index=pixels.frame), pixels.samples)
        with open_regular(pixels.path) as stream:
            decoded = pixel_array(stream, index=pixels.frame, **options)
        return as_grey(decoded, pixels.samples)
    except OSError as error:
        raise VolumeLoadError(
            f"{pixels.path}: cannot read the file: {error}"
        ) from error
    except _DECODE_ERRORS as error:
        try:
            return _decode_with_gdcm(pixels)
        except VolumeLoadError:
            pass
        raise VolumeLoadError(
            f"{pixels.path}: cannot decode pixel data ({_syntax_name(pixels.syntax)}): "
            f"{str(error).splitlines()[0]}"
        ) from error


@functools.cache
def _rle_in_rust() -> bool:
    """Return whether pylibjpeg-rle (RLE decoded in Rust) is pydicom's to use."""
    from pydicom.pixels.decoders.base import RLELosslessDecoder

    return "pylibjpeg" in RLELosslessDecoder.available_plugins


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
    """Decode with python-gdcm (12-bit JPEG Extended and other pydicom failures).

    GDCM aborts the whole process (an uncaught C++ exception) on what it finds
    inconsistent: an element whose VR is not the one its dictionary expects (e.g.
    PlanarConfiguration written as FD), a JPEG frame whose size is not the header's. So
    it only gets the JPEG files pydicom's plugins cannot decode (12-bit JPEG Extended),
    and only when every frame's JPEG header matches Rows, Columns and Samples.
    """
    problem = _gdcm_hazard(pixels.path) or _jpeg_mismatch(pixels)
    if problem:
        raise VolumeLoadError(f"{pixels.path}: GDCM not tried: {problem}")
    try:
        return _gdcm_frame(pixels)
    except (RuntimeError, TypeError, ValueError, AttributeError) as error:
        raise VolumeLoadError(
            f"{pixels.path}: GDCM cannot decode it: {error}"
        ) from error


def _gdcm_hazard(path: Path) -> str:
    """Return why GDCM must not read ``path`` ('' when it may).

    Every standard top-level element must carry its dictionary VR (or UN) and a value
    pydicom can convert; anything else could abort GDCM.
    """
    from pydicom.datadict import dictionary_has_tag, dictionary_VR

    try:
        dataset = _read_header_dataset(path)[0]
        meta = getattr(dataset, "file_meta", None)
        for container in (dataset,) if meta is None else (meta, dataset):
            for element in container.elements():
                if element.tag.is_private or not dictionary_has_tag(element.tag):
                    continue
                expected = dictionary_VR(element.tag)
                vr = str(element.VR or "")
                if vr and vr != "UN" and vr not in expected.split(" or "):
                    return f"{element.tag} has VR {vr}, expected {expected}"
                _ = container[element.tag].value  # converts it: raises if unreadable
    except VolumeLoadError as error:
        return str(error)
    except HEADER_ERRORS as error:
        return f"unreadable header element: {error}"
    return ""


GDCM_SYNTAXES = frozenset(
    {
        "1.2.840.10008.1.2.4.50",  # JPEG Baseline
        "1.2.840.10008.1.2.4.51",  # JPEG Extended (12-bit): pylibjpeg cannot
        "1.2.840.10008.1.2.4.57",  # JPEG Lossless
        "1.2.840.10008.1.2.4.70",  # JPEG Lossless, first-order prediction
    }
)
"""Transfer syntaxes handed to GDCM when pydicom's plugins fail."""
_SOF_MARKERS = frozenset(range(0xC0, 0xD0)) - {0xC4, 0xC8, 0xCC}
_MAX_GDCM_FILE = 1 << 30


def _jpeg_mismatch(pixels: _Pixels) -> str:
    """Return why the file's JPEG frames do not match its header ('' when they do).

    Every start-of-frame marker (0xFF 0xC0-0xCF, never found inside entropy-coded data,
    where 0xFF is always followed by 0x00 or a restart marker) must give Rows, Columns
    and Samples per Pixel; at least one must be present.
    """
    if pixels.syntax not in GDCM_SYNTAXES:
        return f"{_syntax_name(pixels.syntax)} is not a syntax GDCM is used for"
    with open_regular(pixels.path) as stream:
        data = stream.read(_MAX_GDCM_FILE + 1)
    if len(data) > _MAX_GDCM_FILE:
        return "file too large for GDCM"
    start = data.find(b"\xe0\x7f\x10\x00")
    frames = 0
    position = data.find(b"\xff", max(start, 0))
    while 0 <= position < len(data) - 9:
        marker = data[position + 1]
        if marker in _SOF_MARKERS:
            height, width = struct.unpack_from(">HH", data, position + 5)
            components = data[position + 9]
            found = (height, width, components)
            if found != (pixels.rows, pixels.columns, pixels.samples):
                return (
                    f"a JPEG frame is {width}x{height} with {components} component(s); "
                    f"the header says {pixels.columns}x{pixels.rows} with "
                    f"{pixels.samples}"
                )
            frames += 1
        position = data.find(b"\xff", position + 2)
    return "" if frames else "no JPEG frame header found"


def _gdcm_frame(pixels: _Pixels) -> npt.NDArray[Any]:
    import gdcm

    if not is_regular_file(pixels.path):  # GDCM opens by name: check it first
        raise VolumeLoadError(f"{pixels.path}: not a regular file")
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
    with open_regular(pixels.path, buffering=0) as stream:
        stream.seek(pixels.offset)
        _read_native(stream, pixels, target)


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
