"""The endpoints of the reads at this desk, for the endpoints view (issue 18 item 6).

Only an unblinded reader sees trial endpoints: a local (site) read, or the review
manager of a double read (central-review.md §Independence: any caller who is neither a
primary reader nor an adjudicator of assigned subjects), who sees those of the final
reads. A blinded central reader never does, and for a central read nothing is loaded at
all, arms.csv least of all (endpoints.md §Inputs: arms.csv is unblinded, sponsor only). The derivation is the
command line's: the pure core per subject, the statistics of ``analysis``.
"""

import logging
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from mrecist_reader.core.assess import assess
from mrecist_reader.core.endpoints import (
    ArmAssignment,
    SubjectCourse,
    Treatment,
    scans_from_assessment,
    with_sensitivity,
)
from mrecist_reader.core.errors import InvalidRead, MrecistError, Problem
from mrecist_reader.core.model import Read, ReadKey, ReadType
from mrecist_reader.core.protocol import ProtocolProfile
from mrecist_reader.session import stored_reads

if TYPE_CHECKING:
    from collections.abc import Callable

    from mrecist_reader.analysis.summary import EndpointAnalysis
    from mrecist_reader.desk.desk import ReadingDesk
    from mrecist_reader.storage.repository import ReadRepository

logger = logging.getLogger(__name__)


class EndpointsHidden(MrecistError):
    """Trial endpoints are not shown in a blinded central read."""


@dataclass(frozen=True, slots=True)
class DeskEndpoints:
    """Every subject's course and the endpoint analysis of the desk's reads."""

    courses: dict[str, SubjectCourse]
    analysis: "EndpointAnalysis"


def may_show_endpoints(read_type: ReadType) -> bool:
    """Return whether a reader of this read type may see trial endpoints (local only)."""
    return read_type is ReadType.LOCAL


def _refuse_blinded(read_type: ReadType) -> None:
    """Raise :class:`EndpointsHidden` unless this read type may see endpoints."""
    if not may_show_endpoints(read_type):
        raise EndpointsHidden(
            "trial endpoints are shown in local (site) reads only: a blinded central "
            "read never sees them"
        )


def _sponsor_files(
    treatments: Path, arms: Path | None
) -> tuple[dict[str, tuple[Treatment, ...]], dict[str, ArmAssignment] | None]:
    """Read treatments.csv and arms.csv; every problem of both named FILE:LINE."""
    # the file readers load when asked for, not with the window
    from mrecist_reader.transfer.treatments import read_arms, read_treatments

    problems: list[Problem] = []
    sessions: dict[str, tuple[Treatment, ...]] = {}
    arm_of: dict[str, ArmAssignment] | None = None
    try:
        sessions = read_treatments(treatments)
    except InvalidRead as invalid:
        problems += _located(treatments, invalid)
    if arms is not None:
        try:
            arm_of = dict(read_arms(arms))
        except InvalidRead as invalid:
            problems += _located(arms, invalid)
    if problems:
        raise InvalidRead(problems)
    return sessions, arm_of


def _located(path: Path, invalid: InvalidRead) -> list[Problem]:
    """Return a file's problems, each message naming the file and line."""
    from mrecist_reader.transfer.csv_in import format_problem

    return [replace(p, message=format_problem(path, p)) for p in invalid.problems]


def endpoints_at_desk(
    desk: "ReadingDesk", treatments: Path, arms: Path | None
) -> DeskEndpoints:
    """Derive the endpoints of the reader's reads in the desk's open database.

    The reads are the reader's own reads of the desk's read type (the open one
    included, as recorded). A central desk is refused before the database, the
    treatment days or the arms are opened.

    Raises
    ------
    EndpointsHidden
        For a central (blinded) read.
    InvalidRead
        When treatments.csv or arms.csv is invalid (every problem, with its line).

    """
    context = desk.context
    _refuse_blinded(context.read_type)
    if desk.session is not None:
        reads = desk.reads_to_export(every_subject=True)
    else:
        reads = stored_reads(desk.repository(), context.reader_id, context.read_type)
    return desk_endpoints(
        reads,
        treatments,
        arms,
        read_type=context.read_type,
        profile=context.profile,
        stored_profiles=desk.repository().stored_profiles(),
    )


