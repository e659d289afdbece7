"""Wiring of the series shown while it arrives from the archive (offscreen).

The archive here is sample_dicom/S01 held back after a few images of the arterial
series (what a slow archive does); the rules themselves are tested without Qt in
tests/desk/test_archive_arrival.py.
"""

import threading
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pydicom
import pytest
from pytestqt.qtbot import QtBot

from mrecist_reader.archive.records import InstanceRecord, SeriesRecord
from mrecist_reader.archive.store import LocalStore
from mrecist_reader.desk.archive_arrival import decode_arrived
from mrecist_reader.desk.archive_browser import ArchiveBrowser
from mrecist_reader.ui.archive_dialog import ArchiveDialog, connect_arrival
from mrecist_reader.ui.main_window import MainWindow
from tests.gui.helpers import central_read_window
from tests.gui.test_archive_dialog import FolderArchive

HELD_AFTER = 3


class HeldArchive(FolderArchive):
    """Sends a few images, then waits for ``release`` (a slow archive)."""

    def __init__(self) -> None:
        super().__init__()
        self.release = threading.Event()
        self.sent = 0
        self.descriptions = {
            record.series_uid: str(
                pydicom.dcmread(path, stop_before_pixels=True).get(
                    "SeriesDescription", ""
                )
            )
            for record, path in self.files.values()
        }

    def find_series(
        self, study_uid: str, modality: str | None = None
    ) -> list[SeriesRecord]:
        return [
            SeriesRecord(
                s.study_uid, s.series_uid, "CT", self.descriptions[s.series_uid]
            )
            for s in super().find_series(study_uid, modality)
        ]

    def retrieve(
        self, wanted: list[InstanceRecord], store: LocalStore, *, method: str = "auto"
    ) -> None:
        for record in sorted(wanted, key=lambda r: self.files[r.sop_uid][1].name):
            if self.sent == HELD_AFTER:
                assert self.release.wait(60), "the test never released the archive"
            self.sent += 1
            super().retrieve([record], store)


