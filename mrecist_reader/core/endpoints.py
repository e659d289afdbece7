"""Trial endpoints per subject: the response at a visit fixed relative to treatment.

A pure function of data implementing ``shared/spec/endpoints.md`` §Per subject: the
anchor day (first or last treatment session, or the baseline scan), the target day, the
candidate scans in the visit window, the chosen scan (nearest non-NE, ties to the
earlier), earlier progression, the SD minimum for disease control, and a reason in words
for every subject and endpoint. Day arithmetic is on whole study days (days from the
baseline scan), exactly.
"""

import logging
from dataclasses import dataclass, replace
from enum import StrEnum
from fractions import Fraction
from typing import TYPE_CHECKING

from mrecist_reader.core.errors import InvalidRead, Problem
from mrecist_reader.core.model import Read, ReadStatus, Response, Timepoint

if TYPE_CHECKING:  # core.assess imports core.protocol, which imports this module
    from mrecist_reader.core.assess import Assessment

logger = logging.getLogger(__name__)

OVERALL_SUFFIX = "_overall"
"""Appended to a target-basis endpoint's name for its overall-basis sensitivity row."""


class EndpointKind(StrEnum):
    """Which endpoint responses make a responder (endpoints.md §Endpoint definitions)."""

    OBJECTIVE = "objective"
    DISEASE_CONTROL = "disease_control"
    COMPLETE = "complete"


class Basis(StrEnum):
    """Which response an endpoint is read from: the targets' or the overall one."""

    TARGET = "target"
    OVERALL = "overall"


class Anchor(StrEnum):
    """The day an endpoint's visit is counted from."""

    FIRST_TREATMENT = "first_treatment"
    LAST_TREATMENT = "last_treatment"
    BASELINE = "baseline"


class EndpointStatus(StrEnum):
    """Whether a subject's endpoint could be assessed (endpoint_subjects.csv ``status``)."""

    ASSESSED = "assessed"
    MISSING = "missing"
    NOT_TREATED = "not_treated"


RESPONDING: dict[EndpointKind, frozenset[Response]] = {
    EndpointKind.OBJECTIVE: frozenset({Response.CR, Response.PR}),
    EndpointKind.DISEASE_CONTROL: frozenset({Response.CR, Response.PR, Response.SD}),
    EndpointKind.COMPLETE: frozenset({Response.CR}),
}
"""The endpoint responses that count as a response, per kind."""

_ANCHOR_WORDS = {
    Anchor.FIRST_TREATMENT: "first",
    Anchor.LAST_TREATMENT: "last",
}


@dataclass(frozen=True, slots=True)
class EndpointDefinition:
    """One endpoint of a protocol profile (an ``[[endpoint]]`` table).

    Attributes
    ----------
    name, label
        Identifier (``ORR30_last``) and title.
    kind
        Which responses count (objective, disease control, complete).
    basis
        Target response or overall response.
    anchor
        First or last treatment session, or the baseline scan (day 0).
    offset_days
        Days from the anchor to the target day.
    window_before_days, window_after_days
        The visit window around the target day, days (inclusive).
    primary
        Whether this is the trial's primary endpoint.

    """

    name: str
    label: str
    kind: EndpointKind
    basis: Basis
    anchor: Anchor
    offset_days: int
    window_before_days: int
    window_after_days: int
    primary: bool = False

    def sensitivity(self) -> "EndpointDefinition":
        """Return the overall-basis twin of a target-basis endpoint (never primary)."""
        return replace(
            self,
            name=self.name + OVERALL_SUFFIX,
            label=f"{self.label} (overall response)",
            basis=Basis.OVERALL,
            primary=False,
        )


def with_sensitivity(
    definitions: tuple[EndpointDefinition, ...],
) -> tuple[EndpointDefinition, ...]:
    """Return the endpoints with each target-basis one followed by its ``_overall`` twin.

    endpoints.md §The trial's endpoints: the overall response is reported beside the
    target response as a sensitivity analysis, in rows named with ``_overall`` appended.
    A twin the profile already defines is not added twice.
    """
    names = {d.name for d in definitions}
    result: list[EndpointDefinition] = []
    for definition in definitions:
        result.append(definition)
        twin = definition.name + OVERALL_SUFFIX
        if definition.basis is Basis.TARGET and twin not in names:
            result.append(definition.sensitivity())
    return tuple(result)


