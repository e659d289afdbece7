"""Wiring: the window's start-up verification runs on a worker thread (issue 21 item 1).

The rules (read-only until verified, writable once verified, read-only with the
reason when it fails) are tested without Qt in tests/desk/test_verification_on_opening.py;
here only that the worker reports to the desk and the window shows the outcome.
"""

from pathlib import Path

from pytestqt.qtbot import QtBot

from mrecist_reader.ui.startup import verify_in_background
from tests.gui import dicom_study
from tests.gui.helpers import wait_until_ready
from tests.gui.test_database_on_screen import _read_once, _tamper, _window


def test_a_tampered_database_verified_in_the_background_shows_the_dialog(
    qtbot: QtBot, tmp_path: Path
) -> None:
    study = dicom_study.write_study(tmp_path / "study", {"BASELINE": 10.0})
    _read_once(qtbot, tmp_path, study)
    _tamper(tmp_path)
    main = _window(qtbot, tmp_path)
    try:
        verify_in_background(main)
        assert main.desk.is_verifying
        qtbot.waitUntil(lambda: main.integrity_dialog is not None, timeout=20000)
        assert not main.desk.is_verifying
        assert main.desk.is_read_only
        assert "read-only: fails verification" in main.windowTitle()
        box = main.integrity_dialog
        assert box is not None
        box.accept()
    finally:
        main.shutdown()


def test_a_database_verified_in_the_background_opens_its_read_writable(
    qtbot: QtBot, tmp_path: Path
) -> None:
    study = dicom_study.write_study(tmp_path / "study", {"BASELINE": 10.0})
    _read_once(qtbot, tmp_path, study)
    main = _window(qtbot, tmp_path)
    try:
        verify_in_background(main)
        main.open_path(study)
        wait_until_ready(qtbot, main)
        qtbot.waitUntil(lambda: not main.desk.is_verifying, timeout=20000)
        qtbot.waitUntil(
            lambda: main.session is not None and not main.session.read_only,
            timeout=20000,
        )
        assert main.integrity_dialog is None
        assert not main.desk.is_read_only
    finally:
        main.shutdown()
