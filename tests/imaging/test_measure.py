"""Semi-automatic longest viable diameter on phantoms whose exact answer is known."""

import math
from dataclasses import replace
from functools import cache
from typing import Literal

import numpy as np
import numpy.typing as npt
import pytest
from scipy import ndimage

from mrecist_reader.core.errors import MrecistError
from mrecist_reader.imaging.geometry import patient_to_index
from mrecist_reader.imaging.measure import (
    MeasureOptions,
    NoEnhancingLesion,
    ViableMeasurement,
    longest_viable_diameter,
    median_3x3,
)
from mrecist_reader.imaging.volume import Volume
from tests.imaging.test_measure_phantom import (
    Phantom,
    PhantomSpec,
    VesselKind,
    anatomy_grid,
    build_phantom,
    click_index,
    paint_volume,
    random_spec,
)

FloatArray = npt.NDArray[np.float64]


def tolerance(truth_mm: float) -> float:
    """Return the accuracy the tool promises: max(2 mm, 5 %) of the truth."""
    return max(2.0, 0.05 * truth_mm)


@cache
def phantom(spec: PhantomSpec) -> Phantom:
    return build_phantom(spec)


BASE = PhantomSpec(semi_axes_mm=(14.0, 9.0, 11.0), angle=0.5, margin_mm=25.0)


def measure_centre(spec: PhantomSpec) -> tuple[Phantom, ViableMeasurement]:
    built = phantom(spec)
    return built, longest_viable_diameter(built.volume, built.centre_mm)


# ---------------------------------------------------------------- accuracy


@pytest.mark.parametrize("noise", [0.0, 8.0, 25.0])
def test_viable_diameter_of_a_homogeneous_lesion_matches_its_major_axis(
    noise: float,
) -> None:
    built, result = measure_centre(replace(BASE, noise=noise))
    assert result.diameter_mm == pytest.approx(built.truth_mm, abs=1.0)


def test_anisotropic_pixels_and_a_rotated_ellipse_are_measured_in_millimetres() -> None:
    spec = replace(BASE, angle=1.1, pixel_spacing_mm=(0.6, 0.95), noise=15.0)
    built, result = measure_centre(spec)
    assert result.diameter_mm == pytest.approx(built.truth_mm, abs=1.0)


@pytest.mark.parametrize("slice_mm", [1.0, 5.0])
def test_thin_and_thick_slices_find_the_slice_of_the_longest_diameter(
    slice_mm: float,
) -> None:
    built, result = measure_centre(replace(BASE, slice_spacing_mm=slice_mm))
    assert result.diameter_mm == pytest.approx(built.truth_mm, abs=1.0)
    assert result.slice_index in built.truth_slices


def test_a_click_off_the_best_slice_still_measures_on_the_best_slice() -> None:
    built = phantom(replace(BASE, slice_spacing_mm=2.0))
    k, r, c = built.centre_index
    result = longest_viable_diameter(built.volume, built.patient((k + 3, r, c)))
    assert result.slice_index in built.truth_slices


def test_mr_intensities_need_no_hounsfield_units() -> None:
    built, result = measure_centre(replace(BASE, modality="MR"))
    assert built.volume.array.min() >= 0
    assert result.diameter_mm == pytest.approx(built.truth_mm, abs=1.0)


def test_low_contrast_lesion_in_strong_noise_is_still_found() -> None:
    spec = replace(BASE, contrast=70.0, noise=25.0, seed=3)
    built, result = measure_centre(spec)
    assert result.diameter_mm == pytest.approx(
        built.truth_mm, abs=tolerance(built.truth_mm)
    )


@pytest.mark.parametrize("vessel", ["along_z", "in_plane"])
def test_a_bright_vessel_touching_the_lesion_is_not_measured_with_it(
    vessel: VesselKind,
) -> None:
    spec = replace(BASE, vessel=vessel, vessel_angle=0.9)
    built, result = measure_centre(spec)
    assert result.diameter_mm == pytest.approx(
        built.truth_mm, abs=tolerance(built.truth_mm)
    )


def test_a_lesion_at_the_liver_edge_with_fat_outside_is_measured() -> None:
    spec = replace(BASE, liver_edge=True, edge_angle=0.4, noise=20.0)
    built, result = measure_centre(spec)
    assert result.diameter_mm == pytest.approx(
        built.truth_mm, abs=tolerance(built.truth_mm)
    )


# ---------------------------------------------------------------- necrosis

HALF = replace(BASE, semi_axes_mm=(16.0, 12.0, 12.0), necrosis="half", half_angle=0.0)
CORE = replace(BASE, semi_axes_mm=(16.0, 12.0, 12.0), necrosis="core")


