"""mrecist-rules.md §Target response, every boundary, through assess()."""

from dataclasses import replace
from fractions import Fraction

import pytest

from mrecist_reader.core.assess import TimepointAssessment, assess
from mrecist_reader.core.model import Organ, Response
from tests.kit.reads import GENERIC, NCT, RECIST_LIKE, build_read


def last(
    targets: dict[str, list[float | str | None]], **kwargs: object
) -> TimepointAssessment:
    read = build_read(targets, **kwargs)  # type: ignore[arg-type]
    profile = kwargs.get("profile", NCT)
    return assess(read, profile).timepoints[-1]  # type: ignore[arg-type]


def test_sum_exactly_30_percent_below_baseline_is_pr() -> None:
    row = last({"T1": [60.0, 42.0], "T2": [40.0, 28.0]})
    assert row.change_from_baseline_pct == Fraction(-30)
    assert row.target_response is Response.PR


def test_sum_29_9_percent_below_baseline_is_sd() -> None:
    row = last({"T1": [100.0, 70.1]})
    assert row.change_from_baseline_pct == Fraction(-299, 10)
    assert row.target_response is Response.SD


def test_sum_exactly_20_percent_above_nadir_is_pd() -> None:
    row = last({"T1": [50.0, 60.0]})
    assert row.change_from_nadir_pct == Fraction(20)
    assert row.target_response is Response.PD


def test_sum_19_9_percent_above_nadir_is_sd() -> None:
    row = last({"T1": [100.0, 119.9]}, profile=GENERIC)
    assert row.target_response is Response.SD


def test_nadir_after_pr_is_the_pr_sum_so_growth_from_it_is_pd() -> None:
    row = last({"T1": [100.0, 50.0, 60.0]})
    assert (row.nadir_sum, row.target_response) == (500, Response.PD)
    assert row.change_from_baseline_pct == Fraction(-40)


def test_growth_below_20_percent_over_the_pr_nadir_stays_pr_against_baseline() -> None:
    row = last({"T1": [100.0, 50.0, 59.9]})
    assert row.target_response is Response.PR


def test_every_target_absent_is_cr() -> None:
    row = last({"T1": [45.0, "absent"], "T2": [32.0, "absent"]})
    assert (row.target_sum, row.target_response) == (0, Response.CR)


def test_too_small_counts_as_the_profile_value_and_is_not_cr() -> None:
    row = last({"T1": [45.0, "too_small"], "T2": [32.0, "absent"]})
    assert (row.target_sum, row.target_response) == (50, Response.PR)


def test_reappearance_after_cr_is_pd_because_the_nadir_is_zero() -> None:
    row = last({"T1": [45.0, "absent", 3.0]})
    assert (row.nadir_sum, row.change_from_nadir_pct) == (0, None)
    assert row.target_response is Response.PD
    assert "reappeared after complete response" in " ".join(row.reasons)


def test_not_evaluable_target_with_the_evaluable_sum_already_pd_is_pd() -> None:
    row = last({"T1": [50.0, 40.0, 72.0], "T2": [30.0, 20.0, "ne"]})
    assert row.target_sum is None
    assert row.target_response is Response.PD
    assert row.reasons[0] == (
        "T2 not evaluable, but the evaluable targets' sum 72.0 mm is 20.0 % above "
        "the nadir 60.0 mm: PD"
    )


def test_not_evaluable_target_without_progression_is_ne() -> None:
    row = last({"T1": [50.0, 40.0, 40.0], "T2": [30.0, 20.0, "ne"]})
    assert (row.target_sum, row.target_response) == (None, Response.NE)


def test_a_timepoint_with_a_not_evaluable_target_never_sets_the_nadir() -> None:
    row = last({"T1": [50.0, 10.0, 45.0], "T2": [30.0, "ne", 25.0]})
    assert row.nadir_sum == 800
    assert row.target_response is Response.SD


def test_pd_also_needs_the_profiles_absolute_increase() -> None:
    profile = replace(NCT, pd_min_absolute_increase=50)
    assert last({"T1": [20.0, 24.9]}, profile=profile).target_response is Response.SD
    assert last({"T1": [20.0, 25.0]}, profile=profile).target_response is Response.PD


def test_reason_names_sum_percentage_baseline_and_decision() -> None:
    row = last({"T1": [40.0, 30.0], "T2": [26.0, 15.0]})
    assert "sum 45.0 mm is 31.8 % below the baseline 66.0 mm: PR" in row.reasons


def test_node_target_below_10_mm_short_axis_counts_as_gone_for_cr() -> None:
    organs = {"T2": Organ.LYMPH_NODE}
    row = last(
        {"T1": [40.0, "absent"], "T2": [16.0, 9.9]}, organs=organs, profile=RECIST_LIKE
    )
    assert (row.target_sum, row.target_response) == (99, Response.CR)


def test_node_target_at_10_mm_short_axis_is_not_gone() -> None:
    organs = {"T2": Organ.LYMPH_NODE}
    row = last(
        {"T1": [40.0, "absent"], "T2": [16.0, 10.0]}, organs=organs, profile=RECIST_LIKE
    )
    assert row.target_response is Response.PR


@pytest.mark.parametrize("follow_up", [40.0, "absent", "too_small", "ne"])
def test_baseline_row_has_sums_but_no_responses(follow_up: float | str) -> None:
    row = assess(build_read({"T1": [40.0, follow_up]}), NCT).timepoints[0]
    assert (row.target_sum, row.baseline_sum, row.nadir_sum) == (400, 400, None)
    assert (row.target_response, row.overall_response, row.best_response_to_date) == (
        None,
        None,
        None,
    )
