"""central-review.md §Many readers, one database: "an adjudication decision is written once"."""

import threading

import pytest

from mrecist_reader.core.adjudication import (
    AdjudicationRefused,
    Assignment,
    CutStatus,
    Role,
)
from mrecist_reader.session import trigger_adjudication
from mrecist_reader.storage.audit import Actor, AuditEntry
from mrecist_reader.storage.repository import ReadRepository
from tests.central_review.reads import MANAGER, primary_read


def test_two_workstations_deciding_at_the_same_moment_write_one_decision(
    shared_db_url,
):
    with ReadRepository(shared_db_url) as repository:
        repository.assign(
            [Assignment("S02", "R01", "R02", "A01")], actor=MANAGER, source="a.csv"
        )
        for reader, sizes in (("R01", [50, 30]), ("R02", [50, 45])):
            read = primary_read("S02", reader, sizes)
            repository.save(
                read, [AuditEntry("save", "read")], actor=Actor(reader, "u")
            )
        trigger_adjudication(repository, MANAGER)
    start = threading.Barrier(2)
    outcomes: dict[Role, object] = {}

    def workstation(choose: Role) -> None:
        with ReadRepository(shared_db_url) as own:
            start.wait()
            try:
                outcomes[choose] = own.decide(
                    "S02",
                    adjudicator="A01",
                    choose=choose,
                    reason="other",
                    rationale=f"clicked {choose}",
                    actor=Actor("A01", str(choose)),
                )
            except AdjudicationRefused as refused:
                outcomes[choose] = refused

    threads = [threading.Thread(target=workstation, args=(r,)) for r in Role]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    refused = [o for o in outcomes.values() if isinstance(o, AdjudicationRefused)]
    assert len(outcomes) == 2
    assert len(refused) == 1
    assert "not awaiting adjudication" in str(refused[0])
    with ReadRepository(shared_db_url) as repository:
        (case,) = repository.adjudication_cases()
        decisions = [e for e in repository.audit_trail() if e.action == "adjudicate"]
        assert repository.verify_audit_trail() is None
    assert case.status is CutStatus.ADJUDICATED
    assert len(decisions) == 1
    assert decisions[0].reason == f"other: {case.rationale}"


def test_a_subject_without_an_assignment_cannot_be_decided(shared_db_url):
    with (
        ReadRepository(shared_db_url) as repository,
        pytest.raises(AdjudicationRefused, match="subject S09 is not assigned"),
    ):
        repository.decide(
            "S09",
            adjudicator="A01",
            choose=Role.READER_1,
            reason="other",
            rationale="x",
            actor=Actor("A01", "u"),
        )
