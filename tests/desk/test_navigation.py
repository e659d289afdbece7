"""Moving around the worklist: subjects, timepoints, series and lesions."""

from mrecist_reader.core.model import Organ
from mrecist_reader.desk.desk import ReadingDesk
from mrecist_reader.desk.worklist import preferred_series
from mrecist_reader.imaging.volume import Phase
from tests.desk.conftest import caliper_at, worklist
from tests.gui.conftest import make_series


def test_a_timepoint_of_another_subject_opens_that_subject_at_that_timepoint(
    desk: ReadingDesk,
) -> None:
    desk.open_subject("S02", 2)
    desk.open_read()
    assert desk.subject is not None
    assert (desk.subject.subject_id, desk.timepoint_index) == ("S02", 2)
    state = desk.open_series(2)
    assert state is not None
    assert state.series.series_instance_uid == "1.2.2"


def test_next_and_previous_timepoint_stay_within_the_subject(desk: ReadingDesk) -> None:
    desk.next_timepoint()
    desk.next_timepoint()
    desk.next_timepoint()
    assert desk.timepoint_index == 2
    desk.previous_timepoint()
    assert desk.timepoint_index == 1


def test_a_follow_up_shows_baseline_beside_it(desk: ReadingDesk) -> None:
    desk.go_to_timepoint(2)
    opened = [desk.open_series(0), desk.open_series(2)]
    assert [s.series.series_instance_uid for s in opened if s] == ["1.1.0", "1.1.2"]


def test_the_arterial_series_is_preferred() -> None:
    portal = make_series(uid="1", phase=Phase.PORTAL_VENOUS)
    arterial = make_series(uid="2", phase=Phase.ARTERIAL)
    assert preferred_series([portal, arterial]) is arterial


def test_l_steps_through_lesions_in_table_order(desk: ReadingDesk) -> None:
    desk.designate(caliper_at(desk, (0.0, 0.0, 0.0), 40.0), Organ.LIVER, "VII")
    desk.add_non_target(Organ.LUNG, "right")
    desk.designate(caliper_at(desk, (100.0, 0.0, 0.0), 40.0), Organ.LIVER, "II")
    desk.select_lesion(None)
    seen = []
    for _ in range(4):
        desk.next_lesion()
        seen.append(desk.selected_lesion)
    assert seen == ["T1", "T2", "NT1", "T1"]


def test_moving_to_another_timepoint_discards_the_proposal(desk: ReadingDesk) -> None:
    desk.propose(caliper_at(desk, (0.0, 0.0, 0.0), 40.0))
    desk.go_to_timepoint(1)
    assert desk.proposal is None


def test_an_empty_worklist_closes_the_subject_and_its_read(desk: ReadingDesk) -> None:
    cleared: list[int] = []
    desk.series_changed.connect(lambda index, state: cleared.append(index))
    desk.set_worklist(())
    assert (desk.subject, desk.session) == (None, None)
    assert cleared == [0]


def test_a_new_worklist_opens_its_first_subject_at_baseline(
    desk: ReadingDesk,
) -> None:
    desk.go_to_timepoint(2)
    desk.set_worklist(tuple(s for s in worklist() if s.subject_id == "S02"))
    assert desk.subject is not None
    assert (desk.subject.subject_id, desk.timepoint_index) == ("S02", 0)


def test_a_timepoint_the_other_subject_lacks_opens_its_baseline(
    desk: ReadingDesk,
) -> None:
    desk.go_to_timepoint(2)
    desk.open_subject("S02", 7)
    assert desk.timepoint_index == 0
