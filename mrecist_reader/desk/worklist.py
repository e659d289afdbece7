"""The worklist: subjects -> timepoints -> series, and which series a timepoint opens.

Held once, here; the worklist widget and the window both read it.
"""

import logging
from collections.abc import Sequence
from dataclasses import dataclass

from mrecist_reader.core.errors import MrecistError
from mrecist_reader.core.model import Read, ReadType
from mrecist_reader.imaging.volume import Phase, SeriesInfo
from mrecist_reader.imaging.worklist import SubjectEntry, TimepointEntry
from mrecist_reader.storage.repository import ReadRepository, Viewer

logger = logging.getLogger(__name__)


def preferred_series(series: Sequence[SeriesInfo]) -> SeriesInfo | None:
    """Return the series to open first: the arterial one, else the first listed.

    mRECIST measures viable (arterially enhancing) tumour, so the arterial phase is the
    default reading series of every timepoint.
    """
    for info in series:
        if info.phase is Phase.ARTERIAL:
            return info
    return series[0] if series else None


@dataclass(frozen=True, slots=True)
class Worklist:
    """Subjects (sorted by ID), each with its timepoints, baseline first."""

    subjects: tuple[SubjectEntry, ...] = ()

    def subject(self, subject_id: str) -> SubjectEntry:
        """Return a subject of the worklist.

        Raises
        ------
        MrecistError
            When the worklist has no such subject.

        """
        for subject in self.subjects:
            if subject.subject_id == subject_id:
                return subject
        raise MrecistError(f"subject {subject_id} is not in the worklist")

    def timepoint(self, subject_id: str, index: int) -> TimepointEntry | None:
        """Return a subject's timepoint by index (``None`` when it has none such)."""
        subject = self.subject(subject_id)
        return next((tp for tp in subject.timepoints if tp.index == index), None)

    def default_series(self, subject_id: str, index: int) -> SeriesInfo | None:
        """Return the series a timepoint opens unless the reader chose another."""
        timepoint = self.timepoint(subject_id, index)
        return None if timepoint is None else preferred_series(timepoint.series)

    def series(self, subject_id: str, index: int, series_uid: str) -> SeriesInfo:
        """Return one series of a timepoint by its Series Instance UID.

        Raises
        ------
        MrecistError
            When the timepoint has no series with that UID.

        """
        timepoint = self.timepoint(subject_id, index)
        for info in () if timepoint is None else timepoint.series:
            if info.series_instance_uid == series_uid:
                return info
        raise MrecistError(
            f"series {series_uid} is not listed for subject {subject_id} "
            f"at timepoint {index}"
        )


def stored_reads_of(
    repository: ReadRepository,
    worklist: Worklist,
    reader_id: str,
    read_type: ReadType,
) -> tuple[Read, ...]:
    """Return this reader's stored reads of the worklist's subjects (for their states).

    Only the listed subjects' reads are looked up and loaded: opening a study costs
    what its subjects hold, not what the database holds (issue 21, item 17: every
    stored read was loaded to show the states of the few listed, 19 s on a database
    ten times the trial).
    """
    viewer = Viewer(reader_id, read_type)
    listed = [subject.subject_id for subject in worklist.subjects]
    if not listed:
        return ()
    found = []
    for key in repository.list_reads(viewer, subject_ids=listed):
        if key.reader_id != reader_id or key.read_type is not read_type:
            continue
        read = repository.load(key, viewer=viewer)
        if read is not None:
            found.append(read)
    return tuple(found)
