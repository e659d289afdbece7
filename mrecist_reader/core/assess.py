"""Assess a read: sums, nadir, changes and responses at every timepoint.

:func:`assess` is a pure function of a :class:`~mrecist_reader.core.model.Read` and a
:class:`~mrecist_reader.core.protocol.ProtocolProfile` implementing mrecist-rules.md
(§Target response, §Non-target response, §New lesions, §Overall response, §Across
timepoints). Every decision carries the reasons behind it.
"""

import logging
from dataclasses import dataclass, replace
from fractions import Fraction

from mrecist_reader.core import rules
from mrecist_reader.core.model import (
    LesionType,
    NewLesions,
    NewLesionStatus,
    NonTargetResponse,
    NonTargetStatus,
    Organ,
    Read,
    Response,
    TargetStatus,
    Timepoint,
)
from mrecist_reader.core.protocol import ProtocolProfile
from mrecist_reader.core.units import Tenths, format_mm

logger = logging.getLogger(__name__)

NODE_GONE_BELOW: Tenths = 100
"""A lymph-node target counts as gone for CR below 10.0 mm short axis (§Profiles)."""


@dataclass(frozen=True, slots=True)
class TimepointAssessment:
    """The assessment of one timepoint (one row of responses.csv); lengths in 0.1 mm.

    Responses are ``None`` at baseline. ``target_sum`` is ``None`` when a target is
    ``not_evaluable``; ``reasons`` explains each decision in words.
    """

    timepoint_index: int
    label: str
    target_sum: Tenths | None
    baseline_sum: Tenths | None
    nadir_sum: Tenths | None
    change_from_baseline_pct: Fraction | None
    change_from_nadir_pct: Fraction | None
    target_response: Response | None
    non_target_response: NonTargetResponse | None
    new_lesions: NewLesions | None
    overall_response: Response | None
    progression_backdated_to: str | None
    best_response_to_date: Response | None
    reasons: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Assessment:
    """The assessment of a whole read.

    ``timepoints`` starts with the baseline; ``reasons`` explains the best overall
    response.
    """

    timepoints: tuple[TimepointAssessment, ...]
    best_overall_response: Response | None
    progression_timepoint_index: int | None
    reasons: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class _TargetState:
    """The targets at one timepoint: sums and what could not be evaluated."""

    total: Tenths | None
    evaluable_total: Tenths
    not_evaluable_ids: tuple[str, ...]
    all_gone: bool
    notes: tuple[str, ...]


def assess(read: Read, profile: ProtocolProfile) -> Assessment:
    """Assess every timepoint of a read and the read as a whole.

    Parameters
    ----------
    read
        The read; its timepoints are taken in ``index`` order, the first is baseline.
    profile
        The protocol profile whose settings apply.

    Returns
    -------
    Assessment
        One :class:`TimepointAssessment` per timepoint (baseline first), the best overall
        response (``None`` with no follow-up) and the progression timepoint's index.

    """
    timepoints = sorted(read.timepoints, key=lambda tp: tp.index)
    states = [_target_state(read, profile, tp) for tp in timepoints]
    backdates = _backdates(read, timepoints)
    rows: list[TimepointAssessment] = []
    for position, timepoint in enumerate(timepoints):
        if position == 0:
            rows.append(_baseline_row(read, timepoint, states[0]))
        else:
            row = _follow_up_row(
                read, profile, timepoints, states, position, backdates, rows[-1]
            )
            rows.append(row)
    progression = _progression_index(rows)
    best, confirmation, reasons = _best_to_date(rows, timepoints, profile)
    rows = _with_best_to_date(rows, timepoints, profile)
    return Assessment(
        timepoints=tuple(rows),
        best_overall_response=best,
        progression_timepoint_index=progression,
        reasons=confirmation + reasons,
    )


def _with_best_to_date(
    rows: list[TimepointAssessment],
    timepoints: list[Timepoint],
    profile: ProtocolProfile,
) -> list[TimepointAssessment]:
    """Set each row's best response to date (§Across timepoints).

    Where the profile requires confirmation, a row also gives the confirmation
    decisions that its own data made or changed ("PR at FU1 not confirmed: FU2 is SD"),
    so that the reasons shown for a timepoint say why its best response is what it is.
    """
    out: list[TimepointAssessment] = []
    said: set[str] = set()
    for i, row in enumerate(rows):
        best, confirmation, _ = _best_to_date(rows[: i + 1], timepoints, profile)
        news = [reason for reason in confirmation if reason not in said]
        said.update(news)
        out.append(
            replace(row, best_response_to_date=best, reasons=(*row.reasons, *news))
        )
    return out


