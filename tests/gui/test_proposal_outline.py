"""Issue 16 item 3: a proposal draws what it segmented on its slice until Enter or Esc."""

import json
import math
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from mrecist_reader.core.model import ReadType
from mrecist_reader.desk.desk import ReaderContext, ReadingDesk
from mrecist_reader.imaging.geometry import patient_to_index
from mrecist_reader.imaging.measure.outline import VESSEL_WARNING
from mrecist_reader.resources import load_profile
from mrecist_reader.ui.main_window import MainWindow
from mrecist_reader.ui.measure_flow import MeasureFlow, outline_spec, proposal_specs
from mrecist_reader.ui.slice_viewer import SliceViewer
from mrecist_reader.ui.timepoint_view import TimepointView
from tests.gui import dicom_study
from tests.gui.dicom_study import CENTRE, SLICE_MM, SPACING
from tests.gui.helpers import (
    answer_next_dialog,
    central_read_window,
    fill_lesion_dialog,
    save_screenshot,
    wait_until_ready,
)
from tests.imaging.test_measure_phantom import build_phantom
from tests.imaging.test_measure_vessels import LESION

SAMPLE = Path(__file__).resolve().parents[2] / "sample_dicom"
RADIUS_MM = 20.0
LESION_PX = (31.5, 31.5)
"""The sphere's centre on the slice, view position (x, y) = (column, row)."""


