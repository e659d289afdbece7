"""The response panel renders the rules engine's assessment (it decides nothing)."""

from dataclasses import replace

from pytestqt.qtbot import QtBot

from mrecist_reader.core.assess import assess
from mrecist_reader.resources import load_profile
from mrecist_reader.ui.response_panel import ResponsePanel
from tests.gui.reads import two_target_read


def _panel(qtbot: QtBot, fu1_t1: int, fu1_t2: int) -> ResponsePanel:
    panel = ResponsePanel()
    qtbot.addWidget(panel)
    read = two_target_read(fu1_t1, fu1_t2)
    profile = load_profile("nct06779461")
    panel.set_profile(profile)
    panel.show_assessment(assess(read, profile))
    panel.set_timepoint(1)
    return panel


def test_sum_drop_of_40_percent_shows_pr_with_reasons(qtbot: QtBot) -> None:
    panel = _panel(qtbot, 250, 200)
    assert panel.values["target_sum"].text() == "45.0 mm"
    assert panel.values["baseline_sum"].text() == "75.0 mm"
    assert panel.values["change_from_baseline"].text() == "-40.0 %"
    assert panel.values["target_response"].text() == "PR"
    assert panel.overall.text() == "Overall: PR"
    assert "PR" in panel.reasons.text()


def test_growth_shows_pd_and_the_threshold_lines(qtbot: QtBot) -> None:
    panel = _panel(qtbot, 500, 420)
    assert panel.overall.text() == "Overall: PD"
    assert panel._pd_line.value() == 1.2 * 75.0
    assert panel._pr_line.value() == 0.7 * 75.0


def test_the_pd_line_is_where_the_profile_puts_it(qtbot: QtBot) -> None:
    panel = _panel(qtbot, 500, 420)
    strict = replace(load_profile("nct06779461"), pd_min_absolute_increase=200)
    panel.set_profile(strict)  # PD also needs 20 mm more than the 75 mm nadir
    assert panel._pd_line.value() == 95.0
    assert panel._pr_line.value() == 0.7 * 75.0
    panel.set_profile(None)
    assert not panel._pd_line.isVisible()


def test_baseline_shows_the_sum_without_a_response(qtbot: QtBot) -> None:
    panel = _panel(qtbot, 250, 200)
    panel.set_timepoint(0)
    assert panel.overall.text() == "Baseline"
    assert panel.values["target_sum"].text() == "75.0 mm"
    assert panel.values["target_response"].text() == "—"
