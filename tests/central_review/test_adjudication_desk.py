"""central-review.md §Adjudicating: the adjudicator's screen at the desk (no Qt)."""

import dataclasses
from collections.abc import Iterator

import pytest

from mrecist_reader.core.adjudication import (
    AdjudicationRefused,
    Assignment,
    CutStatus,
    Role,
)
from mrecist_reader.desk.adjudication import AdjudicationDesk, AdjudicationScreen
from mrecist_reader.session import trigger_adjudication
from mrecist_reader.storage.audit import Actor, AuditEntry
from mrecist_reader.storage.repository import ReadRepository
from tests.central_review.reads import MANAGER, primary_read, secret


@pytest.fixture
def repository(tmp_path):
    with ReadRepository(f"sqlite:///{tmp_path}/reads.db") as repository:
        repository.assign(
            [
                Assignment("S01", "R01", "R02", "A01"),
                Assignment("S02", "R01", "R02", "A01"),
                Assignment("S03", "R01", "R02", "A02"),
            ],
            actor=MANAGER,
            source="assignments.csv",
        )
        for subject, sizes_1, sizes_2 in (
            ("S01", [50, 30], [50, 45]),  # FU1: reader 1 PR, reader 2 SD
            ("S02", [50, 30], [50, 30]),  # concordant
            ("S03", [50, 70], [50, 45]),  # A02's
        ):
            for reader, sizes in (("R01", sizes_1), ("R02", sizes_2)):
                read = primary_read(subject, reader, sizes)
                repository.save(
                    read, [AuditEntry("save", "read")], actor=Actor(reader, "u")
                )
        trigger_adjudication(repository, MANAGER)
        yield repository


def texts(value: object) -> Iterator[str]:
    """Yield every text the screen holds (what a view can show)."""
    if isinstance(value, str):
        yield value
    elif dataclasses.is_dataclass(value) and not isinstance(value, type):
        for field in dataclasses.fields(value):
            yield from texts(getattr(value, field.name))
    elif isinstance(value, tuple):
        for item in value:
            yield from texts(item)


def test_the_queue_holds_the_adjudicators_discordant_subjects_only(repository):
    desk = AdjudicationDesk(repository, "A01")
    (item,) = desk.queue()
    assert (item.subject_id, item.cut, item.can_decide) == ("S01", "FU1", True)
    assert item.discordant_variables == (
        "FU1: reader 1 PR, reader 2 SD",
        "best overall response: reader 1 PR, reader 2 SD",
    )
    assert [i.subject_id for i in AdjudicationDesk(repository, "A02").queue()] == [
        "S03"
    ]


def test_the_screen_shows_both_reads_side_by_side_with_the_discordance_marked(
    repository,
):
    screen = AdjudicationDesk(repository, "A01").open("S01")
    one, two = screen.sides
    assert (one.title, two.title) == ("Reader 1 (R01)", "Reader 2 (R02)")
    assert one.colour != two.colour
    assert screen.timepoint_labels == ("BASELINE", "FU1")
    assert [(t.label, t.target_sum_mm, t.overall_response) for t in one.timepoints] == [
        ("BASELINE", "50.0", "—"),
        ("FU1", "30.0", "PR"),
    ]
    assert [t.overall_response for t in two.timepoints] == ["—", "SD"]
    assert [t.discordant for t in two.timepoints] == [False, True]
    assert one.timepoints[1].change_from_baseline == "-40.0 %"
    assert (one.best_response, two.best_response) == ("PR", "SD")
    assert one.best_discordant
    assert not one.progression_discordant
    (lesion,) = two.lesions
    assert (lesion.lesion_id, lesion.by_timepoint) == ("T1", ("50.0 mm", "45.0 mm"))


def test_the_screen_shows_no_date_site_or_sign_off_time(repository):
    screen = AdjudicationDesk(repository, "A01").open("S01")
    shown = " ".join(texts(screen))
    for hidden in ("2026", "SITE01", "10:00"):
        assert hidden not in shown
    assert "day 30" in shown  # the study day, not a date


def test_a_decision_needs_a_reason_from_the_list_and_a_rationale(repository):
    desk = AdjudicationDesk(repository, "A01")
    desk.open("S01")
    with pytest.raises(AdjudicationRefused, match="rationale is empty"):
        desk.decide(Role.READER_2, "measurement", "  ")
    with pytest.raises(AdjudicationRefused, match="reason 'taste' is not one of"):
        desk.decide(Role.READER_2, "taste", "looks right")
    assert desk.screen is not None  # still open: nothing recorded
    assert repository.adjudication_cases()[0].status is CutStatus.AWAITING


def test_deciding_records_the_choice_once_audited_and_empties_the_queue(repository):
    desk = AdjudicationDesk(repository, "A01", os_user="a01-user")
    seen: list[object] = []
    desk.decided.connect(seen.append)
    desk.open("S01")
    case = desk.decide(Role.READER_2, "measurement", "T1 is 45 mm on portal phase")
    assert (case.status, case.chosen_reader) == (CutStatus.ADJUDICATED, "R02")
    assert seen == [case]
    assert desk.screen is None
    assert desk.queue() == ()
    (entry,) = [e for e in repository.audit_trail() if e.action == "adjudicate"]
    assert (entry.reader_id, entry.os_user) == ("A01", "a01-user")
    with pytest.raises(AdjudicationRefused, match="no subject is open"):
        desk.decide(Role.READER_1, "other", "again")


def test_another_adjudicator_cannot_open_the_subject(repository):
    with pytest.raises(AdjudicationRefused, match="not awaiting adjudication by A02"):
        AdjudicationDesk(repository, "A02").open("S01")


def test_a_reopened_cut_is_listed_but_cannot_be_decided(repository):
    repository.withdraw_read("S01", "R02", reason="wrong series", actor=MANAGER)
    desk = AdjudicationDesk(repository, "A01")
    (item,) = desk.queue()
    assert not item.can_decide
    assert item.discordant_variables == (
        "reopened: R02's read withdrawn: wrong series",
    )
    with pytest.raises(AdjudicationRefused):
        desk.open("S01")  # reader 2's read is no longer there


def test_reader_2_walking_the_adjudication_desk_finds_nothing_of_reader_1(
    repository,
):
    desk = AdjudicationDesk(repository, "R02")
    assert desk.queue() == ()
    for subject in ("S01", "S02", "S03"):
        with pytest.raises(AdjudicationRefused) as refused:
            desk.open(subject)
        assert secret("R01") not in str(refused.value)
    assert desk.screen is None


def test_the_screen_holds_each_readers_own_text_on_its_own_side(repository):
    screen: AdjudicationScreen = AdjudicationDesk(repository, "A01").open("S01")
    one, two = screen.sides
    assert secret("R01") in " ".join(texts(one))
    assert secret("R01") not in " ".join(texts(two))
    assert secret("R02") in " ".join(texts(two))
