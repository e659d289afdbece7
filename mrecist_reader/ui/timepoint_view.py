"""One timepoint on screen: a slice viewer with the series it shows and its loading.

The main window has two: baseline on the left and the current follow-up on the right.
Loading is progressive: the first requested slice appears as soon as the loader decodes
it; the full volume (needed for semi-automatic measurement and exact geometry) arrives
from a background thread.
"""

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt
from PySide6.QtCore import QTimer
from PySide6.QtGui import QCursor
from PySide6.QtWidgets import QWidget

from mrecist_reader.core.errors import MrecistError
from mrecist_reader.core.model import Caliper, Method
from mrecist_reader.desk.desk import DrawnCaliper, Outline, Proposal
from mrecist_reader.imaging.geometry import patient_to_index
from mrecist_reader.imaging.volume import SeriesInfo, Volume
from mrecist_reader.ui.caliper import (
    IndexPoint,
    caliper_from_indices,
    indices_from_caliper,
)
from mrecist_reader.ui.image_stack import ImageStack, gap_slices
from mrecist_reader.ui.outline import OutlineSpec, Polygon
from mrecist_reader.ui.prefetch import FirstSlice
from mrecist_reader.ui.slice_viewer import SliceViewer
from mrecist_reader.ui.windowing import series_kind
from mrecist_reader.ui.workers import run_in_thread

if TYPE_CHECKING:  # imaging.load brings pydicom: imported when a series is opened
    from mrecist_reader.imaging.load import VolumeLoader

NO_SERIES_TEXT = "No series open"
LOADER_DELAY_MS = 20
"""After a prefetched first slice: let it paint before the decoders are imported."""

logger = logging.getLogger(__name__)


