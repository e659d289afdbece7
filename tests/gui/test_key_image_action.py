"""Issue 15 item 8: the K key marks the image shown as a key image (wiring only).

The rules (which lesion, which image, signed timepoints) and the PNGs are tested
without Qt in tests/desk/test_key_images.py; here the action must reach the desk with
the image the reading pane shows.
"""

from mrecist_reader.core.model import Organ
from mrecist_reader.ui.key_images import reading_view
from mrecist_reader.ui.main_window import MainWindow
from tests.gui.dicom_study import CENTRE


def test_k_marks_and_unmarks_the_image_shown_for_the_selected_lesion(
    window: MainWindow,
) -> None:
    window.desk.go_to_timepoint(0)
    view = reading_view(window.views, window.desk)
    assert view is not None
    assert view.timepoint_index == 0
    view.viewer.set_slice(CENTRE)
    drawn = view.drawn_caliper((CENTRE, 8.0, 5.0), (CENTRE, 8.0, 50.0))
    window.desk.designate(drawn, Organ.LIVER, "segment 7")
    window.desk.select_lesion("T1")
    action = window._actions["keyImage"]
    assert action.shortcut().toString() == "K"
    action.trigger()
    (key,) = window.desk.repository().all_reads()[0].key_images
    assert (key.lesion_id, key.timepoint_index, key.slice_index) == ("T1", 0, CENTRE)
    assert key.sop_instance_uid == view.image_uid((CENTRE, 0.0, 0.0))
    assert "marked as a key image of T1" in window.statusBar().currentMessage()
    action.trigger()
    assert window.desk.repository().all_reads()[0].key_images == ()
    assert "unmarked" in window.statusBar().currentMessage()
