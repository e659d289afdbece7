"""endpoints.md §Per subject: one test per sentence, then generated subjects.

The generated subjects are checked against the independent reference in
``reference.py``.
"""

from dataclasses import replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mrecist_reader.core.endpoints import (
    Anchor,
    Basis,
    EndpointDefinition,
    EndpointKind,
    EndpointResult,
    EndpointStatus,
    ScanResponse,
    SubjectCourse,
    Treatment,
    derive_endpoint,
    with_sensitivity,
)
from mrecist_reader.core.model import Response
from tests.endpoints.reference import Scan, reference

R = Response
ORR30_LAST = EndpointDefinition(
    name="ORR30_last",
    label="ORR 30 days after the last TACE",
    kind=EndpointKind.OBJECTIVE,
    basis=Basis.TARGET,
    anchor=Anchor.LAST_TREATMENT,
    offset_days=30,
    window_before_days=7,
    window_after_days=7,
    primary=True,
)
DCR30_FIRST = replace(
    ORR30_LAST,
    name="DCR30_first",
    kind=EndpointKind.DISEASE_CONTROL,
    anchor=Anchor.FIRST_TREATMENT,
    primary=False,
)
CR30_FIRST = replace(DCR30_FIRST, name="CR30_first", kind=EndpointKind.COMPLETE)
SD_MIN = 28


def scan(
    index: int,
    day: int,
    target: Response,
    overall: Response | None = None,
    *,
    signed: bool = True,
    backdated_to: str | None = None,
) -> ScanResponse:
    return ScanResponse(
        index=index,
        label=f"FU{index}",
        study_day=day,
        target_response=target,
        overall_response=target if overall is None else overall,
        is_signed=signed,
        progression_backdated_to=backdated_to,
    )


BASELINE = ScanResponse(0, "BASELINE", 0, None, None)


def course(*scans: ScanResponse, sessions: tuple[int, ...] = (2,)) -> SubjectCourse:
    return SubjectCourse(
        subject_id="S001",
        timepoints=(BASELINE, *scans),
        treatments=tuple(Treatment(n, day) for n, day in enumerate(sessions, 1)),
    )


def derive(
    subject: SubjectCourse, endpoint: EndpointDefinition = ORR30_LAST
) -> EndpointResult:
    return derive_endpoint(subject, endpoint, sd_min_days=SD_MIN)


# 1. Anchor day --------------------------------------------------------------------


def test_anchor_of_a_last_treatment_endpoint_is_the_last_session_day() -> None:
    result = derive(course(scan(1, 125, R.PR), sessions=(2, 60, 92)))
    assert (result.anchor_day, result.target_day) == (92, 122)


def test_anchor_of_a_first_treatment_endpoint_is_the_first_session_day() -> None:
    result = derive(course(scan(1, 35, R.PR), sessions=(3, 60, 92)), DCR30_FIRST)
    assert (result.anchor_day, result.target_day) == (3, 33)


def test_baseline_anchor_is_day_zero_and_needs_no_session() -> None:
    endpoint = replace(ORR30_LAST, anchor=Anchor.BASELINE)
    result = derive(course(scan(1, 30, R.PR), sessions=()), endpoint)
    assert (result.anchor_day, result.status, result.responder) == (
        0,
        EndpointStatus.ASSESSED,
        True,
    )


def test_a_subject_without_any_session_is_not_treated() -> None:
    result = derive(course(scan(1, 32, R.PR), sessions=()))
    assert (result.status, result.responder, result.anchor_day) == (
        EndpointStatus.NOT_TREATED,
        None,
        None,
    )
    assert "not treated" in result.reason


# 2. Target day and candidates ------------------------------------------------------


@pytest.mark.parametrize(
    ("day", "chosen"), [(25, "FU1"), (39, "FU1"), (24, None), (40, None)]
)
def test_candidates_lie_in_the_window_bounds_included(
    day: int, chosen: str | None
) -> None:
    result = derive(course(scan(1, day, R.PR)))
    assert result.timepoint == chosen


def test_a_scan_on_the_anchor_day_is_no_candidate() -> None:
    endpoint = replace(ORR30_LAST, offset_days=3, window_before_days=7)
    on_anchor = derive(course(scan(1, 2, R.PR)), endpoint)
    after = derive(course(scan(1, 3, R.PR)), endpoint)
    assert (on_anchor.status, after.timepoint) == (EndpointStatus.MISSING, "FU1")


def test_draft_timepoints_are_no_candidates() -> None:
    result = derive(course(scan(1, 32, R.PR, signed=False)))
    assert result.status is EndpointStatus.MISSING


# 3. The chosen timepoint ------------------------------------------------------------


