"""central-review.md §Roles and assignment and §Adjudicating: withdrawn reads, amendments.

A review manager withdraws a primary read (with a reason, audited) before the subject
can be taken from its reader; the read is kept under another name and the subject's
cuts are reopened. Amending a signed timepoint of a primary read puts a cut at or
after it back to awaiting (no decision possible) until both readers sign it again.
"""

from dataclasses import replace

import pytest

from mrecist_reader.core.adjudication import (
    AdjudicationRefused,
    Assignment,
    AssignmentError,
    CutStatus,
)
from mrecist_reader.core.model import ReadStatus, ReadType
from mrecist_reader.core.read_edits import with_timepoint
from mrecist_reader.session import record_decision, trigger_adjudication
from mrecist_reader.storage.audit import Actor, AuditEntry
from mrecist_reader.storage.repository import ReadRepository, Viewer
from tests.central_review.reads import MANAGER, primary_read

R01, R02 = Actor("R01", "u1"), Actor("R02", "u2")


@pytest.fixture
def repository(tmp_path):
    with ReadRepository(f"sqlite:///{tmp_path}/reads.db") as repository:
        repository.assign(
            [Assignment("S01", "R01", "R02", "A01")], actor=MANAGER, source="a.csv"
        )
        yield repository


def save(repository, read, *entries: AuditEntry):
    actor = Actor(read.key.reader_id, "u")
    repository.save(read, list(entries) or [AuditEntry("save", "read")], actor=actor)


def amended(read, index: int):
    """Return ``read`` with timepoint ``index`` and every later one back to draft."""
    for timepoint in read.timepoints:
        if timepoint.index >= index:
            draft = replace(timepoint, read_status=ReadStatus.DRAFT, signed_at=None)
            read = with_timepoint(read, draft)
    return read


def discordant_then_decided(repository):
    save(repository, primary_read("S01", "R01", [50, 30]))
    save(repository, primary_read("S01", "R02", [50, 45]))
    trigger_adjudication(repository, MANAGER)
    record_decision(
        repository, "S01", adjudicator="A01", choose="reader_1",
        reason="measurement", rationale="T1 is 30 mm on the portal phase",
    )  # fmt: skip


def test_amending_a_decided_cut_puts_it_back_to_awaiting_with_the_decision_audited(
    repository,
):
    discordant_then_decided(repository)
    reason = AuditEntry("amend", "FU1", "signed", "draft", "caliper on the wrong slice")
    save(repository, amended(primary_read("S01", "R02", [50, 45]), 1), reason)
    (case,) = repository.adjudication_cases()
    assert case.status is CutStatus.AWAITING
    assert case.is_reopened
    assert case.chosen_reader == ""
    assert case.discordant_variables == (
        "reopened: R02 amended FU1: caliper on the wrong slice",
    )
    assert repository.final_reads() == ()  # the cut no longer has a final read
    (entry,) = [e for e in repository.audit_trail() if e.action == "reopen"]
    assert entry.read_ref == "adjudication/S01"
    assert entry.old_value.startswith("adjudicated: FU1: reader 1 PR, reader 2 SD")
    assert "A01 chose R01 (measurement: T1 is 30 mm on the portal phase)" in (
        entry.old_value
    )
    assert entry.new_value == "awaiting"
    assert repository.verify_audit_trail() is None


def test_a_reopened_cut_cannot_be_decided_until_both_sign_it_again(repository):
    discordant_then_decided(repository)
    save(repository, amended(primary_read("S01", "R01", [50, 30]), 1))
    with pytest.raises(AdjudicationRefused, match="cut FU1 was reopened"):
        record_decision(
            repository, "S01", adjudicator="A01", choose="reader_2",
            reason="other", rationale="x",
        )  # fmt: skip
    trigger_adjudication(repository, MANAGER)  # reader 1 has not signed FU1 again
    assert repository.adjudication_cases()[0].is_reopened
    save(repository, primary_read("S01", "R01", [50, 45]))  # signed again, now SD
    trigger_adjudication(repository, MANAGER)
    (case,) = repository.adjudication_cases()
    assert case.status is CutStatus.CONCORDANT
    assert case.cut == "FU1"
    assert [f.source_reader for f in repository.final_reads()] == ["R01"]


def test_amending_a_timepoint_after_the_cut_leaves_the_cut_alone(repository):
    save(repository, primary_read("S01", "R01", [50, 30, 30]))
    save(repository, primary_read("S01", "R02", [50, 30]))
    trigger_adjudication(repository, MANAGER)
    save(repository, amended(primary_read("S01", "R01", [50, 30, 30]), 2))
    (case,) = repository.adjudication_cases()
    assert case.status is CutStatus.CONCORDANT
    assert not [e for e in repository.audit_trail() if e.action == "reopen"]


