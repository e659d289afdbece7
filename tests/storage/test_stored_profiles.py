"""A read keeps the exact profile text it is assessed with (issue 21, item 3).

The text is stored once per SHA-256 and linked to the read; the read's content hash
includes the SHA-256 recomputed from the stored text, so editing it outside the
application fails verification naming the read; changing a read's profile inside the
application is an audited change; reads stored before schema 7 get theirs recorded.
"""

from dataclasses import replace

import pytest
from sqlalchemy import create_engine, text

from mrecist_reader.core.integrity import content_hashes
from mrecist_reader.core.protocol import parse_profile, profile_sha256
from mrecist_reader.resources import load_profile, shipped_profile
from mrecist_reader.storage.audit import Actor, AuditEntry
from mrecist_reader.storage.repository import ReadRepository
from tests.storage.samples import sample_read

ACTOR = Actor("R1", "alice")
REF = "NCT06779461/S01/R1/local"
NCT = load_profile("nct06779461")


def sql(url: str, statement: str) -> None:
    engine = create_engine(url)
    with engine.begin() as connection:
        connection.execute(text(statement))
    engine.dispose()


def edited(profile_text: str, old: str, new: str) -> str:
    assert old in profile_text
    return profile_text.replace(old, new)


def test_a_read_saved_with_its_profile_keeps_that_exact_text(db_url):
    with ReadRepository(db_url) as repository:
        read = sample_read()
        repository.save(
            read, [AuditEntry("create_read", "read")], actor=ACTOR, profile=NCT
        )
        stored = repository.profile_of(read.key)
        assert stored is not None
        assert stored.text == NCT.text
        assert stored == NCT
        assert repository.stored_profiles() == {read.key: NCT}
        assert repository.integrity_problems() == ()
        # a new read's creation entry covers the text: no second entry
        assert [e.action for e in repository.audit_trail()] == ["create_read"]


def test_the_same_text_is_stored_once_for_many_reads(db_url):
    with ReadRepository(db_url) as repository:
        for subject in ("S01", "S02", "S03"):
            read = sample_read(subject_id=subject)
            repository.save(read, [], actor=ACTOR, profile=NCT)
        assert repository.profiles_named("nct06779461") == (NCT,)


def test_the_stored_profile_text_edited_with_sql_fails_verify_naming_the_read(
    shared_db_url,
):
    with ReadRepository(shared_db_url) as repository:
        repository.save(sample_read(), [], actor=ACTOR, profile=NCT)
    sql(
        shared_db_url,
        "UPDATE protocol_profiles SET content = "
        "replace(content, 'sd_min_days = 28', 'sd_min_days = 365')",
    )
    with ReadRepository(shared_db_url) as repository:
        problems = repository.integrity_problems()
    assert problems == (
        f"read {REF}: its lesions, criteria or profile were changed outside the "
        "application (it no longer matches audit entry 1)",
    )


def test_a_read_relinked_to_another_profile_with_sql_fails_verify(shared_db_url):
    other = parse_profile(edited(NCT.text, "sd_min_days = 28", "sd_min_days = 365"))
    with ReadRepository(shared_db_url) as repository:
        repository.save(sample_read(), [], actor=ACTOR, profile=NCT)
        repository.save(sample_read(subject_id="S02"), [], actor=ACTOR, profile=other)
    sql(shared_db_url, f"UPDATE read_profiles SET profile_sha256 = '{other.sha256}'")
    with ReadRepository(shared_db_url) as repository:
        problems = repository.integrity_problems()
    assert len(problems) == 1
    assert problems[0].startswith(f"read {REF}: ")


def test_changing_a_reads_profile_in_the_application_is_an_audited_change(db_url):
    other = parse_profile(edited(NCT.text, "sd_min_days = 28", "sd_min_days = 365"))
    read = sample_read()
    with ReadRepository(db_url) as repository:
        repository.save(read, [], actor=ACTOR, profile=NCT)
        repository.save(read, [AuditEntry("save", "read")], actor=ACTOR, profile=other)
        change = repository.audit_trail()[-1]
        assert (change.action, change.old_value, change.new_value) == (
            "change_profile",
            f"nct06779461 sha256 {NCT.sha256}",
            f"nct06779461 sha256 {other.sha256}",
        )
        assert repository.profile_of(read.key) == other
        assert repository.integrity_problems() == ()


def test_a_profile_of_another_name_is_refused(db_url):
    generic = load_profile("mrecist")
    with ReadRepository(db_url) as repository:
        with pytest.raises(Exception, match="names protocol profile nct06779461"):
            repository.save(sample_read(), [], actor=ACTOR, profile=generic)
        assert repository.all_reads() == ()


def test_a_read_stored_before_schema_7_gets_its_shipped_profile_recorded(db_url):
    read = sample_read()
    with ReadRepository(db_url) as repository:
        repository.save(read, [], actor=ACTOR)  # as before schema 7: no profile
        assert repository.profile_of(read.key) is None
        recording = repository.record_profiles(shipped_profile, actor=ACTOR)
        assert (recording.recorded, recording.unknown) == (1, ())
        entry = repository.audit_trail()[-1]
        assert (entry.action, entry.reason) == ("record_profile", "profile recorded")
        assert entry.new_value == f"nct06779461 sha256 {NCT.sha256}"
        stored = repository.profile_of(read.key)
        assert stored is not None
        assert stored.text == NCT.text
        assert repository.integrity_problems() == ()
        # once recorded, nothing more to do
        assert repository.record_profiles(shipped_profile, actor=ACTOR).recorded == 0


def test_a_read_whose_profile_is_neither_shipped_nor_stored_is_reported(db_url):
    read = replace(sample_read(), protocol_profile="lost_trial_profile")
    with ReadRepository(db_url) as repository:
        repository.save(read, [], actor=ACTOR)
        recording = repository.record_profiles(shipped_profile, actor=ACTOR)
        assert recording.recorded == 0
        assert recording.unknown == (
            f"read {REF}: its protocol profile 'lost_trial_profile' is neither shipped "
            "nor stored in the database; its responses cannot be computed until it is "
            "imported with --protocol FILE",
        )
        assert repository.integrity_problems() == ()


def test_hashes_recorded_before_profiles_were_stored_stay_valid():
    read = sample_read()
    assert content_hashes(read) == content_hashes(read, profile_digest=None)
    with_profile = content_hashes(read, profile_digest=profile_sha256(NCT.text))
    assert with_profile.read != content_hashes(read).read
    assert with_profile.timepoints == content_hashes(read).timepoints


def test_code_with_only_a_name_gets_the_text_the_reads_keep(db_url):
    other = parse_profile(edited(NCT.text, "sd_min_days = 28", "sd_min_days = 365"))
    with ReadRepository(db_url) as repository:
        repository.save(sample_read(), [], actor=ACTOR, profile=other)
        lookup = repository.profile_by_name(load_profile)
    assert lookup("nct06779461").sha256 == other.sha256
    assert lookup("mrecist").sha256 == load_profile("mrecist").sha256


def test_a_profile_changed_in_code_after_parsing_does_not_store_its_old_text(db_url):
    changed = replace(NCT, sd_min_days=365)  # its text still says 28 days
    with ReadRepository(db_url) as repository:
        repository.save(sample_read(), [], actor=ACTOR, profile=changed)
        assert repository.profile_of(sample_read().key) is None
