"""The slice viewer's overlays: corner texts, orientation letters, scale bar, placeholder.

Laid out without overlap on the image canvas. The reader may hide them all (**T**,
:meth:`ViewerOverlays.set_text_shown`); the placeholder stays. Top left: the caption (elided to leave
room for the window/level at top right). Bottom left: slice and position, and under
them the value under the cursor. Bottom right: the scale bar, a round length (1-2-5 mm
steps) that fits the zoom, hidden when the viewer is too small for it. Orientation
letters sit at the middle of each edge, moved clear of the corner texts. Without an
image a placeholder ("No series open", or why none) is centred instead.

The overlays show what the viewer tells them; they decide only where things go.
"""

import numpy as np
import numpy.typing as npt
import pyqtgraph as pg
from PySide6.QtCore import QPoint, QRect, QSize, Qt
from PySide6.QtWidgets import QLabel

from mrecist_reader.ui.image_stack import orientation_letter

OVERLAY_MARGIN = 8
OVERLAY_STYLE = (
    "color: #e8e8e8; background: rgba(0, 0, 0, 130); padding: 0px 3px;"
    " border-radius: 2px; font-size: 10pt;"
)
"""Overlay text on a faint dark plate: readable over bright bone or contrast."""
PLACEHOLDER_STYLE = "color: #888; background: transparent; font-size: 14pt;"
ORIENT_SIZE = 20
SCALE_BAR_OFFSET = (-24, -12)
"""Where the scale bar's right end sits from the bottom-right corner (px)."""
SCALE_BAR_MAX_PX = 120
SCALE_BAR_STEPS_MM = (1.0, 2.0, 5.0, 10.0, 20.0, 50.0, 100.0, 200.0)
SIDES = ("Left", "Right", "Top", "Bottom")


def scale_bar_mm(longest_mm: float) -> float:
    """Return the longest 1-2-5 step that fits ``longest_mm`` (at least the first).

    >>> scale_bar_mm(37.0), scale_bar_mm(0.3)
    (20.0, 1.0)
    """
    fitting = [step for step in SCALE_BAR_STEPS_MM if step <= longest_mm]
    return fitting[-1] if fitting else SCALE_BAR_STEPS_MM[0]


def scale_bar_label(bar_mm: float) -> str:
    """Return a scale bar's label: centimetres from 1 cm on.

    >>> scale_bar_label(50.0), scale_bar_label(5.0)
    ('5 cm', '5 mm')
    """
    return f"{bar_mm / 10:g} cm" if bar_mm >= 10 else f"{bar_mm:g} mm"


def position_text(number: int, count: int, position_mm: float, *, gap: bool) -> str:
    """Return the bottom-left text: image number, position, and a gap's warning.

    >>> position_text(3, 120, -41.25, gap=False).splitlines()
    ['Slice 3 / 120', 'Position -41.2 mm']
    """
    warning = "\nNo image here: the series has a gap" if gap else ""
    return f"Slice {number} / {count}\nPosition {position_mm:.1f} mm{warning}"


def pixel_text(
    image: npt.NDArray[np.generic], row: int, col: int, *, gap: bool, is_ct: bool
) -> str:
    """Return the value under the cursor as ``(column, row)  value`` (HU on CT).

    Empty outside the image; at a gap in the series, "no image".
    """
    n_rows, n_cols = image.shape[:2]
    if not (0 <= row < n_rows and 0 <= col < n_cols):
        return ""
    if gap:
        return f"({col}, {row})  no image"
    value = float(image[row, col])
    return f"({col}, {row})  {value:.0f}{' HU' if is_ct else ''}"


