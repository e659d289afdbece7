"""Keep an ROI drawn on a viewer with the read (issue 15, item 1): wiring only.

The viewer's :class:`~mrecist_reader.ui.roi_tool.RoiSet` asks to keep an ROI (its
context menu); this module turns it into a
:class:`~mrecist_reader.desk.rois.MeasuredRoi` (outline in patient millimetres, the image
on screen, the statistics shown) and passes it to
:func:`~mrecist_reader.desk.rois.keep_roi`, which decides; the answer is said in the
status bar and added to the ROI's label.

:class:`KeptRoiOverlay` draws the ROIs kept with the read on the image they were kept
on (dashed, not editable, labelled with their owner and mean), so the evidence stays
visible after the drawn ROIs are gone (another series, the read opened again).
"""

from collections.abc import Callable

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QWidget

from mrecist_reader.core.errors import MrecistError
from mrecist_reader.core.model import KeptRoi, Read, RoiShape
from mrecist_reader.desk.desk import ReadingDesk
from mrecist_reader.desk.rois import MeasuredRoi, keep_roi, kept_message, statistics
from mrecist_reader.imaging.geometry import index_to_patient, patient_to_index
from mrecist_reader.ui.errors import error_boundary
from mrecist_reader.ui.roi_tool import ROI_COLOUR
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
        shape=RoiShape(rois.shape_of(index)),
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


def kept_here(read: Read | None, view: TimepointView) -> list[KeptRoi]:
    """Return the ROIs kept on the series this view shows (any slice).

    A series UID belongs to one subject: the series is enough to tell.
    """
    if read is None or view.timepoint_index is None or view.series is None:
        return []
    return [
        roi
        for roi in read.rois_at(view.timepoint_index)
        if roi.series_instance_uid == view.series.series_instance_uid
    ]


class KeptRoiOverlay:
    """The ROIs kept with the read, drawn dashed on the slice they were kept on."""

    def __init__(self, view: TimepointView, desk: ReadingDesk) -> None:
        self.view, self.desk = view, desk
        self.items: list[pg.GraphicsObject] = []

    def refresh(self, *_: object) -> None:
        """Draw the kept ROIs of the slice shown (called when it or the read changes)."""
        viewer = self.view.viewer
        for item in self.items:
            viewer.view.removeItem(item)
        self.items = []
        stack, session = viewer.stack, self.desk.session
        if stack is None or session is None:
            return
        for roi in kept_here(session.read, self.view):
            indices = np.atleast_2d(patient_to_index(stack.affine, roi.points_mm))
            if round(float(indices[0][0])) != viewer.slice_index:
                continue
            self._draw(roi, indices)

    def _draw(self, roi: KeptRoi, indices: np.ndarray) -> None:
        rows = [float(i[1]) for i in indices] + [float(indices[0][1])]
        columns = [float(i[2]) for i in indices] + [float(indices[0][2])]
        pen = pg.mkPen(ROI_COLOUR, width=1, style=Qt.PenStyle.DashLine)
        outline = pg.PlotDataItem(columns, rows, pen=pen)
        mean = "" if roi.stats.mean is None else f" {roi.stats.mean:.0f}"
        label = pg.TextItem(
            f"kept {roi.label}{mean} {roi.stats.unit}".rstrip(),
            color=ROI_COLOUR,
            anchor=(0.5, 1.0),
            fill=(0, 0, 0, 170),  # readable on an enhancing lesion
        )
        label.setPos(sum(columns) / len(columns), min(rows))
        for item in (outline, label):
            self.view.viewer.view.addItem(item)
            self.items.append(item)


def connect_roi_keeping(
    parent: QWidget,
    view: TimepointView,
    desk: ReadingDesk,
    say: Callable[[str, int], None],
) -> KeptRoiOverlay:
    """Connect a view's ROIs to the desk: an ROI's menu keeps it with the read.

    Returns the overlay drawing the kept ROIs on that view (kept by the viewer).
    """
    view.viewer.rois.keep_requested.connect(
        lambda index, reference: keep_from_view(
            parent, view, desk, say, index, reference
        )
    )
    overlay = KeptRoiOverlay(view, desk)
    view.viewer.kept_rois = overlay  # type: ignore[attr-defined]
    view.viewer.slice_changed.connect(overlay.refresh)

    def bind(session: object) -> None:
        read_changed = getattr(session, "read_changed", None)
        if read_changed is not None:
            read_changed.connect(overlay.refresh)
        overlay.refresh()

    desk.session_changed.connect(bind)
    return overlay
