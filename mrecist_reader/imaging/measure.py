"""Semi-automatic longest viable diameter: one click inside a lesion proposes the caliper.

mRECIST measures the longest diameter of the *viable* tumour, the part that enhances in the
arterial phase, on the arterial-phase series (``shared/spec/mrecist-rules.md``, "Lesions at
baseline"). :func:`longest_viable_diameter` takes a point in patient millimetres on such a
volume and returns the proposed caliper; the reader accepts or adjusts it.

Method, and why each step
-------------------------
1. **Denoise each slice in its plane** with a median filter about 1.4 mm wide (3 x 3 pixels
   at 0.6-1.0 mm spacing). A median keeps an edge where it is, whatever the grey levels on
   either side, so the viable/fat and viable/necrosis borders are not pulled inwards the
   way a Gaussian pulls them; it cuts the noise to about 0.4 sigma. Slices are never
   filtered across, because slices 5 mm thick sample different anatomy.
2. **Estimate the statistics locally, never from HU**, so CT and MR work alike. The noise
   is the median absolute difference of filtered pixels further apart than the filter.
   The lesion level is the median of the region grown from the click (pixels within 3
   noise sigmas of the click's value). The background (liver) level is the 75th
   percentile of the darker pixels in a ring 2.5-7 mm outside the region: the ring mixes
   liver with fat, necrosis or vessels, and the liver is the brightest tissue darker than
   the lesion, so an upper percentile of the darker pixels finds it even when half of the
   ring is necrosis or fat; bright pixels (vessels) are left out of the ring.
3. **Threshold midway.** Viable tissue is ``lower <= value <= upper`` with ``lower``
   midway between liver and lesion and ``upper`` the lesion level plus half the contrast;
   pixels above ``upper`` (arteries) and the pixel ring around them (their partial-volume
   fringe) are excluded, so a vessel that touches the lesion is not measured with it.
   Steps 2-3 repeat until the levels settle (usually 2-3 rounds): the first region is
   too small and its ring too close, the next ones are right.
4. **Follow the lesion slice by slice** from the clicked slice up and down, keeping the
   viable components that overlap the previous slice's, in a window around the previous
   bounding box that grows if the lesion reaches its border. This is a 3-D connected
   region bounded by the lesion itself, so its cost follows the lesion's size, not the
   volume's, and it never crosses into the next structure through an empty slice.
5. **Measure on the slice where the viable diameter is longest.** The longest diameter is
   the maximum Feret diameter of the viable region: the largest distance between two
   vertices of its convex hull, in millimetres (``row * row_spacing``,
   ``column * column_spacing``), so anisotropic pixels are exact. It is computed first on
   pixel centres for every slice, then, on the best few slices, on the sub-pixel iso-line
   of the filtered image at the thresholds (marching squares), which removes the
   half-pixel bias of pixel centres at both ends. End points go through
   :func:`mrecist_reader.imaging.geometry.index_to_patient`.

Necrosis
--------
The viable region excludes every non-enhancing pixel, so necrosis is never counted as
viable tumour. The caliper is the Feret diameter of the viable region: for a lesion with a
necrotic half it runs along the viable half (which does not cross the necrosis); for a rim
around a necrotic core it is the rim's outer diameter, which does cross the core. The
length of the caliper over non-viable tissue is returned as
``ViableMeasurement.non_viable_crossed_mm`` so the reader (and the UI) can see when the
proposal crosses major necrosis and adjust it, as the spec asks.

A click on necrosis (darker than the liver) inside or beside an enhancing lesion finds the
dark region around the click, takes the nearest bright pixel on its border as a new seed,
and measures the enhancing tissue that encloses or borders it. A click in plain liver, fat,
air or any region larger than a focal lesion raises :class:`NoEnhancingLesion`: a region
that is not brighter than its surroundings by ``min_contrast_sigmas`` noise sigmas, that
reaches the image edge, or that spreads over more than ``max_diameter_mm`` on any slice
or along the slices (a piece of liver bounded by vessels can look brighter than its
surroundings on one slice, but not over the whole organ).

Limits: a vessel as bright as the lesion cannot be told from it by intensity and is
included; a click on a vessel's cross-section finds a small "lesion" unless the vessel
runs on for more than ``max_diameter_mm`` across slices.
"""

