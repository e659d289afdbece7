"""What the slice viewer's overlays and tool bar say, as plain functions (no widget)."""

import numpy as np
import pytest

from mrecist_reader.ui.viewer_overlays import (
    pixel_text,
    position_text,
    scale_bar_label,
    scale_bar_mm,
)
from mrecist_reader.ui.viewer_tool_bar import (
    MEASURE_HINT,
    PAN_HINT,
    ROI_HINT,
    mode_text,
)


def test_the_slice_text_counts_in_reading_order_and_warns_at_a_gap() -> None:
    assert (
        position_text(3, 120, -41.26, gap=False) == "Slice 3 / 120\nPosition -41.3 mm"
    )
    assert position_text(3, 120, 0.0, gap=True).endswith(
        "\nNo image here: the series has a gap"
    )


def test_the_value_under_the_cursor_is_column_row_and_hu_on_ct_only() -> None:
    image = np.arange(12, dtype=np.int16).reshape(3, 4)
    assert pixel_text(image, 1, 2, gap=False, is_ct=True) == "(2, 1)  6 HU"
    assert pixel_text(image, 1, 2, gap=False, is_ct=False) == "(2, 1)  6"
    assert pixel_text(image, 1, 2, gap=True, is_ct=True) == "(2, 1)  no image"
    assert pixel_text(image, 3, 0, gap=False, is_ct=True) == ""  # below the image
    assert pixel_text(image, 0, -1, gap=False, is_ct=True) == ""


@pytest.mark.parametrize(
    ("longest_mm", "bar_mm", "label"),
    [
        (0.2, 1.0, "1 mm"),
        (7.0, 5.0, "5 mm"),
        (37.0, 20.0, "2 cm"),
        (900.0, 200.0, "20 cm"),
    ],
)
def test_the_scale_bar_takes_the_longest_round_length_that_fits(
    longest_mm: float, bar_mm: float, label: str
) -> None:
    assert scale_bar_mm(longest_mm) == bar_mm
    assert scale_bar_label(bar_mm) == label


def test_roi_mode_wins_over_measure_mode_in_the_hint() -> None:
    assert mode_text(measuring=False, roi=False) == PAN_HINT
    assert mode_text(measuring=True, roi=False) == MEASURE_HINT
    assert mode_text(measuring=True, roi=True) == ROI_HINT
