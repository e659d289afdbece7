"""Blinded independent central review: assignment, read cut and the adjudication trigger.

Pure rules of ``central-review.md``: who reads a subject (:class:`Assignment`), the
*read cut* both primary readers have signed (:func:`read_cut`), the comparison of the
adjudication variables up to it (:func:`compare_reads`, §When adjudication is needed),
and the checks of an adjudicator's decision (:func:`decision_problem`, §Adjudicating).
"""

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from mrecist_reader.core.assess import Assessment, assess
from mrecist_reader.core.endpoints import (
    SubjectCourse,
    Treatment,
    derive_endpoint,
    scans_from_assessment,
)
from mrecist_reader.core.errors import MrecistError
from mrecist_reader.core.model import Read, ReadStatus, Response
from mrecist_reader.core.protocol import ProtocolProfile
from mrecist_reader.core.read_edits import truncated


class Role(StrEnum):
    """A primary reader's role on a subject (the ``--choose`` tokens)."""

    READER_1 = "reader_1"
    READER_2 = "reader_2"


class ReadRole(StrEnum):
    """What a read is in the review (``read_role`` of the exports)."""

    PRIMARY = "primary"
    FINAL = "final"


class CutStatus(StrEnum):
    """Where a subject's read cut stands (``status`` of adjudication.csv)."""

    CONCORDANT = "concordant"
    AWAITING = "awaiting"
    ADJUDICATED = "adjudicated"


class DecisionReason(StrEnum):
    """Why the adjudicator chose a read (central-review.md §Adjudicating)."""

    LESION_SELECTION = "lesion_selection"
    MEASUREMENT = "measurement"
    NEW_LESION = "new_lesion"
    NON_TARGET = "non_target"
    IMAGE_QUALITY = "image_quality"
    OTHER = "other"


FINAL_ROLE_WHEN_CONCORDANT = Role.READER_1
"""Whose read is final for a concordant cut (the spec's default: reader 1)."""

REOPENED_PREFIX = "reopened: "
"""Starts the discordant variables of a reopened cut (an amendment or a withdrawal).

A reopened cut is awaiting again, yet no adjudicator can decide it: one of its two
reads is no longer signed up to it (amended) or no longer there (withdrawn). It is
compared again once both readers have signed up to it.
"""


class AssignmentError(MrecistError):
    """An assignment that cannot be stored (exit 1); the message names the subject."""


class AdjudicationRefused(MrecistError):
    """A decision that cannot be recorded (exit 1); the message says why."""


@dataclass(frozen=True, slots=True)
class Assignment:
    """The three readers of one subject (a row of assignments.csv)."""

    subject_id: str
    reader_1: str
    reader_2: str
    adjudicator: str

    def role_of(self, reader_id: str) -> Role | None:
        """Return ``reader_id``'s primary role on this subject (``None``: not primary)."""
        if reader_id == self.reader_1:
            return Role.READER_1
        if reader_id == self.reader_2:
            return Role.READER_2
        return None

    def reader(self, role: Role) -> str:
        """Return the reader ID holding ``role``."""
        return self.reader_1 if role is Role.READER_1 else self.reader_2

    def problem(self) -> str | None:
        """Say why the three reader IDs are not usable (``None``: three distinct IDs)."""
        ids = (self.reader_1, self.reader_2, self.adjudicator)
        if len(set(ids)) != 3:
            return (
                f"reader_1 {self.reader_1!r}, reader_2 {self.reader_2!r} and "
                f"adjudicator {self.adjudicator!r} must be three distinct reader IDs"
            )
        return None


@dataclass(frozen=True, slots=True)
class CutComparison:
    """The adjudication variables of two reads compared up to their read cut.

    ``differences`` are the discordant variables in words ("FU2: reader 1 PR, reader
    2 SD"); empty when the cut is concordant. ``signed_off_at`` is when the later of
    the two readers signed the cut timepoint.
    """

    cut_index: int
    cut: str
    differences: tuple[str, ...]
    signed_off_at: datetime | None

    @property
    def is_concordant(self) -> bool:
        """Return whether the two reads agree on every adjudication variable."""
        return not self.differences