@pytest.fixture(scope="module")
def study(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("study")
    return dicom_study.write_study(root / "study", {"BASELINE": RADIUS_MM, "FU1": 12.0})


@pytest.fixture
def window(qtbot: QtBot, tmp_path: Path, study: Path) -> Iterator[MainWindow]:
    main = central_read_window(
        qtbot, tmp_path / "reads.db", reader_id="R01", size=(1400, 850)
    )
    main.open_path(study)
    wait_until_ready(qtbot, main)
    yield main
    main.shutdown()


def _click_lesion(window: MainWindow) -> SliceViewer:
    viewer = window.baseline_view.viewer
    viewer.set_slice(CENTRE)
    viewer.point_clicked.emit((float(CENTRE), LESION_PX[1], LESION_PX[0]))
    assert window.desk.proposal is not None
    return viewer


def _outline_curves(viewer: SliceViewer) -> list[object]:
    return [
        item
        for item in viewer.view.childGroup.childItems()  # drawn in the image's units
        if hasattr(item, "objectName")
        and item.objectName() in ("proposalViableOutline", "proposalNecroticOutline")
    ]


def test_a_click_draws_the_viable_outline_around_the_lesion_and_esc_removes_it(
    qtbot: QtBot, window: MainWindow
) -> None:
    viewer = _click_lesion(window)
    outline = viewer.outline
    assert outline is not None
    assert outline.is_shown()
    assert outline.viable in _outline_curves(viewer)
    points = outline.view_points()
    assert len(points) >= 8
    # every point near the sphere's edge on this slice (2.5 mm slices; 0.8 mm pixels)
    off_centre_mm = abs(CENTRE - (dicom_study.SHAPE[0] - 1) / 2) * SLICE_MM
    radius_here = math.sqrt(RADIUS_MM**2 - off_centre_mm**2)
    distances = np.hypot(
        (points[:, 0] - LESION_PX[0]) * SPACING[1],
        (points[:, 1] - LESION_PX[1]) * SPACING[0],
    )
    assert np.all(np.abs(distances - radius_here) < 2.0), distances
    # the proposal's label goes below the outline, not over it
    caliper = next(item for item in viewer.caliper_items() if item.spec.proposal)
    assert caliper.label.pos().y() >= points[:, 1].max() - 1e-6
    # the caliper's proposed length and the outline's warnings reach the status bar
    message = window.statusBar().currentMessage()
    assert message.startswith("Proposed ")
    assert "viable" in message
    assert "Enter accepts, Esc rejects" in message
    qtbot.keyClick(viewer, Qt.Key.Key_Escape)
    assert window.desk.proposal is None
    assert viewer.outline is None
    assert _outline_curves(viewer) == []


def test_the_outline_shows_on_its_own_slice_only(window: MainWindow) -> None:
    viewer = _click_lesion(window)
    outline = viewer.outline
    assert outline is not None
    shown_on = outline.spec.slice_index
    assert shown_on == viewer.slice_index
    viewer.set_slice(shown_on + 3)
    assert viewer.outline is outline
    assert not outline.is_shown()
    viewer.set_slice(shown_on)
    assert viewer.outline is outline
    assert outline.is_shown()


def test_enter_records_the_caliper_and_removes_the_outline(window: MainWindow) -> None:
    viewer = _click_lesion(window)
    answer_next_dialog(fill_lesion_dialog())
    window._actions["accept"].trigger()
    assert window.desk.proposal is None
    assert viewer.outline is None
    assert _outline_curves(viewer) == []
    assert [item.spec.lesion_id for item in viewer.caliper_items()] == ["T1"]


def test_another_proposal_replaces_the_outline(window: MainWindow) -> None:
    viewer = _click_lesion(window)
    first = viewer.outline
    assert first is not None
    assert window.desk.proposal is not None
    # the same lesion clicked again: the same outline, left as it is
    viewer.point_clicked.emit((float(CENTRE), LESION_PX[1] + 4.0, LESION_PX[0] - 3.0))
    assert viewer.outline is first
    # another proposal (its region 5 mm to the side) replaces it
    proposal = window.desk.proposal
    assert proposal is not None
    shifted = tuple(
        tuple((x + 5.0, y, z) for x, y, z in polygon)
        for polygon in proposal.viable_outline_mm
    )
    window.desk.propose(replace(proposal, viable_outline_mm=shifted))
    second = viewer.outline
    assert second is not None
    assert second is not first
    assert len(_outline_curves(viewer)) == 2  # one viable, one necrotic curve
    moved = second.view_points()[:, 0] - first.view_points()[:, 0]
    assert np.allclose(moved, 5.0 / SPACING[1])


def test_dragging_the_proposal_keeps_the_outline(window: MainWindow) -> None:
    viewer = _click_lesion(window)
    outline = viewer.outline
    proposal = next(i for i in viewer.caliper_items() if i.spec.proposal)
    handle = proposal.roi.getHandles()[1]
    proposal.roi.movePoint(handle, handle.pos() * 0.9, finish=True)
    assert window.desk.proposal is not None
    assert window.desk.proposal.edited
    assert viewer.outline is outline
    assert outline is not None
    assert outline.is_shown()


def _sample_lesion(subject: int, lesion: int) -> tuple[float, float, float]:
    truth = json.loads((SAMPLE / "truth.json").read_text())
    timepoint = truth["subjects"][subject]["lesions"][lesion]["timepoints"][0]
    x, y, z = timepoint["measurements"][0]["viable_seed_mm"]
    return (float(x), float(y), float(z))


@pytest.mark.slow
def test_sample_dicom_proposal_outline_screenshot(qtbot: QtBot, tmp_path: Path) -> None:
    if not (SAMPLE / "truth.json").is_file():
        pytest.skip("sample_dicom has not been generated")
    main = central_read_window(
        qtbot, tmp_path / "reads.db", reader_id="R01", size=(1400, 850)
    )
    try:
        main.open_path(SAMPLE)
        wait_until_ready(qtbot, main, timeout_ms=60000)
        view = main.baseline_view
        assert view.volume is not None
        # S01's T2 at baseline: a viable part and a necrotic lateral part
        seed = patient_to_index(view.volume.affine, np.asarray(_sample_lesion(0, 1)))
        k, row, col = (float(v) for v in seed)
        view.viewer.set_slice(round(k))
        view.viewer.point_clicked.emit((float(round(k)), row, col))
        outline = view.viewer.outline
        assert outline is not None
        assert outline.is_shown()
        points = outline.view_points()
        # near the lesion: every point within its whole diameter (40.5 mm) of the click
        row_mm, col_mm = view.viewer.stack.pixel_spacing_mm  # type: ignore[union-attr]
        reach = np.hypot((points[:, 0] - col) * col_mm, (points[:, 1] - row) * row_mm)
        assert reach.max() < 40.5
        assert outline.spec.necrotic  # T2 has a necrotic lateral part, left out
        save_screenshot(main, "gui_proposal_outline_sample_dicom")
        qtbot.keyClick(view.viewer, Qt.Key.Key_Escape)
        assert view.viewer.outline is None
    finally:
        main.shutdown()


def test_a_proposal_touching_a_vessel_says_so_by_its_caliper_and_outline(
    qtbot: QtBot,
) -> None:
    built = build_phantom(replace(LESION, vessel="along_z", noise=8.0))
    desk = ReadingDesk(
        ReaderContext(
            reader_id="R01",
            read_type=ReadType.CENTRAL,
            profile=load_profile("nct06779461"),
            db_url="sqlite://",
        )
    )
    view = TimepointView(None, "vesselViewer")
    qtbot.addWidget(view.viewer)
    view.viewer.resize(700, 620)
    view.viewer.show()
    view.show_volume(0, built.volume, "vessel phantom")
    view.viewer.set_window(400.0, 100.0)

    def redraw(_proposal: object) -> None:
        view.viewer.set_calipers(proposal_specs(desk, view))
        view.viewer.set_outline(outline_spec(desk, view))

    desk.proposal_changed.connect(redraw)
    said: list[str] = []
    flow = MeasureFlow(
        view.viewer,
        desk,
        lambda text, _ms: said.append(text),
        view,
        set_measure_mode=lambda _on: None,
    )
    seed = patient_to_index(built.volume.affine, np.asarray(built.centre_mm))
    flow.propose_at(view, (float(seed[0]), float(seed[1]), float(seed[2])))
    assert f"Check: {VESSEL_WARNING}." in said[-1]
    caliper = next(item for item in view.viewer.caliper_items() if item.spec.proposal)
    assert caliper.label.textItem.toPlainText().endswith(f"\n{VESSEL_WARNING}")
    outline = view.viewer.outline
    assert outline is not None
    assert outline.is_shown()
    save_screenshot(view.viewer, "gui_proposal_outline_vessel")
    flow.reject()
    assert view.viewer.outline is None
    assert said[-1] == "Proposal discarded"