def desk_endpoints(
    reads: Sequence[Read],
    treatments: Path,
    arms: Path | None,
    *,
    read_type: ReadType,
    profile: ProtocolProfile,
    stored_profiles: Mapping[ReadKey, ProtocolProfile] | None = None,
) -> DeskEndpoints:
    """Derive the endpoints of the desk's reads with the sponsor's treatment days.

    Parameters
    ----------
    reads
        The reader's reads, one per subject (drafts are ignored by the derivation).
    treatments, arms
        treatments.csv, and arms.csv or ``None`` (everything pooled).
    read_type
        The desk's read type: a central read is refused before any file is opened.
    profile
        The protocol profile with the endpoints.
    stored_profiles
        The profile text stored with each read (issue 21, item 3): a read's
        responses are computed with it when it has one (default: ``profile``).

    Raises
    ------
    EndpointsHidden
        For a central (blinded) read.
    InvalidRead
        When treatments.csv or arms.csv is invalid (every problem, with its line).

    """
    _refuse_blinded(read_type)
    return _derive(reads, treatments, arms, profile, stored_profiles)


def review_manager_endpoints(
    repository: "ReadRepository",
    manager: str,
    treatments: Path,
    arms: Path | None,
    *,
    profile_of: "Callable[[str], ProtocolProfile]",
) -> DeskEndpoints:
    """Derive the endpoints of a double read's final reads for its review manager.

    The reads are each assigned subject's final read (none while it awaits
    adjudication) and the reads of unassigned subjects, as ``mrecist-reader endpoints
    --db`` takes them; the endpoint definitions are those of the profile the reads name.

    Raises
    ------
    EndpointsHidden
        When no subject is assigned (there is no review manager), or ``manager`` reads
        or adjudicates an assigned subject: before treatments.csv or arms.csv is opened.
    MrecistError
        When there is no final read yet.
    InvalidRead
        When treatments.csv or arms.csv is invalid (every problem, with its line).

    """
    assignments = repository.assignments()
    if not assignments:
        raise EndpointsHidden(
            "no subject is assigned in this database: trial endpoints are shown to "
            "the review manager of a double read, never to a blinded central reader"
        )
    blinded = {r for a in assignments for r in (a.reader_1, a.reader_2, a.adjudicator)}
    if manager in blinded:
        raise EndpointsHidden(
            f"{manager} reads or adjudicates assigned subjects: a blinded reader "
            "never sees trial endpoints"
        )
    from mrecist_reader.desk.export import final_reads

    reads = final_reads(repository, repository.all_reads())
    if not reads:
        raise MrecistError("there is no final read yet: no endpoint can be derived")
    named = Counter(read.protocol_profile for read in reads).most_common(1)[0][0]
    stored = repository.stored_profiles()
    return _derive(reads, treatments, arms, profile_of(named), stored)


def _derive(
    reads: Sequence[Read],
    treatments: Path,
    arms: Path | None,
    profile: ProtocolProfile,
    stored_profiles: Mapping[ReadKey, ProtocolProfile] | None,
) -> DeskEndpoints:
    # the statistics (scipy) load when asked for, not with the window
    from mrecist_reader.analysis.summary import analyse

    sessions, arm_of = _sponsor_files(treatments, arms)
    kept = stored_profiles or {}
    scans = {
        r.key.subject_id: scans_from_assessment(r, assess(r, kept.get(r.key, profile)))
        for r in reads
    }
    courses = {
        s: SubjectCourse(s, scans.get(s, ()), sessions.get(s, ()))
        for s in sorted({*scans, *sessions})
    }
    analysis = analyse(
        courses,
        with_sensitivity(profile.endpoints),
        sd_min_days=profile.sd_min_days,
        arms=arm_of,
        control_arm=profile.control_arm if arm_of else None,
    )
    logger.info("endpoints of %d subject(s) for the desk", len(courses))
    return DeskEndpoints(courses, analysis)
