"""A follow-up is complete only when every lesion known before it has a status there."""

from fractions import Fraction

import pytest

from mrecist_reader.core.completeness import (
    assess_complete,
    complete_through,
    missing_statuses,
    timepoint_gaps,
    without_response,
)
from mrecist_reader.core.errors import MrecistError
from mrecist_reader.core.model import Response
from mrecist_reader.core.thresholds import response_thresholds
from tests.kit.reads import GENERIC, NCT, build_read


def test_an_equivocal_new_lesion_without_a_status_later_is_missing() -> None:
    read = build_read({"T1": [60.0, 58.0, 58.0]}, new={"N1": [None, "equivocal", None]})
    assert missing_statuses(read, 2) == (
        "N1 (new, first seen at FU1): no status at FU2",
    )
    assert missing_statuses(read, 1) == ()  # first seen there: nothing known before
    assert complete_through(read, NCT) == 1
    assessment = assess_complete(read, NCT)
    assert assessment is not None
    assert [row.label for row in assessment.timepoints] == ["BASELINE", "FU1"]


def test_with_its_status_the_confirmed_new_lesion_makes_fu2_pd() -> None:
    read = build_read(
        {"T1": [60.0, 58.0, 58.0]}, new={"N1": [None, "equivocal", "present"]}
    )
    assessment = assess_complete(read, NCT)
    assert assessment is not None
    fu2 = assessment.timepoints[-1]
    assert (fu2.label, fu2.overall_response) == ("FU2", Response.PD)


def test_targets_and_non_targets_are_named_in_the_files_order() -> None:
    read = build_read(
        {"T1": [60.0, 50.0], "T2": [40.0, None]},
        non_targets={"NT1": ["present", None]},
        new={},
    )
    assert missing_statuses(read, 1) == (
        "T2 (target): no status at FU1",
        "NT1 (non-target): no status at FU1",
    )


def test_gaps_name_each_missing_status_once_then_the_other_problems() -> None:
    read = build_read({"T1": [60.0, 50.0], "T2": [20.0, None]})
    messages = [problem.message for problem in timepoint_gaps(read, NCT, 1)]
    assert messages[0] == "T2 (target): no status at FU1"
    assert sum("T2" in m and "FU1" in m for m in messages) == 1
    assert any("20.0 mm is outside the allowed range" in m for m in messages)


def test_a_complete_timepoint_after_an_incomplete_one_gets_no_response() -> None:
    read = build_read({"T1": [60.0, 50.0, 40.0], "T2": [40.0, None, 30.0]})
    assert complete_through(read, NCT) == 0
    assert [(tp.label, why) for tp, why in without_response(read, NCT)] == [
        ("FU1", "T2 (target) not assessed"),
        ("FU2", "FU1 is incomplete"),
    ]


def test_a_read_without_a_complete_baseline_has_no_assessment() -> None:
    read = build_read({"T1": [20.0, 10.0]})  # below the trial's 30 mm
    assert assess_complete(read, NCT) is None
    assert assess_complete(read, GENERIC) is not None
    first, _ = without_response(read, NCT)
    assert first[0].label == "BASELINE"
    assert "outside the allowed range" in first[1]


def test_an_unknown_timepoint_is_refused_in_words() -> None:
    read = build_read({"T1": [60.0]})
    with pytest.raises(MrecistError, match="no timepoint with index 4"):
        missing_statuses(read, 4)


def test_thresholds_come_from_the_rules_and_the_profile() -> None:
    thresholds = response_thresholds(NCT)
    assert (thresholds.pr_fraction, thresholds.pd_fraction) == (
        Fraction(7, 10),
        Fraction(6, 5),
    )
    assert thresholds.pr_limit(600) == 420
    assert thresholds.pd_limit(500) == 600


def test_the_pd_line_honours_an_absolute_minimum_increase() -> None:
    from dataclasses import replace

    strict = response_thresholds(replace(NCT, pd_min_absolute_increase=50))
    assert strict.pd_limit(100) == 150  # 1.2 x 10 mm is 12 mm, but 5 mm more is needed
    assert strict.pd_limit(500) == 600
    assert strict.pd_limit(0) == 50  # after CR: at least the minimum


def test_a_problem_at_fu1_ends_the_complete_run_there() -> None:
    read = build_read({"T1": [60.0, 50.0, 40.0]}, days=[0, 0, 60])
    assert complete_through(read, NCT) == 0
    gaps = without_response(read, NCT)
    assert [tp.label for tp, _ in gaps] == ["FU1", "FU2"]
    assert "study day 0 is not after" in gaps[0][1]
    assert gaps[1][1] == "FU1 is incomplete"
