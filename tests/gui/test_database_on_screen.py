"""The window shows what the reads database holds (issue 21 items 1, 6, 9).

A subject known only by its PatientID is shown by the keyed pseudonym the database
stores, so its stored read status shows; a database changed outside the application
opens read-only with a dialog that lists why; File > Export writes audit_head.txt; a
central read removes its zip extraction when the window closes.
"""

import zipfile
from pathlib import Path

import pytest
from PySide6.QtWidgets import QWidget
from pytestqt.qtbot import QtBot
from sqlalchemy import create_engine, text

from mrecist_reader.core.integrity import AUDIT_HEAD_FILE
from mrecist_reader.core.model import Caliper, Organ, ReadType
from mrecist_reader.core.pseudonym import legacy_pseudonym
from mrecist_reader.desk.desk import DrawnCaliper, ReaderContext
from mrecist_reader.resources import load_profile
from mrecist_reader.ui.main_window import INTEGRITY_TITLE, MainWindow
from tests.gui import dicom_study
from tests.gui.helpers import (
    all_texts,
    wait_until_ready,
)
from tests.gui.shots import SCREENSHOTS
from tests.kit.dicom import SeriesSpec, rewrite, set_elements, write_series


def _study_without_trial_ids(root: Path) -> Path:
    """Write a two-timepoint study named only by its PatientID."""
    study = dicom_study.write_study(root / "study", {"BASELINE": 10.0, "FU1": 8.0})
    rewrite(
        study.rglob("*.dcm"), lambda dataset: delattr(dataset, "ClinicalTrialSubjectID")
    )
    return study


def _window(qtbot: QtBot, tmp_path: Path, **kwargs: object) -> MainWindow:
    context = ReaderContext(
        reader_id="R01",
        read_type=ReadType.CENTRAL,
        profile=load_profile("nct06779461"),
        db_url=f"sqlite:///{tmp_path / 'reads.db'}",
        data_dir=tmp_path / "data",
        **kwargs,  # type: ignore[arg-type]
    )
    main = MainWindow(context)
    qtbot.addWidget(main)
    main.resize(1400, 900)
    main.show()
    return main


def _record_t1(main: MainWindow) -> None:
    state = main.desk.open_series(0)
    assert state is not None
    x, y, z = dicom_study.lesion_centre_mm()
    drawn = DrawnCaliper(
        Caliper((x - 16, y, z), (x + 16, y, z)),
        subject_id=state.series.subject_id,
        timepoint_index=0,
        series_instance_uid=state.series.series_instance_uid,
        sop_instance_uid=state.series.sop_instance_uids[dicom_study.CENTRE],
    )
    main.desk.designate(drawn, Organ.LIVER, "segment VII")


def _read_once(qtbot: QtBot, tmp_path: Path, study: Path) -> str:
    """Open the study, record T1 at baseline, close; return the subject shown."""
    main = _window(qtbot, tmp_path)
    main.open_path(study)
    wait_until_ready(qtbot, main)
    _record_t1(main)
    assert main.subject is not None
    shown = main.subject.subject_id
    main.close()
    main.shutdown()
    return shown


def test_a_patient_id_subject_is_shown_keyed_and_its_stored_read_status_shows(
    qtbot: QtBot, tmp_path: Path
) -> None:
    study = _study_without_trial_ids(tmp_path)
    unkeyed = legacy_pseudonym(dicom_study.PATIENT_ID)
    shown = _read_once(qtbot, tmp_path, study)
    assert shown.startswith("patient-k")
    main = _window(qtbot, tmp_path)
    try:
        main.open_path(study)
        wait_until_ready(qtbot, main)
        assert main.session is not None
        assert main.session.read.key.subject_id == shown
        assert main.browser.status_of(shown, 0) == "draft"
        texts = [*main.visible_texts(), *all_texts(main)]
        assert not [t for t in texts if unkeyed in t], texts
        assert any(shown in t for t in texts)
    finally:
        main.shutdown()


def _save_with_title(widget: QWidget, name: str) -> None:
    """Save ``widget.grab()`` under a strip with its window title (offscreen: none)."""
    from PySide6.QtGui import QColor, QPainter, QPixmap

    shot = widget.grab()
    framed = QPixmap(shot.width(), shot.height() + 28)
    framed.fill(QColor("#3a3f44"))
    painter = QPainter(framed)
    painter.setPen(QColor("white"))
    painter.drawText(8, 19, widget.windowTitle())
    painter.drawPixmap(0, 28, shot)
    painter.end()
    SCREENSHOTS.mkdir(exist_ok=True)
    framed.save(str(SCREENSHOTS / f"{name}.png"))


