"""Frames per second of the slice viewer scrolling a 512x512x300 CT volume, offscreen.

Each frame sets the slice (window/level applied by ImageItem levels) and paints, so the
figure includes pyqtgraph's rendering and Qt's painting, two ways: *forced* repaints
every shown viewport whole and synchronously (the worst case), *as the app* lets Qt
paint what changed (``processEvents``: the dirty regions only, e.g. the strip a moved
reference line covers); the paints counted per frame show that both paint. Measured in
the same run:

* numpy slicing: the cost floor of getting the data (reference);
* 1×1: one pane scrolled;
* 2×2 with MPR, the app's layout (issue 15): two axial panes linked by patient
  position, a coronal and a sagittal reformat pane whose reference lines follow, the
  read axial pane scrolled, all four repainted each frame;
* the coronal reformat pane scrolled (a new reformatted slice each frame, the axial
  panes' reference lines following, all four repainted), on the same volume and on a
  gantry-tilted copy (resampled, not indexed).

Target: >= 60 fps. Last line: JSON.
"""

import json
import os
import sys
import time
from collections.abc import Sequence

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QEvent, QObject
from PySide6.QtWidgets import QApplication, QGridLayout, QWidget

from mrecist_reader.imaging.geometry import build_affine
from mrecist_reader.ui.mpr import MprPanes, MprSource
from mrecist_reader.ui.slice_viewer import ImageStack, SliceViewer
from mrecist_reader.ui.windowing import WindowMemory

SHAPE = (300, 512, 512)
TARGET_FPS = 60.0
SIZE = 1000
"""The window's side (px): one pane fills it in 1×1, four share it in 2×2."""
MODES = {"forced": True, "as_app": False}
"""Paint every pane whole each frame, or let Qt paint what changed (the app's way)."""
TILT_DEGREES = 18.5
"""The gantry tilt of the tilted copy (the real GE head CT's)."""


def _volume() -> np.ndarray:
    rng = np.random.default_rng(0)
    return (rng.integers(-1000, 1000, SHAPE, dtype=np.int16)).astype(np.int16)


def _affine(tilt_degrees: float = 0.0) -> np.ndarray:
    shear = np.tan(np.radians(tilt_degrees)) * 1.0  # column-direction shift per slice
    return build_affine((1, 0, 0, 0, 1, 0), (0, 0, 0), (0.7, 0.7), (0, shear, 1.0))


def _stack(array: np.ndarray, affine: np.ndarray) -> ImageStack:
    return ImageStack(
        shape=SHAPE,
        affine=affine,
        get_slice=lambda k: array[k],
        sample=array[::16, ::4, ::4],
    )


def _numpy_reference(array: np.ndarray) -> float:
    start = time.perf_counter()
    total = 0
    for k in range(array.shape[0]):
        total += int(np.ascontiguousarray(array[k])[0, 0])
    return array.shape[0] / (time.perf_counter() - start)


class PaintCounter(QObject):
    """Counts the paint events of the viewports it is installed on."""

    def __init__(self) -> None:
        super().__init__()
        self.paints = 0

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Paint:
            self.paints += 1
        return False


def _scroll(
    app: QApplication,
    viewer: SliceViewer,
    shown: Sequence[SliceViewer],
    frames: int,
    *,
    forced: bool,
) -> tuple[float, float]:
    """Scroll ``viewer`` one slice a frame; return frames/s and paints per frame.

    ``forced``: repaint every viewport of ``shown`` whole; else let Qt paint what
    changed (as the app does).
    """
    app.processEvents()
    viewports = [v.canvas.viewport() for v in shown]
    counter = PaintCounter()
    for viewport in viewports:
        viewport.installEventFilter(counter)
    n = viewer.stack.shape[0] if viewer.stack is not None else 1
    first = viewer.slice_index
    start = time.perf_counter()
    for frame in range(frames):
        viewer.set_slice((first + 1 + frame) % n)
        if forced:
            for viewport in viewports:
                viewport.repaint()
        else:
            app.processEvents()
    elapsed = time.perf_counter() - start
    for viewport in viewports:
        viewport.removeEventFilter(counter)
    return frames / elapsed, counter.paints / frames


def _one_pane_fps(
    app: QApplication, array: np.ndarray
) -> dict[str, tuple[float, float]]:
    viewer = SliceViewer()
    viewer.resize(SIZE, SIZE)
    viewer.show()
    viewer.set_stack(_stack(array, _affine()), slice_index=0, window=(150.0, 70.0))
    fps = {
        f"one_pane_{mode}": _scroll(app, viewer, [viewer], SHAPE[0], forced=forced)
        for mode, forced in MODES.items()
    }
    viewer.close()
    return fps


