"""The adjudicator's image pane is wired to the desk (GUI wiring; rules: desk tests).

Both reads on the same images (issue 17 item 4): each reader's calipers in the
reader's colour, labelled R1/R2, locked; a lesion row's click shows its slice.
"""

from types import SimpleNamespace

import pytest
from PySide6.QtWidgets import QWidget

from mrecist_reader.core.adjudication import Assignment, Role
from mrecist_reader.desk.adjudication import READER_COLOURS, AdjudicationDesk
from mrecist_reader.desk.worklist import Worklist
from mrecist_reader.session import trigger_adjudication
from mrecist_reader.storage.audit import Actor, AuditEntry
from mrecist_reader.storage.repository import ReadRepository
from mrecist_reader.ui.adjudication_view import AdjudicationView, open_adjudication
from tests.central_review.reads import MANAGER
from tests.central_review.test_adjudication_images import (  # noqa: F401 (fixture)
    READ_1,
    READ_2,
    worklist,
)
from tests.central_review.test_adjudication_view import WorklistSignal


@pytest.fixture
def repository(tmp_path):
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
        yield repository


def opened(qtbot, repository, images: Worklist) -> AdjudicationView:
    view = AdjudicationView(
        AdjudicationDesk(repository, "A01"), worklist_of=lambda: images
    )
    qtbot.addWidget(view)
    view.queue_list.itemClicked.emit(view.queue_list.item(0, 0))
    qtbot.waitUntil(lambda: not view.images.loading)
    return view


def drawn(view: AdjudicationView) -> dict[str, object]:
    return {item.spec.lesion_id: item for item in view.images.viewer.caliper_items()}


def test_both_readers_calipers_in_their_colours_locked_on_the_cut(
    qtbot,
    repository,
    worklist,  # noqa: F811
):
    view = opened(qtbot, repository, worklist)
    images = view.images
    assert images.timepoint.currentText() == "FU1"  # the cut
    assert images.viewer.stack is not None
    assert images.viewer.slice_index == 2  # the first caliper's slice (z 35 mm)
    items = drawn(view)
    assert set(items) == {"R1 T1", "R1 T2"}
    item = items["R1 T1"]
    assert item.roi.pen.color().name() == READER_COLOURS[Role.READER_1]
    assert item.locked
    assert "Nothing in either read can be changed" in item.roi.toolTip()
    assert item.label.textItem.toPlainText().startswith("R1 T1")


def test_a_lesion_row_click_shows_its_calipers_slice_in_the_readers_colour(
    qtbot,
    repository,
    worklist,  # noqa: F811
):
    view = opened(qtbot, repository, worklist)
    reader_2 = view.sides[1].lesions
    view.sides[1].lesions.itemClicked.emit(reader_2.item(0, 0))  # T1
    assert view.images.viewer.slice_index == 3  # reader 2's T1 at z 37.5 mm
    item = drawn(view)["R2 T1"]
    assert item.roi.pen.color().name() == READER_COLOURS[Role.READER_2]
    assert item.label.pos().y() >= max(y for _x, y in item.handle_positions())
    assert not view.images.viewer.mode_hint.isVisibleTo(view.images.viewer)
    reader_2.itemClicked.emit(reader_2.item(1, 0))  # T2: on the venous series
    assert view.images.message.text() == (
        "R2 T2: no caliper on the series shown at FU1."
    )
    reader_2.itemClicked.emit(reader_2.item(1, 4))  # T2's BASELINE cell
    assert view.images.timepoint.currentText() == "BASELINE"
    assert (
        view.images.message.text() == "Neither reader recorded a caliper at BASELINE."
    )


def test_nothing_can_be_measured_on_the_adjudicators_images(
    qtbot,
    repository,
    worklist,  # noqa: F811
):
    viewer = opened(qtbot, repository, worklist).images.viewer
    assert not viewer.measure_button.isEnabled()
    viewer.set_measure_mode(True)  # M on the viewer
    assert not viewer.measure_mode


def test_images_not_open_ask_for_file_open(qtbot, repository):
    view = opened(qtbot, repository, Worklist())
    assert view.images.viewer.stack is None
    assert "File > Open..." in view.images.message.text()
    view.sides[1].lesions.itemClicked.emit(view.sides[1].lesions.item(0, 0))
    assert "File > Open..." in view.images.message.text()  # still why: not "no caliper"


def test_images_opened_later_in_the_window_are_shown_at_once(
    qtbot,
    repository,
    worklist,  # noqa: F811
):
    desk = SimpleNamespace(
        repository=lambda: repository,
        context=SimpleNamespace(reader_id="A01"),
        worklist=Worklist(),
        worklist_changed=WorklistSignal().changed,
        subject=None,
    )
    window = QWidget()
    qtbot.addWidget(window)
    window.desk = desk  # type: ignore[attr-defined]  # what the menu passes
    view = open_adjudication(window)  # type: ignore[arg-type]
    view.queue_list.itemClicked.emit(view.queue_list.item(0, 0))
    assert view.images.viewer.stack is None  # File > Open... not done yet
    desk.worklist = worklist
    desk.worklist_changed.emit(worklist)
    qtbot.waitUntil(lambda: not view.images.loading)
    assert view.images.viewer.stack is not None
    assert set(drawn(view)) == {"R1 T1", "R1 T2"}
