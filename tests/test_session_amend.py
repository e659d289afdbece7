"""Amending a signed timepoint reopens the later signed ones; undo/redo say what changed."""

from collections.abc import Iterator, Sequence
from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest

from mrecist_reader.core.model import (
    Organ,
    Read,
    ReadStatus,
    Response,
)
from mrecist_reader.core.protocol import ProtocolProfile
from mrecist_reader.core.read_edits import with_timepoint
from mrecist_reader.resources import load_profile
from mrecist_reader.session import ReadSession, TimepointSigned
from mrecist_reader.storage.audit import Actor, AuditEntry, AuditRecord
from mrecist_reader.storage.repository import ReadRepository, Viewer
from tests.test_session import KEY, caliper


class CountingRepository(ReadRepository):
    """A file database that remembers how many entries each transaction carried."""

    def __init__(self, url: str) -> None:
        super().__init__(url)
        self.transactions: list[int] = []

    def save(
        self,
        read: Read,
        entries: Sequence[AuditEntry],
        *,
        actor: Actor,
        profile: ProtocolProfile | None = None,
    ) -> None:
        super().save(read, entries, actor=actor, profile=profile)
        self.transactions.append(len(entries))


@pytest.fixture(scope="module")
def profile() -> ProtocolProfile:
    return load_profile("nct06779461")


@pytest.fixture
def url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'reads.db'}"


@pytest.fixture
def repository(url: str) -> Iterator[CountingRepository]:
    repo = CountingRepository(url)
    yield repo
    repo.close()


@pytest.fixture
def session(repository: ReadRepository, profile: ProtocolProfile) -> ReadSession:
    return ReadSession.open(
        repository, KEY, site_id="SITE01", profile=profile, os_user="alice"
    )


@pytest.fixture
def three_signed(session: ReadSession) -> ReadSession:
    """BASELINE 60 mm, FU1 30 mm (nadir), FU2 48 mm: PD from the nadir; all signed."""
    session.add_timepoint("BASELINE", 0, study_day=0, scan_date=date(2026, 3, 1))
    session.designate_target(Organ.LIVER, "segment VII", caliper=caliper(60.0))
    session.add_timepoint("FU1", 1, study_day=60, scan_date=date(2026, 4, 30))
    session.record_measurement("T1", 1, caliper(30.0))
    session.add_timepoint("FU2", 2, study_day=120, scan_date=date(2026, 6, 29))
    session.record_measurement("T1", 2, caliper(48.0))
    for index in (0, 1, 2):
        session.sign_timepoint(index)
    return session


def overall(session: ReadSession, label: str) -> Response | None:
    assert session.assessment is not None
    rows = {row.label: row for row in session.assessment.timepoints}
    return rows[label].overall_response


def amendments(session: ReadSession) -> list[AuditRecord]:
    return [e for e in session.audit_trail() if e.action == "amend"]


def test_amending_fu1_reopens_the_signed_fu2_that_depends_on_it(
    three_signed: ReadSession, repository: CountingRepository, url: str
) -> None:
    assert overall(three_signed, "FU2") is Response.PD
    assert three_signed.timepoints_reopened_by_amending(1) == ("FU2",)
    assert three_signed.timepoints_reopened_by_amending(2) == ()
    saves = len(repository.transactions)

    three_signed.amend_timepoint(1, " remeasure ")

    assert repository.transactions[saves:] == [2]  # one transaction, two entries
    for index in (1, 2):
        timepoint = three_signed.read.timepoint(index)
        assert timepoint is not None
        assert (timepoint.read_status, timepoint.signed_at) == (ReadStatus.DRAFT, None)
    with ReadRepository(url) as other:  # what another program (the export) sees
        again = other.load(KEY, viewer=Viewer(KEY.reader_id, KEY.read_type))
    assert again == three_signed.read
    fu1, fu2 = amendments(three_signed)
    assert (fu1.target, fu1.old_value, fu1.new_value, fu1.reason) == (
        "FU1",
        "signed",
        "draft",
        "remeasure",
    )
    assert (fu2.target, fu2.old_value, fu2.new_value) == ("FU2", "signed", "draft")
    assert fu2.reason == "reopened because FU1 was amended: remeasure"