class ViewerOverlays:
    """The texts and marks drawn over the image canvas, and where they go."""

    def __init__(self, canvas: pg.GraphicsLayoutWidget, view: pg.ViewBox) -> None:
        self.canvas = canvas
        self.view = view
        self.pixel_spacing_mm: tuple[float, float] | None = None
        """The shown image's (row, column) spacing; ``None``: no image shown."""
        self.full_text: dict[QLabel, str] = {}
        self.text_shown = True
        """Whether the corner texts, letters and scale bar are shown (T toggles)."""
        self.scale_bar = pg.ScaleBar(size=10, width=4, brush="#d0d0d0", suffix="")
        self.scale_bar.setParentItem(view)
        self.scale_bar.anchor((1, 1), (1, 1), offset=SCALE_BAR_OFFSET)
        self.scale_bar.setVisible(False)
        self.top_left = self._overlay("overlayTopLeft")
        self.top_right = self._overlay("overlayTopRight", Qt.AlignmentFlag.AlignRight)
        self.bottom_left = self._overlay("overlayBottomLeft")
        # the value under the cursor: its own line under the slice position (bottom
        # left), so it never meets the scale bar in the bottom-right corner
        self.cursor_value = self._overlay("overlayCursorValue")
        self.orient = {
            side: self._overlay(f"orient{side}", Qt.AlignmentFlag.AlignCenter)
            for side in SIDES
        }
        for label in self.orient.values():
            label.setProperty("orientation", True)
        self.placeholder = self._overlay("placeholder", Qt.AlignmentFlag.AlignCenter)
        self.placeholder.setStyleSheet(PLACEHOLDER_STYLE)
        self.placeholder.setText("No series open")
        self.placeholder.setWordWrap(True)  # a failure's reason can be long
        view.sigRangeChanged.connect(self.update_scale_bar)

    def _overlay(
        self, name: str, align: Qt.AlignmentFlag = Qt.AlignmentFlag.AlignLeft
    ) -> QLabel:
        label = QLabel(self.canvas)
        label.setObjectName(name)
        label.setAlignment(align | Qt.AlignmentFlag.AlignTop)
        label.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        label.setStyleSheet(OVERLAY_STYLE)
        return label

    # ------------------------------------------------------------------ content
    def set_text(self, label: QLabel, text: str) -> None:
        """Set an overlay's full text (it is elided to the room it gets, if needed)."""
        self.full_text[label] = text
        label.setText(text)
        self.place()

    def keep_text(self, label: QLabel, text: str) -> None:
        """Set an overlay's full text, shown at the next :meth:`place`."""
        self.full_text[label] = text

    def clear_cursor_value(self) -> None:
        """Forget the value under the cursor (another image: it is not this one's)."""
        self.full_text[self.cursor_value] = ""
        self.cursor_value.setText("")

    def clear(self) -> None:
        """Show no image: no corner texts, no scale bar, no orientation."""
        self.pixel_spacing_mm = None
        for label in (self.top_left, self.top_right, self.bottom_left):
            self.full_text[label] = ""
        self.place()

    def show_image(self, pixel_spacing_mm: tuple[float, float]) -> None:
        """Show an image of this (row, column) spacing (the scale bar's unit)."""
        self.pixel_spacing_mm = pixel_spacing_mm

    def set_orientation(self, affine: npt.NDArray[np.float64]) -> None:
        """Letter the edges from the image's row and column directions."""
        column_dir = affine[:3, 2]
        row_dir = affine[:3, 1]
        self.orient["Right"].setText(orientation_letter(column_dir))
        self.orient["Left"].setText(orientation_letter(-column_dir))
        self.orient["Bottom"].setText(orientation_letter(row_dir))
        self.orient["Top"].setText(orientation_letter(-row_dir))

    def set_text_shown(self, shown: bool) -> None:
        """Show or hide the corner texts, orientation letters and scale bar."""
        self.text_shown = shown
        self.place()

    def show_placeholder(self, text: str) -> None:
        """Show a text instead of an image (wrapped, centred, as tall as it needs)."""
        self.placeholder.setText(text)
        self.place()

    # ------------------------------------------------------------------ placing
    def _fit_label(self, label: QLabel, max_width: int) -> QSize:
        """Elide each line of a label to ``max_width`` px; return its size."""
        text = self.full_text.get(label, label.text())
        metrics = label.fontMetrics()
        lines = [
            metrics.elidedText(line, Qt.TextElideMode.ElideRight, max(max_width, 0))
            for line in text.split("\n")
        ]
        label.setText("\n".join(lines) if text else "")
        hint = label.sizeHint() if text else QSize(0, 0)
        return QSize(min(hint.width(), max(max_width, 0)), hint.height())

    def place(self) -> None:
        """Lay the corner texts, orientation letters and scale bar out without overlap."""
        width, height = self.canvas.width(), self.canvas.height()
        margin = OVERLAY_MARGIN
        right = self._fit_label(self.top_right, width - 2 * margin)
        self.top_right.setGeometry(
            width - margin - right.width(), margin, right.width(), right.height()
        )
        room = width - 3 * margin - right.width()
        left = self._fit_label(self.top_left, room)
        self.top_left.setGeometry(margin, margin, left.width(), left.height())
        self._place_bottom_left(width, height)
        self._place_placeholder(width, height)
        self._place_scale_bar()
        self._place_orientation(width, height)
        corners = (self.top_left, self.top_right, self.bottom_left, self.cursor_value)
        for label in corners:
            label.setVisible(self.text_shown)

    def _place_placeholder(self, width: int, height: int) -> None:
        """Centre the placeholder, wrapped to the viewer's width and as tall as its text."""
        margin = 2 * OVERLAY_MARGIN
        room = max(width - 2 * margin, 1)
        tall = max(self.placeholder.heightForWidth(room), 40)
        top = max((height - tall) // 2, 0)
        self.placeholder.setGeometry(margin, top, room, min(tall, height))

    def _place_bottom_left(self, width: int, height: int) -> None:
        margin = OVERLAY_MARGIN
        value = self._fit_label(self.cursor_value, width - 2 * margin)
        line = self.cursor_value.fontMetrics().height()  # kept free: no jumping text
        value_top = height - margin - max(value.height(), line)
        self.cursor_value.setGeometry(margin, value_top, value.width(), value.height())
        slice_text = self._fit_label(self.bottom_left, width - 2 * margin)
        self.bottom_left.setGeometry(
            margin,
            value_top - slice_text.height(),
            slice_text.width(),
            slice_text.height(),
        )

    def _place_scale_bar(self) -> None:
        if self.pixel_spacing_mm is None:
            self.scale_bar.setVisible(False)
            return
        self.scale_bar.setVisible(True)
        bar = self.scale_bar_rect()
        corners = (self.bottom_left, self.cursor_value, self.top_left, self.top_right)
        blocked = any(
            label.text() and label.geometry().intersects(bar) for label in corners
        )
        inside = self.canvas.rect().contains(bar)
        self.scale_bar.setVisible(inside and not blocked and self.text_shown)

    def scale_bar_rect(self) -> QRect:
        """Return where the scale bar and its label are drawn (canvas pixels)."""
        bar = self.scale_bar.bar.rect()
        text = self.scale_bar.text.boundingRect()
        width = max(bar.width(), text.width())
        right = self.canvas.width() + SCALE_BAR_OFFSET[0]
        bottom = self.canvas.height() + SCALE_BAR_OFFSET[1] + bar.height()
        top = bottom - bar.height() - text.height()
        centre = right - bar.width() / 2
        return QRect(
            int(centre - width / 2) - 1,
            int(top) - 1,
            int(width) + 2,
            int(bottom - top) + 2,
        )

    def _place_orientation(self, width: int, height: int) -> None:
        size = QSize(ORIENT_SIZE, ORIENT_SIZE)
        places = {
            "Top": QPoint(width // 2 - size.width() // 2, OVERLAY_MARGIN),
            "Bottom": QPoint(
                width // 2 - size.width() // 2,
                height - OVERLAY_MARGIN - size.height(),
            ),
            "Left": QPoint(2, height // 2 - size.height() // 2),
            "Right": QPoint(width - size.width() - 2, height // 2 - size.height() // 2),
        }
        corners = (self.top_left, self.top_right, self.bottom_left, self.cursor_value)
        others = [label.geometry() for label in corners if label.text()]
        if self.scale_bar.isVisible():
            others.append(self.scale_bar_rect())
        for side, point in places.items():
            label = self.orient[side]
            rect = QRect(point, size)
            clashes = [other for other in others if other.intersects(rect)]
            if clashes and side == "Top":
                rect.moveTop(max(other.bottom() for other in clashes) + 2)
            elif clashes and side == "Bottom":
                rect.moveBottom(min(other.top() for other in clashes) - 2)
            clear = not any(other.intersects(rect) for other in others)
            label.setGeometry(rect)
            shown = clear and self.pixel_spacing_mm is not None and self.text_shown
            label.setVisible(shown)

    def update_scale_bar(self) -> None:
        """Give the scale bar a round length (1-2-5 mm steps) that fits the zoom."""
        spacing = self.pixel_spacing_mm
        if spacing is None or self.view.width() <= 0:
            return
        pixel = self.view.viewPixelSize()[0]  # view units (columns) per screen pixel
        if pixel <= 0:
            return
        mm_per_px = pixel * spacing[1]
        longest = min(SCALE_BAR_MAX_PX, 0.25 * self.canvas.width()) * mm_per_px
        bar_mm = scale_bar_mm(longest)
        self.scale_bar.size = bar_mm / spacing[1]
        self.scale_bar.text.setText(scale_bar_label(bar_mm))
        self.scale_bar.updateBar()
        self.place()

    @property
    def scale_bar_text(self) -> str:
        """Return the scale bar's label ("5 cm", "2 cm", "5 mm"...)."""
        return str(self.scale_bar.text.textItem.toPlainText())
