"""The header values ``scan`` needs, read from the file's bytes without pydicom.

pydicom converts each element it is asked for through its generic machinery (about
20 microseconds an element); ``scan`` needs about 40 per file. This reader walks the
top-level elements with the element parser the loader's fast path uses
(:mod:`mrecist_reader.imaging.dicom_elements`), keeps the raw values of
:data:`~mrecist_reader.imaging.headers.HEADER_KEYWORDS` and converts them the way
pydicom does, into an object that answers ``get``, ``in`` and attribute access like a
pydicom ``Dataset`` for those keywords, so that every check of
:mod:`mrecist_reader.imaging.headers` runs unchanged on it.

It reads only what it can read with certainty and returns None otherwise, leaving the
file to pydicom: a file without the ``DICM`` preamble, a deflated or big-endian syntax, a
header longer than the bytes read, a wanted element that is a sequence (functional
groups, Modality LUT), an explicit VR other than the dictionary's, an empty or several
numbers where one is expected, text that is not plain ASCII (character sets) or holds a
NUL, a number that is not written the plain way. The header reader also goes back to
pydicom whenever this reader's record leads to a refusal or a note, so that every
message a user reads about a bad file comes from one place.
"""

import re
import struct
from typing import Any

from pydicom.datadict import dictionary_VR, tag_for_keyword
from pydicom.multival import MultiValue

from mrecist_reader.imaging.dicom_elements import (
    PIXEL_DATA,
    SEQUENCE_DELIMITER,
    UNDEFINED_LENGTH,
    ElementWalker,
)

__all__ = ["ByteDataset", "read_byte_header"]

_ENCAPSULATED_OR_NATIVE = frozenset(
    {
        "1.2.840.10008.1.2",
        "1.2.840.10008.1.2.1",
        "1.2.840.10008.1.2.4.50",
        "1.2.840.10008.1.2.4.51",
        "1.2.840.10008.1.2.4.57",
        "1.2.840.10008.1.2.4.70",
        "1.2.840.10008.1.2.4.80",
        "1.2.840.10008.1.2.4.81",
        "1.2.840.10008.1.2.4.90",
        "1.2.840.10008.1.2.4.91",
        "1.2.840.10008.1.2.4.201",
        "1.2.840.10008.1.2.4.202",
        "1.2.840.10008.1.2.4.203",
        "1.2.840.10008.1.2.5",
    }
)
"""Syntaxes whose dataset is little endian and not deflated: read here."""
_IMPLICIT = "1.2.840.10008.1.2"
_TEXT_VRS = frozenset({"AE", "AS", "CS", "DA", "DT", "LO", "PN", "SH", "TM", "UI"})
_NUMBER = re.compile(rb"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")
_WHOLE = re.compile(rb"[+-]?\d+")


class _Unsure(Exception):
    """A value this reader cannot convert exactly as pydicom would."""


class _Meta:
    """The File Meta elements the header checks ask for."""

    __slots__ = ("MediaStorageSOPClassUID", "TransferSyntaxUID")

    def __init__(self, sop_class: str, syntax: str) -> None:
        self.MediaStorageSOPClassUID = sop_class
        self.TransferSyntaxUID = syntax

    def get(self, keyword: str, default: Any = None) -> Any:
        """Return a File Meta value like ``Dataset.get``."""
        return getattr(self, keyword, default) if keyword in self.__slots__ else default


class ByteDataset:
    """The wanted header values of one file, answered like a pydicom ``Dataset``."""

    __slots__ = ("_values", "file_meta", "is_implicit_VR", "is_little_endian")

    def __init__(self, values: dict[str, Any], meta: _Meta, *, implicit: bool) -> None:
        self._values = values
        self.file_meta = meta
        self.is_implicit_VR = implicit
        self.is_little_endian = True

    def get(self, keyword: str, default: Any = None) -> Any:
        """Return the value of ``keyword`` (``default`` when the file lacks it)."""
        if keyword == "file_meta":
            return self.file_meta
        return self._values.get(keyword, default)

    def __contains__(self, keyword: object) -> bool:
        """Return whether the file has the element ``keyword``."""
        return keyword in self._values

    def __getattr__(self, keyword: str) -> Any:
        """Return the value of ``keyword``; AttributeError when the file lacks it."""
        try:
            return self._values[keyword]
        except KeyError:
            raise AttributeError(keyword) from None


def _wanted(keywords: tuple[str, ...]) -> dict[int, tuple[str, str]]:
    wanted: dict[int, tuple[str, str]] = {}
    for keyword in keywords:
        tag = int(tag_for_keyword(keyword) or 0)
        wanted[tag] = (keyword, str(dictionary_VR(tag)))
    return wanted


