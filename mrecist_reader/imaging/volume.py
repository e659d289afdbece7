"""Image series and volumes: what ``scan`` finds and what ``load_volume`` returns.

Axis order everywhere is ``[slice, row, column]``; lengths are millimetres; patient
coordinates are DICOM's (LPS: x to the patient's left, y to posterior, z to head).
"""

import hashlib
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from pathlib import Path

import numpy as np
import numpy.typing as npt


class Phase(StrEnum):
    """The contrast phase of a series (the spec's tokens)."""

    ARTERIAL = "arterial"
    PORTAL_VENOUS = "portal_venous"
    DELAYED = "delayed"
    PRE_CONTRAST = "pre_contrast"
    UNKNOWN = "unknown"


@dataclass(frozen=True, slots=True)
class SkippedFile:
    """A file (or a reference to one) that ``scan`` could not use, and why."""

    path: str
    reason: str


@dataclass(frozen=True, slots=True)
class PatientIdentity:
    """Identifying header values; never shown, logged or exported in a blinded read."""

    patient_name: str = ""
    patient_id: str = ""
    birth_date: str = ""
    institution: str = ""
    study_date: date | None = None
    series_date: date | None = None


def pseudonymous_subject_id(patient_id: str) -> str:
    """Return the subject code shown for a PatientID when there is no trial subject ID.

    A PatientID is often a hospital number: it must not reach the screen, the reads
    database or an export. A short one-way hash (``patient-1a2b3c4d``) keeps subjects
    apart and the same from one scan to the next. '' stays ''.
    """
    if not patient_id:
        return ""
    return f"patient-{hashlib.sha256(patient_id.encode('utf-8')).hexdigest()[:8]}"


@dataclass(frozen=True, slots=True)
class NativeSlice:
    """Where ``scan`` found one uncompressed image's pixel values, to read them unparsed.

    Recorded for single-frame little-endian MONOCHROME2 files without a Modality LUT
    Sequence. ``load_volume`` reads the values straight from ``value_offset`` after
    checking that the file still has ``file_size`` and ``mtime_ns`` and that
    ``element_header`` (Pixel Data tag, VR and length, 8 or 12 bytes) still lies right
    before them; otherwise it parses the file's header again.
    """

    value_offset: int
    element_header: bytes
    bits_allocated: int
    bits_stored: int
    signed: bool
    slope: float
    intercept: float
    file_size: int
    mtime_ns: int


RLE_SYNTAX = "1.2.840.10008.1.2.5"
J2K_SYNTAXES = frozenset(
    {"1.2.840.10008.1.2.4.90", "1.2.840.10008.1.2.4.91"}  # JPEG 2000 (Lossless)
)
LIBJPEG_SYNTAXES = frozenset(
    {
        "1.2.840.10008.1.2.4.57",  # JPEG Lossless, process 14
        "1.2.840.10008.1.2.4.70",  # JPEG Lossless, first-order prediction (SV1)
        "1.2.840.10008.1.2.4.80",  # JPEG-LS Lossless
        "1.2.840.10008.1.2.4.81",  # JPEG-LS Near-Lossless
    }
)
RECORDED_SYNTAXES = frozenset({RLE_SYNTAX, *J2K_SYNTAXES, *LIBJPEG_SYNTAXES})
"""Transfer syntaxes whose single-frame images ``scan`` records (:class:`EncodedSlice`)."""


@dataclass(frozen=True, slots=True)
class EncodedSlice:
    """Where ``scan`` found one compressed image's fragments, to decode them unparsed.

    Recorded for single-frame MONOCHROME2 files of 8 or 16 bits without a Modality LUT
    Sequence in one of :data:`RECORDED_SYNTAXES` (RLE Lossless: one fragment, as each
    RLE frame is one; JPEG 2000, JPEG-LS and JPEG Lossless: the frame's fragments, in
    order). ``fragments`` holds each one's (file offset, length). ``load_volume`` reads
    those bytes and decodes them (pylibjpeg-rle, -openjpeg, -libjpeg) after checking
    that the file still has ``file_size`` and ``mtime_ns``; otherwise it parses the
    file's header again.
    """

    syntax: str
    fragments: tuple[tuple[int, int], ...]
    bits_allocated: int
    bits_stored: int
    signed: bool
    slope: float
    intercept: float
    file_size: int
    mtime_ns: int


