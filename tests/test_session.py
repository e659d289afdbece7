"""ReadSession: commands, autosave, signals, undo/redo, sign/amend, rule refusals."""

from collections.abc import Iterator, Sequence
from datetime import date

import pytest

from mrecist_reader.core.assess import Assessment
from mrecist_reader.core.errors import InvalidRead, MrecistError, Problem, RuleViolation
from mrecist_reader.core.model import (
    Caliper,
    Criteria,
    Method,
    NewLesionStatus,
    NonTargetStatus,
    Observation,
    Organ,
    Read,
    ReadKey,
    ReadStatus,
    ReadType,
    Response,
    TargetStatus,
    Timepoint,
)
from mrecist_reader.core.protocol import ProtocolProfile
from mrecist_reader.resources import load_profile
from mrecist_reader.session import ReadSession, TimepointSigned, available_reads
from mrecist_reader.storage.audit import Actor, AuditEntry
from mrecist_reader.storage.errors import DatabaseBusy
from mrecist_reader.storage.repository import ReadRepository, Viewer

KEY = ReadKey("NCT06779461", "S01", "R1", ReadType.LOCAL)


def caliper(length_mm: float) -> Caliper:
    return Caliper((10.0, 20.0, 30.0), (10.0 + length_mm, 20.0, 30.0))


@pytest.fixture(scope="module")
def profile() -> ProtocolProfile:
    return load_profile("nct06779461")


@pytest.fixture
def repository() -> Iterator[ReadRepository]:
    repo = ReadRepository("sqlite://")
    yield repo
    repo.close()


@pytest.fixture
def session(repository: ReadRepository, profile: ProtocolProfile) -> ReadSession:
    return ReadSession.open(
        repository, KEY, site_id="SITE01", profile=profile, os_user="alice"
    )


@pytest.fixture
def baseline(session: ReadSession) -> ReadSession:
    session.add_timepoint("BASELINE", 0, study_day=0, scan_date=date(2026, 3, 1))
    return session


def observation(session: ReadSession, lesion_id: str, index: int) -> Observation:
    found = session.read.observation(lesion_id, index)
    assert found is not None, f"{lesion_id} has nothing recorded at {index}"
    return found


def timepoint(session: ReadSession, index: int) -> Timepoint:
    found = session.read.timepoint(index)
    assert found is not None, f"no timepoint {index}"
    return found


def stored(repository: ReadRepository) -> Read | None:
    return repository.load(KEY, viewer=Viewer(KEY.reader_id, KEY.read_type))


def test_opening_a_new_read_creates_and_saves_it(
    session: ReadSession, repository: ReadRepository
) -> None:
    assert stored(repository) == session.read
    assert session.read.criteria is Criteria.MRECIST
    assert session.read.protocol_profile == "nct06779461"


def test_opening_again_returns_the_saved_read(
    baseline: ReadSession, repository: ReadRepository, profile: ProtocolProfile
) -> None:
    again = ReadSession.open(repository, KEY, site_id="SITE01", profile=profile)
    assert again.read == baseline.read


def test_a_reader_id_is_required(
    repository: ReadRepository, profile: ProtocolProfile
) -> None:
    key = ReadKey("NCT06779461", "S01", " ", ReadType.LOCAL)
    with pytest.raises(MrecistError, match="reader ID"):
        ReadSession.open(repository, key, site_id="SITE01", profile=profile)


def test_designating_a_target_derives_the_diameter_from_the_caliper(
    baseline: ReadSession,
) -> None:
    lesion_id = baseline.designate_target(
        Organ.LIVER,
        "segment VII",
        caliper=caliper(42.04),
        method=Method.SEMI_AUTOMATIC,
        series_instance_uid="1.2.3",
        sop_instance_uid="1.2.3.4",
    )
    obs = baseline.read.observation(lesion_id, 0)
    assert lesion_id == "T1"
    assert obs is not None
    assert (obs.status, obs.diameter, obs.method) == (
        TargetStatus.MEASURED,
        420,
        Method.SEMI_AUTOMATIC,
    )
    assert obs.series_instance_uid == "1.2.3"


def test_every_command_is_saved_at_once(
    baseline: ReadSession, repository: ReadRepository
) -> None:
    baseline.designate_target(Organ.LIVER, "segment II", caliper=caliper(50.0))
    assert stored(repository) == baseline.read


def test_a_target_below_the_range_is_refused_with_the_specs_message(
    baseline: ReadSession,
) -> None:
    with pytest.raises(RuleViolation, match=r"T1.*29\.9 mm.*30\.0") as refused:
        baseline.designate_target(Organ.LIVER, "segment IV", caliper=caliper(29.9))
    assert refused.value.lesion_id == "T1"
    assert baseline.read.lesions == ()


def test_a_refused_target_can_be_recorded_as_non_target(baseline: ReadSession) -> None:
    with pytest.raises(RuleViolation):
        baseline.designate_target(Organ.LIVER, "segment IV", caliper=caliper(100.1))
    lesion_id = baseline.add_non_target(Organ.LIVER, "segment IV")
    assert lesion_id == "NT1"


