"""Region growing (steps 2-4).

The levels from the click, the viable mask, and the lesion followed slice by slice
from the clicked one; a click on necrosis is reseeded on the tissue around it.
"""

import math
from dataclasses import replace

import numpy as np
import numpy.typing as npt
from scipy import ndimage

from mrecist_reader.imaging.measure.checks import (
    _check_click_value,
    _check_extent,
    _ring,
)
from mrecist_reader.imaging.measure.model import (
    _CROSS,
    _SQUARE,
    FloatImage,
    Mask,
    MeasureOptions,
    NoEnhancingLesion,
    _Levels,
    _NotBright,
    _Plane,
    _Strip,
    _TooLarge,
    _Window,
    _WindowTooSmall,
)
from mrecist_reader.imaging.measure.vessels import (
    cut_bands,
    separate_beside,
    separate_track,
    strips_mask,
)
from mrecist_reader.imaging.measure.windows import (
    _bounding_box,
    _noise_sigma,
    _open_window,
    _seed_value,
    _window_around,
)
from mrecist_reader.imaging.volume import Volume

# A vessel beside the lesion is sought this far around each of its planes (mm): the
# widest vessel separated (14 mm) and a little more.
BESIDE_MARGIN_MM = 16.0

# ------------------------------------------------------------------ seed slice


def _analyse_seed_slice(
    volume: Volume, seed: tuple[int, int, int], opts: MeasureOptions
) -> tuple[_Levels, _Plane]:
    """Find the lesion's levels and its viable region on the clicked slice."""
    k, row, column = seed
    half_sizes = (opts.seed_window_mm, opts.max_diameter_mm + opts.ring_outer_mm)
    for attempt, half_mm in enumerate(half_sizes):
        window = _window_around(volume, k, (row, column), half_mm, opts)
        try:
            return _levels_and_region(volume, window, window.local(row, column), opts)
        except _WindowTooSmall:
            if attempt == len(half_sizes) - 1:
                raise _TooLarge(
                    f"the region at this point is larger than {opts.max_diameter_mm:.0f} "
                    "mm across, not a focal lesion"
                ) from None
    raise AssertionError("unreachable")  # pragma: no cover


def _levels_and_region(
    volume: Volume, window: _Window, seed: tuple[int, int], opts: MeasureOptions
) -> tuple[_Levels, _Plane]:
    noise = _noise_sigma(window, volume, opts)
    _check_click_value(volume, window, seed)
    try:
        return _grow_bright(volume, window, seed, noise, opts)
    except _NotBright as failure:
        return _from_necrosis(volume, window, seed, noise, failure, opts)


def _grow_bright(
    volume: Volume,
    window: _Window,
    seed: tuple[int, int],
    noise: float,
    opts: MeasureOptions,
) -> tuple[_Levels, _Plane]:
    """Grow the enhancing region at ``seed`` and settle its levels (steps 2-3)."""
    image = window.filtered
    spacing = volume.pixel_spacing_mm
    tolerance = max(2.0 * noise, 1e-3 * float(np.ptp(image)))
    value = _seed_value(window, seed, spacing)
    region = _component(np.abs(image - value) <= tolerance, seed, None)
    if region is None:
        raise _NotBright("the point is on an edge between tissues")
    strips: tuple[_Strip, ...] = ()
    if _touches_any_border(region):  # perhaps along a vessel running out of the window
        region, strips = cut_bands(region, seed, spacing, window.origin, window.index)
    levels: _Levels | None = None
    for _ in range(6):
        _check_extent(region, window, spacing, opts)
        # The vessels cut off the region are no background: left out of its ring.
        cut = strips_mask(strips, image.shape, window.origin, spacing)
        new_levels = _estimate_levels(image, region & ~cut, spacing, noise, opts, cut)
        viable = _viable_mask(image, new_levels)
        new_region = _component(viable, seed, region)
        if new_region is None:
            raise _NotBright("no enhancing tissue remains at the point")
        new_region, strips = cut_bands(
            new_region, seed, spacing, window.origin, window.index
        )
        settled = levels is not None and abs(new_levels.lower - levels.lower) < 0.02 * (
            new_levels.lesion - new_levels.background
        )
        levels, region = new_levels, new_region
        if settled:
            break
    _check_extent(region, window, spacing, opts)
    assert levels is not None
    return levels, _Plane(window, region, bool(strips), strips)