def test_after_the_amendment_the_new_response_is_signed_again_in_order(
    three_signed: ReadSession,
) -> None:
    three_signed.amend_timepoint(1, "remeasure")
    three_signed.record_measurement("T1", 1, caliper(50.0))
    assert overall(three_signed, "FU2") is Response.SD  # nadir 50 mm, not 30 mm
    three_signed.sign_timepoint(1)
    three_signed.sign_timepoint(2)
    statuses = [tp.read_status for tp in three_signed.read.timepoints]
    assert statuses == [ReadStatus.SIGNED] * 3
    signs = [e.target for e in three_signed.audit_trail() if e.action == "sign"]
    assert signs[-2:] == ["FU1", "FU2"]


def test_a_draft_before_a_signed_timepoint_cannot_change_its_response(
    session: ReadSession, repository: ReadRepository, profile: ProtocolProfile
) -> None:
    session.add_timepoint("BASELINE", 0, study_day=0)
    session.designate_target(Organ.LIVER, "segment VII", caliper=caliper(60.0))
    session.add_timepoint("FU1", 1, study_day=60)
    session.record_measurement("T1", 1, caliper(30.0))
    fu1 = session.read.timepoint(1)
    assert fu1 is not None
    # Signed while the baseline is still a draft: the session no longer signs so,
    # but an imported read (or one signed by an earlier version) may be like this.
    imported = with_timepoint(session.read, replace(fu1, read_status=ReadStatus.SIGNED))
    session = ReadSession(repository, imported, profile)
    before = session.read
    with pytest.raises(
        TimepointSigned,
        match=r"^timepoint FU1 is signed and its response depends on BASELINE; "
        r"amend FU1 with a reason first$",
    ):
        session.record_measurement("T1", 0, caliper(40.0))
    assert session.read == before


# ---------------------------------------------------------------- undo/redo audit
@pytest.fixture
def followed(session: ReadSession) -> ReadSession:
    session.add_timepoint("BASELINE", 0, study_day=0)
    session.designate_target(Organ.LIVER, "segment VII", caliper=caliper(60.0))
    session.add_timepoint("FU1", 1, study_day=60)
    return session


def last_entry(session: ReadSession) -> AuditRecord:
    return session.audit_trail()[-1]


def test_undo_and_redo_say_which_value_was_reverted(followed: ReadSession) -> None:
    followed.record_measurement("T1", 1, caliper(16.0))
    followed.record_measurement("T1", 1, caliper(23.4))
    followed.undo()
    undo = last_entry(followed)
    assert (undo.action, undo.target) == ("undo", "record T1 at FU1")
    assert (undo.old_value, undo.new_value) == (
        "T1 at FU1: measured 23.4 mm manual",
        "T1 at FU1: measured 16.0 mm manual",
    )
    followed.redo()
    redo = last_entry(followed)
    assert (redo.old_value, redo.new_value) == (undo.new_value, undo.old_value)


def test_undoing_a_new_lesion_names_what_disappears(followed: ReadSession) -> None:
    followed.add_non_target(Organ.LUNG, "right lower lobe")
    followed.undo()
    undo = last_entry(followed)
    assert undo.old_value == (
        "NT1: non_target lung right lower lobe; NT1 at BASELINE: present"
    )
    assert undo.new_value == "NT1: none; NT1 at BASELINE: none"


def test_undoing_a_change_the_summary_does_not_show_names_the_field(
    followed: ReadSession,
) -> None:
    followed.edit_comment("T1", 0, "arterial phase")
    followed.undo()
    undo = last_entry(followed)
    assert undo.old_value == (
        'T1 at BASELINE: measured 60.0 mm manual, comment "arterial phase"'
    )
    assert undo.new_value == 'T1 at BASELINE: measured 60.0 mm manual, comment ""'


def test_undoing_an_added_timepoint_names_it(followed: ReadSession) -> None:
    followed.add_timepoint("FU2", 2, study_day=120)
    followed.undo()
    undo = last_entry(followed)
    assert (undo.old_value, undo.new_value) == (
        "FU2: index 2, study day 120",
        "FU2: none",
    )
