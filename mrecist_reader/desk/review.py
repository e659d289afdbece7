"""The review manager's screen, Qt-free: assignments, progress, adjudications, metrics.

central-review.md §Roles and assignment and §Reader metrics: the review manager sees
every assigned subject with its three readers and each primary reader's progress
(timepoints signed of timepoints read), where its read cut stands (concordant,
awaiting, reopened, adjudicated), the cuts awaiting adjudication with their
discordant variables, and the reader metrics of ``mrecist-reader metrics``; the
manager withdraws a primary read here (with a reason, audited). A primary reader of
assigned subjects is refused all of it (it compares both reads).
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from psygnal import Signal

from mrecist_reader.analysis.reader_metrics import Row, metric_rows
from mrecist_reader.core.adjudication import AdjudicationCase, Assignment
from mrecist_reader.core.errors import InvalidRead, Problem
from mrecist_reader.core.model import Read, ReadStatus, ReadType
from mrecist_reader.core.protocol import ProtocolProfile
from mrecist_reader.core.reader_metrics import SubjectDoubleRead, double_read
from mrecist_reader.desk.endpoints import DeskEndpoints, review_manager_endpoints
from mrecist_reader.session import profile_by_name, trigger_adjudication
from mrecist_reader.storage.audit import Actor, current_os_user
from mrecist_reader.storage.repository import ReadRepository, Viewer
from mrecist_reader.storage.review import AssignOutcome, Withdrawal

DoubleRead = tuple[Assignment, Read | None, Read | None]


@dataclass(frozen=True, slots=True)
class SubjectProgress:
    """One assigned subject: its readers, their progress and its latest cut."""

    subject_id: str
    reader_1: str
    reader_2: str
    adjudicator: str
    progress_1: str
    progress_2: str
    cut: str
    status: str


@dataclass(frozen=True, slots=True)
class ReviewOverview:
    """Everything the review manager's screen shows."""

    subjects: tuple[SubjectProgress, ...]
    awaiting: tuple[AdjudicationCase, ...]
    metrics: tuple[Row, ...]


class ReviewDesk:
    """The review manager's work over one reads database.

    Signals
    -------
    overview_changed(ReviewOverview)

    """

    overview_changed = Signal(object)

    def __init__(
        self,
        repository: ReadRepository,
        manager: str,
        *,
        profile_of: Callable[[str], ProtocolProfile] | None = None,
        os_user: str | None = None,
    ) -> None:
        self._repository = repository
        self.manager = manager
        # the profile text the reads keep (issue 21 item 3), else the shipped one
        self._profile_of = profile_of or profile_by_name(repository)
        self._os_user = os_user

    def overview(self) -> ReviewOverview:
        """Return (and announce) the assignments, progress, queue and metrics.

        Raises
        ------
        ReadNotFound
            When the manager's reader ID is a primary reader of assigned subjects.

        """
        viewer = Viewer(self.manager, ReadType.CENTRAL)
        cases = self._repository.adjudication_cases(viewer=viewer)
        pairs = self._repository.double_reads(viewer=viewer)
        subjects = subjects_with_cuts(pairs, cases, self._profile_of)
        overview = ReviewOverview(
            subjects=progress(pairs, cases),
            awaiting=tuple(c for c in cases if c.final_reader is None),
            metrics=tuple(metric_rows(subjects)),
        )
        self.overview_changed.emit(overview)
        return overview

    def endpoints(self, treatments: Path, arms: Path | None) -> DeskEndpoints:
        """Return the trial endpoints of the final reads (the review manager's only).

        Raises
        ------
        EndpointsHidden
            When the manager reads or adjudicates assigned subjects, or none is
            assigned: before treatments.csv or arms.csv is opened.
        InvalidRead
            When treatments.csv or arms.csv is invalid (every problem, with its line).

        """
        return review_manager_endpoints(
            self._repository,
            self.manager,
            treatments,
            arms,
            profile_of=self._profile_of,
        )

    def assign_from(
        self, assignments: Path, treatments: Path | None = None
    ) -> AssignOutcome:
        """Import assignments.csv (and treatments.csv) as ``mrecist-reader assign`` does.

        Every subject's readers are stored (audited), the read cuts compared, and the
        screen refreshed.

        Raises
        ------
        InvalidRead
            Every problem of both files as ``FILE:LINE: message``; nothing stored.
        AssignmentError
            When a subject whose read has started would change readers.

        """
        from mrecist_reader.transfer.assignments import read_assignments
        from mrecist_reader.transfer.csv_in import format_problem
        from mrecist_reader.transfer.treatments import read_treatments

        problems: list[Problem] = []
        found = []
        try:
            found = read_assignments(assignments)
        except InvalidRead as invalid:
            problems += [
                Problem(format_problem(assignments, p)) for p in invalid.problems
            ]
        days = None
        if treatments is not None:
            try:
                days = read_treatments(treatments)
            except InvalidRead as invalid:
                problems += [
                    Problem(format_problem(treatments, p)) for p in invalid.problems
                ]
        if problems:
            raise InvalidRead(problems)
        actor = Actor(self.manager, self._os_user or current_os_user())
        outcome = self._repository.assign(
            found, actor=actor, source=assignments.name, treatments=days
        )
        trigger_adjudication(self._repository, actor)
        self.overview()
        return outcome

    def withdraw(self, subject_id: str, reader_id: str, reason: str) -> Withdrawal:
        """Withdraw a primary reader's read of a subject (audited); refresh the screen.

        Raises
        ------
        AssignmentError
            Naming why (not assigned, not a primary reader, no reason, no read).

        """
        actor = Actor(self.manager, self._os_user or current_os_user())
        withdrawal = self._repository.withdraw_read(
            subject_id, reader_id, reason=reason, actor=actor
        )
        self.overview()
        return withdrawal


def subjects_with_cuts(
    pairs: Sequence[DoubleRead],
    cases: Sequence[AdjudicationCase],
    profile_of: Callable[[str], ProtocolProfile],
) -> list[SubjectDoubleRead]:
    """Return every assigned subject with both reads and a cut, assessed up to it."""
    by_subject: dict[str, list[AdjudicationCase]] = {}
    for case in cases:
        by_subject.setdefault(case.subject_id, []).append(case)
    found = []
    for assignment, read_1, read_2 in pairs:
        if read_1 is None or read_2 is None:
            continue
        subject = double_read(
            read_1, read_2, by_subject.get(assignment.subject_id, []), profile_of
        )
        if subject is not None:
            found.append(subject)
    return found


def progress(
    pairs: Sequence[DoubleRead], cases: Sequence[AdjudicationCase]
) -> tuple[SubjectProgress, ...]:
    """Return each assigned subject's readers, progress and latest cut, by subject."""
    latest = {case.subject_id: case for case in cases}  # cases come by subject, cut
    return tuple(
        SubjectProgress(
            subject_id=assignment.subject_id,
            reader_1=assignment.reader_1,
            reader_2=assignment.reader_2,
            adjudicator=assignment.adjudicator,
            progress_1=_progress(read_1),
            progress_2=_progress(read_2),
            cut="" if (case := latest.get(assignment.subject_id)) is None else case.cut,
            status=_status(case),
        )
        for assignment, read_1, read_2 in pairs
    )


def _progress(read: Read | None) -> str:
    if read is None:
        return "not started"
    signed = sum(tp.read_status is ReadStatus.SIGNED for tp in read.timepoints)
    return f"{signed} of {len(read.timepoints)} signed"


def _status(case: AdjudicationCase | None) -> str:
    if case is None:
        return "no cut yet"
    if case.is_reopened:
        return "reopened"
    return str(case.status)