def test_the_candidate_nearest_the_target_day_is_chosen() -> None:
    result = derive(course(scan(1, 26, R.SD), scan(2, 31, R.PR), scan(3, 38, R.SD)))
    assert (result.timepoint, result.endpoint_response) == ("FU2", R.PR)


def test_a_farther_response_is_preferred_to_a_nearer_ne() -> None:
    result = derive(course(scan(1, 32, R.NE), scan(2, 38, R.PR)))
    assert (result.timepoint, result.endpoint_response) == ("FU2", R.PR)


def test_when_every_candidate_is_ne_the_nearest_ne_is_chosen() -> None:
    result = derive(course(scan(1, 26, R.NE), scan(2, 33, R.NE)))
    assert (result.timepoint, result.endpoint_response, result.responder) == (
        "FU2",
        R.NE,
        False,
    )


def test_a_tie_between_responses_goes_to_the_earlier() -> None:
    result = derive(course(scan(1, 29, R.SD), scan(2, 35, R.PR)))
    assert result.timepoint == "FU1"


def test_a_tie_between_ne_candidates_goes_to_the_earlier() -> None:
    result = derive(course(scan(1, 29, R.NE), scan(2, 35, R.NE)))
    assert result.timepoint == "FU1"


# 4. Progression ---------------------------------------------------------------------


def test_target_basis_new_lesions_do_not_end_the_target_response() -> None:
    result = derive(course(scan(1, 32, R.PR, R.PD)))
    assert (result.endpoint_response, result.responder) == (R.PR, True)


def test_the_overall_twin_of_the_same_scan_is_pd() -> None:
    result = derive(course(scan(1, 32, R.PR, R.PD)), ORR30_LAST.sensitivity())
    assert (result.endpoint, result.endpoint_response, result.responder) == (
        "ORR30_last_overall",
        R.PD,
        False,
    )


def test_an_earlier_target_pd_makes_the_endpoint_pd() -> None:
    subject = course(scan(1, 20, R.PD), scan(2, 60, R.PR), sessions=(2, 30))
    result = derive(subject)
    assert (result.timepoint, result.basis_response, result.endpoint_response) == (
        "FU2",
        R.PR,
        R.PD,
    )


def test_a_target_pd_after_the_chosen_timepoint_does_not_count() -> None:
    result = derive(course(scan(1, 32, R.PR), scan(2, 38, R.PD)))
    assert result.endpoint_response is R.PR


def test_drafts_are_no_evidence_of_progression() -> None:
    result = derive(course(scan(1, 20, R.PD, signed=False), scan(2, 32, R.PR)))
    assert result.endpoint_response is R.PR


def test_overall_progression_is_backdated_to_where_an_equivocal_lesion_was_seen() -> (
    None
):
    subject = course(
        scan(1, 20, R.SD, R.SD),
        scan(2, 32, R.PR, R.PR),
        scan(3, 60, R.PR, R.PD, backdated_to="FU1"),
    )
    result = derive(subject, ORR30_LAST.sensitivity())
    assert (result.timepoint, result.endpoint_response) == ("FU2", R.PD)
    assert "backdated from FU3" in result.reason


def test_without_candidate_an_earlier_progression_gives_pd_and_its_timepoint() -> None:
    result = derive(course(scan(1, 15, R.PD), scan(2, 60, R.PD)))
    assert (
        result.timepoint,
        result.study_day,
        result.basis_response,
        result.endpoint_response,
        result.status,
    ) == ("FU1", 15, R.PD, R.PD, EndpointStatus.ASSESSED)


def test_without_candidate_progression_on_the_target_day_counts() -> None:
    endpoint = replace(ORR30_LAST, window_before_days=0, window_after_days=0)
    result = derive(course(scan(1, 32, R.PD)), endpoint)
    late = derive(course(scan(1, 33, R.PD)), endpoint)
    assert (result.endpoint_response, late.status) == (R.PD, EndpointStatus.MISSING)


# 5. The endpoint response -----------------------------------------------------------


def test_an_sd_before_the_sd_minimum_is_no_disease_control() -> None:
    result = derive(course(scan(1, 27, R.SD)), DCR30_FIRST)
    assert (result.endpoint_response, result.responder) == (R.SD, False)


def test_an_sd_on_the_sd_minimum_day_is_disease_control() -> None:
    result = derive(course(scan(1, 28, R.SD)), DCR30_FIRST)
    assert (result.endpoint_response, result.responder) == (R.SD, True)


# 6. Missing -------------------------------------------------------------------------


