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
and measures the enhancing tissue that encloses or borders it.

Is it a lesion?
---------------
A number is proposed only for a *focal region clearly brighter than the liver around
it*; anything else raises :class:`NoEnhancingLesion` with the reason. Every threshold is
in :class:`MeasureOptions` or a module constant; ``docs/accuracy.md`` gives the margins
measured on phantoms and on ``sample_dicom/``.

* **Brighter than its surroundings** (any modality, relative contrast only): the region
  must exceed the background by ``min_contrast_sigmas`` noise sigmas; at least
  ``min_darker_ring`` (50 %) of the ring 2.5-7 mm outside it must be darker than the
  threshold (marrow inside a bone cortex, or a piece of a brighter structure, fails);
  at least ``min_uniform_ring`` (25 %) of that ring must lie in one background tissue
  (a lesion sits in the liver; a whole organ is bordered by several tissues).
* **Focal, not a vessel or an organ** (any modality): at most ``max_diameter_mm`` across
  and along the slices; not reaching the image edge; not cut by the first or last slice
  at more than half its size; not ``max_elongation`` (2) times longer along the slices
  than across; not thinner than ``min_width_ratio`` (0.15) of its length in the slice
  plane (a vessel in the plane); and, over ``tube_min_slices`` (4) slices or more, not
  keeping ``tube_end_area`` (85 %) of its largest cross-section at both ends (a vessel
  cut square, or one running through the whole series). A lesion tapers at both ends.
* **CT only, in Hounsfield units** (``volume.series.modality == "CT"``), after the median
  filter: a click at ``CT_DENSE_HU`` (500 HU) or more is bone, calcification or lipiodol,
  below ``CT_FAT_HU`` (-100 HU) fat, lung or air: never viable tumour. The viable region's
  median must lie within ``CT_VIABLE_HU`` (50-450 HU): arterial-phase HCC is brighter
  than the liver (unenhanced liver is about 55-65 HU, arterial-phase liver 60-110 HU,
  up to ~150 HU with a strong bolus) and is supported up to 200 HU above it, so up to
  about 350 HU; the ceiling keeps a margin over that and only excludes dense contrast
  pools and bone. The opacified aorta (300 HU and more: its enhancement alone is 300-336
  HU at the hepatic arterial phase, Kim et al., AJR "MDCT of the liver and hypervascular
  HCC: optimizing scan delays for bolus-tracking") overlaps that range, so vessels are
  refused by their shape (above), not by their value. The background must be liver
  parenchyma, ``CT_BACKGROUND_HU`` (-30 to 200 HU: steatotic to enhanced), and at least
  ``min_soft_ring_ct`` (40 %) of the ring (vessels left out) soft tissue darker than
  the threshold, -50 HU or more (not fat, lung or air).

* **Not a kidney** (CT only, tested before the shape tests so that the reason says
  "kidney"): the renal cortex enhances like HCC in the arterial phase, but it is a thin
  rim around a less enhancing medulla *and the fat of the renal sinus*. The region is a
  kidney when its level is a plausible cortex (``KIDNEY_CORTEX_MIN_HU``, 120 HU, to
  450 HU) and, on one slice, the convex hull of its part above the threshold (cut at
  least midway to 0 HU, so that a medulla beside perirenal fat is not counted as
  cortex) holds at least ``KIDNEY_MEDULLA_MM2`` (50 mm²) of less enhancing soft tissue
  and at least ``KIDNEY_SINUS_FAT_MM2`` (10 mm²) of fat (below ``KIDNEY_FAT_HU``,
  -30 HU, after a 1-pixel Gaussian and a 3 x 3 opening) whose mean lies at least
  ``KIDNEY_FAT_GAP_HU`` (60 HU) below the soft tissue's median (a second, darker tissue,
  not the noise tail of a dark necrosis). A ring around necrosis alone is not a kidney:
  necrosis is not fat. A click on a pole, where the cortex is a cap, also looks at the
  slice beyond each end of the region: the enhancing components there within
  ``KIDNEY_CAP_REACH_MM`` (8 mm) whose hull covers 80 % of the end's footprint (a
  larger cortex ring around the cap) are tested too. When a click is refused for
  another reason (a click on the medulla or the sinus is darker than its
  surroundings; a cortex among fat fails the ring tests), the cortex is sought from
  the click (the refused region, or the brightest pixel around the bounded dark
  region at the click) and the reason becomes "kidney" if it is one.

