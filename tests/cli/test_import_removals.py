"""An import never removes what its file does not mention (issue 21, item 2)."""

import json
from dataclasses import replace
from pathlib import Path

import pytest

from mrecist_reader.cli import main
from mrecist_reader.core.model import (
    NonTargetStatus,
    Observation,
    Read,
    ReadStatus,
    ReadType,
    TargetStatus,
    Timepoint,
)
from mrecist_reader.storage.audit import Actor, AuditEntry
from mrecist_reader.storage.repository import ReadRepository, Viewer
from mrecist_reader.transfer.csv_out import write_measurements
from tests.storage.samples import sample_read

VIEWER = Viewer("R1", ReadType.LOCAL)


def draft_read_with_follow_ups() -> Read:
    """Return a draft read: baseline and FU1-FU3, T1 and NT1 at each."""
    read = sample_read()
    timepoints = tuple(
        Timepoint(i, "BASELINE" if i == 0 else f"FU{i}", None, 30 * i) for i in range(4)
    )
    observations = tuple(
        obs
        for i in range(4)
        for obs in (
            Observation("T1", i, TargetStatus.MEASURED, 450 - 10 * i),
            Observation("NT1", i, NonTargetStatus.PRESENT),
        )
    )
    return replace(
        read,
        timepoints=timepoints,
        lesions=read.lesions[:2],
        observations=observations,
    )


def only_baseline(read: Read) -> Read:
    return replace(
        read,
        timepoints=read.timepoints[:1],
        observations=read.observations_at(0),
    )


@pytest.fixture
def db(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'reads.db'}"
    with ReadRepository(url) as repository:
        repository.save(
            draft_read_with_follow_ups(),
            [AuditEntry("create_read", "read")],
            actor=Actor("R1", "alice"),
        )
    return url


def stored(url: str) -> Read:
    with ReadRepository(url) as repository:
        read = repository.load(draft_read_with_follow_ups().key, viewer=VIEWER)
    assert read is not None
    return read


def test_importing_only_the_baseline_keeps_the_stored_follow_ups(db, tmp_path):
    edited = only_baseline(draft_read_with_follow_ups())
    t1 = replace(edited.observations[0], diameter=449, comment="re-measured")
    edited = replace(edited, observations=(t1, *edited.observations[1:]))
    source = tmp_path / "baseline.csv"
    write_measurements(source, [edited])
    assert main(["import", str(source), "--db", db]) == 0
    read = stored(db)
    assert [tp.label for tp in read.timepoints] == ["BASELINE", "FU1", "FU2", "FU3"]
    assert len(read.observations) == 8
    assert read.observation("T1", 0) == t1


def test_a_change_by_import_is_audited_with_its_old_value(db, tmp_path):
    edited = only_baseline(draft_read_with_follow_ups())
    t1 = replace(edited.observations[0], diameter=449)
    source = tmp_path / "baseline.csv"
    write_measurements(source, [replace(edited, observations=(t1,))])
    assert main(["import", str(source), "--db", db]) == 0
    with ReadRepository(db) as repository:
        (change,) = [
            e for e in repository.audit_trail() if e.action.startswith("change")
        ]
    assert (change.action, change.target) == ("change_observation", "BASELINE T1")
    assert json.loads(change.old_value)["diameter_tenths"] == 450
    assert json.loads(change.new_value)["diameter_tenths"] == 449


def test_replace_removes_what_the_file_omits_and_audits_every_old_value(
    db, tmp_path, capsys
):
    source = tmp_path / "baseline.csv"
    write_measurements(source, [only_baseline(draft_read_with_follow_ups())])
    assert main(["import", str(source), "--db", db, "--replace"]) == 0
    assert "removed 9 item(s)" in capsys.readouterr().out
    assert [tp.label for tp in stored(db).timepoints] == ["BASELINE"]
    with ReadRepository(db) as repository:
        trail = repository.audit_trail()
        assert repository.integrity_problems() == ()
    removals = [e for e in trail if e.action.startswith("remove_")]
    assert sorted({e.action for e in removals}) == [
        "remove_observation",
        "remove_timepoint",
    ]
    fu2_t1 = next(e for e in removals if e.target == "FU2 T1")
    assert json.loads(fu2_t1.old_value)["diameter_tenths"] == 430
    assert all(e.reason == "baseline.csv" for e in removals)
    fu3 = next(e for e in removals if e.target == "FU3")
    assert json.loads(fu3.old_value)["study_day"] == 90


def test_replace_never_removes_a_signed_timepoint(tmp_path, capsys):
    url = f"sqlite:///{tmp_path / 'reads.db'}"
    read = sample_read()
    signed_fu1 = replace(
        read.timepoints[1],
        read_status=ReadStatus.SIGNED,
        signed_at=read.timepoints[0].signed_at,
    )
    read = replace(read, timepoints=(read.timepoints[0], signed_fu1))
    with ReadRepository(url) as repository:
        repository.save(
            read, [AuditEntry("create_read", "read")], actor=Actor("R1", "a")
        )
    source = tmp_path / "m.csv"
    write_measurements(source, [only_baseline(read)])
    assert main(["import", str(source), "--db", url, "--replace"]) == 1
    err = capsys.readouterr().err
    assert "timepoint FU1 is signed in the database and is not overwritten" in err
    assert "nothing was imported" in err
    with ReadRepository(url) as repository:
        assert repository.load(read.key, viewer=VIEWER) == read
