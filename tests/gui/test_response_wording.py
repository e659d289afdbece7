"""The response panel in readers' words, and its threshold labels apart."""

import dataclasses
from datetime import date

import pytest
from pytestqt.qtbot import QtBot

from mrecist_reader.core.assess import assess
from mrecist_reader.core.model import (
    Method,
    NonTargetStatus,
    Observation,
    Read,
    TargetStatus,
    Timepoint,
)
from mrecist_reader.resources import load_profile
from mrecist_reader.ui.response_panel import ResponsePanel
from tests.gui.reads import two_target_read
from tests.gui.shots import save_screenshot


def _three_timepoints(fu2_t1: int, fu2_t2: int) -> Read:
    """Baseline 75.0 mm, FU1 45.0 mm (the nadir), FU2 with the given diameters."""
    read = two_target_read(250, 200)
    return dataclasses.replace(
        read,
        timepoints=(*read.timepoints, Timepoint(2, "FU2", date(2026, 3, 2), 60)),
        observations=(
            *read.observations,
            Observation("T1", 2, TargetStatus.MEASURED, fu2_t1, method=Method.MANUAL),
            Observation("T2", 2, TargetStatus.MEASURED, fu2_t2, method=Method.MANUAL),
            Observation("NT1", 2, NonTargetStatus.PRESENT),
        ),
    )


@pytest.fixture
def panel(qtbot: QtBot) -> ResponsePanel:
    widget = ResponsePanel()
    qtbot.addWidget(widget)
    widget.resize(420, 560)
    widget.show()
    qtbot.waitExposed(widget)
    profile = load_profile("nct06779461")
    widget.set_profile(profile)
    widget.show_assessment(assess(_three_timepoints(260, 200), profile))
    widget.set_timepoint(2)
    return widget


def test_non_target_response_reads_non_cr_non_pd(panel: ResponsePanel) -> None:
    assert panel.values["non_target_response"].text() == "Non-CR/Non-PD"
    assert "IR_SD" not in panel.reasons.text()
    assert "Non-CR/Non-PD" in panel.reasons.text()
    texts = [label.text() for label in panel.values.values()]
    assert not any("_" in text for text in texts), texts


def test_pr_and_pd_labels_do_not_overlap_when_the_thresholds_are_close(
    qtbot: QtBot, panel: ResponsePanel
) -> None:
    # baseline 75.0 mm: PR below 52.5 mm; nadir 45.0 mm: PD from 54.0 mm
    assert panel._pr_line.value() == pytest.approx(52.5)
    assert panel._pd_line.value() == pytest.approx(54.0)
    qtbot.wait(50)  # let the plot lay its items out
    pr = panel._pr_line.label.sceneBoundingRect()
    pd = panel._pd_line.label.sceneBoundingRect()
    assert pr.width() > 0
    assert pd.width() > 0
    assert not pr.intersects(pd), (pr, pd)
    save_screenshot(panel, "response_panel_thresholds")
