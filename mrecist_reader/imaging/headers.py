"""Read one file's DICOM header (never its pixels) into a small picklable record.

:func:`read_header` is what ``scan`` runs on every file, possibly in worker processes, so
it returns plain data (:class:`FileHeader`) or the reason the file cannot be used. It
never raises for a bad file, and opens only regular files (never a FIFO or a device).

What a header declares is checked before it is trusted: the pixel bytes Rows x Columns
x Samples x bits x frames declare against the file's bytes
(:mod:`mrecist_reader.imaging.limits`; a file declaring 2,147,483,647 frames is
refused before anything is allocated), NumberOfFrames (1 or more), BitsStored, and the
rescale (a RescaleSlope of 0, or a slope or intercept that is not a finite number,
would give a blank or non-finite volume: the file is skipped, naming the tag). Geometry
values that cannot be right (a position that is not finite, a zero or negative
PixelSpacing, zero or parallel ImageOrientationPatient vectors) are ignored with a note
naming the tag and the value, which ``scan`` turns into a warning of the series.
"""

import dataclasses
import functools
import logging
import math
import re
import struct
import warnings
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, cast

import pydicom
from pydicom.dataset import Dataset, FileDataset
from pydicom.errors import BytesLengthException, InvalidDicomError
from pydicom.tag import BaseTag, Tag
from pydicom.uid import (
    DeflatedExplicitVRLittleEndian,
    ExplicitVRBigEndian,
    ExplicitVRLittleEndian,
    ImplicitVRLittleEndian,
    MediaStorageDirectoryStorage,
    RLELossless,
    SecondaryCaptureImageStorage,
)

from mrecist_reader.imaging.byte_header import read_byte_header
from mrecist_reader.imaging.dicom_elements import (
    ITEM,
    PIXEL_DATA,
    SEQUENCE_DELIMITER,
    UNDEFINED_LENGTH,
    element_header,
    native_pixel_element,
)
from mrecist_reader.imaging.files import (
    NOT_REGULAR_REASON,
    NotARegularFile,
    open_regular_fd,
)
from mrecist_reader.imaging.identifiers import SOP, sop_stand_in
from mrecist_reader.imaging.limits import declared_pixel_bytes, pixel_size_problem
from mrecist_reader.imaging.sources import ZIP_SIGNATURES, zip_archive_reason
from mrecist_reader.imaging.volume import (
    RECORDED_SYNTAXES,
    EncodedSlice,
    NativeSlice,
    pseudonymous_subject_id,
)

logger = logging.getLogger(__name__)

_PIXEL_TAGS = {0x7FE00010: "PixelData", 0x7FE00008: "FloatPixelData", 0x7FE00009: "x"}
_NON_IMAGE_MODALITIES = {"SR", "PR", "KO", "REG", "SEG", "RTSTRUCT", "RTPLAN", "RTDOSE"}
_NON_IMAGE_MODALITIES |= {"ECG", "HD", "DOC", "AU", "RWV", "PLAN", "FID"}
HEADER_KEYWORDS = (
    "SOPClassUID", "SOPInstanceUID", "SeriesInstanceUID", "StudyInstanceUID", "Modality",
    "SeriesDescription", "ProtocolName", "SeriesNumber", "InstanceNumber", "Rows",
    "Columns", "ImageType", "PixelSpacing", "ImagerPixelSpacing", "ImagePositionPatient",
    "ImageOrientationPatient", "NumberOfFrames", "SharedFunctionalGroupsSequence",
    "PerFrameFunctionalGroupsSequence", "ClinicalTrialSubjectID",
    "ClinicalTrialTimePointID", "ClinicalTrialProtocolID", "ClinicalTrialSiteID",
    "AcquisitionTime", "AcquisitionDateTime", "ContentTime", "ContrastBolusAgent",
    "ContrastBolusStartTime", "PatientName", "PatientID", "PatientBirthDate",
    "InstitutionName", "StudyDate", "SeriesDate", "SpecificCharacterSet",
    "BitsAllocated", "SamplesPerPixel", "PhotometricInterpretation", "BitsStored",
    "PixelRepresentation", "RescaleSlope", "RescaleIntercept", "ModalityLUTSequence",
    "FrameOfReferenceUID", "StudyTime", "AccessionNumber", "StudyID",
    "PlanarConfiguration",
)  # fmt: skip
"""The only elements ``scan`` keeps (others are skipped unread)."""
_PAGE_WORDS = ("DOSE", "SUMMARY", "REPORT", "PATIENT_INFO", "SCREEN")


LOCALIZER_WORDS = re.compile(
    r"SURVEY|SURVIEW|SCOUT|TOPOGRAM|SCANOGRAM|LOCALI[SZ]ER|TRI[- ]?PILOT"
    r"|\b\d[- ]?PLANE[- ]?LOC",
    re.IGNORECASE,
)
"""Words of a series description or protocol name that name a localizer."""


