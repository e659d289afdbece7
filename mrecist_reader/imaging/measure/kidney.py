"""The kidney refusal (CT).

An enhancing cortex around renal sinus fat and a less enhancing medulla is a kidney,
not a liver lesion.
"""

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy import ndimage
from scipy.spatial import ConvexHull, QhullError
from skimage import morphology as skmorphology

from mrecist_reader.imaging.measure.checks import (
    CT_VIABLE_HU,
    _is_ct,
    _ring,
)
from mrecist_reader.imaging.measure.model import (
    _CROSS,
    _SQUARE,
    Mask,
    MeasureOptions,
    NoEnhancingLesion,
    _Levels,
    _Plane,
)
from mrecist_reader.imaging.measure.region import (
    _analyse_seed_slice,
    _brightest_nearby,
    _component,
    _follow_lesion,
    _shift_mask,
    _touches_any_border,
)
from mrecist_reader.imaging.measure.windows import (
    _bounding_box,
    _noise_sigma,
    _open_window,
    _seed_value,
    _window_around,
)
from mrecist_reader.imaging.volume import Volume

_convex_hull: Callable[[Mask], Mask] = skmorphology.convex_hull_image
# Kidney (CT): on one slice, the convex hull of the enhancing region holds at least this
# much fat (renal sinus) and this much less enhancing soft tissue (medulla); mm².
KIDNEY_CORTEX_MIN_HU = 120.0  # renal cortex in the arterial phase is brighter than this
KIDNEY_FAT_HU = -30.0  # renal sinus fat, blurred with the medulla around it
KIDNEY_FAT_GAP_HU = 60.0  # least gap between the medulla's median and the fat's mean
KIDNEY_SINUS_FAT_MM2 = 10.0
KIDNEY_MEDULLA_MM2 = 50.0
KIDNEY_CAP_MARGIN_MM = (
    15.0  # how far beyond a region's end slice a renal cortex is sought
)
KIDNEY_CAP_REACH_MM = 8.0  # enhancing components this close to the end's footprint


# ------------------------------------------------------------------ kidney


@dataclass(frozen=True, slots=True)
class _KidneySign:
    """What lies inside the convex hull of the region on its most kidney-like slice."""

    fat_mm2: float
    medulla_mm2: float
    slice_index: int


def _kidney_sign(volume: Volume, planes: list[_Plane], levels: _Levels) -> _KidneySign:
    """Return the largest sinus fat and medulla areas enclosed by the region on a slice.

    A renal cortex in the arterial phase is a thin enhancing rim whose convex hull holds
    both renal sinus fat (below ``KIDNEY_FAT_HU``, well below the medulla) and a less
    enhancing medulla (soft tissue below the cut). A necrotic HCC's rim encloses
    necrosis (soft tissue) but no fat. Slices without fat near the region are skipped
    before the hull is drawn, which keeps a lesion inside the liver at no extra cost.
    """
    sr, sc = volume.pixel_spacing_mm
    # Around a kidney in perirenal fat the background is fat and the threshold falls
    # below the medulla: the cortex is cut midway between the lesion level and soft
    # tissue (0 HU) at least.
    cut = max(levels.lower, 0.5 * (levels.lesion + 0.0))
    best = _KidneySign(0.0, 0.0, planes[0].window.index)
    for plane in planes:
        rim = plane.mask & (plane.window.filtered >= cut)
        if np.count_nonzero(rim) < 3:
            continue
        r0, r1, c0, c1 = _bounding_box(rim)
        image = plane.window.filtered[r0:r1, c0:c1]
        if image.min() >= KIDNEY_FAT_HU:
            continue  # no fat within the region's bounding box (a lesion in liver)
        mask = rim[r0:r1, c0:c1]
        outside = ~ndimage.binary_dilation(mask, _SQUARE)
        smooth = ndimage.gaussian_filter(image, 1.0)
        dark = outside & (smooth < KIDNEY_FAT_HU)
        if _enclosed_count(mask, dark) * sr * sc < KIDNEY_SINUS_FAT_MM2:
            continue  # too little fat inside the hull: no need to draw the hull
        core = _convex_hull_image(mask) & outside
        fat_mask = ndimage.binary_opening(core & dark, _SQUARE)
        soft = core & (image >= KIDNEY_FAT_HU) & (image < cut)
        if not fat_mask.any() or not soft.any():
            continue
        # Sinus fat is a second, much darker tissue inside the rim, not the dark tail
        # of the noise of a necrosis close to the fat threshold.
        gap = float(np.median(image[soft])) - float(np.mean(image[fat_mask]))
        if gap < KIDNEY_FAT_GAP_HU:
            continue
        fat = float(np.count_nonzero(fat_mask)) * sr * sc
        medulla = float(np.count_nonzero(soft)) * sr * sc
        if min(fat, medulla) > min(best.fat_mm2, best.medulla_mm2):
            best = _KidneySign(fat, medulla, plane.window.index)
    return best


