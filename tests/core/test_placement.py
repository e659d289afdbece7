"""A follow-up caliper far from where its lesion was measured before is questioned."""

from dataclasses import replace

from mrecist_reader.core.model import Caliper, Read
from mrecist_reader.core.placement import far_from_earlier_caliper
from tests.kit.reads import build_read


def _with_caliper(read: Read, lesion_id: str, index: int, caliper: Caliper) -> Read:
    observations = tuple(
        replace(obs, caliper=caliper)
        if (obs.lesion_id, obs.timepoint_index) == (lesion_id, index)
        else obs
        for obs in read.observations
    )
    return replace(read, observations=observations)


def _horizontal(x: float, y: float, z: float, length: float) -> Caliper:
    return Caliper((x - length / 2, y, z), (x + length / 2, y, z))


BASELINE_T1 = _horizontal(-60.0, -30.0, -70.0, 50.0)
READ = _with_caliper(
    build_read({"T1": [50.0, None], "T2": [35.0, None]}), "T1", 0, BASELINE_T1
)


def test_a_caliper_on_another_lesion_70_mm_away_is_questioned() -> None:
    far = far_from_earlier_caliper(READ, "T1", 1, _horizontal(-60, -30, 0.0, 16.0))
    assert far is not None
    assert far.earlier_label == "BASELINE"
    assert round(far.distance_mm) == 70
    assert far.message() == (
        "This caliper lies 70 mm from where T1 was measured at BASELINE."
    )


def test_the_same_lesion_shifted_by_breathing_is_not_questioned() -> None:
    shifted = _horizontal(-55.0, -20.0, -45.0, 40.0)  # 28 mm away
    assert far_from_earlier_caliper(READ, "T1", 1, shifted) is None


def test_a_large_lesion_may_move_by_its_own_diameter() -> None:
    big = _with_caliper(READ, "T1", 0, _horizontal(-60.0, -30.0, -70.0, 90.0))
    moved = _horizontal(-60.0, -30.0, 10.0, 80.0)  # 80 mm away, less than 90 mm
    assert far_from_earlier_caliper(big, "T1", 1, moved) is None


def test_the_nearest_earlier_caliper_is_the_reference() -> None:
    fu1 = _horizontal(-60.0, -30.0, 0.0, 30.0)  # T1 moved at FU1 (e.g. a new scanner)
    read = _with_caliper(build_read({"T1": [50.0, 30.0, None]}), "T1", 0, BASELINE_T1)
    read = _with_caliper(read, "T1", 1, fu1)
    assert far_from_earlier_caliper(read, "T1", 2, fu1) is None


def test_a_lesion_without_an_earlier_caliper_is_not_questioned() -> None:
    assert far_from_earlier_caliper(READ, "T2", 1, BASELINE_T1) is None