import logging
import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy import ndimage
from scipy.spatial import ConvexHull, QhullError
from skimage import measure as skmeasure

from mrecist_reader.core.errors import MrecistError
from mrecist_reader.imaging.geometry import index_to_patient, patient_to_index
from mrecist_reader.imaging.volume import Volume

logger = logging.getLogger(__name__)

FloatImage = npt.NDArray[np.float32]
Mask = npt.NDArray[np.bool_]
Points = npt.NDArray[np.float64]

_find_contours: Callable[[npt.NDArray[np.float64], float], list[Points]] = (
    skmeasure.find_contours
)
_CROSS = ndimage.generate_binary_structure(2, 1)
_SQUARE = ndimage.generate_binary_structure(2, 2)


class NoEnhancingLesion(MrecistError):
    """No arterially enhancing lesion was found at the clicked point.

    ``str(error)`` starts with "no enhancing lesion at this point"; ``reason`` says why.
    """

    MESSAGE = "no enhancing lesion at this point"

    def __init__(self, reason: str = "") -> None:
        self.reason = reason
        super().__init__(f"{self.MESSAGE}: {reason}" if reason else self.MESSAGE)


@dataclass(frozen=True, slots=True)
class ViableMeasurement:
    """A proposed caliper across the longest viable diameter.

    Attributes
    ----------
    p1_mm, p2_mm
        Caliper end points in DICOM patient coordinates (mm), on slice ``slice_index``.
    diameter_mm
        Distance between the end points (mm).
    slice_index
        Index of the slice (axis 0 of the volume) the caliper lies on.
    sop_instance_uid
        SOP Instance UID of that slice.
    viable_area_mm2
        Area of the viable (enhancing) region on that slice (mm²).
    non_viable_crossed_mm
        Length of the caliper lying over non-enhancing tissue (necrosis), mm.
    lesion_level, background_level
        Estimated lesion and surrounding-liver intensities (image units).

    """

    p1_mm: tuple[float, float, float]
    p2_mm: tuple[float, float, float]
    diameter_mm: float
    slice_index: int
    sop_instance_uid: str
    viable_area_mm2: float
    non_viable_crossed_mm: float = 0.0
    lesion_level: float = math.nan
    background_level: float = math.nan


@dataclass(frozen=True, slots=True)
class MeasureOptions:
    """Tuning of :func:`longest_viable_diameter` (lengths in mm).

    Attributes
    ----------
    denoise_width_mm
        Width of the in-plane median filter (rounded to an odd number of pixels >= 3).
    max_diameter_mm
        Largest extent accepted as a focal lesion; larger regions are not lesions.
    ring_inner_mm, ring_outer_mm
        Distances from the region of the ring that samples the liver.
    min_contrast_sigmas
        Least lesion-to-liver contrast, in noise sigmas of the filtered image.
    seed_window_mm
        Half-size of the first window around the click (grows when the lesion fills it).

    """

    denoise_width_mm: float = 1.4
    max_diameter_mm: float = 130.0
    ring_inner_mm: float = 2.5
    ring_outer_mm: float = 7.0
    min_contrast_sigmas: float = 5.0
    seed_window_mm: float = 60.0


@dataclass(frozen=True, slots=True)
class _Levels:
    """Intensity levels of one lesion (image units)."""

    lesion: float
    background: float
    noise: float

    @property
    def lower(self) -> float:
        return 0.5 * (self.lesion + self.background)

    @property
    def upper(self) -> float:
        return self.lesion + 0.5 * (self.lesion - self.background)