def test_amending_an_earlier_timepoint_reopens_the_earliest_cut_and_removes_later_ones(
    repository,
):
    save(repository, primary_read("S01", "R01", [50, 30], signed=1))
    save(repository, primary_read("S01", "R02", [50, 30], signed=1))
    trigger_adjudication(repository, MANAGER)  # cut BASELINE
    save(repository, primary_read("S01", "R01", [50, 30]))
    save(repository, primary_read("S01", "R02", [50, 30]))
    trigger_adjudication(repository, MANAGER)  # cut FU1
    assert [c.cut for c in repository.adjudication_cases()] == ["BASELINE", "FU1"]
    save(repository, amended(primary_read("S01", "R02", [50, 30]), 0))
    (case,) = repository.adjudication_cases()
    assert (case.cut, case.is_reopened) == ("BASELINE", True)
    actions = [e.action for e in repository.audit_trail()]
    assert actions.count("remove_cut") == 1
    assert actions.count("reopen") == 1


def test_a_withdrawn_read_is_kept_apart_and_lets_the_subject_be_reassigned(repository):
    discordant_then_decided(repository)
    with pytest.raises(AssignmentError, match="R02's read has started"):
        repository.assign(
            [Assignment("S01", "R01", "R03", "A01")], actor=MANAGER, source="b.csv"
        )
    withdrawal = repository.withdraw_read(
        "S01", "R02", reason="read against the wrong protocol", actor=MANAGER
    )
    assert withdrawal.kept_as == "R02 (withdrawn 1)"
    (case,) = withdrawal.reopened
    assert case.is_reopened
    assert (
        "R02's read withdrawn: read against the wrong protocol"
        in (case.discordant_variables[0])
    )
    outcome = repository.assign(
        [Assignment("S01", "R01", "R03", "A01")], actor=MANAGER, source="b.csv"
    )
    assert outcome.changed == ("S01",)
    kept = {r.key.reader_id for r in repository.all_reads()}
    assert kept == {"R01", "R02 (withdrawn 1)"}
    assert repository.list_reads(Viewer("R02", ReadType.CENTRAL)) == ()
    trail = repository.audit_trail()
    withdraw = [e for e in trail if e.action == "withdraw"]
    assert {e.read_ref for e in withdraw} == {
        "NCT06779461/S01/R02 (withdrawn 1)/central",
        "assignment/S01",
    }
    assert all(e.reason == "read against the wrong protocol" for e in withdraw)
    assert repository.verify_audit_trail() is None
    assert repository.integrity_problems() == ()
    save(repository, primary_read("S01", "R03", [50, 30]))  # the new reader 2 reads
    trigger_adjudication(repository, MANAGER)
    (case,) = repository.adjudication_cases()
    assert (case.status, case.reader_2) == (CutStatus.CONCORDANT, "R03")


def test_a_read_is_withdrawn_twice_under_two_names(repository):
    for number in (1, 2):
        save(repository, primary_read("S01", "R02", [50, 45]))
        kept = repository.withdraw_read("S01", "R02", reason="redo", actor=MANAGER)
        assert kept.kept_as == f"R02 (withdrawn {number})"


@pytest.mark.parametrize(
    ("reader", "reason", "message"),
    [
        ("A01", "x", "A01 is not a primary reader of subject S01"),
        ("R01", "  ", "the reason is empty"),
        ("R02", "x", "R02 has no read of subject S01 to withdraw"),
    ],
)
def test_a_withdrawal_names_why_it_is_refused(repository, reader, reason, message):
    with pytest.raises(AssignmentError, match=message):
        repository.withdraw_read("S01", reader, reason=reason, actor=MANAGER)
    with pytest.raises(AssignmentError, match="subject S09 is not assigned"):
        repository.withdraw_read("S09", "R01", reason="x", actor=MANAGER)


def test_amending_through_the_readers_session_reopens_the_cut(repository):
    from mrecist_reader.core.model import ReadKey
    from mrecist_reader.resources import load_profile
    from mrecist_reader.session import ReadSession

    save(repository, primary_read("S01", "R01", [50, 30]))
    save(repository, primary_read("S01", "R02", [50, 30]))
    trigger_adjudication(repository, MANAGER)
    assert repository.adjudication_cases()[0].status is CutStatus.CONCORDANT
    key = ReadKey("NCT06779461", "S01", "R02", ReadType.CENTRAL)
    session = ReadSession.open(
        repository, key, site_id="SITE01", profile=load_profile("nct06779461")
    )
    session.amend_timepoint(1, "T1 measured on the arterial phase")
    (case,) = repository.adjudication_cases()
    assert case.is_reopened
    assert case.discordant_variables == (
        "reopened: R02 amended FU1: T1 measured on the arterial phase",
    )
    session.sign_timepoint(1)  # signed again: the trigger compares the cut again
    (case,) = repository.adjudication_cases()
    assert (case.cut, case.status) == ("FU1", CutStatus.CONCORDANT)
