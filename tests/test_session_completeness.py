"""Sign-off needs a complete timepoint, signed in order; new lesions keep their diameter.

Issue 14 items 4 and 5, without Qt: a follow-up is complete only when every lesion known
before it (targets, non-targets, new lesions seen earlier) has a status there.
"""

from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest

from mrecist_reader.core.errors import (
    CytologyRequired,
    EarlierDrafts,
    IncompleteTimepoint,
    MrecistError,
    RuleViolation,
)
from mrecist_reader.core.model import (
    Method,
    NewLesionStatus,
    NonTargetStatus,
    Organ,
    Read,
    ReadStatus,
    Response,
)
from mrecist_reader.core.protocol import ProtocolProfile
from mrecist_reader.resources import load_profile
from mrecist_reader.session import CaliperMark, ReadSession
from mrecist_reader.storage.audit import Actor, AuditEntry
from mrecist_reader.storage.repository import ReadRepository, Viewer
from tests.test_session import KEY, caliper


class CountingRepository(ReadRepository):
    """A database that remembers the audit entries of each transaction."""

    def __init__(self, url: str) -> None:
        super().__init__(url)
        self.transactions: list[list[AuditEntry]] = []

    def save(
        self,
        read: Read,
        entries: Sequence[AuditEntry],
        *,
        actor: Actor,
        profile: ProtocolProfile | None = None,
    ) -> None:
        super().save(read, entries, actor=actor, profile=profile)
        self.transactions.append(list(entries))


@pytest.fixture(scope="module")
def profile() -> ProtocolProfile:
    return load_profile("nct06779461")


@pytest.fixture
def repository(tmp_path: Path) -> Iterator[CountingRepository]:
    repo = CountingRepository(f"sqlite:///{tmp_path / 'reads.db'}")
    yield repo
    repo.close()


@pytest.fixture
def session(repository: ReadRepository, profile: ProtocolProfile) -> ReadSession:
    """BASELINE T1 60 mm; FU1 T1 58 mm and an equivocal N1; FU2 T1 58 mm only."""
    opened = ReadSession.open(repository, KEY, site_id="SITE01", profile=profile)
    opened.add_timepoint("BASELINE", 0, study_day=0)
    opened.designate_target(Organ.LIVER, "segment VII", caliper=caliper(60.0))
    opened.add_timepoint("FU1", 1, study_day=60)
    opened.record_measurement("T1", 1, caliper(58.0))
    opened.add_new_lesion(
        Organ.LIVER, "segment II", 1, status=NewLesionStatus.EQUIVOCAL
    )
    opened.add_timepoint("FU2", 2, study_day=120)
    opened.record_measurement("T1", 2, caliper(58.0))
    return opened


def labels(session: ReadSession) -> list[str]:
    assert session.assessment is not None
    return [row.label for row in session.assessment.timepoints]


def test_an_equivocal_new_lesion_from_fu1_without_a_status_at_fu2_makes_fu2_incomplete(
    session: ReadSession,
) -> None:
    assert session.missing_statuses(2) == (
        "N1 (new, first seen at FU1): no status at FU2",
    )
    assert labels(session) == ["BASELINE", "FU1"]  # FU2 is not shown as SD
    assert any("N1 (new" in p.message for p in session.problems)
    session.sign_timepoint(1, with_earlier_drafts=True)
    with pytest.raises(
        IncompleteTimepoint,
        match=r"^FU2 cannot be signed yet: N1 \(new, first seen at FU1\): no status "
        r"at FU2$",
    ):
        session.sign_timepoint(2)
    fu2 = session.read.timepoint(2)
    assert fu2 is not None
    assert fu2.read_status is ReadStatus.DRAFT


