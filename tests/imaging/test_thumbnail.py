"""Issue 15 item 3: a series' thumbnail is its middle image, windowed and made small."""

from pathlib import Path

import numpy as np

from mrecist_reader.imaging.scan import scan
from mrecist_reader.imaging.thumbnail import (
    middle_image_index,
    series_thumbnail,
    thumbnail_of,
)
from tests.kit.dicom import SeriesSpec, write_series


def bright_square(k: int) -> np.ndarray:
    """Return a 200 x 100 dark image with a bright square placed by k."""
    image = np.full((200, 100), 100, dtype=np.int64)
    image[20 + 10 * k : 60 + 10 * k, 30:70] = 2000
    return image


def test_the_thumbnail_is_the_middle_image_made_small(tmp_path: Path) -> None:
    spec = SeriesSpec(n_slices=9, rows=200, columns=100, pixels=bright_square)
    write_series(tmp_path / "s", spec)
    (series,) = scan(tmp_path / "s", use_index=False).series
    assert middle_image_index(series) == 4
    thumb = series_thumbnail(series, side=50)
    assert thumb.dtype == np.uint8
    assert thumb.shape == (50, 25)  # the longer side is 50, the aspect kept
    expected = thumbnail_of(bright_square(4), side=50)
    np.testing.assert_array_equal(thumb, expected)
    # the bright square of the middle image (rows 60-100 of 200): rows 15-25 of 50
    assert thumb[20, 12] == 255
    assert thumb[5, 12] == 0
    assert thumb[40, 12] == 0


def test_a_small_image_keeps_its_size_and_a_flat_one_is_black() -> None:
    image = np.arange(30 * 20).reshape(30, 20)
    assert thumbnail_of(image, side=96).shape == (30, 20)
    assert not thumbnail_of(np.full((8, 8), 5.0)).any()
