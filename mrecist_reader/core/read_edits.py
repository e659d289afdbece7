"""Pure edits of a :class:`~mrecist_reader.core.model.Read`: each returns a new snapshot.

The session's commands are built from these; they decide nothing about who may edit
what (signed timepoints are the session's business), only how a read changes.
"""

import re
from dataclasses import replace

from mrecist_reader.core.errors import MrecistError
from mrecist_reader.core.model import (
    STATUSES_BY_TYPE,
    Lesion,
    LesionStatus,
    LesionType,
    Observation,
    Read,
    Timepoint,
)

LESION_PREFIX = {
    LesionType.TARGET: "T",
    LesionType.NON_TARGET: "NT",
    LesionType.NEW: "N",
}
"""The prefix of each lesion type's ids (``T1``, ``NT1``, ``N1``; data-transfer.md)."""


def truncated(read: Read, last_index: int) -> Read:
    """Return the read with only the timepoints up to ``last_index`` (and their lesions).

    A lesion with nothing recorded at those timepoints is left out (a new lesion first
    seen later did not exist yet).
    """
    keep = {tp.index for tp in read.timepoints if tp.index <= last_index}
    observations = tuple(o for o in read.observations if o.timepoint_index in keep)
    seen = {o.lesion_id for o in observations}
    return replace(
        read,
        timepoints=tuple(tp for tp in read.timepoints if tp.index in keep),
        lesions=tuple(lesion for lesion in read.lesions if lesion.lesion_id in seen),
        observations=observations,
        rois=tuple(r for r in read.rois if r.timepoint_index in keep),
        key_images=tuple(k for k in read.key_images if k.timepoint_index in keep),
    )


def with_timepoint(read: Read, timepoint: Timepoint) -> Read:
    """Return the read with the timepoint of the same index replaced by ``timepoint``."""
    timepoints = tuple(
        timepoint if tp.index == timepoint.index else tp for tp in read.timepoints
    )
    return replace(read, timepoints=timepoints)


def with_lesion(read: Read, lesion: Lesion) -> Read:
    """Return the read with ``lesion`` added after the others."""
    return replace(read, lesions=(*read.lesions, lesion))


def with_observation(read: Read, observation: Observation) -> Read:
    """Return the read with ``observation`` added or replaced, in canonical order.

    Observations are ordered by timepoint index, then by the lesions' order in the read.
    """
    others = [
        o
        for o in read.observations
        if (o.lesion_id, o.timepoint_index)
        != (observation.lesion_id, observation.timepoint_index)
    ]
    position = {lesion.lesion_id: i for i, lesion in enumerate(read.lesions)}
    ordered = sorted(
        [*others, observation],
        key=lambda o: (o.timepoint_index, position.get(o.lesion_id, len(position))),
    )
    return replace(read, observations=tuple(ordered))


def without_lesion(read: Read, lesion_id: str) -> Read:
    """Return the read without the lesion, every observation and ROI kept with it."""
    return replace(
        read,
        lesions=tuple(x for x in read.lesions if x.lesion_id != lesion_id),
        observations=tuple(o for o in read.observations if o.lesion_id != lesion_id),
        rois=tuple(r for r in read.rois if r.lesion_id != lesion_id),
        key_images=tuple(k for k in read.key_images if k.lesion_id != lesion_id),
    )


def with_location(read: Read, lesion_id: str, location: str) -> Read:
    """Return the read with the lesion's location text replaced."""
    lesions = tuple(
        replace(x, location=location) if x.lesion_id == lesion_id else x
        for x in read.lesions
    )
    return replace(read, lesions=lesions)


def next_lesion_id(read: Read, lesion_type: LesionType) -> str:
    """Return the next lesion id of a type: one more than the highest in use."""
    prefix = LESION_PREFIX[lesion_type]
    numbers = [
        int(lesion.lesion_id[len(prefix) :])
        for lesion in read.lesions
        if re.fullmatch(rf"{prefix}\d+", lesion.lesion_id)
    ]
    return f"{prefix}{max(numbers, default=0) + 1}"


def find_lesion(read: Read, lesion_id: str) -> Lesion | None:
    """Return the read's lesion with this id, if it has one."""
    return next((x for x in read.lesions if x.lesion_id == lesion_id), None)


def status_for(lesion: Lesion, status: LesionStatus | str) -> LesionStatus:
    """Return the status token of the lesion's type for ``status``.

    Raises
    ------
    MrecistError
        When the lesion's type has no such status (the message lists the allowed ones).

    """
    enum = STATUSES_BY_TYPE[lesion.lesion_type]
    try:
        token: LesionStatus = enum(str(status))  # type: ignore[assignment]
    except ValueError:
        allowed = ", ".join(str(m) for m in enum)
        raise MrecistError(
            f"{lesion.lesion_id} is a {lesion.lesion_type} lesion: status {status!s} "
            f"is not one of {allowed}"
        ) from None
    return token