@dataclass(frozen=True, slots=True)
class Treatment:
    """One treatment session of a subject (a row of treatments.csv)."""

    session: int
    study_day: int
    treatment: str = "TACE"


@dataclass(frozen=True, slots=True)
class ScanResponse:
    """The responses of one timepoint of a subject's final read (a responses.csv row).

    ``target_response`` and ``overall_response`` are ``None`` at baseline;
    ``change_from_baseline_pct`` and ``best_response_to_date`` feed the figures only.
    """

    index: int
    label: str
    study_day: int
    target_response: Response | None
    overall_response: Response | None
    is_signed: bool = True
    progression_backdated_to: str | None = None
    change_from_baseline_pct: Fraction | None = None
    best_response_to_date: Response | None = None

    def response(self, basis: Basis) -> Response | None:
        """Return the response of this timepoint on the given basis."""
        if basis is Basis.TARGET:
            return self.target_response
        return self.overall_response


@dataclass(frozen=True, slots=True)
class SubjectCourse:
    """What the endpoints of one subject are derived from: scans and treatment sessions.

    ``timepoints`` may hold drafts (they are ignored); ``treatments`` in session order.
    """

    subject_id: str
    timepoints: tuple[ScanResponse, ...]
    treatments: tuple[Treatment, ...] = ()

    def signed_follow_ups(self) -> tuple[ScanResponse, ...]:
        """Return the signed follow-up timepoints in chronological order."""
        return tuple(
            sorted(
                (tp for tp in self.timepoints if tp.is_signed and tp.index > 0),
                key=lambda tp: (tp.study_day, tp.index),
            )
        )

    def has_signed_baseline(self) -> bool:
        """Return whether the subject's read has a signed baseline."""
        return any(tp.is_signed and tp.index == 0 for tp in self.timepoints)


@dataclass(frozen=True, slots=True)
class EndpointResult:
    """One subject's result for one endpoint (a row of endpoint_subjects.csv).

    ``responder`` is ``None`` when the status is ``missing`` or ``not_treated``.
    """

    subject_id: str
    endpoint: str
    anchor_day: int | None
    target_day: int | None
    timepoint: str | None
    study_day: int | None
    basis_response: Response | None
    endpoint_response: Response | None
    responder: bool | None
    status: EndpointStatus
    reason: str


@dataclass(frozen=True, slots=True)
class _Visit:
    """The anchor and target day of one endpoint for one subject, with their words."""

    anchor_day: int
    target_day: int
    low: int
    high: int
    words: str


def derive_endpoint(
    course: SubjectCourse, definition: EndpointDefinition, *, sd_min_days: int
) -> EndpointResult:
    """Derive one subject's endpoint response (endpoints.md §Per subject, steps 1-7).

    Parameters
    ----------
    course
        The subject's timepoints (drafts are ignored) and treatment sessions.
    definition
        The endpoint.
    sd_min_days
        The profile's SD minimum, days from the baseline scan: an earlier SD is no
        disease control.

    Returns
    -------
    EndpointResult
        The row of endpoint_subjects.csv (without the arm), with its reason in words.

    """
    missing = EndpointResult(
        course.subject_id, definition.name, None, None, None, None, None, None, None,
        EndpointStatus.MISSING, "no signed reads: missing",
    )  # fmt: skip
    if not any(tp.is_signed for tp in course.timepoints):
        return missing
    visit = _visit(course, definition)
    if visit is None:
        treatment = _treatment_name(course)
        return replace(
            missing,
            status=EndpointStatus.NOT_TREATED,
            reason=f"no {treatment} session recorded: not treated",
        )
    base = replace(missing, anchor_day=visit.anchor_day, target_day=visit.target_day)
    chosen = _chosen(course, definition.basis, visit)
    progression = _progression(course, definition.basis)
    if chosen is None:
        return _without_candidate(base, definition, visit, progression)
    return _with_candidate(
        base, definition, chosen, progression, visit=visit, sd_min_days=sd_min_days
    )