@dataclass(frozen=True, slots=True)
class FrameGeometry:
    """Where one frame lies: position, orientation and in-plane spacing (each optional)."""

    position: tuple[float, float, float] | None
    orientation: tuple[float, float, float, float, float, float] | None
    pixel_spacing: tuple[float, float] | None


@dataclass(frozen=True, slots=True)
class FileHeader:
    """What ``scan`` needs from one usable image file (single- or multi-frame)."""

    path: Path
    sop_instance_uid: str
    series_instance_uid: str
    study_instance_uid: str
    modality: str
    series_description: str
    protocol_name: str
    series_number: int | None
    instance_number: int | None
    rows: int
    columns: int
    image_type: tuple[str, ...]
    transfer_syntax: str
    frames: tuple[FrameGeometry, ...]
    pixel_spacing_source: str
    subject_id: str
    timepoint_label: str
    trial_protocol_id: str
    trial_site_id: str
    acquisition_seconds: float | None
    contrast_agent: str
    bolus_start_seconds: float | None
    patient_name: str = ""
    patient_id: str = ""
    birth_date: str = ""
    institution: str = ""
    study_date: date | None = None
    series_date: date | None = None
    notes: tuple[str, ...] = field(default=())
    native: NativeSlice | None = None  # pixel layout of a plain single-frame image
    encoded: EncodedSlice | None = None  # a single-frame image's fragments
    samples_per_pixel: int = 1
    frame_of_reference_uid: str = ""
    study_time: str = ""
    accession_number: str = ""
    study_id: str = ""
    substituted_identifiers: tuple[str, ...] = ()  # keywords that were empty

    @property
    def is_localizer(self) -> bool:
        """Return whether the image is a localizer / scout / survey.

        ImageType LOCALIZER or SCOUT, or a series description or protocol name that
        says so: Philips "SURVEY" (also run into other words: "Breath holdSURVEY"),
        "Surview", Siemens "Topogram", GE "3-PLANE LOC", "Scout", "Scanogram".
        """
        if "LOCALIZER" in self.image_type or "SCOUT" in self.image_type:
            return True
        text = f"{self.series_description} {self.protocol_name}"
        return LOCALIZER_WORDS.search(text) is not None


@dataclass(frozen=True, slots=True)
class Unusable:
    """A file that is not a usable image, and why."""

    path: Path
    reason: str


@functools.cache
def _header_tags() -> list[BaseTag]:
    return [Tag(keyword) for keyword in HEADER_KEYWORDS]


def quiet_pydicom() -> None:
    """Silence pydicom's UserWarnings about out-of-spec header values.

    Real files are full of them (over-long IS values, odd UIDs); they say nothing a
    reader can act on, and ``catch_warnings`` is not thread-safe, so one process-wide
    filter limited to pydicom's modules is installed (idempotent).
    """
    warnings.filterwarnings("ignore", category=UserWarning, module=r"pydicom(\.|$)")


def read_header(path: Path) -> FileHeader | Unusable:
    """Return the header record of ``path`` or why it cannot be used (never raises)."""
    quiet_pydicom()
    try:
        return _read_header(path)
    except NotARegularFile:
        return Unusable(path, NOT_REGULAR_REASON)
    except (InvalidDicomError, OSError, EOFError, struct.error) as error:
        return Unusable(
            path, f"not readable as DICOM (damaged, cut short or not DICOM): {error}"
        )
    except (ValueError, TypeError, KeyError, IndexError, AttributeError) as error:
        return Unusable(path, f"malformed DICOM header: {error}")
    except MemoryError:  # pydicom reads an element's declared length at once
        return Unusable(
            path, "malformed DICOM header: an element declares more bytes than exist"
        )
    except (NotImplementedError, OverflowError, LookupError, RuntimeError) as error:
        return Unusable(path, f"unsupported DICOM header: {error}")
    except Exception as error:  # a bad file must never stop a scan; keep the trace
        logger.warning("unexpected error reading %s", path, exc_info=True)
        return Unusable(path, f"unreadable DICOM header: {error}")


def _looks_like_dicom(head: bytes) -> bool:
    if len(head) >= 132 and head[128:132] == b"DICM":
        return True
    if len(head) < 8:
        return False
    group_le = struct.unpack("<H", head[:2])[0]
    group_be = struct.unpack(">H", head[:2])[0]
    return group_le in (0x0002, 0x0008) or group_be in (0x0002, 0x0008)


BYTE_HEADER_BYTES = 1 << 16
"""Bytes read for the byte-level header reader (a longer header goes to pydicom)."""


