"""The adjudication window is wired to the desk (GUI wiring only; rules: desk tests)."""

from types import SimpleNamespace

import pytest
from psygnal import Signal
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QWidget

from mrecist_reader.core.adjudication import AdjudicationRefused, CutStatus
from mrecist_reader.desk.adjudication import AdjudicationDesk
from mrecist_reader.ui import errors
from mrecist_reader.ui.adjudication_view import (
    DISCORDANT,
    AdjudicationView,
    open_adjudication,
)
from tests.central_review.test_adjudication_desk import repository  # noqa: F401


class WorklistSignal:
    """The reading desk's worklist_changed, alone (what the menu's window offers)."""

    changed = Signal(object)


@pytest.fixture
def view(qtbot, repository):  # noqa: F811
    shown = AdjudicationView(AdjudicationDesk(repository, "A01"))
    qtbot.addWidget(shown)
    return shown


def test_the_queue_lists_the_subject_and_clicking_it_opens_both_reads(view):
    assert view.queue_list.rowCount() == 1
    item = view.queue_list.item(0, 0)
    assert item.text() == "S01 — FU1"
    view.queue_list.itemClicked.emit(item)
    assert view.desk.screen is not None
    one, two = view.sides
    assert (one.title.text(), two.title.text()) == ("Reader 1 (R01)", "Reader 2 (R02)")
    assert two.timeline.item(1, 7).text() == "SD"
    assert two.timeline.item(1, 0).background().color() == DISCORDANT
    assert two.timeline.item(0, 0).background().color() != DISCORDANT
    assert "FU1: reader 1 PR, reader 2 SD" in view.discordance.text()
    assert view.sign.isEnabled()


def test_sign_decision_records_the_chosen_reader_through_the_desk(view, repository):  # noqa: F811
    view.queue_list.itemClicked.emit(view.queue_list.item(0, 0))
    view.choice.setCurrentIndex(1)  # reader 2
    view.reason.setCurrentIndex(view.reason.findData("measurement"))
    view.rationale.setPlainText("T1 is 45 mm on the portal phase")
    view.sign.click()
    case = repository.adjudication_cases()[0]
    assert case.subject_id == "S01"
    assert (case.status, case.chosen_reader) == (CutStatus.ADJUDICATED, "R02")
    assert view.queue_list.item(0, 0).text() == "No subject awaits your decision."
    assert not view.sign.isEnabled()


def test_an_empty_rationale_is_shown_as_a_warning_and_nothing_recorded(
    view,
    repository,  # noqa: F811
    monkeypatch,
):
    shown: list[str] = []
    monkeypatch.setattr(
        errors, "show_message", lambda _p, _t, text, **_k: shown.append(text)
    )
    view.queue_list.itemClicked.emit(view.queue_list.item(0, 0))
    view.sign.click()
    assert shown
    assert "rationale is empty" in shown[0]
    assert repository.adjudication_cases()[0].status is CutStatus.AWAITING


def test_read_adjudicate_opens_the_window_of_the_reader_at_the_desk(
    qtbot,
    repository,  # noqa: F811
):
    desk = SimpleNamespace(
        repository=lambda: repository,
        context=SimpleNamespace(reader_id="A01"),
        worklist_changed=WorklistSignal().changed,
    )
    window = QWidget()
    qtbot.addWidget(window)
    window.desk = desk  # type: ignore[attr-defined]  # what the menu passes
    opened = open_adjudication(window)  # type: ignore[arg-type]
    assert opened.desk.adjudicator == "A01"
    assert opened.windowFlags() & Qt.WindowType.Window
    assert opened.queue_list.rowCount() == 1


def test_reader_2_opening_the_adjudication_window_sees_nothing_of_reader_1(
    qtbot,
    repository,  # noqa: F811
):
    from tests.central_review.reads import secret
    from tests.gui.helpers import all_texts

    adjudicator = AdjudicationView(AdjudicationDesk(repository, "A01"))
    qtbot.addWidget(adjudicator)
    adjudicator.queue_list.itemClicked.emit(adjudicator.queue_list.item(0, 0))
    assert secret("R01") in " ".join(all_texts(adjudicator))  # the search can fail
    reader_2 = AdjudicationView(AdjudicationDesk(repository, "R02"))
    qtbot.addWidget(reader_2)
    for subject in ("S01", "S02", "S03"):
        reader_2.desk.screen = None
        with pytest.raises(AdjudicationRefused):
            reader_2.desk.open(subject)
    shown = " ".join(all_texts(reader_2))
    assert secret("R01") not in shown
    assert "R01" not in shown
    assert reader_2.queue_list.item(0, 0).text() == "No subject awaits your decision."
