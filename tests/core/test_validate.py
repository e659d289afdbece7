"""validate_read() and check_target(): mrecist-rules.md §Profiles and §Lesions at baseline."""

from dataclasses import replace

import pytest

from mrecist_reader.core.errors import RuleViolation
from mrecist_reader.core.model import (
    Criteria,
    Lesion,
    LesionType,
    NonTargetStatus,
    Observation,
    Organ,
    TargetStatus,
    Timepoint,
)
from mrecist_reader.core.validate import check_target, validate_read
from tests.kit.reads import GENERIC, NCT, RECIST_LIKE, build_read


def messages(read: object, profile: object = NCT) -> list[str]:
    return [p.message for p in validate_read(read, profile)]  # type: ignore[arg-type]


def test_a_complete_read_within_the_rules_has_no_problem() -> None:
    read = build_read(
        {"T1": [45.0, 30.0], "T2": [32.0, "absent"]},
        non_targets={"NT1": ["present", "present"]},
        new={"N1": [None, "equivocal"]},
    )
    assert messages(read) == []


@pytest.mark.parametrize("baseline_mm", [30.0, 100.0])
def test_baseline_targets_at_the_range_ends_are_allowed(baseline_mm: float) -> None:
    assert messages(build_read({"T1": [baseline_mm, 20.0]})) == []


@pytest.mark.parametrize("baseline_mm", [29.9, 100.1])
def test_baseline_targets_just_outside_the_range_are_refused(
    baseline_mm: float,
) -> None:
    assert messages(build_read({"T1": [45.0, 40.0], "T3": [baseline_mm, 20.0]})) == [
        f"T3: baseline viable diameter {baseline_mm} mm is outside the allowed range "
        "30.0–100.0 mm for target lesions of profile nct06779461; it may be recorded as "
        "a non-target lesion"
    ]


def test_follow_up_values_have_no_range() -> None:
    assert messages(build_read({"T1": [45.0, 150.0, 0.1]})) == []


def test_the_generic_profile_has_no_upper_limit() -> None:
    assert messages(build_read({"T1": [250.0, 20.0]}, profile=GENERIC), GENERIC) == []


def test_more_than_two_targets_in_one_organ_is_refused() -> None:
    read = build_read({"T1": [45.0, 40.0], "T2": [35.0, 30.0], "T3": [40.0, 30.0]})
    assert messages(read) == [
        "T1, T2, T3: 3 target lesions in the liver; profile nct06779461 allows at most "
        "2 per organ"
    ]


def test_more_than_five_targets_in_total_is_refused() -> None:
    organs = [
        Organ.LIVER,
        Organ.LIVER,
        Organ.LUNG,
        Organ.LUNG,
        Organ.PERITONEUM,
        Organ.OTHER,
    ]
    read = build_read(
        {f"T{i}": [40.0, 40.0] for i in range(1, 7)},
        organs={f"T{i}": organ for i, organ in enumerate(organs, start=1)},
    )
    assert messages(read) == [
        "6 target lesions; profile nct06779461 allows at most 5 in total"
    ]


def test_at_least_one_target_must_reach_the_profiles_minimum_when_set() -> None:
    profile = replace(GENERIC, at_least_one_target_min=300)
    read = build_read({"T1": [29.9, 20.0], "T2": [15.0, 10.0]}, profile=profile)
    assert messages(read, profile) == [
        "no target lesion reaches the 30.0 mm baseline viable diameter that at least one "
        "target needs under profile mrecist (largest: T1, 29.9 mm)"
    ]
    read_ok = build_read({"T1": [30.0, 20.0], "T2": [15.0, 10.0]}, profile=profile)
    assert messages(read_ok, profile) == []


def test_lymph_node_targets_are_refused_by_the_shipped_profiles() -> None:
    read = build_read({"T1": [40.0, 30.0]}, organs={"T1": Organ.LYMPH_NODE})
    assert messages(read) == [
        "T1: lymph-node targets are not allowed by profile nct06779461; it may be "
        "recorded as a non-target lesion"
    ]


def test_node_targets_need_the_minimum_short_axis_when_allowed() -> None:
    organs = {"T1": Organ.LYMPH_NODE}
    too_small = build_read({"T1": [14.9, 10.0]}, organs=organs, profile=RECIST_LIKE)
    assert (
        "baseline short axis 14.9 mm is outside" in messages(too_small, RECIST_LIKE)[0]
    )
    fine = build_read({"T1": [15.0, 10.0]}, organs=organs, profile=RECIST_LIKE)
    assert messages(fine, RECIST_LIKE) == []


def test_diameter_must_fit_the_status() -> None:
    read = build_read({"T1": [40.0, 30.0, 30.0, 30.0]})
    observations = {(o.lesion_id, o.timepoint_index): o for o in read.observations}
    observations[("T1", 1)] = Observation("T1", 1, TargetStatus.ABSENT, 12)
    observations[("T1", 2)] = Observation("T1", 2, TargetStatus.TOO_SMALL, 40)
    observations[("T1", 3)] = Observation("T1", 3, TargetStatus.MEASURED, 0)
    broken = replace(read, observations=tuple(observations.values()))
    assert messages(broken) == [
        "T1 at FU1: status absent with diameter 1.2 mm, expected 0.0 mm",
        "T1 at FU2: status too_small with diameter 4.0 mm, expected 5.0 mm (the "
        "profile's value)",
        "T1 at FU3: status measured with diameter 0.0 mm, expected a diameter above 0.0 mm",
    ]


