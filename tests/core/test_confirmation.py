"""Confirmation of CR and PR as RECIST 1.1 Table 3; reappearance after CR.

mrecist-rules.md §Across timepoints ("With confirmation") and §Non-target response.

RECIST 1.1 (Eisenhauer et al. 2009), Table 3: best overall response when confirmation of
CR and PR is required, from the overall response at a first timepoint and at a
subsequent one. The profile here requires confirmation at least 28 days later, allows
one NE between (unless a test says otherwise) and counts SD from day 42 after the
baseline scan. Follow-ups are 28 days apart from day 42 unless a test gives the days.

The first half runs each row as a sequence of overall responses through the rules'
sequence functions (some rows, e.g. CR then SD, cannot arise from mRECIST measurements:
after a CR any viable tumour is PD); the second half measures lesions and runs
:func:`~mrecist_reader.core.assess.assess`.
"""

from collections.abc import Sequence
from dataclasses import replace

import pytest

from mrecist_reader.core import rules
from mrecist_reader.core.assess import Assessment, assess
from mrecist_reader.core.model import NonTargetResponse, NonTargetStatus, Response
from mrecist_reader.core.protocol import ProtocolProfile
from tests.kit.reads import GENERIC, build_read

CR, PR, SD, PD, NE = (Response.CR, Response.PR, Response.SD, Response.PD, Response.NE)

CONFIRMING = replace(
    GENERIC,
    name="recist_table3",
    confirmation_required=True,
    confirmation_interval_days=28,
    confirmation_max_ne_between=1,
    sd_min_days=42,
)


def profile_allowing(ne_between: int) -> ProtocolProfile:
    return replace(CONFIRMING, confirmation_max_ne_between=ne_between)


def days_from(first: int, count: int, step: int = 28) -> list[int]:
    return [first + step * k for k in range(count)]


def best_of(
    *responses: Response,
    days: Sequence[int] | None = None,
    profile: ProtocolProfile = CONFIRMING,
) -> tuple[Response, tuple[str, ...]]:
    """Best confirmed response of overall responses at follow-ups FU1, FU2, ...

    As §Across timepoints: the timepoints before the first PD are confirmed (the PD
    ends the sequence), then the best is picked with the SD minimum.
    """
    days = days if days is not None else days_from(42, len(responses))
    points = [
        rules.ResponseAtDay(f"FU{k + 1}", response, day)
        for k, (response, day) in enumerate(zip(responses, days, strict=True))
    ]
    first_pd = next((k for k, p in enumerate(points) if p.response is PD), None)
    before = points if first_pd is None else points[:first_pd]
    progression = None if first_pd is None else points[first_pd]
    assert profile.confirmation_interval_days is not None
    confirmation = rules.Confirmation(
        profile.confirmation_interval_days, profile.confirmation_max_ne_between
    )
    confirmed, reasons = rules.confirmed_responses(before, confirmation, progression)
    best, best_reasons = rules.best_overall_response(
        confirmed, has_progression=first_pd is not None, sd_min_days=profile.sd_min_days
    )
    return best, reasons + best_reasons


# ------------------------------------------------------------- Table 3, row by row


@pytest.mark.parametrize(
    ("first", "then", "best"),
    [
        (CR, CR, CR),
        (CR, PR, SD),  # footnote a: the CR is unconfirmed, the PR has no confirmation
        (CR, SD, SD),  # "SD provided minimum criteria for SD duration met"
        (CR, PD, SD),  # likewise
        (CR, NE, SD),  # likewise
        (PR, CR, PR),
        (PR, PR, PR),
        (PR, SD, SD),
        (PR, PD, SD),  # "SD provided minimum criteria for SD duration met"
        (PR, NE, SD),  # likewise
        (NE, NE, NE),
    ],
    ids=lambda r: str(r),
)
def test_table_3_row_when_the_sd_minimum_is_met(
    first: Response, then: Response, best: Response
) -> None:
    assert best_of(first, then, days=[42, 70])[0] is best


