"""The decision tables of mrecist-rules.md, one small function per table or list.

Each function returns its decision together with a sentence saying why, in the words of
the spec. All arithmetic is exact on :data:`~mrecist_reader.core.units.Tenths`
(cross-multiplication, never floats); see mrecist-rules.md §Arithmetic.
"""

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from fractions import Fraction

from mrecist_reader.core.model import (
    NewLesions,
    NewLesionStatus,
    NonTargetResponse,
    NonTargetStatus,
    Response,
)
from mrecist_reader.core.units import Tenths, format_mm, format_percent

logger = logging.getLogger(__name__)

PD_INCREASE_NUM, PD_INCREASE_DEN = 12, 10
"""PD: the sum is at least 1.2 × the nadir (mrecist-rules.md §Target response, rule 2)."""
PR_LIMIT_NUM, PR_LIMIT_DEN = 7, 10
"""PR: the sum is at most 0.7 × the baseline (rule 4)."""


def percent_change(value: Tenths, reference: Tenths) -> Fraction | None:
    """Return ``(value − reference) / reference × 100`` exactly, or ``None`` if 0."""
    if reference == 0:
        return None
    return Fraction(value - reference, reference) * 100


def describe_change(value: Tenths, reference: Tenths, what: str) -> str:
    """Describe a sum against a reference sum, e.g. ``31.8 % below the baseline 66.0 mm``."""
    change = percent_change(value, reference)
    ref = f"{what} {format_mm(reference)} mm"
    if change is None:
        return f"above the {ref}" if value > 0 else f"equal to the {ref}"
    direction = "below" if change < 0 else "above"
    return f"{format_percent(abs(change))} % {direction} the {ref}"


def is_progression(total: Tenths, nadir: Tenths, min_increase: Tenths) -> bool:
    """Apply the PD test of §Target response, rule 2.

    PD when ``total ≥ 1.2 × nadir`` and ``total − nadir ≥ min_increase``; when the nadir
    is 0 (after CR), PD as soon as ``total > 0`` and ``total ≥ min_increase``.
    """
    if nadir == 0:
        return total > 0 and total >= min_increase
    grew_enough = total * PD_INCREASE_DEN >= PD_INCREASE_NUM * nadir
    return grew_enough and total - nadir >= min_increase


def _progression_reason(total: Tenths, nadir: Tenths, min_increase: Tenths) -> str:
    if nadir == 0:
        return (
            f"viable tumour reappeared after complete response: sum {format_mm(total)} mm"
            " over the nadir 0.0 mm"
        )
    text = f"sum {format_mm(total)} mm is {describe_change(total, nadir, 'nadir')}"
    if min_increase:
        text += f" and at least {format_mm(min_increase)} mm more"
    return text


@dataclass(frozen=True, slots=True)
class TargetSums:
    """What the target response of one follow-up timepoint depends on (lengths in 0.1 mm).

    Attributes
    ----------
    total
        Sum of every target, or ``None`` when a target is ``not_evaluable``.
    evaluable_total
        Sum of the evaluable targets alone.
    not_evaluable_ids
        Lesion ids of the ``not_evaluable`` targets.
    all_gone
        Every target is ``absent`` (a node target: short axis below 10.0 mm).
    baseline, nadir
        The baseline sum and the nadir (§Target response).

    """

    total: Tenths | None
    evaluable_total: Tenths
    not_evaluable_ids: tuple[str, ...]
    all_gone: bool
    baseline: Tenths
    nadir: Tenths


def target_response(sums: TargetSums, min_increase: Tenths) -> tuple[Response, str]:
    """Decide the target response at a follow-up (mrecist-rules.md §Target response).

    Rules in the spec's order: 1 not evaluable (PD if the evaluable targets already show
    it, else NE), 2 PD, 3 CR, 4 PR, 5 SD.
    """
    nadir = sums.nadir
    if sums.total is None:
        missing = ", ".join(sums.not_evaluable_ids)
        evaluable = sums.evaluable_total
        if is_progression(evaluable, nadir, min_increase):
            why = _progression_reason(evaluable, nadir, min_increase)
            return (
                Response.PD,
                f"{missing} not evaluable, but the evaluable targets' {why}: PD",
            )
        return Response.NE, (
            f"{missing} not evaluable and the evaluable targets' sum "
            f"{format_mm(evaluable)} mm does not show progression: NE"
        )
    total = sums.total
    if is_progression(total, nadir, min_increase):
        return Response.PD, f"{_progression_reason(total, nadir, min_increase)}: PD"
    if sums.all_gone:
        return Response.CR, (
            f"every target lesion has gone (no viable tumour left), sum {format_mm(total)} mm: CR"
        )
    if total * PR_LIMIT_DEN <= PR_LIMIT_NUM * sums.baseline:
        return Response.PR, (
            f"sum {format_mm(total)} mm is {describe_change(total, sums.baseline, 'baseline')}: PR"
        )
    return Response.SD, (
        f"sum {format_mm(total)} mm is {describe_change(total, sums.baseline, 'baseline')}"
        f" (PR needs at least 30 % below) and {describe_change(total, nadir, 'nadir')}"
        " (PD needs at least 20 % above): SD"
    )