def _tamper(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite:///{tmp_path / 'reads.db'}")
    with engine.begin() as connection:
        connection.execute(text("UPDATE observations SET diameter_tenths = 999"))
    engine.dispose()


def test_a_database_changed_outside_opens_read_only_with_every_problem_listed(
    qtbot: QtBot, tmp_path: Path, error_messages: list[tuple[str, str, bool]]
) -> None:
    study = dicom_study.write_study(tmp_path / "study", {"BASELINE": 10.0})
    _read_once(qtbot, tmp_path, study)
    _tamper(tmp_path)
    main = _window(qtbot, tmp_path)
    try:
        main.open_path(study)
        wait_until_ready(qtbot, main)
        qtbot.waitUntil(lambda: main.integrity_dialog is not None, timeout=5000)
        box = main.integrity_dialog
        assert box is not None
        assert box.windowTitle() == INTEGRITY_TITLE
        assert main.desk.integrity_problems
        for problem in main.desk.integrity_problems:
            assert problem in box.informativeText()
        assert "read-only: fails verification" in main.windowTitle()
        assert "read-only" in main.read_label.text()
        _save_with_title(main, "read_only_database_window")
        _save_with_title(box, "read_only_database_dialog")
        assert main.session is not None
        assert main.session.read.lesions  # the stored read is shown
        main.edit_location("T1", "segment VIII")
        assert any("read-only" in message for _t, message, _c in error_messages)
        assert main.session.read.lesions[0].location == "segment VII"
        box.accept()
    finally:
        main.shutdown()


def test_file_export_writes_the_audit_head(
    qtbot: QtBot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from PySide6.QtWidgets import QFileDialog

    study = dicom_study.write_study(tmp_path / "study", {"BASELINE": 10.0})
    main = _window(qtbot, tmp_path)
    try:
        main.open_path(study)
        wait_until_ready(qtbot, main)
        _record_t1(main)
        folder = tmp_path / "export"
        monkeypatch.setattr(
            QFileDialog, "getExistingDirectory", lambda *a, **k: str(folder)
        )
        main._actions["export"].trigger()  # one subject read: no "which" question
        head = (folder / AUDIT_HEAD_FILE).read_text(encoding="utf-8")
        assert main.desk.repository().audit_head().to_text() == head
    finally:
        main.shutdown()


def test_a_central_read_removes_its_zip_extraction_when_the_window_closes(
    qtbot: QtBot, tmp_path: Path
) -> None:
    study = dicom_study.write_study(tmp_path / "study", {"BASELINE": 10.0})
    archive = tmp_path / "study.zip"
    with zipfile.ZipFile(archive, "w") as stream:
        for path in study.rglob("*.dcm"):
            stream.write(path, path.relative_to(study))
    cache = tmp_path / "cache"
    main = _window(qtbot, tmp_path, zip_cache_dir=cache, zip_cache_days=3)
    try:
        assert main.opener.cache_max_age_days == 3
        main.open_path(archive)
        wait_until_ready(qtbot, main)
        assert list(cache.rglob("*.dcm"))
        main.close()
        assert not list(cache.rglob("*.dcm"))
    finally:
        main.shutdown()


def test_a_blinded_read_names_no_folder_in_its_warnings_or_load_report(
    qtbot: QtBot, tmp_path: Path
) -> None:
    folder = "DOE_JOHN_19570312"
    paths = write_series(tmp_path / folder / "ct", SeriesSpec(n_slices=8))
    rewrite(paths, set_elements(PatientID=""))
    main = _window(qtbot, tmp_path)
    try:
        main.open_path(tmp_path / folder)
        wait_until_ready(qtbot, main)
        main.show_load_report()
        assert main.load_report is not None
        texts = [*all_texts(main), *all_texts(main.load_report)]
        assert not [t for t in texts if folder in t], texts
        assert not [t for t in texts if "named after its folder" in t], texts
        assert [t for t in texts if "subject shown by a pseudonym" in t]
        assert main.subject is not None
        assert [t for t in all_texts(main.load_report) if main.subject.subject_id in t]
        main.load_report.close()
    finally:
        main.shutdown()


def test_the_settings_reach_the_window_data_folder_and_zip_cache_age(
    qtbot: QtBot, tmp_path: Path
) -> None:
    from mrecist_reader.settings import Settings
    from mrecist_reader.ui.startup import build_window

    settings = Settings(
        reader_id="R01", db_url=f"sqlite:///{tmp_path / 'reads.db'}", zip_cache_days=2
    )
    window = build_window(settings)
    qtbot.addWidget(window)
    try:
        assert window.context.data_dir is not None
        assert window.opener.cache_max_age_days == 2
    finally:
        window.shutdown()


def test_the_start_up_prefetch_says_where_it_extracted_a_zip(tmp_path: Path) -> None:
    from mrecist_reader.ui.prefetch import prefetch

    study = dicom_study.write_study(tmp_path / "study", {"BASELINE": 10.0})
    archive = tmp_path / "study.zip"
    with zipfile.ZipFile(archive, "w") as stream:
        for path in study.rglob("*.dcm"):
            stream.write(path, path.relative_to(study))
    found = prefetch(str(archive), cache_dir=tmp_path / "cache", cache_max_age_days=1)
    assert found.scan.extracted_to is not None
    assert found.scan.extracted_to.parent == tmp_path / "cache"
