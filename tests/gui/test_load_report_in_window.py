"""The load report is one click away in the window, and warnings show while reading.

A scan with a cut-short file, a stray text file and a missing slice: the status bar
says so with a link to the report (File > Load report... too), the report is blinded
in a central read, and the series' warning is on the image being read.
"""

from pathlib import Path

from PySide6.QtWidgets import QLabel
from pytestqt.qtbot import QtBot

from mrecist_reader.imaging.report import load_summary
from mrecist_reader.imaging.scan import scan
from mrecist_reader.ui.load_report import LoadReportDialog
from tests.gui.helpers import central_read_window, wait_until_ready
from tests.gui.shots import save_screenshot
from tests.kit.dicom import SeriesSpec, write_series


def _messy(root: Path) -> Path:
    study = root / "study"
    images = write_series(
        study / "arterial", SeriesSpec(n_slices=6, offsets=[0, 2.5, 7.5, 10, 12.5, 15])
    )
    (study / "arterial" / "cut.dcm").write_bytes(images[0].read_bytes()[:-400])
    (study / "readme.txt").write_text("notes", encoding="utf-8")
    return study


def test_skips_and_warnings_are_a_click_away_and_on_the_image(
    qtbot: QtBot, tmp_path: Path
) -> None:
    study = _messy(tmp_path)
    result = scan(study)
    main = central_read_window(
        qtbot, tmp_path / "reads.db", reader_id="R01", size=(1400, 850)
    )
    try:
        main.open_path(study)
        wait_until_ready(qtbot, main)
        link = main.findChild(QLabel, "loadReportLink")
        assert link is not None
        assert link.isVisible()
        expected = load_summary(result.series, result.skipped)
        assert "2 files not loaded" in expected
        assert expected in link.text()
        assert "skipped (not images)" not in " ".join(main.visible_texts())
        link.linkActivated.emit("report")
        dialog = main.load_report
        assert isinstance(dialog, LoadReportDialog)
        assert dialog._blinded  # a central read
        text = dialog.report_text()
        assert "cut.dcm" in text
        assert "readme.txt" in text
        assert "missing slices" in text
        dialog.close()
        main._actions["loadReport"].trigger()
        assert main.load_report is not dialog
        main.load_report.close()
        caption = main.baseline_view.viewer.top_left.text()
        assert "missing slices" in caption, caption
        save_screenshot(main, "load_report_link_and_warning")
    finally:
        main.shutdown()
