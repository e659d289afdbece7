"""Wiring: the first series is shown while the rest of the folder is being scanned.

The rule (which series, when complete) is tested without Qt in
``tests/desk/test_first_image.py`` and ``tests/imaging/test_scan_progress.py``.
"""

from collections.abc import Sequence
from pathlib import Path

from pytestqt.qtbot import QtBot

from mrecist_reader.imaging.worklist import SubjectEntry
from tests.gui.helpers import central_read_window, wait_until_ready
from tests.imaging.dicom_factory import SeriesSpec, write_series

STUDY = "1.2.826.0.1.3680043.8.498.11"


def _series_of(subjects: Sequence[SubjectEntry]) -> set[str]:
    return {
        series.series_instance_uid
        for subject in subjects
        for timepoint in subject.timepoints
        for series in timepoint.series
    }


def test_the_first_series_opens_before_the_scan_ends_and_the_worklist_fills_in(
    qtbot: QtBot, tmp_path: Path
) -> None:
    arterial = SeriesSpec(n_slices=6, description="LIVER ARTERIAL", study_uid=STUDY)
    portal = SeriesSpec(n_slices=5, description="LIVER PORTAL", study_uid=STUDY)
    delayed = SeriesSpec(n_slices=4, description="LIVER DELAYED", study_uid=STUDY)
    for name, spec in (("a", arterial), ("b", portal), ("c", delayed)):
        write_series(tmp_path / "study" / name, spec)
    main = central_read_window(
        qtbot, tmp_path / "reads.db", reader_id="R01", size=(1200, 800)
    )
    shown: list[set[str]] = []
    show = main.opener.show_worklist

    def record(subjects: Sequence[SubjectEntry]) -> None:
        shown.append(_series_of(subjects))
        show(subjects)

    main.opener.show_worklist = record
    try:
        main.open_path(tmp_path / "study")
        qtbot.waitUntil(lambda: main.opener.found is not None, timeout=20000)
        wait_until_ready(qtbot, main)
        assert main.opener.shown_while_scanning
        assert shown[0] == {arterial.series_uid}
        assert shown[-1] == {arterial.series_uid, portal.series_uid, delayed.series_uid}
        volume = main.baseline_view.volume
        assert volume is not None
        assert volume.array.shape[0] == 6
    finally:
        main.shutdown()
