"""Where a viewer finds the selected lesion (the window's "jump to the lesion").

Read as a reader's actions: with T1 measured at baseline only, a viewer showing FU1
goes to T1's baseline place; once T1 is measured at FU1 it goes to the FU1 place, and
the baseline viewer stays at the baseline one. A non-target is found by its marker.
"""

from mrecist_reader.core.model import Organ
from mrecist_reader.desk.desk import ReadingDesk
from mrecist_reader.desk.lesion_place import lesion_place
from tests.desk.conftest import caliper_at


def test_a_lesion_not_measured_at_the_shown_timepoint_is_found_at_baseline(
    desk: ReadingDesk,
) -> None:
    target = desk.designate(caliper_at(desk, (0.0, 0.0, 0.0), 60.0), Organ.LIVER, "VII")
    desk.sign()
    desk.go_to_timepoint(1)
    assert lesion_place(desk, target, 1) == (0.0, 0.0, 0.0)


def test_a_lesion_measured_at_the_shown_timepoint_is_found_there(
    desk: ReadingDesk,
) -> None:
    target = desk.designate(caliper_at(desk, (0.0, 0.0, 0.0), 60.0), Organ.LIVER, "VII")
    desk.sign()
    desk.go_to_timepoint(1)
    desk.measure(target, caliper_at(desk, (10.0, -4.0, 0.0), 50.0))
    assert lesion_place(desk, target, 1) == (10.0, -4.0, 0.0)
    assert lesion_place(desk, target, 0) == (0.0, 0.0, 0.0)


def test_a_non_target_is_found_by_its_marker_and_an_unknown_lesion_nowhere(
    desk: ReadingDesk,
) -> None:
    marked = desk.mark_non_target(
        Organ.LIVER, "segment II", caliper_at(desk, (-40.0, 8.0, 0.0), 10.0)
    )
    assert lesion_place(desk, marked, 0) == (-40.0, 8.0, 0.0)
    assert lesion_place(desk, "T9", 0) is None
    assert lesion_place(desk, marked, None) == (-40.0, 8.0, 0.0)  # no timepoint shown
