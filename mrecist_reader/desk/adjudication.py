"""The adjudicator's screen, Qt-free: both reads of a discordant cut side by side.

central-review.md §Adjudicating: the adjudicator sees reader 1's and reader 2's reads
of a subject awaiting adjudication side by side, each reader in its own colour: both
lesion tables (each caliper's diameter), both response timelines (sums, changes,
responses), the discordant variables highlighted; nothing in either read can be
changed (no :class:`~mrecist_reader.session.ReadSession` is opened on them). The
decision is reader 1 or reader 2, a reason from the list and a rationale in words
(required), then a signature, recorded once and audited by the storage.

Blinding: the adjudicator sees the readers by role and reader ID (``Reader 1 (R01)``,
as adjudication.csv names them), the subject by its stored (pseudonymous) ID, the
timepoints by label and study day; never a scan date, a sign-off time, a site or an
arm (the treatments are not loaded), and free text with its file paths removed.
"""

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from psygnal import Signal

from mrecist_reader.core.adjudication import (
    AdjudicationCase,
    AdjudicationRefused,
    DecisionReason,
    Role,
)
from mrecist_reader.core.assess import Assessment, TimepointAssessment, assess
from mrecist_reader.core.model import Read, Response
from mrecist_reader.core.protocol import ProtocolProfile
from mrecist_reader.core.read_edits import truncated
from mrecist_reader.core.units import format_mm, format_percent
from mrecist_reader.core.wording import word
from mrecist_reader.desk.adjudication_images import ImagePane, SeriesChoice, image_pane
from mrecist_reader.desk.blinding import without_paths
from mrecist_reader.desk.worklist import Worklist
from mrecist_reader.session import (
    adjudication_queue,
    profile_by_name,
    reads_to_adjudicate,
    record_decision,
)
from mrecist_reader.storage.repository import ReadRepository

logger = logging.getLogger(__name__)

READER_COLOURS: dict[Role, str] = {Role.READER_1: "#1f77b4", Role.READER_2: "#ff7f0e"}
"""Each reader's colour on the screen (tables' headers, calipers): blue and orange."""

REASON_WORDS: dict[DecisionReason, str] = {
    DecisionReason.LESION_SELECTION: "lesion selection",
    DecisionReason.MEASUREMENT: "measurement",
    DecisionReason.NEW_LESION: "new lesion",
    DecisionReason.NON_TARGET: "non-target assessment",
    DecisionReason.IMAGE_QUALITY: "image quality",
    DecisionReason.OTHER: "other",
}
"""The list of reasons, in words, in the spec's order."""

BEST_RESPONSE = "best overall response"
PROGRESSION = "progression"


@dataclass(frozen=True, slots=True)
class QueueItem:
    """A subject in the adjudicator's queue: its cut and why it is there."""

    subject_id: str
    cut: str
    discordant_variables: tuple[str, ...]
    can_decide: bool
    """False for a reopened cut (a read amended or withdrawn): not decidable yet."""


@dataclass(frozen=True, slots=True)
class TimepointLine:
    """One timepoint of a reader's response timeline, in words."""

    label: str
    study_day: str
    target_sum_mm: str
    change_from_baseline: str
    target_response: str
    non_target_response: str
    new_lesions: str
    overall_response: str
    discordant: bool


@dataclass(frozen=True, slots=True)
class LesionLine:
    """One lesion of a reader's lesion table: its diameter at each timepoint."""

    lesion_id: str
    lesion_type: str
    organ: str
    location: str
    by_timepoint: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class ReaderSide:
    """One reader's half of the screen, up to the cut."""

    role: Role
    reader_id: str
    colour: str
    timepoints: tuple[TimepointLine, ...]
    lesions: tuple[LesionLine, ...]
    best_response: str
    progression: str
    best_discordant: bool
    progression_discordant: bool

    @property
    def title(self) -> str:
        """Return the side's heading (``Reader 1 (R01)``)."""
        number = "1" if self.role is Role.READER_1 else "2"
        return f"Reader {number} ({self.reader_id})"


