"""The two classes of lesions touching a vessel that missed in round 6 (issue 16).

* **A wide vessel running head to foot beside a large lesion** touches it only over
  its widest slices and runs apart from it above and below, where the lesion tapers.
  The lesion was followed without the vessel's separate cross-sections, so no track
  was found, and the vessel's cross-section stayed on the widest slices as a bud: the
  diameter read 6-9 mm long. Now the separate cross-sections beside the lesion give
  the vessel's line and its cross-section, removed where it meets the lesion.
* **A small lesion beside a straight in-plane vessel as wide as its viable part**
  holds no disk wider than the vessel, so no opening separates them, and the region
  ran along the vessel to the image edge: refused. Now the vessel is found from the
  straight band running out of the window and cut off along its axis.

The specs below are those of development phantoms (seeds 7 and 1 of
``benchmarks/measure_accuracy.py``, ``held_out_vessel_spec``), written out.
"""

import math
from dataclasses import replace

import numpy as np
import pytest

from mrecist_reader.imaging.measure import (
    NoEnhancingLesion,
    ViableMeasurement,
    longest_viable_diameter,
)
from mrecist_reader.imaging.measure.outline import VESSEL_WARNING
from tests.imaging.test_measure import phantom, tolerance
from tests.imaging.test_measure_phantom import (
    PhantomSpec,
    build_phantom,
    click_index,
    held_out_vessel_spec,
)

WIDE_TRACK = PhantomSpec(
    semi_axes_mm=(42.2, 33.0, 27.7),
    angle=2.13,
    vessel="along_z",
    vessel_radius_mm=4.85,
    vessel_angle=2.60,
    vessel_gap_mm=-0.27,
    vessel_tilt=0.25,
    vessel_ratio=1.3,
    pixel_spacing_mm=(0.65, 0.65),
    slice_spacing_mm=2.0,
    liver=91.0,
    contrast=137.0,
    noise=17.6,
    slab_margin_mm=30.0,
    seed=7563,
)

SMALL_BESIDE_BAND = PhantomSpec(
    semi_axes_mm=(6.33, 5.79, 5.77),
    angle=0.67,
    necrosis="half",
    half_angle=5.90,
    half_offset=0.02,
    necrosis_drop=40.3,
    vessel="in_plane",
    vessel_radius_mm=3.03,
    vessel_angle=1.30,
    vessel_gap_mm=0.22,
    vessel_ratio=0.99,
    pixel_spacing_mm=(0.76, 0.76),
    slice_spacing_mm=1.2,
    liver=78.8,
    contrast=107.5,
    noise=9.2,
    slab_margin_mm=30.0,
    seed=1554,
)


@pytest.mark.parametrize(
    "spec",
    [
        WIDE_TRACK,
        replace(WIDE_TRACK, slice_spacing_mm=3.0, vessel_tilt=-0.3),
        replace(WIDE_TRACK, modality="MR", vessel_angle=0.4, vessel_ratio=0.9),
    ],
)
def test_a_wide_vessel_beside_a_large_lesion_is_left_out_where_it_touches(
    spec: PhantomSpec,
) -> None:
    built = phantom(spec)
    result = longest_viable_diameter(built.volume, built.lesion_point_mm(0.2, -0.3))
    assert result.diameter_mm == pytest.approx(
        built.truth_mm, abs=tolerance(built.truth_mm)
    )
    assert VESSEL_WARNING in result.warnings


@pytest.mark.parametrize(
    "spec",
    [
        SMALL_BESIDE_BAND,
        replace(SMALL_BESIDE_BAND, modality="MR", vessel_ratio=1.45),
        replace(
            SMALL_BESIDE_BAND,
            necrosis="none",
            semi_axes_mm=(6.2, 5.0, 5.5),
            vessel_radius_mm=4.2,
            vessel_gap_mm=-0.9,
        ),
    ],
)
def test_a_small_lesion_beside_an_in_plane_vessel_as_wide_as_it_is_measured(
    spec: PhantomSpec,
) -> None:
    built = phantom(spec)
    # On the viable side of a necrotic half, else at the centre.
    click = (
        built.lesion_point_mm(0.55 * 0.8, 0.55 * -0.6)
        if spec.necrosis == "half"
        else built.centre_mm
    )
    result = longest_viable_diameter(built.volume, click)
    assert result.diameter_mm == pytest.approx(
        built.truth_mm, abs=tolerance(built.truth_mm)
    )
    assert VESSEL_WARNING in result.warnings


