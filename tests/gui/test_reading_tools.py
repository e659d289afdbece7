"""Reading tools of the main window: editing, shortcuts, series choice, status, drops."""

import shutil
from collections.abc import Iterator
from concurrent.futures import Future
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
from PySide6.QtGui import QDropEvent
from PySide6.QtWidgets import (
    QApplication,
    QComboBox,
    QLineEdit,
    QPushButton,
    QWidget,
)
from pytestqt.qtbot import QtBot

from mrecist_reader.imaging.volume import Phase
from mrecist_reader.ui.dialogs import AmendDialog, LesionDialog
from mrecist_reader.ui.icons import app_icon
from mrecist_reader.ui.lesion_table import LesionTableModel
from mrecist_reader.ui.main_window import MainWindow
from mrecist_reader.ui.prefetch import Prefetched, prefetch
from tests.gui import dicom_study
from tests.gui.dicom_study import CENTRE
from tests.gui.helpers import (
    answer_next_dialog,
    central_read_window,
    click_button,
    fill_lesion_dialog,
    save_screenshot,
    wait_until_ready,
)
from tests.kit.dicom import write_dicomdir


@pytest.fixture(scope="module")
def study(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("phases") / "study"
    return dicom_study.write_study(
        root, {"BASELINE": 20.0, "FU1": 12.0}, phases=("Arterial", "Portal venous")
    )


def _new_window(qtbot: QtBot, tmp_path: Path) -> MainWindow:
    return central_read_window(
        qtbot, tmp_path / "reads.db", reader_id="R02", size=(1100, 700)
    )


@pytest.fixture
def window(qtbot: QtBot, tmp_path: Path, study: Path) -> Iterator[MainWindow]:
    main = _new_window(qtbot, tmp_path)
    main.open_path(study)
    wait_until_ready(qtbot, main)
    _activate(qtbot, main)
    yield main
    main.shutdown()


def _target_t1(window: MainWindow) -> None:
    answer_next_dialog(fill_lesion_dialog(location="segment VII"))
    window.baseline_view.viewer.set_slice(CENTRE)
    window.baseline_view.viewer.caliper_drawn.emit(
        (float(CENTRE), 31.5, 6.5), (float(CENTRE), 31.5, 56.5)
    )


def _activate(qtbot: QtBot, window: MainWindow) -> None:
    """Make the window active again (a closed modal dialog leaves none offscreen)."""
    window.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is window, timeout=2000)


def _editor(qtbot: QtBot, window: MainWindow, column: int) -> QWidget:
    """Open the editor of the first row's cell, as a double click does."""
    _activate(qtbot, window)
    index = window.lesion_model.index(0, column)
    window.lesion_table.edit(index)
    editor = QApplication.focusWidget()
    assert editor is not None
    return editor


# ---------------------------------------------------------------- editing
def test_location_and_comment_are_edited_in_the_table_until_signed(
    qtbot: QtBot, window: MainWindow
) -> None:
    _target_t1(window)
    session = window.session
    assert session is not None
    model = window.lesion_model
    location = model.index(0, LesionTableModel.COL_LOCATION)
    comment = model.index(0, LesionTableModel.COL_COMMENT)

    editor = _editor(qtbot, window, LesionTableModel.COL_LOCATION)
    combo = editor if isinstance(editor, QComboBox) else editor.parentWidget()
    assert isinstance(combo, QComboBox)
    offered = [combo.itemText(i) for i in range(combo.count())]
    assert offered[:3] == ["segment I", "segment II", "segment III"]
    assert "segment VIII" in offered
    combo.setCurrentText("segment VIII")
    qtbot.keyClick(editor, Qt.Key.Key_Return)  # the view commits on its next event
    qtbot.waitUntil(lambda: session.read.lesions[0].location == "segment VIII")
    assert location.data() == "segment VIII"
    window._actions["undo"].trigger()
    assert location.data() == "segment VII"

    editor = _editor(qtbot, window, LesionTableModel.COL_COMMENT)
    assert isinstance(editor, QLineEdit)
    qtbot.keyClicks(editor, "rim APHE")  # A, P, E: typed, not status shortcuts
    qtbot.keyClick(editor, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: comment.data() == "rim APHE")
    observation = session.read.observation("T1", 0)
    assert observation is not None
    assert (observation.comment, str(observation.status)) == ("rim APHE", "measured")
    session.edit_comment("T1", 0, "arterial rim")  # and from the session to the table
    assert comment.data() == "arterial rim"

    window.set_current_timepoint(1)  # nothing recorded at FU1 yet: nothing to comment
    assert not model.flags(model.index(0, LesionTableModel.COL_COMMENT)) & (
        Qt.ItemFlag.ItemIsEditable
    )
    window.set_current_timepoint(0)
    answer_next_dialog(click_button("Sign BASELINE"))
    window._actions["sign"].trigger()
    for column in (LesionTableModel.COL_LOCATION, LesionTableModel.COL_COMMENT):
        index = model.index(0, column)
        assert not model.flags(index) & Qt.ItemFlag.ItemIsEditable
        assert not model.setData(index, "segment II")
    QApplication.processEvents()
    assert session.read.lesions[0].location == "segment VII"