def non_target_response(
    statuses: Mapping[str, NonTargetStatus], *, after_cr_at: str | None = None
) -> tuple[NonTargetResponse, str]:
    """Decide the non-target response (mrecist-rules.md §Non-target response).

    ``statuses`` maps each baseline non-target's id to its status at this timepoint;
    an empty mapping means there were none at baseline (``NA``). ``after_cr_at`` is the
    label of the previous timepoint when its overall response was CR: a non-target
    ``present`` again is then PD (reappearance after CR).
    """
    if not statuses:
        return NonTargetResponse.NA, "no non-target lesions at baseline: NA"
    progressed = _ids_with(statuses, NonTargetStatus.PROGRESSION)
    if progressed:
        return NonTargetResponse.PD, f"unequivocal progression of {progressed}: PD"
    present = _ids_with(statuses, NonTargetStatus.PRESENT)
    if present and after_cr_at is not None:
        return (
            NonTargetResponse.PD,
            f"{present} reappeared after the CR at {after_cr_at}: PD",
        )
    unknown = _ids_with(statuses, NonTargetStatus.NOT_EVALUABLE)
    if unknown:
        return NonTargetResponse.NE, f"{unknown} not evaluable: NE"
    if all(s is NonTargetStatus.ABSENT for s in statuses.values()):
        return NonTargetResponse.CR, "every non-target lesion has gone: CR"
    return NonTargetResponse.IR_SD, f"enhancement persists in {present}: IR_SD"


def new_lesions(statuses: Mapping[str, NewLesionStatus]) -> tuple[NewLesions, str]:
    """Summarise the new lesions seen at a timepoint (mrecist-rules.md §New lesions)."""
    present = _ids_with(statuses, NewLesionStatus.PRESENT)
    if present:
        return NewLesions.YES, f"unequivocal new lesion {present}: yes"
    equivocal = _ids_with(statuses, NewLesionStatus.EQUIVOCAL)
    if equivocal:
        return NewLesions.EQUIVOCAL, (
            f"equivocal new lesion {equivocal} (not progression unless confirmed): equivocal"
        )
    return NewLesions.NO, "no new lesion: no"


def _ids_with(statuses: Mapping[str, object], wanted: object) -> str:
    return ", ".join(lid for lid, status in statuses.items() if status == wanted)


def overall_response(
    target: Response, non_target: NonTargetResponse, new: NewLesions
) -> tuple[Response, str]:
    """Combine the three responses (mrecist-rules.md §Overall response), row by row."""
    context = f"target {target}, non-target {non_target}, new lesions {new}"
    if (
        target is Response.PD
        or non_target is NonTargetResponse.PD
        or new is NewLesions.YES
    ):
        decision = Response.PD
    elif target is Response.CR:
        fully = non_target in (NonTargetResponse.CR, NonTargetResponse.NA)
        decision = Response.CR if fully else Response.PR
    else:
        decision = target
    return decision, f"{context}: overall {decision}"


@dataclass(frozen=True, slots=True)
class ResponseAtDay:
    """A follow-up's overall response and its days from baseline (``None``: unknown).

    ``unconfirmed`` holds the CR or PR this timepoint had before confirmation turned it
    into SD (``None`` otherwise).
    """

    label: str
    response: Response
    day: int | None
    unconfirmed: Response | None = None


@dataclass(frozen=True, slots=True)
class Confirmation:
    """The settings of "With confirmation" (mrecist-rules.md §Across timepoints)."""

    interval_days: int
    max_ne_between: int


_CONFIRMED_BY: dict[Response, tuple[Response, ...]] = {
    Response.CR: (Response.CR,),
    Response.PR: (Response.PR, Response.CR),
}
"""What may confirm a CR or a PR, and lie between it and its confirmation (with NE)."""