def test_once_n1_has_its_status_fu2_is_assessed_and_may_be_signed(
    session: ReadSession,
) -> None:
    session.record_status("N1", 2, NewLesionStatus.PRESENT)
    assert session.missing_statuses(2) == ()
    assert session.assessment is not None
    fu2 = session.assessment.timepoints[-1]
    assert (fu2.label, fu2.overall_response) == ("FU2", Response.PD)
    assert fu2.progression_backdated_to == "FU1"
    session.sign_timepoint(2, with_earlier_drafts=True)
    assert [tp.read_status for tp in session.read.timepoints] == [ReadStatus.SIGNED] * 3


def test_a_target_or_non_target_without_a_status_is_named_too(
    repository: ReadRepository, profile: ProtocolProfile
) -> None:
    opened = ReadSession.open(repository, KEY, site_id="SITE01", profile=profile)
    opened.add_timepoint("BASELINE", 0, study_day=0)
    opened.designate_target(Organ.LIVER, "segment VII", caliper=caliper(60.0))
    opened.designate_target(Organ.LIVER, "segment II", caliper=caliper(40.0))
    opened.add_non_target(Organ.LUNG, "right lower lobe")
    opened.add_timepoint("FU1", 1, study_day=60)
    opened.record_measurement("T1", 1, caliper(50.0))
    assert opened.missing_statuses(1) == (
        "T2 (target): no status at FU1",
        "NT1 (non-target): no status at FU1",
    )
    assert opened.missing_statuses(0) == ()


def test_a_follow_up_is_not_signed_while_an_earlier_timepoint_is_a_draft(
    session: ReadSession,
) -> None:
    assert session.earlier_drafts(1) == ("BASELINE",)
    with pytest.raises(
        EarlierDrafts,
        match=r"^FU1 cannot be signed while BASELINE is a draft: sign BASELINE first",
    ):
        session.sign_timepoint(1)
    assert [tp.read_status for tp in session.read.timepoints] == [ReadStatus.DRAFT] * 3


def test_signing_together_is_one_transaction_with_one_audit_entry_each(
    session: ReadSession, repository: CountingRepository
) -> None:
    session.sign_timepoint(1, with_earlier_drafts=True)
    entries = repository.transactions[-1]
    assert [(e.action, e.target) for e in entries] == [
        ("sign", "BASELINE"),
        ("sign", "FU1"),
    ]
    assert entries[0].reason == "signed together with FU1"
    assert [tp.read_status for tp in session.read.timepoints] == [
        ReadStatus.SIGNED,
        ReadStatus.SIGNED,
        ReadStatus.DRAFT,
    ]
    assert session.earlier_drafts(2) == ()


def test_signing_together_signs_nothing_when_the_later_one_is_incomplete(
    session: ReadSession, repository: CountingRepository
) -> None:
    saved = len(repository.transactions)
    with pytest.raises(IncompleteTimepoint, match="N1"):
        session.sign_timepoint(2, with_earlier_drafts=True)
    assert len(repository.transactions) == saved
    assert [tp.read_status for tp in session.read.timepoints] == [ReadStatus.DRAFT] * 3


def test_signing_gaps_list_missing_statuses_before_other_problems(
    session: ReadSession,
) -> None:
    gaps = session.signing_gaps(2)
    assert [gap.message for gap in gaps] == [
        "N1 (new, first seen at FU1): no status at FU2"
    ]
    assert (gaps[0].lesion_id, gaps[0].timepoint_index) == ("N1", 2)


# ---------------------------------------------------------------- new-lesion diameter
def mark(length_mm: float) -> CaliperMark:
    return CaliperMark(caliper(length_mm), "1.2.3", "1.2.3.9", Method.MANUAL)


def test_a_new_lesion_added_with_a_caliper_records_its_longest_diameter(
    session: ReadSession, repository: ReadRepository
) -> None:
    lesion_id = session.add_new_lesion(
        Organ.LIVER, "segment III", 2, status=NewLesionStatus.PRESENT, mark=mark(14.0)
    )
    observation = session.read.observation(lesion_id, 2)
    assert observation is not None
    assert (observation.diameter, observation.sop_instance_uid) == (140, "1.2.3.9")
    assert "14.0 mm" in session.audit_trail()[-1].new_value
    again = repository.load(KEY, viewer=Viewer(KEY.reader_id, KEY.read_type))
    assert again is not None
    assert again.observation(lesion_id, 2) == observation