def test_no_candidate_and_no_earlier_progression_is_missing() -> None:
    result = derive(course(scan(1, 60, R.PR)))
    assert (result.status, result.responder, result.timepoint) == (
        EndpointStatus.MISSING,
        None,
        None,
    )
    assert "no signed scan in the window" in result.reason


def test_a_subject_without_signed_reads_is_missing() -> None:
    subject = SubjectCourse("S002", (), (Treatment(1, 2),))
    assert derive(subject).status is EndpointStatus.MISSING


# 7. Responder -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("endpoint", "response", "responder"),
    [
        (ORR30_LAST, R.CR, True),
        (ORR30_LAST, R.PR, True),
        (ORR30_LAST, R.SD, False),
        (DCR30_FIRST, R.SD, True),
        (DCR30_FIRST, R.PD, False),
        (CR30_FIRST, R.CR, True),
        (CR30_FIRST, R.PR, False),
    ],
)
def test_responder_when_the_endpoint_response_is_in_the_kind(
    endpoint: EndpointDefinition, response: Response, responder: bool
) -> None:
    assert derive(course(scan(1, 32, response)), endpoint).responder is responder


def test_every_row_gives_its_reason_in_words() -> None:
    subject = course(scan(3, 121, R.PR), sessions=(2, 61, 92))
    result = derive(subject)
    assert result.reason.startswith(
        "FU3, day 121, is 29 days after the last TACE on day 92: target PR"
    )


def test_each_target_endpoint_gets_an_overall_twin() -> None:
    names = [d.name for d in with_sensitivity((ORR30_LAST, DCR30_FIRST))]
    assert names == [
        "ORR30_last",
        "ORR30_last_overall",
        "DCR30_first",
        "DCR30_first_overall",
    ]


# Generated subjects against the reference ---------------------------------------------

RESPONSES = st.sampled_from(["CR", "PR", "SD", "PD", "NE"])


@st.composite
def subjects(draw: st.DrawFn) -> tuple[list[Scan], list[int]]:
    sessions = sorted(draw(st.sets(st.integers(1, 130), max_size=3)))
    count = draw(st.integers(0, 6))
    days = sorted(draw(st.sets(st.integers(1, 240), min_size=count, max_size=count)))
    scans: list[Scan] = [
        (0, "BASELINE", 0, None, None, draw(st.booleans()) or True, None)
    ]
    for index, day in enumerate(days, 1):
        earlier = [s[1] for s in scans[1:]]
        backdate = draw(st.sampled_from([None, *earlier])) if earlier else None
        scans.append(
            (index, f"FU{index}", day, draw(RESPONSES), draw(RESPONSES),
             draw(st.integers(0, 5)) > 0, backdate)
        )  # fmt: skip
    if draw(st.integers(0, 20)) == 0:
        scans = [(*s[:5], False, *s[6:]) for s in scans]
    return scans, sessions


ENDPOINTS = st.builds(
    EndpointDefinition,
    name=st.just("E"),
    label=st.just("E"),
    kind=st.sampled_from(list(EndpointKind)),
    basis=st.sampled_from(list(Basis)),
    anchor=st.sampled_from(list(Anchor)),
    offset_days=st.integers(0, 120),
    window_before_days=st.integers(0, 20),
    window_after_days=st.integers(0, 20),
)


@settings(max_examples=400, deadline=None)
@given(subjects(), ENDPOINTS, st.integers(0, 60))
def test_generated_subjects_match_the_reference(
    subject: tuple[list[Scan], list[int]], endpoint: EndpointDefinition, sd_min: int
) -> None:
    scans, sessions = subject
    course_ = SubjectCourse(
        "S",
        tuple(
            ScanResponse(
                index=i,
                label=label,
                study_day=day,
                target_response=None if t is None else Response(t),
                overall_response=None if o is None else Response(o),
                is_signed=signed,
                progression_backdated_to=back,
            )
            for i, label, day, t, o, signed, back in scans
        ),
        tuple(Treatment(n, d) for n, d in enumerate(sessions, 1)),
    )
    got = derive_endpoint(course_, endpoint, sd_min_days=sd_min)
    expected = reference(
        scans,
        sessions,
        {
            "anchor": str(endpoint.anchor),
            "basis": str(endpoint.basis),
            "kind": str(endpoint.kind),
            "offset_days": endpoint.offset_days,
            "window_before_days": endpoint.window_before_days,
            "window_after_days": endpoint.window_after_days,
        },
        sd_min,
    )
    assert (
        got.anchor_day,
        got.target_day,
        got.timepoint,
        got.study_day,
        _text(got.basis_response),
        _text(got.endpoint_response),
        got.responder,
        str(got.status),
    ) == tuple(expected)
    assert got.reason


def _text(response: Response | None) -> str | None:
    return None if response is None else str(response)