def _read_header(path: Path, *, from_bytes: bool = True) -> FileHeader | Unusable:
    """Read ``path``'s header: from its bytes when it can, else with pydicom.

    The byte-level reader (:mod:`mrecist_reader.imaging.byte_header`) gives the values
    pydicom would; a file it cannot read with certainty, or whose record would be
    refused or carry a note, is read again with pydicom (so every message about a bad
    file has one source).
    """
    fd, stat = open_regular_fd(path)
    size = stat.st_size
    with open(fd, "rb") as stream:
        if size == 0:
            return Unusable(path, "empty file")
        head = stream.read(132)
        if head[:4] in ZIP_SIGNATURES:
            return Unusable(path, zip_archive_reason(path))
        if not _looks_like_dicom(head):
            return Unusable(
                path, "not a DICOM file (no DICM marker and no DICOM header)"
            )
        stream.seek(0)
        fast = (
            read_byte_header(stream.read(BYTE_HEADER_BYTES), HEADER_KEYWORDS)
            if from_bytes
            else None
        )
        if fast is None:
            stream.seek(0)
            dataset = pydicom.dcmread(
                stream,
                stop_before_pixels=True,
                force=True,
                specific_tags=list(HEADER_KEYWORDS),
            )
            element_offset = stream.tell()  # dcmread stops right before Pixel Data
        else:
            dataset = cast("FileDataset", fast[0])  # answers get/in/attributes alike
            element_offset = fast[1]
            stream.seek(element_offset)
        pixel_problem, fragments = _pixel_data_problem(stream, dataset, size)
        stream.seek(element_offset)
        element = stream.read(12)
    reason = _why_not_an_image(dataset, pixel_problem) or _declared_problem(
        dataset, size, None if fragments is None else len(fragments)
    )
    if reason and fast is not None:
        return _read_header(path, from_bytes=False)  # pydicom words every refusal
    if reason:
        return Unusable(path, reason)
    native = _native_slice(
        dataset,
        element_offset=element_offset,
        element=element,
        file_stat=(size, stat.st_mtime_ns),
    )
    header = _header_from(
        path,
        dataset,
        native=native,
        encoded=_encoded_slice(
            dataset, fragments or (), file_stat=(size, stat.st_mtime_ns)
        ),
    )
    if fast is not None and header.notes:
        return _read_header(path, from_bytes=False)
    if not header.sop_instance_uid:
        header = dataclasses.replace(
            header,
            sop_instance_uid=sop_stand_in(path),
            substituted_identifiers=(SOP, *header.substituted_identifiers),
        )
    return header


_NO_META = Dataset()


def _meta_of(dataset: Dataset) -> Any:
    """Return the File Meta Information of ``dataset`` (an empty Dataset when none)."""
    meta = dataset.get("file_meta")
    return _NO_META if meta is None else meta


def _why_not_an_image(dataset: Dataset, pixel_problem: str) -> str:
    """Return why a parsed file is not a usable image ('' when it is one)."""
    meta = _meta_of(dataset)
    if meta.get("MediaStorageSOPClassUID") == MediaStorageDirectoryStorage:
        return "DICOMDIR (a directory of files, not an image)"
    modality = str(dataset.get("Modality", "") or "")
    if modality.upper() in _NON_IMAGE_MODALITIES:
        return f"not an image (modality {modality})"
    if "SOPClassUID" not in dataset and "Rows" not in dataset:
        return "not a DICOM image (no SOP Class UID, no Rows)"
    if pixel_problem:
        return pixel_problem
    if not dataset.get("Rows") or not dataset.get("Columns"):
        return "image without Rows/Columns"
    bits = _int_or_none(dataset, "BitsAllocated")
    if bits is not None and bits not in (8, 16, 32):
        return f"BitsAllocated {bits} is not supported (expected 8, 16 or 32 bits per pixel)"
    if _is_document_page(dataset):
        return (
            "secondary capture page (dose report or exam summary), not an image series"
        )
    return ""


def _native_slice(
    dataset: Dataset,
    *,
    element_offset: int,
    element: bytes,
    file_stat: tuple[int, int],
) -> NativeSlice | None:
    """Return where a plain image's pixel values lie, or None when it must be decoded.

    Plain: a File Meta transfer syntax of implicit or explicit VR little endian, one
    frame, one sample, MONOCHROME2, 8/16/32 bits, no Modality LUT Sequence and no
    functional groups, and a Pixel Data element long enough for Rows x Columns.
    """
    syntax = str(getattr(dataset.get("file_meta"), "TransferSyntaxUID", "") or "")
    found = native_pixel_element(syntax, element)
    if found is None:
        return None
    header_length, length = found
    if (
        _has_any(dataset, _NOT_PLAIN)
        or (_int_or_none(dataset, "NumberOfFrames") or 1) > 1
    ):
        return None
    bits = _int_or_none(dataset, "BitsAllocated")
    if (
        bits not in (8, 16, 32)
        or (_int_or_none(dataset, "SamplesPerPixel") or 1) != 1
        or _text(dataset, "PhotometricInterpretation") != "MONOCHROME2"
    ):
        return None
    if length < int(dataset.Rows) * int(dataset.Columns) * bits // 8:
        return None
    rescale = _rescale(dataset)
    if rescale is None:
        return None
    size, mtime_ns = file_stat
    return NativeSlice(
        value_offset=element_offset + header_length,
        element_header=element[:header_length],
        bits_allocated=bits,
        bits_stored=_int_or_none(dataset, "BitsStored") or bits,
        signed=_int_or_none(dataset, "PixelRepresentation") == 1,
        slope=rescale[0],
        intercept=rescale[1],
        file_size=size,
        mtime_ns=mtime_ns,
    )


