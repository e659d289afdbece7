"""Checks that a read follows the rules of its protocol profile (mrecist-rules.md).

:func:`validate_read` lists every problem of a whole read (used on import and before
sign-off); :func:`check_target` refuses one lesion about to become a target (used
interactively). Messages name the lesion, the timepoint, the value and what is allowed.
"""

import itertools
import logging
from collections import Counter
from collections.abc import Iterator

from mrecist_reader.core.errors import Problem, RuleViolation
from mrecist_reader.core.model import (
    STATUSES_BY_TYPE,
    Lesion,
    LesionType,
    Observation,
    Organ,
    Read,
    TargetStatus,
)
from mrecist_reader.core.protocol import ProtocolProfile
from mrecist_reader.core.units import Tenths, format_mm

logger = logging.getLogger(__name__)


def validate_read(read: Read, profile: ProtocolProfile) -> tuple[Problem, ...]:
    """Return every problem of a read under a profile (empty when it is valid).

    Checks, in this order: timepoints (indices 0..n unique, study days increasing),
    lesions and observations (unique ids, known lesion and timepoint, status allowed for
    the lesion type, diameter consistent with the status), baseline targets (measured,
    size range, lymph nodes, per-organ and total limits, the "at least one" minimum),
    and follow-up (every target and non-target at every timepoint, non-targets created at
    baseline, no new lesion at baseline).
    """
    problems = [
        *_criteria_problems(read, profile),
        *_timepoint_problems(read),
        *_lesion_problems(read),
        *_observation_problems(read, profile),
        *_baseline_target_problems(read, profile),
        *_follow_up_problems(read),
    ]
    return tuple(problems)


def check_target(
    read: Read, profile: ProtocolProfile, lesion: Lesion, baseline_diameter: Tenths
) -> None:
    """Refuse a lesion about to become a target when the profile does not allow it.

    Parameters
    ----------
    read
        The read as it is now (its current targets count towards the limits).
    profile
        The protocol profile whose size range and limits apply.
    lesion
        The lesion to designate (its ``lesion_type`` is ignored).
    baseline_diameter
        Its baseline viable diameter (short axis for a lymph node), tenths of a mm.

    Raises
    ------
    RuleViolation
        Naming the lesion, its value and the allowed range, or the limit it would break.

    """
    message = _size_problem(profile, lesion, baseline_diameter)
    if message is None:
        others = [
            t
            for t in read.lesions_of_type(LesionType.TARGET)
            if t.lesion_id != lesion.lesion_id
        ]
        message = next(iter(_limit_problems(profile, [*others, lesion])), None)
    if message is not None:
        raise RuleViolation(
            message,
            lesion_id=lesion.lesion_id,
            value=f"{format_mm(baseline_diameter)} mm",
            allowed=_allowed_range(profile, lesion),
        )


def _label(read: Read, index: int) -> str:
    timepoint = read.timepoint(index)
    return timepoint.label if timepoint is not None else f"timepoint {index}"


def _criteria_problems(read: Read, profile: ProtocolProfile) -> Iterator[Problem]:
    if read.criteria is not profile.criteria:
        yield Problem(
            f"criteria {read.criteria} differs from {profile.criteria} of profile "
            f"{profile.name}",
            field="criteria",
        )


def _timepoint_problems(read: Read) -> Iterator[Problem]:
    indices = sorted(tp.index for tp in read.timepoints)
    if not indices:
        yield Problem("the read has no timepoints")
        return
    if 0 not in indices:
        yield Problem("the read has no baseline (timepoint index 0)")
    for index, count in sorted(Counter(indices).items()):
        if count > 1:
            yield Problem(
                f"timepoint index {index} is used {count} times", timepoint_index=index
            )
    expected = list(range(len(set(indices))))
    if sorted(set(indices)) != expected and 0 in indices:
        yield Problem(
            f"timepoint indices {sorted(set(indices))} are not 0, 1, 2, ... without gaps"
        )
    for label, count in Counter(tp.label for tp in read.timepoints).items():
        if count > 1:
            yield Problem(f"timepoint label {label!r} is used by {count} timepoints")
    yield from _study_day_problems(read)


def _study_day_problems(read: Read) -> Iterator[Problem]:
    ordered = sorted(read.timepoints, key=lambda tp: tp.index)
    if ordered and ordered[0].index == 0 and ordered[0].study_day not in (None, 0):
        yield Problem(
            f"{ordered[0].label}: baseline study day is {ordered[0].study_day}, expected 0",
            timepoint_index=0,
            field="study_day",
        )
    for before, after in itertools.pairwise(ordered):
        if (
            before.study_day is not None
            and after.study_day is not None
            and after.study_day <= before.study_day
        ):
            yield Problem(
                f"{after.label}: study day {after.study_day} is not after "
                f"{before.label}'s study day {before.study_day}",
                timepoint_index=after.index,
                field="study_day",
            )
        if before.scan_date and after.scan_date and after.scan_date <= before.scan_date:
            yield Problem(
                f"{after.label}: scan date is not after {before.label}'s scan date",
                timepoint_index=after.index,
                field="scan_date",
            )


