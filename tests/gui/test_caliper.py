"""Caliper geometry: handle positions -> voxel indices -> patient millimetres."""

import numpy as np
import pytest

from mrecist_reader.core.model import Caliper
from mrecist_reader.imaging.geometry import build_affine
from mrecist_reader.ui.caliper import (
    caliper_from_indices,
    handle_to_index,
    in_plane_length_mm,
    index_to_handle,
    indices_from_caliper,
)

OBLIQUE = (0.96, 0.28, 0.0, -0.0784, 0.2688, -0.96)


def test_handle_x_is_the_column_and_y_the_row() -> None:
    assert handle_to_index(12.0, 30.0, 7) == (7.0, 30.0, 12.0)
    assert index_to_handle((7.0, 30.0, 12.0)) == (12.0, 30.0)


def test_caliper_length_uses_both_pixel_spacings() -> None:
    assert in_plane_length_mm((0, 0), (3, 4), (2.0, 1.0)) == pytest.approx(
        np.hypot(3.0, 8.0)
    )


def test_oblique_caliper_round_trips_through_patient_mm() -> None:
    affine = build_affine(OBLIQUE, (10.0, -20.0, 30.0), (0.7, 0.9), (0.0, 0.5, 2.0))
    p1, p2 = (4.0, 10.0, 20.0), (4.0, 40.0, 60.0)
    caliper = caliper_from_indices(affine, p1, p2)
    assert indices_from_caliper(affine, caliper) == (
        pytest.approx(p1),
        pytest.approx(p2),
    )


def test_patient_caliper_length_matches_the_in_plane_length() -> None:
    affine = build_affine(OBLIQUE, (0.0, 0.0, 0.0), (0.7, 0.9), (0.0, 0.0, 2.5))
    caliper = caliper_from_indices(affine, (3.0, 10.0, 10.0), (3.0, 40.0, 50.0))
    expected = in_plane_length_mm((10, 10), (50, 40), (0.7, 0.9))
    assert caliper.length() == round(expected * 10)
    assert isinstance(caliper, Caliper)
