"""When a timepoint is complete: every lesion known before it has a status there.

mrecist-rules.md and issue 14: a follow-up is complete only when every lesion known
before it (baseline targets and non-targets, and new lesions first seen at an earlier
follow-up) has a status there, and the read up to it has no problem
(:func:`~mrecist_reader.core.validate.validate_read`). Only complete timepoints get a
response, on screen and in an export, and only a complete timepoint may be signed. The
complete timepoints are the longest run of complete timepoints from baseline on: a
response depends on every earlier timepoint (baseline sum, nadir, backdating).
"""

import logging
import re
from dataclasses import dataclass

from mrecist_reader.core.assess import Assessment, assess
from mrecist_reader.core.errors import MrecistError, Problem
from mrecist_reader.core.model import Lesion, LesionType, Read, Timepoint
from mrecist_reader.core.protocol import ProtocolProfile
from mrecist_reader.core.read_edits import truncated
from mrecist_reader.core.validate import validate_read

logger = logging.getLogger(__name__)

_TYPE_ORDER = {LesionType.TARGET: 0, LesionType.NON_TARGET: 1, LesionType.NEW: 2}
_TYPE_WORDS = {
    LesionType.TARGET: "target",
    LesionType.NON_TARGET: "non-target",
    LesionType.NEW: "new",
}


@dataclass(frozen=True, slots=True)
class MissingStatus:
    """A lesion known before a follow-up that has no status there.

    Attributes
    ----------
    lesion_id, lesion_type
        The lesion.
    first_seen
        Label of the timepoint it was first recorded at.
    timepoint_index, timepoint
        The follow-up where its status is missing (index and label).

    """

    lesion_id: str
    lesion_type: LesionType
    first_seen: str
    timepoint_index: int
    timepoint: str

    @property
    def lesion_words(self) -> str:
        """Name the lesion: ``T2 (target)``, ``N1 (new, first seen at FU1)``."""
        kind = _TYPE_WORDS[self.lesion_type]
        if self.lesion_type is LesionType.NEW:
            return f"{self.lesion_id} ({kind}, first seen at {self.first_seen})"
        return f"{self.lesion_id} ({kind})"

    def __str__(self) -> str:
        return f"{self.lesion_words}: no status at {self.timepoint}"

    def problem(self) -> Problem:
        """Return this as a :class:`~mrecist_reader.core.errors.Problem`."""
        return Problem(
            str(self),
            lesion_id=self.lesion_id,
            timepoint_index=self.timepoint_index,
            field="status",
        )


def missing_at(read: Read, timepoint_index: int) -> tuple[MissingStatus, ...]:
    """Return the lesions known before a timepoint that have no status there.

    Parameters
    ----------
    read
        The read.
    timepoint_index
        The timepoint (at baseline nothing is known before: always empty).

    Returns
    -------
    tuple of MissingStatus
        Targets first, then non-targets, then new lesions, each by number.

    Raises
    ------
    MrecistError
        When the read has no timepoint with that index.

    """
    timepoint = read.timepoint(timepoint_index)
    if timepoint is None:
        raise MrecistError(f"the read has no timepoint with index {timepoint_index}")
    labels = {tp.index: tp.label for tp in read.timepoints}
    recorded: dict[str, set[int]] = {}
    for observation in read.observations:
        if observation.timepoint_index in labels:
            recorded.setdefault(observation.lesion_id, set()).add(
                observation.timepoint_index
            )
    missing = []
    for lesion in sorted(read.lesions, key=_lesion_order):
        at = recorded.get(lesion.lesion_id, set())
        seen = [index for index in at if index < timepoint_index]
        if not seen or timepoint_index in at:
            continue
        missing.append(
            MissingStatus(
                lesion.lesion_id,
                lesion.lesion_type,
                labels[min(seen)],
                timepoint_index,
                timepoint.label,
            )
        )
    return tuple(missing)


def missing_statuses(read: Read, timepoint_index: int) -> tuple[str, ...]:
    """Return, in words, what has no status at a timepoint though it was known before.

    E.g. ``("N1 (new, first seen at FU1): no status at FU2",)``; empty when every
    lesion known before the timepoint has a status there (see :func:`missing_at`).
    """
    return tuple(str(missing) for missing in missing_at(read, timepoint_index))


