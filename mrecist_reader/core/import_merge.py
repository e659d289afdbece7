"""What an import does to a stored read: merge, or replace when asked (issue 21, item 2).

An import never removes what its file does not mention: :func:`merge_read` keeps every
stored timepoint, lesion and observation the file has no row for, and takes the file's
values for those it has. Only an explicit replace drops them, and :func:`read_changes`
lists every removal and change with its old value for the audit trail.

measurements.csv carries neither ROIs nor a click's checks, so an import, merging or
replacing, keeps what the database holds of them (:func:`with_stored_evidence`): the
ROIs whose timepoint and lesion remain, and the checks of a measurement the file gives
with the same caliper and diameters.

:func:`lock_state_problems` names the impossible lock states (issue 21, item 5) that a
file, or a file merged into a stored read, must not create.
"""

import json
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import TypeVar

from mrecist_reader.core.errors import Problem
from mrecist_reader.core.integrity import canonical_observation
from mrecist_reader.core.model import (
    Lesion,
    MeasurementEvidence,
    Observation,
    Read,
    ReadStatus,
    ReadType,
    Timepoint,
)

_K = TypeVar("_K")
_V = TypeVar("_V")

CLOCK_SKEW = timedelta(minutes=5)
"""How far in the future a sign-off time may be (another workstation's clock)."""


@dataclass(frozen=True, slots=True)
class Change:
    """One change an import makes to a stored read, for the audit trail."""

    action: str
    target: str
    old_value: str
    new_value: str


def as_stored(read: Read) -> Read:
    """Return ``read`` as the database keeps it: a central read has no scan dates."""
    if read.key.read_type is not ReadType.CENTRAL:
        return read
    return replace(
        read, timepoints=tuple(replace(tp, scan_date=None) for tp in read.timepoints)
    )


def merge_read(stored: Read, incoming: Read) -> Read:
    """Return ``stored`` with the file's timepoints, lesions and observations applied.

    What the file mentions (a timepoint by index, a lesion by ID, an observation by
    lesion and timepoint) takes the file's values; everything else stays as stored.
    """
    timepoints = {tp.index: tp for tp in stored.timepoints}
    timepoints.update({tp.index: tp for tp in incoming.timepoints})
    lesions = {lesion.lesion_id: lesion for lesion in stored.lesions}
    lesions.update({lesion.lesion_id: lesion for lesion in incoming.lesions})
    observations = {(o.lesion_id, o.timepoint_index): o for o in stored.observations}
    observations.update(
        {(o.lesion_id, o.timepoint_index): o for o in incoming.observations}
    )
    order = {lesion_id: n for n, lesion_id in enumerate(lesions)}
    merged = replace(
        incoming,
        timepoints=tuple(timepoints[i] for i in sorted(timepoints)),
        lesions=tuple(lesions.values()),
        observations=tuple(
            sorted(
                observations.values(),
                key=lambda o: (o.timepoint_index, order[o.lesion_id]),
            )
        ),
    )
    return with_stored_evidence(stored, merged)


def with_stored_evidence(stored: Read, result: Read) -> Read:
    """Return ``result`` keeping the stored evidence its file could not carry.

    The stored ROIs whose timepoint (and lesion, for a lesion's ROI) ``result`` still
    has; and for each of its measurements recorded with the same caliper, diameter and
    click diameters as stored, the stored checks.
    """
    lesions = {lesion.lesion_id for lesion in result.lesions}
    indices = {tp.index for tp in result.timepoints}
    rois = tuple(
        roi
        for roi in stored.rois
        if roi.timepoint_index in indices
        and (not roi.lesion_id or roi.lesion_id in lesions)
    )
    observations = tuple(
        _with_checks(obs, stored.observation(obs.lesion_id, obs.timepoint_index))
        for obs in result.observations
    )
    keys = tuple(
        key
        for key in stored.key_images
        if key.timepoint_index in indices and key.lesion_id in lesions
    )
    return replace(
        result,
        observations=observations,
        rois=(*rois, *result.rois),
        key_images=(*keys, *result.key_images),
    )


