"""A reader's whole read of sample_dicom in the desktop application, export included.

For each subject: open it, measure the baseline targets on the arterial series (the first
target with a caliper drawn end to end, the others with the semi-automatic click at the
lesion's viable centre from ``truth.json``), add non-targets, sign; then at each
follow-up measure or give statuses, add new lesions, sign; finally export. The exported
responses must be those of ``sample_dicom/README.md`` / ``truth.json``.
"""

import csv
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from mrecist_reader.core.model import NewLesionStatus, Organ
from mrecist_reader.imaging.geometry import patient_to_index
from mrecist_reader.ui.main_window import MainWindow
from mrecist_reader.ui.timepoint_view import TimepointView
from tests.gui.helpers import (
    answer_next_dialog,
    central_read_window,
    click_button,
    fill_lesion_dialog,
    save_screenshot,
)

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

SAMPLE = Path(__file__).resolve().parents[2] / "sample_dicom"
RESPONSE_FIELDS = (
    "target_response",
    "non_target_response",
    "new_lesions",
    "overall_response",
    "progression_backdated_to",
)


@pytest.fixture(scope="module")
def truth() -> dict[str, Any]:
    if not (SAMPLE / "truth.json").is_file():
        pytest.skip("sample_dicom has not been generated (make sample)")
    data: dict[str, Any] = json.loads((SAMPLE / "truth.json").read_text())
    return data


@pytest.fixture
def window(qtbot: QtBot, tmp_path: Path) -> Iterator[MainWindow]:
    main = central_read_window(
        qtbot, tmp_path / "reads.db", reader_id="R07", size=(1600, 950)
    )
    yield main
    main.shutdown()


def _wait_loaded(qtbot: QtBot, view: TimepointView) -> None:
    qtbot.waitUntil(lambda: view.volume is not None, timeout=20000)


def _view_for(window: MainWindow, index: int) -> TimepointView:
    return window.baseline_view if index == 0 else window.current_view


def _to_index(view: TimepointView, point_mm: list[float]) -> tuple[float, ...]:
    assert view.volume is not None
    index = patient_to_index(view.volume.affine, np.asarray(point_mm, dtype=float))
    return (float(round(index[0])), float(index[1]), float(index[2]))


def _measurement(lesion_tp: dict[str, Any], view: TimepointView) -> dict[str, Any]:
    for measurement in lesion_tp["measurements"]:
        if measurement["series_instance_uid"] == view.series_uid:
            result: dict[str, Any] = measurement
            return result
    raise AssertionError(f"no truth measurement on {view.series_uid}")


def _lesion_at(lesion: dict[str, Any], label: str) -> dict[str, Any]:
    found: dict[str, Any] = next(
        tp for tp in lesion["timepoints"] if tp["timepoint"] == label
    )
    return found


def _measure_target(
    window: MainWindow, view: TimepointView, lesion_tp: dict[str, Any], *, manual: bool
) -> None:
    measurement = _measurement(lesion_tp, view)
    location = "segment " + lesion_tp.get("segment", "")
    if view.timepoint_index == 0:
        answer_next_dialog(fill_lesion_dialog(Organ.LIVER, location))
    if manual:
        p1 = _to_index(view, measurement["p1_mm"])
        p2 = _to_index(view, measurement["p2_mm"])
        view.viewer.set_slice(round(p1[0]))
        view.viewer.caliper_drawn.emit(p1, p2)
        return
    seed = _to_index(view, measurement["viable_seed_mm"])
    view.viewer.set_slice(round(seed[0]))
    view.viewer.point_clicked.emit(seed)
    assert window.desk.proposal is not None, "no semi-automatic proposal"
    window.accept_proposal()


def _read_baseline(qtbot: QtBot, window: MainWindow, subject: dict[str, Any]) -> None:
    view = window.baseline_view
    _wait_loaded(qtbot, view)
    targets = [x for x in subject["lesions"] if x["type"] == "target"]
    for number, lesion in enumerate(targets):
        lesion_tp = {**_lesion_at(lesion, "BASELINE"), "segment": lesion["segment"]}
        window.select_lesion(None)
        _measure_target(window, view, lesion_tp, manual=number == 0)
    for lesion in subject["lesions"]:
        if lesion["type"] == "non_target":
            answer_next_dialog(
                fill_lesion_dialog(Organ.LIVER, f"segment {lesion['segment']}")
            )
            window.ask_add_lesion()
    _sign(window)


def _sign(window: MainWindow) -> None:
    answer_next_dialog(click_button("Sign"))
    window.ask_sign()


def _read_follow_up(
    qtbot: QtBot, window: MainWindow, subject: dict[str, Any], index: int
) -> str:
    window.set_current_timepoint(index)
    view = window.current_view
    _wait_loaded(qtbot, view)
    label = view.series.timepoint_label if view.series else ""
    for number, lesion in enumerate(subject["lesions"]):
        _record_lesion(window, view, lesion, label, manual=number == 0)
    return label


