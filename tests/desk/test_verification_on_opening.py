"""The window verifies the reads database off the GUI thread (issue 21 items 1, 3).

Until the verification reports, a read opens read-only (and says why); a database that
verifies makes it writable, one that fails keeps it read-only and says so; a
verification that cannot run keeps it read-only. On opening, reads stored before
schema 7 get their profile recorded.
"""

import threading
from pathlib import Path

import pytest

from mrecist_reader.core.model import Organ
from mrecist_reader.session import OpeningCheck, ReadOnlyDatabase, open_database
from mrecist_reader.storage.audit import Actor, AuditEntry
from tests.desk.conftest import caliper_at
from tests.desk.test_database_on_screen import (
    _desk,
    _stored_with_target,
    _tamper,
    _worklist,
)
from tests.storage.samples import sample_read


def _run_in_a_thread(job: "object") -> OpeningCheck:
    """Run the verification on another thread, as the window's worker does."""
    found: list[OpeningCheck] = []
    worker = threading.Thread(target=lambda: found.append(job()))  # type: ignore[operator]
    worker.start()
    worker.join()
    assert len(found) == 1
    return found[0]


def test_a_read_opened_while_verifying_is_read_only_then_writable_once_verified(
    tmp_path: Path,
) -> None:
    url = f"sqlite:///{tmp_path / 'reads.db'}"
    data = tmp_path / "data"
    _stored_with_target(url, data)
    desk = _desk(url, data)
    job = desk.start_verification()
    desk.set_worklist(_worklist())
    session = desk.open_read()
    assert session.read_only
    assert not desk.is_read_only  # not known to fail: the title says nothing yet
    with pytest.raises(ReadOnlyDatabase, match="still being verified"):
        desk.designate(caliper_at(desk, (0, 5, 0), 35), Organ.LIVER, "dome")
    desk.finish_verification(_run_in_a_thread(job))
    assert desk.session is not None
    assert desk.session is not session
    assert not desk.session.read_only
    desk.designate(caliper_at(desk, (0, 5, 0), 35), Organ.LIVER, "dome")
    assert len(desk.session.read.lesions) == 2
    desk.close()


def test_a_tampered_database_verified_in_a_worker_stays_read_only_and_says_so(
    tmp_path: Path,
) -> None:
    url = f"sqlite:///{tmp_path / 'reads.db'}"
    _stored_with_target(url)
    _tamper(url)
    desk = _desk(url)
    reported: list[tuple[str, ...]] = []
    desk.integrity_failed.connect(reported.append)
    job = desk.start_verification()
    desk.set_worklist(_worklist())
    desk.open_read()
    desk.finish_verification(_run_in_a_thread(job))
    assert desk.is_read_only
    assert reported == [desk.integrity_problems]
    assert any("has no history" in p for p in desk.integrity_problems)
    assert desk.session is not None
    assert desk.session.read_only
    with pytest.raises(ReadOnlyDatabase, match="changed outside mrecist_reader"):
        desk.designate(caliper_at(desk, (0, 5, 0), 35), Organ.LIVER, "dome")
    desk.close()


def test_a_verification_that_cannot_run_leaves_the_database_read_only(
    tmp_path: Path,
) -> None:
    url = f"sqlite:///{tmp_path / 'reads.db'}"
    desk = _desk(url)
    reported: list[tuple[str, ...]] = []
    desk.integrity_failed.connect(reported.append)
    desk.start_verification()
    desk.verification_failed(OSError("disk I/O error"))
    assert desk.is_read_only
    assert reported == [("the reads database could not be verified: disk I/O error",)]
    desk.close()


def test_reads_stored_before_schema_7_get_their_profile_recorded_on_opening(
    tmp_path: Path,
) -> None:
    url = f"sqlite:///{tmp_path / 'reads.db'}"
    read = sample_read()
    with open_database(url) as repository:  # as before schema 7: no profile kept
        repository.save(
            read, [AuditEntry("create_read", "read")], actor=Actor("R1", "a")
        )
        assert repository.profile_of(read.key) is None
    desk = _desk(url)
    desk.finish_verification(_run_in_a_thread(desk.start_verification()))
    assert not desk.is_read_only
    desk.close()
    with open_database(url) as repository:
        stored = repository.profile_of(read.key)
        last = repository.audit_trail()[-1]
        assert repository.integrity_problems() == ()
    assert stored is not None
    assert stored.name == "nct06779461"
    assert (last.action, last.reason) == ("record_profile", "profile recorded")


def test_a_read_whose_profile_is_unknown_is_reported_on_opening(tmp_path: Path) -> None:
    from dataclasses import replace

    url = f"sqlite:///{tmp_path / 'reads.db'}"
    read = replace(sample_read(), protocol_profile="lost_profile")
    with open_database(url) as repository:
        repository.save(read, [], actor=Actor("R1", "a"))
    desk = _desk(url)
    told: list[str] = []
    desk.profiles_unknown.connect(told.append)
    desk.finish_verification(_run_in_a_thread(desk.start_verification()))
    assert not desk.is_read_only
    assert told == [desk.profile_problems[0]]  # the window's status bar says it
    assert desk.profile_problems == (
        "read NCT06779461/S01/R1/local: its protocol profile 'lost_profile' is "
        "neither shipped nor stored in the database; its responses cannot be "
        "computed until it is imported with --protocol FILE",
    )
    desk.close()


def test_a_new_subject_opened_while_verifying_shows_its_timepoints_and_stores_nothing(
    tmp_path: Path,
) -> None:
    """A first read opened before verification ends shows its timepoints.

    The response panel asks for the current timepoint at once; nothing is stored until
    the database verifies; then the read is created with them, audited.
    """
    url = f"sqlite:///{tmp_path / 'reads.db'}"
    data = tmp_path / "data"
    desk = _desk(url, data)
    job = desk.start_verification()
    desk.set_worklist(_worklist())
    session = desk.open_read()
    assert session.read_only
    shown = [tp.label for tp in session.read.timepoints]
    assert shown == [t.label for t in _worklist()[0].timepoints]
    assert session.missing_statuses(desk.timepoint_index) == ()
    with open_database(url) as repository:
        assert repository.all_reads() == ()  # nothing stored while verifying
    desk.finish_verification(_run_in_a_thread(job))
    assert desk.session is not None
    assert not desk.session.read_only
    with open_database(url) as repository:
        (stored,) = repository.all_reads()
        actions = [e.action for e in repository.audit_trail()]
    assert [tp.label for tp in stored.timepoints] == shown
    assert actions.count("add_timepoint") == len(shown)
    desk.close()
