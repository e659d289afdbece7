"""Issue 14 item 4 (desk side): nothing is signed with a lesion not assessed."""

import pytest

from mrecist_reader.core.errors import EarlierDrafts, IncompleteTimepoint
from mrecist_reader.core.model import NewLesionStatus, NonTargetStatus, Organ
from mrecist_reader.desk.desk import ReadingDesk
from tests.desk.conftest import caliper_at


def read_to_fu2_with_n1_unassessed(desk: ReadingDesk) -> None:
    desk.designate(caliper_at(desk, (0.0, 0.0, 0.0), 40.0), Organ.LIVER, "VII")
    desk.sign()
    desk.go_to_timepoint(1)
    desk.measure("T1", caliper_at(desk, (0.0, 0.0, 0.0), 38.0))
    desk.add_new_lesion(Organ.LIVER, "II", NewLesionStatus.EQUIVOCAL)
    desk.sign()
    desk.go_to_timepoint(2)
    desk.measure("T1", caliper_at(desk, (0.0, 0.0, 0.0), 37.0))


def test_fu2_lists_n1_as_missing_while_it_has_no_status_there(
    desk: ReadingDesk,
) -> None:
    read_to_fu2_with_n1_unassessed(desk)
    assert desk.missing() == ("N1 (new, first seen at FU1): no status at FU2",)


def test_fu2_cannot_be_signed_while_n1_has_no_status_there(desk: ReadingDesk) -> None:
    read_to_fu2_with_n1_unassessed(desk)
    with pytest.raises(IncompleteTimepoint, match="N1"):
        desk.sign()


def test_fu2_is_signed_once_n1_has_a_status(desk: ReadingDesk) -> None:
    read_to_fu2_with_n1_unassessed(desk)
    desk.select_lesion("N1")
    desk.set_status(NewLesionStatus.PRESENT)
    assert desk.missing() == ()
    assert desk.sign() == "FU2"


def test_fu1_cannot_be_signed_while_baseline_is_a_draft(desk: ReadingDesk) -> None:
    desk.designate(caliper_at(desk, (0.0, 0.0, 0.0), 40.0), Organ.LIVER, "VII")
    desk.go_to_timepoint(1)
    desk.measure("T1", caliper_at(desk, (0.0, 0.0, 0.0), 38.0))
    assert desk.earlier_drafts() == ("BASELINE",)
    with pytest.raises(EarlierDrafts, match="BASELINE"):
        desk.sign()
    assert desk.sign(with_earlier_drafts=True) == "FU1"


def test_a_non_target_without_status_at_fu1_is_missing(desk: ReadingDesk) -> None:
    desk.designate(caliper_at(desk, (0.0, 0.0, 0.0), 40.0), Organ.LIVER, "VII")
    desk.add_non_target(Organ.LUNG, "right")
    desk.go_to_timepoint(1)
    desk.measure("T1", caliper_at(desk, (0.0, 0.0, 0.0), 38.0))
    assert desk.missing() == ("NT1 (non-target): no status at FU1",)
    desk.select_lesion("NT1")
    desk.set_status(NonTargetStatus.PRESENT)
    assert desk.missing() == ()