def test_a_necrotic_half_leaves_the_viable_half_s_feret_diameter() -> None:
    built = phantom(HALF)
    result = longest_viable_diameter(built.volume, built.lesion_point_mm(0.5, 0.2))
    assert result.diameter_mm == pytest.approx(built.truth_mm, abs=1.0)
    assert built.truth_mm == pytest.approx(2 * HALF.semi_axes_mm[1], abs=0.5)  # the cut


def test_a_click_on_the_necrotic_half_measures_the_viable_half_beside_it() -> None:
    built = phantom(HALF)
    on_viable = longest_viable_diameter(built.volume, built.lesion_point_mm(0.5, 0.2))
    on_necrosis = longest_viable_diameter(
        built.volume, built.lesion_point_mm(-0.5, -0.2)
    )
    assert on_necrosis.diameter_mm == pytest.approx(on_viable.diameter_mm, abs=0.01)


def test_a_click_on_a_necrotic_core_measures_the_enclosing_rim() -> None:
    built = phantom(CORE)
    result = longest_viable_diameter(built.volume, built.centre_mm)
    assert result.diameter_mm == pytest.approx(built.truth_mm, abs=1.0)


def test_a_caliper_across_a_necrotic_core_reports_the_length_it_crosses() -> None:
    built = phantom(CORE)
    result = longest_viable_diameter(built.volume, built.lesion_point_mm(0.85, 0.0))
    core_mm = 2 * CORE.necrosis_fraction * CORE.semi_axes_mm[0]
    assert result.non_viable_crossed_mm == pytest.approx(core_mm, abs=2.5)


def test_the_viable_area_leaves_out_the_necrotic_core() -> None:
    built = phantom(CORE)
    result = longest_viable_diameter(built.volume, built.centre_mm)
    a, b, c = CORE.semi_axes_mm
    dz = (result.slice_index - built.centre_index[0]) * CORE.slice_spacing_mm
    f = CORE.necrosis_fraction
    scale2 = 1 - (dz / c) ** 2
    core2 = max(0.0, f**2 - (dz / c) ** 2)
    expected = math.pi * a * b * (scale2 - core2)
    assert result.viable_area_mm2 == pytest.approx(expected, rel=0.08)


# ---------------------------------------------------------------- no lesion


def test_a_click_in_plain_liver_finds_no_enhancing_lesion() -> None:
    built = phantom(BASE)
    with pytest.raises(NoEnhancingLesion, match="no enhancing lesion at this point"):
        longest_viable_diameter(built.volume, built.lesion_point_mm(2.2, 0.0))


def test_a_click_outside_the_body_finds_no_enhancing_lesion() -> None:
    built = phantom(BASE)
    k = built.centre_index[0]
    with pytest.raises(NoEnhancingLesion, match="no enhancing lesion at this point"):
        longest_viable_diameter(built.volume, built.patient((k, 5.0, 30.0)))


def test_a_click_in_the_fat_outside_the_liver_finds_no_enhancing_lesion() -> None:
    built = phantom(BASE)
    k = built.centre_index[0]
    row = 20.0 / BASE.pixel_spacing_mm[0]
    with pytest.raises(NoEnhancingLesion, match="no enhancing lesion at this point"):
        longest_viable_diameter(built.volume, built.patient((k, row, 30.0)))


def test_a_point_outside_the_volume_finds_no_enhancing_lesion() -> None:
    built = phantom(BASE)
    x, y, z = built.centre_mm
    with pytest.raises(NoEnhancingLesion, match="outside the series' volume"):
        longest_viable_diameter(built.volume, (x, y, z + 500.0))


def test_no_enhancing_lesion_is_an_error_the_application_reports() -> None:
    assert issubclass(NoEnhancingLesion, MrecistError)
    assert str(NoEnhancingLesion()) == "no enhancing lesion at this point"


def test_a_flat_image_has_no_enhancing_lesion() -> None:
    built = phantom(BASE)
    flat = type(built.volume)(
        np.full(built.volume.shape, 100, dtype=np.int16),
        built.volume.affine,
        built.volume.sop_instance_uids,
        built.volume.series,
    )
    with pytest.raises(NoEnhancingLesion):
        longest_viable_diameter(flat, built.centre_mm)


# ---------------------------------------------------------------- not a lesion: anatomy
# Volumes of 1 mm pixels and 2.5 mm slices painted with one structure, no lesion. Values:
# CT in HU; MR in arbitrary units (liver 450, fat-suppressed fat 100, bright 900).