@dataclass(frozen=True, slots=True)
class AdjudicationCase:
    """One subject's read cut and what became of it (a row of adjudication.csv)."""

    subject_id: str
    cut_index: int
    cut: str
    reader_1: str
    reader_2: str
    status: CutStatus
    discordant_variables: tuple[str, ...] = ()
    adjudicator: str = ""
    chosen_reader: str = ""
    reason: str = ""
    rationale: str = ""
    signed_at: datetime | None = None
    signed_off_at: datetime | None = None

    @property
    def is_reopened(self) -> bool:
        """Return whether the cut was reopened (amended or withdrawn read): no decision."""
        return self.status is CutStatus.AWAITING and any(
            v.startswith(REOPENED_PREFIX) for v in self.discordant_variables
        )

    @property
    def final_reader(self) -> str | None:
        """Return whose read is final for this cut (``None``: still awaiting)."""
        if self.status is CutStatus.CONCORDANT:
            return (
                self.reader_1
                if FINAL_ROLE_WHEN_CONCORDANT is Role.READER_1
                else self.reader_2
            )
        if self.status is CutStatus.ADJUDICATED:
            return self.chosen_reader
        return None


def read_cut(read_1: Read, read_2: Read) -> int | None:
    """Return the latest timepoint index both reads have signed, with every earlier one.

    central-review.md §When adjudication is needed: the timepoints are matched by
    index and label; ``None`` when the baselines are not both signed.
    """
    cut: int | None = None
    index = 0
    while _both_signed(read_1, read_2, index):
        cut = index
        index += 1
    return cut


def _both_signed(read_1: Read, read_2: Read, index: int) -> bool:
    one, two = read_1.timepoint(index), read_2.timepoint(index)
    return (
        one is not None
        and two is not None
        and one.label == two.label
        and one.read_status is ReadStatus.SIGNED
        and two.read_status is ReadStatus.SIGNED
    )


def compare_reads(
    read_1: Read,
    read_2: Read,
    profile_of: Callable[[str], ProtocolProfile],
    treatments: Sequence[Treatment] = (),
) -> CutComparison | None:
    """Compare the adjudication variables of two primary reads up to their read cut.

    The variables (NCT06779461): the endpoint response at each of the profile's
    endpoint visits when ``treatments`` are given, else the overall response at every
    follow-up; the best overall response; the progression timepoint (backdated).

    Parameters
    ----------
    read_1, read_2
        Reader 1's and reader 2's reads of one subject.
    profile_of
        The protocol profile of a profile name.
    treatments
        The subject's treatment sessions (``assign --treatments``), session order.

    Returns
    -------
    CutComparison | None
        ``None`` when no timepoint is signed by both (no cut yet).

    """
    cut = read_cut(read_1, read_2)
    if cut is None:
        return None
    one = truncated(read_1, cut)
    two = truncated(read_2, cut)
    profile_1 = profile_of(read_1.protocol_profile)
    profile_2 = profile_of(read_2.protocol_profile)
    a_1, a_2 = assess(one, profile_1), assess(two, profile_2)
    if treatments and profile_1.endpoints:
        differences = _endpoint_differences(
            (one, a_1), (two, a_2), profile_1, tuple(treatments)
        )
    else:
        differences = _timepoint_differences(a_1, a_2)
    differences += _best_and_progression_differences(one, a_1, a_2)
    label = next(tp.label for tp in one.timepoints if tp.index == cut)
    return CutComparison(cut, label, tuple(differences), _signed_off(one, two, cut))


def _words(what: str, value_1: object, value_2: object) -> str:
    return f"{what}: reader 1 {value_1}, reader 2 {value_2}"


def _shown(response: Response | None) -> str:
    return "none" if response is None else str(response)


def _timepoint_differences(a_1: Assessment, a_2: Assessment) -> list[str]:
    second = {row.timepoint_index: row for row in a_2.timepoints}
    return [
        _words(row.label, _shown(row.overall_response), _shown(other.overall_response))
        for row in a_1.timepoints
        if row.timepoint_index > 0
        and (other := second.get(row.timepoint_index)) is not None
        and row.overall_response != other.overall_response
    ]


def _endpoint_differences(
    first: tuple[Read, Assessment],
    second: tuple[Read, Assessment],
    profile: ProtocolProfile,
    treatments: tuple[Treatment, ...],
) -> list[str]:
    courses = [
        SubjectCourse(read.key.subject_id, scans_from_assessment(read, a), treatments)
        for read, a in (first, second)
    ]
    found: list[str] = []
    for definition in profile.endpoints:
        r_1, r_2 = (
            derive_endpoint(c, definition, sd_min_days=profile.sd_min_days)
            for c in courses
        )
        if r_1.endpoint_response != r_2.endpoint_response:
            found.append(
                _words(
                    definition.name,
                    _shown(r_1.endpoint_response),
                    _shown(r_2.endpoint_response),
                )
            )
    return found