@dataclass(frozen=True)
class _Window:
    """A denoised in-plane window of one slice; ``origin`` is its (row, column) corner."""

    index: int
    origin: tuple[int, int]
    filtered: FloatImage
    at_image_edge: tuple[bool, bool, bool, bool]

    def local(self, row: int, column: int) -> tuple[int, int]:
        return (row - self.origin[0], column - self.origin[1])


@dataclass(frozen=True)
class _Plane:
    """The viable component on one slice, in the coordinates of ``window``."""

    window: _Window
    mask: Mask


class _NotBright(Exception):
    """The clicked region is not brighter than its surroundings (internal signal)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class _WindowTooSmall(Exception):
    """The region reaches the border of its window (internal signal)."""


def longest_viable_diameter(
    volume: Volume,
    seed_mm: tuple[float, float, float],
    *,
    options: MeasureOptions | None = None,
) -> ViableMeasurement:
    """Propose the caliper across the longest viable diameter of the lesion at a point.

    Parameters
    ----------
    volume
        Arterial-phase volume (any modality; no Hounsfield assumptions).
    seed_mm
        The clicked point in DICOM patient coordinates (mm); it is snapped to the nearest
        voxel.
    options
        Tuning; the defaults suit CT and MR of the liver.

    Returns
    -------
    ViableMeasurement
        The end points in patient mm on the slice where the viable diameter is longest.

    Raises
    ------
    NoEnhancingLesion
        The point lies outside the volume, in plain liver, fat or air, or in a region too
        large to be a focal lesion.

    """
    opts = options or MeasureOptions()
    k, row, column = _seed_index(volume, seed_mm)
    levels, seed_plane = _analyse_seed_slice(volume, (k, row, column), opts)
    planes = _follow_lesion(volume, seed_plane, levels, opts)
    measurement = _measure(volume, planes, levels)
    logger.info(
        "viable diameter %.1f mm on slice %d (lesion %.0f, background %.0f, noise %.1f)",
        measurement.diameter_mm,
        measurement.slice_index,
        levels.lesion,
        levels.background,
        levels.noise,
    )
    return measurement


# ------------------------------------------------------------------ seed and windows


def _seed_index(
    volume: Volume, seed_mm: tuple[float, float, float]
) -> tuple[int, int, int]:
    index = np.rint(
        patient_to_index(volume.affine, np.asarray(seed_mm, dtype=np.float64))
    )
    k, row, column = (int(i) for i in index)
    n_slices, n_rows, n_columns = volume.shape
    if not (0 <= k < n_slices and 0 <= row < n_rows and 0 <= column < n_columns):
        raise NoEnhancingLesion("the point is outside the series' volume")
    return k, row, column


def _filter_width(spacing_mm: float, opts: MeasureOptions) -> int:
    half = max(1, round(0.5 * opts.denoise_width_mm / spacing_mm))
    return 2 * half + 1


def _open_window(
    volume: Volume,
    k: int,
    bounds: tuple[int, int, int, int],
    opts: MeasureOptions,
) -> _Window:
    """Return the denoised window ``rows r0:r1, columns c0:c1`` (clipped) of slice ``k``."""
    _, n_rows, n_columns = volume.shape
    r0, r1 = max(0, bounds[0]), min(n_rows, bounds[1])
    c0, c1 = max(0, bounds[2]), min(n_columns, bounds[3])
    raw = np.asarray(volume.array[k, r0:r1, c0:c1], dtype=np.float32)
    spacing = volume.pixel_spacing_mm
    size = (_filter_width(spacing[0], opts), _filter_width(spacing[1], opts))
    if size == (3, 3):
        filtered = median_3x3(raw)
    else:
        filtered = ndimage.median_filter(raw, size=size, mode="nearest")
    edges = (r0 == 0, r1 == n_rows, c0 == 0, c1 == n_columns)
    return _Window(k, (r0, c0), np.asarray(filtered, dtype=np.float32), edges)


def _median_of_3(x: FloatImage, y: FloatImage, z: FloatImage) -> FloatImage:
    return np.maximum(np.minimum(x, y), np.minimum(np.maximum(x, y), z))


def median_3x3(image: FloatImage) -> FloatImage:
    """Return the 3 x 3 median of ``image`` (edges repeated), with no per-pixel sorting.

    Equal to ``scipy.ndimage.median_filter(image, size=3, mode="nearest")`` but several
    times faster: each column triple is sorted with element-wise min/max, and the median
    of nine is the median of (largest minimum, median of medians, smallest maximum).
    """
    padded = np.pad(image, 1, mode="edge")
    up, middle, down = padded[:-2], padded[1:-1], padded[2:]
    low = np.minimum(np.minimum(up, middle), down)
    high = np.maximum(np.maximum(up, middle), down)
    mid = _median_of_3(up, middle, down)
    largest_low = np.maximum(np.maximum(low[:, :-2], low[:, 1:-1]), low[:, 2:])
    smallest_high = np.minimum(np.minimum(high[:, :-2], high[:, 1:-1]), high[:, 2:])
    median_mid = _median_of_3(mid[:, :-2], mid[:, 1:-1], mid[:, 2:])
    return _median_of_3(largest_low, median_mid, smallest_high)


def _window_around(
    volume: Volume,
    k: int,
    centre: tuple[int, int],
    half_mm: float,
    opts: MeasureOptions,
) -> _Window:
    sr, sc = volume.pixel_spacing_mm
    hr, hc = math.ceil(half_mm / sr), math.ceil(half_mm / sc)
    bounds = (centre[0] - hr, centre[0] + hr + 1, centre[1] - hc, centre[1] + hc + 1)
    return _open_window(volume, k, bounds, opts)


def _noise_sigma(window: _Window, volume: Volume, opts: MeasureOptions) -> float:
    """Return the robust noise sigma of the filtered window (image units)."""
    lag = _filter_width(volume.pixel_spacing_mm[1], opts)
    image = window.filtered
    if image.shape[1] <= lag:
        return 0.0
    differences = (image[:, lag:] - image[:, :-lag]).ravel()
    mad = float(np.median(np.abs(differences - np.median(differences))))
    return 1.4826 * mad / math.sqrt(2.0)


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
                raise NoEnhancingLesion(
                    f"the region at this point is larger than {opts.max_diameter_mm:.0f} "
                    "mm across, not a focal lesion"
                ) from None
    raise AssertionError("unreachable")  # pragma: no cover


def _levels_and_region(
    volume: Volume, window: _Window, seed: tuple[int, int], opts: MeasureOptions
) -> tuple[_Levels, _Plane]:
    noise = _noise_sigma(window, volume, opts)
    try:
        return _grow_bright(volume, window, seed, noise, opts)
    except _NotBright as failure:
        return _from_necrosis(volume, window, seed, noise, failure, opts)


def _seed_value(
    window: _Window, seed: tuple[int, int], spacing: tuple[float, float]
) -> float:
    """Return the median filtered value within 1.5 mm of the seed."""
    hr = max(1, round(1.5 / spacing[0]))
    hc = max(1, round(1.5 / spacing[1]))
    patch = window.filtered[
        max(0, seed[0] - hr) : seed[0] + hr + 1, max(0, seed[1] - hc) : seed[1] + hc + 1
    ]
    return float(np.median(patch))


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
    levels: _Levels | None = None
    for _ in range(6):
        _check_extent(region, window, spacing, opts)
        new_levels = _estimate_levels(image, region, spacing, noise, opts)
        viable = _viable_mask(image, new_levels)
        new_region = _component(viable, seed, region)
        if new_region is None:
            raise _NotBright("no enhancing tissue remains at the point")
        settled = levels is not None and abs(new_levels.lower - levels.lower) < 0.02 * (
            new_levels.lesion - new_levels.background
        )
        levels, region = new_levels, new_region
        if settled:
            break
    _check_extent(region, window, spacing, opts)
    assert levels is not None
    return levels, _Plane(window, region)


def _estimate_levels(
    image: FloatImage,
    region: Mask,
    spacing: tuple[float, float],
    noise: float,
    opts: MeasureOptions,
) -> _Levels:
    core = ndimage.binary_erosion(region, _SQUARE)
    lesion = float(np.median(image[core if core.sum() >= 20 else region]))
    ring = image[_ring(region, spacing, opts.ring_inner_mm, opts.ring_outer_mm)]
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
    near_bright = ndimage.binary_dilation(bright, _SQUARE) if bright.any() else bright
    return np.asarray((image >= levels.lower) & ~near_bright)


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


def _bounding_box(mask: Mask) -> tuple[int, int, int, int]:
    rows = np.flatnonzero(mask.any(axis=1))
    columns = np.flatnonzero(mask.any(axis=0))
    return (int(rows[0]), int(rows[-1]) + 1, int(columns[0]), int(columns[-1]) + 1)


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
    """Return the viable planes of the lesion, following it up and down (step 4)."""
    planes = [seed_plane]
    for step in (-1, 1):
        previous = seed_plane
        while True:
            k = previous.window.index + step
            distance = abs(k - seed_plane.window.index) * volume.slice_spacing_mm
            if not 0 <= k < volume.shape[0]:
                break
            if distance > opts.max_diameter_mm:
                raise NoEnhancingLesion(
                    f"the bright structure runs on for more than {opts.max_diameter_mm:.0f} "
                    "mm across slices: a vessel, not a focal lesion"
                )
            plane = _next_plane(volume, k, previous, levels, opts)
            if plane is None:
                break
            _check_plane_extent(plane, volume.pixel_spacing_mm, opts)
            planes.append(plane)
            previous = plane
    return planes


def _check_plane_extent(
    plane: _Plane, spacing: tuple[float, float], opts: MeasureOptions
) -> None:
    r0, r1, c0, c1 = _bounding_box(plane.mask)
    if max((r1 - r0) * spacing[0], (c1 - c0) * spacing[1]) > opts.max_diameter_mm:
        raise NoEnhancingLesion(
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
        labels, _ = ndimage.label(
            _viable_mask(window.filtered, levels), structure=_CROSS
        )
        kept = np.unique(labels[overlap & (labels > 0)])
        if kept.size == 0:
            return None
        mask = np.isin(labels, kept)
        if not _touches_inner_border(mask, window):
            return _Plane(window, mask)
        margin_mm *= 2.0
    return _Plane(window, mask)


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


def _touches_inner_border(mask: Mask, window: _Window) -> bool:
    borders = (mask[0].any(), mask[-1].any(), mask[:, 0].any(), mask[:, -1].any())
    return any(
        b and not edge for b, edge in zip(borders, window.at_image_edge, strict=True)
    )


# ------------------------------------------------------------------ Feret diameter


def _feret_pair(points_mm: Points) -> tuple[int, int, float]:
    """Return the indices of the two points furthest apart, and their distance.

    Only convex-hull vertices can be the ends of the longest chord (Feret diameter).
    """
    if len(points_mm) < 2:
        return (0, 0, 0.0)
    try:
        vertices = ConvexHull(points_mm).vertices
    except QhullError:  # collinear or too few points: every point is a candidate
        vertices = np.arange(len(points_mm))
    hull = points_mm[vertices]
    distances = np.sqrt(((hull[:, None, :] - hull[None, :, :]) ** 2).sum(axis=-1))
    i, j = np.unravel_index(int(distances.argmax()), distances.shape)
    return (int(vertices[i]), int(vertices[j]), float(distances[i, j]))


def _pixel_feret(plane: _Plane, spacing: tuple[float, float]) -> float:
    edge = plane.mask & ~ndimage.binary_erosion(plane.mask, _CROSS)
    points = np.argwhere(edge).astype(np.float64) * np.asarray(spacing)
    return _feret_pair(points)[2]


def _subpixel_outline(plane: _Plane, levels: _Levels) -> Points:
    """Return the region's outline at the thresholds, (row, column) in window pixels."""
    image = plane.window.filtered.astype(np.float64)
    field = np.minimum(image - levels.lower, levels.upper - image)
    field = np.where(plane.mask, np.maximum(field, 1e-6), np.minimum(field, -1e-6))
    padded = np.pad(field, 1, constant_values=-1.0)
    contours: list[Points] = _find_contours(padded, 0.0)
    if not contours:
        return np.argwhere(plane.mask).astype(np.float64)
    return np.vstack(contours) - 1.0