def _target_value(
    profile: ProtocolProfile, status: TargetStatus, diameter: Tenths | None
) -> Tenths | None:
    if status is TargetStatus.ABSENT:
        return 0
    if status is TargetStatus.TOO_SMALL:
        return profile.too_small_value
    if status is TargetStatus.MEASURED:
        return diameter
    return None


def _target_state(read: Read, profile: ProtocolProfile, tp: Timepoint) -> _TargetState:
    """Sum the targets at one timepoint (§Target response: ``absent`` 0, ``too_small``)."""
    evaluable: list[Tenths] = []
    missing: list[str] = []
    notes: list[str] = []
    gone = True
    for lesion in read.lesions_of_type(LesionType.TARGET):
        obs = read.observation(lesion.lesion_id, tp.index)
        status = obs.status if obs is not None else None
        value = (
            _target_value(profile, status, obs.diameter)
            if isinstance(status, TargetStatus) and obs is not None
            else None
        )
        if value is None:
            missing.append(lesion.lesion_id)
            if status is not TargetStatus.NOT_EVALUABLE:
                notes.append(
                    f"{lesion.lesion_id} has no usable measurement at {tp.label}"
                )
            continue
        evaluable.append(value)
        if lesion.organ is Organ.LYMPH_NODE:
            gone = gone and value < NODE_GONE_BELOW
        else:
            gone = gone and status is TargetStatus.ABSENT
    return _TargetState(
        total=None if missing else sum(evaluable),
        evaluable_total=sum(evaluable),
        not_evaluable_ids=tuple(missing),
        all_gone=gone and not missing,
        notes=tuple(notes),
    )


def _baseline_row(
    read: Read, tp: Timepoint, state: _TargetState
) -> TimepointAssessment:
    n_targets = len(read.lesions_of_type(LesionType.TARGET))
    if state.total is None:
        reason = "baseline sum not available: a target has no usable measurement"
    else:
        reason = (
            f"baseline sum {format_mm(state.total)} mm of {n_targets} target lesion(s)"
        )
    return TimepointAssessment(
        timepoint_index=tp.index,
        label=tp.label,
        target_sum=state.total,
        baseline_sum=state.total,
        nadir_sum=None,
        change_from_baseline_pct=_change(state.total, state.total),
        change_from_nadir_pct=None,
        target_response=None,
        non_target_response=None,
        new_lesions=None,
        overall_response=None,
        progression_backdated_to=None,
        best_response_to_date=None,
        reasons=(*state.notes, reason),
    )


def _nadir(states: list[_TargetState], position: int) -> Tenths | None:
    """Smallest sum of any earlier timepoint with every target evaluable (§Target response)."""
    earlier = [s.total for s in states[:position] if s.total is not None]
    return min(earlier) if earlier else None


def _follow_up_row(
    read: Read,
    profile: ProtocolProfile,
    timepoints: list[Timepoint],
    states: list[_TargetState],
    position: int,
    backdates: dict[int, str],
    previous: TimepointAssessment,
) -> TimepointAssessment:
    tp, state = timepoints[position], states[position]
    baseline, nadir = states[0].total, _nadir(states, position)
    target, target_reason = _target_decision(read, profile, state, baseline, nadir)
    after_cr = previous.label if previous.overall_response is Response.CR else None
    non_target, nt_reason = rules.non_target_response(
        _non_target_statuses(read, tp), after_cr_at=after_cr
    )
    new, new_reason = rules.new_lesions(_new_lesion_statuses(read, tp))
    overall, overall_reason = rules.overall_response(target, non_target, new)
    reasons = [*state.notes, target_reason, nt_reason, new_reason, overall_reason]
    backdated = backdates.get(tp.index)
    if backdated is not None:
        reasons.append(
            f"an equivocal new lesion first seen at {backdated} is now unequivocal: "
            f"progression dates from {backdated}"
        )
    total = state.total
    return TimepointAssessment(
        timepoint_index=tp.index,
        label=tp.label,
        target_sum=total,
        baseline_sum=baseline,
        nadir_sum=nadir,
        change_from_baseline_pct=_change(total, baseline),
        change_from_nadir_pct=_change(total, nadir),
        target_response=target,
        non_target_response=non_target,
        new_lesions=new,
        overall_response=overall,
        progression_backdated_to=backdated,
        best_response_to_date=None,
        reasons=tuple(reasons),
    )


def _change(total: Tenths | None, reference: Tenths | None) -> Fraction | None:
    if total is None or reference is None:
        return None
    return rules.percent_change(total, reference)


def _target_decision(
    read: Read,
    profile: ProtocolProfile,
    state: _TargetState,
    baseline: Tenths | None,
    nadir: Tenths | None,
) -> tuple[Response, str]:
    if not read.lesions_of_type(LesionType.TARGET):
        return Response.NE, "no target lesions at baseline: NE"
    if baseline is None or nadir is None:
        return Response.NE, "no baseline sum with every target measured: NE"
    sums = rules.TargetSums(
        total=state.total,
        evaluable_total=state.evaluable_total,
        not_evaluable_ids=state.not_evaluable_ids,
        all_gone=state.all_gone,
        baseline=baseline,
        nadir=nadir,
    )
    return rules.target_response(sums, profile.pd_min_absolute_increase)