def _estimate_levels(
    image: FloatImage,
    region: Mask,
    spacing: tuple[float, float],
    noise: float,
    opts: MeasureOptions,
    cut: Mask | None = None,
) -> _Levels:
    core = ndimage.binary_erosion(region, _SQUARE)
    lesion = float(np.median(image[core if core.sum() >= 20 else region]))
    ring_mask = _ring(region, spacing, opts.ring_inner_mm, opts.ring_outer_mm)
    if cut is not None and (ring_mask & ~cut).sum() >= 0.5 * ring_mask.sum():
        ring_mask &= ~cut
    ring = image[ring_mask]
    if ring.size == 0:
        raise _NotBright("nothing around the region to compare with")
    darker = ring[ring < lesion - 3.0 * noise]
    if darker.size < 0.25 * ring.size:
        raise _NotBright("the point is not brighter than its surroundings")
    background = float(np.percentile(darker, 75))
    contrast = lesion - background
    if contrast < opts.min_contrast_sigmas * noise or contrast <= 0:
        raise _NotBright(
            f"the contrast with the surroundings ({contrast:.0f}) is below "
            f"{opts.min_contrast_sigmas:.0f} noise sigmas ({noise:.1f})"
        )
    return _Levels(lesion, background, noise)


def _viable_mask(image: FloatImage, levels: _Levels) -> Mask:
    """Return pixels within the viable range, away from brighter (vessel) pixels."""
    bright = image > levels.upper
    if not bright.any():
        return np.asarray(image >= levels.lower)
    near_bright = ndimage.binary_dilation(bright, _SQUARE)
    viable = (image >= levels.lower) & ~near_bright
    # The partial-volume fringe of a brighter vessel leaves strands one or two pixels
    # thick along it: a one-pixel opening, only within three pixels of the vessel,
    # drops them without touching the lesion's outline elsewhere.
    zone = ndimage.binary_dilation(bright, _SQUARE, iterations=3)
    opened = ndimage.binary_opening(viable, _CROSS)
    return np.asarray(viable & (opened | ~zone))


def _component(mask: Mask, seed: tuple[int, int], previous: Mask | None) -> Mask | None:
    """Return the connected component of ``mask`` at ``seed`` (or overlapping ``previous``)."""
    labels, count = ndimage.label(mask, structure=_CROSS)
    if count == 0:
        return None
    label = int(labels[seed])
    if label == 0 and previous is not None:
        overlap = np.bincount(labels[previous], minlength=count + 1)
        overlap[0] = 0
        label = int(overlap.argmax()) if overlap.max() > 0 else 0
    if label == 0:
        label = _nearest_label(labels, seed)
    if label == 0:
        return None
    return np.asarray(labels == label)


def _nearest_label(labels: npt.NDArray[np.int32], seed: tuple[int, int]) -> int:
    """Return the label nearest to ``seed`` within two pixels (0 when none)."""
    r0, c0 = max(0, seed[0] - 2), max(0, seed[1] - 2)
    patch = labels[r0 : seed[0] + 3, c0 : seed[1] + 3]
    rows, columns = np.nonzero(patch)
    if rows.size == 0:
        return 0
    nearest = int(np.argmin((rows + r0 - seed[0]) ** 2 + (columns + c0 - seed[1]) ** 2))
    return int(patch[rows[nearest], columns[nearest]])


# ------------------------------------------------------------------ necrosis clicks