@pytest.fixture
def window(
    qtbot: QtBot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[MainWindow]:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    main = central_read_window(
        qtbot, tmp_path / "r.db", reader_id="R1", size=(1600, 900)
    )
    yield main
    main.shutdown()


@pytest.fixture
def archive() -> Iterator[HeldArchive]:
    held = HeldArchive()
    yield held
    held.release.set()  # a failed test leaves no retrieval waiting


def retrieving(
    qtbot: QtBot, window: MainWindow, archive: HeldArchive, cache: Path
) -> ArchiveDialog:
    """Start retrieving S01's baseline; return once the held images are shown."""
    dialog = ArchiveDialog(window, ArchiveBrowser(archive, cache, blinded=True))
    qtbot.addWidget(dialog)
    connect_arrival(dialog, window.arrival)
    dialog.first_series.connect(window.open_path)
    dialog.opened.connect(window.open_path)
    dialog.show()
    dialog.subject.setText("S01")
    dialog.search_button.click()
    qtbot.waitUntil(lambda: dialog.results.rowCount() == 3, timeout=10000)
    dialog.results.selectRow(0)  # BASELINE: arterial and portal series
    dialog.retrieve_button.click()
    qtbot.waitUntil(
        lambda: (
            window.arrival.pane is not None
            and window.arrival.pane.viewer.stack is not None
            and window.arrival.pane.viewer.stack.shape[0] == HELD_AFTER
        ),
        timeout=20000,
    )
    return dialog


def test_the_arriving_series_is_shown_refused_then_replaced_by_the_full_one(
    qtbot: QtBot, window: MainWindow, archive: HeldArchive, tmp_path: Path
) -> None:
    panes = window.centralWidget()
    dialog = retrieving(qtbot, window, archive, tmp_path / "cache")
    pane = window.arrival.pane
    assert pane is not None
    assert pane.isVisible()  # in the panes' place
    assert not window.baseline_view.viewer.isVisible()
    assert pane.viewer.stack is not None
    assert "arriving: 3 of 25 images" in pane.viewer.top_left.text()  # not cut
    assert pane.viewer.stack.caption.splitlines() == [
        "S01",  # (this archive names no timepoint)
        "CT arterial",  # blinded: no description
        "arriving: 3 of 25 images",
        "\u2014 measuring waits for the whole series",
    ]
    arriving = window.arrival.preview.arriving
    assert arriving is not None
    # blinded: nothing of the files' identity, dates, description or place shows
    shown_texts = "\n".join(window.visible_texts())
    for hidden in ("SAMPLE", "MRN", "2025", "1958", "Hospital", "LIVER", "cache"):
        assert hidden not in shown_texts
    shown = pane.viewer.current_image
    assert shown is not None
    np.testing.assert_array_equal(shown, decode_arrived(arriving.files[0]).array)
    assert dialog.progress.value() == HELD_AFTER  # one step per image
    assert "Slice 1 / 3" in pane.viewer.bottom_left.text()  # the first arrived
    pane.viewer.go_to_image(3)  # the reader scrolls through what arrived
    np.testing.assert_array_equal(
        pane.viewer.current_image, decode_arrived(arriving.files[2]).array
    )
    position = pane.viewer.slice_position_mm()  # that image's own place

    window._actions["measure"].trigger()
    assert not window._actions["measure"].isChecked()
    assert "waits for the whole series" in window.statusBar().currentMessage()
    pane.viewer.set_measure_mode(True)  # M on the preview itself
    assert not pane.viewer.measure_mode
    pane.viewer.roi_button.click()
    assert not pane.viewer.roi_mode
    assert "measuring waits" in pane.viewer.tool_bar.text
    window.statusBar().clearMessage()
    window.ask_sign()
    assert window.statusBar().currentMessage().startswith("Signing the timepoint")
    assert not window._actions["addLesion"].isEnabled()

    with qtbot.waitSignal(dialog.opened, timeout=30000):
        archive.release.set()
    assert window.arrival.pane is None
    assert window.centralWidget() is panes
    assert window.baseline_view.viewer.isVisible()
    assert window._actions["addLesion"].isEnabled()
    looked_at = arriving.files[2].stem
    view = window.baseline_view
    qtbot.waitUntil(lambda: view.volume is not None, timeout=20000)
    assert view.series is not None
    assert view.series.series_instance_uid == arriving.series.series_uid
    image = view.series.sop_instance_uids.index(looked_at)
    assert view.viewer.slice_index == view.series.volume_slice_of_image[image]
    assert view.viewer.slice_position_mm() == pytest.approx(position, abs=0.01)
    window._actions["measure"].trigger()  # the full series: measuring works
    assert window._actions["measure"].isChecked()


def test_cancel_within_the_series_brings_the_panes_back(
    qtbot: QtBot, window: MainWindow, archive: HeldArchive, tmp_path: Path
) -> None:
    dialog = retrieving(qtbot, window, archive, tmp_path / "cache")
    dialog.cancel_button.click()
    with qtbot.waitSignal(dialog.stopped, timeout=30000):
        archive.release.set()
    assert window.arrival.pane is None
    assert window.baseline_view.viewer.isVisible()
    message = window.statusBar().currentMessage()
    assert message.startswith("Retrieval stopped: pull cancelled")
    kept = list((tmp_path / "cache").rglob("*.dcm"))
    assert HELD_AFTER <= len(kept) < 25  # stopped within the series; kept whole
    assert not dialog.progress.isVisible()


def test_a_second_hand_over_keeps_the_image_the_first_one_kept(
    qtbot: QtBot, window: MainWindow, archive: HeldArchive, tmp_path: Path
) -> None:
    """The early opening hands over, then the retrieval's end again (both signals)."""
    dialog = retrieving(qtbot, window, archive, tmp_path / "cache")
    pane = window.arrival.pane
    arriving = window.arrival.preview.arriving
    assert pane is not None
    assert arriving is not None
    pane.viewer.go_to_image(3)
    window.arrival.hand_over()  # as dialog.first_series does
    window.arrival.hand_over()  # the retrieval's end, before that folder has opened
    with qtbot.waitSignal(dialog.opened, timeout=30000):
        archive.release.set()
    view = window.baseline_view
    qtbot.waitUntil(lambda: view.volume is not None, timeout=20000)
    assert view.series is not None
    image = view.series.sop_instance_uids.index(arriving.files[2].stem)
    assert view.viewer.slice_index == view.series.volume_slice_of_image[image]