@dataclass(frozen=True, slots=True)
class SeriesInfo:
    """One stack of images found by ``scan``: one series, one size and one orientation.

    ``files`` and ``frames`` are ordered by position along the slice normal: slice ``k`` of
    the volume is frame ``frames[k]`` (0 for single-frame files) of ``files[k]``.
    ``subject_id`` is ClinicalTrialSubjectID when present, else a pseudonym of the
    PatientID (:func:`pseudonymous_subject_id`), never the PatientID itself;
    ``timepoint_label`` is ClinicalTrialTimePointID when present; ``trial_protocol_id``
    and ``trial_site_id`` are ClinicalTrialProtocolID and ClinicalTrialSiteID.
    ``slice_positions_mm`` (ImagePositionPatient of each image, in order) and
    ``native_slices`` (each image's recorded pixel layout, None where the file must be
    decoded) are empty when unknown. ``slice_indices`` gives the volume slice of each
    image when whole slices are missing from a regular series (blank slices fill the
    gaps so that the volume's geometry stays exact); it is empty otherwise, and
    :attr:`gap_slices` lists the filled slices. Every image has a non-empty SOP
    Instance UID, Series and Study Instance UID: where the files' were empty, ``scan``
    made stand-ins from the files' contents, and ``substituted_identifiers`` names them
    (DICOM keywords, also ``PatientID`` when the subject was named after its folder;
    :func:`mrecist_reader.imaging.identifiers.identifier_note` words it for an export).
    """

    series_instance_uid: str
    study_instance_uid: str
    modality: str
    series_description: str
    phase: Phase
    rows: int
    columns: int
    pixel_spacing_mm: tuple[float, float]
    slice_spacing_mm: float | None
    image_orientation: tuple[float, float, float, float, float, float]
    first_position_mm: tuple[float, float, float]
    transfer_syntaxes: tuple[str, ...]
    files: tuple[Path, ...]
    frames: tuple[int, ...]
    sop_instance_uids: tuple[str, ...]
    warnings: tuple[str, ...] = ()
    series_number: int | None = None
    stack_label: str = ""
    subject_id: str = ""
    timepoint_label: str = ""
    trial_protocol_id: str = ""
    trial_site_id: str = ""
    acquisition_seconds: float | None = None
    identity: PatientIdentity = field(default_factory=PatientIdentity)
    slice_positions_mm: tuple[tuple[float, float, float] | None, ...] = ()
    native_slices: tuple[NativeSlice | None, ...] = ()
    encoded_slices: tuple[EncodedSlice | None, ...] = ()
    """Each image's recorded RLE fragment (None where it must be parsed); empty when
    none was recorded."""
    slice_indices: tuple[int, ...] = ()
    frame_of_reference_uid: str = ""
    substituted_identifiers: tuple[str, ...] = ()

    @property
    def n_images(self) -> int:
        """Return the number of images in the stack."""
        return len(self.files)

    @property
    def n_slices(self) -> int:
        """Return the number of slices of the volume (images plus filled gaps)."""
        return self.slice_indices[-1] + 1 if self.slice_indices else len(self.files)

    @property
    def volume_slice_of_image(self) -> tuple[int, ...]:
        """Return the volume slice of each image (image ``k`` is slice ``k`` without gaps)."""
        return self.slice_indices or tuple(range(len(self.files)))

    @property
    def gap_slices(self) -> frozenset[int]:
        """Return the volume slices that are blank fill for missing images (no image)."""
        if not self.slice_indices:
            return frozenset()
        return frozenset(range(self.n_slices)) - frozenset(self.slice_indices)

    @property
    def slice_sop_instance_uids(self) -> tuple[str, ...]:
        """Return the SOP Instance UID of each volume slice ('' for a filled gap)."""
        if not self.slice_indices:
            return self.sop_instance_uids
        uids = [""] * self.n_slices
        for index, uid in zip(self.slice_indices, self.sop_instance_uids, strict=True):
            uids[index] = uid
        return tuple(uids)


@dataclass(frozen=True, eq=False)
class Volume:
    """A loaded 3-D image with its geometry.

    Attributes
    ----------
    array
        Pixel values indexed ``[slice, row, column]`` with the modality LUT applied (CT in
        Hounsfield units). Integer dtype where the rescale is lossless.
    affine
        4x4 matrix mapping homogeneous ``(slice, row, column, 1)`` indices to patient
        ``(x, y, z, 1)`` millimetres; :mod:`mrecist_reader.imaging.geometry` converts.
    sop_instance_uids
        SOP Instance UID of each slice (per frame for multi-frame files).
    series
        The series this volume was loaded from.

    """

    array: npt.NDArray[np.generic]
    affine: npt.NDArray[np.float64]
    sop_instance_uids: tuple[str, ...]
    series: SeriesInfo

    @property
    def pixel_spacing_mm(self) -> tuple[float, float]:
        """Return the in-plane spacing (row spacing, column spacing) in millimetres."""
        return (
            float(np.linalg.norm(self.affine[:3, 1])),
            float(np.linalg.norm(self.affine[:3, 2])),
        )

    @property
    def slice_spacing_mm(self) -> float:
        """Return the distance between slice centres in millimetres."""
        return float(np.linalg.norm(self.affine[:3, 0]))

    @property
    def shape(self) -> tuple[int, int, int]:
        """Return ``(slices, rows, columns)``."""
        n_slices, n_rows, n_columns = self.array.shape
        return (int(n_slices), int(n_rows), int(n_columns))