@pytest.mark.parametrize(
    ("first", "then", "best"),
    [
        (CR, CR, CR),
        (CR, PD, PD),  # "... otherwise, PD"
        (CR, NE, NE),  # "... otherwise, NE"
        (PR, CR, PR),
        (PR, PR, PR),
        (PR, PD, PD),  # "... otherwise, PD"
        (PR, NE, NE),  # "... otherwise, NE"
    ],
    ids=lambda r: str(r),
)
def test_table_3_row_when_the_first_timepoint_is_before_the_sd_minimum(
    first: Response, then: Response, best: Response
) -> None:
    assert best_of(first, then, days=[28, 56])[0] is best


def test_a_pr_followed_by_sd_then_pr_is_sd_not_a_confirmed_pr() -> None:
    best, reasons = best_of(PR, SD, PR)
    assert best is SD
    assert "PR at FU1 not confirmed: FU2 is SD" in reasons
    assert (
        "PR at FU3 not confirmed: no later evaluable timepoint at least 28 days after "
        "it yet"
    ) in reasons


def test_a_later_pr_pair_is_still_a_confirmed_pr_after_an_sd() -> None:
    assert best_of(PR, SD, PR, PR)[0] is PR


def test_a_cr_cannot_be_confirmed_across_a_pr() -> None:
    best, reasons = best_of(CR, PR, CR)
    assert best is PR  # the PR at FU2 is confirmed by the CR at FU3
    assert "CR at FU1 not confirmed: FU2 is PR" in reasons
    assert "PR at FU2 confirmed at FU3" in reasons


def test_a_cr_after_a_pr_confirms_the_pr() -> None:
    best, reasons = best_of(PR, CR)
    assert best is PR
    assert "PR at FU1 confirmed at FU2" in reasons


def test_a_pr_after_a_cr_is_a_pr_at_best() -> None:
    assert best_of(CR, PR, PR)[0] is PR


def test_confirmation_is_by_the_first_evaluable_timepoint_after_the_interval() -> None:
    # FU2 (day 56) is too soon to confirm FU1 (day 42) but lies between: a CR there
    # is allowed, and FU3 (day 70) confirms.
    assert best_of(CR, CR, CR, days=[42, 56, 70])[0] is CR
    # An SD that is the first evaluable timepoint 28 days on leaves the PR unconfirmed
    # even though a PR follows it.
    assert best_of(PR, PR, SD, PR, days=[42, 56, 70, 98])[0] is SD


def test_the_interval_includes_its_end() -> None:
    assert best_of(PR, PR, days=[42, 70])[0] is PR
    assert best_of(PR, PR, days=[42, 69])[0] is SD


def test_a_pr_without_a_later_timepoint_is_unconfirmed() -> None:
    assert best_of(PR, days=[42])[0] is SD
    assert best_of(PR, days=[41])[0] is NE


# ------------------------------------------------------------- the NE allowance


@pytest.mark.parametrize(
    ("allowed", "sequence", "best"),
    [
        (0, (PR, PR), PR),
        (0, (PR, NE, PR), SD),
        (1, (PR, NE, PR), PR),
        (1, (PR, NE, NE, PR), SD),
        (2, (PR, NE, NE, PR), PR),
        (2, (PR, NE, NE, NE, PR), SD),
        (0, (CR, NE, CR), SD),
        (1, (CR, NE, CR), CR),
        (1, (CR, NE, NE, CR), SD),
        (2, (CR, NE, NE, CR), CR),
    ],
)
def test_not_evaluable_timepoints_allowed_between(
    allowed: int, sequence: tuple[Response, ...], best: Response
) -> None:
    assert best_of(*sequence, profile=profile_allowing(allowed))[0] is best


def test_too_many_not_evaluable_timepoints_are_named() -> None:
    _, reasons = best_of(PR, NE, NE, PR, profile=profile_allowing(1))
    assert (
        "PR at FU1 not confirmed: 2 not-evaluable timepoints (FU2, FU3) before FU4, "
        "at most 1 allowed"
    ) in reasons