# ---------------------------------------------------------------- shortcuts
def test_single_key_shortcuts_work_on_the_image_not_while_typing(
    qtbot: QtBot, window: MainWindow
) -> None:
    viewer = window.baseline_view.viewer
    viewer.setFocus()
    qtbot.keyClick(viewer, Qt.Key.Key_M)
    assert window._actions["measure"].isChecked()
    qtbot.keyClick(viewer, Qt.Key.Key_W)
    assert window.link_window

    browser = window.browser
    browser.setFocus()
    browser.setCurrentItem(browser.topLevelItem(0).child(1))  # FU1
    qtbot.keyClick(browser, Qt.Key.Key_B)  # keyboard search finds BASELINE
    assert browser.currentItem().text(0).startswith("BASELINE")
    qtbot.keyClick(browser, Qt.Key.Key_M)
    qtbot.keyClick(browser, Qt.Key.Key_W)
    assert window._actions["measure"].isChecked()  # not toggled off
    assert window.link_window

    _target_t1(window)
    editor = _editor(qtbot, window, LesionTableModel.COL_LOCATION)
    line = editor.findChild(QLineEdit) if isinstance(editor, QComboBox) else editor
    assert isinstance(line, QLineEdit)
    line.clear()
    qtbot.keyClicks(line, "ASEPGQ")
    assert line.text() == "ASEPGQ"
    assert window.session is not None
    observation = window.session.read.observation("T1", 0)
    assert observation is not None
    assert str(observation.status) == "measured"  # no status key fired

    qtbot.keyClick(line, Qt.Key.Key_Escape)  # closes the editor only
    assert window._actions["measure"].isChecked()
    viewer.setFocus()
    qtbot.keyClick(viewer, Qt.Key.Key_M)
    assert window._actions["measure"].isChecked()  # M enters, never leaves
    qtbot.keyClick(viewer, Qt.Key.Key_Escape)
    assert not window._actions["measure"].isChecked()


# ---------------------------------------------------------------- series choice
def test_the_series_chosen_for_a_timepoint_is_kept(
    qtbot: QtBot, window: MainWindow
) -> None:
    assert window.baseline_view.series is not None
    assert window.baseline_view.series.phase is Phase.ARTERIAL  # the default
    fu1 = window.subjects[0].timepoints[1]
    portal = next(s for s in fu1.series if s.phase is Phase.PORTAL_VENOUS)
    window.browser.choose("S01", 1, portal)
    assert window.current_view.series is portal
    window.set_current_timepoint(0)
    window.set_current_timepoint(1)
    assert window.current_view.series is portal
    assert window.baseline_view.series.phase is Phase.ARTERIAL


# ---------------------------------------------------------------- read status
def _states(window: MainWindow) -> tuple[str, str]:
    return (window.browser.status_of("S01", 0), window.read_label.text())


def _agree(window: MainWindow, expected: str) -> None:
    worklist, status_bar = _states(window)
    assert worklist == expected
    assert status_bar.startswith(f"BASELINE {expected}")


def test_worklist_and_status_bar_agree_after_each_command(window: MainWindow) -> None:
    _agree(window, "not started")
    _target_t1(window)
    _agree(window, "draft")
    answer_next_dialog(click_button("Sign BASELINE"))
    window._actions["sign"].trigger()
    _agree(window, "signed")

    def give_reason(widget: QWidget) -> None:
        assert isinstance(widget, AmendDialog)
        widget.reason.setPlainText("re-measure T1")
        widget.accept()

    answer_next_dialog(give_reason)
    window._actions["amend"].trigger()
    _agree(window, "draft")
    assert window.session is not None
    window.session.delete_lesion("T1")
    _agree(window, "not started")
    window._actions["undo"].trigger()
    _agree(window, "draft")
    assert window.browser.status_of("S01", 1) == "not started"


# ---------------------------------------------------------------- drag and drop
def _drop(window: MainWindow, path: Path) -> None:
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(path))])
    event = QDropEvent(
        QPointF(10, 10),
        Qt.DropAction.CopyAction,
        mime,
        Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier,
    )
    window.dropEvent(event)


