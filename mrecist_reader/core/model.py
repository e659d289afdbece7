"""The plain data of a read: lesions, observations per timepoint, timepoints and the read.

Every enum value is the exact token of ``shared/spec/data-transfer.md``, so writing a CSV
cell is ``str(member)``. Everything here is immutable; a change to a read makes a new
:class:`Read` (see :mod:`dataclasses.replace`).
"""

import math
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from typing import TypeAlias

from mrecist_reader.core.units import Tenths, from_mm

PointMm: TypeAlias = tuple[float, float, float]
"""A point in DICOM patient coordinates (x, y, z), millimetres."""


class LesionType(StrEnum):
    """The role of a lesion in the read."""

    TARGET = "target"
    NON_TARGET = "non_target"
    NEW = "new"


class Organ(StrEnum):
    """Where a lesion lies (lymph nodes together count as one organ)."""

    LIVER = "liver"
    LYMPH_NODE = "lymph_node"
    LUNG = "lung"
    PERITONEUM = "peritoneum"
    PORTAL_VEIN = "portal_vein"
    OTHER = "other"


class TargetStatus(StrEnum):
    """Status of a target lesion at one timepoint."""

    MEASURED = "measured"
    TOO_SMALL = "too_small"
    ABSENT = "absent"
    NOT_EVALUABLE = "not_evaluable"


class NonTargetStatus(StrEnum):
    """Status of a non-target lesion at one timepoint."""

    PRESENT = "present"
    ABSENT = "absent"
    PROGRESSION = "progression"
    NOT_EVALUABLE = "not_evaluable"


class NewLesionStatus(StrEnum):
    """Status of a new lesion at one timepoint."""

    PRESENT = "present"
    EQUIVOCAL = "equivocal"


LesionStatus: TypeAlias = TargetStatus | NonTargetStatus | NewLesionStatus

STATUSES_BY_TYPE: dict[LesionType, type[StrEnum]] = {
    LesionType.TARGET: TargetStatus,
    LesionType.NON_TARGET: NonTargetStatus,
    LesionType.NEW: NewLesionStatus,
}
"""The status enum allowed for each lesion type (one source of truth)."""


class ReadType(StrEnum):
    """Central (blinded independent review) or local (site) read."""

    CENTRAL = "central"
    LOCAL = "local"


class Criteria(StrEnum):
    """The response criteria a profile applies."""

    MRECIST = "mRECIST"
    RECIST_1_1 = "RECIST1.1"


class Method(StrEnum):
    """How a diameter was measured."""

    MANUAL = "manual"
    SEMI_AUTOMATIC = "semi_automatic"
    SEMI_AUTOMATIC_EDITED = "semi_automatic_edited"


class ReadStatus(StrEnum):
    """Whether a timepoint of a read is still a draft or signed (locked)."""

    DRAFT = "draft"
    SIGNED = "signed"


class Response(StrEnum):
    """Target and overall response at a timepoint."""

    CR = "CR"
    PR = "PR"
    SD = "SD"
    PD = "PD"
    NE = "NE"


class NonTargetResponse(StrEnum):
    """Non-target response at a timepoint (``NA``: no non-target lesions at baseline)."""

    CR = "CR"
    IR_SD = "IR_SD"
    PD = "PD"
    NE = "NE"
    NA = "NA"


class NewLesions(StrEnum):
    """Summary of new lesions at a timepoint."""

    YES = "yes"
    NO = "no"
    EQUIVOCAL = "equivocal"


@dataclass(frozen=True, slots=True)
class Caliper:
    """The two end points of a measured diameter, in patient millimetres."""

    p1_mm: PointMm
    p2_mm: PointMm

    def length(self) -> Tenths:
        """Return the distance between the end points, rounded to 0.1 mm."""
        return from_mm(math.dist(self.p1_mm, self.p2_mm))


@dataclass(frozen=True, slots=True)
class MeasurementEvidence:
    """What the click that proposed a caliper also found (issue 16, items 4 and 5).

    ``whole_diameter`` is the whole lesion's longest diameter (viable and necrotic, as
    RECIST 1.1 measures it) and ``perpendicular`` the longest viable span perpendicular
    to the caliper, both in tenths of a mm (``None``: not measured); ``checks`` are the
    proposal's warnings in words. mRECIST responses never use them.
    """

    whole_diameter: Tenths | None = None
    perpendicular: Tenths | None = None
    checks: tuple[str, ...] = ()


class RoiShape(StrEnum):
    """The outline of a region of interest."""

    ELLIPSE = "ellipse"
    FREEHAND = "freehand"