def test_a_new_lesion_may_carry_its_measured_diameter() -> None:
    read = build_read(
        {"T1": [40.0, 30.0, 30.0]},
        non_targets={"NT1": ["present", "present", "present"]},
        new={"N1": [None, "equivocal", "present"]},
    )
    observations = {(o.lesion_id, o.timepoint_index): o for o in read.observations}
    observations[("N1", 1)] = replace(observations[("N1", 1)], diameter=80)
    observations[("N1", 2)] = replace(observations[("N1", 2)], diameter=142)
    assert messages(replace(read, observations=tuple(observations.values()))) == []
    observations[("N1", 2)] = replace(observations[("N1", 2)], diameter=0)
    observations[("NT1", 1)] = replace(observations[("NT1", 1)], diameter=120)
    assert messages(replace(read, observations=tuple(observations.values()))) == [
        "NT1 at FU1: diameter 12.0 mm given, expected empty",
        "N1 at FU2: diameter 0.0 mm given, expected empty or the new lesion's measured "
        "longest diameter above 0.0 mm",
    ]


def test_status_must_belong_to_the_lesion_type() -> None:
    read = build_read({"T1": [40.0, 30.0]})
    wrong = Observation("T1", 1, NonTargetStatus.PROGRESSION)
    broken = replace(read, observations=(read.observations[0], wrong))
    assert messages(broken) == [
        "T1 at FU1: status progression is not allowed for a target lesion (allowed: "
        "measured, too_small, absent, not_evaluable)"
    ]


def test_every_baseline_target_is_followed_at_every_timepoint() -> None:
    assert messages(build_read({"T1": [40.0, 30.0], "T2": [35.0, None]})) == [
        "T2: no status at FU1 (every baseline target lesion is followed at every timepoint)"
    ]


def test_a_non_target_first_seen_at_follow_up_is_refused() -> None:
    read = build_read({"T1": [40.0, 30.0]}, non_targets={"NT1": [None, "present"]})
    assert messages(read) == [
        "NT1: a non_target lesion must be recorded at baseline (a lesion first seen later "
        "is a new lesion)"
    ]


def test_a_new_lesion_at_baseline_is_refused() -> None:
    read = build_read({"T1": [40.0, 30.0]}, new={"N1": ["present", None]})
    assert messages(read) == [
        "N1: a new lesion cannot be recorded at baseline (record it as a target or "
        "non-target lesion)"
    ]


def test_a_target_must_be_measured_at_baseline() -> None:
    assert messages(build_read({"T1": ["too_small", "absent"]})) == [
        "T1: a target lesion must be measured at baseline (status is too_small)"
    ]


def test_timepoint_indices_must_be_0_to_n_and_unique() -> None:
    read = build_read({"T1": [40.0, 30.0]})
    gap = replace(
        read, timepoints=(read.timepoints[0], Timepoint(2, "FU2", study_day=60))
    )
    assert "timepoint indices [0, 2] are not 0, 1, 2, ... without gaps" in messages(gap)


def test_study_days_must_increase() -> None:
    read = build_read({"T1": [40.0, 30.0, 30.0]}, days=[0, 30, 30])
    assert messages(read) == ["FU2: study day 30 is not after FU1's study day 30"]


def test_a_read_needs_a_target_lesion() -> None:
    read = build_read({}, non_targets={"NT1": ["present", "present"]})
    assert messages(read) == ["the read has no target lesion at baseline"]


def test_check_target_refuses_an_out_of_range_lesion_naming_value_and_range() -> None:
    read = build_read({"T1": [45.0]})
    lesion = Lesion("T3", LesionType.NON_TARGET, Organ.LIVER)
    with pytest.raises(
        RuleViolation, match=r"T3: baseline viable diameter 29\.9 mm"
    ) as error:
        check_target(read, NCT, lesion, 299)
    assert (error.value.value, error.value.allowed) == ("29.9 mm", "30.0–100.0 mm")


def test_check_target_refuses_a_third_target_in_the_same_organ() -> None:
    read = build_read({"T1": [45.0], "T2": [35.0]})
    with pytest.raises(RuleViolation, match="allows at most 2 per organ"):
        check_target(read, NCT, Lesion("T3", LesionType.TARGET, Organ.LIVER), 400)


def test_check_target_accepts_a_lesion_within_the_rules() -> None:
    read = build_read({"T1": [45.0], "T2": [35.0]})
    check_target(read, NCT, Lesion("T3", LesionType.TARGET, Organ.LUNG), 300)
    check_target(read, NCT, Lesion("T2", LesionType.TARGET, Organ.LIVER), 1000)


def test_the_reads_criteria_must_be_the_profiles() -> None:
    read = replace(build_read({"T1": [40.0, 30.0]}), criteria=Criteria.RECIST_1_1)
    assert messages(read) == [
        "criteria RECIST1.1 differs from mRECIST of profile nct06779461"
    ]