_NOT_PLAIN = (
    "ModalityLUTSequence",
    "SharedFunctionalGroupsSequence",
    "PerFrameFunctionalGroupsSequence",
)


def _has_any(dataset: Dataset, keywords: tuple[str, ...]) -> bool:
    return any(keyword in dataset for keyword in keywords)


def _rescale(dataset: Dataset) -> tuple[float, float] | None:
    """Return (slope, intercept), identity when absent; None when unreadable."""
    try:
        slope = _first_float(dataset.get("RescaleSlope"), 1.0)
        intercept = _first_float(dataset.get("RescaleIntercept"), 0.0)
    except (TypeError, ValueError):
        return None
    if not (math.isfinite(slope) and math.isfinite(intercept)) or slope == 0:
        return None
    return slope, intercept


def _first_float(value: Any, default: float) -> float:
    """Return a DS value as a float (the first of several), ``default`` when empty."""
    if isinstance(value, pydicom.multival.MultiValue):
        value = value[0] if len(value) else None
    if value is None or value == "":
        return default
    return float(value)


def _is_document_page(dataset: Dataset) -> bool:
    """Return whether a Secondary Capture object is a dose/summary page, not a slice."""
    sop_class = str(dataset.get("SOPClassUID", ""))
    if not sop_class.startswith(SecondaryCaptureImageStorage):
        return False
    image_type = " ".join(str(v).upper() for v in (dataset.get("ImageType") or ()))
    text = f"{image_type} {_text(dataset, 'SeriesDescription').upper()}"
    return any(word in text for word in _PAGE_WORDS)


_NO_PIXELS = (
    "no pixel data (not an image: e.g. a report, dose page or presentation state)"
)


_Fragments = tuple[tuple[int, int], ...]


def _pixel_data_problem(
    stream: Any, dataset: Dataset, size: int
) -> tuple[str, _Fragments | None]:
    """Return why the pixel data is unusable ('' when it looks complete).

    The second value gives the fragments of encapsulated (compressed) pixel data,
    (file offset, length) each, the Basic Offset Table item not counted; None for
    native pixel data.
    """
    syntax = str(getattr(_meta_of(dataset), "TransferSyntaxUID", ""))
    if syntax == DeflatedExplicitVRLittleEndian:
        return "", None  # the stream was inflated in memory; the offset says nothing
    offset = stream.tell()
    tag_bytes = stream.read(12)
    if len(tag_bytes) < 8:
        return _NO_PIXELS, None
    little = syntax != ExplicitVRBigEndian
    fmt = "<HH" if little else ">HH"
    group, element = struct.unpack(fmt, tag_bytes[:4])
    tag = (group << 16) | element
    if tag not in _PIXEL_TAGS:
        return _NO_PIXELS, None
    if tag != PIXEL_DATA:
        return "float pixel data (parametric map) is not supported", None
    _tag, _vr, length, value_offset = element_header(
        tag_bytes, 0, implicit=_is_implicit(dataset, syntax), little=little
    )
    header_length = value_offset
    if length == UNDEFINED_LENGTH:
        stream.seek(offset + header_length)
        return _encapsulated_problem(stream, size, little=little)
    if length == 0:
        return "empty pixel data", None
    if offset + header_length + length > size:
        present = size - offset - header_length
        return (
            f"truncated file: pixel data needs {length} bytes, {present} present",
            None,
        )
    return _native_length_problem(dataset, length), None


