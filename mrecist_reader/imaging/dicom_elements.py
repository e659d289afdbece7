"""One byte-level DICOM element parser, shared by the header reader and the fast path.

``scan`` (:mod:`mrecist_reader.imaging.headers`) checks the Pixel Data element of every
file without decoding it, and the loader's fast path
(:mod:`mrecist_reader.imaging.fastpath`) walks the top-level elements of uncompressed
files without pydicom. Both read element headers (tag, VR, value length, PS3.5 7.1)
through :func:`element_header`; the VRs with a 4-byte length come from pydicom
(``EXPLICIT_VR_LENGTH_32``) and the transfer syntaxes from :mod:`pydicom.uid`.
"""

import struct

from pydicom.uid import ExplicitVRLittleEndian, ImplicitVRLittleEndian
from pydicom.valuerep import EXPLICIT_VR_LENGTH_32

LONG_VRS = frozenset(str(vr).encode("ascii") for vr in EXPLICIT_VR_LENGTH_32)
"""Explicit-VR element headers of these VRs carry a 4-byte length (PS3.5 7.1.2)."""
UNDEFINED_LENGTH = 0xFFFFFFFF
ITEM = 0xFFFEE000
ITEM_DELIMITER = 0xFFFEE00D
SEQUENCE_DELIMITER = 0xFFFEE0DD
PIXEL_DATA = 0x7FE00010
PIXEL_DATA_TAG = b"\xe0\x7f\x10\x00"
"""(7FE0,0010) as little-endian bytes."""

NATIVE_LITTLE_ENDIAN = frozenset({ExplicitVRLittleEndian, ImplicitVRLittleEndian})
"""Uncompressed little-endian transfer syntaxes, read without pydicom."""
_PIXEL_HEADER_LENGTH: dict[str, int] = {
    str(ImplicitVRLittleEndian): 8,
    str(ExplicitVRLittleEndian): 12,
}
"""Pixel Data element header length in each native little-endian syntax."""


_HEAD = {True: struct.Struct("<HH2sH"), False: struct.Struct(">HH2sH")}
"""Tag, VR and 2-byte length of an explicit-VR element header, in one unpack."""
_LENGTH = {True: struct.Struct("<I"), False: struct.Struct(">I")}


def element_header(
    buf: bytes, pos: int, *, implicit: bool, little: bool = True
) -> tuple[int, bytes, int, int]:
    """Return ``(tag, vr, length, value_offset)`` of the element at ``buf[pos:]``.

    ``vr`` is empty in implicit VR and for item and delimiter tags (group FFFE), which
    have no VR in any syntax. Raises ``struct.error`` when ``buf`` ends too soon.
    """
    # one precompiled unpack for tag, VR and short length (scan walks ~40 per file)
    group, elem, vr, length = _HEAD[little].unpack_from(buf, pos)
    tag = (group << 16) | elem
    if implicit or group == 0xFFFE:
        return tag, b"", _LENGTH[little].unpack_from(buf, pos + 4)[0], pos + 8
    if vr in LONG_VRS:
        return tag, vr, _LENGTH[little].unpack_from(buf, pos + 8)[0], pos + 12
    return tag, vr, length, pos + 8


class ElementWalker:
    """Walk the top-level elements of a little-endian dataset held in ``buf``."""

    def __init__(self, buf: bytes, *, implicit: bool) -> None:
        self.buf = buf
        self.implicit = implicit

    def element(self, pos: int) -> tuple[int, bytes, int, int]:
        """Return ``(tag, vr, length, value_offset)`` of the element at ``pos``."""
        return element_header(self.buf, pos, implicit=self.implicit)

    def skip_undefined(self, pos: int, end_tag: int) -> int:
        """Skip nested content until ``end_tag`` (item or sequence delimiter)."""
        while True:
            tag, _vr, length, value = self.element(pos)
            if tag == end_tag:
                return value
            if length == UNDEFINED_LENGTH:
                inner_end = ITEM_DELIMITER if tag == ITEM else SEQUENCE_DELIMITER
                pos = self.skip_undefined(value, inner_end)
            else:
                pos = value + length


def meta_syntax(buf: bytes) -> tuple[str, int, int] | None:
    """Return (transfer syntax, offset of the dataset, offset of the syntax element).

    None when ``buf`` has no ``DICM`` preamble or its File Meta Information does not
    end within ``buf``.
    """
    if buf[128:132] != b"DICM":
        return None
    walker = ElementWalker(buf, implicit=False)
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


def native_pixel_element(syntax: str, element: bytes) -> tuple[int, int] | None:
    """Return (header length, value length) of a plain Pixel Data element, else None.

    ``element`` is the first 12 bytes at the Pixel Data element of a file whose File
    Meta transfer syntax is ``syntax``. Plain: implicit or explicit VR little endian
    (OB or OW), with a defined length.
    """
    header_length = _PIXEL_HEADER_LENGTH.get(syntax)
    if header_length is None or element[:4] != PIXEL_DATA_TAG:
        return None
    if header_length == 12 and element[4:6] not in (b"OB", b"OW"):
        return None
    if len(element) < header_length:
        return None
    (length,) = struct.unpack_from("<I", element, header_length - 4)
    return None if length == UNDEFINED_LENGTH else (header_length, length)