def _from_necrosis(
    volume: Volume,
    window: _Window,
    seed: tuple[int, int],
    noise: float,
    failure: _NotBright,
    opts: MeasureOptions,
) -> tuple[_Levels, _Plane]:
    """Measure the enhancing tissue around a click on non-enhancing tissue.

    The dark region at the click must be bounded; the nearest bright pixel of the ring
    around it seeds the lesion, and the click must be darker than that lesion's liver.
    """
    spacing = volume.pixel_spacing_mm
    image = window.filtered
    value = _seed_value(window, seed, spacing)
    dark = _component(image <= value + 2.0 * max(noise, 1e-6), seed, None)
    if dark is None:
        raise NoEnhancingLesion(failure.reason)
    try:
        _check_extent(dark, window, spacing, opts)
    except _WindowTooSmall:
        raise NoEnhancingLesion(failure.reason) from None
    rim_seed = _brightest_nearby(image, dark, seed, spacing)
    try:
        levels, plane = _grow_bright(volume, window, rim_seed, noise, opts)
    except _NotBright as second:
        raise NoEnhancingLesion(second.reason) from None
    if value > levels.background - 3.0 * noise:
        raise NoEnhancingLesion(failure.reason)
    return levels, plane


def _brightest_nearby(
    image: FloatImage, dark: Mask, seed: tuple[int, int], spacing: tuple[float, float]
) -> tuple[int, int]:
    """Return the ring pixel nearest to ``seed`` among the brightest fifth of the ring."""
    ring = _ring(dark, spacing, 0.0, 4.0)
    values = image[ring]
    rows, columns = np.nonzero(ring & (image >= np.percentile(values, 80)))
    distance = np.hypot((rows - seed[0]) * spacing[0], (columns - seed[1]) * spacing[1])
    nearest = int(distance.argmin())
    return (int(rows[nearest]), int(columns[nearest]))


# ------------------------------------------------------------------ other slices


def _follow_lesion(
    volume: Volume, seed_plane: _Plane, levels: _Levels, opts: MeasureOptions
) -> list[_Plane]:
    """Return the viable planes of the lesion, following it up and down (step 4).

    A vessel running head to foot beside the lesion is followed too, then separated
    (:func:`~mrecist_reader.imaging.measure.vessels.separate_track`); a structure that
    runs on for more than ``max_diameter_mm`` and is no such vessel is refused.
    """
    planes = [seed_plane]
    runs_on = False
    for step in (-1, 1):
        previous = seed_plane
        while True:
            k = previous.window.index + step
            distance = abs(k - seed_plane.window.index) * volume.slice_spacing_mm
            if not 0 <= k < volume.shape[0]:
                break
            if distance > opts.max_diameter_mm:
                runs_on = True
                break
            plane = _next_plane(volume, k, previous, levels, opts)
            if plane is None:
                break
            _check_plane_extent(plane, volume.pixel_spacing_mm, opts)
            planes.append(plane)
            previous = plane
    lesion, separated = separate_track(
        planes, volume.pixel_spacing_mm, volume.slice_spacing_mm
    )
    if runs_on and (not separated or _spans(lesion, volume) > opts.max_diameter_mm):
        raise _TooLarge(
            f"the bright structure runs on for more than {opts.max_diameter_mm:.0f} "
            "mm across slices: a vessel, not a focal lesion"
        )
    if not separated:
        return _without_vessel_beside(planes, levels, volume, opts)
    if not any(plane.window.index == seed_plane.window.index for plane in lesion):
        raise NoEnhancingLesion(
            "the point is on a vessel running along the slices, not on a focal lesion"
        )
    return [replace(plane, touches_vessel=True) for plane in lesion]


def _without_vessel_beside(
    planes: list[_Plane], levels: _Levels, volume: Volume, opts: MeasureOptions
) -> list[_Plane]:
    """Return ``planes`` without a vessel seen beside them on other slices.

    :func:`~mrecist_reader.imaging.measure.vessels.separate_beside`: a vessel that
    touches the lesion on some slices and runs beside it, apart, on the others.
    """
    if len(planes) < 3:
        return planes
    sr, sc = volume.pixel_spacing_mm
    mr, mc = math.ceil(BESIDE_MARGIN_MM / sr), math.ceil(BESIDE_MARGIN_MM / sc)
    around = []
    for plane in planes:
        r0, r1, c0, c1 = _bounding_box(plane.mask)
        pr, pc = plane.window.origin
        bounds = (pr + r0 - mr, pr + r1 + mr, pc + c0 - mc, pc + c1 + mc)
        window = _open_window(volume, plane.window.index, bounds, opts)
        around.append(
            (
                _Plane(window, _shift_mask(plane, window)),
                _viable_mask(window.filtered, levels),
            )
        )
    return separate_beside(
        planes, around, volume.pixel_spacing_mm, volume.slice_spacing_mm
    )