def _encapsulated_problem(
    stream: Any, size: int, *, little: bool
) -> tuple[str, _Fragments]:
    """Walk the fragments of encapsulated Pixel Data; '' when they end properly.

    Only item headers are read (each fragment is skipped with a seek), so this stays
    cheap; a file cut inside its fragments has no sequence delimiter before its end.
    Also returns the fragments after the Basic Offset Table: (file offset, length).
    """
    fmt = "<HHI" if little else ">HHI"
    items: list[tuple[int, int]] = []
    while True:
        raw = stream.read(8)
        if len(raw) < 8:
            return (
                "truncated file: the compressed pixel data ends before its last fragment",
                (),
            )
        group, element, length = struct.unpack(fmt, raw)
        tag = (group << 16) | element
        if tag == SEQUENCE_DELIMITER:
            return "", tuple(items[1:])
        if tag != ITEM:
            return (
                f"damaged compressed pixel data: unexpected tag {tag:08X} among fragments",
                (),
            )
        start = stream.tell()
        if start + length > size:
            return "truncated file: a compressed pixel data fragment is cut short", ()
        items.append((start, length))
        stream.seek(length, 1)


def _encoded_slice(
    dataset: Dataset, fragments: _Fragments, *, file_stat: tuple[int, int]
) -> EncodedSlice | None:
    """Return where a plain compressed image's fragments lie, or None (see EncodedSlice).

    An RLE frame is exactly one fragment; a single frame of the JPEG family may span
    several, which are joined in order (PS3.5 A.4).
    """
    syntax = str(getattr(_meta_of(dataset), "TransferSyntaxUID", "") or "")
    if syntax not in RECORDED_SYNTAXES or not fragments:
        return None
    if syntax == RLELossless and len(fragments) != 1:
        return None
    if not _planar_configuration_plain(dataset):
        return None  # left to pydicom, which names what is wrong with it
    if (
        _has_any(dataset, _NOT_PLAIN)
        or (_int_or_none(dataset, "NumberOfFrames") or 1) > 1
    ):
        return None
    bits = _int_or_none(dataset, "BitsAllocated")
    if (
        bits not in (8, 16)
        or (_int_or_none(dataset, "SamplesPerPixel") or 1) != 1
        or _text(dataset, "PhotometricInterpretation") != "MONOCHROME2"
    ):
        return None
    rescale = _rescale(dataset)
    if rescale is None:
        return None
    size, mtime_ns = file_stat
    return EncodedSlice(
        syntax=syntax,
        fragments=fragments,
        bits_allocated=bits,
        bits_stored=_int_or_none(dataset, "BitsStored") or bits,
        signed=_int_or_none(dataset, "PixelRepresentation") == 1,
        slope=rescale[0],
        intercept=rescale[1],
        file_size=size,
        mtime_ns=mtime_ns,
    )


def _planar_configuration_plain(dataset: Dataset) -> bool:
    """Return whether PlanarConfiguration is absent, empty or 0 (readable as such)."""
    if "PlanarConfiguration" not in dataset:
        return True
    try:
        value = dataset.PlanarConfiguration
    except (TypeError, ValueError, OverflowError, struct.error, BytesLengthException):
        return False
    return value is None or value == "" or (isinstance(value, int) and value == 0)


def _declared_problem(dataset: Dataset, size: int, fragments: int | None) -> str:
    """Return why the header's pixel description cannot be trusted ('' if it can).

    NumberOfFrames must be a whole number from 1, never more than the fragments of
    compressed pixel data (each frame starts a fragment, PS3.5 A.4); the pixel bytes
    declared must fit the file (:func:`~mrecist_reader.imaging.limits.pixel_size_problem`);
    BitsStored must lie within BitsAllocated; the rescale must keep values finite and
    distinct.
    """
    frames = _frame_count(dataset)
    if isinstance(frames, str):
        return frames
    if fragments is not None and frames > fragments:
        return (
            f"NumberOfFrames (0028,0008) {frames} but the compressed pixel data holds "
            f"{fragments} fragment(s) (each frame needs at least one)"
        )
    syntax = str(getattr(_meta_of(dataset), "TransferSyntaxUID", ""))
    bits = _int_or_none(dataset, "BitsAllocated") or 16
    declared = declared_pixel_bytes(
        int(dataset.Rows),
        int(dataset.Columns),
        samples=max(1, _int_or_none(dataset, "SamplesPerPixel") or 1),
        bits_allocated=bits,
        frames=frames,
    )
    compressed = fragments is not None or syntax == DeflatedExplicitVRLittleEndian
    problem = pixel_size_problem(
        declared, frames=frames, file_size=size, compressed=compressed
    )
    return problem or _bits_stored_problem(dataset, bits) or _rescale_problem(dataset)


def _frame_count(dataset: Dataset) -> int | str:
    """Return NumberOfFrames (1 when absent), or why it is not a number of frames."""
    value = dataset.get("NumberOfFrames")
    if value is None or str(value).strip() == "":
        return 1
    try:
        frames = int(str(value).strip())
    except ValueError:
        frames = 0
    if frames < 1:
        return (
            f"NumberOfFrames (0028,0008) {_shown(value)} is not a number of frames "
            "(expected a whole number, 1 or more)"
        )
    return frames