class FourPanes:
    """The 2×2 with MPR layout: two linked axial panes over coronal | sagittal."""

    def __init__(self, array: np.ndarray, affine: np.ndarray) -> None:
        self.host = QWidget()
        grid = QGridLayout(self.host)
        memory = WindowMemory()
        self.axial = (
            SliceViewer(window_memory=memory),
            SliceViewer(window_memory=memory),
        )
        self.mpr = MprPanes(memory, self.axial)
        self.panes = (*self.axial, *(pane.viewer for pane in self.mpr.panes))
        for i, viewer in enumerate(self.panes):
            grid.addWidget(viewer, i // 2, i % 2)
        self.host.resize(SIZE, SIZE)
        self.host.show()
        stack = _stack(array, affine)
        for viewer in self.axial:
            viewer.set_stack(stack, slice_index=0, window=(150.0, 70.0))
        read, other = self.axial[1], self.axial[0]

        def link(_k: int) -> None:  # as ui.view_links: the same patient position
            other.blockSignals(True)
            other.go_to_patient_point(read.slice_centre_mm())
            other.blockSignals(False)

        read.slice_changed.connect(link)
        self.mpr.show(read, MprSource(array=array, affine=affine, stack=stack))

    def close(self) -> None:
        """Close the panes."""
        self.host.close()


def main() -> int:
    """Measure and print the figures; return 0 (a benchmark never fails the build)."""
    pg.setConfigOptions(imageAxisOrder="row-major")
    app = QApplication.instance() or QApplication(sys.argv)
    assert isinstance(app, QApplication)
    array = _volume()
    reference = _numpy_reference(array)
    figures = _one_pane_fps(app, array)
    four = FourPanes(array, _affine())
    coronal = four.mpr.panes[0]
    aligned = coronal.grid is not None and coronal.grid.aligned
    tilted = FourPanes(array, _affine(TILT_DEGREES))
    tilted.host.hide()
    for mode, forced in MODES.items():
        figures[f"grid_mpr_axial_scroll_{mode}"] = _scroll(
            app, four.axial[1], four.panes, SHAPE[0], forced=forced
        )
        figures[f"grid_mpr_coronal_scroll_{mode}"] = _scroll(
            app, coronal.viewer, four.panes, SHAPE[1], forced=forced
        )
    four.host.hide()
    tilted.host.show()
    for mode, forced in MODES.items():
        figures[f"grid_mpr_tilted_coronal_scroll_{mode}"] = _scroll(
            app, tilted.mpr.panes[0].viewer, tilted.panes, SHAPE[1], forced=forced
        )
    four.close()
    tilted.close()
    print(f"numpy slicing (reference): {reference:,.0f} slices/s")
    print(f"volume {SHAPE[2]}x{SHAPE[1]}x{SHAPE[0]}, window {SIZE}x{SIZE} px")
    labels = {
        "one_pane": "1x1, axial scrolled",
        "grid_mpr_axial_scroll": "2x2 with MPR, axial scrolled, 4 panes linked",
        "grid_mpr_coronal_scroll": "2x2 with MPR, coronal scrolled "
        f"({'indexed' if aligned else 'resampled'})",
        "grid_mpr_tilted_coronal_scroll": f"2x2 with MPR, coronal of a {TILT_DEGREES}"
        " deg tilted volume scrolled (resampled)",
    }
    for name, (fps, paints) in figures.items():
        key = name.removesuffix("_forced").removesuffix("_as_app")
        mode = "forced" if name.endswith("forced") else "as app"
        verdict = "met" if fps >= TARGET_FPS else "NOT met"
        print(
            f"{labels[key]}, {mode}: {fps:.0f} fps ({paints:.1f} paints/frame),"
            f" target >= {TARGET_FPS:.0f}: {verdict}"
        )
    one = figures["one_pane_as_app"][0]
    grid = figures["grid_mpr_axial_scroll_as_app"][0]
    print(
        json.dumps(
            {
                "benchmark": "viewer_fps",
                "fps": round(figures["one_pane_forced"][0], 1),
                **{name: round(fps, 1) for name, (fps, _) in figures.items()},
                "grid_vs_one_pane_as_app": round(grid / one, 2),
                "numpy_slices_per_s": round(reference, 1),
                "target_fps": TARGET_FPS,
                "shape": list(SHAPE),
            }
        )
    )
    sys.stdout.flush()
    os._exit(0)  # skip interpreter teardown of Qt objects (PySide6 6.12 exit crash)


if __name__ == "__main__":
    sys.exit(main())