@pytest.mark.slow
def test_dropping_a_zip_or_a_dicomdir_opens_the_study(
    qtbot: QtBot,
    tmp_path: Path,
    study: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    archive = Path(shutil.make_archive(str(tmp_path / "study"), "zip", study))
    dicomdir = write_dicomdir(sorted(study.rglob("*.dcm")), tmp_path / "media")
    for dropped in (archive, dicomdir):
        main = _new_window(qtbot, tmp_path / f"reads_{dropped.suffix or dropped.name}")
        _drop(main, dropped)
        wait_until_ready(qtbot, main)
        assert [s.subject_id for s in main.subjects] == ["S01"]
        labels = [tp.label for tp in main.subjects[0].timepoints]
        assert labels == ["BASELINE", "FU1"]
        assert main.baseline_view.viewer.stack is not None
        main.shutdown()


# ---------------------------------------------------------------- start-up
def test_prefetched_first_slice_is_shown_then_the_volume_loads(
    qtbot: QtBot, tmp_path: Path, study: Path
) -> None:
    found = prefetch(str(study))
    assert found.first is not None
    future: Future[Prefetched] = Future()
    future.set_result(found)
    main = _new_window(qtbot, tmp_path)
    main.open_path(study, prefetched=future)
    view = main.baseline_view
    qtbot.waitUntil(lambda: view.viewer.stack is not None, timeout=5000)
    assert view.viewer.slice_index == found.first.index
    np.testing.assert_array_equal(view.viewer.image.image, found.first.array)
    wait_until_ready(qtbot, main)
    assert view.volume is not None
    np.testing.assert_array_equal(
        view.volume.array[found.first.index], found.first.array
    )
    main.shutdown()


def test_window_shows_the_application_icon(qtbot: QtBot, tmp_path: Path) -> None:
    window = _new_window(qtbot, tmp_path)
    icon = app_icon()
    assert not icon.isNull()
    sizes = {size.width() for size in icon.availableSizes()}
    assert {16, 32, 48, 256} <= sizes
    shown = window.windowIcon()
    assert not shown.isNull()
    assert {16, 32, 48, 256} <= {size.width() for size in shown.availableSizes()}


# ---------------------------------------------------------------- issue 14: widgets
def test_measure_mode_is_shown_in_both_viewers(window: MainWindow) -> None:
    viewers = [view.viewer for view in window.views]
    assert not any(viewer.measure_button.isChecked() for viewer in viewers)
    window.set_measure_mode(True)
    for viewer in viewers:
        assert viewer.measure_button.isChecked()
        assert viewer.mode_text.startswith("Measuring")
        assert viewer.canvas.viewport().cursor().shape() == Qt.CursorShape.CrossCursor
    save_screenshot(window, "main_window_measure_mode")
    window.set_measure_mode(False)
    for viewer in viewers:
        assert not viewer.measure_button.isChecked()
        assert viewer.canvas.viewport().cursor().shape() == (
            Qt.CursorShape.OpenHandCursor
        )


def test_tab_tab_tab_space_adds_no_target_without_a_location(
    qtbot: QtBot, window: MainWindow
) -> None:
    seen: list[str] = []

    def keyboard_only(widget: QWidget) -> None:
        assert isinstance(widget, LesionDialog)
        for _ in range(3):
            qtbot.keyClick(QApplication.focusWidget(), Qt.Key.Key_Tab)
        focused = QApplication.focusWidget()
        if isinstance(focused, QPushButton):  # never Add: it is not enabled
            qtbot.keyClick(focused, Qt.Key.Key_Space)
        qtbot.keyClick(QApplication.focusWidget(), Qt.Key.Key_Return)
        seen.append(widget.hint.text() if widget.isVisible() else "closed")
        widget.reject()

    answer_next_dialog(keyboard_only)
    window.baseline_view.viewer.set_slice(CENTRE)
    window.baseline_view.viewer.caliper_drawn.emit(
        (float(CENTRE), 31.5, 6.5), (float(CENTRE), 31.5, 56.5)
    )
    assert seen == ["A target needs its location (e.g. segment VII)."]
    assert window.session is not None
    assert window.session.read.lesions == ()


def test_calipers_of_a_signed_timepoint_cannot_be_dragged(
    qtbot: QtBot, window: MainWindow
) -> None:
    _target_t1(window)
    answer_next_dialog(click_button("Sign BASELINE"))
    window._actions["sign"].trigger()
    viewer = window.baseline_view.viewer
    viewer.set_slice(CENTRE)
    (item,) = viewer.caliper_items()
    assert item.locked
    assert "BASELINE is signed" in item.roi.toolTip()
    assert not any(handle.isVisible() for handle in item.roi.getHandles())
    before = item.length_mm()
    edited: list[object] = []
    viewer.caliper_edited.connect(lambda *args: edited.append(args))
    handle = item.roi.getHandles()[1]
    item.roi.movePoint(handle, QPointF(20.0, 20.0), finish=True)
    assert item.length_mm() == pytest.approx(before)
    assert edited == []


def test_window_and_level_are_kept_when_the_series_changes(
    window: MainWindow,
) -> None:
    fu1 = window.subjects[0].timepoints[1]
    arterial = next(s for s in fu1.series if s.phase is Phase.ARTERIAL)
    portal = next(s for s in fu1.series if s.phase is Phase.PORTAL_VENOUS)
    window.browser.choose("S01", 1, arterial)
    viewer = window.current_view.viewer
    assert viewer.window_level == (150.0, 70.0)  # arterial CT: the liver window
    viewer.set_window(230.0, 85.0)
    window.browser.choose("S01", 1, portal)
    assert viewer.window_level == (400.0, 40.0)
    window.browser.choose("S01", 1, arterial)
    assert viewer.window_level == (230.0, 85.0)
    assert viewer.cursor_value.text() == ""
