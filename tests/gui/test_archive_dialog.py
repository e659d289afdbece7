"""Wiring of File > Open from archive...: search, retrieve with progress, open the folder."""

from collections.abc import Iterator
from pathlib import Path

import pydicom
import pytest
from PySide6.QtWidgets import QFileDialog
from pytestqt.qtbot import QtBot

from mrecist_reader.archive.config import read_archive_config
from mrecist_reader.archive.records import (
    InstanceRecord,
    SeriesRecord,
    StudyQuery,
    StudyRecord,
)
from mrecist_reader.archive.sr import measurement_report
from mrecist_reader.archive.store import LocalStore
from mrecist_reader.desk.archive_browser import ArchiveBrowser
from mrecist_reader.imaging.scan import scan
from mrecist_reader.imaging.volume import Phase
from mrecist_reader.ui.archive_dialog import ArchiveDialog
from mrecist_reader.ui.archive_settings_dialog import ArchiveSettingsDialog
from mrecist_reader.ui.main_window import MainWindow
from mrecist_reader.ui.sr_dialog import SRDialog
from tests.archive.orthanc import free_port
from tests.archive.test_sr import IMAGES, sample_read
from tests.conftest import SAMPLE_DICOM
from tests.gui.helpers import central_read_window


class FolderArchive:
    """An archive over sample_dicom/S01 (what Orthanc would announce and send)."""

    def __init__(self) -> None:
        self.files: dict[str, tuple[InstanceRecord, Path]] = {}
        self.queries: list[StudyQuery] = []
        for path in sorted((SAMPLE_DICOM / "S01").rglob("*.dcm")):
            ds = pydicom.dcmread(path, stop_before_pixels=True)
            if ds.get("SOPInstanceUID"):
                record = InstanceRecord(
                    ds.StudyInstanceUID, ds.SeriesInstanceUID, ds.SOPInstanceUID
                )
                self.files[ds.SOPInstanceUID] = (record, path)

    def check(self) -> str:
        return "answered"

    def find_studies(self, query: StudyQuery) -> list[StudyRecord]:
        self.queries.append(query)
        studies = {r.study_uid for r, _ in self.files.values()}
        if query.study_uid:
            studies &= {query.study_uid}
        if query.subject_id not in (None, "S01"):
            return []
        return [StudyRecord(uid, "S01", "20260203", ("CT",)) for uid in sorted(studies)]

    def find_series(
        self, study_uid: str, modality: str | None = None
    ) -> list[SeriesRecord]:
        series = {
            r.series_uid for r, _ in self.files.values() if r.study_uid == study_uid
        }
        return [SeriesRecord(study_uid, uid, "CT") for uid in sorted(series)]

    def find_instances(self, series: SeriesRecord) -> list[InstanceRecord]:
        return [r for r, _ in self.files.values() if r.series_uid == series.series_uid]

    def retrieve(
        self, wanted: list[InstanceRecord], store: LocalStore, *, method: str = "auto"
    ) -> None:
        for record in wanted:
            path = self.files[record.sop_uid][1]
            store.write(
                record.study_uid, record.series_uid, record.sop_uid, path.read_bytes()
            )


def test_search_retrieve_and_open(qtbot: QtBot, tmp_path: Path) -> None:
    dialog = ArchiveDialog(
        None, ArchiveBrowser(FolderArchive(), tmp_path, blinded=True)
    )
    qtbot.addWidget(dialog)
    dialog.show()
    assert "Study date" not in [
        dialog.results.horizontalHeaderItem(c).text()
        for c in range(dialog.results.columnCount())
    ]
    dialog.subject.setText("S01")
    dialog.search_button.click()
    qtbot.waitUntil(lambda: dialog.results.rowCount() == 3, timeout=10000)
    assert not dialog.retrieve_button.isEnabled()
    dialog.results.selectAll()
    assert dialog.retrieve_button.isEnabled()
    first: list[Path] = []
    dialog.first_series.connect(first.append)
    with qtbot.waitSignal(dialog.opened, timeout=30000) as opened:
        dialog.retrieve_button.click()
    assert opened.args == [tmp_path / "S01"]
    (shown,) = first  # the first study's arterial series, before the others
    (series,) = scan(shown, use_index=False).series
    assert series.phase is Phase.ARTERIAL
    assert len(series.files) == 25
    assert len(list((tmp_path / "S01").rglob("*.dcm"))) == len(FolderArchive().files)
    assert "images from the archive" in dialog.message.text()


