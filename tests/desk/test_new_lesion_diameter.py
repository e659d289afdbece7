"""Issue 14 item 5: a new lesion's longest diameter is recorded, shown and exported."""

from mrecist_reader.core.model import NewLesionStatus, Organ
from mrecist_reader.desk.desk import ReadingDesk
from mrecist_reader.desk.intent import Action
from mrecist_reader.transfer.csv_out import rows_for_measurements
from tests.desk.conftest import caliper_at

NODULE = (-60.0, 20.0, 0.0)


def add_n1_at_fu1(desk: ReadingDesk) -> None:
    desk.designate(caliper_at(desk, (0.0, 0.0, 0.0), 40.0), Organ.LIVER, "VII")
    desk.go_to_timepoint(1)
    desk.measure("T1", caliper_at(desk, (0.0, 0.0, 0.0), 38.0))
    desk.add_new_lesion(Organ.LIVER, "segment II", NewLesionStatus.EQUIVOCAL)


def test_with_n1_selected_a_caliper_on_it_measures_n1_not_a_new_n2(
    desk: ReadingDesk,
) -> None:
    add_n1_at_fu1(desk)
    assert desk.selected_lesion == "N1"
    intent = desk.intent(caliper_at(desk, NODULE, 14.0))
    assert (intent.action, intent.lesion_id) == (Action.MEASURE, "N1")


def test_n1s_caliper_records_its_longest_diameter_and_keeps_its_status(
    desk: ReadingDesk,
) -> None:
    add_n1_at_fu1(desk)
    desk.measure("N1", caliper_at(desk, NODULE, 14.0))
    assert desk.session is not None
    observation = desk.session.read.observation("N1", 1)
    assert observation is not None
    assert (observation.diameter, observation.status) == (
        140,
        NewLesionStatus.EQUIVOCAL,
    )
    assert [x.lesion_id for x in desk.session.read.lesions][-1] == "N1"


def test_n1s_diameter_is_exported_as_viable_diameter_mm(desk: ReadingDesk) -> None:
    add_n1_at_fu1(desk)
    desk.measure("N1", caliper_at(desk, NODULE, 14.0))
    assert desk.session is not None
    rows = rows_for_measurements([desk.session.read])
    n1 = [row for row in rows if row["lesion_id"] == "N1"]
    assert [row["viable_diameter_mm"] for row in n1] == ["14.0"]


def test_a_new_lesion_drawn_with_a_caliper_has_its_diameter(desk: ReadingDesk) -> None:
    desk.designate(caliper_at(desk, (0.0, 0.0, 0.0), 40.0), Organ.LIVER, "VII")
    desk.go_to_timepoint(1)
    desk.measure("T1", caliper_at(desk, (0.0, 0.0, 0.0), 38.0))
    drawn = caliper_at(desk, NODULE, 12.0)
    assert desk.intent(drawn).action is Action.ADD_NEW
    desk.add_new_lesion(Organ.LIVER, "II", NewLesionStatus.PRESENT, drawn)
    assert desk.session is not None
    observation = desk.session.read.observation("N1", 1)
    assert observation is not None
    assert observation.diameter == 120


def test_n1_seen_at_fu1_needs_its_status_at_fu2_before_its_caliper(
    desk: ReadingDesk,
) -> None:
    add_n1_at_fu1(desk)
    desk.sign(with_earlier_drafts=True)
    desk.go_to_timepoint(2)
    desk.select_lesion("N1")
    drawn = caliper_at(desk, NODULE, 16.0)
    assert (desk.intent(drawn).action, desk.intent(drawn).lesion_id) == (
        Action.MEASURE,
        "N1",
    )
    assert desk.needs_status("N1", 2)
    desk.measure("N1", drawn, status=NewLesionStatus.PRESENT)
    assert desk.session is not None
    observation = desk.session.read.observation("N1", 2)
    assert observation is not None
    assert (observation.diameter, observation.status) == (160, NewLesionStatus.PRESENT)
