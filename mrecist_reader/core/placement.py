"""Whether a follow-up caliper lies where its lesion was measured before.

A caliper recorded for target T1 at a follow-up should lie about where T1 was measured
at the earlier timepoints. One drawn on another lesion (a new nodule, the neighbouring
target) while T1 happened to be selected would silently become T1's value and could
turn progression into a response, so the application asks before recording it.

Scans of different days share no exact frame of reference (the table and the breath
move the liver by a few centimetres), so the test is generous: the caliper's centre
must lie farther than :data:`FAR_FROM_EARLIER_MM` and farther than the earlier
diameter from the centre of the lesion's nearest earlier caliper.
"""

import math
from dataclasses import dataclass

from mrecist_reader.core.model import Caliper, PointMm, Read
from mrecist_reader.core.units import to_mm

FAR_FROM_EARLIER_MM = 40.0
"""Centre-to-centre distance (mm) beyond which a caliper is questioned."""


@dataclass(frozen=True, slots=True)
class FarCaliper:
    """A caliper far from where its lesion was measured before."""

    lesion_id: str
    earlier_label: str
    distance_mm: float

    def message(self) -> str:
        """Return the question the reader is asked."""
        return (
            f"This caliper lies {self.distance_mm:.0f} mm from where "
            f"{self.lesion_id} was measured at {self.earlier_label}."
        )


def far_from_earlier_caliper(
    read: Read, lesion_id: str, timepoint_index: int, caliper: Caliper
) -> FarCaliper | None:
    """Return how far a caliper lies from its lesion's nearest earlier caliper.

    Parameters
    ----------
    read
        The read, with the lesion's earlier observations.
    lesion_id
        The lesion the caliper would measure.
    timepoint_index
        The timepoint it would be recorded at.
    caliper
        The new caliper (patient millimetres).

    Returns
    -------
    FarCaliper or None
        ``None`` when the lesion has no earlier caliper or the new one is near it.

    """
    earlier = [
        obs
        for obs in read.observations
        if obs.lesion_id == lesion_id
        and obs.timepoint_index < timepoint_index
        and obs.caliper is not None
    ]
    if not earlier:
        return None
    nearest = max(earlier, key=lambda obs: obs.timepoint_index)
    assert nearest.caliper is not None
    distance = math.dist(_centre(caliper), _centre(nearest.caliper))
    allowed = max(FAR_FROM_EARLIER_MM, to_mm(nearest.caliper.length()))
    if distance <= allowed:
        return None
    label = next(
        (t.label for t in read.timepoints if t.index == nearest.timepoint_index),
        f"timepoint {nearest.timepoint_index}",
    )
    return FarCaliper(lesion_id, label, distance)


def _centre(caliper: Caliper) -> PointMm:
    (x1, y1, z1), (x2, y2, z2) = caliper.p1_mm, caliper.p2_mm
    return ((x1 + x2) / 2, (y1 + y2) / 2, (z1 + z2) / 2)