def test_a_click_on_that_in_plane_vessel_itself_is_still_refused() -> None:
    built = phantom(replace(SMALL_BESIDE_BAND, necrosis="none"))
    spec = built.spec
    # 20 mm along the vessel from where it touches the lesion, on its axis.
    a, b, _ = spec.semi_axes_mm
    nx, ny = math.cos(spec.vessel_angle), math.sin(spec.vessel_angle)
    reach = math.hypot(a * nx, b * ny) + spec.vessel_radius_mm + spec.vessel_gap_mm
    along = (-ny, nx)
    x, y = reach * nx + 20.0 * along[0], reach * ny + 20.0 * along[1]
    point = built.lesion_point_mm(x / a, y / b)
    with pytest.raises(NoEnhancingLesion):
        longest_viable_diameter(built.volume, point)


# A vessel a little less bright than the lesion (0.85 of its contrast), in the plane,
# beside a lesion of 17-25 mm (development phantoms 19#93, 3#38, 11#58, 3#7 of the
# benchmark's held-out draw; seeds used for development only). Where it touches
# the lesion it is cut off, but it filled the ring around the lesion that gives the
# liver's level, and the vessel was taken for the liver ("only 1 % of the ring ...
# one background tissue"); where it passes just apart from the lesion, it filled a
# fifth of that ring with the lesion's own signal and was taken for liver of similar
# signal. The vessels cut off the region are now left out of that ring, and tissue of
# the lesion's signal counts against it only when joined to it.
@pytest.mark.parametrize(("seed", "index"), [(19, 93), (3, 38), (11, 58), (3, 7)])
def test_a_lesion_beside_a_vessel_a_little_less_bright_is_measured(
    seed: int, index: int
) -> None:
    # As benchmarks/measure_accuracy.py draws held-out phantom ``index`` of ``seed``.
    rng = np.random.default_rng([seed, 16, index])
    built = build_phantom(held_out_vessel_spec(rng, seed * 1000 + 500 + index))
    click = built.patient(click_index(built, rng))
    result = longest_viable_diameter(built.volume, click)
    assert result.diameter_mm == pytest.approx(
        built.truth_mm, abs=tolerance(built.truth_mm)
    )


def held_out_development_phantom(seed: int, index: int) -> ViableMeasurement:
    """Measure development phantom ``seed#index`` of the benchmark's held-out draw.

    Asserts the proposal is within max(2 mm, 5 %) of the truth; returns the result.
    """
    rng = np.random.default_rng([seed, 16, index])
    built = build_phantom(held_out_vessel_spec(rng, seed * 1000 + 500 + index))
    result = longest_viable_diameter(
        built.volume, built.patient(click_index(built, rng))
    )
    assert result.diameter_mm == pytest.approx(
        built.truth_mm, abs=tolerance(built.truth_mm)
    )
    return result


# Development phantoms of the benchmark's held-out draw that read 4-9 mm long beside a
# vessel 9.6-10 mm wide running head to foot (3#43 and 13#72 on 3 mm slices, where
# the vessel is apart from the lesion on only two or three slices).
@pytest.mark.parametrize(
    ("seed", "index"), [(7, 63), (2026, 78), (3, 8), (3, 43), (3, 46), (13, 72)]
)
def test_held_out_lesions_beside_the_widest_vessels_are_measured_without_them(
    seed: int, index: int
) -> None:
    result = held_out_development_phantom(seed, index)
    assert VESSEL_WARNING in result.warnings


def test_the_strand_of_a_thin_vessel_joined_to_a_large_lesion_is_not_measured() -> None:
    # Development phantom 17#32: a 4.4 mm vessel in the plane touching a 70 mm lesion,
    # on 5 mm slices. On the slice of the longest diameter the vessel, off its axis, is
    # a faint line, and a piece of it two pixels wide stayed joined to the lesion:
    # 74.0 mm instead of 70.3.
    held_out_development_phantom(17, 32)


# Development phantoms 23#50, 37#56 and 37#64: a lesion with a necrotic half beside a
# vessel 8-10 mm wide running head to foot read 3-5 mm short. On some slices the
# vessel's round cross-section, with a sliver of the lesion, was taken for a band in
# the slice plane, and the strip along its axis cut through the lesion's viable half.
# A band ending inside the window must now be at least twice as long as it is wide.
@pytest.mark.parametrize(("seed", "index"), [(23, 50), (37, 56), (37, 64)])
def test_a_round_vessel_beside_a_lesion_is_not_cut_off_as_a_band_through_it(
    seed: int, index: int
) -> None:
    held_out_development_phantom(seed, index)
