"""Keep an ROI drawn on a viewer with the read (issue 15, item 1): wiring only.

The viewer's :class:`~mrecist_reader.ui.roi_tool.RoiSet` asks to keep an ROI (its
context menu); this module turns it into a
:class:`~mrecist_reader.desk.rois.MeasuredRoi` (outline in patient millimetres, the image
on screen, the statistics shown) and passes it to
:func:`~mrecist_reader.desk.rois.keep_roi`, which decides; the answer is said in the
status bar and added to the ROI's label.
"""

from collections.abc import Callable

import numpy as np
from PySide6.QtWidgets import QWidget

from mrecist_reader.core.errors import MrecistError
from mrecist_reader.core.model import RoiShape
from mrecist_reader.desk.desk import ReadingDesk
from mrecist_reader.desk.rois import MeasuredRoi, keep_roi, kept_message, statistics
from mrecist_reader.imaging.geometry import index_to_patient
from mrecist_reader.ui.errors import error_boundary
from mrecist_reader.ui.timepoint_view import TimepointView


def measured_roi(view: TimepointView, index: int) -> MeasuredRoi:
    """Return ROI ``index`` of a view as measured on the slice shown.

    Raises
    ------
    MrecistError
        When nothing is shown, no pixel is inside, or the slice is a gap.

    """
    viewer, rois = view.viewer, view.viewer.rois
    stack, stats = viewer.stack, rois.stats[index]
    if stack is None or view.series is None or view.timepoint_index is None:
        raise MrecistError("no image is shown here; nothing kept")
    if stats is None:
        raise MrecistError(f"ROI {index + 1}: no image pixel inside; nothing kept")
    k = float(viewer.slice_index)
    outline = rois.outline(index)
    patient = index_to_patient(
        stack.affine, np.asarray([(k, row, column) for row, column in outline])
    )
    first_row, first_column = outline[0]
    return MeasuredRoi(
        shape=RoiShape.ELLIPSE,
        points_mm=tuple((float(x), float(y), float(z)) for x, y, z in patient),
        subject_id=view.subject_id,
        timepoint_index=view.timepoint_index,
        series_instance_uid=view.series.series_instance_uid,
        sop_instance_uid=view.image_uid((k, first_row, first_column)),
        stats=statistics(stats, rois.unit),
    )


def keep_from_view(
    parent: QWidget,
    view: TimepointView,
    desk: ReadingDesk,
    say: Callable[[str, int], None],
    index: int,
    reference: bool,
) -> None:
    """Keep ROI ``index`` of a view (with the selected lesion, or as the reference)."""
    with error_boundary(parent, "Keep ROI"):
        kept = keep_roi(desk, measured_roi(view, index), reference=reference)
        session = desk.session
        if session is not None:
            say(kept_message(session.read, kept), 10000)
        view.viewer.rois.note(
            index,
            "kept: liver reference" if reference else f"kept with {kept.lesion_id}",
        )


def connect_roi_keeping(
    parent: QWidget,
    view: TimepointView,
    desk: ReadingDesk,
    say: Callable[[str, int], None],
) -> None:
    """Connect a view's ROIs to the desk: an ROI's menu keeps it with the read."""
    view.viewer.rois.keep_requested.connect(
        lambda index, reference: keep_from_view(
            parent, view, desk, say, index, reference
        )
    )
