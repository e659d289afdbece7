"""Where a selected lesion is shown: the rule behind "jump to the lesion" (issue 13).

A lesion is found at a timepoint by its caliper's centre, or for a non-target by its
position marker. A viewer showing timepoint *k* jumps to the lesion where it is at
*k*; a lesion not measured there (a new follow-up, a target not yet measured) is
shown where it was at baseline, else at the latest earlier timepoint that has it.
"""

from typing import TYPE_CHECKING

from mrecist_reader.core.model import Caliper, PointMm

if TYPE_CHECKING:
    from mrecist_reader.desk.desk import ReadingDesk


def caliper_centre(caliper: Caliper) -> PointMm:
    """Return the midpoint of a caliper's end points (mm).

    >>> caliper_centre(Caliper((0.0, 0.0, 10.0), (20.0, 4.0, 10.0)))
    (10.0, 2.0, 10.0)
    """
    x1, y1, z1 = caliper.p1_mm
    x2, y2, z2 = caliper.p2_mm
    return ((x1 + x2) / 2, (y1 + y2) / 2, (z1 + z2) / 2)


def lesion_point(desk: "ReadingDesk", index: int, lesion_id: str) -> PointMm | None:
    """Return where a lesion is at a timepoint: its caliper's or marker's centre."""
    session = desk.session
    if session is None:
        return None
    observation = session.read.observation(lesion_id, index)
    caliper = None if observation is None else observation.caliper
    if caliper is None:  # a non-target's position marker, if it has one
        marked = dict(desk.markers(index)).get(lesion_id)
        caliper = None if marked is None else marked.caliper
    return None if caliper is None else caliper_centre(caliper)


def lesion_place(
    desk: "ReadingDesk", lesion_id: str, shown: int | None
) -> PointMm | None:
    """Return where a viewer showing timepoint ``shown`` finds a lesion, if anywhere.

    At ``shown`` itself, else at baseline, else at the latest timepoint before the one
    being read that has it.
    """
    earlier = (i for i in desk.timepoint_indices() if i < desk.timepoint_index)
    for index in (shown, 0, *sorted(earlier, reverse=True)):
        if index is None:  # a viewer showing no timepoint
            continue
        point = lesion_point(desk, index, lesion_id)
        if point is not None:
            return point
    return None