def timepoint_gaps(
    read: Read, profile: ProtocolProfile, timepoint_index: int
) -> tuple[Problem, ...]:
    """Return everything that keeps the read up to a timepoint from being complete.

    The missing statuses at every timepoint up to it (:func:`missing_at`), then the
    other problems of the read up to it (``validate_read``), each once. Empty: the
    timepoint and every earlier one are complete (it may be assessed and signed).
    """
    problems: list[Problem] = []
    covered: set[tuple[str, int]] = set()
    for index in sorted(
        tp.index for tp in read.timepoints if tp.index <= timepoint_index
    ):
        for missing in missing_at(read, index):
            problems.append(missing.problem())
            covered.add((missing.lesion_id, index))
    for problem in validate_read(truncated(read, timepoint_index), profile):
        key = (problem.lesion_id or "", problem.timepoint_index)
        if key not in covered:
            problems.append(problem)
    return tuple(problems)


def complete_through(read: Read, profile: ProtocolProfile) -> int | None:
    """Return the index of the last complete timepoint (``None``: not even baseline).

    Complete timepoints run from baseline without a gap: the first incomplete one
    ends the run, whatever follows it.
    """
    indices = sorted(tp.index for tp in read.timepoints)
    candidates: list[int] = []
    for index in indices:  # statuses: the run stops at the first one missing
        if missing_at(read, index):
            break
        candidates.append(index)
    # Problems only grow as timepoints are added (a problem up to one timepoint is
    # still a problem up to a later one), so the last valid prefix is found from the
    # end: usually one check.
    for index in reversed(candidates):
        if not validate_read(truncated(read, index), profile):
            return index
    return None


def assess_complete(read: Read, profile: ProtocolProfile) -> Assessment | None:
    """Assess the read's complete timepoints (``None``: baseline is not complete).

    A draft is often incomplete (a follow-up half measured); the response panel and
    the export then give the responses of the complete timepoints only, never an
    ``SD`` or ``NE`` made up for a timepoint where a lesion has no status yet.
    """
    last = complete_through(read, profile)
    if last is None:
        return None
    return assess(truncated(read, last), profile)


def without_response(
    read: Read, profile: ProtocolProfile
) -> tuple[tuple[Timepoint, str], ...]:
    """Return each timepoint that gets no response, and why, in words.

    The first incomplete timepoint names what is missing (``T2 (target) not
    assessed``) and what else is wrong up to it; a later one names its own missing
    statuses and the earlier timepoint it waits for (``FU2 is incomplete``).
    """
    last = complete_through(read, profile)
    ordered = sorted(read.timepoints, key=lambda tp: tp.index)
    waiting = [tp for tp in ordered if last is None or tp.index > last]
    if not waiting:
        return ()
    first = waiting[0]
    result = [(first, _first_gap_words(read, profile, first.index))]
    for timepoint in waiting[1:]:
        parts = [
            f"{missing.lesion_words} not assessed"
            for missing in missing_at(read, timepoint.index)
        ]
        parts.append(f"{first.label} is incomplete")
        result.append((timepoint, "; ".join(parts)))
    return tuple(result)


def _first_gap_words(read: Read, profile: ProtocolProfile, index: int) -> str:
    missing = missing_at(read, index)
    parts = [f"{m.lesion_words} not assessed" for m in missing]
    covered = {m.lesion_id for m in missing}
    for problem in validate_read(truncated(read, index), profile):
        if problem.timepoint_index == index and problem.lesion_id in covered:
            continue
        parts.append(problem.message)
    return "; ".join(dict.fromkeys(parts)) or "incomplete"


def _lesion_order(lesion: Lesion) -> tuple[int, int, str]:
    digits = re.search(r"\d+$", lesion.lesion_id)
    return (
        _TYPE_ORDER[lesion.lesion_type],
        int(digits.group()) if digits else 0,
        lesion.lesion_id,
    )
