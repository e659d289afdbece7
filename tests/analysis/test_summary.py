"""endpoints.md §Populations and statistics: who is counted where, and the rows."""

from dataclasses import replace

import pytest

from mrecist_reader.analysis.summary import (
    AnalysisError,
    EndpointAnalysis,
    RateRow,
    analyse,
    rate_cells,
)
from mrecist_reader.core.endpoints import (
    Anchor,
    ArmAssignment,
    Basis,
    EndpointDefinition,
    EndpointKind,
    ScanResponse,
    SubjectCourse,
    Treatment,
)
from mrecist_reader.core.model import Response

ORR = EndpointDefinition(
    "ORR30_last", "ORR", EndpointKind.OBJECTIVE, Basis.TARGET,
    Anchor.LAST_TREATMENT, 30, 7, 7, True,
)  # fmt: skip
BASELINE = ScanResponse(0, "BASELINE", 0, None, None)


def course(
    subject: str, response: Response | None, *, treated: bool = True, day: int = 32
) -> SubjectCourse:
    scans: tuple[ScanResponse, ...] = (BASELINE,)
    if response is not None:
        scans += (ScanResponse(1, "FU1", day, response, response),)
    return SubjectCourse(subject, scans, (Treatment(1, 2),) if treated else ())


def rate(analysis: EndpointAnalysis, population: str, arm: str) -> RateRow:
    return next(r for r in analysis.rates if (r.population, r.arm) == (population, arm))


COURSES = {
    "S1": course("S1", Response.PR),
    "S2": course("S2", Response.NE),
    "S3": course("S3", Response.SD),
    "S4": course("S4", Response.PR, treated=False),
    "S5": course("S5", Response.CR, day=80),
}


def test_without_arms_every_subject_with_a_signed_baseline_is_pooled() -> None:
    courses = {
        **COURSES,
        "S6": SubjectCourse("S6", (replace(BASELINE, is_signed=False),)),
    }
    analysis = analyse(courses, [ORR], sd_min_days=28)
    full = rate(analysis, "full", "all")
    assert (full.n, full.responders, analysis.arms) == (5, 1, ())
    assert "S6" in analysis.warnings[0]


def test_missing_and_not_treated_subjects_are_non_responders_of_the_full_set() -> None:
    analysis = analyse(COURSES, [ORR], sd_min_days=28)
    statuses = {s.result.subject_id: str(s.result.status) for s in analysis.subjects}
    assert (statuses["S4"], statuses["S5"]) == ("not_treated", "missing")
    assert rate(analysis, "full", "all").n == 5


def test_the_evaluable_set_holds_subjects_with_an_endpoint_response_ne_included() -> (
    None
):
    evaluable = rate(analyse(COURSES, [ORR], sd_min_days=28), "evaluable", "all")
    assert (evaluable.n, evaluable.responders) == (3, 1)


ARMS = {
    "S1": ArmAssignment("S1", "TACE+X"),
    "S2": ArmAssignment("S2", "TACE+X"),
    "S3": ArmAssignment("S3", "TACE"),
    "S7": ArmAssignment("S7", "TACE"),
}


def test_a_subject_in_arms_without_reads_is_missing() -> None:
    analysis = analyse(COURSES, [ORR], sd_min_days=28, arms=ARMS, control_arm="TACE")
    row = next(s for s in analysis.subjects if s.result.subject_id == "S7")
    assert (row.arm, str(row.result.status)) == ("TACE", "missing")
    assert rate(analysis, "full", "TACE").n == 2


def test_a_subject_with_reads_outside_arms_is_listed_without_arm_and_named() -> None:
    analysis = analyse(COURSES, [ORR], sd_min_days=28, arms=ARMS, control_arm="TACE")
    arms = {s.result.subject_id: s.arm for s in analysis.subjects}
    assert (arms["S4"], rate(analysis, "full", "all").n) == ("", 4)
    assert "S4, S5" in analysis.warnings[0]


def test_the_comparison_row_is_the_other_arm_minus_the_control() -> None:
    analysis = analyse(COURSES, [ORR], sd_min_days=28, arms=ARMS, control_arm="TACE")
    row = rate(analysis, "full", "TACE+X - TACE")
    assert (row.difference, row.p_fisher is not None, row.p_cmh) == (0.5, True, None)


def test_with_strata_the_comparison_has_a_cmh_p() -> None:
    arms = {
        s: replace(a, stratum="A" if s in ("S1", "S3") else "B")
        for s, a in ARMS.items()
    }
    analysis = analyse(COURSES, [ORR], sd_min_days=28, arms=arms, control_arm="TACE")
    assert rate(analysis, "full", "TACE+X - TACE").p_cmh is not None


def test_an_unknown_control_arm_is_refused() -> None:
    with pytest.raises(AnalysisError, match="control arm 'SORAFENIB' is not an arm"):
        analyse(COURSES, [ORR], sd_min_days=28, arms=ARMS, control_arm="SORAFENIB")


def test_rates_and_intervals_are_written_with_4_decimals() -> None:
    cells = rate_cells(RateRow("E", "full", "all", 20, 7, 0.35, (0.15394, 0.59219)))
    assert (cells["rate"], cells["ci_low"], cells["ci_high"], cells["difference"]) == (
        "0.3500",
        "0.1539",
        "0.5922",
        "",
    )