def _enclosed_count(mask: Mask, candidates: Mask) -> int:
    """Return how many ``candidates`` pixels lie within one pixel of ``mask``'s hull.

    A cheap upper bound of the candidates inside :func:`_convex_hull_image` (which
    draws the hull through pixel corners, at most 0.71 pixel outside the centres).
    """
    rows, columns = np.nonzero(candidates)
    if rows.size == 0:
        return 0
    filled = np.flatnonzero(mask.any(axis=1))
    first = mask[filled].argmax(axis=1)
    last = mask.shape[1] - 1 - mask[filled, ::-1].argmax(axis=1)
    ends = np.concatenate(  # the ends of each row's run hold the hull's vertices
        [np.column_stack([filled, first]), np.column_stack([filled, last])]
    ).astype(np.float64)
    try:
        equations = ConvexHull(ends).equations
    except (QhullError, ValueError):
        return int(rows.size)
    points = np.column_stack([rows, columns]).astype(np.float64)
    distance = points @ equations[:, :2].T + equations[:, 2]
    return int(np.count_nonzero((distance <= 1.0).all(axis=1)))


def _convex_hull_image(mask: Mask) -> Mask:
    """Return the filled convex hull of ``mask`` (the mask itself if it is degenerate)."""
    try:
        return np.asarray(_convex_hull(mask), dtype=bool) | mask
    except (QhullError, ValueError):
        return mask


def _beyond_ends(
    volume: Volume, planes: list[_Plane], levels: _Levels, opts: MeasureOptions
) -> list[_Plane]:
    """Return the enhancing regions, on the slice beyond each end, that cap the region.

    A click on a pole of a kidney finds only the cortex's cap: on the next slice the
    cortex is a larger ring around the cap's footprint (over the medulla, so the two
    do not overlap). The enhancing components of the next slice within
    ``KIDNEY_CAP_REACH_MM`` of the end's footprint are returned when their convex hull
    covers at least 80 % of that footprint; a lesion tapering to its end is not.
    """
    by_slice = sorted(planes, key=lambda plane: plane.window.index)
    sr, sc = volume.pixel_spacing_mm
    caps: list[_Plane] = []
    for end, step in ((by_slice[0], -1), (by_slice[-1], 1)):
        k = end.window.index + step
        if not 0 <= k < volume.shape[0] or end.window.filtered.min() >= KIDNEY_FAT_HU:
            continue  # beyond the series, or no fat near the end (a lesion in liver)
        r0, r1, c0, c1 = _bounding_box(end.mask)
        pr, pc = end.window.origin
        mr, mc = (
            math.ceil(KIDNEY_CAP_MARGIN_MM / sr),
            math.ceil(KIDNEY_CAP_MARGIN_MM / sc),
        )
        window = _open_window(
            volume, k, (pr + r0 - mr, pr + r1 + mr, pc + c0 - mc, pc + c1 + mc), opts
        )
        footprint = _shift_mask(end, window)
        labels, count = ndimage.label(window.filtered >= levels.lower, structure=_CROSS)
        if count == 0 or not footprint.any():
            continue
        reach = ndimage.distance_transform_edt(~footprint, sampling=(sr, sc))
        near = np.unique(labels[reach <= KIDNEY_CAP_REACH_MM])
        near = near[near > 0]
        if near.size == 0:
            continue
        mask = np.isin(labels, near)
        if float(np.mean(_convex_hull_image(mask)[footprint])) >= 0.8:
            caps.append(_Plane(window, mask))
    return caps