def _best_and_progression_differences(
    read: Read, a_1: Assessment, a_2: Assessment
) -> list[str]:
    found: list[str] = []
    if a_1.best_overall_response != a_2.best_overall_response:
        found.append(
            _words(
                "best overall response",
                _shown(a_1.best_overall_response),
                _shown(a_2.best_overall_response),
            )
        )
    if a_1.progression_timepoint_index != a_2.progression_timepoint_index:
        labels = {tp.index: tp.label for tp in read.timepoints}
        first, second = (
            "none" if index is None else labels.get(index, str(index))
            for index in (
                a_1.progression_timepoint_index,
                a_2.progression_timepoint_index,
            )
        )
        found.append(_words("progression", first, second))
    return found


def _signed_off(read_1: Read, read_2: Read, cut: int) -> datetime | None:
    times = [
        tp.signed_at
        for read in (read_1, read_2)
        if (tp := read.timepoint(cut)) is not None and tp.signed_at is not None
    ]
    return max(times, default=None)


def decision_problem(
    case: AdjudicationCase | None,
    assignment: Assignment | None,
    adjudicator: str,
    *,
    subject_id: str,
    reason: str,
    rationale: str,
) -> str | None:
    """Say why an adjudicator's decision cannot be recorded (``None``: it can).

    central-review.md §Adjudicating: the adjudicator is the assigned one, the subject
    is awaiting adjudication, the reason is one of the list and the rationale is given.
    """
    if assignment is None:
        return f"subject {subject_id} is not assigned (run mrecist-reader assign first)"
    if adjudicator != assignment.adjudicator:
        return (
            f"{adjudicator} is not the adjudicator of subject {subject_id} "
            f"(assigned: {assignment.adjudicator})"
        )
    if case is None or case.status is not CutStatus.AWAITING:
        state = "has no read cut yet" if case is None else f"is {case.status}"
        return f"subject {subject_id} is not awaiting adjudication (its cut {state})"
    if case.is_reopened:
        why = case.discordant_variables[0].removeprefix(REOPENED_PREFIX)
        return (
            f"subject {subject_id} is not awaiting adjudication: its cut {case.cut} "
            f"was reopened ({why}); both readers sign it again first"
        )
    if reason not in {str(r) for r in DecisionReason}:
        allowed = ", ".join(str(r) for r in DecisionReason)
        return f"reason {reason!r} is not one of {allowed}"
    if not rationale.strip():
        return "the rationale is empty (required: say in words why that read stands)"
    return None


def withdrawal_problem(
    assignment: Assignment | None, reader_id: str, reason: str, *, subject_id: str
) -> str | None:
    """Say why ``reader_id``'s read of the subject cannot be withdrawn (``None``: it can).

    central-review.md §Roles and assignment: a primary reader's read is withdrawn (by
    the review manager, with a reason, audited) before the subject can be taken from
    that reader.
    """
    if assignment is None:
        return f"subject {subject_id} is not assigned: there is no primary read to withdraw"
    if assignment.role_of(reader_id) is None:
        return (
            f"{reader_id} is not a primary reader of subject {subject_id} "
            f"(reader_1 {assignment.reader_1}, reader_2 {assignment.reader_2})"
        )
    if not reason.strip():
        return "the reason is empty (required: say why the read is withdrawn)"
    return None


def withdrawn_reader_id(reader_id: str, number: int) -> str:
    """Return the reader ID a withdrawn read is kept under (``R02 (withdrawn 1)``).

    The read is kept, never deleted: under this name no reader's worklist and no
    comparison finds it, and its reader may be reassigned or read the subject again.
    """
    return f"{reader_id} (withdrawn {number})"


def is_withdrawn_reader_id(reader_id: str) -> bool:
    """Return whether a read's reader ID is that of a withdrawn read (see above)."""
    return _WITHDRAWN.search(reader_id) is not None


_WITHDRAWN = re.compile(r" \(withdrawn \d+\)$")


def judge_with(
    profile_of: Callable[[str], ProtocolProfile],
) -> Callable[[Read, Read, tuple[Treatment, ...]], CutComparison | None]:
    """Return the trigger's comparison with profiles found by ``profile_of``."""

    def judge(
        read_1: Read, read_2: Read, treatments: tuple[Treatment, ...]
    ) -> CutComparison | None:
        return compare_reads(read_1, read_2, profile_of, treatments)

    return judge
