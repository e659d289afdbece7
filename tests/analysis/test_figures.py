"""endpoints.md §Outputs, figures: what each shows, and no data set makes one fail."""

from fractions import Fraction

import numpy as np

from mrecist_reader.analysis.figures import (
    PD_LINE_PCT,
    PR_LINE_PCT,
    SubjectTrack,
    spider,
    subject_tracks,
    swimmer,
    waterfall,
)
from mrecist_reader.analysis.summary import analyse
from mrecist_reader.core.endpoints import (
    ArmAssignment,
    ScanResponse,
    SubjectCourse,
    Treatment,
)
from mrecist_reader.core.model import Response
from mrecist_reader.resources import load_profile

PROFILE = load_profile("nct06779461")


def scan(index: int, day: int, change: str, best: Response) -> ScanResponse:
    return ScanResponse(
        index, f"FU{index}", day, Response.SD, best,
        change_from_baseline_pct=Fraction(change), best_response_to_date=best,
    )  # fmt: skip


BASELINE = ScanResponse(0, "BASELINE", 0, None, None)
COURSES = {
    "S1": SubjectCourse(
        "S1",
        (BASELINE, scan(1, 30, "-10", Response.SD), scan(2, 61, "-40", Response.PR)),
        (Treatment(1, 3), Treatment(2, 40)),
    ),
    "S2": SubjectCourse("S2", (BASELINE, scan(1, 29, "25", Response.PD)), ()),
    "S3": SubjectCourse("S3", (BASELINE,), (Treatment(1, 2),)),
}


def test_a_track_holds_the_best_change_the_best_response_and_the_sessions() -> None:
    analysis = analyse(COURSES, PROFILE.endpoints, sd_min_days=28)
    tracks = {t.subject_id: t for t in subject_tracks(COURSES, analysis)}
    s1 = tracks["S1"]
    assert (s1.best_change, s1.best_response, s1.last_day, s1.treatment_days) == (
        -40.0,
        Response.PR,
        61,
        (3, 40),
    )


def test_the_waterfall_is_sorted_and_has_the_pr_and_pd_lines() -> None:
    analysis = analyse(COURSES, PROFILE.endpoints, sd_min_days=28)
    figure = waterfall(subject_tracks(COURSES, analysis))
    axes = figure.axes[0]
    bars = axes.collections[0].get_paths()
    heights = [max(np.asarray(p.vertices)[:, 1], key=abs) for p in bars]
    assert heights == [25.0, -40.0]
    lines = sorted(float(np.asarray(line.get_ydata())[0]) for line in axes.get_lines())
    assert lines == [PR_LINE_PCT, 0, PD_LINE_PCT]


def test_the_spider_has_a_panel_per_arm() -> None:
    arms = {"S1": ArmAssignment("S1", "A"), "S2": ArmAssignment("S2", "B")}
    analysis = analyse(COURSES, PROFILE.endpoints, sd_min_days=28, arms=arms)
    figure = spider(subject_tracks(COURSES, analysis), analysis.arms)
    assert [a.get_title() for a in figure.axes] == ["A (1 subjects)", "B (1 subjects)"]


def test_no_subject_makes_no_figure_fail() -> None:
    for figure in (waterfall([]), spider([], ()), swimmer([])):
        figure.canvas.draw()


def test_an_untreated_subject_without_follow_up_is_drawn() -> None:
    track = SubjectTrack("S9", "", (), None, None, (), 0, ())
    swimmer([track]).canvas.draw()
