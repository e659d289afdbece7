"""Regenerate the README screenshots from the real application on ``sample_dicom/``.

Run from the checkout: ``QT_QPA_PLATFORM=offscreen .venv/bin/python
docs/images/make_screenshots.py`` (needs ``make sample``). A central read of subject S01
with a throw-away database: the worklist, the baseline with a drawn caliper and a
semi-automatic proposal, the target-range refusal, the follow-up side by side, the
response panel and the sign-off dialog. Each picture is a PNG of at most 250 KB (palette
colours, then smaller, if needed) in this folder.
"""

import io
import json
import os
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image
from PySide6.QtCore import QBuffer, QIODevice, QTimer
from PySide6.QtWidgets import QApplication, QMessageBox, QWidget

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from mrecist_reader.core.model import Organ, ReadType  # noqa: E402
from mrecist_reader.imaging.geometry import patient_to_index  # noqa: E402
from mrecist_reader.resources import load_profile  # noqa: E402
from mrecist_reader.ui.dialogs import LesionDialog  # noqa: E402
from mrecist_reader.ui.main_window import MainWindow, ReaderContext  # noqa: E402
from mrecist_reader.ui.startup import create_application  # noqa: E402
from mrecist_reader.ui.timepoint_view import TimepointView  # noqa: E402

HERE = Path(__file__).resolve().parent
SAMPLE = ROOT / "sample_dicom"
MAX_BYTES = 250 * 1024
WINDOW_SIZE = (1400, 850)


def save_small(widget: QWidget, name: str) -> Path:
    """Save ``widget.grab()`` as a PNG of at most 250 KB in this folder."""
    buffer = QBuffer()
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    widget.grab().save(buffer, "PNG")
    image = Image.open(io.BytesIO(bytes(buffer.data().data()))).convert("RGB")
    path = HERE / name
    candidate = image
    while True:
        data = _png_bytes(candidate)
        if len(data) > MAX_BYTES:
            data = _png_bytes(candidate.quantize(colors=256, dither=Image.Dither.NONE))
        if len(data) <= MAX_BYTES or candidate.width < 600:
            break
        size = (int(candidate.width * 0.85), int(candidate.height * 0.85))
        candidate = image.resize(size, Image.Resampling.LANCZOS)
    path.write_bytes(data)
    size = f"{candidate.width}x{candidate.height}, {len(data) // 1024} KB"
    print(f"{path.relative_to(ROOT)}: {size}")  # noqa: T201
    return path


def _png_bytes(image: Image.Image) -> bytes:
    stream = io.BytesIO()
    image.save(stream, format="PNG", optimize=True)
    return stream.getvalue()


def wait_until(condition: Callable[[], bool], timeout_s: float = 30.0) -> None:
    """Process events until ``condition()`` holds."""
    end = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > end:
            raise SystemExit("timed out waiting for the application")
        QApplication.processEvents()
        time.sleep(0.01)
    for _ in range(5):
        QApplication.processEvents()


def answer_next_dialog(handle: Callable[[QWidget], None]) -> None:
    """Answer the next modal dialog as soon as it opens."""

    def attempt() -> None:
        widget = QApplication.activeModalWidget()
        if widget is None:
            QTimer.singleShot(10, attempt)
            return
        handle(widget)

    QTimer.singleShot(0, attempt)


def fill_lesion(location: str) -> Callable[[QWidget], None]:
    """Return a handler choosing liver and a location in the lesion dialog."""

    def handle(widget: QWidget) -> None:
        assert isinstance(widget, LesionDialog)
        widget.organ_combo.setCurrentIndex(widget.organ_combo.findData(Organ.LIVER))
        widget.location_combo.setCurrentText(location)
        widget.accept()

    return handle


def click(text: str, shot: str | None = None) -> Callable[[QWidget], None]:
    """Return a handler (optionally saving the dialog) clicking a message box button."""

    def handle(widget: QWidget) -> None:
        assert isinstance(widget, QMessageBox)
        if shot is not None:
            widget.adjustSize()
            QApplication.processEvents()
            save_small(widget, shot)
        for button in widget.buttons():
            if button.text().startswith(text):
                button.click()
                return
        raise SystemExit(f"no button {text!r}")

    return handle


def index_of(view: TimepointView, point_mm: list[float]) -> tuple[float, float, float]:
    """Return the voxel index of a patient point on a view's volume (slice rounded)."""
    assert view.volume is not None
    index = patient_to_index(view.volume.affine, np.asarray(point_mm, dtype=float))
    return (float(round(index[0])), float(index[1]), float(index[2]))


