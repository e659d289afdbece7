"""Issue 14 item 3: the same lesion is never counted twice."""

from mrecist_reader.core.model import LesionType, Organ
from mrecist_reader.desk.desk import ReadingDesk
from mrecist_reader.desk.intent import Action, Answer
from tests.desk.conftest import caliper_at

T1_CENTRE = (0.0, 0.0, 0.0)
T2_CENTRE = (100.0, 0.0, 0.0)


def designate(desk: ReadingDesk, centre: tuple[float, float, float], mm: float) -> str:
    drawn = caliper_at(desk, centre, mm)
    intent = desk.intent(drawn)
    assert intent.action is Action.DESIGNATE
    assert intent.question is None
    return desk.designate(drawn, Organ.LIVER, "segment VII")


def targets(desk: ReadingDesk) -> list[str]:
    assert desk.session is not None
    return [x.lesion_id for x in desk.session.read.lesions_of_type(LesionType.TARGET)]


def test_a_caliper_away_from_every_lesion_at_baseline_designates_a_target(
    desk: ReadingDesk,
) -> None:
    designate(desk, T1_CENTRE, 40.0)
    designate(desk, T2_CENTRE, 35.0)
    assert targets(desk) == ["T1", "T2"]


def test_a_second_caliper_over_t1_at_baseline_asks_whether_it_remeasures_t1(
    desk: ReadingDesk,
) -> None:
    designate(desk, T1_CENTRE, 40.0)
    intent = desk.intent(caliper_at(desk, (3.0, 2.0, 0.0), 42.0))
    assert intent.question is not None
    assert intent.question.lesion_id == "T1"
    assert intent.question.is_overlap
    assert "overlaps T1" in intent.question.message


def test_answering_remeasure_records_t1_again_and_keeps_one_target(
    desk: ReadingDesk,
) -> None:
    designate(desk, T1_CENTRE, 40.0)
    drawn = caliper_at(desk, (3.0, 2.0, 0.0), 42.0)
    intent = desk.intent(drawn).answered(Answer.MEASURE)
    assert intent is not None
    assert (intent.action, intent.lesion_id) == (Action.MEASURE, "T1")
    desk.measure("T1", drawn)
    assert desk.session is not None
    assert targets(desk) == ["T1"]
    observation = desk.session.read.observation("T1", 0)
    assert observation is not None
    assert observation.diameter == 420


def test_cancel_is_the_answer_that_records_nothing(desk: ReadingDesk) -> None:
    designate(desk, T1_CENTRE, 40.0)
    assert desk.intent(caliper_at(desk, (3.0, 2.0, 0.0), 42.0)).answered(None) is None


def test_answering_new_over_t1_at_baseline_designates_another_target(
    desk: ReadingDesk,
) -> None:
    designate(desk, T1_CENTRE, 40.0)
    intent = desk.intent(caliper_at(desk, (3.0, 2.0, 0.0), 42.0))
    answered = intent.answered(Answer.NEW)
    assert answered is not None
    assert answered.action is Action.DESIGNATE


def test_with_t1_selected_at_baseline_a_caliper_remeasures_t1_not_proposed_as_t3(
    desk: ReadingDesk,
) -> None:
    designate(desk, T1_CENTRE, 40.0)
    designate(desk, T2_CENTRE, 35.0)
    desk.select_lesion("T1")
    intent = desk.intent(caliper_at(desk, (1.0, 0.0, 0.0), 44.0))
    assert (intent.action, intent.lesion_id, intent.question) == (
        Action.MEASURE,
        "T1",
        None,
    )


def test_with_t1_selected_at_baseline_a_caliper_elsewhere_asks_first(
    desk: ReadingDesk,
) -> None:
    designate(desk, T1_CENTRE, 40.0)
    desk.select_lesion("T1")
    intent = desk.intent(caliper_at(desk, (200.0, 0.0, 0.0), 44.0))
    assert intent.action is Action.MEASURE
    assert intent.question is not None
    assert "does not overlap" in intent.question.message


def test_with_t1_selected_at_fu1_a_caliper_60_mm_away_asks_before_recording(
    desk: ReadingDesk,
) -> None:
    designate(desk, T1_CENTRE, 40.0)
    desk.go_to_timepoint(1)
    assert desk.selected_lesion == "T1"  # the first target not yet measured
    intent = desk.intent(caliper_at(desk, (60.0, 0.0, 0.0), 30.0))
    assert intent.question is not None
    assert intent.question.lesion_id == "T1"
    assert "60 mm" in intent.question.message


def test_with_t1_selected_at_fu1_a_caliper_where_t1_was_measures_t1(
    desk: ReadingDesk,
) -> None:
    designate(desk, T1_CENTRE, 40.0)
    desk.go_to_timepoint(1)
    drawn = caliper_at(desk, (5.0, 0.0, 0.0), 30.0)
    intent = desk.intent(drawn)
    assert (intent.action, intent.lesion_id, intent.question) == (
        Action.MEASURE,
        "T1",
        None,
    )
    assert desk.measure("T1", drawn) == 300


def test_at_fu1_with_every_target_measured_a_caliper_over_t1_asks(
    desk: ReadingDesk,
) -> None:
    designate(desk, T1_CENTRE, 40.0)
    desk.go_to_timepoint(1)
    desk.measure("T1", caliper_at(desk, T1_CENTRE, 30.0))
    desk.select_lesion(None)
    intent = desk.intent(caliper_at(desk, (2.0, 0.0, 0.0), 31.0))
    assert intent.action is Action.ADD_NEW
    assert intent.question is not None
    assert intent.question.lesion_id == "T1"