def _lesion_problems(read: Read) -> Iterator[Problem]:
    for lesion_id, count in Counter(les.lesion_id for les in read.lesions).items():
        if count > 1:
            yield Problem(
                f"lesion id {lesion_id} is used by {count} lesions", lesion_id=lesion_id
            )
    known_lesions = {les.lesion_id for les in read.lesions}
    known_indices = {tp.index for tp in read.timepoints}
    seen: Counter[tuple[str, int]] = Counter()
    for obs in read.observations:
        seen[(obs.lesion_id, obs.timepoint_index)] += 1
        if obs.lesion_id not in known_lesions:
            yield Problem(
                f"{obs.lesion_id}: observation of an unknown lesion",
                lesion_id=obs.lesion_id,
            )
        if obs.timepoint_index not in known_indices:
            yield Problem(
                f"{obs.lesion_id}: observation at unknown timepoint index {obs.timepoint_index}",
                lesion_id=obs.lesion_id,
                timepoint_index=obs.timepoint_index,
            )
    for (lesion_id, index), count in seen.items():
        if count > 1:
            yield Problem(
                f"{lesion_id} at {_label(read, index)}: recorded {count} times",
                lesion_id=lesion_id,
                timepoint_index=index,
            )


def _observation_problems(read: Read, profile: ProtocolProfile) -> Iterator[Problem]:
    lesions = {les.lesion_id: les for les in read.lesions}
    for obs in read.observations:
        lesion = lesions.get(obs.lesion_id)
        if lesion is None:
            continue
        allowed = STATUSES_BY_TYPE[lesion.lesion_type]
        where = f"{obs.lesion_id} at {_label(read, obs.timepoint_index)}"
        if not isinstance(obs.status, allowed):
            yield _problem(
                f"{where}: status {obs.status} is not allowed for a {lesion.lesion_type} "
                f"lesion (allowed: {', '.join(str(s) for s in allowed)})",
                obs,
                "status",
            )
            continue
        message = _diameter_problem(profile, lesion, obs)
        if message is not None:
            yield _problem(f"{where}: {message}", obs, "viable_diameter_mm")


def _problem(message: str, obs: Observation, field: str) -> Problem:
    return Problem(
        message,
        lesion_id=obs.lesion_id,
        timepoint_index=obs.timepoint_index,
        field=field,
    )


def _diameter_problem(
    profile: ProtocolProfile, lesion: Lesion, obs: Observation
) -> str | None:
    """Whether the recorded diameter fits the lesion and its status.

    Targets: mrecist-rules.md §Target response. A new lesion may carry its measured
    longest diameter (data-transfer.md ``viable_diameter_mm``), a non-target none.
    """
    diameter = obs.diameter
    shown = "empty" if diameter is None else f"{format_mm(diameter)} mm"
    if lesion.lesion_type is LesionType.NEW:
        if diameter is None or diameter > 0:
            return None
        return (
            f"diameter {shown} given, expected empty or the new lesion's measured "
            "longest diameter above 0.0 mm"
        )
    if lesion.lesion_type is not LesionType.TARGET:
        return None if diameter is None else f"diameter {shown} given, expected empty"
    expected: dict[TargetStatus, str] = {
        TargetStatus.ABSENT: "0.0 mm",
        TargetStatus.TOO_SMALL: f"{format_mm(profile.too_small_value)} mm (the profile's value)",
        TargetStatus.MEASURED: "a diameter above 0.0 mm",
        TargetStatus.NOT_EVALUABLE: "empty",
    }
    status = TargetStatus(obs.status)
    fits = {
        TargetStatus.ABSENT: diameter == 0,
        TargetStatus.TOO_SMALL: diameter == profile.too_small_value,
        TargetStatus.MEASURED: diameter is not None and diameter > 0,
        TargetStatus.NOT_EVALUABLE: diameter is None,
    }[status]
    if fits:
        return None
    return f"status {status} with diameter {shown}, expected {expected[status]}"


def _allowed_range(profile: ProtocolProfile, lesion: Lesion) -> str:
    low = profile.target_min_baseline
    if lesion.organ is Organ.LYMPH_NODE and profile.node_min_short_axis is not None:
        low = profile.node_min_short_axis
    high = profile.target_max_baseline
    if high is None:
        return f"{format_mm(low)} mm or more"
    return f"{format_mm(low)}–{format_mm(high)} mm"


