"""The sponsor's figures: waterfall, spider, swimmer and endpoint rates (endpoints.md).

Each function returns a matplotlib :class:`~matplotlib.figure.Figure` built without
pyplot (no global state, no GUI backend: the Agg canvas), which the caller saves as PNG
and SVG and places in report.pdf.
"""

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.collections import LineCollection, PolyCollection
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from mrecist_reader.analysis.summary import ALL_ARMS, FULL, EndpointAnalysis
from mrecist_reader.core.endpoints import SubjectCourse
from mrecist_reader.core.model import Response

logger = logging.getLogger(__name__)

RESPONSE_COLOURS: dict[Response | None, str] = {
    Response.CR: "#1a9850",
    Response.PR: "#91cf60",
    Response.SD: "#fee08b",
    Response.PD: "#d73027",
    Response.NE: "#999999",
    None: "#cccccc",
}
"""Colour of each best overall response (colour-blind-safe diverging scale)."""

PR_LINE_PCT = -30
PD_LINE_PCT = 20
ARM_COLOURS = ("#4575b4", "#f46d43", "#66bd63", "#984ea3")


@dataclass(frozen=True, slots=True)
class SubjectTrack:
    """What the figures show of one subject in the full analysis set."""

    subject_id: str
    arm: str
    changes: tuple[tuple[int, float], ...]
    best_change: float | None
    best_response: Response | None
    responses: tuple[tuple[int, Response], ...]
    last_day: int
    treatment_days: tuple[int, ...]


def subject_tracks(
    courses: Mapping[str, SubjectCourse], analysis: EndpointAnalysis
) -> tuple[SubjectTrack, ...]:
    """Return the figure data of every subject of the full analysis set with reads."""
    arms = {row.result.subject_id: row.arm for row in analysis.subjects}
    tracks = []
    for subject_id in analysis.full_set:
        course = courses.get(subject_id)
        if course is None:
            continue
        signed = course.signed_follow_ups()
        changes = tuple(
            (tp.study_day, float(tp.change_from_baseline_pct))
            for tp in signed
            if tp.change_from_baseline_pct is not None
        )
        tracks.append(
            SubjectTrack(
                subject_id=subject_id,
                arm=arms.get(subject_id, ""),
                changes=changes,
                best_change=min((c for _d, c in changes), default=None),
                best_response=signed[-1].best_response_to_date if signed else None,
                responses=tuple(
                    (tp.study_day, tp.overall_response)
                    for tp in signed
                    if tp.overall_response is not None
                ),
                last_day=max((tp.study_day for tp in signed), default=0),
                treatment_days=tuple(t.study_day for t in course.treatments),
            )
        )
    return tuple(tracks)


def _figure(width: float, height: float, *, bottom: float = 0.9) -> Figure:
    """Return a figure with fixed margins (inches at the bottom, fractions elsewhere).

    Fixed margins instead of a layout engine: the figure is saved three times (PNG,
    SVG, PDF) and an engine would lay it out again each time.
    """
    figure = Figure(figsize=(width, height))
    FigureCanvasAgg(figure)
    figure.subplots_adjust(
        left=0.8 / width, right=1 - 0.2 / width, top=1 - 0.6 / height,
        bottom=bottom / height, wspace=0.08,
    )  # fmt: skip
    return figure


def _response_legend(axes: Axes) -> None:
    handles = [
        Patch(color=RESPONSE_COLOURS[r], label=str(r))
        for r in (Response.CR, Response.PR, Response.SD, Response.PD, Response.NE)
    ]
    axes.legend(
        handles=handles, title="best overall response", loc="upper right", fontsize=7,
        title_fontsize=7,
    )  # fmt: skip