def _bits_stored_problem(dataset: Dataset, bits_allocated: int) -> str:
    stored = _int_or_none(dataset, "BitsStored")
    if stored is None or 1 <= stored <= bits_allocated:
        return ""
    return (
        f"BitsStored (0028,0101) {stored} is not a number of bits (expected 1 to "
        f"BitsAllocated, {bits_allocated})"
    )


_RESCALE_TAGS = {"RescaleSlope": "(0028,1053)", "RescaleIntercept": "(0028,1052)"}
_MAX_RESCALE = 1e15
"""Larger slopes or intercepts take 32-bit values beyond a float32's range."""


def _rescale_problem(dataset: Dataset) -> str:
    """Return why a rescale (top level or functional groups) is unusable ('' if not)."""
    places: list[Dataset] = [dataset]
    for keyword in (
        "SharedFunctionalGroupsSequence",
        "PerFrameFunctionalGroupsSequence",
    ):
        for group in dataset.get(keyword) or ():
            places.extend(group.get("PixelValueTransformationSequence") or ())
    for place in places:
        for keyword, tag in _RESCALE_TAGS.items():
            problem = _rescale_value_problem(place.get(keyword), keyword, tag)
            if problem:
                return problem
    return ""


def _rescale_value_problem(value: Any, keyword: str, tag: str) -> str:
    try:
        number = _first_float(value, 1.0)
    except (TypeError, ValueError):
        return f"{keyword} {tag} {_shown(value)} is not a number: the file is not used"
    if not math.isfinite(number) or abs(number) > _MAX_RESCALE:
        return (
            f"{keyword} {tag} {_shown(value)} is not a finite rescale value: "
            "the file is not used"
        )
    if keyword == "RescaleSlope" and number == 0:
        return (
            f"{keyword} {tag} {_shown(value)} would make every pixel the same value "
            "(a blank image): the file is not used"
        )
    return ""


def _shown(value: Any, limit: int = 40) -> str:
    """Return a header value as quoted text for a message (long values cut short)."""
    if isinstance(value, pydicom.multival.MultiValue):
        text = "\\".join(str(v) for v in value)
    elif isinstance(value, bytes):
        text = value.decode("ascii", "replace")
    else:
        text = str(value)
    if len(text) > limit:
        text = text[:limit] + "..."
    return "'" + "".join(c if c.isprintable() else "?" for c in text) + "'"


def _native_length_problem(dataset: Dataset, length: int) -> str:
    """Return why native Pixel Data is shorter than its Rows/Columns/bits need ('' if not)."""
    frames = _frame_count(dataset)
    if isinstance(frames, str):
        return ""  # reported by _declared_problem, naming the tag
    try:
        needed = (
            int(dataset.get("Rows") or 0)
            * int(dataset.get("Columns") or 0)
            * int(dataset.get("SamplesPerPixel") or 1)
            * frames
            * int(dataset.get("BitsAllocated") or 0)
            // 8
        )
    except (TypeError, ValueError):
        return "unreadable Rows, Columns or BitsAllocated"
    if str(dataset.get("PhotometricInterpretation", "")) == "YBR_FULL_422":
        needed = needed * 2 // 3  # chroma is stored for every other pixel
    if length < needed:
        declared = f" (NumberOfFrames (0028,0008) {frames})" if frames > 1 else ""
        return (
            f"pixel data holds {length} bytes but Rows x Columns x frames x bits "
            f"needs {needed}{declared}"
        )
    return ""


def _is_implicit(dataset: Dataset, syntax: str) -> bool:
    if syntax:
        return syntax == ImplicitVRLittleEndian
    return bool(getattr(dataset, "is_implicit_VR", False))


def _text(dataset: Dataset, keyword: str) -> str:
    value = dataset.get(keyword, "")
    if value is None:
        return ""
    if isinstance(value, pydicom.multival.MultiValue):
        return "\\".join(str(v) for v in value)
    return str(value).strip()


def _int_or_none(dataset: Dataset, keyword: str) -> int | None:
    value = dataset.get(keyword)
    try:
        return int(value) if value not in (None, "") else None
    except (TypeError, ValueError):
        return None


def _floats(value: Any, count: int) -> tuple[float, ...] | None:
    if value is None:
        return None
    try:
        numbers = tuple(float(v) for v in value)
    except (TypeError, ValueError):
        return None
    if len(numbers) != count or not all(math.isfinite(n) for n in numbers):
        return None
    return numbers


MAX_COORDINATE_MM = 1e6
"""Positions farther than this (1 km) from the scanner's origin are not positions."""
MAX_PIXEL_SPACING_MM = 1e4
_UNIT_TOLERANCE = 0.1
"""How far an orientation vector may be from unit length, and from perpendicular."""


@dataclass(frozen=True, slots=True)
class _Check:
    keyword: str
    tag: str
    count: int
    what: str  # "is not <what>"


