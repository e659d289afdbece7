"""ROIs kept with a read as evidence (issue 15, item 1), without Qt.

mRECIST turns on whether a lesion enhances in the arterial phase: the reader compares
the lesion's attenuation with the liver's. An ROI the viewer measured
(:class:`MeasuredRoi`: its outline in patient millimetres, the image it lies on and its
statistics on that image) is kept with the selected lesion, or with its timepoint as the
liver reference, by :func:`keep_roi`: the image must be one of the series open for that
subject and timepoint (as for a caliper), and a signed timepoint refuses it. The read
stores it (``rois`` table, audited, in the content hash) and exports it in rois.csv.

:func:`enhancement` is the pair difference the reader looks at: the lesion ROI's mean
minus the liver reference's mean at the same timepoint, in the same unit.
"""

import logging
from dataclasses import dataclass
from datetime import UTC, datetime

from mrecist_reader.core.errors import MrecistError
from mrecist_reader.core.model import (
    Caliper,
    KeptRoi,
    PointMm,
    Read,
    RoiShape,
    RoiStatistics,
)
from mrecist_reader.desk.desk import DrawnCaliper, ReadingDesk
from mrecist_reader.imaging.roi_stats import RoiStats

logger = logging.getLogger(__name__)

LIVER_LABEL = "liver"
"""The label of an ROI kept as its timepoint's liver reference."""
MAX_LABEL = 64
"""The longest label the database keeps."""


@dataclass(frozen=True, slots=True)
class MeasuredRoi:
    """An ROI as a viewer measured it: where, on which image, and what it holds.

    Attributes
    ----------
    shape
        Ellipse or freehand.
    points_mm
        The outline in patient millimetres (an ellipse by points along it).
    subject_id, timepoint_index, series_instance_uid, sop_instance_uid
        The subject, timepoint, series and image it was drawn and measured on.
    stats
        Its statistics on that image (``unit`` "HU" on CT).

    """

    shape: RoiShape
    points_mm: tuple[PointMm, ...]
    subject_id: str
    timepoint_index: int
    series_instance_uid: str
    sop_instance_uid: str
    stats: RoiStatistics


def statistics(stats: RoiStats, unit: str) -> RoiStatistics:
    """Return the viewer's statistics of an ROI as the read keeps them."""
    return RoiStatistics(
        pixel_count=stats.n_pixels,
        area_mm2=stats.area_mm2,
        mean=stats.mean,
        sd=stats.sd,
        minimum=stats.minimum,
        maximum=stats.maximum,
        unit=unit,
    )


def keep_roi(
    desk: ReadingDesk,
    roi: MeasuredRoi,
    *,
    reference: bool = False,
    label: str | None = None,
    now: datetime | None = None,
) -> KeptRoi:
    """Keep an ROI with the selected lesion (or as the liver reference); return it.

    Parameters
    ----------
    desk
        The reading desk, with the read open.
    roi
        The ROI as measured.
    reference
        Keep it as its timepoint's liver reference (no lesion) rather than with the
        selected lesion.
    label
        Its label (default: the lesion's ID, or "liver" for a reference).
    now
        When it is kept (default: now, UTC).

    Raises
    ------
    MrecistError
        With no read open, no lesion selected (unless ``reference``), an empty or
        too long label, no pixel inside, or an image that is not of the series open
        for its subject and timepoint (``WrongImage``); ``TimepointSigned`` when its
        timepoint is signed. Nothing is kept.

    """
    session = desk.session
    if session is None:
        raise MrecistError("open a study before keeping an ROI")
    desk.check_image(_as_caliper(roi))
    lesion_id = "" if reference else desk.selected_lesion
    if lesion_id is None:
        raise MrecistError(
            "select the lesion this ROI belongs to first (L: next lesion), or keep it "
            "as the liver reference"
        )
    text = _label(label if label is not None else (lesion_id or LIVER_LABEL))
    if roi.stats.pixel_count <= 0 or roi.stats.mean is None:
        raise MrecistError(f"ROI {text}: no image pixel inside; nothing kept")
    kept = KeptRoi(
        timepoint_index=roi.timepoint_index,
        lesion_id=lesion_id,
        label=text,
        shape=roi.shape,
        points_mm=roi.points_mm,
        series_instance_uid=roi.series_instance_uid,
        sop_instance_uid=roi.sop_instance_uid,
        stats=roi.stats,
        created_at=now or datetime.now(UTC),
    )
    session.keep_roi(kept)
    logger.info("kept ROI %s at timepoint %d", text, roi.timepoint_index)
    return kept


def remove_kept_roi(desk: ReadingDesk, roi: KeptRoi) -> None:
    """Remove an ROI kept with the open read (refused on a signed timepoint; audited)."""
    session = desk.session
    if session is None:
        raise MrecistError("open a study before removing an ROI")
    session.remove_roi(roi)


def _as_caliper(roi: MeasuredRoi) -> DrawnCaliper:
    """Return the ROI's first point as a caliper of no length (for the image check)."""
    if not roi.points_mm:
        raise MrecistError("the ROI has no outline; nothing kept")
    first = roi.points_mm[0]
    return DrawnCaliper(
        Caliper(first, first),
        subject_id=roi.subject_id,
        timepoint_index=roi.timepoint_index,
        series_instance_uid=roi.series_instance_uid,
        sop_instance_uid=roi.sop_instance_uid,
    )


def _label(text: str) -> str:
    label = " ".join(text.split())
    if not label:
        raise MrecistError("an ROI needs a label (e.g. 'liver' or the lesion's ID)")
    if len(label) > MAX_LABEL:
        raise MrecistError(
            f"ROI label {label[:20]!r}...: longer than {MAX_LABEL} characters"
        )
    return label


def liver_reference(read: Read, timepoint_index: int) -> KeptRoi | None:
    """Return the latest liver reference kept at a timepoint, if any."""
    kept = [r for r in read.rois_at(timepoint_index) if not r.lesion_id]
    return kept[-1] if kept else None


def enhancement(read: Read, roi: KeptRoi) -> float | None:
    """Return a lesion ROI's mean minus its timepoint's liver reference's mean.

    ``None`` for a reference itself, when no reference is kept there, when a mean is
    missing, or when the units differ (HU and MR signal are not comparable).
    """
    if not roi.lesion_id:
        return None
    reference = liver_reference(read, roi.timepoint_index)
    if (
        reference is None
        or roi.stats.mean is None
        or reference.stats.mean is None
        or reference.stats.unit != roi.stats.unit
    ):
        return None
    return roi.stats.mean - reference.stats.mean


def kept_message(read: Read, roi: KeptRoi) -> str:
    """Say what was kept, and the lesion minus liver difference where there is one.

    "T1 ROI kept: mean 142 HU, SD 12, 310 mm²; T1 − liver: +57 HU"
    """
    stats = roi.stats
    unit = f" {stats.unit}" if stats.unit else ""
    mean = "" if stats.mean is None else f"mean {stats.mean:.0f}{unit}, "
    sd = "" if stats.sd is None else f"SD {stats.sd:.0f}, "
    owner = roi.lesion_id or "liver reference"
    text = f"{owner} ROI kept: {mean}{sd}{stats.area_mm2:.0f} mm²"
    difference = enhancement(read, roi)
    if difference is not None:
        text += f"; {roi.lesion_id} − liver: {difference:+.0f}{unit}"
    return text