def derive_endpoints(
    course: SubjectCourse,
    definitions: tuple[EndpointDefinition, ...],
    *,
    sd_min_days: int,
) -> tuple[EndpointResult, ...]:
    """Derive every endpoint of one subject, in the order of ``definitions``."""
    return tuple(
        derive_endpoint(course, d, sd_min_days=sd_min_days) for d in definitions
    )


def is_responder(definition: EndpointDefinition, response: Response) -> bool:
    """Return whether an endpoint response is in the endpoint's kind (SD rule aside)."""
    return response in RESPONDING[definition.kind]


def _treatment_name(course: SubjectCourse) -> str:
    return course.treatments[0].treatment if course.treatments else "treatment"


def _visit(course: SubjectCourse, definition: EndpointDefinition) -> _Visit | None:
    """Step 1-2: the anchor day and target day, or ``None`` without a session."""
    if definition.anchor is Anchor.BASELINE:
        anchor_day, anchor_words = 0, "the baseline scan (day 0)"
    else:
        if not course.treatments:
            return None
        days = [t.study_day for t in course.treatments]
        anchor_day = (
            min(days) if definition.anchor is Anchor.FIRST_TREATMENT else max(days)
        )
        which = _ANCHOR_WORDS[definition.anchor]
        anchor_words = f"the {which} {_treatment_name(course)} on day {anchor_day}"
    target = anchor_day + definition.offset_days
    return _Visit(
        anchor_day=anchor_day,
        target_day=target,
        low=target - definition.window_before_days,
        high=target + definition.window_after_days,
        words=anchor_words,
    )


def _chosen(course: SubjectCourse, basis: Basis, visit: _Visit) -> ScanResponse | None:
    """Step 2-3: the candidate nearest the target day, preferring a response over NE."""
    candidates = [
        tp
        for tp in course.signed_follow_ups()
        if tp.study_day > visit.anchor_day and visit.low <= tp.study_day <= visit.high
    ]
    if not candidates:
        return None
    evaluable = [tp for tp in candidates if tp.response(basis) is not Response.NE]
    pool = evaluable or candidates
    return min(
        pool, key=lambda tp: (abs(tp.study_day - visit.target_day), tp.study_day)
    )


def _progression(
    course: SubjectCourse, basis: Basis
) -> tuple[ScanResponse, str] | None:
    """Step 4: the basis's progression timepoint among signed ones, with its words.

    Target basis: the earliest target PD. Overall basis: the progression timepoint of
    mrecist-rules.md §Across timepoints, the earliest overall PD or the earliest
    timepoint named by a later timepoint's ``progression_backdated_to``.
    """
    signed = course.signed_follow_ups()
    found: list[tuple[ScanResponse, str]] = [
        (tp, f"{tp.label}, day {tp.study_day}, {basis} PD")
        for tp in signed
        if tp.response(basis) is Response.PD
    ]
    if basis is Basis.OVERALL:
        by_label = {tp.label: tp for tp in signed}
        for tp in signed:
            named = by_label.get(tp.progression_backdated_to or "")
            if named is not None:
                found.append(
                    (
                        named,
                        f"{named.label}, day {named.study_day}, progression "
                        f"backdated from {tp.label}",
                    )
                )
    if not found:
        return None
    return min(found, key=lambda pair: (pair[0].study_day, pair[0].index))


def _window_words(visit: _Visit) -> str:
    return (
        f"day {visit.target_day} ({visit.target_day - visit.anchor_day} days after "
        f"{visit.words}), window day {visit.low} to {visit.high}"
    )


def _without_candidate(
    base: EndpointResult,
    definition: EndpointDefinition,
    visit: _Visit,
    progression: tuple[ScanResponse, str] | None,
) -> EndpointResult:
    """Apply steps 4 and 6 when no signed scan lies in the window."""
    if progression is not None and progression[0].study_day <= visit.target_day:
        scan, words = progression
        return replace(
            base,
            timepoint=scan.label,
            study_day=scan.study_day,
            basis_response=scan.response(definition.basis),
            endpoint_response=Response.PD,
            responder=False,
            status=EndpointStatus.ASSESSED,
            reason=f"no signed scan in the window around {_window_words(visit)}; "
            f"{words} on or before the target day: PD",
        )
    return replace(
        base,
        reason=f"no signed scan in the window around {_window_words(visit)}, and no "
        f"{definition.basis} progression by then: missing",
    )


