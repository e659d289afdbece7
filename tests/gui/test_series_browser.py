"""The worklist: subjects -> timepoints -> series, arterial first, read status."""

from dataclasses import replace

from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from mrecist_reader.core.model import ReadStatus
from mrecist_reader.imaging.volume import PatientIdentity, Phase
from mrecist_reader.imaging.worklist import build_worklist
from mrecist_reader.ui.series_browser import SeriesBrowser
from tests.gui.conftest import make_series

IDENTITY = PatientIdentity("Roe^Richard", "MRN-4455", "19500101", "Mercy Clinic")


def _browser(qtbot: QtBot) -> SeriesBrowser:
    series = [
        replace(
            make_series(
                uid="1.1",
                timepoint_label="BASELINE",
                phase=Phase.PORTAL_VENOUS,
                description="PV 70s",
            ),
            identity=IDENTITY,
        ),
        replace(
            make_series(uid="1.2", timepoint_label="BASELINE", description="ART 35s"),
            identity=IDENTITY,
            warnings=("missing slices between 12 and 14",),
        ),
        replace(
            make_series(uid="2.1", timepoint_label="FU1", description="ART 35s"),
            identity=IDENTITY,
        ),
    ]
    browser = SeriesBrowser()
    qtbot.addWidget(browser)
    browser.set_worklist(build_worklist(series))
    return browser


def test_arterial_series_is_preselected(qtbot: QtBot) -> None:
    browser = _browser(qtbot)
    chosen = browser.chosen_series("S01", 0)
    assert chosen is not None
    assert chosen.series_instance_uid == "1.2"
    assert browser.currentItem().text(0) == "ART 35s (arterial)"


def test_series_show_phase_image_count_and_warnings(qtbot: QtBot) -> None:
    texts = _browser(qtbot).all_texts()
    assert "PV 70s (portal venous)" in texts
    assert any("24 images" in t and "missing slices" in t for t in texts)


def test_every_series_shows_its_whole_name_on_hover(qtbot: QtBot) -> None:
    texts = _browser(qtbot).all_texts()
    tips = [t for t in texts if "\n" in t]  # names are one line, tooltips several
    assert any(t.startswith("PV 70s (portal venous)\n") for t in tips)
    assert any(t.startswith("ART 35s (arterial)\n") and "24 images" in t for t in tips)


def test_timepoints_show_read_status(qtbot: QtBot) -> None:
    browser = _browser(qtbot)
    assert browser.status_of("S01", 1) == "not started"
    browser.set_read_statuses("S01", {0: ReadStatus.SIGNED, 1: ReadStatus.DRAFT})
    assert browser.status_of("S01", 0) == "signed"
    assert browser.status_of("S01", 1) == "draft"


def test_choosing_a_timepoint_opens_its_arterial_series(qtbot: QtBot) -> None:
    browser = _browser(qtbot)
    with qtbot.waitSignal(browser.series_chosen) as blocker:
        browser.choose("S01", 1)
    assert blocker.args[:2] == ["S01", 1]
    assert blocker.args[2].series_instance_uid == "2.1"


def test_worklist_never_shows_patient_identity(qtbot: QtBot) -> None:
    shown = "\n".join(_browser(qtbot).all_texts())
    for value in ("Roe", "MRN-4455", "19500101", "Mercy Clinic"):
        assert value not in shown


def test_status_column_stays_in_view_in_a_narrow_worklist(qtbot: QtBot) -> None:
    browser = SeriesBrowser()
    qtbot.addWidget(browser)
    browser.set_worklist(
        build_worklist([make_series(description="LIVER 3PH ARTERIAL")])
    )
    browser.resize(170, 300)
    browser.show()
    header = browser.header()
    assert (
        header.sectionPosition(1) + header.sectionSize(1) <= browser.viewport().width()
    )
    assert header.sectionSize(1) >= browser.fontMetrics().horizontalAdvance(
        "not started"
    )


def test_a_single_click_on_a_timepoint_opens_it(qtbot: QtBot) -> None:
    browser = _browser(qtbot)
    browser.resize(500, 300)
    browser.show()
    qtbot.waitExposed(browser)
    subject = browser.topLevelItem(0)
    follow_up = next(
        subject.child(i)
        for i in range(subject.childCount())
        if subject.child(i).text(0).startswith("FU1")
    )
    browser.expandAll()
    browser.scrollToItem(follow_up)
    centre = browser.visualItemRect(follow_up).center()
    with qtbot.waitSignal(browser.timepoint_chosen) as blocker:
        qtbot.mouseClick(browser.viewport(), Qt.MouseButton.LeftButton, pos=centre)
    assert blocker.args == ["S01", 1]