@dataclass(frozen=True, slots=True)
class AdjudicationScreen:
    """What the adjudicator sees of one subject's discordant cut."""

    subject_id: str
    cut: str
    timepoint_labels: tuple[str, ...]
    discordant_variables: tuple[str, ...]
    sides: tuple[ReaderSide, ReaderSide]
    can_decide: bool
    reasons: tuple[DecisionReason, ...] = tuple(DecisionReason)


class AdjudicationDesk:
    """The adjudicator's work: the queue, the open subject, the decision.

    Signals
    -------
    queue_changed(tuple[QueueItem, ...])
    screen_changed(AdjudicationScreen | None)
    decided(AdjudicationCase)

    Parameters
    ----------
    repository
        The reads database.
    adjudicator
        The adjudicator's reader ID (only their subjects are listed and opened).
    profile_of
        The protocol profile of a profile name (default: the packaged profiles).
    os_user
        Recorded with the decision (default: the logged-in user).

    """

    queue_changed = Signal(object)
    screen_changed = Signal(object)
    decided = Signal(object)

    def __init__(
        self,
        repository: ReadRepository,
        adjudicator: str,
        *,
        profile_of: Callable[[str], ProtocolProfile] | None = None,
        os_user: str | None = None,
    ) -> None:
        self._repository = repository
        self.adjudicator = adjudicator
        # the profile text the reads keep (issue 21 item 3), else the shipped one
        self._profile_of = profile_of or profile_by_name(repository)
        self._os_user = os_user
        self.screen: AdjudicationScreen | None = None
        self.reads: tuple[Read, Read] | None = None
        """The open subject's two primary reads up to the cut (read-only)."""

    def queue(self) -> tuple[QueueItem, ...]:
        """Return the subjects awaiting this adjudicator's decision, by subject."""
        items = tuple(
            QueueItem(
                case.subject_id,
                case.cut,
                case.discordant_variables,
                not case.is_reopened,
            )
            for case in adjudication_queue(self._repository, self.adjudicator)
        )
        self.queue_changed.emit(items)
        return items

    def open(self, subject_id: str) -> AdjudicationScreen:
        """Open a subject of the queue: both reads side by side, up to the cut.

        Raises
        ------
        AdjudicationRefused
            When the subject is not awaiting this adjudicator's decision.

        """
        case = self._case(subject_id)
        read_1, read_2 = reads_to_adjudicate(
            self._repository, subject_id, self.adjudicator
        )
        self.screen = screen_of(case, read_1, read_2, self._profile_of)
        self.reads = (
            truncated(read_1, case.cut_index),
            truncated(read_2, case.cut_index),
        )
        self.screen_changed.emit(self.screen)
        return self.screen

    def close(self) -> None:
        """Close the open subject (nothing is recorded)."""
        self.screen = None
        self.reads = None
        self.screen_changed.emit(None)

    def timepoints(self) -> tuple[tuple[int, str], ...]:
        """Return the open cut's timepoints as ``(index, label)`` (none when closed)."""
        if self.reads is None:
            return ()
        return tuple((tp.index, tp.label) for tp in self.reads[0].timepoints)

    def images(
        self,
        timepoint_index: int,
        worklist: Worklist,
        series_choice: SeriesChoice | None = None,
    ) -> ImagePane | None:
        """Return both readers' calipers at a timepoint and the series to show them on.

        ``worklist`` is the images the adjudicator opened (File > Open...);
        ``series_choice`` the reading desk's series for a timepoint, used when
        neither reader has a caliper there. ``None`` when no subject is open.
        """
        if self.reads is None:
            return None
        return image_pane(self.reads, timepoint_index, worklist, series_choice)

    def decide(self, choose: Role, reason: str, rationale: str) -> AdjudicationCase:
        """Record the decision on the open subject (signed by this adjudicator).

        The storage checks it again (assigned adjudicator, still awaiting, written
        once); the open subject is closed and the queue refreshed.

        Raises
        ------
        AdjudicationRefused
            When no subject is open, the reason is not one of the list or the
            rationale is empty (nothing is recorded), or the storage refuses.

        """
        if self.screen is None:
            raise AdjudicationRefused("no subject is open: choose one from the queue")
        if not self.screen.can_decide:
            raise AdjudicationRefused(
                f"subject {self.screen.subject_id}'s cut {self.screen.cut} was "
                "reopened: both readers sign it again before it can be decided"
            )
        case = record_decision(
            self._repository,
            self.screen.subject_id,
            adjudicator=self.adjudicator,
            choose=str(choose),
            reason=reason,
            rationale=rationale,
            os_user=self._os_user,
        )
        self.close()
        self.decided.emit(case)
        self.queue()
        return case

    def _case(self, subject_id: str) -> AdjudicationCase:
        for case in adjudication_queue(self._repository, self.adjudicator):
            if case.subject_id == subject_id:
                return case
        raise AdjudicationRefused(
            f"subject {subject_id} is not awaiting adjudication by {self.adjudicator}"
        )