def _kidney_reason(
    volume: Volume, planes: list[_Plane], levels: _Levels, opts: MeasureOptions
) -> str | None:
    """Return why the region is a kidney (CT only), or None when it is not one."""
    if not _is_ct(volume):
        return None
    if not KIDNEY_CORTEX_MIN_HU <= levels.lesion <= CT_VIABLE_HU[1]:
        return None  # not an enhancing renal cortex: muscle, liver, bone
    sign = _kidney_sign(
        volume, planes + _beyond_ends(volume, planes, levels, opts), levels
    )
    if sign.fat_mm2 < KIDNEY_SINUS_FAT_MM2 or sign.medulla_mm2 < KIDNEY_MEDULLA_MM2:
        return None
    return (
        f"a kidney: on slice {sign.slice_index} the enhancing rim (renal cortex) "
        f"encloses less enhancing tissue (medulla, {sign.medulla_mm2:.0f} mm²) and fat "
        f"(renal sinus, {sign.fat_mm2:.0f} mm²); an HCC does not enclose fat"
    )


def _check_kidney(
    volume: Volume, planes: list[_Plane], levels: _Levels, opts: MeasureOptions
) -> None:
    """Refuse, on CT, a region shaped like a renal cortex around medulla and sinus fat."""
    reason = _kidney_reason(volume, planes, levels, opts)
    if reason is not None:
        raise NoEnhancingLesion(reason)


def _refuse_kidney_from(
    volume: Volume, seed_plane: _Plane, levels: _Levels, opts: MeasureOptions
) -> None:
    """Raise the kidney reason if the refused region at the click is a renal cortex."""
    if not _is_ct(volume):
        return
    try:
        planes = _follow_lesion(volume, seed_plane, levels, opts)
    except NoEnhancingLesion:
        planes = [seed_plane]
    _check_kidney(volume, planes, levels, opts)


def _refuse_kidney_near(
    volume: Volume, seed: tuple[int, int, int], opts: MeasureOptions
) -> None:
    """Raise the kidney reason if a refused click lies on or inside a renal cortex.

    Called only once the click is refused: a click on the medulla or the sinus fat is
    darker than its surroundings. The tissue like the click's around it must be bounded
    (medulla enclosed by cortex); the brightest pixel of the ring around it (on average
    over 5 x 5 pixels), then the nearest of its brightest fifth, seed the renal cortex,
    which is then tested as in :func:`_check_kidney`.
    """
    if not _is_ct(volume):
        return
    k, row, column = seed
    window = _window_around(volume, k, (row, column), opts.seed_window_mm, opts)
    local = window.local(row, column)
    noise = max(_noise_sigma(window, volume, opts), 1e-6)
    spacing = volume.pixel_spacing_mm
    value = _seed_value(window, local, spacing)
    dark = _component(np.abs(window.filtered - value) <= 3.0 * noise, local, None)
    if dark is None or _touches_any_border(dark):
        return
    ring = _ring(dark, spacing, 0.0, 4.0)
    rows, columns = np.nonzero(ring)
    if rows.size == 0:
        return
    smooth = ndimage.uniform_filter(window.filtered, size=5)
    brightest = int(smooth[rows, columns].argmax())
    seeds = [
        (int(rows[brightest]), int(columns[brightest])),
        _brightest_nearby(window.filtered, dark, local, spacing),
    ]
    for rim_row, rim_column in seeds:
        rim = (k, window.origin[0] + rim_row, window.origin[1] + rim_column)
        try:
            levels, plane = _analyse_seed_slice(volume, rim, opts)
        except NoEnhancingLesion:
            continue
        _refuse_kidney_from(volume, plane, levels, opts)
