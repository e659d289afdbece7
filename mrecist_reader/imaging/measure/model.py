"""Types of the semi-automatic measurement.

Its options, its result, its refusals, and the levels, windows and planes the steps
pass to each other.
"""

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy import ndimage

from mrecist_reader.core.errors import MrecistError

FloatImage = npt.NDArray[np.float32]
Mask = npt.NDArray[np.bool_]
Points = npt.NDArray[np.float64]
_CROSS = ndimage.generate_binary_structure(2, 1)
_SQUARE = ndimage.generate_binary_structure(2, 2)
# Pixels brighter than the lesion by more than this fraction of its contrast to the
# liver are a vessel, left out by intensity; a vessel less bright is left out by shape.
UPPER_FRACTION = 0.75


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
    viable_outline_mm
        Outline of the segmented viable region on slice ``slice_index``: a tuple of
        closed polygons (the last point joins the first), each a tuple of (x, y, z)
        points in DICOM patient coordinates (mm). A rim around necrosis has two (outer
        and inner); empty when not computed.
    necrotic_outline_mm
        Outline, in the same form, of the non-enhancing (necrotic) part of the lesion
        left out of the viable region on that slice; empty when there is none.
    whole_diameter_mm
        Longest diameter of the whole lesion (viable plus necrotic) on that slice, as
        RECIST 1.1 measures it (mm); NaN when not computed.
    viable_perpendicular_mm
        Longest span of the viable region perpendicular to the caliper (mm): with
        ``diameter_mm`` the EASL bidimensional product; NaN when not computed.
    warnings
        What the reader should check: "touches a vessel: check the outline",
        "touches the liver edge: check the outline", low contrast to the liver, thick
        slices.

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
    viable_outline_mm: tuple[tuple[tuple[float, float, float], ...], ...] = ()
    necrotic_outline_mm: tuple[tuple[tuple[float, float, float], ...], ...] = ()
    whole_diameter_mm: float = math.nan
    viable_perpendicular_mm: float = math.nan
    warnings: tuple[str, ...] = ()


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
    max_similar_ring
        Largest fraction of the ring with the region's own signal (between the lower
        and upper thresholds; brighter vessels are not counted): a focal lesion is
        bounded by darker tissue, a region cut out of liver of similar signal is not.
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
    max_similar_ring: float = 0.2
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
        return self.lesion + UPPER_FRACTION * (self.lesion - self.background)


@dataclass(frozen=True)
class _Window:
    """A denoised in-plane window of one slice; ``origin`` is its (row, column) corner."""

    index: int
    origin: tuple[int, int]
    filtered: FloatImage
    at_image_edge: tuple[bool, bool, bool, bool]

    def local(self, row: int, column: int) -> tuple[int, int]:
        return (row - self.origin[0], column - self.origin[1])


@dataclass(frozen=True, slots=True)
class _Strip:
    """A straight strip (an in-plane vessel cut off), in mm of the whole slice.

    Pixels whose offset along ``normal`` from ``centre`` (row mm, column mm from the
    slice's first pixel) lies in ``[low, high]``.
    """

    centre: tuple[float, float]
    normal: tuple[float, float]
    low: float
    high: float
    slice_index: int = -1  # the slice it was found on

    def reaches(self, index: int, slice_mm: float) -> bool:
        """Say whether the vessel (round, as wide as the strip) reaches slice ``index``."""
        distance = abs(index - self.slice_index) * slice_mm
        return distance <= 0.5 * (self.high - self.low) + slice_mm


@dataclass(frozen=True)
class _Plane:
    """The viable component on one slice, in the coordinates of ``window``.

    ``touches_vessel``: a vessel touching the lesion was cut off this plane's region;
    ``strips``: the in-plane vessels cut off it (or off the plane it was followed from),
    cut off the next slices too.
    """

    window: _Window
    mask: Mask
    touches_vessel: bool = False
    strips: tuple[_Strip, ...] = ()


class _TooLarge(NoEnhancingLesion):
    """The region at the click exceeds ``max_diameter_mm`` (re-explained if not bright)."""


class _LiverRegion(_TooLarge):
    """The region is liver, not a lesion (re-explained, as a size refusal, if not bright).

    Refused by ``border``: a large region holding lesions brighter than itself, or
    with a ragged outline. A click there that is not clearly brighter than the tissue
    around it is said not to enhance more than its surroundings.
    """


class _NotBright(Exception):
    """The clicked region is not brighter than its surroundings (internal signal)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class _WindowTooSmall(Exception):
    """The region reaches the border of its window (internal signal)."""
