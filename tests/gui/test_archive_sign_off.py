"""Wiring: signing a timepoint in the window queues its SR for the configured archive."""

from collections.abc import Iterator
from pathlib import Path

import pydicom
import pytest
from pytestqt.qtbot import QtBot

from mrecist_reader.archive.sr import read_report
from mrecist_reader.core.model import ReadStatus
from mrecist_reader.ui.main_window import MainWindow
from tests.gui import dicom_study
from tests.gui.helpers import (
    answer_next_dialog,
    central_read_window,
    click_button,
    fill_lesion_dialog,
    wait_until_ready,
)
from tests.gui.test_main_window import _centre_row_caliper


@pytest.fixture(scope="module")
def study(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("study")
    return dicom_study.write_study(root / "study", {"BASELINE": 20.0, "FU1": 12.0})


@pytest.fixture
def window(
    qtbot: QtBot, tmp_path: Path, study: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[MainWindow]:
    """Return a window whose settings name an archive that is down (port 9)."""
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    config = tmp_path / "config" / "mrecist_reader"
    config.mkdir(parents=True)
    (config / "archive.toml").write_text(
        '[node]\ndicomweb = "http://127.0.0.1:9/dicom-web"\n', encoding="utf-8"
    )
    main = central_read_window(
        qtbot, tmp_path / "reads.db", reader_id="R01", size=(1200, 800)
    )
    main.open_path(study)
    wait_until_ready(qtbot, main)
    yield main
    main.shutdown()


def test_signing_queues_the_sr_and_the_status_bar_says_the_archive_is_down(
    qtbot: QtBot, window: MainWindow, tmp_path: Path
) -> None:
    assert window.archive_status.archiver is not None
    places = tmp_path / "data" / "mrecist_reader" / "image_places.json"
    assert places.is_file()  # where the series were opened from, for export --sr
    answer_next_dialog(fill_lesion_dialog())
    _centre_row_caliper(window, half_px=25.0)
    answer_next_dialog(click_button("Sign BASELINE"))
    window._actions["sign"].trigger()
    assert window.session is not None
    assert window.session.read.timepoints[0].read_status is ReadStatus.SIGNED
    pending = tmp_path / "data" / "mrecist_reader" / "outbox" / "pending"
    qtbot.waitUntil(lambda: any(pending.glob("*.dcm")), timeout=30000)
    qtbot.waitUntil(
        lambda: "waiting for the archive" in window.statusBar().currentMessage(),
        timeout=30000,
    )
    (queued,) = pending.glob("*.dcm")
    (t1,) = read_report(pydicom.dcmread(queued))
    assert t1.lesion_id == "T1"
    assert dicom_study.PATIENT_NAME not in queued.read_bytes().decode("latin-1")
