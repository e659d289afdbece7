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
from PySide6.QtWidgets import QWidget

from mrecist_reader.core.errors import MrecistError
from mrecist_reader.imaging.volume import SeriesInfo, Volume
from mrecist_reader.ui.prefetch import FirstSlice
from mrecist_reader.ui.slice_viewer import ImageStack, SliceViewer, gap_slices
from mrecist_reader.ui.workers import run_in_thread

if TYPE_CHECKING:  # imaging.load brings pydicom: imported when a series is opened
    from mrecist_reader.imaging.load import VolumeLoader

LOADER_DELAY_MS = 20
"""After a prefetched first slice: let it paint before the decoders are imported."""

logger = logging.getLogger(__name__)


class TimepointView:
    """A :class:`SliceViewer` bound to one timepoint and the series chosen for it."""

    def __init__(self, parent: QWidget | None, name: str) -> None:
        self.viewer = SliceViewer(parent)
        self.viewer.setObjectName(name)
        self.timepoint_index: int | None = None
        self.series: SeriesInfo | None = None
        self.volume: Volume | None = None
        self.loader: VolumeLoader | None = None
        self._generation = 0  # a deferred loader start checks it is still wanted
        self._poll = QTimer(self.viewer)
        self._poll.setInterval(100)
        self._on_progress: Callable[[float], None] | None = None

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
    ) -> None:
        """Open a series progressively: first image now, the volume in the background.

        With ``first`` (a slice decoded by the start-up prefetch) that slice is shown at
        once and the loader starts just after it is painted.
        """
        self.cancel()
        self.timepoint_index = index
        self.series = series
        self.volume = None
        self._on_progress = on_progress
        generation = self._generation
        if first is None or first.series_uid != series.series_instance_uid:
            self._start_loader(series, caption, None, (on_loaded, on_error))
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
        )
        self.viewer.set_stack(stack, slice_index=first.index)
        QTimer.singleShot(LOADER_DELAY_MS, self.viewer, start)

    def _start_loader(
        self,
        series: SeriesInfo,
        caption: str,
        stack: ImageStack | None,
        callbacks: tuple[
            Callable[["TimepointView"], None], Callable[[BaseException], None]
        ],
    ) -> None:
        from mrecist_reader.imaging.load import open_volume

        on_loaded, on_error = callbacks
        try:
            loader = open_volume(series)
        except (MrecistError, OSError) as error:
            if stack is None:
                raise
            on_error(error)
            return
        self.loader = loader
        if stack is None:
            self.viewer.set_stack(ImageStack.from_loader(loader, caption))
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
        self.timepoint_index = None
        self.series = None
        self.volume = None
        self.viewer.set_stack(None)
