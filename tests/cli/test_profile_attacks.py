"""Signed responses never depend on a file outside the database (issue 21, item 3).

The issue's attack: a CSV names its profile by a path; after the import, editing that
file changed a signed timepoint's best response (SD -> NE) with no audit entry, and
moving it broke ``export`` of the whole database. Now the profile's text is copied in
on import and every response is computed from the stored copy; only profile names or
files the user chose are opened (never ``/etc/passwd``, ``/proc``, a device or a FIFO).
"""

import os
import shutil
import threading
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from mrecist_reader.cli import main
from mrecist_reader.resources import resource_path
from mrecist_reader.storage.repository import ReadRepository
from tests.transfer.csv_edit import edit, records, two_subjects

SHIPPED = resource_path("protocols", "nct06779461.toml")


def profile_file(folder: Path, *, sd_min_days: int = 28) -> Path:
    """Write a trial profile ``trial`` (the shipped NCT one renamed) into ``folder``."""
    lines = [
        'name = "trial"'
        if line.startswith("name =")
        else f"sd_min_days = {sd_min_days}"
        if line.startswith("sd_min_days =")
        else line
        for line in SHIPPED.read_text(encoding="utf-8").splitlines()
    ]
    path = folder / "trial.toml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def csv_naming(tmp_path: Path, value: str) -> Path:
    """Write the two-subject central file with every protocol_profile cell ``value``."""
    content = two_subjects()
    for line in range(2, len(content.splitlines()) + 1):
        content = edit(content, line, "protocol_profile", value)
    path = tmp_path / "measurements.csv"
    path.write_text(content, encoding="utf-8")
    return path


def best_responses(responses: Path) -> list[str]:
    lines = responses.read_text(encoding="utf-8").splitlines()
    column = lines[0].split(",").index("best_response_to_date")
    return [line.split(",")[column] for line in lines[1:]]


@pytest.fixture
def imported(tmp_path: Path) -> tuple[str, Path]:
    """Import the file naming its profile by path, the user choosing that file."""
    folder = tmp_path / "profiles"
    folder.mkdir()
    profile = profile_file(folder)
    measurements = csv_naming(tmp_path, str(profile))
    db = f"sqlite:///{tmp_path / 'reads.db'}"
    argv = ["import", str(measurements), "--db", db, "--protocol", str(profile)]
    assert main(argv) == 0
    return db, profile


def test_the_issue_attack_editing_the_profile_file_changes_no_signed_response(
    imported, tmp_path, capsys
):
    db, profile = imported
    assert main(["export", "--db", db, "-o", str(tmp_path / "before")]) == 0
    before = tmp_path / "before" / "responses.csv"
    assert best_responses(before) == ["", "PR", "CR", "", "SD", "PD"]
    profile_file(profile.parent, sd_min_days=365)
    # The edit does change responses computed from the file (the attack is real) ...
    edited = tmp_path / "edited.csv"
    measurements = str(tmp_path / "measurements.csv")
    argv = ["assess", measurements, "--protocol", str(profile), "-o", str(edited)]
    assert main(argv) == 0
    assert best_responses(edited)[4] == "NE"
    # ... but not the database's: its export is byte for byte the same.
    assert main(["export", "--db", db, "-o", str(tmp_path / "after")]) == 0
    after = tmp_path / "after" / "responses.csv"
    assert after.read_bytes() == before.read_bytes()
    capsys.readouterr()
    assert main(["audit", "--db", db, "--verify"]) == 0


def test_the_issue_attack_moving_the_profile_file_away_leaves_export_working(
    imported, tmp_path
):
    db, profile = imported
    assert main(["export", "--db", db, "-o", str(tmp_path / "before")]) == 0
    shutil.move(profile, tmp_path / "elsewhere.toml")
    assert main(["export", "--db", db, "-o", str(tmp_path / "after")]) == 0
    before = (tmp_path / "before" / "responses.csv").read_bytes()
    assert (tmp_path / "after" / "responses.csv").read_bytes() == before


def test_the_imported_reads_name_their_profile_by_name_and_keep_its_text(imported):
    db, profile = imported
    with ReadRepository(db) as repository:
        reads = repository.all_reads()
        assert {read.protocol_profile for read in reads} == {"trial"}
        stored = {repository.profile_of(read.key) for read in reads}
    assert {p.text for p in stored if p is not None} == {
        profile.read_text(encoding="utf-8")
    }


def test_a_profile_stored_by_an_earlier_import_is_accepted_by_its_name(
    imported, tmp_path, capsys
):
    db, profile = imported
    profile.unlink()
    again = csv_naming(tmp_path, "trial")
    assert main(["import", str(again), "--db", db]) == 0
    assert "already imported" in capsys.readouterr().out


def test_changing_the_stored_profile_text_with_sqlite_fails_verify_naming_the_read(
    imported, capsys
):
    db, _profile = imported
    engine = create_engine(db)
    with engine.begin() as connection:
        connection.execute(
            text(
                "UPDATE protocol_profiles SET content = "
                "replace(content, 'sd_min_days = 28', 'sd_min_days = 365')"
            )
        )
    engine.dispose()
    capsys.readouterr()
    assert main(["audit", "--db", db, "--verify"]) == 1
    err = capsys.readouterr().err
    assert "read NCT06779461/" in err
    assert "profile were changed outside the application" in err