_WANTED_CACHE: dict[tuple[str, ...], dict[int, tuple[str, str]]] = {}


def read_byte_header(
    buf: bytes, keywords: tuple[str, ...]
) -> tuple[ByteDataset, int] | None:
    """Return the values of ``keywords`` and the Pixel Data element's offset, or None.

    ``buf`` holds the file's first bytes. None: the file is left to pydicom (see the
    module docstring).
    """
    wanted = _WANTED_CACHE.get(keywords)
    if wanted is None:
        wanted = _WANTED_CACHE.setdefault(keywords, _wanted(keywords))
    try:
        return _read(buf, wanted)
    except (_Unsure, struct.error, ValueError, IndexError, RecursionError):
        return None


def _read(
    buf: bytes, wanted: dict[int, tuple[str, str]]
) -> tuple[ByteDataset, int] | None:
    meta = _file_meta(buf)
    if meta is None:
        return None
    sop_class, syntax, pos = meta
    if syntax not in _ENCAPSULATED_OR_NATIVE:
        return None
    implicit = syntax == _IMPLICIT
    walker = ElementWalker(buf, implicit=implicit)
    values: dict[str, Any] = {}
    end = len(buf)
    while pos + 12 <= end:
        tag, vr, length, value = walker.element(pos)
        if tag == PIXEL_DATA:
            return ByteDataset(values, _Meta(sop_class, syntax), implicit=implicit), pos
        if tag > PIXEL_DATA or tag >> 16 == 0xFFFE:
            return None
        found = wanted.get(tag)
        if found is not None:
            values[found[0]] = _value(buf, found[1], (vr, length, value), implicit)
        if length == UNDEFINED_LENGTH:
            pos = walker.skip_undefined(value, SEQUENCE_DELIMITER)
        else:
            pos = value + length
    return None


def _value(
    buf: bytes, dictionary: str, element: tuple[bytes, int, int], implicit: bool
) -> Any:
    """Return a wanted element's value; _Unsure when pydicom must read it."""
    vr, length, value = element
    if dictionary == "SQ" or length == UNDEFINED_LENGTH or value + length > len(buf):
        raise _Unsure(dictionary)
    if not implicit and vr.decode("ascii", "replace") != dictionary:
        raise _Unsure(vr)
    return _convert(dictionary, buf[value : value + length])


def _file_meta(buf: bytes) -> tuple[str, str, int] | None:
    """Return (MediaStorageSOPClassUID, TransferSyntaxUID, dataset offset) or None."""
    if len(buf) < 144 or buf[128:132] != b"DICM":
        return None
    walker = ElementWalker(buf, implicit=False)
    pos, found = 132, {0x00020002: "", 0x00020010: ""}
    while pos + 8 <= len(buf):
        tag, _vr, length, value = walker.element(pos)
        if tag >> 16 != 0x0002:
            return found[0x00020002], found[0x00020010], pos
        if length == UNDEFINED_LENGTH:
            return None
        if tag in found:
            found[tag] = _text(buf[value : value + length], "UI")
        pos = value + length
    return None


def _convert(vr: str, raw: bytes) -> Any:
    if vr == "US":
        if len(raw) != 2:
            raise _Unsure(vr)
        return struct.unpack("<H", raw)[0]
    if vr == "IS":
        return _numbers(raw, _WHOLE, int)
    if vr == "DS":
        return _numbers(raw, _NUMBER, float)
    if vr in _TEXT_VRS:
        return _text(raw, vr)
    raise _Unsure(vr)


def _numbers(raw: bytes, pattern: re.Pattern[bytes], kind: type) -> Any:
    if not raw:
        return None
    parts = raw.rstrip(b" ").split(b"\\")
    if not all(pattern.fullmatch(part) for part in parts):
        raise _Unsure(raw)
    if len(parts) == 1:
        return kind(parts[0])
    if kind is int:
        raise _Unsure(raw)  # several IS values: not asked for by scan
    return MultiValue(float, [float(part) for part in parts])


def _text(raw: bytes, vr: str) -> Any:
    if not raw.isascii() or b"\x1b" in raw:
        raise _Unsure("not ASCII")  # a character set decides: pydicom's job
    text = raw.decode("ascii").rstrip("\0 " if vr == "UI" else " ")
    if "\0" in text:
        raise _Unsure("NUL")
    if "\\" not in text:
        return text
    parts = text.split("\\")
    if any(part != part.strip() for part in parts):
        raise _Unsure("spaces around values")
    return MultiValue(str, parts)