def refusal(volume: Volume, point: tuple[float, ...]) -> str:
    """Return why a click is refused (the message starts with the shared prefix)."""
    with pytest.raises(NoEnhancingLesion) as refused:
        longest_viable_diameter(volume, (point[0], point[1], point[2]))
    reason = refused.value.reason
    prefix = NoEnhancingLesion.MESSAGE
    assert str(refused.value) == (f"{prefix}: {reason}" if reason else prefix)
    return reason


@pytest.mark.parametrize(
    ("modality", "liver", "bright"), [("CT", 90, 230), ("MR", 450, 900)]
)
def test_a_vessel_cross_section_alone_is_not_a_lesion(
    modality: Literal["CT", "MR"], liver: float, bright: float
) -> None:
    _z, y, x = anatomy_grid()
    vessel = (x - 10.0) ** 2 + (y + 5.0) ** 2 <= 4.0**2  # 8 mm across, along z
    volume = paint_volume(modality, liver, [(vessel, bright)])
    assert "vessel" in refusal(volume, (10.0, -5.0, 0.0))


@pytest.mark.parametrize(
    ("modality", "liver", "bright"), [("CT", 90, 230), ("MR", 450, 900)]
)
def test_a_vessel_segment_that_ends_abruptly_is_not_a_lesion(
    modality: Literal["CT", "MR"], liver: float, bright: float
) -> None:
    z, y, x = anatomy_grid()
    segment = ((x - 10.0) ** 2 + (y + 5.0) ** 2 <= 9.0**2) & (np.abs(z) <= 14.0)
    volume = paint_volume(modality, liver, [(segment, bright)])
    assert "vessel" in refusal(volume, (10.0, -5.0, 0.0))


def test_a_vessel_in_the_slice_plane_is_not_a_lesion() -> None:
    z, y, x = anatomy_grid()
    band = (np.abs(y + 5.0) <= 4.0) & (np.abs(x) <= 45.0) & (np.abs(z) <= 3.0)
    volume = paint_volume("CT", 90.0, [(band, 230.0)])
    assert "vessel" in refusal(volume, (0.0, -5.0, 0.0))


def test_a_bone_like_block_is_not_a_lesion() -> None:
    z, y, x = anatomy_grid()
    block = (np.abs(x) <= 15) & (np.abs(y) <= 15) & (np.abs(z) <= 15)
    volume = paint_volume("CT", 90.0, [(block, 700.0)])
    assert "bone or calcification" in refusal(volume, (0.0, 0.0, 0.0))


@pytest.mark.parametrize(
    ("modality", "cortex", "marrow"), [("CT", 700, 200), ("MR", 30, 250)]
)
def test_marrow_inside_a_bone_cortex_is_not_a_lesion(
    modality: Literal["CT", "MR"], cortex: float, marrow: float
) -> None:
    # A vertebral body: marrow brighter than the surrounding soft tissue (CT 60 HU, MR
    # 150) and than fat, inside a 3 mm cortex that is brighter (CT) or darker (MR).
    _z, y, x = anatomy_grid()
    outer = (x / 22.0) ** 2 + (y / 17.0) ** 2 <= 1.0
    inner = (x / 19.0) ** 2 + (y / 14.0) ** 2 <= 1.0
    fat = -100.0 if modality == "CT" else 60.0
    soft = 60.0 if modality == "CT" else 150.0
    ring = ((x / 40.0) ** 2 + (y / 35.0) ** 2 <= 1.0) & ~outer
    volume = paint_volume(
        modality, fat, [(ring, soft), (outer, cortex), (inner, marrow)]
    )
    refusal(volume, (0.0, 0.0, 0.0))


def test_a_large_homogeneous_organ_in_fat_is_not_a_lesion() -> None:
    # A spleen-like organ 100 x 60 x 90 mm at 120 HU surrounded by fat (CT): its ring
    # is fat, not liver parenchyma.
    z, y, x = anatomy_grid()
    organ = (x / 50.0) ** 2 + (y / 30.0) ** 2 + (z / 45.0) ** 2 <= 1.0
    volume = paint_volume("CT", -100.0, [(organ, 120.0)])
    assert "liver parenchyma" in refusal(volume, (10.0, 5.0, 0.0))


@pytest.mark.parametrize(
    ("modality", "liver", "outside"), [("CT", 90, 50), ("MR", 450, 250)]
)
def test_plain_liver_is_refused_even_without_the_size_limit(
    modality: Literal["CT", "MR"], liver: float, outside: float
) -> None:
    # A small liver (150 x 120 mm, running through every slice) brighter than the muscle
    # around it; the size limit alone would let a 400 mm "lesion" through.
    _z, y, x = anatomy_grid()
    organ = (x / 75.0) ** 2 + (y / 60.0) ** 2 <= 1.0
    volume = paint_volume(modality, outside, [(organ, liver)])
    with pytest.raises(NoEnhancingLesion, match="no enhancing lesion at this point"):
        longest_viable_diameter(
            volume, (-20.0, 10.0, 0.0), options=MeasureOptions(max_diameter_mm=400.0)
        )