def truth_at(lesion: dict[str, Any], label: str, view: TimepointView) -> dict[str, Any]:
    """Return the truth measurement of a lesion at a timepoint on a view's series."""
    timepoint = next(tp for tp in lesion["timepoints"] if tp["timepoint"] == label)
    measurement: dict[str, Any] = next(
        m
        for m in timepoint["measurements"]
        if m["series_instance_uid"] == view.series_uid
    )
    return measurement


def draw(view: TimepointView, measurement: dict[str, Any]) -> None:
    """Draw a caliper end to end as a reader does."""
    p1 = index_of(view, measurement["p1_mm"])
    p2 = index_of(view, measurement["p2_mm"])
    view.viewer.set_slice(round(p1[0]))
    view.viewer.caliper_drawn.emit(p1, p2)


def propose(window: MainWindow, view: TimepointView, seed_mm: list[float]) -> None:
    """Click the lesion in measure mode: a semi-automatic proposal appears."""
    seed = index_of(view, seed_mm)
    view.viewer.set_slice(round(seed[0]))
    view.viewer.point_clicked.emit(seed)
    if window._proposal is None:
        raise SystemExit("no semi-automatic proposal")


def baseline(window: MainWindow, lesions: dict[str, dict[str, Any]]) -> None:
    """Read the baseline: T1 drawn, T2 semi-automatic, NT1 refused as a target.

    The first picture shows T1's drawn caliper with the semi-automatic proposal for
    the same lesion (rejected afterwards).
    """
    view = window.baseline_view
    wait_until(lambda: view.volume is not None)
    answer_next_dialog(fill_lesion("segment VIII"))
    t1 = truth_at(lesions["T1"], "BASELINE", view)
    draw(view, t1)
    window.set_measure_mode(True)
    propose(window, view, t1["viable_seed_mm"])  # drawn caliper and proposal, one slice
    save_small(window, "baseline_reading.png")
    window.reject_proposal()
    window.select_lesion(None)
    propose(window, view, truth_at(lesions["T2"], "BASELINE", view)["viable_seed_mm"])
    answer_next_dialog(fill_lesion("segment VI"))
    window.accept_proposal()
    window.select_lesion(None)
    answer_next_dialog(
        lambda w: (
            fill_lesion("segment III")(w),
            answer_next_dialog(
                click("Record as non-target", "out_of_range_dialog.png")
            ),
        )
    )
    draw(view, truth_at(lesions["NT1"], "BASELINE", view))
    answer_next_dialog(click("Sign"))
    window.ask_sign()


def follow_up(window: MainWindow, lesions: dict[str, dict[str, Any]]) -> None:
    """Measure FU1's targets (semi-automatic), give NT1's status, sign."""
    window.set_current_timepoint(1)
    view = window.current_view
    wait_until(lambda: view.volume is not None)
    for lesion_id in ("T1", "T2"):
        window.select_lesion(lesion_id)
        propose(
            window, view, truth_at(lesions[lesion_id], "FU1", view)["viable_seed_mm"]
        )
        window.accept_proposal()
    window.select_lesion("NT1")
    window.set_status("present")
    window.select_lesion("T1")
    wait_until(lambda: True)
    save_small(window, "follow_up_side_by_side.png")
    save_small(window.reading_dock, "response_panel.png")
    answer_next_dialog(click("Sign", "sign_off.png"))
    window.ask_sign()


def main() -> int:
    """Write the screenshots; return 0."""
    if not (SAMPLE / "truth.json").is_file():
        raise SystemExit("sample_dicom has not been generated: make sample")
    truth = json.loads((SAMPLE / "truth.json").read_text())
    subject = next(s for s in truth["subjects"] if s["subject_id"] == "S01")
    lesions = {lesion["lesion_id"]: lesion for lesion in subject["lesions"]}
    # the reader's own saved window layout must not change the pictures
    os.environ["XDG_CONFIG_HOME"] = tempfile.mkdtemp(prefix="mrecist-shots-")
    app = create_application(sys.argv[:1])
    with tempfile.TemporaryDirectory() as folder:
        context = ReaderContext(
            reader_id="R01",
            read_type=ReadType.CENTRAL,
            profile=load_profile("nct06779461"),
            db_url=f"sqlite:///{Path(folder) / 'reads.db'}",
        )
        window = MainWindow(context)
        window.resize(*WINDOW_SIZE)
        window.show()
        window.open_path(SAMPLE)
        wait_until(lambda: window.session is not None)
        wait_until(lambda: window.baseline_view.volume is not None)
        save_small(window, "worklist.png")
        baseline(window, lesions)
        follow_up(window, lesions)
        window.shutdown()
        window.close()
    del app
    return 0


if __name__ == "__main__":
    sys.exit(main())
