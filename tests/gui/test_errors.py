"""Errors reach the reader as dialogs, never as tracebacks."""

import sys

import pytest
from PySide6.QtWidgets import QMessageBox, QWidget
from pytestqt.qtbot import QtBot

from mrecist_reader.core.errors import RuleViolation
from mrecist_reader.ui import errors
from tests.gui.helpers import answer_next_dialog

REAL_SHOW_MESSAGE = errors.show_message  # before the recording fixture replaces it


def test_expected_error_becomes_a_warning_with_its_message(
    error_messages: list[tuple[str, str, bool]],
) -> None:
    with errors.error_boundary(None, "Designate target"):
        raise RuleViolation("T1 is 24.0 mm; targets must be 30.0-100.0 mm")
    assert error_messages == [
        ("Designate target", "T1 is 24.0 mm; targets must be 30.0-100.0 mm", False)
    ]


def test_unexpected_error_is_logged_and_shown_as_critical(
    error_messages: list[tuple[str, str, bool]], caplog: pytest.LogCaptureFixture
) -> None:
    with errors.error_boundary(None, "Export"):
        raise ZeroDivisionError("division by zero")
    title, text, critical = error_messages.pop()
    assert (title, critical) == ("Export", True)
    assert "division by zero" in text
    assert "Traceback" in caplog.text or caplog.records[-1].exc_info is not None


def test_boundary_works_as_a_decorator(
    error_messages: list[tuple[str, str, bool]],
) -> None:
    @errors.error_boundary(None, "Open")
    def open_missing() -> None:
        raise FileNotFoundError("/data/study does not exist")

    open_missing()
    assert error_messages[0][0] == "Open"
    assert "/data/study does not exist" in error_messages[0][1]


def test_excepthook_shows_escaped_exceptions(
    monkeypatch: pytest.MonkeyPatch, error_messages: list[tuple[str, str, bool]]
) -> None:
    monkeypatch.setattr(sys, "excepthook", sys.excepthook)
    errors.install_excepthook()
    try:
        raise KeyError("lesion")
    except KeyError as error:
        sys.excepthook(KeyError, error, error.__traceback__)
    assert error_messages.pop()[2] is True


def test_message_box_shows_the_text(qtbot: QtBot) -> None:
    seen: list[str] = []

    def close(widget: QWidget) -> None:
        assert isinstance(widget, QMessageBox)
        seen.append(widget.text())
        widget.accept()

    answer_next_dialog(close)
    REAL_SHOW_MESSAGE(None, "Sign FU1", "T2 has no value at FU1")
    assert seen == ["T2 has no value at FU1"]


def test_an_error_in_a_desk_callback_shows_its_own_message_not_psygnals_chain(
    error_messages: list[tuple[str, str, bool]],
) -> None:
    from psygnal import Signal

    class Desk:
        changed = Signal()

    desk = Desk()

    def refuse() -> None:
        raise RuleViolation("timepoint FU1 is signed; amend it with a reason first")

    desk.changed.connect(refuse)
    with errors.error_boundary(None, "Open"):
        desk.changed.emit()
    assert error_messages == [
        ("Open", "timepoint FU1 is signed; amend it with a reason first", False)
    ]
