"""A worklist that grows while a folder is still scanned moves no one (issue 20 item 4).

The window shows the worklist of the series found so far, then bigger ones as the scan
goes on; the subject being read stays open, at its timepoint, with the same read, and
timepoints found for it later are added to that read (no Qt).
"""

from mrecist_reader.core.model import ReadType
from mrecist_reader.desk.desk import ReadingDesk
from mrecist_reader.imaging.volume import SeriesInfo
from mrecist_reader.imaging.worklist import SubjectEntry, build_worklist
from tests.desk.worklists import desk_over
from tests.gui.conftest import make_series

LABELS = ("BASELINE", "FU1", "FU2")


def _series(subject: int, timepoints: int) -> list[SeriesInfo]:
    return [
        make_series(
            uid=f"1.{subject}.{index}", subject_id=f"S0{subject}", timepoint_label=label
        )
        for index, label in enumerate(LABELS[:timepoints])
    ]


def _worklist(*series: list[SeriesInfo]) -> tuple[SubjectEntry, ...]:
    return build_worklist([s for group in series for s in group])


def _reading_early() -> ReadingDesk:
    """Return a desk showing S01's baseline (its read open): all the scan found yet."""
    desk = desk_over(ReadType.CENTRAL, _worklist(_series(1, 1)))
    desk.open_read()
    return desk


def test_timepoints_found_later_join_the_open_read_without_reopening_it() -> None:
    desk = _reading_early()
    session = desk.session
    assert session is not None
    assert [t.index for t in session.read.timepoints] == [0]
    opened_series = desk.open_series(0)
    subjects_seen: list[object] = []
    closed: list[int] = []
    desk.subject_changed.connect(subjects_seen.append)
    desk.series_changed.connect(
        lambda index, state: state is None and closed.append(index)
    )

    desk.grow_worklist(_worklist(_series(1, 3), _series(2, 2)))

    assert desk.session is session  # the same read, never closed
    assert desk.subject is not None
    assert desk.subject.subject_id == "S01"
    assert desk.timepoint_index == 0
    assert desk.open_series(0) is opened_series
    assert (subjects_seen, closed) == ([], [])
    assert [t.index for t in session.read.timepoints] == [0, 1, 2]
    assert desk.timepoint_indices() == [0, 1, 2]
    assert [s.subject_id for s in desk.worklist.subjects] == ["S01", "S02"]
    desk.go_to_timepoint(2)  # a timepoint found later can be read
    assert desk.timepoint_index == 2
    desk.close()


def test_a_reader_who_moved_to_another_subject_stays_there() -> None:
    desk = desk_over(ReadType.CENTRAL, _worklist(_series(1, 1), _series(2, 1)))
    desk.open_subject("S02")
    desk.open_read()
    session = desk.session

    desk.grow_worklist(_worklist(_series(1, 3), _series(2, 3)))

    assert desk.subject is not None
    assert desk.subject.subject_id == "S02"
    assert desk.session is session
    assert session is not None
    assert [t.index for t in session.read.timepoints] == [0, 1, 2]
    desk.close()


def test_with_no_subject_open_the_grown_worklist_opens_its_first() -> None:
    desk = desk_over(ReadType.CENTRAL, ())
    assert desk.subject is None
    desk.grow_worklist(_worklist(_series(1, 2)))
    assert desk.subject is not None
    assert desk.subject.subject_id == "S01"
    assert desk.timepoint_indices() == [0, 1]
    desk.close()


def test_a_subject_gone_from_the_worklist_is_not_kept_open() -> None:
    desk = _reading_early()
    desk.grow_worklist(_worklist(_series(2, 1)))
    assert desk.subject is not None
    assert desk.subject.subject_id == "S02"
    desk.close()