def screen_of(
    case: AdjudicationCase,
    read_1: Read,
    read_2: Read,
    profile_of: Callable[[str], ProtocolProfile],
) -> AdjudicationScreen:
    """Return the side-by-side screen of a cut from the two primary reads."""
    flagged = _flagged(case.discordant_variables)
    sides = tuple(
        _side(role, read, case.cut_index, profile_of, flagged)
        for role, read in ((Role.READER_1, read_1), (Role.READER_2, read_2))
    )
    labels = tuple(tp.label for tp in read_1.timepoints if tp.index <= case.cut_index)
    return AdjudicationScreen(
        subject_id=case.subject_id,
        cut=case.cut,
        timepoint_labels=labels,
        discordant_variables=case.discordant_variables,
        sides=(sides[0], sides[1]),
        can_decide=not case.is_reopened,
    )


def _flagged(variables: Sequence[str]) -> set[str]:
    """Return the names of the discordant variables ("FU2", "progression", ...)."""
    return {variable.split(":", 1)[0].strip() for variable in variables}


def _side(
    role: Role,
    read: Read,
    cut_index: int,
    profile_of: Callable[[str], ProtocolProfile],
    flagged: set[str],
) -> ReaderSide:
    upto = truncated(read, cut_index)
    assessment = assess(upto, profile_of(upto.protocol_profile))
    days = {tp.index: tp.study_day for tp in upto.timepoints}
    return ReaderSide(
        role=role,
        reader_id=read.key.reader_id,
        colour=READER_COLOURS[role],
        timepoints=tuple(
            _timepoint_line(row, days.get(row.timepoint_index), flagged)
            for row in assessment.timepoints
        ),
        lesions=_lesion_lines(upto),
        best_response=_response(assessment.best_overall_response),
        progression=_progression(upto, assessment),
        best_discordant=BEST_RESPONSE in flagged,
        progression_discordant=PROGRESSION in flagged,
    )


def _response(response: Response | None) -> str:
    return "—" if response is None else str(response)


def _timepoint_line(
    row: TimepointAssessment, study_day: int | None, flagged: set[str]
) -> TimepointLine:
    return TimepointLine(
        label=row.label,
        study_day="" if study_day is None else f"day {study_day}",
        target_sum_mm="" if row.target_sum is None else format_mm(row.target_sum),
        change_from_baseline=""
        if row.change_from_baseline_pct is None
        else f"{format_percent(row.change_from_baseline_pct)} %",
        target_response=_response(row.target_response),
        non_target_response=word(row.non_target_response),
        new_lesions=word(row.new_lesions),
        overall_response=_response(row.overall_response),
        discordant=row.label in flagged,
    )


def _lesion_lines(read: Read) -> tuple[LesionLine, ...]:
    indices = [tp.index for tp in read.timepoints]
    lines = []
    for lesion in read.lesions:
        cells = []
        for index in indices:
            observation = read.observation(lesion.lesion_id, index)
            if observation is None:
                cells.append("")
            elif observation.diameter is not None:
                cells.append(f"{format_mm(observation.diameter)} mm")
            else:
                cells.append(word(observation.status))
        lines.append(
            LesionLine(
                lesion.lesion_id,
                word(lesion.lesion_type),
                word(lesion.organ),
                without_paths(lesion.location),
                tuple(cells),
            )
        )
    return tuple(lines)


def _progression(read: Read, assessment: Assessment) -> str:
    index = assessment.progression_timepoint_index
    if index is None:
        return "none"
    return next((tp.label for tp in read.timepoints if tp.index == index), str(index))