def confirmed_responses(
    timepoints: Sequence[ResponseAtDay],
    confirmation: Confirmation,
    progression: ResponseAtDay | None = None,
) -> tuple[tuple[ResponseAtDay, ...], tuple[str, ...]]:
    """Apply confirmation (mrecist-rules.md §Across timepoints, "With confirmation").

    ``timepoints`` are the follow-ups before the progression timepoint, ``progression``
    that timepoint (it counts as PD). A CR at *i* is confirmed by the first later
    timepoint *j* at least ``interval_days`` after *i* whose response is not NE, when
    *j* is CR and everything between is CR or NE with at most ``max_ne_between`` NE; a
    PR likewise by a PR or CR at *j* with only PR, CR or NE between (RECIST 1.1
    Table 3). An unconfirmed CR or PR becomes SD (the caller then applies the SD
    minimum). Returns the timepoints so decided and a sentence per CR or PR.
    """
    sequence = list(timepoints)
    if progression is not None:
        sequence.append(progression)
    result: list[ResponseAtDay] = []
    reasons: list[str] = []
    for position, point in enumerate(timepoints):
        if point.response not in _CONFIRMED_BY:
            result.append(point)
            continue
        confirmed_at, why_not = _confirmation_of(
            point, sequence[position + 1 :], confirmation, progression
        )
        if confirmed_at is not None:
            reasons.append(
                f"{point.response} at {point.label} confirmed at {confirmed_at}"
            )
            result.append(point)
            continue
        reasons.append(f"{point.response} at {point.label} not confirmed: {why_not}")
        result.append(replace(point, response=Response.SD, unconfirmed=point.response))
    return tuple(result), tuple(reasons)


def _confirmation_of(
    point: ResponseAtDay,
    later: Sequence[ResponseAtDay],
    confirmation: Confirmation,
    progression: ResponseAtDay | None,
) -> tuple[str | None, str]:
    """Return the label that confirms ``point``, or ``None`` and why nothing does."""
    allowed = _CONFIRMED_BY[point.response]
    interval = confirmation.interval_days
    not_evaluable: list[str] = []
    for other in later:
        if other is progression:
            if other.response is Response.PD:
                return None, f"{other.label} is PD"
            return None, f"progression dates from {other.label}"
        if other.response is not Response.NE and other.response not in allowed:
            return None, f"{other.label} is {other.response}"
        if other.response is not Response.NE and _days_apart(point, other, interval):
            if len(not_evaluable) > confirmation.max_ne_between:
                return None, (
                    f"{len(not_evaluable)} not-evaluable timepoints "
                    f"({', '.join(not_evaluable)}) before {other.label}, at most "
                    f"{confirmation.max_ne_between} allowed"
                )
            return other.label, ""
        if other.response is Response.NE:
            not_evaluable.append(other.label)
    if point.day is None:
        return None, f"the day of {point.label} is unknown"
    return None, f"no later evaluable timepoint at least {interval} days after it yet"


def _days_apart(first: ResponseAtDay, second: ResponseAtDay, interval: int) -> bool:
    if first.day is None or second.day is None:
        return False
    return second.day - first.day >= interval


def best_overall_response(
    timepoints: Sequence[ResponseAtDay], *, has_progression: bool, sd_min_days: int
) -> tuple[Response, tuple[str, ...]]:
    """Pick the best overall response (mrecist-rules.md §Across timepoints).

    ``timepoints`` are the follow-ups before the progression timepoint. SD (an
    unconfirmed CR or PR included) counts only at ``sd_min_days`` or more after the
    baseline scan; the best is the first of CR, PR, SD found, else PD when there is a
    progression timepoint, else NE.
    """
    reasons: list[str] = []
    counted: list[ResponseAtDay] = []
    for point in timepoints:
        if point.response is Response.SD and (
            point.day is None or point.day < sd_min_days
        ):
            when = "an unknown day" if point.day is None else f"day {point.day}"
            what = (
                "SD"
                if point.unconfirmed is None
                else f"the unconfirmed {point.unconfirmed} (SD)"
            )
            reasons.append(
                f"{what} at {point.label} ({when}) is earlier than the {sd_min_days} days "
                "from the baseline scan that SD needs to count: ignored"
            )
            continue
        counted.append(point)
    for wanted in (Response.CR, Response.PR, Response.SD):
        found = next((p for p in counted if p.response is wanted), None)
        if found is not None:
            how = (
                ""
                if found.unconfirmed is None
                else f" (the unconfirmed {found.unconfirmed} there counts as SD)"
            )
            reasons.append(
                f"best overall response {wanted}, first at {found.label}{how}"
            )
            return wanted, tuple(reasons)
    if has_progression:
        reasons.append("no CR, PR or qualifying SD before progression: PD")
        return Response.PD, tuple(reasons)
    reasons.append("no CR, PR or qualifying SD and no progression: NE")
    return Response.NE, tuple(reasons)
