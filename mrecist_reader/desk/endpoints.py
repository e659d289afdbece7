"""The endpoints of the reads at this desk, for the endpoints view (issue 18 item 6).

Only an unblinded reader sees trial endpoints: a local (site) read. A blinded central
reader never does, and for a central read nothing is loaded at all, arms.csv least of
all (endpoints.md §Inputs: arms.csv is unblinded, sponsor only). The derivation is the
command line's: the pure core per subject, the statistics of ``analysis``.
"""

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from mrecist_reader.analysis.summary import EndpointAnalysis, analyse
from mrecist_reader.core.assess import assess
from mrecist_reader.core.endpoints import (
    SubjectCourse,
    scans_from_assessment,
    with_sensitivity,
)
from mrecist_reader.core.errors import MrecistError
from mrecist_reader.core.model import Read, ReadType
from mrecist_reader.core.protocol import ProtocolProfile

logger = logging.getLogger(__name__)


class EndpointsHidden(MrecistError):
    """Trial endpoints are not shown in a blinded central read."""


@dataclass(frozen=True, slots=True)
class DeskEndpoints:
    """Every subject's course and the endpoint analysis of the desk's reads."""

    courses: dict[str, SubjectCourse]
    analysis: EndpointAnalysis


def may_show_endpoints(read_type: ReadType) -> bool:
    """Return whether a reader of this read type may see trial endpoints (local only)."""
    return read_type is ReadType.LOCAL


def desk_endpoints(
    reads: Sequence[Read],
    treatments: Path,
    arms: Path | None,
    *,
    read_type: ReadType,
    profile: ProtocolProfile,
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

    Raises
    ------
    EndpointsHidden
        For a central (blinded) read.
    InvalidRead
        When treatments.csv or arms.csv is invalid (every problem, with its line).

    """
    if not may_show_endpoints(read_type):
        raise EndpointsHidden(
            "trial endpoints are shown in local (site) reads only: a blinded central "
            "read never sees them"
        )
    from mrecist_reader.transfer.treatments import read_arms, read_treatments

    sessions = read_treatments(treatments)
    arm_of = dict(read_arms(arms)) if arms is not None else None
    scans = {
        r.key.subject_id: scans_from_assessment(r, assess(r, profile)) for r in reads
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