_POSITION = _Check("ImagePositionPatient", "(0020,0032)", 3, "a position")
_ORIENTATION = _Check("ImageOrientationPatient", "(0020,0037)", 6, "an orientation")
_SPACING = _Check("PixelSpacing", "(0028,0030)", 2, "a pixel spacing")
_IMAGER_SPACING = _Check("ImagerPixelSpacing", "(0018,1164)", 2, "a pixel spacing")


def _checked(
    item: Dataset, check: _Check, notes: list[str]
) -> tuple[float, ...] | None:
    """Return a geometry value of ``item``, or None (with a note) when it cannot be right.

    Absent or empty: None without a note. Otherwise the value must be ``count`` finite
    numbers that make sense: positions within :data:`MAX_COORDINATE_MM`, spacings above
    0 mm, orientation vectors of unit length and perpendicular.
    """
    try:
        value = item.get(check.keyword)
    except (ValueError, TypeError, KeyError, NotImplementedError) as error:
        notes.append(f"{check.keyword} {check.tag} unreadable ({error}): ignored")
        return None
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, pydicom.multival.MultiValue) and len(value) == 0:
        return None
    numbers = _floats(value, check.count)
    problem = (
        f"not {check.count} finite numbers"
        if numbers is None
        else _nonsense(check, numbers)
    )
    if problem:
        notes.append(
            f"{check.keyword} {check.tag} {_shown(value)} is not {check.what} "
            f"({problem}): ignored"
        )
        return None
    return numbers


def _nonsense(check: _Check, numbers: tuple[float, ...]) -> str:
    """Say why finite numbers still cannot be the value ('' when they can)."""
    if check is _POSITION:
        far = any(abs(n) > MAX_COORDINATE_MM for n in numbers)
        return f"beyond {MAX_COORDINATE_MM:g} mm" if far else ""
    if check is _ORIENTATION:
        return _orientation_problem(numbers)
    if not all(0 < n <= MAX_PIXEL_SPACING_MM for n in numbers):
        return "each value must be above 0 mm"
    return ""


def _orientation_problem(numbers: tuple[float, ...]) -> str:
    row, column = numbers[:3], numbers[3:]
    lengths = [math.sqrt(sum(v * v for v in vector)) for vector in (row, column)]
    if min(lengths) < 1 - _UNIT_TOLERANCE or max(lengths) > 1 + _UNIT_TOLERANCE:
        return "zero or not unit direction vectors"
    cosine = sum(a * b for a, b in zip(row, column, strict=True)) / (
        lengths[0] * lengths[1]
    )
    return (
        "parallel or not perpendicular vectors" if abs(cosine) > _UNIT_TOLERANCE else ""
    )


def _pair(value: tuple[float, ...] | None) -> tuple[float, float] | None:
    return (value[0], value[1]) if value else None


def _triplet(value: tuple[float, ...] | None) -> tuple[float, float, float] | None:
    return (value[0], value[1], value[2]) if value else None


def _sextet(
    value: tuple[float, ...] | None,
) -> tuple[float, float, float, float, float, float] | None:
    if not value:
        return None
    return (value[0], value[1], value[2], value[3], value[4], value[5])


def time_to_seconds(value: Any) -> float | None:
    """Return a DICOM TM value (``HHMMSS.FFFFFF``, also ``HH:MM:SS``) as seconds of the day."""
    text = str(value or "").strip().replace(":", "")
    if not text:
        return None
    whole, _, fraction = text.partition(".")
    if not whole.isdigit() or len(whole) < 2:
        return None
    hours = int(whole[0:2])
    minutes = int(whole[2:4]) if len(whole) >= 4 else 0
    seconds = int(whole[4:6]) if len(whole) >= 6 else 0
    fractional = float("0." + fraction) if fraction.isdigit() else 0.0
    return hours * 3600.0 + minutes * 60.0 + seconds + fractional


def _date(value: Any) -> date | None:
    text = str(value or "").strip()
    if len(text) != 8 or not text.isdigit():
        return None
    try:
        return date(int(text[:4]), int(text[4:6]), int(text[6:8]))
    except ValueError:
        return None


def _geometry(
    item: Dataset | None, fallback: FrameGeometry, notes: list[str]
) -> FrameGeometry:
    if item is None:
        return fallback
    position = fallback.position
    orientation = fallback.orientation
    spacing = fallback.pixel_spacing
    plane = item.get("PlanePositionSequence")
    if plane:
        position = _triplet(_checked(plane[0], _POSITION, notes)) or position
    orient = item.get("PlaneOrientationSequence")
    if orient:
        orientation = _sextet(_checked(orient[0], _ORIENTATION, notes)) or orientation
    measures = item.get("PixelMeasuresSequence")
    if measures:
        spacing = _pair(_checked(measures[0], _SPACING, notes)) or spacing
    return FrameGeometry(position, orientation, spacing)