* **Not enhancing** (any modality, said instead of a size refusal): a click on plain
  liver, or on necrosis whose neighbour is the liver, grows into a region larger than
  ``max_diameter_mm``. When a click is refused for its size and, on its slice, it is
  not clearly brighter (by ``min_contrast_sigmas`` noise sigmas) than the upper
  quartile of the tissue ``SURROUNDINGS_MM`` (5-25 mm) around it, the reason says
  that it does not enhance more than its surroundings ("darker" 3 sigmas or more
  below that level), with both levels (HU on CT, a ratio on MR). A click that is not
  darker keeps the size reason when it is clearly brighter than the most common
  tissue within ``DOMINANT_MM`` (65 mm), fat and air left out (the liver; an
  enhancing lesion merged with a larger structure is brighter than it), or, on CT,
  above ``CT_LIVER_MAX_HU`` (150 HU). See :func:`_not_enhancing_reason`.

The MR path uses no intensity value: MR units are arbitrary, so only relative contrast
and shape decide.

Limits: a vessel as bright as the lesion and touching it cannot be told from it by
intensity and is included. The kidney test needs Hounsfield units: on MR a kidney is
not recognised as such (the sample's MR kidney clicks are refused by the other tests,
not guaranteed). A CT lesion whose enhancing tissue encloses, on one slice, both
fat (below -30 HU, 10 mm² or more) and non-enhancing tissue (a fat-containing HCC
with necrosis) is refused as a kidney. On MR, a bright organ smaller than
``max_diameter_mm`` wholly surrounded by one darker tissue (a spleen in fat-suppressed
fat) looks like a lesion to relative contrast alone; on CT its fat ring refuses it. A
lesion of a very steatotic liver below 50 HU, a viable HCC above 300 HU, or a lesion
mostly outside the liver (exophytic, in fat) is refused on CT. A click deep inside
enhancing tissue that fills most of the 65 mm around it and merges into a region larger
than ``max_diameter_mm`` cannot be told from plain liver by relative contrast: on MR, or
on CT at 150 HU or less, it is refused as "not brighter than the tissue around it".
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
from skimage import morphology as skmorphology

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
_convex_hull: Callable[[Mask], Mask] = skmorphology.convex_hull_image
_CROSS = ndimage.generate_binary_structure(2, 1)
_SQUARE = ndimage.generate_binary_structure(2, 2)

# CT plausibility (Hounsfield units, after the median filter); see the module docstring.
CT_DENSE_HU = 500.0  # bone cortex, calcification, lipiodol: never viable tumour
CT_FAT_HU = -100.0  # fat, lung and air: never viable tumour
CT_VIABLE_HU = (50.0, 450.0)  # plausible median of an arterial-phase viable HCC
CT_BACKGROUND_HU = (-30.0, 200.0)  # plausible liver parenchyma, steatotic to enhanced
CT_SOFT_TISSUE_HU = -50.0  # darker than this: fat, lung or air, not liver
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
# A click refused for its size is re-explained by the tissue this far around it (mm).
SURROUNDINGS_MM = (5.0, 25.0)
DOMINANT_MM = 65.0  # ... and by the most common tissue this close to it
CT_LIVER_MAX_HU = 150.0  # brightest arterial-phase liver parenchyma (strong bolus)


class NoEnhancingLesion(MrecistError):
    """No arterially enhancing lesion was found at the clicked point.

    ``str(error)`` starts with "no enhancing lesion at this point"; ``reason`` says why.
    """

    MESSAGE = "no enhancing lesion at this point"

    def __init__(self, reason: str = "") -> None:
        self.reason = reason
        super().__init__(f"{self.MESSAGE}: {reason}" if reason else self.MESSAGE)