def _record_lesion(
    window: MainWindow,
    view: TimepointView,
    lesion: dict[str, Any],
    label: str,
    *,
    manual: bool,
) -> None:
    lesion_tp = _lesion_at(lesion, label)
    status = lesion_tp["status"]
    if lesion["type"] == "new":
        _record_new_lesion(window, lesion, status)
        return
    window.select_lesion(lesion["lesion_id"])
    if status == "measured":
        _measure_target(window, view, lesion_tp, manual=manual)
    else:
        window.set_status(status)


def _record_new_lesion(window: MainWindow, lesion: dict[str, Any], status: str) -> None:
    if status == "not_present":
        return
    assert window.session is not None
    known = {x.lesion_id for x in window.session.read.lesions}
    if lesion["lesion_id"] not in known:
        answer_next_dialog(
            fill_lesion_dialog(
                Organ.LIVER, f"segment {lesion['segment']}", NewLesionStatus(status)
            )
        )
        window.ask_add_lesion()
    window.select_lesion(lesion["lesion_id"])
    window.set_status(status)


def _exported_rows(window: MainWindow, folder: Path) -> list[dict[str, str]]:
    folder.mkdir()
    _, responses = window.export_to(folder)
    with responses.open(newline="", encoding="utf-8") as stream:
        return list(csv.DictReader(stream))


def _expected(subject: dict[str, Any], label: str) -> dict[str, Any]:
    found: dict[str, Any] = next(
        tp for tp in subject["expected"]["timepoints"] if tp["timepoint"] == label
    )
    return found


def test_whole_read_of_every_sample_subject_exports_the_expected_responses(
    qtbot: QtBot, window: MainWindow, truth: dict[str, Any], tmp_path: Path
) -> None:
    window.open_path(SAMPLE)
    qtbot.waitUntil(lambda: window.session is not None, timeout=20000)
    save_screenshot(window, "worklist")
    by_id = {entry.subject_id: entry for entry in window.subjects}
    for subject in truth["subjects"]:
        entry = by_id[subject["subject_id"]]
        if window.subject is not entry:
            window.open_subject(entry)
        qtbot.waitUntil(
            lambda e=entry: (
                window.session is not None
                and window.session.read.key.subject_id == e.subject_id
            ),
            timeout=20000,
        )
        _read_baseline(qtbot, window, subject)
        if subject["subject_id"] == "S01":
            save_screenshot(window, "baseline_reading")
        for index in range(1, len(entry.timepoints)):
            _read_follow_up(qtbot, window, subject, index)
            _sign(window)
            if subject["subject_id"] == "S01" and index == 1:
                QApplication.processEvents()
                save_screenshot(window, "follow_up_side_by_side")
                save_screenshot(window.response_panel, "response_panel")
        rows = _exported_rows(window, tmp_path / subject["subject_id"])
        for row in rows:
            expected = _expected(subject, row["timepoint"])
            assert row["read_status"] == "signed"
            assert row["scan_date"] == ""
            assert float(row["target_sum_mm"]) == pytest.approx(
                expected["target_sum_mm"], abs=1.5
            )
            for field in RESPONSE_FIELDS:
                assert row[field] == (expected.get(field) or ""), (
                    subject["subject_id"],
                    row["timepoint"],
                    field,
                )
        assert (
            rows[-1]["best_response_to_date"]
            == (subject["expected"]["best_overall_response"])
        )


def test_the_worklist_shows_how_far_every_subject_was_read_after_a_restart(
    qtbot: QtBot, window: MainWindow, tmp_path: Path
) -> None:
    if not SAMPLE.is_dir():
        pytest.skip("sample_dicom has not been generated (make sample)")
    window.open_path(SAMPLE)
    qtbot.waitUntil(lambda: window.session is not None, timeout=20000)
    s02 = next(entry for entry in window.subjects if entry.subject_id == "S02")
    window.open_subject(s02)
    qtbot.waitUntil(
        lambda: (
            window.session is not None and window.session.read.key.subject_id == "S02"
        ),
        timeout=20000,
    )
    assert window.session is not None
    window.session.add_non_target(Organ.LIVER, "segment IV")
    window.shutdown()

    again = central_read_window(
        qtbot, tmp_path / "reads.db", reader_id="R07", size=(1600, 950)
    )
    again.open_path(SAMPLE)  # opens S01, the first subject
    qtbot.waitUntil(lambda: again.session is not None, timeout=20000)
    assert again.browser.status_of("S02", 0) == "draft"
    assert again.browser.status_of("S02", 1) == "not started"
    again.shutdown()


def test_a_click_on_necrosis_says_it_does_not_enhance_and_suggests_no_caliper(
    qtbot: QtBot, window: MainWindow
) -> None:
    if not SAMPLE.is_dir():
        pytest.skip("sample_dicom has not been generated (make sample)")
    window.open_path(SAMPLE)  # S01: its T1 at FU2 is a necrotic remnant (a CR)
    qtbot.waitUntil(lambda: window.session is not None, timeout=20000)
    window.set_current_timepoint(2)
    view = window.current_view
    _wait_loaded(qtbot, view)
    view.viewer.point_clicked.emit(_to_index(view, [-56.0, -27.0, -70.0]))
    message = window.statusBar().currentMessage()
    assert "does not enhance more than its surroundings" in message
    assert "caliper" not in message
