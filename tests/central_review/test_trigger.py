"""central-review.md §When adjudication is needed and §Adjudicating."""

from dataclasses import replace

import pytest

from mrecist_reader.cli import main
from mrecist_reader.core.adjudication import (
    AdjudicationRefused,
    Assignment,
    CutStatus,
    compare_reads,
    read_cut,
)
from mrecist_reader.core.endpoints import Treatment
from mrecist_reader.resources import load_profile
from mrecist_reader.session import record_decision, trigger_adjudication
from mrecist_reader.storage.audit import Actor, AuditEntry
from mrecist_reader.storage.repository import ReadRepository
from tests.central_review.reads import MANAGER, primary_read

PR, SD, PD = [50, 30], [50, 45], [50, 70]


def compared(sizes_1, sizes_2, treatments=(), **kwargs):
    one = primary_read("S01", "R01", sizes_1, **kwargs)
    two = primary_read("S01", "R02", sizes_2)
    return compare_reads(one, two, load_profile, treatments)


def test_the_read_cut_is_the_latest_timepoint_both_readers_signed():
    one = primary_read("S01", "R01", [50, 30, 30, 30], signed=3)
    two = primary_read("S01", "R02", [50, 30, 30, 30], signed=2)
    assert read_cut(one, two) == 1


def test_there_is_no_cut_until_both_baselines_are_signed():
    one = primary_read("S01", "R01", [50, 30], signed=2)
    two = primary_read("S01", "R02", [50, 30], signed=0)
    assert read_cut(one, two) is None
    assert compare_reads(one, two, load_profile) is None


def test_equal_on_every_variable_the_cut_is_concordant():
    comparison = compared(PR, PR)
    assert comparison is not None
    assert (comparison.cut, comparison.differences) == ("FU1", ())
    assert comparison.is_concordant


def test_without_treatment_days_the_overall_response_at_every_timepoint_is_compared():
    comparison = compared([50, 30, 30], [50, 30, 35.5])
    assert comparison is not None
    assert comparison.differences == ("FU2: reader 1 PR, reader 2 SD",)


def test_the_best_overall_response_is_compared():
    comparison = compared(PR, SD)
    assert comparison is not None
    assert comparison.differences == (
        "FU1: reader 1 PR, reader 2 SD",
        "best overall response: reader 1 PR, reader 2 SD",
    )


def test_the_progression_timepoint_is_compared():
    comparison = compared(PD, SD)
    assert comparison is not None
    assert "progression: reader 1 FU1, reader 2 none" in comparison.differences


def test_with_treatment_days_the_endpoint_response_at_each_endpoint_visit_is_compared():
    # one TACE on day 0: FU1 (day 30) is the visit of ORR30_last, DCR30_first, CR30_first
    treatments = (Treatment(1, 0),)
    comparison = compared([50, 30, 30], [50, 30, 35.5], treatments)
    assert comparison is not None
    # FU2 differs, but no endpoint visit depends on it and the best responses agree
    assert comparison.differences == ()
    comparison = compared(PR, SD, treatments)
    assert comparison is not None
    assert comparison.differences == (
        "ORR30_last: reader 1 PR, reader 2 SD",
        "DCR30_first: reader 1 PR, reader 2 SD",
        "CR30_first: reader 1 PR, reader 2 SD",
        "best overall response: reader 1 PR, reader 2 SD",
    )


def test_only_timepoints_up_to_the_cut_are_compared():
    comparison = compared([50, 30, 70], [50, 30, 45], signed=2)
    assert comparison is not None
    assert comparison.cut == "FU1"
    assert comparison.is_concordant


# ------------------------------------------------------------------ in the database
def assigned(db_url, *subjects: str) -> ReadRepository:
    repository = ReadRepository(db_url)
    repository.assign(
        [Assignment(s, "R01", "R02", "A01") for s in subjects],
        actor=MANAGER,
        source="assignments.csv",
    )
    return repository