def _bars(
    axes: Axes,
    values: Sequence[float],
    colours: Sequence[str],
    *,
    vertical: bool,
    alpha: float = 1.0,
) -> None:
    """Draw one bar per value (at 0, 1, 2 ...) as a single collection of rectangles."""
    half = 0.42
    boxes = [
        [(n - half, 0.0), (n + half, 0.0), (n + half, v), (n - half, v)]
        for n, v in enumerate(values)
    ]
    if not vertical:
        boxes = [[(y, x) for x, y in box] for box in boxes]
    axes.add_collection(
        PolyCollection(boxes, facecolors=colours, edgecolors="none", alpha=alpha)
    )


def waterfall(tracks: Sequence[SubjectTrack]) -> Figure:
    """Return the waterfall: each subject's best % change of the target sum, sorted."""
    figure = _figure(10, 5)
    axes = figure.add_subplot()
    shown = sorted(
        (t for t in tracks if t.best_change is not None),
        key=lambda t: -(t.best_change or 0.0),
    )
    _bars(
        axes,
        [t.best_change or 0.0 for t in shown],
        [RESPONSE_COLOURS[t.best_response] for t in shown],
        vertical=True,
    )
    axes.set_xlim(-1, max(len(shown), 1))
    axes.axhline(PD_LINE_PCT, color="#d73027", linestyle="--", linewidth=0.8)
    axes.axhline(PR_LINE_PCT, color="#1a9850", linestyle="--", linewidth=0.8)
    axes.axhline(0, color="black", linewidth=0.5)
    axes.set_xticks([])
    axes.set_xlabel(f"subjects ({len(shown)}), sorted by best change")
    axes.set_ylabel("best change of the target sum from baseline (%)")
    axes.set_title("Waterfall: best percentage change of the target sum (mRECIST)")
    axes.set_ylim(
        -105, max(40.0, max((t.best_change or 0 for t in shown), default=0) + 10)
    )
    _response_legend(axes)
    return figure


def spider(tracks: Sequence[SubjectTrack], arms: Sequence[str]) -> Figure:
    """Return the spider plot: % change against study day, a panel per arm."""
    panels = list(arms) or [ALL_ARMS]
    figure = _figure(5 * len(panels), 4.5)
    axes_list = figure.subplots(1, len(panels), sharey=True, squeeze=False)[0]
    for axes, arm in zip(axes_list, panels, strict=True):
        chosen = [t for t in tracks if arm in (ALL_ARMS, t.arm)]
        # One collection of every subject's line: one artist to draw, not hundreds.
        lines = LineCollection(
            [[(0, 0.0), *track.changes] for track in chosen],
            colors=[RESPONSE_COLOURS[track.best_response] for track in chosen],
            linewidths=0.7,
            alpha=0.7,
        )
        axes.add_collection(lines)
        axes.autoscale_view()
        axes.axhline(PD_LINE_PCT, color="#d73027", linestyle="--", linewidth=0.8)
        axes.axhline(PR_LINE_PCT, color="#1a9850", linestyle="--", linewidth=0.8)
        axes.set_title(f"{arm} ({len(chosen)} subjects)")
        axes.set_xlabel("study day")
    axes_list[0].set_ylabel("change of the target sum from baseline (%)")
    _response_legend(axes_list[-1])
    figure.suptitle("Spider plot: target sum over time")
    return figure