def _with_candidate(
    base: EndpointResult,
    definition: EndpointDefinition,
    chosen: ScanResponse,
    progression: tuple[ScanResponse, str] | None,
    *,
    visit: _Visit,
    sd_min_days: int,
) -> EndpointResult:
    """Apply steps 4, 5 and 7 to the chosen scan."""
    basis_response = chosen.response(definition.basis)
    if basis_response is None:  # a follow-up always has responses; keep types honest
        basis_response = Response.NE
    where = (
        f"{chosen.label}, day {chosen.study_day}, is "
        f"{chosen.study_day - visit.anchor_day} days after {visit.words}: "
        f"{definition.basis} {basis_response}"
    )
    result = replace(
        base,
        timepoint=chosen.label,
        study_day=chosen.study_day,
        basis_response=basis_response,
        status=EndpointStatus.ASSESSED,
    )
    if progression is not None and progression[0].study_day <= chosen.study_day:
        scan, words = progression
        if scan is not chosen:
            where += f"; {words}, on or before it"
        return replace(
            result,
            endpoint_response=Response.PD,
            responder=False,
            reason=where + ": PD",
        )
    responder = is_responder(definition, basis_response)
    if responder and basis_response is Response.SD and chosen.study_day < sd_min_days:
        responder = False
        where += (
            f" (SD before day {sd_min_days} from the baseline scan is no disease "
            "control)"
        )
    verdict = "responder" if responder else "non-responder"
    return replace(
        result,
        endpoint_response=basis_response,
        responder=responder,
        reason=f"{where}: {verdict}",
    )


@dataclass(frozen=True, slots=True)
class ArmAssignment:
    """A subject's arm (and stratum) from the sponsor's arms.csv (unblinded data)."""

    subject_id: str
    arm: str
    stratum: str = ""


def scans_from_assessment(
    read: Read, assessment: "Assessment"
) -> tuple[ScanResponse, ...]:
    """Return the timepoints of an assessed read as endpoint inputs (drafts marked).

    The study day is the timepoint's ``study_day``, else the days between its scan
    date and the baseline's.

    Raises
    ------
    InvalidRead
        When a signed timepoint has neither a study day nor scan dates to count it.

    """
    baseline = min(read.timepoints, key=lambda tp: tp.index, default=None)
    scans: list[ScanResponse] = []
    problems: list[Problem] = []
    for row in assessment.timepoints:
        timepoint = read.timepoint(row.timepoint_index)
        if timepoint is None or baseline is None:
            continue
        day = _study_day(timepoint, baseline)
        is_signed = timepoint.read_status is ReadStatus.SIGNED
        if day is None and is_signed:
            problems.append(
                Problem(
                    f"{read.key.subject_id} {row.label}: no study day and no scan "
                    "dates to count one from (the endpoints need the day of every "
                    "signed timepoint)",
                    timepoint_index=row.timepoint_index,
                )
            )
            continue
        scans.append(
            ScanResponse(
                index=row.timepoint_index,
                label=row.label,
                study_day=day or 0,
                target_response=row.target_response,
                overall_response=row.overall_response,
                is_signed=is_signed and day is not None,
                progression_backdated_to=row.progression_backdated_to,
                change_from_baseline_pct=row.change_from_baseline_pct,
                best_response_to_date=row.best_response_to_date,
            )
        )
    if problems:
        raise InvalidRead(problems)
    return tuple(scans)


def _study_day(timepoint: Timepoint, baseline: Timepoint) -> int | None:
    if timepoint.study_day is not None:
        return timepoint.study_day
    if timepoint.scan_date is not None and baseline.scan_date is not None:
        return (timepoint.scan_date - baseline.scan_date).days
    return None