@pytest.fixture
def window(
    qtbot: QtBot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[MainWindow]:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    config = tmp_path / "config" / "mrecist_reader"
    config.mkdir(parents=True)
    (config / "archive.toml").write_text(
        '[node]\ndicomweb = "http://127.0.0.1:9/dicom-web"\n'
        "[sign_off]\nsend_sr = false\n",
        encoding="utf-8",
    )
    main = central_read_window(
        qtbot, tmp_path / "r.db", reader_id="R1", size=(900, 600)
    )
    yield main
    main.shutdown()


def test_the_file_menu_opens_the_dialog_over_the_configured_archive(
    qtbot: QtBot, window: MainWindow
) -> None:
    window._actions["openArchive"].trigger()
    dialogs = window.findChildren(ArchiveDialog)
    assert len(dialogs) == 1
    assert dialogs[0].isVisible()
    dialogs[0].subject.setText("S01")
    dialogs[0].search_button.click()  # the archive is down: said, not raised
    qtbot.waitUntil(
        lambda: "cannot connect" in dialogs[0].message.text(), timeout=30000
    )
    dialogs[0].reject()


def test_archive_settings_are_tested_and_saved_from_the_file_menu(
    qtbot: QtBot, window: MainWindow, tmp_path: Path
) -> None:
    window._actions["archiveSettings"].trigger()
    (dialog,) = window.findChildren(ArchiveSettingsDialog)
    assert dialog.protocol.currentText() == "DICOMweb"  # read from archive.toml
    assert not dialog.send_sr.isChecked()
    dialog.protocol.setCurrentText("DIMSE")
    dialog.address.setText("ORTHANC@pacs")  # no port
    dialog.save()
    assert "AET@HOST:PORT" in dialog.message.text()
    assert dialog.isVisible()
    dialog.address.setText(f"ORTHANC@127.0.0.1:{free_port()}")
    dialog.test_button.click()
    qtbot.waitUntil(lambda: dialog.message.text().startswith("failed"), timeout=30000)
    dialog.save()
    assert not dialog.isVisible()
    saved = read_archive_config(tmp_path / "config" / "mrecist_reader")
    assert saved is not None
    assert str(saved.node).startswith("ORTHANC@127.0.0.1:")


def test_an_sr_opens_read_only_with_a_lesions_caliper_on_its_image(
    qtbot: QtBot, window: MainWindow, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    report = tmp_path / "sr.dcm"
    measurement_report(sample_read(), 0, IMAGES).save_as(
        report, enforce_file_format=True
    )
    monkeypatch.setattr(
        QFileDialog, "getOpenFileName", lambda *_args, **_kw: (str(report), "")
    )
    window._actions["openSr"].trigger()
    (dialog,) = window.findChildren(SRDialog)
    assert dialog.table.rowCount() == 3
    assert dialog.table.item(0, 0).text() == "T1"
    dialog.folders.append(SAMPLE_DICOM / "S01" / "BASELINE")
    dialog.table.selectRow(0)
    qtbot.waitUntil(lambda: dialog.image.image is not None, timeout=30000)
    xs, ys = dialog.caliper.getData()
    assert xs is not None
    assert ys is not None
    assert (float(xs[0]), float(ys[0])) == pytest.approx((29.75, 40.0), abs=0.01)
    dialog.close()


def test_study_dates_are_asked_in_a_local_read_only(
    qtbot: QtBot, tmp_path: Path
) -> None:
    blinded = ArchiveDialog(
        None, ArchiveBrowser(FolderArchive(), tmp_path, blinded=True)
    )
    qtbot.addWidget(blinded)
    blinded.show()
    assert not blinded.date_from.isVisible()
    assert not blinded.date_to.isVisible()
    archive = FolderArchive()
    local = ArchiveDialog(None, ArchiveBrowser(archive, tmp_path, blinded=False))
    qtbot.addWidget(local)
    local.show()
    assert local.date_from.isVisible()
    assert local.date_to.isVisible()
    local.date_from.setText("2026-02-30")
    local.search_button.click()
    qtbot.waitUntil(
        lambda: "study date from: '2026-02-30'" in local.message.text(), timeout=10000
    )
    local.date_from.setText("2026-02-01")
    local.search_button.click()
    qtbot.waitUntil(lambda: local.results.rowCount() == 3, timeout=10000)
    assert local.results.item(0, 2).text() == "2026-02-03"
    assert archive.queries[-1].date_range() == "20260201-"


class ReportArchive(FolderArchive):
    """The sample archive with one SR of subject S01 (series of modality SR)."""

    def __init__(self, report: Path) -> None:
        super().__init__()
        ds = pydicom.dcmread(report, stop_before_pixels=True)
        self.report = InstanceRecord(
            ds.StudyInstanceUID, ds.SeriesInstanceUID, ds.SOPInstanceUID, ds.SOPClassUID
        )
        self.files[self.report.sop_uid] = (self.report, report)

    def find_series(
        self, study_uid: str, modality: str | None = None
    ) -> list[SeriesRecord]:
        if modality != "SR":
            return super().find_series(study_uid, modality)
        if study_uid != self.report.study_uid:
            return []
        return [SeriesRecord(study_uid, self.report.series_uid, "SR", "mRECIST")]


def test_the_archives_srs_of_a_subject_open_read_only(
    qtbot: QtBot, tmp_path: Path
) -> None:
    report = tmp_path / "sr.dcm"
    measurement_report(sample_read(), 0, IMAGES).save_as(
        report, enforce_file_format=True
    )
    archive = ReportArchive(report)
    dialog = ArchiveDialog(
        None, ArchiveBrowser(archive, tmp_path / "cache", blinded=True)
    )
    qtbot.addWidget(dialog)
    dialog.show()
    dialog.subject.setText("S01")
    reports = dialog.show_reports()
    qtbot.addWidget(reports)
    qtbot.waitUntil(lambda: reports.results.rowCount() == 1, timeout=10000)
    assert reports.results.item(0, 2).text() == "mRECIST"
    assert reports.results.item(0, 3).text() == archive.report.sop_uid
    assert not reports.open_button.isEnabled()
    reports.results.selectRow(0)
    with qtbot.waitSignal(reports.shown, timeout=30000) as shown:
        reports.open_button.click()
    (sr,) = shown.args
    assert isinstance(sr, SRDialog)
    qtbot.addWidget(sr)
    assert sr.table.rowCount() == 3
    assert sr.table.item(0, 0).text() == "T1"
    assert list((tmp_path / "cache" / "reports").rglob("*.dcm")) == [sr.view.path]
