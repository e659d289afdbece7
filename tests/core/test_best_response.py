"""mrecist-rules.md §Across timepoints: progression timepoint and best overall response."""

from dataclasses import replace

import pytest

from mrecist_reader.core.assess import assess
from mrecist_reader.core.model import Response
from tests.kit.reads import GENERIC, NCT, RECIST_LIKE, baseline_dates, build_read


def test_early_sd_then_pd_is_pd() -> None:
    read = build_read({"T1": [50.0, 45.0, 70.0]}, days=[0, 20, 50])
    result = assess(read, NCT)
    assert (result.best_overall_response, result.progression_timepoint_index) == (
        Response.PD,
        2,
    )
    assert any(
        "SD at FU1 (day 20) is earlier than the 28 days" in r for r in result.reasons
    )


def test_ne_then_pd_is_pd() -> None:
    read = build_read({"T1": [50.0, "ne", 70.0]})
    assert assess(read, NCT).best_overall_response is Response.PD


def test_early_sd_only_is_ne() -> None:
    read = build_read({"T1": [50.0, 45.0]}, days=[0, 27])
    assert assess(read, NCT).best_overall_response is Response.NE


def test_sd_exactly_at_the_minimum_days_counts() -> None:
    read = build_read({"T1": [50.0, 45.0]}, days=[0, 28])
    assert assess(read, NCT).best_overall_response is Response.SD


def test_the_generic_profile_needs_42_days_for_sd() -> None:
    read = build_read({"T1": [50.0, 45.0]}, days=[0, 41], profile=GENERIC)
    assert assess(read, GENERIC).best_overall_response is Response.NE


def test_without_study_day_the_scan_dates_give_the_days() -> None:
    read = build_read(
        {"T1": [50.0, 45.0]},
        days=[None, None],
        scan_dates=baseline_dates(2, step_days=28),
    )
    assert assess(read, NCT).best_overall_response is Response.SD


def test_best_is_the_first_of_cr_pr_sd_found() -> None:
    read = build_read({"T1": [50.0, 45.0, 30.0, "absent", 20.0]})
    result = assess(read, NCT)
    assert result.best_overall_response is Response.CR
    assert [row.best_response_to_date for row in result.timepoints] == [
        None,
        Response.SD,
        Response.PR,
        Response.CR,
        Response.CR,
    ]


def test_pr_with_equivocal_new_lesion_confirmed_next_is_pd() -> None:
    read = build_read(
        {"T1": [50.0, 30.0, 30.0]}, new={"N1": [None, "equivocal", "present"]}
    )
    result = assess(read, NCT)
    confirming = result.timepoints[2]
    assert confirming.overall_response is Response.PD
    assert confirming.progression_backdated_to == "FU1"
    assert result.progression_timepoint_index == 1
    assert result.best_overall_response is Response.PD
    assert result.timepoints[1].best_response_to_date is Response.PR


def test_backdating_names_the_earliest_when_several_are_confirmed_at_once() -> None:
    read = build_read(
        {"T1": [50.0, 45.0, 45.0, 45.0]},
        new={
            "N1": [None, None, "equivocal", "present"],
            "N2": [None, "equivocal", None, "present"],
        },
    )
    result = assess(read, NCT)
    assert result.timepoints[3].progression_backdated_to == "FU1"
    assert result.progression_timepoint_index == 1


def test_only_the_timepoint_that_first_confirms_is_backdated() -> None:
    read = build_read(
        {"T1": [50.0, 45.0, 45.0, 45.0]},
        new={"N1": [None, "equivocal", "present", "present"]},
    )
    result = assess(read, NCT)
    assert [row.progression_backdated_to for row in result.timepoints] == [
        None,
        None,
        "FU1",
        None,
    ]


def test_a_new_lesion_present_when_first_seen_is_not_backdated() -> None:
    read = build_read({"T1": [50.0, 45.0]}, new={"N1": [None, "present"]})
    row = assess(read, NCT).timepoints[1]
    assert (row.overall_response, row.progression_backdated_to) == (Response.PD, None)


def test_later_timepoints_after_progression_do_not_change_the_best_response() -> None:
    read = build_read({"T1": [50.0, 45.0, 70.0, "absent"]})
    result = assess(read, NCT)
    assert result.best_overall_response is Response.SD
    assert result.timepoints[3].best_response_to_date is Response.SD


@pytest.mark.parametrize(
    ("cells", "days", "expected"),
    [
        ([50.0, "absent", "absent"], [0, 30, 58], Response.CR),
        ([50.0, "absent", "absent"], [0, 30, 57], Response.SD),
        ([50.0, 30.0, "absent"], [0, 30, 60], Response.PR),
        ([50.0, 30.0], [0, 60], Response.SD),
        ([50.0, 30.0], [0, 41], Response.NE),
        ([50.0, 30.0, 70.0], [0, 45, 75], Response.SD),
    ],
    ids=[
        "CR confirmed 28 days later",
        "CR 27 days later is unconfirmed: SD",
        "PR confirmed by CR",
        "unconfirmed PR after the SD minimum: SD",
        "unconfirmed PR before the SD minimum: ignored",
        "PR followed by PD is unconfirmed: SD",
    ],
)
def test_confirmation_when_the_profile_requires_it(
    cells: list[float | str], days: list[int], expected: Response
) -> None:
    read = build_read({"T1": cells}, days=days, profile=RECIST_LIKE)
    assert assess(read, RECIST_LIKE).best_overall_response is expected


def test_no_confirmation_in_the_shipped_profiles() -> None:
    read = build_read({"T1": [50.0, 30.0]}, days=[0, 30])
    assert assess(read, NCT).best_overall_response is Response.PR
    assert not replace(NCT).confirmation_required


def test_a_read_with_only_a_baseline_has_no_best_response() -> None:
    result = assess(build_read({"T1": [50.0]}), NCT)
    assert (result.best_overall_response, result.progression_timepoint_index) == (
        None,
        None,
    )