def store(repository, subject, sizes_1, sizes_2, **kwargs):
    for reader, sizes in (("R01", sizes_1), ("R02", sizes_2)):
        read = primary_read(subject, reader, sizes, **kwargs)
        repository.save(read, [AuditEntry("save", "read")], actor=Actor(reader, "u"))
    return trigger_adjudication(repository, MANAGER)


def test_a_concordant_cut_makes_reader_1s_read_final(db_url):
    with assigned(db_url, "S01") as repository:
        (case,) = store(repository, "S01", PR, PR)
        assert (case.status, case.final_reader) == (CutStatus.CONCORDANT, "R01")
        (final,) = repository.final_reads()
    assert (final.source_reader, final.read.key.reader_id) == ("R01", "R01")


def test_a_discordant_cut_enters_the_queue_with_the_differences_in_words(db_url):
    with assigned(db_url, "S01", "S02") as repository:
        store(repository, "S01", PR, PR)
        store(repository, "S02", PR, SD)
        (case,) = repository.adjudication_queue("A01")
        assert (case.subject_id, case.cut, case.status) == (
            "S02",
            "FU1",
            CutStatus.AWAITING,
        )
        assert case.discordant_variables == (
            "FU1: reader 1 PR, reader 2 SD",
            "best overall response: reader 1 PR, reader 2 SD",
        )
        # a subject awaiting adjudication has no final read yet
        assert [f.read.key.subject_id for f in repository.final_reads()] == ["S01"]
        assert repository.adjudication_queue("A02") == ()


def test_the_trigger_is_an_audit_trail_entry(db_url):
    with assigned(db_url, "S02") as repository:
        store(repository, "S02", PR, SD)
        entry = repository.audit_trail()[-1]
        assert repository.verify_audit_trail() is None
    assert (entry.action, entry.read_ref, entry.target) == (
        "trigger",
        "adjudication/S02",
        "S02 FU1",
    )
    assert entry.new_value.startswith("awaiting: FU1: reader 1 PR, reader 2 SD")


def test_running_the_trigger_again_records_nothing_new(db_url):
    with assigned(db_url, "S01") as repository:
        store(repository, "S01", PR, SD)
        assert trigger_adjudication(repository, MANAGER) == ()
        assert len(repository.adjudication_cases()) == 1


def decide(repository, **changes):
    decision = {
        "adjudicator": "A01",
        "choose": "reader_2",
        "reason": "measurement",
        "rationale": "T1 measured on the arterial phase by reader 1",
    }
    return record_decision(repository, "S02", **{**decision, **changes})


def test_the_adjudicators_choice_becomes_the_final_read_and_is_audited(db_url):
    with assigned(db_url, "S02") as repository:
        store(repository, "S02", PR, SD)
        case = decide(repository)
        assert (case.status, case.chosen_reader, case.reason) == (
            CutStatus.ADJUDICATED,
            "R02",
            "measurement",
        )
        assert case.signed_at is not None
        (final,) = repository.final_reads()
        entry = repository.audit_trail()[-1]
        assert repository.adjudication_queue("A01") == ()
    assert (final.source_reader, final.read.key.reader_id) == ("R02", "R02")
    assert (entry.action, entry.reader_id, entry.new_value) == (
        "adjudicate",
        "A01",
        "chose reader_2 (R02)",
    )
    assert entry.reason == "measurement: T1 measured on the arterial phase by reader 1"


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"adjudicator": "A02"}, "A02 is not the adjudicator of subject S02"),
        ({"adjudicator": "R01"}, "R01 is not the adjudicator"),
        ({"reason": "gut_feeling"}, "reason 'gut_feeling' is not one of"),
        ({"rationale": "  "}, "the rationale is empty"),
        ({"choose": "reader_3"}, "expected reader_1 or reader_2"),
    ],
)
def test_a_decision_without_the_checks_is_refused(db_url, changes, message):
    with assigned(db_url, "S02") as repository:
        store(repository, "S02", PR, SD)
        with pytest.raises(AdjudicationRefused, match=message):
            decide(repository, **changes)
        (case,) = repository.adjudication_queue("A01")
    assert case.status is CutStatus.AWAITING


