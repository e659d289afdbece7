"""Is it a lesion? The checks that refuse a click, with the reason.

Brightness against the surroundings, focality, shape and, on CT, Hounsfield units
(:class:`NoEnhancingLesion`).
"""

import math

import numpy as np
from scipy import ndimage

from mrecist_reader.imaging.measure.feret import (
    _min_width,
    _pixel_feret,
)
from mrecist_reader.imaging.measure.model import (
    _CROSS,
    FloatImage,
    Mask,
    MeasureOptions,
    NoEnhancingLesion,
    _Levels,
    _Plane,
    _Window,
    _WindowTooSmall,
)
from mrecist_reader.imaging.measure.windows import (
    _bounding_box,
    _noise_sigma,
    _seed_value,
    _window_around,
)
from mrecist_reader.imaging.volume import Volume

# CT plausibility (Hounsfield units, after the median filter); see the module docstring.
CT_DENSE_HU = 500.0  # bone cortex, calcification, lipiodol: never viable tumour
CT_FAT_HU = -100.0  # fat, lung and air: never viable tumour
CT_VIABLE_HU = (50.0, 450.0)  # plausible median of an arterial-phase viable HCC
CT_BACKGROUND_HU = (-30.0, 200.0)  # plausible liver parenchyma, steatotic to enhanced
CT_SOFT_TISSUE_HU = -50.0  # darker than this: fat, lung or air, not liver
# A click refused for its size is re-explained by the tissue this far around it (mm).
SURROUNDINGS_MM = (5.0, 25.0)
DOMINANT_MM = 65.0  # ... and by the most common tissue this close to it
CT_LIVER_MAX_HU = 150.0  # brightest arterial-phase liver parenchyma (strong bolus)


def _check_extent(
    region: Mask, window: _Window, spacing: tuple[float, float], opts: MeasureOptions
) -> None:
    r0, r1, c0, c1 = _bounding_box(region)
    n_rows, n_columns = region.shape
    if max((r1 - r0) * spacing[0], (c1 - c0) * spacing[1]) > opts.max_diameter_mm:
        raise _WindowTooSmall
    touches = (r0 == 0, r1 == n_rows, c0 == 0, c1 == n_columns)
    if any(t and edge for t, edge in zip(touches, window.at_image_edge, strict=True)):
        raise NoEnhancingLesion(
            "the region at this point reaches the edge of the image"
        )
    if any(touches):
        raise _WindowTooSmall


def _ring(
    region: Mask, spacing: tuple[float, float], inner_mm: float, outer_mm: float
) -> Mask:
    """Return the pixels between ``inner_mm`` and ``outer_mm`` outside ``region``."""
    r0, r1, c0, c1 = _bounding_box(region)
    pad_r, pad_c = (
        math.ceil(outer_mm / spacing[0]) + 1,
        math.ceil(outer_mm / spacing[1]) + 1,
    )
    r0, c0 = max(0, r0 - pad_r), max(0, c0 - pad_c)
    r1, c1 = min(region.shape[0], r1 + pad_r), min(region.shape[1], c1 + pad_c)
    distance = ndimage.distance_transform_edt(~region[r0:r1, c0:c1], sampling=spacing)
    ring = np.zeros_like(region)
    ring[r0:r1, c0:c1] = (distance > inner_mm) & (distance <= outer_mm)
    return ring


# ------------------------------------------------------------------ is it a lesion?


def _is_ct(volume: Volume) -> bool:
    return volume.series.modality.upper() == "CT"


def _check_click_value(volume: Volume, window: _Window, seed: tuple[int, int]) -> None:
    """Refuse, on CT, a click on bone, calcification, fat, lung or air (by its HU)."""
    if not _is_ct(volume):
        return
    value = _seed_value(window, seed, volume.pixel_spacing_mm)
    if value >= CT_DENSE_HU:
        raise NoEnhancingLesion(
            f"the point is {value:.0f} HU, bone or calcification (>= {CT_DENSE_HU:.0f} "
            "HU), not viable tumour"
        )
    if value < CT_FAT_HU:
        raise NoEnhancingLesion(
            f"the point is {value:.0f} HU, fat, lung or air (< {CT_FAT_HU:.0f} HU), "
            "not viable tumour"
        )