def _size_problem(
    profile: ProtocolProfile, lesion: Lesion, diameter: Tenths
) -> str | None:
    """Check the baseline size range, inclusive at both ends (mrecist-rules.md §Profiles)."""
    lid = lesion.lesion_id
    if lesion.organ is Organ.LYMPH_NODE:
        if not profile.lymph_node_targets_allowed:
            return (
                f"{lid}: lymph-node targets are not allowed by profile {profile.name}; "
                "it may be recorded as a non-target lesion"
            )
        low = profile.node_min_short_axis or profile.target_min_baseline
        what = "baseline short axis"
    else:
        low, what = profile.target_min_baseline, "baseline viable diameter"
    high = profile.target_max_baseline
    if low <= diameter and (high is None or diameter <= high):
        return None
    return (
        f"{lid}: {what} {format_mm(diameter)} mm is outside the allowed range "
        f"{_allowed_range(profile, lesion)} for target lesions of profile {profile.name}; "
        "it may be recorded as a non-target lesion"
    )


def _organ_group(organ: Organ) -> str:
    return (
        "lymph nodes"
        if organ is Organ.LYMPH_NODE
        else f"the {organ.value.replace('_', ' ')}"
    )


def _limit_problems(profile: ProtocolProfile, targets: list[Lesion]) -> Iterator[str]:
    """Targets per organ and in total (lymph nodes together count as one organ)."""
    per_organ = Counter(t.organ for t in targets)
    for organ, count in per_organ.items():
        if count > profile.max_targets_per_organ:
            ids = ", ".join(t.lesion_id for t in targets if t.organ is organ)
            yield (
                f"{ids}: {count} target lesions in {_organ_group(organ)}; profile "
                f"{profile.name} allows at most {profile.max_targets_per_organ} per organ"
            )
    if len(targets) > profile.max_targets_total:
        yield (
            f"{len(targets)} target lesions; profile {profile.name} allows at most "
            f"{profile.max_targets_total} in total"
        )


def _baseline_target_problems(
    read: Read, profile: ProtocolProfile
) -> Iterator[Problem]:
    targets = list(read.lesions_of_type(LesionType.TARGET))
    if not targets:
        yield Problem("the read has no target lesion at baseline")
        return
    sizes: dict[str, Tenths] = {}
    for lesion in targets:
        obs = read.observation(lesion.lesion_id, 0)
        if obs is None:
            continue  # reported by the follow-up checks
        if obs.status is not TargetStatus.MEASURED or obs.diameter is None:
            yield _problem(
                f"{lesion.lesion_id}: a target lesion must be measured at baseline "
                f"(status is {obs.status})",
                obs,
                "status",
            )
            continue
        sizes[lesion.lesion_id] = obs.diameter
        message = _size_problem(profile, lesion, obs.diameter)
        if message is not None:
            yield _problem(message, obs, "viable_diameter_mm")
    for message in _limit_problems(profile, targets):
        yield Problem(message, lesion_id=targets[-1].lesion_id, timepoint_index=0)
    yield from _at_least_one_problem(profile, sizes)


def _at_least_one_problem(
    profile: ProtocolProfile, sizes: dict[str, Tenths]
) -> Iterator[Problem]:
    need = profile.at_least_one_target_min
    if need is None or not sizes or max(sizes.values()) >= need:
        return
    largest = max(sizes, key=lambda lid: sizes[lid])
    yield Problem(
        f"no target lesion reaches the {format_mm(need)} mm baseline viable diameter that "
        f"at least one target needs under profile {profile.name} (largest: {largest}, "
        f"{format_mm(sizes[largest])} mm)",
        lesion_id=largest,
        timepoint_index=0,
    )


def _follow_up_problems(read: Read) -> Iterator[Problem]:
    indices = sorted({tp.index for tp in read.timepoints})
    for lesion in read.lesions:
        recorded = {
            o.timepoint_index
            for o in read.observations
            if o.lesion_id == lesion.lesion_id
        }
        lid = lesion.lesion_id
        if lesion.lesion_type is LesionType.NEW:
            if 0 in recorded:
                yield Problem(
                    f"{lid}: a new lesion cannot be recorded at baseline "
                    "(record it as a target or non-target lesion)",
                    lesion_id=lid,
                    timepoint_index=0,
                )
            continue
        if 0 not in recorded:
            yield Problem(
                f"{lid}: a {lesion.lesion_type} lesion must be recorded at baseline "
                "(a lesion first seen later is a new lesion)",
                lesion_id=lid,
            )
            continue
        for index in indices:
            if index not in recorded:
                yield Problem(
                    f"{lid}: no status at {_label(read, index)} (every baseline "
                    f"{lesion.lesion_type} lesion is followed at every timepoint)",
                    lesion_id=lid,
                    timepoint_index=index,
                )