# ---------------------------------------------------------------- the caliper itself


def test_end_points_are_in_patient_mm_on_the_reported_slice() -> None:
    built, result = measure_centre(BASE)
    ends = patient_to_index(built.volume.affine, np.array([result.p1_mm, result.p2_mm]))
    assert ends[:, 0] == pytest.approx([result.slice_index] * 2, abs=1e-6)
    length = math.dist(result.p1_mm, result.p2_mm)
    assert length == pytest.approx(result.diameter_mm, abs=1e-6)
    assert result.sop_instance_uid == built.volume.sop_instance_uids[result.slice_index]


def test_end_points_lie_at_the_ends_of_the_major_axis() -> None:
    built, result = measure_centre(BASE)
    k = result.slice_index
    dz = (k - built.centre_index[0]) * BASE.slice_spacing_mm
    scale = math.sqrt(1 - (dz / BASE.semi_axes_mm[2]) ** 2)
    tips = [built.lesion_point_mm(s * scale, 0.0) for s in (1.0, -1.0)]
    tips = [(x, y, result.p1_mm[2]) for x, y, _ in tips]
    found = sorted([result.p1_mm, result.p2_mm], key=lambda p: math.dist(p, tips[0]))
    assert math.dist(found[0], tips[0]) < 1.5
    assert math.dist(found[1], tips[1]) < 1.5


def test_an_oblique_image_orientation_gives_the_same_diameter() -> None:
    spec = replace(BASE, seed=5)
    cos, sin = math.cos(0.4), math.sin(0.4)
    tilted = build_phantom(spec, orientation=(1.0, 0.0, 0.0, 0.0, cos, sin))
    axial = phantom(spec)
    result = longest_viable_diameter(tilted.volume, tilted.centre_mm)
    reference = longest_viable_diameter(axial.volume, axial.centre_mm)
    assert result.diameter_mm == pytest.approx(reference.diameter_mm, abs=1e-6)
    assert result.p1_mm != pytest.approx(reference.p1_mm, abs=1.0)


def test_the_same_click_gives_the_same_caliper_every_time() -> None:
    built, first = measure_centre(BASE)
    assert longest_viable_diameter(built.volume, built.centre_mm) == first


def test_a_lesion_larger_than_the_allowed_maximum_is_not_a_focal_lesion() -> None:
    built = phantom(BASE)
    with pytest.raises(NoEnhancingLesion, match="larger than 15 mm"):
        longest_viable_diameter(
            built.volume,
            built.centre_mm,
            options=MeasureOptions(max_diameter_mm=15.0, seed_window_mm=20.0),
        )


def test_median_3x3_equals_scipy_median_filter() -> None:
    image = np.random.default_rng(0).normal(100.0, 20.0, (37, 41)).astype(np.float32)
    expected = ndimage.median_filter(image, size=3, mode="nearest")
    assert np.array_equal(median_3x3(image), expected)


# ---------------------------------------------------------------- random phantoms


@pytest.mark.slow
def test_random_phantoms_over_the_whole_range_meet_the_accuracy_targets() -> None:
    # The full 100-phantom study is benchmarks/measure_accuracy.py (docs/accuracy.md).
    errors = []
    for i in range(12):
        rng = np.random.default_rng([99, i])
        spec = replace(random_spec(rng, 99_000 + i), supersample=2)
        built = build_phantom(spec)
        click = built.patient(click_index(built, rng))
        result = longest_viable_diameter(built.volume, click)
        errors.append((abs(result.diameter_mm - built.truth_mm), built.truth_mm))
    within = [error <= tolerance(truth) for error, truth in errors]
    assert float(np.median([e for e, _ in errors])) <= 1.0
    assert sum(within) >= 11


@pytest.mark.parametrize(
    ("liver_hu", "contrast_hu"), [(60.0, 70.0), (110.0, 200.0), (150.0, 200.0)]
)
def test_ct_lesions_over_the_whole_supported_contrast_range_are_measured(
    liver_hu: float, contrast_hu: float
) -> None:
    # The range is 70-200 HU over the liver: up to ~350 HU must not be taken
    # for an opacified vessel or bone by the CT plausibility checks.
    built, result = measure_centre(
        replace(BASE, liver=liver_hu, contrast=contrast_hu, noise=20.0)
    )
    assert abs(result.diameter_mm - built.truth_mm) <= tolerance(built.truth_mm)