def test_a_concordant_subject_is_not_awaiting_adjudication(db_url):
    with assigned(db_url, "S02") as repository:
        store(repository, "S02", PR, PR)
        with pytest.raises(AdjudicationRefused, match="not awaiting adjudication"):
            decide(repository)


def test_a_decision_is_written_once(db_url):
    with assigned(db_url, "S02") as repository:
        store(repository, "S02", PR, SD)
        decide(repository)
        with pytest.raises(AdjudicationRefused, match="is adjudicated"):
            decide(repository, choose="reader_1")
        assert [e.action for e in repository.audit_trail()].count("adjudicate") == 1


def test_a_later_discordant_cut_is_adjudicated_again_and_earlier_decisions_stay(
    db_url,
):
    with assigned(db_url, "S02") as repository:
        store(repository, "S02", [50, 30, 30], [50, 45, 45], signed=2)
        decide(repository)
        store(repository, "S02", [50, 30, 30], [50, 45, 45])  # FU2 signed by both
        first, second = repository.adjudication_cases()
        assert (first.cut, first.status, first.chosen_reader) == (
            "FU1",
            CutStatus.ADJUDICATED,
            "R02",
        )
        assert (second.cut, second.status) == ("FU2", CutStatus.AWAITING)
        assert repository.final_reads() == ()  # the newest cut awaits
        decide(repository, choose="reader_1", reason="other")
        (final,) = repository.final_reads()
    assert (final.source_reader, final.case.cut) == ("R01", "FU2")


def test_the_same_decision_from_the_command_line(tmp_path, capsys):
    db = f"sqlite:///{tmp_path}/reads.db"
    with assigned(db, "S02") as repository:
        for reader, sizes in (("R01", PR), ("R02", SD)):
            read = primary_read("S02", reader, sizes)
            repository.save(
                read, [AuditEntry("save", "read")], actor=Actor(reader, "u")
            )
    argv = [
        "adjudicate", "--db", db, "--subject", "S02", "--adjudicator", "A01",
        "--choose", "reader_1", "--reason", "new_lesion", "--rationale", "N1 is real",
    ]  # fmt: skip
    wrong = [*argv[:6], "A02", *argv[7:]]
    assert main(wrong) == 1
    assert "A02 is not the adjudicator of subject S02" in capsys.readouterr().err
    assert main(argv) == 0
    assert "cut FU1: R01's read (reader_1) is final" in capsys.readouterr().out
    assert main(argv) == 1
    assert "not awaiting adjudication" in capsys.readouterr().err
    with ReadRepository(db) as repository:
        (case,) = repository.adjudication_cases()
    assert (case.adjudicator, case.chosen_reader, case.rationale) == (
        "A01",
        "R01",
        "N1 is real",
    )


def test_signing_the_cut_in_a_read_session_triggers_the_comparison(tmp_path):
    from mrecist_reader.session import ReadSession

    db = f"sqlite:///{tmp_path}/reads.db"
    with assigned(db, "S02") as repository:
        one = primary_read("S02", "R01", PR)
        two = primary_read("S02", "R02", SD, signed=1)
        for read in (one, two):
            repository.save(read, [AuditEntry("save", "read")], actor=Actor("x", "u"))
        assert trigger_adjudication(repository, MANAGER)[0].cut == "BASELINE"
        session = ReadSession.open(
            repository,
            two.key,
            site_id="SITE01",
            profile=load_profile("nct06779461"),
        )
        session.sign_timepoint(1)
        cases = repository.adjudication_cases()
    assert [(c.cut, c.status) for c in cases] == [
        ("BASELINE", CutStatus.CONCORDANT),
        ("FU1", CutStatus.AWAITING),
    ]


def test_an_adjudicator_cannot_open_a_third_read(tmp_path):
    from mrecist_reader.core.errors import MrecistError
    from mrecist_reader.session import ReadSession

    with assigned(f"sqlite:///{tmp_path}/r.db", "S02") as repository:
        key = replace(primary_read("S02", "A01", PR).key)
        with pytest.raises(MrecistError, match="A01 cannot read it"):
            ReadSession.open(
                repository, key, site_id="S", profile=load_profile("nct06779461")
            )
