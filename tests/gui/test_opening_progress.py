"""Wiring: the first series is shown while the rest of the folder is being scanned.

The rule (which series, when complete) is tested without Qt in
``tests/desk/test_first_image.py`` and ``tests/imaging/test_scan_progress.py``.
"""

import multiprocessing
from collections.abc import Sequence
from concurrent.futures import Future
from multiprocessing.queues import SimpleQueue
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from mrecist_reader.desk import first_image
from mrecist_reader.imaging.worklist import SubjectEntry
from mrecist_reader.ui import prefetch as prefetch_module
from mrecist_reader.ui.prefetch import Prefetched
from tests.gui.helpers import central_read_window, wait_until_ready
from tests.kit.dicom import Identity, SeriesSpec, write_series

STUDY = "1.2.826.0.1.3680043.8.498.11"


def _series_of(subjects: Sequence[SubjectEntry]) -> set[str]:
    return {
        series.series_instance_uid
        for subject in subjects
        for timepoint in subject.timepoints
        for series in timepoint.series
    }


@pytest.fixture(autouse=True)
def _small_folders_shown_early(monkeypatch: pytest.MonkeyPatch) -> None:
    """Show these small folders early, even with a few files left."""
    monkeypatch.setattr(first_image, "MIN_FILES_LEFT", 0)


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
    show, grow = main.opener.show_worklist, main.opener.grow_worklist
    assert grow is not None

    def record(subjects: Sequence[SubjectEntry]) -> None:
        shown.append(_series_of(subjects))
        show(subjects)

    def record_growth(subjects: Sequence[SubjectEntry]) -> None:
        shown.append(_series_of(subjects))
        grow(subjects)

    main.opener.show_worklist = record
    main.opener.grow_worklist = record_growth
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


def _three_series(root: Path) -> tuple[SeriesSpec, SeriesSpec, SeriesSpec]:
    arterial = SeriesSpec(n_slices=6, description="LIVER ARTERIAL", study_uid=STUDY)
    portal = SeriesSpec(n_slices=5, description="LIVER PORTAL", study_uid=STUDY)
    delayed = SeriesSpec(n_slices=4, description="LIVER DELAYED", study_uid=STUDY)
    for name, spec in (("a", arterial), ("b", portal), ("c", delayed)):
        write_series(root / name, spec)
    return arterial, portal, delayed


def _prefetch_with_early(
    root: Path, monkeypatch: pytest.MonkeyPatch
) -> tuple[Prefetched, Prefetched]:
    """Run the start-up prefetch here; return what it sent ahead and its result."""
    queue: SimpleQueue[str] = multiprocessing.get_context("fork").SimpleQueue()
    monkeypatch.setattr(prefetch_module, "_early", queue)
    final = prefetch_module.prefetch(str(root))
    early = prefetch_module._read_early(Path(queue.get()))
    assert early is not None
    return early, final


def test_the_start_up_prefetch_sends_the_first_series_and_slice_ahead(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    arterial, portal, delayed = _three_series(tmp_path / "study")
    early, final = _prefetch_with_early(tmp_path / "study", monkeypatch)
    assert _series_of(early.subjects) == {arterial.series_uid}
    assert early.first is not None
    assert early.first.series_uid == arterial.series_uid
    assert early.first.array.shape == (arterial.rows, arterial.columns)
    assert _series_of(final.subjects) == {
        arterial.series_uid,
        portal.series_uid,
        delayed.series_uid,
    }
    assert final.first is None  # the same first series: not decoded twice


def test_the_window_shows_what_the_prefetch_sent_ahead_then_the_whole_worklist(
    qtbot: QtBot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    arterial, portal, delayed = _three_series(tmp_path / "study")
    early, final = _prefetch_with_early(tmp_path / "study", monkeypatch)
    queue: SimpleQueue[str] = multiprocessing.get_context("fork").SimpleQueue()
    queue.put(str(prefetch_module._write_early(early)))
    future: Future[Prefetched] = Future()
    monkeypatch.setitem(prefetch_module._early_of, future, queue)
    main = central_read_window(
        qtbot, tmp_path / "reads.db", reader_id="R01", size=(1200, 800)
    )
    try:
        main.open_path(tmp_path / "study", prefetched=future)
        qtbot.waitUntil(lambda: main.opener.shown_while_scanning, timeout=10000)
        assert main.opener.found is None  # the scan has not ended
        wait_until_ready(qtbot, main)
        future.set_result(final)
        qtbot.waitUntil(lambda: main.opener.found is not None, timeout=10000)
        assert main.desk.worklist is not None
        listed = _series_of(main.desk.worklist.subjects)
        assert listed == {arterial.series_uid, portal.series_uid, delayed.series_uid}
        volume = main.baseline_view.volume
        assert volume is not None
        assert volume.array.shape[0] == arterial.n_slices
    finally:
        main.shutdown()


def test_timepoints_found_after_the_first_image_join_the_read_already_open(
    qtbot: QtBot, tmp_path: Path
) -> None:
    """The subject shown early is not closed and reopened: its read gains FU1, FU2."""
    for k, label in enumerate(("BASELINE", "FU1", "FU2")):
        spec = SeriesSpec(
            n_slices=4,
            description="LIVER ARTERIAL",
            identity=Identity(subject_id="S01", timepoint_id=label),
        )
        write_series(tmp_path / "study" / f"{k}_{label}", spec)
    main = central_read_window(
        qtbot, tmp_path / "reads.db", reader_id="R01", size=(1200, 800)
    )
    sessions: list[object] = []
    main.desk.session_changed.connect(sessions.append)
    reopened: list[object] = []
    main.opener.show_worklist = reopened.append  # only the desk's growth may show
    try:
        main.open_path(tmp_path / "study")
        qtbot.waitUntil(lambda: main.opener.found is not None, timeout=20000)
        qtbot.waitUntil(lambda: main.desk.session is not None, timeout=10000)
        assert main.opener.shown_while_scanning
        assert len(reopened) == 1  # the early worklist; the rest grew it
        session = main.desk.session
        assert session is not None
        assert sessions == [session]  # opened once, never closed
        assert [t.label for t in session.read.timepoints] == ["BASELINE", "FU1", "FU2"]
    finally:
        main.shutdown()


def test_an_early_result_read_after_the_prefetch_process_ended_arrives_whole(
    tmp_path: Path,
) -> None:
    """The window may read late (the reader ID dialog): the prefetch has ended by then.

    A worklist larger than a pipe's buffer used to be cut when the process ended,
    and the window waited for the rest for ever.
    """
    first = SeriesSpec(n_slices=1200, rows=8, columns=8, study_uid=STUDY)
    write_series(tmp_path / "study" / "a", first)
    write_series(tmp_path / "study" / "b", SeriesSpec(n_slices=4, study_uid=STUDY))
    future = prefetch_module.start_prefetch(str(tmp_path / "study"))
    assert future is not None
    final = future.result(timeout=120)
    early = prefetch_module.early_prefetched(future)  # read only now
    assert early is not None
    assert _series_of(early.subjects) == {first.series_uid}
    assert len(final.scan.series) == 2
