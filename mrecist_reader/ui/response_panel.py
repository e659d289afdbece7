"""The response panel: the rules engine's verdict at the current timepoint, live.

Shows the target sum, baseline and nadir sums, the changes, the target / non-target /
new-lesion / overall responses with the engine's reasons, and a small plot of the sum over
timepoints with the PR (0.7 x baseline) and PD (1.2 x nadir) thresholds. It only renders
an :class:`~mrecist_reader.core.assess.Assessment`; it decides nothing.

Layout: the verdict and the values come first and stay visible (the panel's minimum
height holds them); the reasons wrap below them; the plot takes what room is left
between :data:`PLOT_MIN_HEIGHT` and :data:`PLOT_MAX_HEIGHT`, so it is what gives way
first. When even that does not fit, the panel scrolls rather than squeezing text. In a
wide panel the values stand in two columns of pairs, in a narrow one in one column.
"""

import logging
from fractions import Fraction

import pyqtgraph as pg
from PySide6.QtCore import QEvent, QObject, QSize, Qt
from PySide6.QtWidgets import (
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from mrecist_reader.core.assess import Assessment, TimepointAssessment
from mrecist_reader.core.protocol import ProtocolProfile
from mrecist_reader.core.thresholds import ResponseThresholds, response_thresholds
from mrecist_reader.core.units import Tenths, format_mm, format_percent
from mrecist_reader.core.wording import readable, word
from mrecist_reader.ui.theme import (
    MUTED,
    PROGRESSION,
    RESPONSE,
    RESPONSE_COLOURS,
    TEXT,
)

logger = logging.getLogger(__name__)

DASH = "—"
PLOT_MIN_HEIGHT = 90
"""Lowest the sum plot gets (px) before the panel scrolls instead."""
PLOT_MAX_HEIGHT = 240
"""Highest the sum plot grows (px); more room goes to the lesion table."""
PLOT_PREFERRED_HEIGHT = 130
"""Height the plot asks for when the read panel is first laid out (px)."""
REASON_LINES = 7
"""Lines of reasons the panel makes room for before any read is open."""
_GRID_SPACING = (12, 2)
PR_LABEL_POSITION = 0.02
"""Where the PR label sits along its line (0: left end, 1: right end)."""
PD_LABEL_POSITION = 0.98


def mm_text(value: Tenths | None) -> str:
    """Return ``"45.0 mm"`` or a dash."""
    return DASH if value is None else f"{format_mm(value)} mm"


def percent_text(value: Fraction | None) -> str:
    """Return a signed percentage such as ``"-31.8 %"`` or a dash."""
    if value is None:
        return DASH
    sign = "+" if value > 0 else ""
    return f"{sign}{format_percent(value)} %"


class ResponsePanel(QWidget):
    """Sums, changes, responses and reasons at one timepoint, with the sum plot."""

    FIELDS = (
        ("target_sum", "Target sum"),
        ("baseline_sum", "Baseline sum"),
        ("nadir_sum", "Nadir"),
        ("change_from_baseline", "Change from baseline"),
        ("change_from_nadir", "Change from nadir"),
        ("target_response", "Target response"),
        ("non_target_response", "Non-target response"),
        ("new_lesions", "New lesions"),
        ("best_response", "Best response to date"),
    )

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("responsePanel")
        self.assessment: Assessment | None = None
        self.thresholds: ResponseThresholds | None = None
        self.timepoint_index = 0
        self._pairs_per_row = 1
        self.content = QWidget()
        self.content.setObjectName("responseContent")
        layout = QVBoxLayout(self.content)
        layout.setContentsMargins(6, 2, 6, 4)
        layout.setSpacing(4)
        self._content_layout = layout
        self._header = self._build_header()
        layout.addLayout(self._header)
        self.grid = QGridLayout()
        self.grid.setHorizontalSpacing(_GRID_SPACING[0])
        self.grid.setVerticalSpacing(_GRID_SPACING[1])
        self.captions: dict[str, QLabel] = {}
        self.values: dict[str, QLabel] = {}
        for key, name in self.FIELDS:
            caption = QLabel(name)
            caption.setStyleSheet(f"color: {MUTED};")
            value = QLabel(DASH)
            value.setObjectName(f"value_{key}")
            value.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            self.captions[key] = caption
            self.values[key] = value
        self._place_values(1)
        layout.addLayout(self.grid)
        self.reasons = QLabel("")
        self.reasons.setObjectName("reasons")
        self.reasons.setWordWrap(True)
        self.reasons.setStyleSheet(f"color: {TEXT};")
        self.reasons.setTextInteractionFlags(
            Qt.TextInteractionFlag.TextSelectableByMouse
        )
        layout.addWidget(self.reasons)
        self.plot = self._build_plot()
        layout.addWidget(self.plot, stretch=1)
        layout.addStretch(0)
        self.scroll_area = QScrollArea()
        self.scroll_area.setObjectName("responseScroll")
        self.scroll_area.setFrameShape(QFrame.Shape.NoFrame)
        self.scroll_area.setWidgetResizable(True)
        self.scroll_area.setHorizontalScrollBarPolicy(
            Qt.ScrollBarPolicy.ScrollBarAlwaysOff
        )
        self.scroll_area.setWidget(self.content)
        self.scroll_area.viewport().installEventFilter(self)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.addWidget(self.scroll_area)

    def _build_header(self) -> QHBoxLayout:
        header = QHBoxLayout()
        header.setSpacing(12)
        title = QLabel("Response")
        title.setObjectName("sectionTitle")
        header.addWidget(title)
        self.overall = QLabel(DASH)
        self.overall.setObjectName("bigResponse")
        header.addWidget(self.overall, stretch=1)
        return header

    # ------------------------------------------------------------------ layout
    def _place_values(self, pairs_per_row: int) -> None:
        """Lay the caption/value pairs out in one or two columns of pairs."""
        self._pairs_per_row = pairs_per_row
        for key, _ in self.FIELDS:
            self.grid.removeWidget(self.captions[key])
            self.grid.removeWidget(self.values[key])
        rows = -(-len(self.FIELDS) // pairs_per_row)
        for position, (key, _) in enumerate(self.FIELDS):
            row, pair = position % rows, position // rows
            self.grid.addWidget(self.captions[key], row, 2 * pair)
            self.grid.addWidget(self.values[key], row, 2 * pair + 1)
        for column in range(4):
            self.grid.setColumnStretch(column, 1 if column % 2 else 0)

    def _two_columns_width(self) -> int:
        """Return the width (px) two columns of caption/value pairs need."""
        captions = max(label.sizeHint().width() for label in self.captions.values())
        values = max(
            label.fontMetrics().horizontalAdvance(text)
            for label in self.values.values()
            for text in (label.text(), "-100.0 %", "not assessed")
        )
        margins = self._content_layout.contentsMargins()
        return (
            2 * (captions + values)
            + 3 * _GRID_SPACING[0]
            + margins.left()
            + margins.right()
        )

    def _reflow(self) -> None:
        width = self.scroll_area.viewport().width()
        wanted = 2 if width >= self._two_columns_width() else 1
        if wanted != self._pairs_per_row:
            self._place_values(wanted)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: D102
        if (
            watched is self.scroll_area.viewport()
            and event.type() == QEvent.Type.Resize
        ):
            self._reflow()
        return super().eventFilter(watched, event)

    def values_height(self) -> int:
        """Return the height (px) the verdict and the values need, without scrolling."""
        layout = self._content_layout
        margins = layout.contentsMargins()
        return (
            margins.top()
            + self._header.sizeHint().height()
            + layout.spacing()
            + self.grid.sizeHint().height()
            + 2
        )

    def minimumSizeHint(self) -> QSize:  # noqa: D102
        hint = super().minimumSizeHint()
        return QSize(hint.width(), self.values_height())

    def sizeHint(self) -> QSize:
        """Return the room for the values, the reasons and the plot at its preference.

        The reasons get at least :data:`REASON_LINES` lines, so that a split made
        before a read is open still fits a follow-up's reasons.
        """
        width = max(self.width(), self.minimumSizeHint().width())
        layout = self._content_layout
        margins = layout.contentsMargins()
        reasons = self.reasons.heightForWidth(width - margins.left() - margins.right())
        reserved = REASON_LINES * self.reasons.fontMetrics().lineSpacing()
        height = (
            self.values_height()
            + max(reasons, reserved)
            + PLOT_PREFERRED_HEIGHT
            + 2 * layout.spacing()
            + margins.bottom()
        )
        return QSize(super().sizeHint().width(), height)

    def _build_plot(self) -> "_SumPlot":
        plot = _SumPlot(background="#1b1e23")
        plot.setObjectName("sumPlot")
        plot.setMinimumHeight(PLOT_MIN_HEIGHT)
        plot.setMaximumHeight(PLOT_MAX_HEIGHT)
        plot.setMenuEnabled(False)
        plot.setMouseEnabled(x=False, y=False)
        plot.hideButtons()
        plot.setLabel("left", "Sum (mm)")
        plot.showGrid(x=False, y=True, alpha=0.2)
        self._curve = plot.plot(
            [], [], pen=pg.mkPen(TEXT, width=2), symbol="o", symbolBrush=TEXT
        )
        # the two thresholds can lie close together (a low nadir): their labels never
        # share a place, PR at the left end under its line, PD at the right end above
        self._pr_line = pg.InfiniteLine(
            angle=0,
            pen=pg.mkPen(RESPONSE, style=Qt.PenStyle.DashLine),
            label="PR",
            labelOpts={
                "color": RESPONSE,
                "position": PR_LABEL_POSITION,
                "anchors": [(0.0, 0.0), (0.0, 0.0)],
            },
        )
        self._pd_line = pg.InfiniteLine(
            angle=0,
            pen=pg.mkPen(PROGRESSION, style=Qt.PenStyle.DashLine),
            label="PD",
            labelOpts={
                "color": PROGRESSION,
                "position": PD_LABEL_POSITION,
                "anchors": [(1.0, 1.0), (1.0, 1.0)],
            },
        )
        for line in (self._pr_line, self._pd_line):
            line.setVisible(False)
            plot.addItem(line)
        return plot

    # ------------------------------------------------------------------ rendering
    def show_assessment(self, assessment: Assessment | None) -> None:
        """Render a new assessment (the session's ``assessment_changed``)."""
        self.assessment = assessment
        self._render()

    def set_profile(self, profile: ProtocolProfile | None) -> None:
        """Draw the PR and PD lines where ``profile`` puts them (none: no lines)."""
        self.thresholds = None if profile is None else response_thresholds(profile)
        self._render()

    def set_timepoint(self, index: int) -> None:
        """Choose which timepoint's values are shown."""
        self.timepoint_index = index
        self._render()

    def current(self) -> TimepointAssessment | None:
        """Return the assessment row of the current timepoint, if any."""
        if self.assessment is None:
            return None
        for row in self.assessment.timepoints:
            if row.timepoint_index == self.timepoint_index:
                return row
        return None

    def _render(self) -> None:
        row = self.current()
        self._render_values(row)
        self._render_plot(row)
        self._reflow()

    def _render_values(self, row: TimepointAssessment | None) -> None:
        texts = _texts(row)
        tokens = _tokens(row)
        for key, label in self.values.items():
            label.setText(texts[key])
            colour = RESPONSE_COLOURS.get(tokens.get(key, ""), TEXT)
            label.setStyleSheet(f"color: {colour};")
        overall = _token(row.overall_response) if row is not None else None
        if row is None:
            self.overall.setText("Not assessed yet")
            self.overall.setStyleSheet(f"color: {MUTED};")
        elif row.timepoint_index == 0:
            self.overall.setText("Baseline")
            self.overall.setStyleSheet(f"color: {TEXT};")
        else:
            self.overall.setText(f"Overall: {word(row.overall_response)}")
            colour = RESPONSE_COLOURS.get(overall or "", TEXT)
            self.overall.setStyleSheet(f"color: {colour};")
        reasons = () if row is None else row.reasons
        self.reasons.setText("\n".join(f"• {readable(reason)}" for reason in reasons))

    def _render_plot(self, row: TimepointAssessment | None) -> None:
        rows = [] if self.assessment is None else list(self.assessment.timepoints)
        points = [(r.timepoint_index, r.target_sum) for r in rows]
        xs = [x for x, y in points if y is not None]
        ys = [y / 10 for x, y in points if y is not None]
        self._curve.setData(xs, ys)
        self.plot.setYRange(0, max([*ys, 75.0]) * 1.35, padding=0)
        if rows:
            self.plot.setXRange(-0.3, max(r.timepoint_index for r in rows) + 0.3)
        axis = self.plot.getAxis("bottom")
        axis.setTicks([[(r.timepoint_index, r.label) for r in rows]])
        baseline = row.baseline_sum if row is not None else None
        nadir = row.nadir_sum if row is not None else None
        limits = self.thresholds
        follow_up = self.timepoint_index > 0 and limits is not None
        self._pr_line.setVisible(follow_up and baseline is not None)
        if limits is not None and baseline is not None:
            self._pr_line.setValue(float(limits.pr_limit(baseline)) / 10)
        self._pd_line.setVisible(follow_up and nadir is not None)
        if limits is not None and nadir is not None:
            self._pd_line.setValue(float(limits.pd_limit(nadir)) / 10)


class _SumPlot(pg.PlotWidget):
    """The sum plot; it asks for its minimum height so it is the first to give way."""

    def sizeHint(self) -> QSize:
        return QSize(super().sizeHint().width(), PLOT_MIN_HEIGHT)


def _token(value: object | None) -> str | None:
    return None if value is None else str(value)


def _texts(row: TimepointAssessment | None) -> dict[str, str]:
    if row is None:
        return {key: DASH for key, _ in ResponsePanel.FIELDS}
    return {
        "target_sum": mm_text(row.target_sum),
        "baseline_sum": mm_text(row.baseline_sum),
        "nadir_sum": mm_text(row.nadir_sum),
        "change_from_baseline": percent_text(row.change_from_baseline_pct),
        "change_from_nadir": percent_text(row.change_from_nadir_pct),
        "target_response": word(row.target_response, DASH),
        "non_target_response": word(row.non_target_response, DASH),
        "new_lesions": word(row.new_lesions, DASH),
        "best_response": word(row.best_response_to_date, DASH),
    }


def _tokens(row: TimepointAssessment | None) -> dict[str, str]:
    """Return the response tokens of a row, which choose the values' colours."""
    if row is None:
        return {}
    return {
        "target_response": _token(row.target_response) or "",
        "non_target_response": _token(row.non_target_response) or "",
        "best_response": _token(row.best_response_to_date) or "",
    }