class NotEnhancing(NoEnhancingLesion):
    """The clicked tissue does not enhance more than the tissue around it.

    Necrosis, plain liver, a hypovascular nodule: mRECIST measures none of them, so the
    application does not suggest a manual caliper there.
    """


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
    min_darker_ring
        Least fraction of the ring around the region that must be darker than the
        threshold (the region is brighter than its surroundings on most of its boundary).
    min_uniform_ring
        Least fraction of the ring within the background band (``background`` plus or
        minus the larger of 3 noise sigmas and a quarter of the contrast): a lesion sits
        in one tissue (liver), a structure between organs does not.
    min_soft_ring_ct
        CT only: least fraction of the ring (bright vessel pixels left out) that is soft
        tissue darker than the threshold, -50 HU or more (not fat, air or lung).
    max_elongation
        Largest ratio of the craniocaudal run to the in-plane diameter: a longer
        structure is a vessel.
    min_width_ratio
        Least ratio of the region's smallest width to its longest diameter on the slice
        where it is longest: a thinner band is a vessel running in the slice plane.
    tube_end_area, tube_min_slices
        A region on at least ``tube_min_slices`` slices whose end slices both keep at
        least ``tube_end_area`` of its largest cross-section (or that runs through the
        whole series) does not taper like a lesion: it is a vessel.
    cut_end_area
        A region that reaches the first or last slice of the series with at least this
        fraction of its largest cross-section continues beyond the series: refused.

    """

    denoise_width_mm: float = 1.4
    max_diameter_mm: float = 130.0
    ring_inner_mm: float = 2.5
    ring_outer_mm: float = 7.0
    min_contrast_sigmas: float = 5.0
    seed_window_mm: float = 60.0
    min_darker_ring: float = 0.5
    min_uniform_ring: float = 0.25
    min_soft_ring_ct: float = 0.4
    max_elongation: float = 2.0
    min_width_ratio: float = 0.15
    tube_end_area: float = 0.85
    tube_min_slices: int = 4
    cut_end_area: float = 0.5


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


class _TooLarge(NoEnhancingLesion):
    """The region at the click exceeds ``max_diameter_mm`` (re-explained if not bright)."""


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
        The point lies outside the volume, or on no focal region clearly brighter than
        the liver around it: plain liver, necrosis, another organ, a vessel, bone, fat
        or air (on CT also by its Hounsfield units). ``reason`` says which test refused
        it; a click refused for its size that is not brighter than the tissue around it
        is said not to enhance more than its surroundings.

    """
    opts = options or MeasureOptions()
    seed = _seed_index(volume, seed_mm)
    try:
        return _propose(volume, seed, opts)
    except _TooLarge as refusal:
        reason = _not_enhancing_reason(volume, seed, opts)
        if reason is None:
            raise
        raise NotEnhancing(reason) from refusal


def _propose(
    volume: Volume, seed: tuple[int, int, int], opts: MeasureOptions
) -> ViableMeasurement:
    """Measure the lesion at ``seed`` (steps 1-5), or raise why there is none."""
    try:
        levels, seed_plane = _analyse_seed_slice(volume, seed, opts)
    except NoEnhancingLesion:
        _refuse_kidney_near(volume, seed, opts)
        raise
    try:
        _check_focal(volume, seed_plane, levels, opts)
        planes = _follow_lesion(volume, seed_plane, levels, opts)
    except NoEnhancingLesion:
        _refuse_kidney_from(volume, seed_plane, levels, opts)
        raise
    _check_kidney(volume, planes, levels, opts)
    _check_shape(volume, planes, opts)
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
    ring = image[_ring(plane.mask, spacing, opts.ring_inner_mm, opts.ring_outer_mm)]
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
                raise _TooLarge(
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


def _touches_any_border(mask: Mask) -> bool:
    return bool(
        mask[0].any() or mask[-1].any() or mask[:, 0].any() or mask[:, -1].any()
    )


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


def _min_width(plane: _Plane, spacing: tuple[float, float]) -> float:
    """Return the smallest width (minimum Feret diameter) of the region, in mm.

    The smallest width is reached with one caliper jaw on an edge of the convex hull.
    Pixel centres are used, so one pixel is added back.
    """
    points = np.argwhere(plane.mask).astype(np.float64) * np.asarray(spacing)
    try:
        hull = points[ConvexHull(points).vertices]
    except (QhullError, ValueError):  # a line or a point: one pixel wide
        return float(min(spacing))
    edges = np.roll(hull, -1, axis=0) - hull
    lengths = np.hypot(edges[:, 0], edges[:, 1])
    normals = np.column_stack([-edges[:, 1], edges[:, 0]]) / lengths[:, None]
    heights = np.abs(
        normals[:, 0:1] * (hull[None, :, 0] - hull[:, None, 0])
        + normals[:, 1:2] * (hull[None, :, 1] - hull[:, None, 1])
    )
    return float(heights.max(axis=1).min()) + float(min(spacing))


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
