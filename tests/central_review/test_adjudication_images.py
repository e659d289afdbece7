"""Issue 17 item 4: both reads on the same images, without Qt.

For a timepoint of the open cut, the adjudicator's desk gathers both readers' calipers
(reader, lesion, series, SOP, ends in mm), groups them by series, picks the series most
are on and finds it in the images the adjudicator opened (matched by Series UID).
"""

import pytest

from mrecist_reader.core.adjudication import Assignment, Role
from mrecist_reader.core.model import Caliper, Read
from mrecist_reader.desk.adjudication import AdjudicationDesk
from mrecist_reader.desk.adjudication_images import (
    NOT_OPEN,
    by_series,
    calipers_at,
    image_pane,
)
from mrecist_reader.desk.worklist import Worklist
from mrecist_reader.imaging.scan import scan
from mrecist_reader.imaging.worklist import build_worklist
from mrecist_reader.session import trigger_adjudication
from mrecist_reader.storage.audit import Actor, AuditEntry
from mrecist_reader.storage.repository import ReadRepository
from tests.central_review.reads import MANAGER
from tests.kit.dicom import SeriesSpec, write_series
from tests.kit.reads import Detail, build_read

ARTERIAL = "1.2.826.0.1.3680043.10.1.1"
VENOUS = "1.2.826.0.1.3680043.10.1.2"
ONE = Caliper((-10.0, 20.0, 35.0), (10.0, 20.0, 35.0))
TWO = Caliper((-8.0, 22.0, 37.5), (12.0, 24.0, 37.5))


def double_read(reader_id: str, sizes: list[float], cells: dict) -> Read:
    return build_read(
        {"T1": sizes, "T2": [20, 20]},
        details=cells,
        signed=2,
        subject_id="S01",
        reader_id=reader_id,
    )


READ_1 = double_read(
    "R01",
    [50, 10],  # 70 -> 30 mm: PR (reader 2: 70 -> 65 mm, SD)
    {
        ("T1", 1): Detail(ONE, ARTERIAL, "sop-1-T1"),
        ("T2", 1): Detail(ONE, ARTERIAL, "sop-1-T2"),
    },
)
READ_2 = double_read(
    "R02",
    [50, 45],
    {
        ("T1", 1): Detail(TWO, ARTERIAL, "sop-2-T1"),
        ("T2", 1): Detail(TWO, VENOUS, "sop-2-T2"),
    },
)


@pytest.fixture(scope="module")
def worklist(tmp_path_factory) -> Worklist:
    folder = tmp_path_factory.mktemp("images")
    write_series(folder / "art", SeriesSpec(series_uid=ARTERIAL))
    found = scan(folder, use_index=False)
    return Worklist(build_worklist(found.series))


def test_both_readers_calipers_at_a_timepoint_with_reader_lesion_series_and_ends():
    found = calipers_at((READ_1, READ_2), 1)
    assert [(c.reader, c.lesion_id, c.series_uid, c.sop_uid) for c in found] == [
        (1, "T1", ARTERIAL, "sop-1-T1"),
        (1, "T2", ARTERIAL, "sop-1-T2"),
        (2, "T1", ARTERIAL, "sop-2-T1"),
        (2, "T2", VENOUS, "sop-2-T2"),
    ]
    assert (found[2].p1_mm, found[2].p2_mm) == (TWO.p1_mm, TWO.p2_mm)
    assert [c.label for c in found] == ["R1 T1", "R1 T2", "R2 T1", "R2 T2"]
    assert calipers_at((READ_1, READ_2), 0) == ()  # the baseline has none


def test_calipers_are_grouped_by_series_the_most_used_first():
    groups = by_series(calipers_at((READ_1, READ_2), 1))
    assert [(g.series_uid, len(g.calipers)) for g in groups] == [
        (ARTERIAL, 3),
        (VENOUS, 1),
    ]


def test_the_series_most_calipers_are_on_is_found_in_the_open_worklist(worklist):
    pane = image_pane((READ_1, READ_2), 1, worklist)
    assert pane.series is not None
    assert pane.series.series_instance_uid == ARTERIAL
    assert pane.message == "Not on this series: R2 T2."  # on the venous series
    assert [c.label for c in pane.calipers] == ["R1 T1", "R1 T2", "R2 T1"]
    caliper = pane.caliper_of(Role.READER_2, "T1")
    assert caliper is not None
    assert caliper.sop_uid == "sop-2-T1"
    assert pane.caliper_of(Role.READER_2, "T2") is None  # on the venous series


def test_a_series_not_in_the_worklist_asks_for_the_subjects_images():
    pane = image_pane((READ_1, READ_2), 1, Worklist())
    assert pane.series is None
    assert pane.series_uid == ARTERIAL
    assert pane.message == NOT_OPEN.format(label="FU1")
    assert "File > Open..." in pane.message


def test_an_open_series_is_shown_before_one_with_more_calipers_not_open(
    tmp_path,
):
    write_series(tmp_path / "ven", SeriesSpec(series_uid=VENOUS))
    venous_only = Worklist(build_worklist(scan(tmp_path, use_index=False).series))
    pane = image_pane((READ_1, READ_2), 1, venous_only)
    assert pane.series is not None
    assert pane.series.series_instance_uid == VENOUS
    assert [c.label for c in pane.calipers] == ["R2 T2"]
    assert pane.message == "Not on this series: R1 T1, R1 T2, R2 T1."


def test_without_calipers_the_desks_series_choice_is_shown(worklist):
    chosen = worklist.subjects[0].timepoints[0].series[0]
    asked: list[int] = []

    def choice(index: int):
        asked.append(index)
        return chosen

    pane = image_pane((READ_1, READ_2), 0, worklist, choice)
    assert (pane.series, pane.calipers, asked) == (chosen, (), [0])
    assert "Neither reader" in pane.message


def test_the_adjudication_desk_gives_the_images_of_the_open_cut(tmp_path, worklist):
    with ReadRepository(f"sqlite:///{tmp_path}/reads.db") as repository:
        repository.assign(
            [Assignment("S01", "R01", "R02", "A01")], actor=MANAGER, source="a.csv"
        )
        for read in (READ_1, READ_2):
            repository.save(
                read,
                [AuditEntry("save", "read")],
                actor=Actor(read.key.reader_id, "u"),
            )
        trigger_adjudication(repository, MANAGER)
        desk = AdjudicationDesk(repository, "A01")
        assert desk.images(1, worklist) is None  # nothing open
        desk.open("S01")
        assert desk.timepoints() == ((0, "BASELINE"), (1, "FU1"))
        pane = desk.images(1, worklist)
        assert pane is not None
        assert pane.series is not None
        assert {c.role for c in pane.calipers} == {Role.READER_1, Role.READER_2}
        desk.close()
        assert desk.timepoints() == ()