def _frames(dataset: Dataset) -> tuple[tuple[FrameGeometry, ...], str, tuple[str, ...]]:
    """Return each frame's geometry, where the pixel spacing came from, and notes."""
    notes: list[str] = []
    spacing_source = "PixelSpacing"
    spacing = _pair(_checked(dataset, _SPACING, notes))
    if spacing is None:
        spacing = _pair(_checked(dataset, _IMAGER_SPACING, notes))
        spacing_source = "ImagerPixelSpacing" if spacing else ""
    base = FrameGeometry(
        _triplet(_checked(dataset, _POSITION, notes)),
        _sextet(_checked(dataset, _ORIENTATION, notes)),
        spacing,
    )
    n_frames = _frame_count(dataset)
    if isinstance(n_frames, str):  # refused before; never reached for a usable file
        raise ValueError(n_frames)
    shared_sequence = dataset.get("SharedFunctionalGroupsSequence")
    per_frame = dataset.get("PerFrameFunctionalGroupsSequence")
    if not per_frame and not shared_sequence:
        return (base,) * n_frames, spacing_source, tuple(notes)
    shared = _geometry(shared_sequence[0] if shared_sequence else None, base, notes)
    frames = tuple(
        _geometry(
            per_frame[k] if per_frame and k < len(per_frame) else None, shared, notes
        )
        for k in range(n_frames)
    )
    if frames and frames[0].pixel_spacing is not None and spacing is None:
        spacing_source = "PixelMeasuresSequence"
    return frames, spacing_source, tuple(dict.fromkeys(notes))


def _header_from(
    path: Path,
    dataset: Dataset,
    *,
    native: NativeSlice | None = None,
    encoded: EncodedSlice | None = None,
) -> FileHeader:
    meta = _meta_of(dataset)
    syntax = str(getattr(meta, "TransferSyntaxUID", "") or "")
    if not syntax:
        syntax = (
            ImplicitVRLittleEndian if dataset.is_implicit_VR else ExplicitVRLittleEndian
        )
        if not dataset.is_little_endian:
            syntax = ExplicitVRBigEndian
    frames, spacing_source, notes = _frames(dataset)
    acquisition = time_to_seconds(dataset.get("AcquisitionTime"))
    if acquisition is None:
        acquisition = time_to_seconds(str(dataset.get("AcquisitionDateTime") or "")[8:])
    if acquisition is None:
        acquisition = time_to_seconds(dataset.get("ContentTime"))
    subject = _text(dataset, "ClinicalTrialSubjectID") or pseudonymous_subject_id(
        _text(dataset, "PatientID")
    )
    return FileHeader(
        path=path,
        sop_instance_uid=_text(dataset, "SOPInstanceUID"),
        series_instance_uid=_text(dataset, "SeriesInstanceUID"),
        study_instance_uid=_text(dataset, "StudyInstanceUID"),
        modality=_text(dataset, "Modality"),
        series_description=_text(dataset, "SeriesDescription"),
        protocol_name=_text(dataset, "ProtocolName"),
        series_number=_int_or_none(dataset, "SeriesNumber"),
        instance_number=_int_or_none(dataset, "InstanceNumber"),
        rows=int(dataset.Rows),
        columns=int(dataset.Columns),
        image_type=tuple(str(v).upper() for v in (dataset.get("ImageType") or ())),
        transfer_syntax=syntax,
        frames=frames,
        pixel_spacing_source=spacing_source,
        subject_id=subject,
        timepoint_label=_text(dataset, "ClinicalTrialTimePointID"),
        trial_protocol_id=_text(dataset, "ClinicalTrialProtocolID"),
        trial_site_id=_text(dataset, "ClinicalTrialSiteID"),
        acquisition_seconds=acquisition,
        contrast_agent=_text(dataset, "ContrastBolusAgent"),
        bolus_start_seconds=time_to_seconds(dataset.get("ContrastBolusStartTime")),
        patient_name=_text(dataset, "PatientName"),
        patient_id=_text(dataset, "PatientID"),
        birth_date=_text(dataset, "PatientBirthDate"),
        institution=_text(dataset, "InstitutionName"),
        study_date=_date(dataset.get("StudyDate")),
        series_date=_date(dataset.get("SeriesDate")),
        frame_of_reference_uid=_text(dataset, "FrameOfReferenceUID"),
        study_time=_text(dataset, "StudyTime"),
        accession_number=_text(dataset, "AccessionNumber"),
        study_id=_text(dataset, "StudyID"),
        notes=notes,
        native=native,
        encoded=encoded,
        samples_per_pixel=_int_or_none(dataset, "SamplesPerPixel") or 1,
    )
