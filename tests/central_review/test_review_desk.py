"""The review manager's screen at the desk (no Qt): progress, queue, metrics, withdrawal."""

import pytest

from mrecist_reader.core.adjudication import Assignment, AssignmentError
from mrecist_reader.desk.review import ReviewDesk
from mrecist_reader.session import trigger_adjudication
from mrecist_reader.storage.audit import Actor, AuditEntry
from mrecist_reader.storage.errors import ReadNotFound
from mrecist_reader.storage.repository import ReadRepository
from tests.central_review.reads import MANAGER, primary_read


@pytest.fixture
def repository(tmp_path):
    with ReadRepository(f"sqlite:///{tmp_path}/reads.db") as repository:
        repository.assign(
            [
                Assignment("S01", "R01", "R02", "A01"),
                Assignment("S02", "R01", "R02", "A01"),
                Assignment("S03", "R01", "R02", "A01"),
            ],
            actor=MANAGER,
            source="assignments.csv",
        )
        reads = [
            primary_read("S01", "R01", [50, 30]),
            primary_read("S01", "R02", [50, 45]),  # discordant
            primary_read("S02", "R01", [50, 30]),
            primary_read("S02", "R02", [50, 30, 20], signed=2),  # concordant
            primary_read("S03", "R01", [50, 30], signed=1),  # R02 not started
        ]
        for read in reads:
            actor = Actor(read.key.reader_id, "u")
            repository.save(read, [AuditEntry("save", "read")], actor=actor)
        trigger_adjudication(repository, MANAGER)
        yield repository


def test_the_overview_shows_each_subjects_readers_progress_and_cut(repository):
    overview = ReviewDesk(repository, "PM01").overview()
    assert [
        (s.subject_id, s.progress_1, s.progress_2, s.cut, s.status)
        for s in overview.subjects
    ] == [
        ("S01", "2 of 2 signed", "2 of 2 signed", "FU1", "awaiting"),
        ("S02", "2 of 2 signed", "2 of 3 signed", "FU1", "concordant"),
        ("S03", "1 of 2 signed", "not started", "", "no cut yet"),
    ]
    assert [c.subject_id for c in overview.awaiting] == ["S01"]


def test_the_overview_holds_the_metrics_of_the_command_line(repository):
    metrics = ReviewDesk(repository, "PM01").overview().metrics
    rate = next(
        r
        for r in metrics
        if (r["scope"], r["metric"]) == ("overall", "adjudication_rate")
    )
    assert (rate["value"], rate["n"]) == ("0.5000", "2")


def test_the_manager_withdraws_a_read_and_the_screen_shows_the_reopened_cut(
    repository,
):
    desk = ReviewDesk(repository, "PM01", os_user="pm")
    seen = []
    desk.overview_changed.connect(seen.append)
    withdrawal = desk.withdraw("S01", "R02", "read the wrong series")
    assert withdrawal.kept_as == "R02 (withdrawn 1)"
    (overview,) = seen
    first = overview.subjects[0]
    assert (first.progress_2, first.status) == ("not started", "reopened")
    entry = next(e for e in repository.audit_trail() if e.action == "withdraw")
    assert (entry.reader_id, entry.os_user) == ("PM01", "pm")
    with pytest.raises(AssignmentError, match="the reason is empty"):
        desk.withdraw("S02", "R01", " ")


@pytest.mark.parametrize("reader", ["R01", "R02"])
def test_a_primary_reader_is_refused_the_review_screen(repository, reader):
    with pytest.raises(ReadNotFound, match="not shown to a primary reader"):
        ReviewDesk(repository, reader).overview()


def test_the_manager_imports_assignments_and_the_screen_shows_them(tmp_path):
    from mrecist_reader.core.errors import InvalidRead
    from tests.central_review.reads import ASSIGNMENTS_HEADER, write_csv

    with ReadRepository(f"sqlite:///{tmp_path}/reads.db") as repository:
        desk = ReviewDesk(repository, "PM01", os_user="pm")
        seen = []
        desk.overview_changed.connect(seen.append)
        bad = write_csv(tmp_path / "bad.csv", ASSIGNMENTS_HEADER, "S01,R01,R01,A01")
        with pytest.raises(InvalidRead, match=r"bad\.csv:2: "):
            desk.assign_from(bad)
        assert repository.assignments() == ()
        assert seen == []
        good = write_csv(
            tmp_path / "a.csv", ASSIGNMENTS_HEADER, "S01,R01,R02,A01", "S02,R01,R02,A01"
        )
        outcome = desk.assign_from(good)
        assert outcome.created == ("S01", "S02")
        (overview,) = seen
        assert [s.subject_id for s in overview.subjects] == ["S01", "S02"]
        entry = next(
            e for e in repository.audit_trail() if e.action.startswith("assign")
        )
        assert entry.reader_id == "PM01"