def _not_enhancing_reason(
    volume: Volume, seed: tuple[int, int, int], opts: MeasureOptions
) -> str | None:
    """Return why a click refused for its size does not enhance, or None if it may.

    A region more than ``max_diameter_mm`` across at the click is most often the liver
    itself, or the liver reached from a click on necrosis; it may also be enhancing
    tissue merged with a larger structure. On the clicked slice, the click is said not
    to enhance more than its surroundings when

    * it is not clearly brighter than the tissue ``SURROUNDINGS_MM`` (5-25 mm) around
      it: its value exceeds the upper quartile of that tissue by less than
      ``min_contrast_sigmas`` noise sigmas, the contrast a lesion needs (the upper
      quartile is the brighter common tissue around the click: the liver, even when up
      to three quarters of the surroundings are necrosis, fat or beyond the liver's
      edge); it is "darker" when its value is 3 noise sigmas or more below; and
    * unless it is darker, it is not clearly brighter (by the same contrast) than the
      most common tissue within ``DOMINANT_MM`` (65 mm) either, fat and air left out
      (on CT below ``CT_SOFT_TISSUE_HU``, on MR below half the click's signal). That
      tissue is the liver; an enhancing lesion merged with a larger structure is
      brighter than it, and keeps the size reason. On CT such a click must also be at
      most ``CT_LIVER_MAX_HU`` (150 HU): brighter tissue is no liver parenchyma.

    The reason gives both levels: in HU on CT, as a ratio on MR (arbitrary units).
    None (the size reason stands) when the click may be enhancing tissue.
    """
    k, row, column = seed
    inner, outer = SURROUNDINGS_MM
    window = _window_around(volume, k, (row, column), DOMINANT_MM + 2.0, opts)
    local = window.local(row, column)
    spacing = volume.pixel_spacing_mm
    rows, columns = np.indices(window.filtered.shape)
    distance = np.hypot(
        (rows - local[0]) * spacing[0], (columns - local[1]) * spacing[1]
    )
    around = window.filtered[(distance >= inner) & (distance <= outer)]
    if around.size == 0:
        return None
    noise = _noise_sigma(window, volume, opts)
    needed = max(opts.min_contrast_sigmas * noise, 1e-6)
    value = _seed_value(window, local, spacing)
    level = float(np.percentile(around, 75))
    ct = _is_ct(volume)
    if value - level >= needed or (not ct and level <= 0):
        return None  # clearly brighter: a region too large to be a focal lesion
    darker = value <= level - 3.0 * noise
    if ct and not darker and value > CT_LIVER_MAX_HU:
        return None  # brighter than any liver parenchyma: enhancing tissue
    if not darker:
        floor = CT_SOFT_TISSUE_HU if ct else 0.5 * value
        near = window.filtered[(distance <= DOMINANT_MM) & (window.filtered >= floor)]
        if value - _most_common(near, noise) >= needed:
            return None  # brighter than the liver: enhancing tissue in a larger region
    if ct:
        here = f"the tissue here ({value:.0f} HU)"
        there, more = f"upper quartile {level:.0f} HU", f"{needed:.0f} HU more"
    else:
        here = "the tissue here"
        there = f"signal {100 * value / level:.0f} % of their upper quartile"
        more = f"{100 * (level + needed) / level:.0f} %"
    where = f"the tissue {inner:.0f}-{outer:.0f} mm around it"
    if darker:
        compared = f"is darker than {where} ({there})"
        tissue = "necrotic or non-enhancing tissue is"
    else:
        compared = (
            f"is not clearly brighter than {where} ({there}; a lesion would need at "
            f"least {more})"
        )
        tissue = "plain liver and non-enhancing tissue are"
    return (
        f"{here} {compared}: it does not enhance more than its surroundings ({tissue} "
        "not measured by mRECIST)"
    )


def _most_common(values: FloatImage, noise: float) -> float:
    """Return the most common value (histogram peak, bins of 2 noise sigmas)."""
    if values.size == 0:
        return math.inf
    width = max(2.0 * noise, 1e-3 * float(np.ptp(values)), 1e-6)
    edges = np.arange(float(values.min()), float(values.max()) + 2.0 * width, width)
    counts = np.histogram(values, edges)[0].astype(np.float64)
    peak = int(ndimage.uniform_filter1d(counts, 3, mode="constant").argmax())
    return float(0.5 * (edges[peak] + edges[peak + 1]))


def _check_focal(
    volume: Volume, plane: _Plane, levels: _Levels, opts: MeasureOptions
) -> None:
    """Refuse a region that is not a focal lesion brighter than the liver around it.

    The ring 2.5-7 mm outside the region must be darker than the threshold on most of
    its length, lie mostly in one background tissue, and, on CT, be soft tissue (not
    fat, lung or air) at a plausible liver level around a plausibly viable lesion.
    """
    spacing = volume.pixel_spacing_mm
    image = plane.window.filtered
    ring_mask = _ring(plane.mask, spacing, opts.ring_inner_mm, opts.ring_outer_mm)
    ring = image[ring_mask]
    if _is_ct(volume):
        _check_ct_levels(levels)
    darker = float(np.mean(ring < levels.lower))
    if darker < opts.min_darker_ring:
        raise NoEnhancingLesion(
            f"only {100 * darker:.0f} % of the ring around the region is darker than "
            f"it (at least {100 * opts.min_darker_ring:.0f} % needed): it is not a "
            "focal lesion brighter than the liver (bone marrow, or part of a brighter "
            "structure)"
        )
    similar = float(np.mean((ring >= levels.lower) & (ring <= levels.upper)))
    if similar > opts.max_similar_ring and not plane.touches_vessel:
        similar = _joined_similar(plane, levels, ring_mask)
        if similar > opts.max_similar_ring:
            raise NoEnhancingLesion(
                f"{100 * similar:.0f} % of the ring around the region has its own "
                f"signal (at most {100 * opts.max_similar_ring:.0f} % allowed): it "
                "continues into tissue that enhances like it (liver of similar "
                "signal), not a focal lesion"
            )
    contrast = levels.lesion - levels.background
    band = max(3.0 * levels.noise, 0.25 * contrast)
    uniform = float(np.mean(np.abs(ring - levels.background) <= band))
    if uniform < opts.min_uniform_ring:
        raise NoEnhancingLesion(
            f"only {100 * uniform:.0f} % of the ring around the region is one "
            "background tissue: it lies among several tissues (a whole organ, or "
            "between organs), not inside the liver"
        )
    if _is_ct(volume):
        not_bright = ring[ring <= levels.upper]
        soft = (not_bright < levels.lower) & (not_bright >= CT_SOFT_TISSUE_HU)
        fraction = float(np.mean(soft)) if not_bright.size else 0.0
        if fraction < opts.min_soft_ring_ct:
            raise NoEnhancingLesion(
                f"only {100 * fraction:.0f} % of the ring around the region is soft "
                f"tissue (at least {100 * opts.min_soft_ring_ct:.0f} % needed): it is "
                "surrounded by fat, lung or air, not by liver"
            )


