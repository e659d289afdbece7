"""Import merges into a stored read; replacing is explicit and audited (issue 21, 2)."""

from dataclasses import replace

import pytest

from mrecist_reader.core.model import (
    Observation,
    ReadStatus,
    ReadType,
    TargetStatus,
    Timepoint,
)
from mrecist_reader.storage.audit import Actor, AuditEntry
from mrecist_reader.storage.errors import SignedReadConflict
from mrecist_reader.storage.repository import ReadRepository, Viewer
from tests.storage.samples import sample_read

ACTOR = Actor("R1", "alice")


def baseline_only():
    read = sample_read()
    return replace(
        read, timepoints=read.timepoints[:1], observations=read.observations_at(0)
    )


def test_an_import_of_the_baseline_keeps_the_draft_follow_up(db_url):
    with ReadRepository(db_url) as repository:
        repository.save(sample_read(), [AuditEntry("create_read", "read")], actor=ACTOR)
        outcome = repository.import_reads([baseline_only()], actor=ACTOR, source="f")
        assert (outcome.imported, outcome.unchanged, outcome.removed) == (0, 1, 0)
        stored = repository.load(sample_read().key, viewer=Viewer("R1", ReadType.LOCAL))
        assert stored == sample_read()


def test_a_replacing_import_removes_the_follow_up_with_audited_old_values(db_url):
    with ReadRepository(db_url) as repository:
        repository.save(sample_read(), [AuditEntry("create_read", "read")], actor=ACTOR)
        outcome = repository.import_reads(
            [baseline_only()], actor=ACTOR, source="f.csv", replace_reads=True
        )
        assert (outcome.imported, outcome.removed) == (1, 4)
        trail = repository.audit_trail()
        assert repository.integrity_problems() == ()
    removed = {(e.action, e.target) for e in trail if e.action.startswith("remove")}
    assert removed == {
        ("remove_timepoint", "FU1"),
        ("remove_observation", "FU1 T1"),
        ("remove_observation", "FU1 NT1"),
        ("remove_observation", "FU1 N1"),
    }
    assert all(e.old_value for e in trail if e.action.startswith("remove"))


def test_a_merge_that_would_sign_past_a_stored_draft_is_refused(db_url):
    read = sample_read()  # BASELINE signed, FU1 draft
    fu2 = Timepoint(2, "FU2", None, 60, ReadStatus.SIGNED, read.timepoints[0].signed_at)
    incoming = replace(
        read,
        timepoints=(read.timepoints[0], fu2),
        observations=(
            *read.observations_at(0),
            Observation("T1", 2, TargetStatus.MEASURED, 300),
        ),
    )
    with ReadRepository(db_url) as repository:
        repository.save(read, [AuditEntry("create_read", "read")], actor=ACTOR)
        with pytest.raises(
            SignedReadConflict, match="earlier timepoint FU1 is a draft"
        ):
            repository.import_reads([incoming], actor=ACTOR, source="f")
        assert len(repository.audit_trail()) == 1
