"""Issue 15 item 1: an ROI's menu keeps it with the read through the desk (wiring only).

The rules (which lesion, which image, signed timepoints) are tested without Qt in
tests/desk/test_kept_rois.py; here the widget's menu must reach the desk.
"""

from PySide6.QtCore import QPointF

from mrecist_reader.core.model import Organ, RoiShape
from mrecist_reader.imaging.roi_stats import polygon_stats
from mrecist_reader.ui.main_window import MainWindow
from tests.gui.dicom_study import CENTRE
from tests.gui.helpers import save_screenshot


def keep_from_menu(window: MainWindow, index: int, action: int) -> None:
    roi = window.baseline_view.viewer.rois.rois[index]
    roi.getMenu().actions()[action].trigger()


def test_an_rois_menu_keeps_it_with_the_selected_lesion_and_the_liver(
    window: MainWindow,
) -> None:
    view = window.baseline_view
    viewer = view.viewer
    viewer.set_slice(CENTRE)
    drawn = view.drawn_caliper((CENTRE, 8.0, 5.0), (CENTRE, 8.0, 50.0))
    window.desk.designate(drawn, Organ.LIVER, "segment 7")
    window.desk.select_lesion("T1")
    viewer.set_roi_mode(True)
    viewer.rois.add(QPointF(26.0, 26.0), QPointF(37.0, 37.0))  # the lesion
    viewer.rois.add(QPointF(4.0, 48.0), QPointF(14.0, 58.0))  # liver beside it
    keep_from_menu(window, 0, 0)  # "Keep with the selected lesion"
    keep_from_menu(window, 1, 1)  # "Keep as liver reference"
    session = window.desk.session
    assert session is not None
    lesion, liver = session.read.rois
    assert (lesion.lesion_id, liver.lesion_id) == ("T1", "")
    assert lesion.sop_instance_uid == view.image_uid((CENTRE, 31.5, 31.5))
    shown = viewer.rois.stats[0]
    assert shown is not None
    assert lesion.stats.mean == shown.mean
    assert "kept with T1" in viewer.rois.labels[0].toPlainText()
    message = window.statusBar().currentMessage()
    assert message.startswith("liver reference ROI kept")
    assert window.desk.repository().all_reads()[0].rois == (lesion, liver)
    save_screenshot(window, "roi_kept_with_lesion")


def test_a_kept_roi_stays_drawn_on_its_slice_after_the_drawn_one_is_gone(
    window: MainWindow,
) -> None:
    view = window.baseline_view
    viewer = view.viewer
    viewer.set_slice(CENTRE)
    viewer.set_roi_mode(True)
    viewer.rois.add(QPointF(26.0, 26.0), QPointF(37.0, 37.0))
    keep_from_menu(window, 0, 1)  # as the liver reference
    viewer.rois.clear()  # e.g. another series was shown in between
    overlay = viewer.kept_rois
    overlay.refresh()
    texts = [i.toPlainText() for i in overlay.items if hasattr(i, "toPlainText")]
    assert len(texts) == 1
    assert texts[0].startswith("kept liver")
    viewer.set_slice(CENTRE + 3)  # not on another slice
    assert overlay.items == []
    viewer.set_slice(CENTRE)
    assert len(overlay.items) == 2  # its outline and its label


def test_an_ellipse_made_freehand_is_measured_and_kept_as_freehand(
    window: MainWindow,
) -> None:
    view = window.baseline_view
    viewer = view.viewer
    viewer.set_slice(CENTRE)
    viewer.set_roi_mode(True)
    viewer.rois.add(QPointF(20.0, 20.0), QPointF(40.0, 40.0))
    keep_from_menu(window, 0, 2)  # "Make freehand (drag its points)"
    assert viewer.rois.shape_of(0) == "freehand"
    polygon = viewer.rois.rois[0]
    handle = polygon.getHandles()[0]
    polygon.movePoint(handle, QPointF(44.0, 30.0))  # a point dragged outwards
    stats = viewer.rois.stats[0]
    assert stats is not None
    assert view.volume is not None
    image = view.volume.array[CENTRE]
    expected = polygon_stats(image, viewer.rois.outline(0), (0.8, 0.8))
    assert (stats.n_pixels, stats.mean) == (expected.n_pixels, expected.mean)
    keep_from_menu(window, 0, 1)
    session = window.desk.session
    assert session is not None
    (kept,) = session.read.rois
    assert kept.shape is RoiShape.FREEHAND
    assert len(kept.points_mm) == 12
    assert kept.stats.pixel_count == expected.n_pixels
