"""A lesion touching an enhancing vessel is separated from it and measured (issue 16).

The vessels here are as bright as the lesion (or nearly), so that intensity alone cannot
leave them out: before issue 16 these clicks were refused ("a vessel, not a focal
lesion") or measured with the vessel. The held-out phantoms are drawn by
``held_out_vessel_spec``, which the method was not tuned on.
"""

import math
from dataclasses import replace

import numpy as np
import pytest

from mrecist_reader.imaging.geometry import patient_to_index
from mrecist_reader.imaging.measure import NoEnhancingLesion, longest_viable_diameter
from mrecist_reader.imaging.measure.outline import VESSEL_WARNING
from tests.imaging.test_measure import phantom, tolerance
from tests.imaging.test_measure_phantom import (
    PhantomSpec,
    build_phantom,
    click_index,
    held_out_vessel_spec,
)

LESION = PhantomSpec(
    semi_axes_mm=(15.0, 11.0, 12.0),
    angle=0.5,
    vessel_angle=0.9,
    vessel_radius_mm=3.0,
    vessel_ratio=1.0,  # the vessel is exactly as bright as the lesion
    vessel_gap_mm=-0.5,  # and dents it by half a millimetre
    margin_mm=30.0,
    slab_margin_mm=30.0,
    slice_spacing_mm=2.5,
)


@pytest.mark.parametrize(
    ("vessel", "tilt", "modality"),
    [
        ("along_z", 0.0, "CT"),
        ("along_z", 0.4, "CT"),
        ("along_z", 0.0, "MR"),
        ("in_plane", 0.0, "CT"),
        ("in_plane", 0.0, "MR"),
    ],
)
def test_a_lesion_touching_a_vessel_as_bright_as_itself_is_measured_without_it(
    vessel: str, tilt: float, modality: str
) -> None:
    spec = replace(LESION, vessel=vessel, vessel_tilt=tilt, modality=modality)  # type: ignore[arg-type]
    built = phantom(spec)
    result = longest_viable_diameter(built.volume, built.centre_mm)
    assert result.diameter_mm == pytest.approx(
        built.truth_mm, abs=tolerance(built.truth_mm)
    )
    assert VESSEL_WARNING in result.warnings


def test_a_lesion_touching_a_vessel_clicked_away_from_its_centre_is_measured() -> None:
    built = phantom(replace(LESION, vessel="along_z", vessel_ratio=1.2))
    click = built.lesion_point_mm(-0.5, 0.3)
    result = longest_viable_diameter(built.volume, click)
    assert result.diameter_mm == pytest.approx(
        built.truth_mm, abs=tolerance(built.truth_mm)
    )


def test_the_outline_of_a_lesion_touching_a_vessel_leaves_the_vessel_out() -> None:
    spec = replace(LESION, vessel="along_z", noise=8.0)
    built = phantom(spec)
    result = longest_viable_diameter(built.volume, built.centre_mm)
    a, b, c = spec.semi_axes_mm
    k = result.slice_index
    _, r0, c0 = built.centre_index
    sr, sc = spec.pixel_spacing_mm
    dz = (k - built.centre_index[0]) * spec.slice_spacing_mm
    scale = math.sqrt(max(0.0, 1.0 - (dz / c) ** 2))
    for contour in result.viable_outline_mm:
        index = patient_to_index(built.volume.affine, np.asarray(contour))
        du = (index[:, 1] - r0) * sr
        dv = (index[:, 2] - c0) * sc
        x = du * math.cos(spec.angle) + dv * math.sin(spec.angle)
        y = -du * math.sin(spec.angle) + dv * math.cos(spec.angle)
        # Every outline point lies within 1.5 mm of the lesion's ellipse on that slice.
        radius = np.hypot(x / (a * scale), y / (b * scale))
        assert radius.max() <= 1.0 + 1.5 / (b * scale)


