"""Issue 14 item 1: a caliper is recorded only with the image it was drawn on."""

import pytest

from mrecist_reader.core.model import Organ
from mrecist_reader.desk.desk import ReadingDesk, SeriesState, WrongImage
from tests.desk.conftest import caliper_at, drawn_on

DUPLICATES = "several images at one position: the series cannot be shown"


def test_a_caliper_on_the_open_baseline_series_is_recorded(desk: ReadingDesk) -> None:
    drawn = caliper_at(desk, (0.0, 0.0, 0.0), 40.0)
    desk.designate(drawn, Organ.LIVER, "segment VII")
    assert desk.session is not None
    observation = desk.session.read.observation("T1", 0)
    assert observation is not None
    assert observation.sop_instance_uid == drawn.sop_instance_uid


def test_after_s02_fails_to_load_a_caliper_on_s01s_image_is_refused(
    desk: ReadingDesk,
) -> None:
    s01_baseline = desk.open_series(0)
    assert s01_baseline is not None
    desk.open_subject("S02")
    s02_baseline = desk.open_series(0)
    assert s02_baseline is not None
    desk.series_failed(0, s02_baseline.series.series_instance_uid, DUPLICATES)
    desk.open_read()
    still_on_screen = drawn_on(s01_baseline.series, desk, (0.0, 0.0, 0.0), 40.0, 0)
    with pytest.raises(WrongImage, match="S01's images but S02 is open"):
        desk.designate(still_on_screen, Organ.LIVER, "segment VII")
    assert desk.session is not None
    assert desk.session.read.lesions == ()


def test_a_caliper_on_a_series_that_failed_to_load_is_refused(
    desk: ReadingDesk,
) -> None:
    desk.open_subject("S02")
    state = desk.open_series(0)
    assert state is not None
    desk.series_failed(0, state.series.series_instance_uid, DUPLICATES)
    desk.open_read()
    drawn = drawn_on(state.series, desk, (0.0, 0.0, 0.0), 40.0, 0)
    with pytest.raises(WrongImage, match="could not be shown"):
        desk.intent(drawn)


def test_a_failed_load_tells_the_viewer_to_show_no_image_and_why(
    desk: ReadingDesk,
) -> None:
    shown: list[tuple[int, SeriesState | None]] = []
    desk.series_changed.connect(lambda index, state: shown.append((index, state)))
    state = desk.open_series(0)
    assert state is not None
    desk.series_failed(0, state.series.series_instance_uid, DUPLICATES)
    assert shown == [(0, SeriesState(state.series, DUPLICATES))]


def test_a_caliper_whose_image_is_not_in_the_open_series_is_refused(
    desk: ReadingDesk,
) -> None:
    drawn = caliper_at(desk, (0.0, 0.0, 0.0), 40.0)
    stray = drawn.__class__(
        drawn.caliper,
        drawn.subject_id,
        drawn.timepoint_index,
        drawn.series_instance_uid,
        "9.9.9.9",
    )
    with pytest.raises(WrongImage, match="not an image of the series open"):
        desk.intent(stray)


def test_a_caliper_drawn_on_baseline_images_is_not_recorded_at_fu1(
    desk: ReadingDesk,
) -> None:
    desk.go_to_timepoint(1)
    baseline = desk.open_series(0)
    assert baseline is not None
    drawn = drawn_on(baseline.series, desk, (0.0, 0.0, 0.0), 40.0, 1)
    with pytest.raises(WrongImage, match="not the one open at FU1"):
        desk.intent(drawn)


def test_a_late_failure_of_a_series_no_longer_open_changes_nothing(
    desk: ReadingDesk,
) -> None:
    s01_baseline = desk.open_series(0)
    assert s01_baseline is not None
    desk.open_subject("S02")
    desk.series_failed(0, s01_baseline.series.series_instance_uid, DUPLICATES)
    state = desk.open_series(0)
    assert state is not None
    assert state.failure == ""