def test_nes_inside_the_interval_count_too() -> None:
    # Two NEs at days 49 and 56, both sooner than 28 days after the PR at day 42.
    best = best_of(PR, NE, NE, PR, days=[42, 49, 56, 70], profile=profile_allowing(1))
    assert best[0] is SD


# ------------------------------------------------------------- through assess()

BASE = 50.0
"""Baseline of the one target lesion, mm. 34.0 is PR (−32 %), 36.0 after it SD."""


def assessed(
    targets: list[float | str],
    non_targets: dict[str, list[str | None]] | None = None,
    profile: ProtocolProfile = CONFIRMING,
    days: list[int] | None = None,
) -> Assessment:
    count = len(targets)
    days = days if days is not None else [0, *days_from(42, count - 1)]
    read = build_read(
        {"T1": targets}, non_targets=non_targets, days=days, profile=profile
    )
    return assess(read, profile)


def overall(result: Assessment) -> list[Response | None]:
    return [row.overall_response for row in result.timepoints[1:]]


def test_assess_pr_sd_pr_is_sd_and_says_why_at_the_sd() -> None:
    result = assessed([BASE, 34.0, 36.0, 34.0])
    assert overall(result) == [PR, SD, PR]
    assert [row.best_response_to_date for row in result.timepoints[1:]] == [SD, SD, SD]
    assert "PR at FU1 not confirmed: FU2 is SD" in result.timepoints[2].reasons
    assert result.best_overall_response is SD


def test_assess_pr_pr_is_a_confirmed_pr_from_the_second_timepoint_on() -> None:
    result = assessed([BASE, 34.0, 33.0])
    assert [row.best_response_to_date for row in result.timepoints[1:]] == [SD, PR]
    assert "PR at FU1 confirmed at FU2" in result.timepoints[2].reasons


def test_assess_cr_cr_is_cr() -> None:
    result = assessed([BASE, "absent", "absent"])
    assert overall(result) == [CR, CR]
    assert result.best_overall_response is CR


def test_assess_cr_then_pr_is_sd() -> None:
    # Every target still gone, but the non-target cannot be seen: PR (CR + NE).
    result = assessed(
        [BASE, "absent", "absent"], {"NT1": ["present", "absent", "not_evaluable"]}
    )
    assert overall(result) == [CR, PR]
    assert result.best_overall_response is SD
    assert "CR at FU1 not confirmed: FU2 is PR" in result.reasons


def test_assess_cr_then_pd_is_sd_when_the_cr_meets_the_sd_minimum() -> None:
    result = assessed([BASE, "absent", 5.0])
    assert overall(result) == [CR, PD]
    assert result.best_overall_response is SD
    assert "CR at FU1 not confirmed: FU2 is PD" in result.reasons


def test_assess_cr_then_ne_is_sd_and_ne_before_the_sd_minimum() -> None:
    late = assessed([BASE, "absent", "ne"])
    assert (overall(late), late.best_overall_response) == ([CR, NE], SD)
    early = assessed([BASE, "absent", "ne"], days=[0, 30, 58])
    assert early.best_overall_response is NE
    assert (
        "the unconfirmed CR (SD) at FU1 (day 30) is earlier than the 42 days from the "
        "baseline scan that SD needs to count: ignored"
    ) in early.reasons


def test_assess_pr_then_cr_is_pr() -> None:
    result = assessed([BASE, 34.0, "absent"])
    assert (overall(result), result.best_overall_response) == ([PR, CR], PR)


def test_assess_pr_then_pd_and_pr_then_ne() -> None:
    assert assessed([BASE, 34.0, 45.0]).best_overall_response is SD
    assert assessed([BASE, 34.0, 45.0], days=[0, 30, 58]).best_overall_response is PD
    assert assessed([BASE, 34.0, "ne"]).best_overall_response is SD
    assert assessed([BASE, 34.0, "ne"], days=[0, 30, 58]).best_overall_response is NE


