"""The adjudicator's images, Qt-free: both readers' calipers on the same series.

central-review.md §Adjudicating / issue 17 item 4: "both reads on the same images, each
reader's calipers in its own colour". For a timepoint of the open cut this gathers
the calipers of both reads at that timepoint (reader, lesion, series and SOP Instance
UIDs, both ends in patient mm), groups them by series, and picks the series to show:
the one most calipers are on (ties: reader 1's first caliper's) of those open, with
the calipers on other series named; without calipers, the series the reading desk
would open for the timepoint. The images are the adjudicator's open worklist (File >
Open...), matched by Series Instance UID; a series not there is a message saying how
to open it, never an error.

Blinding: nothing here holds a path, a date or an identity; the readers appear as
``R1``/``R2`` and by lesion ID.
"""

import logging
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from mrecist_reader.core.adjudication import Role
from mrecist_reader.core.model import PointMm, Read
from mrecist_reader.desk.worklist import Worklist
from mrecist_reader.imaging.volume import SeriesInfo

logger = logging.getLogger(__name__)

NOT_OPEN = (
    "The readers' calipers at {label} are on a series not open here: open the "
    "subject's images (File > Open...) to see the calipers."
)
NO_CALIPERS = "Neither reader recorded a caliper at {label}."
ELSEWHERE = "Not on this series: {labels}."

SeriesChoice = Callable[[int], SeriesInfo | None]
"""The series the reading desk opens for a timepoint index (chosen or default)."""


@dataclass(frozen=True, slots=True)
class ReaderCaliper:
    """One reader's caliper of one lesion at the chosen timepoint."""

    role: Role
    lesion_id: str
    series_uid: str
    sop_uid: str
    p1_mm: PointMm
    p2_mm: PointMm

    @property
    def reader(self) -> int:
        """Return the reader's number (1 or 2)."""
        return 1 if self.role is Role.READER_1 else 2

    @property
    def label(self) -> str:
        """Return the caliper's label on the image (``R1 T1``, ``R2 T1``)."""
        return f"R{self.reader} {self.lesion_id}"


@dataclass(frozen=True, slots=True)
class SeriesCalipers:
    """The calipers of both readers on one series."""

    series_uid: str
    calipers: tuple[ReaderCaliper, ...]


@dataclass(frozen=True, slots=True)
class ImagePane:
    """What the adjudicator's image pane shows for one timepoint.

    ``series`` is the worklist's series to load (``None``: nothing to show, and
    ``message`` says why); ``calipers`` are those drawn on it (both readers').
    """

    timepoint_index: int
    timepoint_label: str
    groups: tuple[SeriesCalipers, ...]
    series_uid: str
    series: SeriesInfo | None
    message: str

    @property
    def calipers(self) -> tuple[ReaderCaliper, ...]:
        """Return the calipers on the series shown."""
        for group in self.groups:
            if group.series_uid == self.series_uid:
                return group.calipers
        return ()

    def caliper_of(self, role: Role, lesion_id: str) -> ReaderCaliper | None:
        """Return a reader's caliper of a lesion on the series shown, if any."""
        return next(
            (c for c in self.calipers if c.role is role and c.lesion_id == lesion_id),
            None,
        )


def calipers_at(
    reads: tuple[Read, Read], timepoint_index: int
) -> tuple[ReaderCaliper, ...]:
    """Return both readers' calipers at a timepoint: reader 1's, then reader 2's."""
    found = []
    for role, read in zip((Role.READER_1, Role.READER_2), reads, strict=True):
        for observation in read.observations_at(timepoint_index):
            if observation.caliper is None:
                continue
            found.append(
                ReaderCaliper(
                    role,
                    observation.lesion_id,
                    observation.series_instance_uid,
                    observation.sop_instance_uid,
                    observation.caliper.p1_mm,
                    observation.caliper.p2_mm,
                )
            )
    return tuple(found)


def by_series(calipers: Sequence[ReaderCaliper]) -> tuple[SeriesCalipers, ...]:
    """Group calipers by series, the series with most calipers first (ties: first seen)."""
    counts = Counter(c.series_uid for c in calipers)
    order = sorted(
        dict.fromkeys(c.series_uid for c in calipers),
        key=lambda uid: -counts[uid],
    )
    return tuple(
        SeriesCalipers(uid, tuple(c for c in calipers if c.series_uid == uid))
        for uid in order
    )


def find_series(worklist: Worklist, series_uid: str) -> SeriesInfo | None:
    """Return the worklist's series with that Series Instance UID, if open."""
    if not series_uid:
        return None
    for subject in worklist.subjects:
        for timepoint in subject.timepoints:
            for info in timepoint.series:
                if info.series_instance_uid == series_uid:
                    return info
    return None


def image_pane(
    reads: tuple[Read, Read],
    timepoint_index: int,
    worklist: Worklist,
    series_choice: SeriesChoice | None = None,
) -> ImagePane:
    """Return the image pane of a timepoint: which series, which calipers, or why none.

    The series shown is the one most calipers are on (of those the worklist holds:
    a series not open there is skipped for the next); with no caliper recorded at
    the timepoint, the series ``series_choice`` gives (the reading desk's choice for
    the timepoint, when the subject is open there).
    """
    timepoint = reads[0].timepoint(timepoint_index) or reads[1].timepoint(
        timepoint_index
    )
    label = timepoint.label if timepoint is not None else str(timepoint_index)
    groups = by_series(calipers_at(reads, timepoint_index))
    if groups:
        # the series most calipers are on, of those open here (else the first)
        found = [(g.series_uid, find_series(worklist, g.series_uid)) for g in groups]
        uid, series = next((f for f in found if f[1] is not None), found[0])
        others = [c.label for g in groups if g.series_uid != uid for c in g.calipers]
        message = (
            NOT_OPEN.format(label=label)
            if series is None
            else ELSEWHERE.format(labels=", ".join(others))
            if others
            else ""
        )
        return ImagePane(timepoint_index, label, groups, uid, series, message)
    chosen = None if series_choice is None else series_choice(timepoint_index)
    uid = "" if chosen is None else chosen.series_instance_uid
    return ImagePane(
        timepoint_index, label, (), uid, chosen, NO_CALIPERS.format(label=label)
    )