def test_range_bounds_are_inclusive(baseline: ReadSession) -> None:
    baseline.designate_target(Organ.LIVER, "a", caliper=caliper(30.0))
    baseline.designate_target(Organ.LUNG, "b", caliper=caliper(100.0))
    assert [lesion.lesion_id for lesion in baseline.read.lesions] == ["T1", "T2"]


def test_a_third_liver_target_breaks_the_per_organ_limit(baseline: ReadSession) -> None:
    baseline.designate_target(Organ.LIVER, "a", caliper=caliper(40.0))
    baseline.designate_target(Organ.LIVER, "b", caliper=caliper(40.0))
    with pytest.raises(RuleViolation, match=r"liver|organ"):
        baseline.designate_target(Organ.LIVER, "c", caliper=caliper(40.0))


@pytest.fixture
def followed(baseline: ReadSession) -> ReadSession:
    baseline.designate_target(Organ.LIVER, "segment VII", caliper=caliper(60.0))
    baseline.add_timepoint("FU1", 1, study_day=30, scan_date=date(2026, 3, 31))
    return baseline


def test_signals_carry_the_new_read_and_assessment(followed: ReadSession) -> None:
    reads: list[Read] = []
    assessments: list[Assessment] = []
    undo_states: list[tuple[bool, bool]] = []
    followed.read_changed.connect(reads.append)
    followed.assessment_changed.connect(assessments.append)
    followed.undo_state_changed.connect(lambda u, r: undo_states.append((u, r)))
    followed.record_measurement("T1", 1, caliper(40.0), method=Method.MANUAL)
    assert reads == [followed.read]
    assert assessments[-1].timepoints[-1].target_response is Response.PR
    assert followed.assessment is assessments[-1]
    assert undo_states == [(True, False)]


def test_assessment_covers_the_complete_timepoints_while_a_follow_up_is_open(
    followed: ReadSession,
) -> None:
    assert followed.assessment is not None
    assert [tp.label for tp in followed.assessment.timepoints] == ["BASELINE"]


def test_problems_are_published(followed: ReadSession) -> None:
    problems: list[tuple[Problem, ...]] = []
    followed.problems_changed.connect(problems.append)
    followed.add_non_target(Organ.PERITONEUM, "omentum")
    assert any(p.timepoint_index == 1 for p in problems[-1])


def test_statuses_set_the_recorded_value(
    followed: ReadSession, profile: ProtocolProfile
) -> None:
    followed.record_status("T1", 1, TargetStatus.TOO_SMALL)
    assert observation(followed, "T1", 1).diameter == profile.too_small_value
    followed.record_status("T1", 1, "absent")
    assert observation(followed, "T1", 1).diameter == 0


def test_a_status_foreign_to_the_lesion_type_is_refused(followed: ReadSession) -> None:
    with pytest.raises(MrecistError, match="T1 is a target lesion: status equivocal"):
        followed.record_status("T1", 1, "equivocal")


def test_undo_and_redo_restore_snapshots_and_are_saved(
    followed: ReadSession, repository: ReadRepository
) -> None:
    before = followed.read
    followed.record_measurement("T1", 1, caliper(40.0))
    after = followed.read
    followed.undo()
    assert followed.read == before
    assert stored(repository) == before
    followed.redo()
    assert stored(repository) == after
    actions = [entry.action for entry in followed.audit_trail()]
    assert actions[-2:] == ["undo", "redo"]


def test_a_new_command_clears_redo(followed: ReadSession) -> None:
    followed.record_measurement("T1", 1, caliper(40.0))
    followed.undo()
    followed.record_status("T1", 1, TargetStatus.ABSENT)
    assert not followed.can_redo


def test_signing_locks_the_timepoint(followed: ReadSession) -> None:
    followed.record_measurement("T1", 1, caliper(40.0))
    followed.sign_timepoint(0)
    followed.sign_timepoint(1)
    assert timepoint(followed, 1).read_status is ReadStatus.SIGNED
    assert timepoint(followed, 1).signed_at is not None
    with pytest.raises(
        TimepointSigned,
        match=r"^timepoint FU1 is signed; amend it with a reason first$",
    ):
        followed.record_status("T1", 1, TargetStatus.ABSENT)


def test_signing_an_incomplete_timepoint_lists_its_problems(
    followed: ReadSession,
) -> None:
    followed.sign_timepoint(0)
    with pytest.raises(InvalidRead, match="T1"):
        followed.sign_timepoint(1)
    assert timepoint(followed, 1).read_status is ReadStatus.DRAFT


def test_amending_needs_a_reason_and_reopens_the_timepoint(
    followed: ReadSession,
) -> None:
    followed.record_measurement("T1", 1, caliper(40.0))
    followed.sign_timepoint(1, with_earlier_drafts=True)
    with pytest.raises(MrecistError, match="needs a reason"):
        followed.amend_timepoint(1, "  ")
    followed.amend_timepoint(1, "caliper on wrong slice")
    followed.record_measurement("T1", 1, caliper(41.0))
    amend = [e for e in followed.audit_trail() if e.action == "amend"]
    assert amend[0].reason == "caliper on wrong slice"
    assert (amend[0].old_value, amend[0].new_value) == ("signed", "draft")


