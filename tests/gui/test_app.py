"""Starting the application: display check, first start, ready to read."""

import sys
from pathlib import Path

import pytest
from PySide6.QtWidgets import QApplication, QWidget
from pytestqt.qtbot import QtBot

from mrecist_reader import cli
from mrecist_reader.core.model import ReadType
from mrecist_reader.settings import load_settings, load_user_settings
from mrecist_reader.ui import startup
from mrecist_reader.ui.app import NO_DISPLAY_MESSAGE, display_problem, run_gui
from mrecist_reader.ui.dialogs import ReaderIdentityDialog
from mrecist_reader.ui.main_window import MainWindow
from tests.gui.helpers import answer_next_dialog

SAMPLE = Path(__file__).resolve().parents[2] / "sample_dicom"


def test_linux_without_any_display_is_refused() -> None:
    assert display_problem({}, "linux") == NO_DISPLAY_MESSAGE


@pytest.mark.parametrize(
    "env",
    [{"DISPLAY": ":0"}, {"WAYLAND_DISPLAY": "wayland-0"}, {"QT_QPA_PLATFORM": "xcb"}],
)
def test_a_display_or_a_chosen_platform_is_enough(env: dict[str, str]) -> None:
    assert display_problem(env, "linux") is None


def test_windows_always_has_a_display() -> None:
    assert display_problem({}, "win32") is None


def test_bare_command_without_display_explains_and_exits_2(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for name in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(sys, "platform", "linux")
    assert cli.main(["sample_dicom", "--protocol", "nct06779461"]) == 2
    error = capsys.readouterr().err
    assert "no display" in error
    assert "xvfb-run make run" in error
    assert "Traceback" not in error


def test_run_gui_without_display_returns_2(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(sys, "platform", "linux")
    assert run_gui(None, db_url=None, protocol=None) == 2


def test_first_start_asks_the_reader_and_remembers_it(qtbot: QtBot) -> None:
    def answer(widget: QWidget) -> None:
        assert isinstance(widget, ReaderIdentityDialog)
        widget.reader_edit.setText("R12")
        widget.local.setChecked(True)
        widget.accept()

    settings = load_settings({}, None)
    answer_next_dialog(answer)
    ready = startup.ensure_reader(settings)
    assert ready is not None
    assert (ready.reader_id, ready.read_type) == ("R12", ReadType.LOCAL)
    remembered = load_user_settings()
    assert (remembered.reader_id, remembered.read_type) == ("R12", ReadType.LOCAL)


def test_known_reader_is_not_asked_again(qtbot: QtBot) -> None:
    settings = load_settings({"MRECIST_READER_READER_ID": "R03"}, None)
    assert startup.ensure_reader(settings) is settings


def test_command_line_overrides_database_and_profile() -> None:
    settings = startup.effective_settings(
        load_settings({}, None), db_url="sqlite:///x.db", protocol="mrecist"
    )
    assert (settings.db_url, settings.protocol_profile) == ("sqlite:///x.db", "mrecist")


@pytest.mark.slow
def test_start_opens_sample_dicom_ready_to_read(
    qtbot: QtBot,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    if not SAMPLE.is_dir():
        pytest.skip("sample_dicom has not been generated")
    monkeypatch.setenv("MRECIST_READER_READER_ID", "R01")
    monkeypatch.setenv(startup.BENCHMARK_ENV, "1")
    monkeypatch.setattr(sys, "excepthook", sys.excepthook)
    code = startup.start_application(
        str(SAMPLE), db_url=f"sqlite:///{tmp_path / 'r.db'}", protocol="nct06779461"
    )
    assert code == 0
    assert "FIRST_IMAGE" in capsys.readouterr().out
    # the window is gone when the reader quits, not left to the garbage collector
    assert not [w for w in QApplication.topLevelWidgets() if isinstance(w, MainWindow)]
