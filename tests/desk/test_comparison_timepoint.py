"""The comparison pane's timepoint: baseline, previous or nadir (issue 15 item 2)."""

from mrecist_reader.core.assess import Assessment, TimepointAssessment
from mrecist_reader.core.units import Tenths
from mrecist_reader.desk.comparison import Comparison, comparison_timepoint

LABELS = ("BASELINE", "FU1", "FU2", "FU3")


def _assessment(*sums: Tenths | None) -> Assessment:
    rows = tuple(
        TimepointAssessment(
            timepoint_index=index,
            label=LABELS[index],
            target_sum=total,
            baseline_sum=sums[0],
            nadir_sum=None,
            change_from_baseline_pct=None,
            change_from_nadir_pct=None,
            target_response=None,
            non_target_response=None,
            new_lesions=None,
            overall_response=None,
            progression_backdated_to=None,
            best_response_to_date=None,
            reasons=(),
        )
        for index, total in enumerate(sums)
    )
    return Assessment(
        timepoints=rows, best_overall_response=None, progression_timepoint_index=None
    )


def test_at_fu2_with_the_nadir_at_fu1_the_comparison_pane_shows_fu1() -> None:
    shrunk_then_grew = _assessment(600, 400, 520)
    assert comparison_timepoint(Comparison.NADIR, 2, [0, 1, 2], shrunk_then_grew) == 1


def test_the_nadir_is_among_earlier_timepoints_only() -> None:
    # FU3 itself is the smallest; at FU3 the nadir is FU1's 450, not FU3's 300
    sums = _assessment(600, 450, 500, 300)
    assert comparison_timepoint(Comparison.NADIR, 3, [0, 1, 2, 3], sums) == 1


def test_a_baseline_that_stayed_smallest_is_the_nadir() -> None:
    growing = _assessment(400, 450, 520)
    assert comparison_timepoint(Comparison.NADIR, 2, [0, 1, 2], growing) == 0


def test_of_equal_smallest_sums_the_latest_timepoint_is_shown() -> None:
    stable = _assessment(500, 400, 400, 480)
    assert comparison_timepoint(Comparison.NADIR, 3, [0, 1, 2, 3], stable) == 2


def test_a_timepoint_with_a_target_not_evaluable_is_never_the_nadir() -> None:
    sums = _assessment(600, None, 550)
    assert comparison_timepoint(Comparison.NADIR, 2, [0, 1, 2], sums) == 0


def test_without_an_assessment_the_nadir_is_the_baseline() -> None:
    assert comparison_timepoint(Comparison.NADIR, 2, [0, 1, 2], None) == 0


def test_previous_is_the_timepoint_just_before() -> None:
    assert comparison_timepoint(Comparison.PREVIOUS, 2, [0, 1, 2], None) == 1
    assert comparison_timepoint(Comparison.PREVIOUS, 1, [0, 1, 2], None) == 0


def test_baseline_is_always_the_first_timepoint() -> None:
    sums = _assessment(600, 400, 520)
    assert comparison_timepoint(Comparison.BASELINE, 2, [0, 1, 2], sums) == 0


def test_at_baseline_every_choice_shows_the_baseline() -> None:
    for choice in Comparison:
        assert comparison_timepoint(choice, 0, [0, 1, 2], None) == 0
