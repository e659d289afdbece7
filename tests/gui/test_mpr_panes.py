"""View ▸ Layout 2 × 2 with MPR (issue 15 item 4): the wiring of the reformat panes."""

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from mrecist_reader.imaging.reformat import Plane
from mrecist_reader.ui.main_window import MainWindow
from mrecist_reader.ui.mpr import NO_CALIPER_TIP
from mrecist_reader.ui.slice_viewer import SliceViewer
from tests.gui import dicom_study
from tests.gui.helpers import central_read_window, save_screenshot, wait_until_ready


@pytest.fixture(scope="module")
def study(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("study")
    return dicom_study.write_study(root / "study", {"BASELINE": 20.0, "FU1": 12.0})


@pytest.fixture
def window(qtbot: QtBot, tmp_path: Path, study: Path) -> Iterator[MainWindow]:
    main = central_read_window(
        qtbot, tmp_path / "reads.db", reader_id="R01", size=(1600, 1000)
    )
    main.open_path(study)
    wait_until_ready(qtbot, main)
    main.set_current_timepoint(1)
    qtbot.waitUntil(lambda: main.current_view.volume is not None, timeout=10000)
    yield main
    main.shutdown()


def _caption(viewer: SliceViewer) -> str:
    """Return a viewer's full caption (the label is elided at the next layout)."""
    return viewer.overlays.full_text.get(viewer.top_left, "")


def test_mpr_layout_reformats_the_read_series_with_reference_lines(
    qtbot: QtBot, window: MainWindow
) -> None:
    window._actions["layoutGridMpr"].trigger()
    coronal, sagittal = window.panes.mpr.panes
    qtbot.waitUntil(lambda: coronal.viewer.stack is not None, timeout=10000)
    assert coronal.viewer.isVisible()
    assert sagittal.viewer.isVisible()
    assert not window.panes.lower[0].viewer.isVisible()
    assert "Coronal reformat" in _caption(coronal.viewer)
    assert "FU1" in _caption(coronal.viewer)
    # calipers stay axial: no measure mode on a reformat, and the button says why
    assert not coronal.viewer.measure_button.isEnabled()
    assert coronal.viewer.measure_button.toolTip() == NO_CALIPER_TIP
    coronal.viewer.setFocus()
    qtbot.keyClick(coronal.viewer, Qt.Key.Key_M)
    assert not coronal.viewer.measure_mode
    # the read pane's axial slice is a line on the reformat, and follows its scrolling
    current = window.current_view.viewer
    line = coronal.axial_line
    assert line.isVisible()
    before = line.pos().y()
    current.setFocus()
    qtbot.keyClick(current, Qt.Key.Key_PageDown)
    assert line.pos().y() != before
    # the reformat's slice is a line on the axial panes, and follows its scrolling
    on_current = window.panes.mpr.lines[(1, 0)]
    assert on_current.isVisible()
    before = on_current.pos().y()
    coronal.viewer.scroll_by(5)
    assert on_current.pos().y() != before
    # the coronal slice is a line on the sagittal pane too
    assert window.panes.mpr.cross[(1, 0)].isVisible()
    save_screenshot(window, "layout_2x2_mpr_1600x1000")
    # the pane's tool bar chooses the plane
    coronal.plane_choice.setCurrentIndex(1)
    assert coronal.plane is Plane.SAGITTAL
    assert "Sagittal reformat" in _caption(coronal.viewer)
    assert np.count_nonzero(coronal.viewer.stack.affine[:3, :3]) == 3  # patient axes


def test_leaving_the_mpr_layout_hides_the_panes_and_their_lines(
    qtbot: QtBot, window: MainWindow
) -> None:
    window._actions["layoutGridMpr"].trigger()
    coronal, _ = window.panes.mpr.panes
    qtbot.waitUntil(lambda: coronal.viewer.stack is not None, timeout=10000)
    window._actions["layoutSideBySide"].trigger()
    assert not window.panes.bottom_row.isVisible()
    lines = [*window.panes.mpr.lines.values(), *window.panes.mpr.cross.values()]
    assert not any(line.isVisible() for line in lines)
