"""What the proposal carries besides the caliper (issue 16, items 3-5).

The outline of the segmented viable region and of the necrotic part left out, on the
proposal's slice, in patient mm; the whole-lesion diameter (viable plus necrotic,
RECIST 1.1) and the viable diameter's longest perpendicular (EASL); the warnings.
"""

import math
from dataclasses import replace
from typing import Literal

import numpy as np
import pytest

from mrecist_reader.imaging.geometry import patient_to_index
from mrecist_reader.imaging.measure import ViableMeasurement, longest_viable_diameter
from mrecist_reader.imaging.measure.outline import EDGE_WARNING
from tests.imaging.test_measure import BASE, phantom, tolerance
from tests.imaging.test_measure_phantom import Phantom, PhantomSpec


def _measure(spec: PhantomSpec) -> tuple[Phantom, ViableMeasurement]:
    built = phantom(spec)
    return built, longest_viable_diameter(built.volume, built.centre_mm)


def _click_on_viable(built: Phantom) -> ViableMeasurement:
    # The viable half's side: 0.6 of the major semi-axis along the half's normal.
    spec = built.spec
    nx, ny = math.cos(spec.half_angle), math.sin(spec.half_angle)
    return longest_viable_diameter(
        built.volume, built.lesion_point_mm(0.6 * nx, 0.6 * ny)
    )


def _polygon_feret(
    contours: tuple[tuple[tuple[float, float, float], ...], ...],
) -> float:
    points = np.vstack([np.asarray(c) for c in contours])
    gaps = points[:, None, :] - points[None, :, :]
    return float(np.sqrt((gaps**2).sum(axis=-1)).max())


def test_the_outline_is_on_the_proposal_slice_and_spans_the_caliper() -> None:
    built, result = _measure(replace(BASE, noise=10.0))
    assert len(result.viable_outline_mm) == 1
    outline = np.asarray(result.viable_outline_mm[0])
    assert len(outline) >= 20
    index = patient_to_index(built.volume.affine, outline)
    assert np.allclose(index[:, 0], result.slice_index, atol=1e-6)
    assert _polygon_feret(result.viable_outline_mm) == pytest.approx(
        result.diameter_mm, abs=1.0
    )
    assert result.necrotic_outline_mm == ()


def test_a_rim_around_a_necrotic_core_has_an_outer_and_an_inner_outline() -> None:
    spec = replace(BASE, semi_axes_mm=(16.0, 12.0, 12.0), necrosis="core", noise=10.0)
    built = phantom(spec)
    result = longest_viable_diameter(built.volume, built.lesion_point_mm(0.8, 0.0))
    assert len(result.viable_outline_mm) == 2
    assert len(result.necrotic_outline_mm) == 1
    # The necrotic core is 50 % of the lesion: its outline is about 16 x 12 mm.
    assert _polygon_feret(result.necrotic_outline_mm) == pytest.approx(16.0, abs=2.0)
    # The whole lesion is the rim's outer diameter.
    assert result.whole_diameter_mm == pytest.approx(result.diameter_mm, abs=1.0)


def test_a_necrotic_half_gives_the_whole_diameter_across_viable_and_necrotic() -> None:
    spec = replace(
        BASE,
        semi_axes_mm=(16.0, 12.0, 12.0),
        necrosis="half",
        half_angle=0.0,
        noise=10.0,
    )
    built = phantom(spec)
    result = _click_on_viable(built)
    assert result.diameter_mm == pytest.approx(
        built.truth_mm, abs=tolerance(built.truth_mm)
    )
    k = result.slice_index
    dz = (k - built.centre_index[0]) * spec.slice_spacing_mm
    whole_truth = 32.0 * math.sqrt(1.0 - (dz / 12.0) ** 2)
    assert result.whole_diameter_mm == pytest.approx(
        whole_truth, abs=tolerance(whole_truth)
    )
    assert result.whole_diameter_mm > result.diameter_mm + 3.0
    assert result.necrotic_outline_mm


def test_the_perpendicular_of_an_ellipse_is_its_minor_axis() -> None:
    spec = replace(BASE, semi_axes_mm=(18.0, 10.0, 12.0), noise=8.0)
    built, result = _measure(spec)
    k = result.slice_index
    dz = (k - built.centre_index[0]) * spec.slice_spacing_mm
    minor = 20.0 * math.sqrt(1.0 - (dz / 12.0) ** 2)
    assert result.viable_perpendicular_mm == pytest.approx(minor, abs=1.5)
    assert result.whole_diameter_mm == pytest.approx(result.diameter_mm, abs=0.01)


def test_thick_slices_and_low_contrast_are_warned() -> None:
    spec = replace(BASE, slice_spacing_mm=6.0, contrast=45.0, noise=12.0)
    _, result = _measure(spec)
    assert any(w.startswith("thick slices (6.0 mm)") for w in result.warnings)
    assert any(w.startswith("low contrast to the liver") for w in result.warnings)
    _, plain = _measure(replace(BASE, noise=8.0))
    assert plain.warnings == ()


@pytest.mark.parametrize("modality", ["CT", "MR"])
def test_a_lesion_cut_by_the_liver_edge_is_warned(
    modality: Literal["CT", "MR"],
) -> None:
    # The fat outside the liver's edge cuts into the lesion (edge at 0.85 of its reach).
    spec = replace(
        BASE,
        liver_edge=True,
        edge_angle=0.4,
        edge_fraction=0.85,
        noise=12.0,
        modality=modality,
    )
    _, result = _measure(spec)
    assert EDGE_WARNING in result.warnings


def test_a_lesion_far_from_the_liver_edge_is_not_warned() -> None:
    # The same lesion with the edge about 12 mm beyond it, and with no edge at all.
    far = replace(BASE, liver_edge=True, edge_angle=0.4, edge_fraction=2.0)
    for spec in (far, replace(BASE, noise=12.0)):
        _, result = _measure(spec)
        assert EDGE_WARNING not in result.warnings