def _with_checks(obs: Observation, old: Observation | None) -> Observation:
    found, kept = obs.evidence, None if old is None else old.evidence
    if found is None or kept is None or found.checks or not kept.checks:
        return obs
    same = MeasurementEvidence(found.whole_diameter, found.perpendicular, kept.checks)
    if replace(obs, evidence=same) == old:
        return old
    return obs


def _text(value: object) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False, default=str)


def _timepoint_value(tp: Timepoint) -> str:
    return _text(
        {
            "label": tp.label,
            "scan_date": tp.scan_date,
            "study_day": tp.study_day,
            "read_status": str(tp.read_status),
            "signed_at": tp.signed_at,
        }
    )


def _lesion_value(lesion: Lesion) -> str:
    return _text(
        {
            "lesion_type": str(lesion.lesion_type),
            "organ": str(lesion.organ),
            "location": lesion.location,
        }
    )


def _observation_value(obs: Observation) -> str:
    return _text(canonical_observation(obs))


def read_changes(before: Read, after: Read) -> list[Change]:
    """Return every removal and change from ``before`` to ``after``, with old values."""
    labels = {tp.index: tp.label for tp in (*before.timepoints, *after.timepoints)}
    changes = _pairs(
        "timepoint",
        {tp.index: tp for tp in before.timepoints},
        {tp.index: tp for tp in after.timepoints},
        lambda index: labels[index],
        _timepoint_value,
    )
    changes += _pairs(
        "lesion",
        {lesion.lesion_id: lesion for lesion in before.lesions},
        {lesion.lesion_id: lesion for lesion in after.lesions},
        str,
        _lesion_value,
    )
    changes += _pairs(
        "observation",
        {(o.timepoint_index, o.lesion_id): o for o in before.observations},
        {(o.timepoint_index, o.lesion_id): o for o in after.observations},
        lambda key: f"{labels[key[0]]} {key[1]}",
        _observation_value,
    )
    return changes


def _pairs(
    kind: str,
    before: dict[_K, _V],
    after: dict[_K, _V],
    name: Callable[[_K], str],
    value: Callable[[_V], str],
) -> list[Change]:
    changes: list[Change] = []
    for key, old in before.items():
        new = after.get(key)
        if new is None:
            changes.append(Change(f"remove_{kind}", name(key), value(old), ""))
        elif new != old:
            changes.append(Change(f"change_{kind}", name(key), value(old), value(new)))
    return changes


def lock_state_problems(read: Read, *, now: datetime) -> list[Problem]:
    """Return the impossible lock states of a read, one problem per timepoint.

    A signed timepoint needs its ``signed_at``, not in the future (``CLOCK_SKEW``
    allowed), and every earlier timepoint signed (sign-off runs from baseline on); a
    draft has no ``signed_at``.
    """
    problems: list[Problem] = []
    first_draft: Timepoint | None = None
    for tp in sorted(read.timepoints, key=lambda tp: tp.index):
        where = f"timepoint {tp.label} (timepoint_index {tp.index})"
        if tp.read_status is ReadStatus.DRAFT:
            first_draft = first_draft or tp
            if tp.signed_at is not None:
                problems.append(_problem(f"{where} is a draft but has signed_at", tp))
            continue
        if tp.signed_at is None:
            problems.append(_problem(f"{where} is signed but signed_at is empty", tp))
        elif tp.signed_at > now + CLOCK_SKEW:
            problems.append(
                _problem(
                    f"{where} is signed_at {tp.signed_at:%Y-%m-%dT%H:%M:%SZ}, in "
                    "the future",
                    tp,
                )
            )
        if first_draft is not None:
            problems.append(
                _problem(
                    f"{where} is signed but the earlier timepoint {first_draft.label} "
                    "is a draft (timepoints are signed from baseline on)",
                    tp,
                )
            )
    return problems


def _problem(message: str, tp: Timepoint) -> Problem:
    return Problem(message, timepoint_index=tp.index, field="read_status")