@dataclass(frozen=True, slots=True)
class RoiStatistics:
    """The values inside an ROI when it was kept, in ``unit`` ("HU" on CT, else "")."""

    pixel_count: int
    area_mm2: float
    mean: float | None
    sd: float | None
    minimum: float | None
    maximum: float | None
    unit: str = ""


@dataclass(frozen=True, slots=True)
class KeptRoi:
    """A region of interest kept with a read as evidence (issue 15, item 1).

    ``lesion_id`` is empty for an ROI kept for the timepoint only (a liver reference);
    ``points_mm`` is the outline in patient millimetres (an ellipse by its outline
    too); the image is the one it was drawn and measured on.
    """

    timepoint_index: int
    lesion_id: str
    label: str
    shape: RoiShape
    points_mm: tuple[PointMm, ...]
    series_instance_uid: str
    sop_instance_uid: str
    stats: RoiStatistics
    created_at: datetime


@dataclass(frozen=True, slots=True)
class KeyImage:
    """An image the reader marked as a key image of a lesion (issue 15, item 8).

    The image is named by its series and SOP instance UIDs; ``slice_index`` is where
    it sits in the series as loaded when it was marked (for showing it again).
    """

    timepoint_index: int
    lesion_id: str
    series_instance_uid: str
    sop_instance_uid: str
    slice_index: int
    created_at: datetime


@dataclass(frozen=True, slots=True)
class Lesion:
    """A lesion followed through a read; ``lesion_id`` is stable across timepoints."""

    lesion_id: str
    lesion_type: LesionType
    organ: Organ
    location: str = ""


@dataclass(frozen=True, slots=True)
class Observation:
    """What the reader recorded for one lesion at one timepoint.

    ``diameter`` is the recorded viable diameter in tenths of a mm for target lesions
    (``absent`` is 0, ``too_small`` the profile's value) and ``None`` for the others.
    ``evidence`` is what a semi-automatic click found besides (``None``: a manual or
    edited caliper, or none).
    """

    lesion_id: str
    timepoint_index: int
    status: LesionStatus
    diameter: Tenths | None = None
    caliper: Caliper | None = None
    series_instance_uid: str = ""
    sop_instance_uid: str = ""
    method: Method | None = None
    comment: str = ""
    evidence: MeasurementEvidence | None = None


@dataclass(frozen=True, slots=True)
class Timepoint:
    """One imaging timepoint of a read (index 0 is baseline).

    ``scan_date`` is ``None`` in blinded reads, which keep only ``study_day``.
    """

    index: int
    label: str
    scan_date: date | None = None
    study_day: int | None = None
    read_status: ReadStatus = ReadStatus.DRAFT
    signed_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class ReadKey:
    """What identifies a read: one reader's read of one subject in one study."""

    study_id: str
    subject_id: str
    reader_id: str
    read_type: ReadType


@dataclass(frozen=True, slots=True)
class Read:
    """A reader's whole read of one subject: lesions and their observations over time."""

    key: ReadKey
    site_id: str
    criteria: Criteria
    protocol_profile: str
    timepoints: tuple[Timepoint, ...] = ()
    lesions: tuple[Lesion, ...] = ()
    observations: tuple[Observation, ...] = field(default=())
    rois: tuple[KeptRoi, ...] = ()
    key_images: tuple[KeyImage, ...] = ()

    def lesions_of_type(self, lesion_type: LesionType) -> tuple[Lesion, ...]:
        """Return the lesions of one type, in the read's order."""
        return tuple(
            lesion for lesion in self.lesions if lesion.lesion_type is lesion_type
        )

    def observation(self, lesion_id: str, timepoint_index: int) -> Observation | None:
        """Return the observation of a lesion at a timepoint, if recorded."""
        for obs in self.observations:
            if obs.lesion_id == lesion_id and obs.timepoint_index == timepoint_index:
                return obs
        return None

    def observations_at(self, timepoint_index: int) -> tuple[Observation, ...]:
        """Return every observation recorded at one timepoint."""
        return tuple(
            o for o in self.observations if o.timepoint_index == timepoint_index
        )

    def rois_at(self, timepoint_index: int) -> tuple[KeptRoi, ...]:
        """Return the ROIs kept at one timepoint, in the order they were kept."""
        return tuple(r for r in self.rois if r.timepoint_index == timepoint_index)

    def key_images_at(self, timepoint_index: int) -> tuple[KeyImage, ...]:
        """Return the key images marked at one timepoint, in the order marked."""
        return tuple(k for k in self.key_images if k.timepoint_index == timepoint_index)

    def timepoint(self, index: int) -> Timepoint | None:
        """Return the timepoint with this index, if the read has it."""
        for timepoint in self.timepoints:
            if timepoint.index == index:
                return timepoint
        return None
