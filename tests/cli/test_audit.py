"""`mrecist-reader audit`: the trail is printed, and any tampering is detected."""

from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from mrecist_reader.cli import main
from mrecist_reader.core.model import Caliper, Organ, ReadKey, ReadType
from mrecist_reader.resources import load_profile
from mrecist_reader.session import ReadSession
from mrecist_reader.storage.repository import ReadRepository


@pytest.fixture
def db(tmp_path: Path) -> str:
    """Return a database with one read: create, timepoint, target, sign, amend."""
    url = f"sqlite:///{tmp_path / 'reads.db'}"
    with ReadRepository(url) as repository:
        key = ReadKey("NCT06779461", "S01", "R1", ReadType.LOCAL)
        session = ReadSession.open(
            repository, key, site_id="SITE01", profile=load_profile("nct06779461")
        )
        session.add_timepoint("BASELINE", 0, study_day=0)
        session.designate_target(
            Organ.LIVER, "segment VII", caliper=Caliper((0.0, 0, 0), (45.0, 0, 0))
        )
        session.sign_timepoint(0)
        session.amend_timepoint(0, "wrong slice,\nre-measure")
    return url


def tamper(url: str, statement: str) -> None:
    engine = create_engine(url)
    with engine.begin() as connection:
        connection.execute(text(statement))
    engine.dispose()


def test_the_trail_is_printed_oldest_first(db, capsys):
    assert main(["audit", "--db", db]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split()[5] for line in lines] == [
        "create_read",
        "add_timepoint",
        "designate_target",
        "sign",
        "amend",
    ]
    assert "NCT06779461/S01/R1/local" in lines[0]
    assert lines[-1].endswith("[reason: wrong slice,\\nre-measure]")


def test_an_intact_trail_verifies(db, capsys):
    assert main(["audit", "--db", db, "--verify"]) == 0
    assert "audit trail intact: 5 entries" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("statement", "broken"),
    [
        (
            "UPDATE audit_events SET new_value = 'measured 55.0 mm' WHERE id = 3",
            "entry 3: its content was changed",
        ),
        (
            "UPDATE audit_events SET reason = '' WHERE id = 5",
            "entry 5: its content was changed",
        ),
        ("DELETE FROM audit_events WHERE id = 2", "entry 2: missing"),
        (
            "DELETE FROM audit_events WHERE id = 5",
            "entry 5: missing (the end of the trail was deleted)",
        ),
        (
            "INSERT INTO audit_events (id, at_utc, reader_id, os_user, read_ref, action, target, "
            "old_value, new_value, reason, prev_hash, hash) SELECT 6, at_utc, reader_id, os_user, "
            "read_ref, 'sign', target, 'draft', 'signed', '', hash, 'x' FROM audit_events WHERE id = 5",
            "entry 6: its content was changed",
        ),
        (
            "UPDATE audit_events SET at_utc = '2020-01-01T00:00:00.000000Z' WHERE id = 1",
            "entry 1",
        ),
    ],
    ids=["edit", "edit-reason", "delete-middle", "delete-last", "insert", "backdate"],
)
def test_tampering_is_detected_naming_the_first_broken_entry(
    db, capsys, statement, broken
):
    tamper(db, statement)
    assert main(["audit", "--db", db, "--verify"]) == 1
    assert broken in capsys.readouterr().err


def test_an_entry_appended_with_a_correct_hash_outside_the_application_is_detected(
    db, capsys
):
    from mrecist_reader.storage.audit import entry_hash

    fields = {
        "id": 6,
        "at_utc": "2099-03-03T00:00:00.000000Z",
        "reader_id": "R1",
        "os_user": "x",
        "read_ref": "NCT06779461/S01/R1/local",
        "action": "sign",
        "target": "BASELINE",
        "old_value": "draft",
        "new_value": "signed",
        "reason": "",
    }
    engine = create_engine(db)
    with engine.begin() as connection:
        prev = connection.execute(
            text("SELECT hash FROM audit_events WHERE id = 5")
        ).scalar_one()
        columns = ", ".join([*fields, "prev_hash", "hash"])
        names = ", ".join(f":{name}" for name in [*fields, "prev_hash", "hash"])
        connection.execute(
            text(f"INSERT INTO audit_events ({columns}) VALUES ({names})"),
            {**fields, "prev_hash": prev, "hash": entry_hash(prev, fields)},
        )
    engine.dispose()
    assert main(["audit", "--db", db, "--verify"]) == 1
    assert "entry 6: was added outside the application" in capsys.readouterr().err
