"""Finished pieces wired into the window: each is triggered by the reader's action.

The PR/PD lines of the read's profile, window/level memory shared by both viewers,
measure mode (M enters, Esc leaves), readable words, the load report.
"""

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from mrecist_reader.core.model import ReadType
from mrecist_reader.core.thresholds import response_thresholds
from mrecist_reader.core.wording import readable
from mrecist_reader.desk.desk import ReaderContext
from mrecist_reader.resources import load_profile
from mrecist_reader.ui.main_window import MainWindow
from mrecist_reader.ui.prefetch import FirstSlice
from mrecist_reader.ui.timepoint_view import TimepointView
from mrecist_reader.ui.windowing import LIVER_WINDOW
from tests.gui import dicom_study
from tests.gui.conftest import make_series
from tests.gui.dicom_study import CENTRE
from tests.gui.helpers import answer_next_dialog, fill_lesion_dialog, wait_until_ready

STRICT = replace(load_profile("nct06779461"), pd_min_absolute_increase=200)
"""PD needs 20 mm more than the nadir: its line is not at 1.2 x the nadir."""


@pytest.fixture(scope="module")
def study(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """S01: BASELINE and FU1, arterial and portal venous."""
    root = tmp_path_factory.mktemp("wiring") / "study"
    radii = {"BASELINE": 20.0, "FU1": 12.0}
    dicom_study.write_study(root / "S01", radii, phases=("Arterial", "Portal venous"))
    return root


def _window(
    qtbot: QtBot, db: Path, *, read_type: ReadType = ReadType.CENTRAL
) -> MainWindow:
    context = ReaderContext(
        reader_id="R01", read_type=read_type, profile=STRICT, db_url=f"sqlite:///{db}"
    )
    main = MainWindow(context)
    qtbot.addWidget(main)
    main.resize(1400, 850)
    main.show()
    return main


@pytest.fixture
def window(qtbot: QtBot, tmp_path: Path, study: Path) -> Iterator[MainWindow]:
    main = _window(qtbot, tmp_path / "reads.db")
    main.open_path(study)
    wait_until_ready(qtbot, main)
    yield main
    main.shutdown()


def _t1(window: MainWindow) -> None:
    """Designate T1 at baseline: a 40.0 mm caliper through the lesion."""
    answer_next_dialog(fill_lesion_dialog())
    window.baseline_view.viewer.set_slice(CENTRE)
    k = float(CENTRE)
    window.baseline_view.viewer.caliper_drawn.emit((k, 31.5, 6.5), (k, 31.5, 56.5))


def _open_fu1(qtbot: QtBot, window: MainWindow) -> None:
    window.set_current_timepoint(1)
    qtbot.waitUntil(lambda: window.current_view.volume is not None, timeout=10000)


def _fu1(qtbot: QtBot, window: MainWindow) -> None:
    """Open FU1 and measure T1 there (24.0 mm)."""
    _open_fu1(qtbot, window)
    window.current_view.viewer.set_slice(CENTRE)
    k = float(CENTRE)
    window.current_view.viewer.caliper_drawn.emit((k, 31.5, 16.5), (k, 31.5, 46.5))


# ---------------------------------------------------------------- item 4
def test_a_follow_up_shows_the_pd_line_where_the_reads_profile_puts_it(
    qtbot: QtBot, window: MainWindow
) -> None:
    _t1(window)
    assert window.session is not None
    assert [x.lesion_id for x in window.session.read.lesions] == ["T1"]
    _fu1(qtbot, window)
    panel = window.response_panel
    row = panel.current()
    assert row is not None
    assert row.nadir_sum is not None
    expected = float(response_thresholds(STRICT).pd_limit(row.nadir_sum)) / 10
    assert panel._pd_line.isVisible()
    assert panel._pd_line.value() == pytest.approx(expected)
    assert expected == pytest.approx(row.nadir_sum / 10 + 20.0)  # the profile's


# ---------------------------------------------------------------- item 2
def test_the_viewers_measure_button_and_the_window_stay_in_step(
    qtbot: QtBot, window: MainWindow
) -> None:
    _open_fu1(qtbot, window)
    baseline, current = window.baseline_view.viewer, window.current_view.viewer
    qtbot.mouseClick(current.measure_button, Qt.MouseButton.LeftButton)
    assert window._actions["measure"].isChecked()
    assert baseline.measure_mode  # both viewers measure
    qtbot.mouseClick(current.measure_button, Qt.MouseButton.LeftButton)
    assert not window._actions["measure"].isChecked()
    assert not baseline.measure_mode


def test_m_enters_measure_mode_and_esc_leaves_it(
    qtbot: QtBot, window: MainWindow
) -> None:
    viewer = window.baseline_view.viewer
    viewer.setFocus()
    qtbot.keyClick(viewer, Qt.Key.Key_M)
    qtbot.keyClick(viewer, Qt.Key.Key_M)
    assert window._actions["measure"].isChecked()
    assert viewer.measure_mode
    qtbot.keyClick(viewer, Qt.Key.Key_Escape)
    assert not window._actions["measure"].isChecked()
    assert not viewer.measure_mode
    assert ("M", "Measure mode") in window.shortcuts()


# ---------------------------------------------------------------- item 1
def test_a_window_set_on_baseline_opens_the_follow_ups_series_of_that_kind(
    qtbot: QtBot, window: MainWindow
) -> None:
    baseline = window.baseline_view.viewer
    assert baseline.window_level == LIVER_WINDOW  # arterial CT
    baseline.set_window(200.0, 80.0)
    _open_fu1(qtbot, window)
    assert window.current_view.viewer.window_level == (200.0, 80.0)


def test_the_prefetched_first_slice_opens_with_the_liver_window_on_arterial_ct(
    qtbot: QtBot,
) -> None:
    view = TimepointView(None, "baselineViewer")
    qtbot.addWidget(view.viewer)
    series = make_series()
    errors: list[BaseException] = []
    first = FirstSlice(
        series.series_instance_uid,
        12,
        np.zeros((series.rows, series.columns), dtype=np.int16),
        np.eye(4),
    )
    view.load(
        0,
        series,
        "S01  BASELINE",
        on_loaded=lambda _view: None,
        on_error=errors.append,
        first=first,
        subject_id="S01",
    )
    assert view.viewer.stack is not None
    assert view.viewer.stack.window_kind == "CT arterial"
    assert view.viewer.window_level == LIVER_WINDOW
    view.cancel()


# ---------------------------------------------------------------- item 3
def test_the_sign_dialog_says_the_responses_in_words_with_their_reasons(
    qtbot: QtBot, window: MainWindow, monkeypatch: pytest.MonkeyPatch
) -> None:
    from mrecist_reader.ui import dialogs

    asked: list[str] = []

    def ask_sign(_parent: object, _label: str, summary: str) -> bool:
        asked.append(summary)
        return False  # the reader reads it and does not sign

    monkeypatch.setattr(dialogs, "ask_sign", ask_sign)
    _t1(window)
    _fu1(qtbot, window)
    window._actions["sign"].trigger()
    (summary,) = asked
    row = window.response_panel.current()
    assert row is not None
    assert row.reasons
    assert "non-target none at baseline" in summary  # not the token "NA"
    for reason in row.reasons:
        assert readable(reason) in summary
    for token in ("IR_SD", "non_target", "not_evaluable", "too_small"):
        assert token not in summary
    assert "central (blinded) read" in window.windowTitle()