class TimepointView:
    """A :class:`SliceViewer` bound to one timepoint and the series chosen for it."""

    def __init__(self, parent: QWidget | None, name: str) -> None:
        self.viewer = SliceViewer(parent)
        self.viewer.setObjectName(name)
        self.subject_id = ""
        self.timepoint_index: int | None = None
        self.series: SeriesInfo | None = None
        self.volume: Volume | None = None
        self.loader: VolumeLoader | None = None
        self._generation = 0  # a deferred loader start checks it is still wanted
        self._poll = QTimer(self.viewer)
        self._poll.setInterval(100)
        self._on_progress: Callable[[float], None] | None = None
        # the last outline converted: (its mm outlines, the stack, the result)
        self._outline_cache: tuple[Outline, Outline, object, OutlineSpec | None] | None
        self._outline_cache = None

    @property
    def series_uid(self) -> str:
        """Return the shown series' UID (empty when none)."""
        return "" if self.series is None else self.series.series_instance_uid

    def show_volume(self, index: int, volume: Volume, caption: str) -> None:
        """Show an already loaded volume of a timepoint."""
        self.cancel()
        self.timepoint_index = index
        self.series = volume.series
        self.volume = volume
        self.viewer.set_stack(ImageStack.from_volume(volume, caption))

    def load(
        self,
        index: int,
        series: SeriesInfo,
        caption: str,
        *,
        on_loaded: Callable[["TimepointView"], None],
        on_error: Callable[[BaseException], None],
        on_progress: Callable[[float], None] | None = None,
        first: FirstSlice | None = None,
        subject_id: str = "",
        slice_index: int | None = None,
    ) -> None:
        """Open a series progressively: first image now, the volume in the background.

        With ``first`` (a slice decoded by the start-up prefetch) that slice is shown at
        once and the loader starts just after it is painted; otherwise the first image is
        ``slice_index`` (the one looked at while the series arrived) or the viewer's
        default. ``on_error`` is called
        when the series cannot be opened or decoded (the view shows nothing then:
        call :meth:`show_failure`).
        """
        self.cancel()
        self.subject_id = subject_id
        self.timepoint_index = index
        self.series = series
        self.volume = None
        self._on_progress = on_progress
        generation = self._generation
        if first is None or first.series_uid != series.series_instance_uid:
            self._start_loader(
                series, caption, None, (on_loaded, on_error), slice_index=slice_index
            )
            return
        started = False

        def start() -> None:
            nonlocal started
            if not started and generation == self._generation:
                started = True
                self._start_loader(series, caption, stack, (on_loaded, on_error))

        def prefetched_slice(k: int) -> npt.NDArray[np.generic]:
            if k != first.index:
                start()  # the reader scrolled before the loader started
            if stack.get_slice is prefetched_slice:
                return first.array
            return stack.get_slice(k)

        stack = ImageStack(
            shape=(series.n_slices, series.rows, series.columns),
            affine=first.affine,
            get_slice=prefetched_slice,
            modality=series.modality,
            caption=caption,
            gaps=gap_slices(series),
            kind=series_kind(series),  # the liver window on arterial CT, at once
        )
        self.viewer.set_stack(stack, slice_index=first.index)
        if slice_index is not None and slice_index != first.index:
            self.viewer.set_slice(slice_index)  # starts the loader for that image
        QTimer.singleShot(LOADER_DELAY_MS, self.viewer, start)

    def _start_loader(
        self,
        series: SeriesInfo,
        caption: str,
        stack: ImageStack | None,
        callbacks: tuple[
            Callable[["TimepointView"], None], Callable[[BaseException], None]
        ],
        *,
        slice_index: int | None = None,
    ) -> None:
        from mrecist_reader.imaging.load import open_volume

        on_loaded, on_error = callbacks
        try:
            loader = open_volume(series)
        except (MrecistError, OSError, ValueError) as error:
            on_error(error)  # the images of a series shown before never stay
            return
        self.loader = loader
        if stack is None:
            self.viewer.set_stack(
                ImageStack.from_loader(loader, caption), slice_index=slice_index
            )
        else:
            stack.get_slice = loader.request_slice
        self._poll.timeout.connect(self._report_progress)
        self._poll.start()

        def done(volume: Volume) -> None:
            if self.loader is not loader:
                return  # another series was opened meanwhile
            self._finish()
            self.volume = volume
            self.viewer.replace_stack(ImageStack.from_volume(volume, caption))
            on_loaded(self)

        def failed(error: BaseException) -> None:
            if self.loader is loader:
                self._finish()
                on_error(error)

        run_in_thread(loader.wait, on_done=done, on_error=failed)

    def _report_progress(self) -> None:
        if self.loader is not None and self._on_progress is not None:
            self._on_progress(self.loader.progress)

    def _finish(self) -> None:
        self._poll.stop()
        try:
            self._poll.timeout.disconnect(self._report_progress)
        except (RuntimeError, TypeError):
            logger.debug("progress poll was not connected")
        self.loader = None

    def is_loading(self) -> bool:
        """Return whether a volume is still being decoded."""
        return self.loader is not None

    def cancel(self) -> None:
        """Stop loading (slices decoded so far stay visible)."""
        self._generation += 1
        if self.loader is not None:
            loader = self.loader
            self._finish()
            loader.cancel()

    def clear(self) -> None:
        """Show nothing."""
        self.cancel()
        self.subject_id = ""
        self.timepoint_index = None
        self.series = None
        self.volume = None
        self.viewer.placeholder.setText(NO_SERIES_TEXT)
        self.viewer.set_stack(None)

    def show_failure(self, reason: str) -> None:
        """Show no image, and why: the series open here could not be shown."""
        self.cancel()
        self.volume = None
        self.viewer.set_stack(None)
        self.viewer.show_placeholder(f"No image shown: {reason}")

    def shows(self, subject_id: str, index: int, series: SeriesInfo) -> bool:
        """Return whether this view shows (or loads) a series of a subject's timepoint."""
        return (
            self.viewer.stack is not None
            and (self.subject_id, self.timepoint_index) == (subject_id, index)
            and self.series_uid == series.series_instance_uid
        )

    # ------------------------------------------------------------------ mm <-> index
    def drawn_caliper(
        self, p1: IndexPoint, p2: IndexPoint, method: Method = Method.MANUAL
    ) -> DrawnCaliper:
        """Return a caliper drawn here (voxel indices) in patient mm, with its image.

        Raises
        ------
        MrecistError
            When nothing is shown, or the slice fills a gap where the series has no
            image.

        """
        stack = self.viewer.stack
        if stack is None:
            raise MrecistError("no image is shown here; nothing recorded")
        return self.drawn_in_mm(caliper_from_indices(stack.affine, p1, p2), method)

    def drawn_in_mm(
        self, caliper: Caliper, method: Method = Method.MANUAL
    ) -> DrawnCaliper:
        """Return a caliper in patient mm (a proposal) with the image it lies on here.

        Raises
        ------
        MrecistError
            When nothing is shown, or its slice fills a gap in the series.

        """
        points = self.index_points(caliper)
        if points is None or self.series is None or self.timepoint_index is None:
            raise MrecistError("no image is shown here; nothing recorded")
        return DrawnCaliper(
            caliper,
            subject_id=self.subject_id,
            timepoint_index=self.timepoint_index,
            series_instance_uid=self.series.series_instance_uid,
            sop_instance_uid=self.image_uid(points[0]),
            method=method,
        )

    def marker(self) -> DrawnCaliper | None:
        """Return the point under the mouse (else the centre) as a caliper of no length.

        Where a lesion added without a caliper is (a non-target added with N): a
        position on the image being read, on the slice shown; it measures nothing.
        """
        viewer, stack = self.viewer, self.viewer.stack
        if stack is None or viewer.slice_index < 0:
            return None
        canvas = viewer.canvas
        inside = canvas.mapFromGlobal(QCursor.pos())
        if canvas.rect().contains(inside):
            point = viewer.view.mapSceneToView(canvas.mapToScene(inside))
        else:
            point = viewer.view.viewRect().center()
        _rows, rows, columns = stack.shape
        row = min(max(point.y(), 0.0), rows - 1.0)
        column = min(max(point.x(), 0.0), columns - 1.0)
        k = float(viewer.slice_index)
        return self.drawn_caliper((k, row, column), (k, row, column))

    def index_points(self, caliper: Caliper) -> tuple[IndexPoint, IndexPoint] | None:
        """Return a caliper's end points as voxel indices here (for drawing)."""
        stack = self.viewer.stack
        return None if stack is None else indices_from_caliper(stack.affine, caliper)

    def outline_spec(self, proposal: Proposal) -> OutlineSpec | None:
        """Return a proposal's outlines as view positions here (``None``: not here).

        ``None`` when the proposal is on another subject, timepoint or series, or has
        no outline. Converted once per proposal outline and stack (an edited
        proposal keeps its outlines and is not converted again).
        """
        drawn, stack = proposal.drawn, self.viewer.stack
        if stack is None or (
            drawn.subject_id,
            drawn.timepoint_index,
            drawn.series_instance_uid,
        ) != (self.subject_id, self.timepoint_index, self.series_uid):
            return None
        viable, necrotic = proposal.viable_outline_mm, proposal.necrotic_outline_mm
        cached = self._outline_cache
        if (
            cached is not None
            and cached[0] is viable
            and cached[1] is necrotic
            and cached[2] is stack
        ):
            return cached[3]
        spec = _outline_in_view(stack.affine, viable, necrotic)
        self._outline_cache = (viable, necrotic, stack, spec)
        return spec

    def image_uid(self, point: IndexPoint) -> str:
        """Return the SOP Instance UID of the image under a voxel index.

        Raises
        ------
        MrecistError
            When the slice fills a gap where the series has no image.

        """
        if self.series is None:
            raise MrecistError("no series is shown here")
        uids = self.series.slice_sop_instance_uids
        k = min(max(round(point[0]), 0), len(uids) - 1)
        if not uids[k]:
            raise MrecistError(
                f"slice {k + 1} fills a gap where the series has no image; "
                "measure on an acquired slice"
            )
        return uids[k]


def _outline_in_view(
    affine: npt.NDArray[np.float64], viable: Outline, necrotic: Outline
) -> OutlineSpec | None:
    """Return outlines in patient mm as view positions on their slice (the one place).

    The slice is the nearest to the viable outline's points (they lie on one slice).
    """
    if not viable:
        return None

    def to_view(polygons: Outline) -> tuple[tuple[Polygon, ...], list[float]]:
        shapes: list[Polygon] = []
        slices: list[float] = []
        for polygon in polygons:
            if not polygon:
                continue
            index = patient_to_index(affine, np.asarray(polygon, dtype=np.float64))
            index = np.atleast_2d(index)
            slices.extend(float(k) for k in index[:, 0])
            shapes.append(tuple((float(col), float(row)) for row, col in index[:, 1:3]))
        return tuple(shapes), slices

    viable_view, slices = to_view(viable)
    necrotic_view, _ = to_view(necrotic)
    if not slices:
        return None
    return OutlineSpec(round(float(np.median(slices))), viable_view, necrotic_view)