def _joined_similar(plane: _Plane, levels: _Levels, ring: Mask) -> float:
    """Return the fraction of ``ring`` with the region's signal and joined to it.

    A region cut out of tissue of its own signal continues into it; tissue of that
    signal apart from the region (a vessel beside it, not touching it) bounds nothing.
    """
    image = plane.window.filtered
    same = (image >= levels.lower) & (image <= levels.upper)
    labels, _ = ndimage.label(same | plane.mask, structure=_CROSS)
    joined = np.isin(labels, np.unique(labels[plane.mask]))
    return float(np.mean((same & joined)[ring]))


def _check_ct_levels(levels: _Levels) -> None:
    low, high = CT_VIABLE_HU
    if not low <= levels.lesion <= high:
        raise NoEnhancingLesion(
            f"the region is {levels.lesion:.0f} HU, outside {low:.0f}-{high:.0f} HU "
            "of viable HCC in the arterial phase ("
            + ("an opacified artery, bone or lipiodol" if levels.lesion > high else "")
            + ("fluid or fat" if levels.lesion < low else "")
            + ")"
        )
    low, high = CT_BACKGROUND_HU
    if not low <= levels.background <= high:
        raise NoEnhancingLesion(
            f"the tissue around the region is {levels.background:.0f} HU, outside "
            f"{low:.0f}-{high:.0f} HU of liver parenchyma (fat, lung or air around it)"
        )


def _check_shape(volume: Volume, planes: list[_Plane], opts: MeasureOptions) -> None:
    """Refuse a region shaped like a vessel: long along the slices, or not tapering."""
    spacing = volume.pixel_spacing_mm
    by_slice = sorted(planes, key=lambda plane: plane.window.index)
    run_mm = len(by_slice) * volume.slice_spacing_mm
    diameter = max(_pixel_feret(plane, spacing) for plane in by_slice)
    if len(by_slice) >= 3 and run_mm > opts.max_elongation * max(diameter, spacing[0]):
        raise NoEnhancingLesion(
            f"the bright structure runs over {run_mm:.0f} mm of slices but is "
            f"{diameter:.0f} mm across: a vessel, not a focal lesion"
        )
    widest = max(by_slice, key=lambda plane: _pixel_feret(plane, spacing))
    width = _min_width(widest, spacing)
    if diameter > 0 and width < opts.min_width_ratio * diameter:
        raise NoEnhancingLesion(
            f"the bright structure is {diameter:.0f} mm long but only {width:.0f} mm "
            "wide: a vessel in the slice plane, not a focal lesion"
        )
    areas = [float(plane.mask.sum()) for plane in by_slice]
    last = volume.shape[0] - 1
    for area, index in (
        (areas[0], by_slice[0].window.index),
        (areas[-1], by_slice[-1].window.index),
    ):
        if (
            index in (0, last)
            and len(by_slice) > 1
            and area >= opts.cut_end_area * max(areas)
        ):
            raise NoEnhancingLesion(
                f"the bright structure is cut by the {'first' if index == 0 else 'last'} "
                "slice of the series at nearly its full size: it continues beyond the "
                "series (an organ or a vessel, or a lesion the series does not cover)"
            )
    if len(by_slice) < opts.tube_min_slices:
        return
    ends = [
        area / max(areas)
        for area, at_edge in (
            (areas[0], by_slice[0].window.index == 0),
            (areas[-1], by_slice[-1].window.index == last),
        )
        if not at_edge
    ]
    if all(ratio >= opts.tube_end_area for ratio in ends):
        raise NoEnhancingLesion(
            f"the bright structure keeps the same cross-section over {len(by_slice)} "
            "slices and ends abruptly, or runs through the whole series: a vessel or "
            "an organ, not a focal lesion"
        )
