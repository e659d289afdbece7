"""Enhancement ROI statistics (issue 15 item 1), against values computed by hand."""

import math

import numpy as np
import pytest

from mrecist_reader.imaging.roi_stats import (
    PixelEllipse,
    RoiError,
    ellipse_stats,
    mean_difference,
)


def test_disc_of_one_value_has_that_mean_and_no_spread() -> None:
    image = np.full((64, 64), -1000.0)
    rows, cols = np.mgrid[0:64, 0:64]
    image[(rows - 32) ** 2 + (cols - 30) ** 2 <= 10**2] = 60.0
    stats = ellipse_stats(image, PixelEllipse(32, 30, 10, 10), (0.8, 0.8))
    assert stats.mean == 60.0
    assert stats.sd == 0.0
    assert (stats.minimum, stats.maximum) == (60.0, 60.0)


def test_area_is_the_disc_area_within_a_few_pixels_area() -> None:
    image = np.zeros((100, 100))
    stats = ellipse_stats(image, PixelEllipse(50, 50, 20, 20), (0.7, 0.7))
    pixel_mm2 = 0.7 * 0.7
    # 1257 lattice points lie within a radius-20 circle (Gauss circle problem, r=20)
    assert stats.n_pixels == 1257
    assert stats.area_mm2 == pytest.approx(1257 * pixel_mm2)
    exact = math.pi * (20 * 0.7) ** 2
    assert abs(stats.area_mm2 - exact) < 4 * pixel_mm2


def test_five_pixel_cross_gives_hand_computed_mean_sd_min_max() -> None:
    # radius 1 around (2, 2): the centre and its 4 neighbours are inside, corners not
    image = np.array(
        [
            [0, 0, 0, 0, 0],
            [0, 9, 10, 9, 0],
            [0, 20, 30, 40, 0],
            [0, 9, 50, 9, 0],
            [0, 0, 0, 0, 0],
        ],
        dtype=np.int16,
    )
    stats = ellipse_stats(image, PixelEllipse(2, 2, 1, 1), (2.0, 0.5))
    values = [10, 20, 30, 40, 50]
    assert stats.n_pixels == 5
    assert stats.mean == 30.0
    assert stats.sd == pytest.approx(math.sqrt(sum((v - 30) ** 2 for v in values) / 5))
    assert (stats.minimum, stats.maximum) == (10.0, 50.0)
    assert stats.area_mm2 == pytest.approx(5 * 1.0)


def test_ellipse_uses_its_two_radii_and_negative_hu() -> None:
    image = np.zeros((9, 9))
    image[4, 1:8] = -50.0  # the horizontal axis of a 3 x 1 ellipse at (4, 4)
    stats = ellipse_stats(image, PixelEllipse(4, 4, 1, 3), (1.0, 1.0))
    # inside: row 4 columns 1..7 (7 pixels) and rows 3, 5 at column 4 (2 pixels)
    assert stats.n_pixels == 9
    assert stats.mean == pytest.approx(-50.0 * 7 / 9)
    assert stats.minimum == -50.0


def test_roi_partly_outside_the_image_counts_only_pixels_inside_it() -> None:
    image = np.ones((10, 10))
    stats = ellipse_stats(image, PixelEllipse(0, 0, 2, 2), (1.0, 1.0))
    # quarter disc of radius 2 from the corner, corner included: (0..2, 0..2) with
    # r^2 + c^2 <= 4 -> (0,0) (0,1) (0,2) (1,0) (1,1) (2,0)
    assert stats.n_pixels == 6


def test_lesion_minus_liver_difference_of_means() -> None:
    image = np.zeros((40, 80))
    image[:, :40] = 120.0  # hyperenhancing lesion
    image[:, 40:] = 80.0  # liver
    lesion = ellipse_stats(image, PixelEllipse(20, 15, 5, 5), (1.0, 1.0))
    liver = ellipse_stats(image, PixelEllipse(20, 60, 8, 8), (1.0, 1.0))
    assert mean_difference(lesion, liver) == 40.0


def test_roi_with_no_pixel_inside_is_refused_with_its_place() -> None:
    with pytest.raises(RoiError, match="no pixel centre inside the ROI"):
        ellipse_stats(np.zeros((10, 10)), PixelEllipse(50, 50, 2, 2), (1.0, 1.0))


def test_volume_is_refused() -> None:
    with pytest.raises(RoiError, match="2-D image"):
        ellipse_stats(np.zeros((2, 10, 10)), PixelEllipse(5, 5, 2, 2), (1.0, 1.0))