def swimmer(tracks: Sequence[SubjectTrack]) -> Figure:
    """Return the swimmer plot: a bar per subject to its last scan, responses, TACE."""
    ordered = sorted(tracks, key=lambda t: (t.arm, t.last_day))
    height = max(4.0, 0.06 * len(ordered) + 1.5)
    figure = _figure(8, height)
    axes = figure.add_subplot()
    arms = sorted({t.arm for t in ordered})
    colours = {arm: ARM_COLOURS[i % len(ARM_COLOURS)] for i, arm in enumerate(arms)}
    _bars(
        axes,
        [float(t.last_day) for t in ordered],
        [colours[t.arm] for t in ordered],
        vertical=False,
        alpha=0.35,
    )
    last = max((max([t.last_day, *t.treatment_days]) for t in ordered), default=1)
    axes.set_xlim(0, last * 1.03 + 1)
    for response in (Response.CR, Response.PR, Response.SD, Response.PD, Response.NE):
        points = [
            (day, row)
            for row, track in enumerate(ordered)
            for day, seen in track.responses
            if seen is response
        ]
        if points:
            axes.scatter(
                [p[0] for p in points], [p[1] for p in points], s=6, marker="o",
                color=RESPONSE_COLOURS[response], zorder=3, linewidths=0,
            )  # fmt: skip
    ticks = [(d, row) for row, t in enumerate(ordered) for d in t.treatment_days]
    axes.scatter(
        [d for d, _r in ticks], [r for _d, r in ticks], marker="|", s=18,
        color="black", zorder=4, linewidths=0.8,
    )  # fmt: skip
    axes.set_yticks([])
    axes.set_ylim(-1, len(ordered))
    axes.set_xlabel("study day")
    axes.set_ylabel(f"subjects ({len(ordered)})")
    axes.set_title("Swimmer plot: follow-up, overall response per scan, TACE sessions")
    handles: list[Patch | Line2D] = [
        Patch(color=colours[arm], alpha=0.35, label=arm or "pooled") for arm in arms
    ]
    handles += [
        Line2D(
            [], [], marker="o", linestyle="", color=RESPONSE_COLOURS[r], label=str(r)
        )
        for r in (Response.CR, Response.PR, Response.SD, Response.PD, Response.NE)
    ]
    handles.append(
        Line2D([], [], marker="|", linestyle="", color="black", label="TACE")
    )
    axes.legend(handles=handles, loc="lower right", fontsize=7)
    return figure


def rates(analysis: EndpointAnalysis) -> Figure:
    """Return the endpoint rates (full analysis set) with 95 % intervals per arm."""
    names = [d.name for d in analysis.definitions]
    arms = list(analysis.arms) or [ALL_ARMS]
    figure = _figure(max(7.0, 1.1 * len(names) + 2), 4.5, bottom=1.4)
    axes = figure.add_subplot()
    width = 0.8 / len(arms)
    for position, arm in enumerate(arms):
        found = {
            r.endpoint: r
            for r in analysis.rates
            if r.population == FULL and r.arm == arm and r.rate is not None
        }
        xs = [i + (position - (len(arms) - 1) / 2) * width for i in range(len(names))]
        values: list[float] = []
        lows: list[float] = []
        highs: list[float] = []
        for name in names:
            row = found.get(name)
            value = row.rate if row is not None and row.rate is not None else 0.0
            low, high = row.ci if row is not None and row.ci else (value, value)
            values.append(value)
            lows.append(value - low)
            highs.append(high - value)
        axes.bar(
            xs, values, width=width * 0.9, label=arm,
            color=ARM_COLOURS[position % len(ARM_COLOURS)],
            yerr=[lows, highs], capsize=2, error_kw={"linewidth": 0.8},
        )  # fmt: skip
    axes.set_xticks(range(len(names)), names, rotation=30, ha="right", fontsize=8)
    axes.set_ylim(0, 1.05)
    axes.set_ylabel("rate (95 % Clopper-Pearson interval)")
    axes.set_title("Endpoint rates, full analysis set")
    axes.legend(fontsize=8, title="arm", title_fontsize=8)
    return figure


def all_figures(
    courses: Mapping[str, SubjectCourse], analysis: EndpointAnalysis
) -> dict[str, Figure]:
    """Return every figure by file stem: waterfall, spider, swimmer, rates."""
    tracks = [
        t for t in subject_tracks(courses, analysis) if not analysis.arms or t.arm
    ]
    return {
        "waterfall": waterfall(tracks),
        "spider": spider(tracks, analysis.arms),
        "swimmer": swimmer(tracks),
        "rates": rates(analysis),
    }