def test_export_refuses_a_database_that_fails_verification(imported, tmp_path, capsys):
    db, _profile = imported
    engine = create_engine(db)
    with engine.begin() as connection:
        connection.execute(text("UPDATE observations SET diameter_tenths = 999"))
    engine.dispose()
    capsys.readouterr()
    out = tmp_path / "out"
    assert main(["export", "--db", db, "-o", str(out)]) == 1
    err = capsys.readouterr().err
    assert "fails verification" in err
    assert "--allow-unverified" in err
    assert "was changed outside the application" in err
    assert not (out / "responses.csv").exists()


def test_export_with_allow_unverified_says_so_in_audit_head(imported, tmp_path, capsys):
    db, _profile = imported
    engine = create_engine(db)
    with engine.begin() as connection:
        connection.execute(text("UPDATE observations SET diameter_tenths = 999"))
    engine.dispose()
    out = tmp_path / "out"
    assert main(["export", "--db", db, "-o", str(out), "--allow-unverified"]) == 0
    head = (out / "audit_head.txt").read_text(encoding="utf-8")
    assert "verified: no" in head
    assert "--allow-unverified" in head
    assert "was changed outside the application" in head
    assert "warning: exported although" in capsys.readouterr().err


# ---------------------------------------------------------------- hostile profile names
@pytest.mark.parametrize("named", ["/etc/passwd", "/proc/self/environ", "x/../y.toml"])
def test_a_csv_naming_etc_passwd_as_profile_is_refused_with_its_line_by_assess(
    tmp_path, capsys, named
):
    measurements = csv_naming(tmp_path, named)
    assert main(["assess", str(measurements)]) == 1
    err = capsys.readouterr().err
    assert f"{measurements}:2: protocol_profile {named!r}:" in err
    assert "never by a path in the CSV" in err
    assert "root:" not in err


def test_a_csv_path_to_a_real_profile_file_is_refused_unless_the_user_gave_it(
    tmp_path, capsys
):
    folder = tmp_path / "profiles"
    folder.mkdir()
    profile = profile_file(folder)
    measurements = csv_naming(tmp_path, str(profile))
    db = f"sqlite:///{tmp_path / 'reads.db'}"
    assert main(["import", str(measurements), "--db", db]) == 1
    assert f"{measurements}:2: protocol_profile" in capsys.readouterr().err
    with ReadRepository(db) as repository:
        assert repository.all_reads() == ()


def test_a_fifo_given_as_protocol_is_refused_without_hanging(tmp_path, capsys):
    fifo = tmp_path / "trial.toml"
    os.mkfifo(fifo)
    measurements = csv_naming(tmp_path, "trial")
    codes: list[int] = []
    worker = threading.Thread(
        target=lambda: codes.append(
            main(["assess", str(measurements), "--protocol", str(fifo)])
        ),
        daemon=True,
    )
    worker.start()
    worker.join(timeout=60)  # a hang, not a speed: nothing waits on a FIFO's writer
    assert codes == [2]
    assert "is not a regular file" in capsys.readouterr().err


@pytest.mark.parametrize("target", ["/proc/self/environ", "/dev/zero"])
def test_a_link_named_toml_to_proc_or_a_device_is_refused(tmp_path, capsys, target):
    link = tmp_path / "trial.toml"
    link.symlink_to(target)
    measurements = csv_naming(tmp_path, "trial")
    assert main(["assess", str(measurements), "--protocol", str(link)]) == 2
    err = capsys.readouterr().err
    assert "is a system file" in err
    assert "USER=" not in err


def test_a_protocol_file_without_the_toml_suffix_is_refused(tmp_path, capsys):
    measurements = csv_naming(tmp_path, "trial")
    assert main(["assess", str(measurements), "--protocol", "/etc/passwd"]) == 2
    err = capsys.readouterr().err
    assert "expected a .toml file" in err
    assert "root:" not in err


def test_reimporting_with_an_edited_profile_file_never_changes_a_signed_reads_profile(
    imported, tmp_path, capsys
):
    db, profile = imported
    profile_file(profile.parent, sd_min_days=365)
    measurements = str(tmp_path / "measurements.csv")
    capsys.readouterr()
    argv = ["import", measurements, "--db", db, "--protocol", str(profile)]
    assert main(argv) == 1
    err = capsys.readouterr().err
    assert "a signed read keeps the profile it was signed with" in err
    assert "nothing was imported" in err


def test_a_draft_read_given_another_profile_text_on_import_is_an_audited_change(
    tmp_path, capsys
):
    folder = tmp_path / "profiles"
    folder.mkdir()
    profile = profile_file(folder)
    content = csv_naming(tmp_path, "trial").read_text(encoding="utf-8")
    for line in range(2, len(records(content)) + 1):
        content = edit(content, line, "read_status", "draft")
        content = edit(content, line, "signed_at", "")
    measurements = tmp_path / "drafts.csv"
    measurements.write_text(content, encoding="utf-8")
    db = f"sqlite:///{tmp_path / 'reads.db'}"
    argv = ["import", str(measurements), "--db", db, "--protocol", str(profile)]
    assert main(argv) == 0
    profile_file(folder, sd_min_days=365)
    capsys.readouterr()
    assert main(argv) == 0
    said = capsys.readouterr().out
    assert "recorded the protocol profile of 2 read(s) from drafts.csv" in said
    assert "already imported" not in said
    with ReadRepository(db) as repository:
        changes = [e for e in repository.audit_trail() if e.action == "change_profile"]
        assert len(changes) == 2  # one per read
        assert changes[0].reason == "imported from drafts.csv"
        assert repository.integrity_problems() == ()
        stored = {repository.profile_of(r.key) for r in repository.all_reads()}
    assert {p.sd_min_days for p in stored if p is not None} == {365}