def _measure(
    volume: Volume, planes: list[_Plane], levels: _Levels
) -> ViableMeasurement:
    """Return the caliper on the plane with the longest viable diameter (step 5)."""
    spacing = volume.pixel_spacing_mm
    # Cross-sections of one lesion grow and shrink together: only slices with at least
    # half the largest area can hold the longest diameter.
    areas = np.array([plane.mask.sum() for plane in planes])
    rough = np.array(
        [
            _pixel_feret(plane, spacing) if area >= 0.5 * areas.max() else 0.0
            for plane, area in zip(planes, areas, strict=True)
        ]
    )
    tolerance = 2.0 * max(spacing)
    order = np.argsort(-rough)
    candidates = [planes[i] for i in order[:4] if rough[i] >= rough.max() - tolerance]
    best: tuple[float, _Plane, Points] | None = None
    for plane in candidates:
        outline = _subpixel_outline(plane, levels)
        i, j, length = _feret_pair(outline * np.asarray(spacing))
        if best is None or length > best[0]:
            best = (length, plane, outline[[i, j]])
    assert best is not None
    return _to_measurement(volume, best[1], best[2], levels)


def _to_measurement(
    volume: Volume, plane: _Plane, ends: Points, levels: _Levels
) -> ViableMeasurement:
    k = plane.window.index
    origin = np.asarray(plane.window.origin, dtype=np.float64)
    indices = np.column_stack([np.full(2, float(k)), ends + origin])
    p1, p2 = index_to_patient(volume.affine, indices)
    diameter = float(np.linalg.norm(p2 - p1))
    sr, sc = volume.pixel_spacing_mm
    return ViableMeasurement(
        p1_mm=(float(p1[0]), float(p1[1]), float(p1[2])),
        p2_mm=(float(p2[0]), float(p2[1]), float(p2[2])),
        diameter_mm=diameter,
        slice_index=k,
        sop_instance_uid=volume.sop_instance_uids[k],
        viable_area_mm2=float(plane.mask.sum()) * sr * sc,
        non_viable_crossed_mm=_non_viable_length(plane.mask, ends, diameter),
        lesion_level=levels.lesion,
        background_level=levels.background,
    )


def _non_viable_length(mask: Mask, ends: Points, diameter_mm: float) -> float:
    """Return how much of the segment between ``ends`` lies outside ``mask`` (mm)."""
    n = max(2, int(4 * np.hypot(*(ends[1] - ends[0]))))
    t = np.linspace(0.0, 1.0, n)[1:-1]
    if t.size == 0:
        return 0.0
    samples = ends[0][None, :] + t[:, None] * (ends[1] - ends[0])[None, :]
    inside = ndimage.map_coordinates(
        mask.astype(np.float32), samples.T, order=1, cval=0.0
    )
    margin = (t * diameter_mm > 1.0) & ((1 - t) * diameter_mm > 1.0)
    if not margin.any():
        return 0.0
    return float(np.mean(inside[margin] < 0.5) * diameter_mm)