def test_no_undo_across_a_signature(followed: ReadSession) -> None:
    followed.record_measurement("T1", 1, caliper(40.0))
    followed.sign_timepoint(0)
    followed.sign_timepoint(1)
    assert not followed.can_undo


def test_audit_entries_record_who_what_and_old_to_new(followed: ReadSession) -> None:
    followed.record_measurement("T1", 1, caliper(40.0))
    followed.record_measurement("T1", 1, caliper(45.0), comment="re-measured")
    last = followed.audit_trail()[-1]
    assert (last.reader_id, last.os_user, last.action) == ("R1", "alice", "record")
    assert last.target == "FU1/T1"
    assert last.old_value.startswith("measured 40.0 mm")
    assert last.new_value.startswith("measured 45.0 mm")
    assert last.at_utc.endswith("Z")


def test_fluid_progression_needs_cytology(followed: ReadSession) -> None:
    followed.add_non_target(Organ.PERITONEUM, "ascites")
    with pytest.raises(RuleViolation, match="cytological confirmation"):
        followed.record_status("NT1", 1, NonTargetStatus.PROGRESSION)
    followed.record_status(
        "NT1", 1, NonTargetStatus.PROGRESSION, cytology_confirmed=True
    )
    assert "cytology confirmed" in observation(followed, "NT1", 1).comment
    assert followed.audit_trail()[-1].reason == "cytology confirmed"


def test_new_lesions_are_follow_up_only(followed: ReadSession) -> None:
    with pytest.raises(MrecistError, match="baseline"):
        followed.add_new_lesion(Organ.LIVER, "segment III", 0)
    lesion_id = followed.add_new_lesion(
        Organ.LIVER, "segment III", 1, status=NewLesionStatus.EQUIVOCAL
    )
    assert observation(followed, lesion_id, 1).status is NewLesionStatus.EQUIVOCAL


def test_edit_location_and_comment(followed: ReadSession) -> None:
    followed.edit_location("T1", "segment VIII, dome")
    followed.edit_comment("T1", 0, "arterial phase, slice 12")
    assert followed.read.lesions[0].location == "segment VIII, dome"
    assert observation(followed, "T1", 0).comment == "arterial phase, slice 12"


def test_delete_lesion_only_in_a_draft(followed: ReadSession) -> None:
    nt = followed.add_non_target(Organ.LUNG, "right lower lobe")
    followed.delete_lesion(nt)
    assert followed.read.observation(nt, 0) is None
    followed.sign_timepoint(0)
    with pytest.raises(TimepointSigned, match="BASELINE is signed"):
        followed.delete_lesion("T1")


def test_central_reads_never_keep_the_scan_date(
    repository: ReadRepository, profile: ProtocolProfile
) -> None:
    key = ReadKey("NCT06779461", "S01", "C1", ReadType.CENTRAL)
    central = ReadSession.open(repository, key, site_id="SITE01", profile=profile)
    central.add_timepoint("BASELINE", 0, study_day=0, scan_date=date(2026, 3, 1))
    assert central.read.timepoints[0].scan_date is None
    assert "2026-03-01" not in central.audit_trail()[-1].new_value


def test_central_and_local_reads_are_kept_apart(
    followed: ReadSession, repository: ReadRepository, profile: ProtocolProfile
) -> None:
    key = ReadKey("NCT06779461", "S01", "C1", ReadType.CENTRAL)
    ReadSession.open(repository, key, site_id="SITE01", profile=profile)
    assert available_reads(repository, "C1", ReadType.CENTRAL) == (key,)
    assert available_reads(repository, "C2", ReadType.CENTRAL) == ()
    assert available_reads(repository, "R9", ReadType.LOCAL) == (KEY,)


class BusyRepository(ReadRepository):
    """A repository whose saves fail as if another program held the database."""

    def save(
        self,
        read: Read,
        entries: Sequence[AuditEntry],
        *,
        actor: Actor,
        profile: ProtocolProfile | None = None,
    ) -> None:
        raise DatabaseBusy("the reads database is busy")


def test_a_failed_save_changes_nothing_and_emits_nothing(
    followed: ReadSession, profile: ProtocolProfile
) -> None:
    with BusyRepository("sqlite://") as busy_database:
        busy = ReadSession(busy_database, followed.read, profile)
        emitted: list[Read] = []
        busy.read_changed.connect(emitted.append)
        before = busy.read
        with pytest.raises(DatabaseBusy):
            busy.record_measurement("T1", 1, caliper(40.0))
        assert (busy.read, emitted, busy.can_undo) == (before, [], False)


def test_a_read_opens_only_with_its_own_profile(
    baseline: ReadSession, repository: ReadRepository
) -> None:
    with pytest.raises(MrecistError, match="made with protocol profile nct06779461"):
        ReadSession.open(
            repository, KEY, site_id="SITE01", profile=load_profile("mrecist")
        )
