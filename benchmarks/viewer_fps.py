"""Frames per second of the slice viewer scrolling a 512x512x300 CT volume, offscreen.

Each frame sets the slice (window/level applied by ImageItem levels) and repaints the
viewport synchronously, so the figure includes pyqtgraph's rendering and Qt's painting.
The reference in the same run is raw numpy slicing (the cost floor of getting the data).
Target: >= 60 fps. Last line: JSON.
"""

import json
import os
import sys
import time

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import numpy as np
import pyqtgraph as pg
from PySide6.QtWidgets import QApplication

from mrecist_reader.imaging.geometry import build_affine
from mrecist_reader.ui.slice_viewer import ImageStack, SliceViewer

SHAPE = (300, 512, 512)
TARGET_FPS = 60.0


def _volume() -> np.ndarray:
    rng = np.random.default_rng(0)
    return (rng.integers(-1000, 1000, SHAPE, dtype=np.int16)).astype(np.int16)


def _numpy_reference(array: np.ndarray) -> float:
    start = time.perf_counter()
    total = 0
    for k in range(array.shape[0]):
        total += int(np.ascontiguousarray(array[k])[0, 0])
    return array.shape[0] / (time.perf_counter() - start)


def _viewer_fps(app: QApplication, array: np.ndarray) -> float:
    affine = build_affine((1, 0, 0, 0, 1, 0), (0, 0, 0), (0.7, 0.7), (0, 0, 1.0))
    stack = ImageStack(shape=SHAPE, affine=affine, get_slice=lambda k: array[k])
    viewer = SliceViewer()
    viewer.resize(1000, 1000)
    viewer.show()
    viewer.set_stack(stack, slice_index=0, window=(150.0, 70.0))
    app.processEvents()
    viewport = viewer.canvas.viewport()
    start = time.perf_counter()
    for k in range(SHAPE[0]):
        viewer.set_slice(k)
        viewport.repaint()
    elapsed = time.perf_counter() - start
    return SHAPE[0] / elapsed


def main() -> int:
    """Measure and print the figures; return 0 (a benchmark never fails the build)."""
    pg.setConfigOptions(imageAxisOrder="row-major")
    app = QApplication.instance() or QApplication(sys.argv)
    array = _volume()
    reference = _numpy_reference(array)
    fps = _viewer_fps(app, array)
    print(f"numpy slicing (reference): {reference:,.0f} slices/s")
    print(f"viewer scrolling with W/L, {SHAPE[2]}x{SHAPE[1]}x{SHAPE[0]}: {fps:.0f} fps")
    print(
        f"target >= {TARGET_FPS:.0f} fps: {'met' if fps >= TARGET_FPS else 'NOT met'}"
    )
    print(
        json.dumps(
            {
                "benchmark": "viewer_fps",
                "fps": round(fps, 1),
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