def test_a_vessel_alone_as_bright_as_a_lesion_is_still_refused() -> None:
    built = phantom(replace(LESION, vessel="along_z"))
    spec = built.spec
    # A click on the vessel, three slices above the lesion's top.
    k = int(built.centre_index[0] + (spec.semi_axes_mm[2] + 8.0) / 2.5)
    axis = spec.semi_axes_mm[0], spec.semi_axes_mm[1]
    nx, ny = math.cos(spec.vessel_angle), math.sin(spec.vessel_angle)
    reach = math.hypot(axis[0] * nx, axis[1] * ny) + spec.vessel_radius_mm - 0.5
    x = reach * nx
    y = reach * ny
    du = x * math.cos(spec.angle) - y * math.sin(spec.angle)
    dv = x * math.sin(spec.angle) + y * math.cos(spec.angle)
    _, r0, c0 = built.centre_index
    sr, sc = spec.pixel_spacing_mm
    click = built.patient((float(k), r0 + du / sr, c0 + dv / sc))
    with pytest.raises(NoEnhancingLesion, match="vessel"):
        longest_viable_diameter(built.volume, click)


@pytest.mark.slow
def test_held_out_phantoms_touching_vessels_reach_the_accuracy_goal() -> None:
    """Twenty held-out phantoms: at least 18 within max(2 mm, 5 %) (a refusal is a miss).

    Before issue 16, 3 of these 20 were within (the others refused as vessels, or
    measured with the vessel).
    """
    within = 0
    for i in range(20):
        rng = np.random.default_rng([16, 16, i])
        built = build_phantom(held_out_vessel_spec(rng, 16_000 + i))
        click = built.patient(click_index(built, rng))
        try:
            measured = longest_viable_diameter(built.volume, click).diameter_mm
        except NoEnhancingLesion:
            measured = 0.0
        within += abs(measured - built.truth_mm) <= tolerance(built.truth_mm)
    assert within >= 18


# Held-out phantoms (benchmark seed 1) of the classes that missed before: a vessel
# 1.45-1.48 times the lesion's contrast (its noisy pixels straddled the old upper
# threshold, so fragments of it were measured with the lesion, 5-8 mm too long), in
# the plane (#13, #71) or head to foot (#75); a wide tilted track on 3 mm slices whose
# plane next to the lesion holds a sliver of its cap, taken for the vessel's
# cross-section (#38, 6.9 mm too long); a track nearly as bright as the lesion around
# a necrotic core (#50).
@pytest.mark.parametrize("index", [13, 71, 75, 38, 50])
def test_held_out_classes_that_kept_part_of_the_vessel_are_measured_without_it(
    index: int,
) -> None:
    rng = np.random.default_rng([1, 16, index])
    built = build_phantom(held_out_vessel_spec(rng, 1000 + 500 + index))
    result = longest_viable_diameter(
        built.volume, built.patient(click_index(built, rng))
    )
    assert result.diameter_mm == pytest.approx(
        built.truth_mm, abs=tolerance(built.truth_mm)
    )
    assert VESSEL_WARNING in result.warnings


@pytest.mark.parametrize(("radius", "gap"), [(4.5, -1.0), (3.0, 0.2)])
def test_a_small_lesion_beside_a_straight_vessel_nearly_as_wide_is_measured(
    radius: float, gap: float
) -> None:
    # The lesion holds a disk barely wider than the vessel: it used to be refused
    # ("reaches the edge of the image") because the vessel runs on to the image edge.
    spec = replace(
        LESION,
        vessel="in_plane",
        vessel_radius_mm=radius,
        vessel_gap_mm=gap,
        vessel_ratio=0.95,
        semi_axes_mm=(9.0, 7.4, 7.6),
        slice_spacing_mm=2.0,
    )
    built = phantom(spec)
    result = longest_viable_diameter(built.volume, built.centre_mm)
    assert result.diameter_mm == pytest.approx(
        built.truth_mm, abs=tolerance(built.truth_mm)
    )
    assert VESSEL_WARNING in result.warnings
