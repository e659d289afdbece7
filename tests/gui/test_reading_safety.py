"""Issue 14 in the window: each desk rule is triggered by the reader's own action."""

from collections.abc import Iterator
from pathlib import Path

import pytest
from pydicom.dataset import Dataset
from pydicom.uid import generate_uid
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QWidget
from pytestqt.qtbot import QtBot

from mrecist_reader.core.errors import MrecistError
from mrecist_reader.core.model import LesionType, NewLesionStatus, Organ, ReadStatus
from mrecist_reader.desk.desk import WrongImage
from mrecist_reader.imaging.volume import Phase, SeriesInfo
from mrecist_reader.ui.main_window import MainWindow
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
from tests.kit.dicom import rewrite

PHASES = ("Arterial", "Portal venous")


@pytest.fixture(scope="module")
def study(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """S01 and S02, each BASELINE and FU1 with an arterial and a portal series."""
    root = tmp_path_factory.mktemp("study") / "study"
    radii = {"BASELINE": 20.0, "FU1": 12.0}
    dicom_study.write_study(root / "S01", radii, phases=PHASES)
    dicom_study.write_study(root / "S02", radii, phases=PHASES)
    _renumber(root / "S02", "S02")
    return root


def _renumber(folder: Path, subject_id: str) -> None:
    """Make every file in ``folder`` another subject's (new study/series UIDs)."""
    uids: dict[str, str] = {}

    def renumber(ds: Dataset) -> None:
        ds.ClinicalTrialSubjectID = subject_id
        ds.PatientID = f"{dicom_study.PATIENT_ID}-2"
        for keyword in ("StudyInstanceUID", "SeriesInstanceUID"):
            old = str(getattr(ds, keyword))
            setattr(ds, keyword, uids.setdefault(old, generate_uid()))

    rewrite(sorted(folder.rglob("*.dcm")), renumber, enforce_file_format=True)


@pytest.fixture
def window(qtbot: QtBot, tmp_path: Path, study: Path) -> Iterator[MainWindow]:
    main = central_read_window(
        qtbot, tmp_path / "reads.db", reader_id="R01", size=(1400, 850)
    )
    main.open_path(study)
    wait_until_ready(qtbot, main)
    yield main
    main.shutdown()


def _draw(window: MainWindow, index: int, col: float, half_px: float) -> None:
    """Draw a caliper across row 31.5 on the slice through the lesion."""
    view = window.baseline_view if index == 0 else window.current_view
    view.viewer.set_slice(CENTRE)
    k = float(CENTRE)
    view.viewer.caliper_drawn.emit((k, 31.5, col - half_px), (k, 31.5, col + half_px))


def _t1(window: MainWindow) -> None:
    answer_next_dialog(fill_lesion_dialog())
    _draw(window, 0, 31.5, 25.0)  # 40.0 mm


def _fu1(qtbot: QtBot, window: MainWindow) -> None:
    window.set_current_timepoint(1)
    qtbot.waitUntil(lambda: window.current_view.volume is not None, timeout=10000)


def _read(window: MainWindow):
    assert window.session is not None
    return window.session.read


def _portal(window: MainWindow, index: int) -> SeriesInfo:
    timepoint = window.subjects[0].timepoints[index]
    return next(s for s in timepoint.series if s.phase is Phase.PORTAL_VENOUS)


# ---------------------------------------------------------------- item 1
def test_a_series_that_cannot_be_shown_clears_its_viewer_and_says_why(
    qtbot: QtBot,
    window: MainWindow,
    monkeypatch: pytest.MonkeyPatch,
    error_messages: list[tuple[str, str, bool]],
) -> None:
    from mrecist_reader.imaging import load

    _fu1(qtbot, window)
    assert window.current_view.viewer.stack is not None  # FU1 arterial on screen
    portal = _portal(window, 1)
    real_open = load.open_volume

    def refuse(series: SeriesInfo, **kwargs: object) -> object:
        if series is portal:
            raise MrecistError("several images lie at one position")
        return real_open(series, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(load, "open_volume", refuse)
    window.browser.choose("S01", 1, portal)
    viewer = window.current_view.viewer
    assert viewer.stack is None  # the arterial images do not stay under its name
    assert "several images lie at one position" in viewer.placeholder.text()
    save_screenshot(window, "gui_series_refused")
    _draw(window, 1, 31.5, 15.0)
    assert _read(window).observations_at(1) == ()
    assert "no image is shown here" in error_messages[-1][1]


def test_a_caliper_drawn_on_an_image_not_open_is_refused_when_recorded(
    qtbot: QtBot, window: MainWindow
) -> None:
    drawn = window.baseline_view.drawn_caliper((12.0, 31.5, 6.5), (12.0, 31.5, 56.5))
    window.desk.open_subject("S02")  # the reader moved on; S01's caliper arrives late
    qtbot.waitUntil(
        lambda: (
            window.session is not None and window.session.read.key.subject_id == "S02"
        ),
        timeout=10000,
    )
    with pytest.raises(WrongImage, match="S01's images but S02 is open"):
        window.measure.record(drawn)
    assert _read(window).lesions == ()


# ---------------------------------------------------------------- item 3
def test_a_second_caliper_over_t1_asks_and_cancel_records_nothing(
    window: MainWindow,
) -> None:
    _t1(window)
    asked: list[str] = []

    def cancel(widget: QWidget) -> None:
        asked.append(widget.objectName())
        save_screenshot(widget, "gui_overlap_question")
        click_button("Cancel")(widget)

    answer_next_dialog(cancel)
    _draw(window, 0, 33.5, 22.0)
    assert asked == ["overlapCaliperDialog"]
    assert [x.lesion_id for x in _read(window).lesions] == ["T1"]


def test_re_measure_over_t1_keeps_one_target_with_the_new_value(
    window: MainWindow,
) -> None:
    _t1(window)
    answer_next_dialog(click_button("Re-measure T1"))
    _draw(window, 0, 33.5, 22.0)  # 35.2 mm
    assert [x.lesion_id for x in _read(window).lesions] == ["T1"]
    t1 = _read(window).observation("T1", 0)
    assert t1 is not None
    assert t1.diameter == 352


def test_with_t1_selected_at_baseline_a_caliper_re_measures_it(
    window: MainWindow,
) -> None:
    _t1(window)
    window.select_lesion("T1")
    _draw(window, 0, 31.5, 23.0)  # no question, no lesion dialog
    t1 = _read(window).observation("T1", 0)
    assert t1 is not None
    assert t1.diameter == 368
    assert len(_read(window).lesions) == 1


# ---------------------------------------------------------------- item 5
def test_a_caliper_on_the_selected_new_lesion_records_and_shows_its_diameter(
    qtbot: QtBot, window: MainWindow, tmp_path: Path
) -> None:
    _t1(window)
    _fu1(qtbot, window)
    _draw(window, 1, 31.5, 15.0)  # T1 at FU1
    answer_next_dialog(
        fill_lesion_dialog(Organ.LIVER, "segment II", NewLesionStatus.EQUIVOCAL)
    )
    window._actions["addLesion"].trigger()
    assert window.selected_lesion == "N1"
    _draw(window, 1, 10.0, 8.0)  # 12.8 mm on N1, not "Add lesion" for N2
    n1 = _read(window).observation("N1", 1)
    assert n1 is not None
    assert (n1.diameter, n1.status) == (128, NewLesionStatus.EQUIVOCAL)
    assert [x.lesion_id for x in _read(window).lesions_of_type(LesionType.NEW)] == [
        "N1"
    ]
    row = window.lesion_model.row_of("N1")
    assert row is not None
    texts = [
        str(window.lesion_model.index(row, column).data())
        for column in range(window.lesion_model.columnCount())
    ]
    assert any("12.8 mm" in text for text in texts)
    save_screenshot(window, "gui_new_lesion_measured")


# ---------------------------------------------------------------- item 4
def test_fu1_with_a_non_target_unassessed_lists_it_and_refuses_to_sign(
    qtbot: QtBot, window: MainWindow, error_messages: list[tuple[str, str, bool]]
) -> None:
    _t1(window)
    answer_next_dialog(fill_lesion_dialog(Organ.LUNG, "right lower lobe"))
    window._actions["addLesion"].trigger()
    answer_next_dialog(click_button("Sign BASELINE"))
    window._actions["sign"].trigger()
    _fu1(qtbot, window)
    window.select_lesion("T1")
    _draw(window, 1, 31.5, 15.0)
    assert window.missing_label.isVisible()
    assert "NT1 (non-target): no status at FU1" in window.missing_label.text()
    save_screenshot(window, "gui_missing_before_signing")
    window._actions["sign"].trigger()  # refused before any dialog
    assert "cannot be signed yet" in error_messages[-1][1]
    assert not window.session.is_signed(1)  # type: ignore[union-attr]


def test_signing_fu1_with_baseline_a_draft_says_both_are_signed(
    qtbot: QtBot, window: MainWindow
) -> None:
    _t1(window)
    _fu1(qtbot, window)
    _draw(window, 1, 31.5, 15.0)
    said: list[str] = []

    def sign(widget: QWidget) -> None:
        said.append(widget.informativeText() + widget.text())  # type: ignore[attr-defined]
        click_button("Sign FU1")(widget)

    answer_next_dialog(sign)
    window._actions["sign"].trigger()
    assert any("BASELINE is still a draft" in text for text in said)
    statuses = [tp.read_status for tp in _read(window).timepoints]
    assert statuses == [ReadStatus.SIGNED, ReadStatus.SIGNED]


# ---------------------------------------------------------------- item 11
def test_clicking_fu1_of_another_subject_opens_that_subject_at_fu1(
    qtbot: QtBot, window: MainWindow
) -> None:
    item = next(
        i
        for i in window.browser._items("timepoint")
        if i.data(0, Qt.ItemDataRole.UserRole + 1) == ("S02", 1)
    )
    window.browser.itemClicked.emit(item, 0)
    qtbot.waitUntil(
        lambda: (
            window.session is not None and window.session.read.key.subject_id == "S02"
        ),
        timeout=10000,
    )
    assert window.current_index == 1
    assert window.current_view.subject_id == "S02"
    assert window.current_view.timepoint_index == 1


def test_quit_asks_while_a_draft_is_open_and_sits_apart_from_export(
    window: MainWindow,
) -> None:
    _t1(window)
    asked: list[str] = []

    def stay(widget: QWidget) -> None:
        asked.append(widget.objectName())
        click_button("Cancel")(widget)

    answer_next_dialog(stay)
    window._actions["quit"].trigger()
    assert asked == ["confirmDialog"]
    assert window.isVisible()
    file_menu = window._actions["export"].associatedObjects()[-1]
    names = [a.objectName() or "-" for a in file_menu.actions()]  # type: ignore[attr-defined]
    assert names[names.index("export") + 1] == "-"  # a separator before Quit


def test_a_lesion_table_click_gives_the_keys_back_to_the_image(
    qtbot: QtBot, window: MainWindow
) -> None:
    _t1(window)
    window.activateWindow()
    window.browser.setFocus()
    qtbot.waitUntil(lambda: QApplication.focusWidget() is window.browser)
    table = window.lesion_table
    rect = table.visualRect(window.lesion_model.index(0, 0))
    qtbot.mouseClick(table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert window.selected_lesion == "T1"
    assert QApplication.focusWidget() is window.baseline_view.viewer


def test_a_non_target_added_with_n_leaves_a_position_marker_not_a_measurement(
    window: MainWindow,
) -> None:
    window.baseline_view.viewer.set_slice(CENTRE)
    answer_next_dialog(fill_lesion_dialog(Organ.LUNG, "right lower lobe"))
    window._actions["addLesion"].trigger()
    observation = _read(window).observation("NT1", 0)
    assert observation is not None
    assert observation.caliper is None  # nothing recorded looks like a measurement
    assert observation.diameter is None
    (item,) = [
        i
        for i in window.baseline_view.viewer.caliper_items()
        if i.spec.lesion_id == "NT1"
    ]
    assert item.spec.marker
    assert item.locked
    assert item.label.textItem.toPlainText() == "NT1"  # no length
    assert "mm" not in item.label.textItem.toPlainText()


def test_the_first_click_is_warmed_up_once_the_volume_loads(
    qtbot: QtBot, tmp_path: Path, study: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from mrecist_reader.ui import measure_flow

    warmed: list[tuple[int, ...]] = []
    monkeypatch.setattr(measure_flow, "_warmed", measure_flow.threading.Event())
    monkeypatch.setattr(
        measure_flow, "warm_measure", lambda volume: warmed.append(volume.array.shape)
    )
    main = central_read_window(
        qtbot, tmp_path / "reads.db", reader_id="R01", size=(1200, 800)
    )
    main.open_path(study)
    wait_until_ready(qtbot, main)
    qtbot.waitUntil(lambda: bool(warmed), timeout=5000)
    main.set_current_timepoint(1)
    qtbot.waitUntil(lambda: main.current_view.volume is not None, timeout=10000)
    qtbot.wait(50)
    assert warmed == [dicom_study.SHAPE]  # once per process, in the background
    main.shutdown()


# ---------------------------------------------------------------- export
def test_the_reader_exports_every_subject_or_the_open_one(
    qtbot: QtBot,
    window: MainWindow,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import csv

    from PySide6.QtWidgets import QFileDialog

    _t1(window)
    window.desk.open_subject("S02")
    qtbot.waitUntil(
        lambda: (
            window.session is not None
            and window.session.read.key.subject_id == "S02"
            and window.baseline_view.volume is not None
        ),
        timeout=10000,
    )
    _t1(window)
    folders = iter([tmp_path / "one", tmp_path / "every"])
    monkeypatch.setattr(
        QFileDialog, "getExistingDirectory", lambda *a, **k: str(next(folders))
    )
    for button in ("Subject S02", "Every subject"):
        answer_next_dialog(click_button(button))
        window._actions["export"].trigger()

    def subjects(folder: Path) -> list[str]:
        with (folder / "measurements.csv").open(newline="", encoding="utf-8") as f:
            return sorted({row["subject_id"] for row in csv.DictReader(f)})

    assert subjects(tmp_path / "one") == ["S02"]
    assert subjects(tmp_path / "every") == ["S01", "S02"]