def test_assess_ne_ne_is_ne() -> None:
    result = assessed([BASE, "ne", "ne"])
    assert (overall(result), result.best_overall_response) == ([NE, NE], NE)


@pytest.mark.parametrize(
    ("allowed", "best"), [(0, SD), (1, SD), (2, PR)], ids=["0 NE", "1 NE", "2 NE"]
)
def test_assess_two_nes_between_need_an_allowance_of_two(
    allowed: int, best: Response
) -> None:
    result = assessed([BASE, 34.0, "ne", "ne", 33.0], profile=profile_allowing(allowed))
    assert result.best_overall_response is best


@pytest.mark.parametrize(("allowed", "best"), [(0, SD), (1, PR)])
def test_assess_one_ne_between(allowed: int, best: Response) -> None:
    result = assessed([BASE, 34.0, "ne", 33.0], profile=profile_allowing(allowed))
    assert result.best_overall_response is best


def test_a_backdated_progression_confirms_nothing() -> None:
    # FU2's equivocal new lesion is confirmed at FU3: progression dates from FU2,
    # so the PR at FU1 has nothing to be confirmed by.
    read = build_read(
        {"T1": [BASE, 34.0, 33.0, 33.0]},
        new={"N1": [None, None, "equivocal", "present"]},
        days=[0, 42, 70, 98],
        profile=CONFIRMING,
    )
    result = assess(read, CONFIRMING)
    assert [row.best_response_to_date for row in result.timepoints[1:]] == [SD, PR, SD]
    assert "PR at FU1 not confirmed: progression dates from FU2" in result.reasons


def test_without_confirmation_a_pr_sd_pr_read_is_pr() -> None:
    profile = replace(CONFIRMING, confirmation_required=False)
    assert (
        assessed([BASE, 34.0, 36.0, 34.0], profile=profile).best_overall_response is PR
    )


# ------------------------------------------------------------- reappearance after CR


def test_a_non_target_present_right_after_a_cr_is_pd() -> None:
    result = assessed(
        [BASE, 34.0, "absent", "absent"],
        {"NT1": ["present", "absent", "absent", "absent"],
         "NT2": ["present", "present", "absent", "present"]},
    )  # fmt: skip
    fu3 = result.timepoints[3]
    assert overall(result) == [PR, CR, PD]
    assert fu3.non_target_response is NonTargetResponse.PD
    assert "NT2 reappeared after the CR at FU2: PD" in fu3.reasons
    assert result.progression_timepoint_index == 3


def test_a_non_target_present_after_an_ne_that_followed_the_cr_is_not_pd() -> None:
    # The spec looks at the previous timepoint only: FU3 is NE, so FU4's NT1 persists.
    result = assessed(
        [BASE, "absent", "absent", "ne", "absent"],
        {"NT1": ["present", "absent", "absent", "absent", "present"]},
    )
    assert overall(result) == [CR, CR, NE, PR]
    assert result.timepoints[4].non_target_response is NonTargetResponse.IR_SD


def test_a_non_target_present_after_a_pr_is_not_pd() -> None:
    result = assessed(
        [BASE, "absent", "absent"], {"NT1": ["present", "present", "present"]}
    )
    assert overall(result) == [PR, PR]


def test_reappearance_outranks_another_non_target_not_evaluable() -> None:
    statuses = {"NT1": NonTargetStatus.PRESENT, "NT2": NonTargetStatus.NOT_EVALUABLE}
    assert rules.non_target_response(statuses, after_cr_at="FU2") == (
        NonTargetResponse.PD,
        "NT1 reappeared after the CR at FU2: PD",
    )
    assert rules.non_target_response(statuses)[0] is NonTargetResponse.NE


def test_only_non_targets_present_again_are_named() -> None:
    statuses = {
        "NT1": NonTargetStatus.ABSENT,
        "NT2": NonTargetStatus.PRESENT,
        "NT3": NonTargetStatus.PRESENT,
    }
    assert rules.non_target_response(statuses, after_cr_at="FU1")[1] == (
        "NT2, NT3 reappeared after the CR at FU1: PD"
    )
