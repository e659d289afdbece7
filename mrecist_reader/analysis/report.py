"""report.pdf: title page, summary tables, figures and the per-subject listing.

Drawn with matplotlib's PDF backend (no pyplot): text pages in a monospaced font, the
figures as vector pages. endpoints.md §Outputs.
"""

import logging
import textwrap
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, TypeVar

from matplotlib import rc_context
from matplotlib.artist import Artist
from matplotlib.backend_bases import RendererBase
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.backends.backend_pdf import PdfPages
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties

from mrecist_reader.analysis.summary import (
    EndpointAnalysis,
    RateRow,
    rate_cells,
    subject_cells,
)

logger = logging.getLogger(__name__)

A4_LANDSCAPE = (11.69, 8.27)
_T = TypeVar("_T")
TABLE_TOP = 0.895
"""Baseline of a table's first line, as a fraction of the page height."""
TABLE_BOTTOM_PT = 30.0
"""Space kept free below a table for the page footer, points."""
LINE_PITCH = 1.3
"""Distance between table lines, in font sizes."""
SUMMARY_SIZE = 7.0
LISTING_SIZE = 6.0


def rows_per_page(size: float) -> int:
    """Return how many table rows fit on a page at this font size (header aside)."""
    usable = TABLE_TOP * A4_LANDSCAPE[1] * 72 - TABLE_BOTTOM_PT
    return int(usable // (size * LINE_PITCH)) - 2


@dataclass(frozen=True, slots=True)
class InputFile:
    """One input of the report: what it is, where it came from, its SHA-256."""

    role: str
    source: str
    sha256: str


@dataclass(frozen=True, slots=True)
class ReportTitle:
    """What the title page states."""

    study_id: str
    protocol: str
    protocol_description: str
    data_cut: str
    software_version: str
    created: str
    inputs: tuple[InputFile, ...]


@dataclass(frozen=True, slots=True)
class _Column:
    """A column of a table page: header, width in characters, alignment."""

    header: str
    width: int
    align: Literal["left", "right"] = "left"

    def cell(self, text: str) -> str:
        """Return the text cut or padded to the column's width."""
        text = text[: self.width]
        return (
            text.rjust(self.width) if self.align == "right" else text.ljust(self.width)
        )


def _page(title: str) -> Figure:
    # 72 dpi: the PDF's standard fonts are measured in points.
    figure = Figure(figsize=A4_LANDSCAPE, dpi=72)
    FigureCanvasAgg(figure)
    figure.text(0.04, 0.955, title, fontsize=13, weight="bold", va="top")
    return figure


def _table_page(
    title: str,
    columns: Sequence[_Column],
    rows: Sequence[Sequence[str]],
    *,
    size: float,
) -> Figure:
    """Return a page with the table in monospaced lines (Courier).

    A monospaced font keeps the columns aligned in every PDF viewer (Courier is one
    of the PDF's standard 14 fonts).
    """
    figure = _page(title)
    while rows and not any(rows[0]):  # a separator row does not open a page
        rows = rows[1:]
    header = "  ".join(c.cell(c.header) for c in columns).rstrip()
    lines = [header, "-" * len(header)]
    lines += [
        "  ".join(c.cell(v) for c, v in zip(columns, row, strict=True)).rstrip()
        for row in rows
    ]
    figure.add_artist(_TextLines(lines, size=size))
    return figure


class _TextLines(Artist):
    """Monospaced lines at an even pitch, drawn straight by the renderer.

    Lines of a table need no layout (no wrapping, alignment or rotation): giving each
    line's baseline to ``renderer.draw_text`` keeps the pitch even whatever glyphs a
    line holds, and is many times faster than a ``Text`` per line.
    """

    def __init__(self, lines: Sequence[str], *, size: float) -> None:
        super().__init__()
        self.lines = tuple(lines)
        self.font = FontProperties(family="monospace", size=size)

    def draw(self, renderer: RendererBase) -> None:
        """Draw every line from the top left of the page's table area."""
        figure = self.get_figure(root=True)
        if figure is None or not self.get_visible():
            return
        box = figure.bbox
        # points to pixels (the pages are 72 dpi: one pixel a point)
        pitch = self.font.get_size_in_points() * LINE_PITCH * figure.dpi / 72
        gc = renderer.new_gc()
        gc.set_foreground("black")
        for number, line in enumerate(self.lines):
            y = box.y0 + TABLE_TOP * box.height - number * pitch
            renderer.draw_text(gc, box.x0 + 0.04 * box.width, y, line, self.font, 0.0)
        gc.restore()


def _title_rows(title: ReportTitle, analysis: EndpointAnalysis) -> list[list[str]]:
    rows = [
        ["Study", title.study_id],
        ["Protocol profile", f"{title.protocol}: {title.protocol_description}"],
        ["Data cut", title.data_cut],
        ["Software", f"mrecist_reader {title.software_version}"],
        ["Created", title.created],
        ["Arms", ", ".join(analysis.arms) or "pooled (no arms.csv)"],
        ["Control arm", analysis.control_arm or "-"],
        ["Full analysis set", f"{len(analysis.full_set)} subjects"],
        ["", ""],
        ["Inputs", "SHA-256"],
    ]
    for item in title.inputs:
        rows += [[item.role, item.source], ["", item.sha256]]
    rows.append(["", ""])
    for definition in analysis.definitions:
        primary = " (primary)" if definition.primary else ""
        rows.append(
            [
                definition.name,
                f"{definition.kind} of the {definition.basis} response, "
                f"{definition.offset_days} days after the "
                f"{str(definition.anchor).replace('_', ' ')} "
                f"(-{definition.window_before_days}/+{definition.window_after_days} "
                f"days){primary}",
            ]
        )
    for number, warning in enumerate(analysis.warnings):
        for line, text in enumerate(textwrap.wrap(warning, 140)):
            rows.append(["Warning" if number == 0 and line == 0 else "", text])
    return rows


TITLE_SIZE = 8.5


def _title_pages(title: ReportTitle, analysis: EndpointAnalysis) -> list[Figure]:
    """Return the title page (and its continuation when the warnings are long)."""
    return [
        _table_page(
            "Trial endpoints (mRECIST): report",
            [_Column("", 20), _Column("", 120)],
            part,
            size=TITLE_SIZE,
        )
        for part in _pages(_title_rows(title, analysis), rows_per_page(TITLE_SIZE))
    ]


SUMMARY_LAYOUT = (
    _Column("endpoint", 20),
    _Column("population", 10),
    _Column("arm", 18),
    _Column("n", 4, "right"),
    _Column("responders", 10, "right"),
    _Column("rate", 6, "right"),
    _Column("95% CI", 16, "right"),
    _Column("difference", 10, "right"),
    _Column("95% CI (MN)", 18, "right"),
    _Column("Fisher p", 8, "right"),
    _Column("CMH p", 6, "right"),
)


def _summary_rows(rows: Sequence[RateRow]) -> list[list[str]]:
    table: list[list[str]] = []
    previous = ""
    for row in rows:
        c = rate_cells(row)
        if previous and row.endpoint != previous:
            table.append([""] * len(SUMMARY_LAYOUT))
        previous = row.endpoint
        ci = f"{c['ci_low']} to {c['ci_high']}" if c["ci_low"] else ""
        dci = f"{c['diff_ci_low']} to {c['diff_ci_high']}" if c["diff_ci_low"] else ""
        table.append(
            [row.endpoint, row.population, row.arm, c["n"], c["responders"], c["rate"],
             ci, c["difference"], dci, c["p_fisher"], c["p_cmh"]]
        )  # fmt: skip
    return table


LISTING_LAYOUT = (
    _Column("subject", 10),
    _Column("arm", 10),
    _Column("endpoint", 19),
    _Column("timepoint", 9),
    _Column("day", 4, "right"),
    _Column("basis", 5),
    _Column("resp.", 5),
    _Column("responder", 9),
    _Column("status", 11),
    _Column("reason", 110),
)
REASON_WIDTH = 110
"""Characters of a reason per listing line (longer reasons wrap)."""


def _listing_records(analysis: EndpointAnalysis) -> list[list[list[str]]]:
    """Return each listing row with the lines its wrapped reason continues on."""
    records: list[list[list[str]]] = []
    for row in analysis.subjects:
        c = subject_cells(row)
        wrapped = textwrap.wrap(c["reason"], REASON_WIDTH) or [""]
        first = [
            c["subject_id"], c["arm"], c["endpoint"], c["timepoint"], c["study_day"],
            c["basis_response"], c["endpoint_response"], c["responder"], c["status"],
            wrapped[0],
        ]  # fmt: skip
        records.append([first, *([""] * 9 + [more] for more in wrapped[1:])])
    return records


def _listing_pages(analysis: EndpointAnalysis, per_page: int) -> list[list[list[str]]]:
    """Split the listing into pages; a row never leaves its reason's end behind."""
    pages: list[list[list[str]]] = [[]]
    for record in _listing_records(analysis):
        if len(pages[-1]) + len(record) > per_page:
            pages.append([])
        pages[-1].extend(record)
    return [page for page in pages if page]


def _pages(lines: Sequence[_T], per_page: int) -> Iterator[Sequence[_T]]:
    for start in range(0, len(lines), per_page):
        yield lines[start : start + per_page]


@contextmanager
def _quiet_font_manager() -> Iterator[None]:
    """Silence matplotlib's note that Courier/Helvetica have no "normal" weight.

    The standard PDF fonts are named, not embedded: the note is about metrics files and
    would only alarm the user.
    """
    font_logger = logging.getLogger("matplotlib.font_manager")
    level = font_logger.level
    font_logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        font_logger.setLevel(level)


def write_report(
    path: Path,
    title: ReportTitle,
    analysis: EndpointAnalysis,
    figures: Mapping[str, Figure],
) -> int:
    """Write report.pdf and return its number of pages.

    Parameters
    ----------
    path
        The PDF to write (the caller makes the output all or nothing).
    title
        What the title page states.
    analysis
        Rates and every subject's endpoints.
    figures
        The figures, each on a page of its own, in the mapping's order.

    """
    pages = _title_pages(title, analysis)
    for part in _pages(_summary_rows(analysis.rates), rows_per_page(SUMMARY_SIZE)):
        pages.append(
            _table_page(
                "Endpoint rates (endpoint_summary.csv)",
                SUMMARY_LAYOUT,
                part,
                size=SUMMARY_SIZE,
            )
        )
    pages.extend(figures.values())
    for part in _listing_pages(analysis, rows_per_page(LISTING_SIZE)):
        pages.append(
            _table_page(
                "Per-subject listing (endpoint_subjects.csv)",
                LISTING_LAYOUT,
                part,
                size=LISTING_SIZE,
            )
        )
    metadata = {
        "Title": f"Trial endpoints {title.study_id}",
        "Creator": f"mrecist_reader {title.software_version}",
    }
    # The PDF's 14 standard fonts: no glyphs to lay out and embed (a tenth of the
    # time of TrueType fonts for the listing's hundreds of thousands of characters).
    with (
        rc_context({"pdf.use14corefonts": True, "axes.unicode_minus": False}),
        _quiet_font_manager(),
        PdfPages(path, metadata=metadata) as pdf,
    ):
        for number, page in enumerate(pages, start=1):
            footer = page.text(
                0.96, 0.015, f"{title.study_id} - page {number} of {len(pages)}",
                ha="right", fontsize=7, color="#555555",
            )  # fmt: skip
            pdf.savefig(page)
            footer.remove()
    logger.info("wrote report.pdf (%d pages)", len(pages))
    return len(pages)