def test_measuring_a_new_lesion_keeps_its_status(session: ReadSession) -> None:
    value = session.record_measurement("N1", 1, caliper(12.0), sop_instance_uid="9.9")
    observation = session.read.observation("N1", 1)
    assert observation is not None
    assert value == 120
    assert (observation.status, observation.diameter) == (
        NewLesionStatus.EQUIVOCAL,
        120,
    )
    assert session.read.lesions[-1].lesion_id == "N1"  # no N2 was made
    session.sign_timepoint(1, with_earlier_drafts=True)  # a measured N1 may be signed


def test_a_new_lesion_measured_where_it_has_no_status_needs_one(
    session: ReadSession,
) -> None:
    with pytest.raises(MrecistError, match="N1 has no status at FU2"):
        session.record_measurement("N1", 2, caliper(15.0))
    session.record_measurement("N1", 2, caliper(15.0), status=NewLesionStatus.PRESENT)
    observation = session.read.observation("N1", 2)
    assert observation is not None
    assert (observation.status, observation.diameter) == (NewLesionStatus.PRESENT, 150)


def test_a_status_change_keeps_the_new_lesions_diameter_and_caliper(
    session: ReadSession,
) -> None:
    session.record_measurement("N1", 1, caliper(12.0))
    measured = session.read.observation("N1", 1)
    session.record_status("N1", 1, NewLesionStatus.PRESENT)
    observation = session.read.observation("N1", 1)
    assert measured is not None
    assert observation is not None
    assert observation.status is NewLesionStatus.PRESENT
    assert (observation.diameter, observation.caliper) == (
        120,
        measured.caliper,
    )


def test_a_non_target_keeps_its_marker_through_a_status_change(
    session: ReadSession,
) -> None:
    nt = session.add_non_target(Organ.LUNG, "right lower lobe", mark=mark(8.0))
    session.record_status(nt, 0, NonTargetStatus.NOT_EVALUABLE)
    observation = session.read.observation(nt, 0)
    assert observation is not None
    assert observation.caliper == caliper(8.0)
    assert observation.diameter is None


def test_non_targets_are_not_measured(session: ReadSession) -> None:
    nt = session.add_non_target(Organ.LUNG, "apex")
    with pytest.raises(MrecistError, match="only target and new lesions are measured"):
        session.record_measurement(nt, 0, caliper(12.0))
    assert session.read.observation(nt, 0) is not None


def test_a_target_measured_with_a_new_lesion_status_is_refused(
    session: ReadSession,
) -> None:
    with pytest.raises(MrecistError, match="T1 is a target lesion"):
        session.record_measurement(
            "T1", 2, caliper(40.0), status=NewLesionStatus.PRESENT
        )


def test_the_cytology_rule_is_a_rule_violation(session: ReadSession) -> None:
    session.add_non_target(Organ.PERITONEUM, "ascites")
    with pytest.raises(CytologyRequired) as refused:
        session.record_status("NT1", 1, NonTargetStatus.PROGRESSION)
    assert isinstance(refused.value, RuleViolation)
    assert refused.value.lesion_id == "NT1"


def test_a_click_marks_a_new_lesion_without_a_diameter(session: ReadSession) -> None:
    dot = CaliperMark(caliper(0.0), "1.2.3", "1.2.3.9", Method.MANUAL)
    lesion_id = session.add_new_lesion(
        Organ.LUNG, "left apex", 2, status=NewLesionStatus.EQUIVOCAL, mark=dot
    )
    observation = session.read.observation(lesion_id, 2)
    assert observation is not None
    assert (observation.diameter, observation.caliper) == (None, caliper(0.0))
    with pytest.raises(MrecistError, match="the caliper has no length"):
        session.record_measurement(lesion_id, 2, caliper(0.0))