def _non_target_statuses(read: Read, tp: Timepoint) -> dict[str, NonTargetStatus]:
    """Status of each baseline non-target; one without a status counts as not evaluable."""
    statuses: dict[str, NonTargetStatus] = {}
    for lesion in read.lesions_of_type(LesionType.NON_TARGET):
        obs = read.observation(lesion.lesion_id, tp.index)
        status = obs.status if obs is not None else None
        statuses[lesion.lesion_id] = (
            status
            if isinstance(status, NonTargetStatus)
            else NonTargetStatus.NOT_EVALUABLE
        )
    return statuses


def _new_lesion_statuses(read: Read, tp: Timepoint) -> dict[str, NewLesionStatus]:
    statuses: dict[str, NewLesionStatus] = {}
    for lesion in read.lesions_of_type(LesionType.NEW):
        obs = read.observation(lesion.lesion_id, tp.index)
        if obs is not None and isinstance(obs.status, NewLesionStatus):
            statuses[lesion.lesion_id] = obs.status
    return statuses


def _backdates(read: Read, timepoints: list[Timepoint]) -> dict[int, str]:
    """Map each timepoint that confirms an equivocal new lesion to where it was first seen.

    §New lesions: the timepoint where a lesion first becomes ``present`` after being
    ``equivocal`` names the earliest timepoint where any such lesion was first seen.
    """
    position_of = {tp.index: pos for pos, tp in enumerate(timepoints)}
    found: dict[int, int] = {}
    for lesion in read.lesions_of_type(LesionType.NEW):
        seen = sorted(
            (position_of[o.timepoint_index], o.status)
            for o in read.observations
            if o.lesion_id == lesion.lesion_id and o.timepoint_index in position_of
        )
        confirming = next(
            (pos for pos, status in seen if status is NewLesionStatus.PRESENT), None
        )
        if confirming is None or seen[0][0] == confirming:
            continue
        first = seen[0][0]
        found[confirming] = min(found.get(confirming, first), first)
    return {timepoints[c].index: timepoints[f].label for c, f in found.items()}


def _progression_index(rows: list[TimepointAssessment]) -> int | None:
    """Earliest timepoint with overall PD or named by a later backdate (§Across timepoints)."""
    index_of = {row.label: row.timepoint_index for row in rows}
    candidates = [r.timepoint_index for r in rows if r.overall_response is Response.PD]
    candidates += [
        index_of[r.progression_backdated_to]
        for r in rows
        if r.progression_backdated_to is not None
    ]
    return min(candidates) if candidates else None


def _day(tp: Timepoint, baseline: Timepoint) -> int | None:
    """Days from baseline: ``study_day``, else the difference of the scan dates."""
    if tp.study_day is not None:
        return tp.study_day
    if tp.scan_date is not None and baseline.scan_date is not None:
        return (tp.scan_date - baseline.scan_date).days
    return None


def _best_to_date(
    rows: list[TimepointAssessment],
    timepoints: list[Timepoint],
    profile: ProtocolProfile,
) -> tuple[Response | None, tuple[str, ...], tuple[str, ...]]:
    """Best overall response from these rows alone (§Across timepoints).

    Returns it with the reasons of confirmation (none when the profile does not
    require it) and those of the choice.
    """
    if len(rows) < 2:
        return None, (), ()
    progression = _progression_index(rows)
    days = {
        row.timepoint_index: _day(tp, timepoints[0])
        for row, tp in zip(rows, timepoints[: len(rows)], strict=True)
    }
    points = [
        rules.ResponseAtDay(row.label, row.overall_response, days[row.timepoint_index])
        for row in rows[1:]
        if row.overall_response is not None
        and (progression is None or row.timepoint_index < progression)
    ]
    reasons: tuple[str, ...] = ()
    if profile.confirmation_required and profile.confirmation_interval_days:
        confirmation = rules.Confirmation(
            profile.confirmation_interval_days, profile.confirmation_max_ne_between
        )
        progressed = next(
            (
                rules.ResponseAtDay(
                    row.label, row.overall_response, days[row.timepoint_index]
                )
                for row in rows
                if row.timepoint_index == progression
                and row.overall_response is not None
            ),
            None,
        )
        confirmed, reasons = rules.confirmed_responses(points, confirmation, progressed)
        points = list(confirmed)
    best, best_reasons = rules.best_overall_response(
        points, has_progression=progression is not None, sd_min_days=profile.sd_min_days
    )
    return best, reasons, best_reasons