def _spans(planes: list[_Plane], volume: Volume) -> float:
    indices = [plane.window.index for plane in planes]
    return (max(indices) - min(indices) + 1) * volume.slice_spacing_mm


def _check_plane_extent(
    plane: _Plane, spacing: tuple[float, float], opts: MeasureOptions
) -> None:
    r0, r1, c0, c1 = _bounding_box(plane.mask)
    if max((r1 - r0) * spacing[0], (c1 - c0) * spacing[1]) > opts.max_diameter_mm:
        raise _TooLarge(
            f"the region at this point spreads over more than {opts.max_diameter_mm:.0f} "
            f"mm on slice {plane.window.index}, not a focal lesion"
        )


def _next_plane(
    volume: Volume, k: int, previous: _Plane, levels: _Levels, opts: MeasureOptions
) -> _Plane | None:
    """Return the viable region on slice ``k`` that overlaps ``previous``'s region."""
    sr, sc = volume.pixel_spacing_mm
    r0, r1, c0, c1 = _bounding_box(previous.mask)
    pr, pc = previous.window.origin
    margin_mm = 8.0
    for _ in range(4):
        mr, mc = math.ceil(margin_mm / sr), math.ceil(margin_mm / sc)
        bounds = (pr + r0 - mr, pr + r1 + mr, pc + c0 - mc, pc + c1 + mc)
        window = _open_window(volume, k, bounds, opts)
        overlap = _shift_mask(previous, window)
        # An in-plane vessel cut off the clicked slice is cut off this one too, as
        # far as it reaches: on a slice where the lesion is smaller it may not hold
        # the disk that finds it.
        active = tuple(
            s for s in previous.strips if s.reaches(k, volume.slice_spacing_mm)
        )
        viable = _viable_mask(window.filtered, levels) & ~strips_mask(
            active, window.filtered.shape, window.origin, (sr, sc)
        )
        labels, _ = ndimage.label(viable, structure=_CROSS)
        kept = np.unique(labels[overlap & (labels > 0)])
        if kept.size == 0:
            return None
        mask, strips = cut_bands(
            np.isin(labels, kept), None, (sr, sc), window.origin, k
        )
        # Only the vessels cut off the clicked slice, which touch the lesion there,
        # are passed on (a vessel's own branches, cut off further slices, are not).
        plane = _Plane(window, mask, bool(strips) or bool(active), active)
        if not _touches_inner_border(mask, window):
            return plane
        margin_mm *= 2.0
    return plane


def _shift_mask(previous: _Plane, window: _Window) -> Mask:
    """Return ``previous.mask`` in the coordinates of ``window`` (cropped to it)."""
    n_rows, n_columns = window.filtered.shape
    shifted = np.zeros((n_rows, n_columns), dtype=bool)
    dr = previous.window.origin[0] - window.origin[0]
    dc = previous.window.origin[1] - window.origin[1]
    height, width = previous.mask.shape
    r0, c0 = max(0, dr), max(0, dc)
    r1, c1 = min(n_rows, dr + height), min(n_columns, dc + width)
    if r1 > r0 and c1 > c0:
        shifted[r0:r1, c0:c1] = previous.mask[r0 - dr : r1 - dr, c0 - dc : c1 - dc]
    return shifted


def _touches_any_border(mask: Mask) -> bool:
    return bool(
        mask[0].any() or mask[-1].any() or mask[:, 0].any() or mask[:, -1].any()
    )


def _touches_inner_border(mask: Mask, window: _Window) -> bool:
    borders = (mask[0].any(), mask[-1].any(), mask[:, 0].any(), mask[:, -1].any())
    return any(
        b and not edge for b, edge in zip(borders, window.at_image_edge, strict=True)
    )
