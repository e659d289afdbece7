"""The desk opens the chosen comparison timepoint beside the one read (issue 15 item 2)."""

from mrecist_reader.core.model import Organ
from mrecist_reader.desk.comparison import Comparison
from mrecist_reader.desk.desk import ReadingDesk
from tests.desk.conftest import caliper_at


def _shrink_then_grow(desk: ReadingDesk) -> None:
    """T1: 40 mm at baseline, 30 mm at FU1 (the nadir), 35 mm at FU2."""
    desk.designate(caliper_at(desk, (0.0, 0.0, 0.0), 40.0), Organ.LIVER, "VII")
    desk.go_to_timepoint(1)
    desk.measure("T1", caliper_at(desk, (0.0, 0.0, 0.0), 30.0))
    desk.go_to_timepoint(2)
    desk.measure("T1", caliper_at(desk, (0.0, 0.0, 0.0), 35.0))


def _opened(desk: ReadingDesk, index: int) -> str:
    state = desk.open_series(index)
    assert state is not None, f"nothing open at {index}"
    return state.series.series_instance_uid


def test_at_fu2_with_the_nadir_at_fu1_the_comparison_pane_shows_fu1(
    desk: ReadingDesk,
) -> None:
    _shrink_then_grow(desk)
    shown: list[int] = []
    desk.comparison_changed.connect(shown.append)
    desk.set_comparison(Comparison.NADIR)
    assert desk.comparison_index == 1
    assert shown == [1]
    assert (_opened(desk, 1), _opened(desk, 2)) == ("1.1.1", "1.1.2")
    assert desk.open_series(0) is None  # the baseline pane now shows FU1


def test_the_choice_holds_when_the_reader_moves_on(desk: ReadingDesk) -> None:
    desk.set_comparison(Comparison.PREVIOUS)
    desk.go_to_timepoint(2)
    assert desk.comparison_index == 1
    desk.go_to_timepoint(1)
    assert desk.comparison_index == 0
    assert (_opened(desk, 0), _opened(desk, 1)) == ("1.1.0", "1.1.1")


def test_a_timepoint_moving_between_panes_is_opened_again(desk: ReadingDesk) -> None:
    # FU1 read beside the baseline, then FU2 read beside FU1 (previous): FU1 goes
    # from the current pane to the comparison pane, so its series is shown again
    desk.set_comparison(Comparison.PREVIOUS)
    desk.go_to_timepoint(1)
    changed: list[int] = []
    desk.series_changed.connect(lambda index, state: changed.append(index))
    desk.go_to_timepoint(2)
    assert sorted(changed) == [1, 2]


def test_back_to_baseline_comparison(desk: ReadingDesk) -> None:
    _shrink_then_grow(desk)
    desk.set_comparison(Comparison.NADIR)
    desk.set_comparison(Comparison.BASELINE)
    assert desk.comparison_index == 0
    assert _opened(desk, 0) == "1.1.0"
    assert desk.open_series(1) is None
