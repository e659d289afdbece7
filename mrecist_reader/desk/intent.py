"""What a caliper means: measure the selected lesion, designate a target, add a lesion.

The rule, in the order it is applied (issue 14, items 3 and 5):

1. With a target or a new lesion selected, the caliper measures it (at baseline a
   target already measured is *re-measured*, never proposed as another target; a
   caliper on the selected new lesion N1 records N1's longest diameter). When the
   caliper does not overlap that lesion's caliper at this timepoint, or lies far from
   its earlier one (:func:`~mrecist_reader.core.placement.far_from_earlier_caliper`),
   the reader is asked first.
2. Otherwise a caliper overlapping a lesion recorded at this timepoint asks whether it
   re-measures that lesion, adds a new lesion, or nothing (a second caliper over T1
   would otherwise become a second target and double the sum).
3. Otherwise it designates a target at baseline and adds a new lesion at a follow-up.

Pure: a function of the read, the selection and the caliper in patient millimetres.
"""

import math
from dataclasses import dataclass
from enum import StrEnum

from mrecist_reader.core.model import Caliper, Lesion, LesionType, PointMm, Read
from mrecist_reader.core.placement import far_from_earlier_caliper
from mrecist_reader.core.units import to_mm

MEASURED_TYPES = (LesionType.TARGET, LesionType.NEW)
"""Lesions whose diameter a caliper records (non-targets are assessed, not measured)."""


class Action(StrEnum):
    """What recording a caliper does."""

    MEASURE = "measure"
    DESIGNATE = "designate"
    ADD_NEW = "add_new"


class Answer(StrEnum):
    """The reader's answer to a question about a caliper (cancel is ``None``)."""

    MEASURE = "measure"
    NEW = "new"


@dataclass(frozen=True, slots=True)
class Question:
    """A doubt about a caliper, put to the reader before anything is recorded.

    ``lesion_id`` is the lesion the caliper may measure; the other choice adds a new
    lesion (a target at baseline); Cancel, the default, records nothing.
    """

    lesion_id: str
    message: str
    is_overlap: bool


@dataclass(frozen=True, slots=True)
class Intent:
    """What a caliper will do, possibly after a question."""

    action: Action
    timepoint_index: int
    lesion_id: str | None = None
    question: Question | None = None

    def answered(self, answer: Answer | None) -> "Intent | None":
        """Return the intent after the reader's answer (``None``: cancelled)."""
        if self.question is None:
            return self
        if answer is None:
            return None
        if answer is Answer.MEASURE:
            return Intent(Action.MEASURE, self.timepoint_index, self.question.lesion_id)
        return Intent(_fallback(self.timepoint_index), self.timepoint_index)


def caliper_intent(
    read: Read, timepoint_index: int, selected: str | None, caliper: Caliper
) -> Intent:
    """Return what a caliper drawn at a timepoint means (see the module docstring).

    Parameters
    ----------
    read
        The read as recorded.
    timepoint_index
        Where the caliper was drawn (0: baseline).
    selected
        The selected lesion's ID, or ``None``.
    caliper
        The caliper, patient millimetres.

    """
    lesion = _measurable(read, timepoint_index, selected)
    if lesion is not None:
        question = _doubt(read, lesion.lesion_id, timepoint_index, caliper)
        return Intent(Action.MEASURE, timepoint_index, lesion.lesion_id, question)
    fallback = _fallback(timepoint_index)
    under = overlapping_lesion(read, timepoint_index, caliper)
    if under is None:
        return Intent(fallback, timepoint_index)
    adds = "a new target" if fallback is Action.DESIGNATE else "a new lesion"
    message = (
        f"This caliper overlaps {under}, already recorded here. "
        f"Re-measure {under}, or add it as {adds}?"
    )
    return Intent(fallback, timepoint_index, question=Question(under, message, True))


def calipers_overlap(first: Caliper, second: Caliper) -> bool:
    """Return whether two calipers span one lesion.

    Each caliper is the diameter of a sphere; they overlap when the spheres meet
    (centres closer than half the sum of the lengths), in patient millimetres.
    """
    reach = (to_mm(first.length()) + to_mm(second.length())) / 2
    return math.dist(_centre(first), _centre(second)) <= reach


def overlapping_lesion(
    read: Read, timepoint_index: int, caliper: Caliper
) -> str | None:
    """Return the measured lesion whose caliper at a timepoint this one overlaps."""
    types = {les.lesion_id: les.lesion_type for les in read.lesions}
    for observation in read.observations_at(timepoint_index):
        if types.get(observation.lesion_id) not in MEASURED_TYPES:
            continue
        if observation.caliper is not None and calipers_overlap(
            caliper, observation.caliper
        ):
            return observation.lesion_id
    return None


def _measurable(
    read: Read, timepoint_index: int, selected: str | None
) -> Lesion | None:
    lesion = next((x for x in read.lesions if x.lesion_id == selected), None)
    if lesion is None or lesion.lesion_type not in MEASURED_TYPES:
        return None
    if lesion.lesion_type is LesionType.NEW:
        seen = [o.timepoint_index for o in read.observations if o.lesion_id == selected]
        if not seen or min(seen) > timepoint_index:
            return None  # not seen yet at this timepoint
    return lesion


def _doubt(
    read: Read, lesion_id: str, timepoint_index: int, caliper: Caliper
) -> Question | None:
    here = read.observation(lesion_id, timepoint_index)
    if here is not None and here.caliper is not None:
        if calipers_overlap(caliper, here.caliper):
            return None
        distance = math.dist(_centre(caliper), _centre(here.caliper))
        label = _label(read, timepoint_index)
        return Question(
            lesion_id,
            f"This caliper lies {distance:.0f} mm from {lesion_id}'s caliper at "
            f"{label} and does not overlap it.",
            False,
        )
    far = far_from_earlier_caliper(read, lesion_id, timepoint_index, caliper)
    return None if far is None else Question(lesion_id, far.message(), False)


def _fallback(timepoint_index: int) -> Action:
    return Action.DESIGNATE if timepoint_index == 0 else Action.ADD_NEW


def _label(read: Read, index: int) -> str:
    timepoint = read.timepoint(index)
    return f"timepoint {index}" if timepoint is None else timepoint.label


def _centre(caliper: Caliper) -> PointMm:
    (x1, y1, z1), (x2, y2, z2) = caliper.p1_mm, caliper.p2_mm
    return ((x1 + x2) / 2, (y1 + y2) / 2, (z1 + z2) / 2)
