"""Large regions that are liver, not a lesion: brighter foci inside, or a ragged outline.

A lobe or a segment that enhances more than the rest of the liver in the arterial
phase (a perfusion difference: an arterioportal shunt, a compressed or obstructed
portal branch, lobar variation) is, on one slice, a large region brighter than the
liver around it, and relative contrast cannot tell it from a large lesion: the bright
anterior lobe of the real Siemens liver MR of ``../shared/dicom_samples`` was proposed
as an 85-95 mm lesion. Two rules measured on it were rejected (``docs/accuracy.md``):
its outline reaches the liver's edge no more than a real lesion's does, and the ring
around it is no darker than around the mass's enhancing crescent.

What the lobe holds tells it apart: the lesions in it. Its level is the liver level
measured around the marked nodule and the mass's crescent, which lie inside it, and
they are clearly brighter than it. A region is refused when it is at least
``MIN_DIAMETER_MM`` across on the clicked slice and holds a focal area clearly
brighter than itself: a connected area of at least ``FOCUS_MM2`` whose pixels exceed
the region's level by ``min_contrast_sigmas`` noise sigmas (the contrast a lesion
needs against its liver), lying inside the region (holes filled), which surrounds it
on at least ``ENCLOSED`` of the ring 1-3 mm around it. That region is the tissue
those foci enhance against: the liver (or an enhancing lobe of it), and the reader
is told to click on the brighter focus.

A viable tumour is never refused for an area brighter than the *liver* around it,
only for one brighter than *itself*: a homogeneous lesion holds none (its noise, at
5 sigmas of the filtered image, leaves no area of 20 mm²), and a brighter vessel
beside it lies on its edge, not inside it. Limit: a lesion 40 mm or more whose
enhancement is heterogeneous, with a focus clearly brighter than the rest of it
(a nodule in a nodule), is refused when clicked on its less enhancing part; a click
on the brighter focus measures the focus.

**A ragged outline.** Liver that enhances unevenly (the mottled lobe, the tissue
around the mass) gives, at a low contrast, regions whose outline frays into the
tissue around them: on that MR, 30-79 mm regions whose convex hull's perimeter is
0.48-0.73 of their outline's. mRECIST measures well-delineated lesions only; a lesion's
outline is smooth (an ellipse, a rim, a half cut by necrosis, the liver's edge or a
vessel: 0.9 and more on the phantoms, the nodule 1.00, the mass's crescent 0.98). A
region at least ``RAGGED_MIN_DIAMETER_MM`` across whose outer outline (the sub-pixel
iso-line of the thresholds) has a convexity (hull perimeter over outline perimeter)
below ``MIN_CONVEXITY`` is refused.
"""

import math

import numpy as np
from scipy import ndimage
from scipy.spatial import ConvexHull, QhullError

from mrecist_reader.imaging.measure.checks import _ring
from mrecist_reader.imaging.measure.feret import _pixel_feret, _subpixel_contours
from mrecist_reader.imaging.measure.model import (
    _CROSS,
    MeasureOptions,
    _Levels,
    _LiverRegion,
    _Plane,
)
from mrecist_reader.imaging.measure.windows import difference_sigma

MIN_DIAMETER_MM = 40.0
FOCUS_MM2 = 20.0
ENCLOSED = 0.75
FOCUS_RING_MM = (1.0, 3.0)
MIN_NOISE_PAIRS = 200
RAGGED_MIN_DIAMETER_MM = 30.0
MIN_CONVEXITY = 0.8


def check_not_liver(
    plane: _Plane, levels: _Levels, spacing: tuple[float, float], opts: MeasureOptions
) -> None:
    """Refuse ``plane``'s region if it is liver: brighter foci inside, or ragged.

    The region's diameter is measured once for both rules.
    """
    diameter = _pixel_feret(plane, spacing)
    check_holds_no_brighter_lesion(plane, levels, spacing, opts, diameter)
    check_smooth_outline(plane, levels, spacing, diameter)


def check_holds_no_brighter_lesion(
    plane: _Plane,
    levels: _Levels,
    spacing: tuple[float, float],
    opts: MeasureOptions,
    diameter: float,
) -> None:
    """Refuse ``plane``'s region if it holds a focal area clearly brighter than itself.

    ``diameter``: the region's (:func:`~.feret._pixel_feret`), in mm.
    """
    if diameter < MIN_DIAMETER_MM:
        return
    foci = brighter_foci(plane, levels, spacing, opts)
    if not foci:
        return
    raise _LiverRegion(
        f"the region ({diameter:.0f} mm) holds {len(foci)} focal "
        f"area{'s' if len(foci) > 1 else ''} brighter than itself: it is the liver "
        f"they enhance in, not a lesion; click on a brighter area (the largest "
        f"{max(foci):.0f} mm²)"
    )


def brighter_foci(
    plane: _Plane, levels: _Levels, spacing: tuple[float, float], opts: MeasureOptions
) -> list[float]:
    """Return the areas (mm²) of the focal areas inside the region brighter than it."""
    filled = np.asarray(ndimage.binary_fill_holes(plane.mask))
    image = plane.window.filtered
    noise = min(levels.noise, _interior_noise(plane))
    bright = filled & (image > levels.lesion + opts.min_contrast_sigmas * noise)
    labels, count = ndimage.label(bright, structure=_CROSS)
    if count == 0:
        return []
    pixel_mm2 = spacing[0] * spacing[1]
    sizes = np.bincount(labels.ravel(), minlength=count + 1) * pixel_mm2
    found = []
    for label in range(1, count + 1):
        if sizes[label] < FOCUS_MM2:
            continue
        focus = labels == label
        ring = _ring(focus, spacing, *FOCUS_RING_MM)
        if ring.any() and float(filled[ring].mean()) >= ENCLOSED:
            found.append(float(sizes[label]))
    return found


def _interior_noise(plane: _Plane) -> float:
    """Return the noise sigma of the filtered image inside the region.

    As ``windows._noise_sigma`` (robust, from differences of pixels 3 apart), from
    pairs inside the region only: the window's estimate also counts the edges of the
    anatomy around a large region, and may be three times too large.
    """
    inner = ndimage.binary_erosion(plane.mask, _CROSS, iterations=2)
    lag = 3
    both = inner[:, lag:] & inner[:, :-lag]
    if both.sum() < MIN_NOISE_PAIRS:
        return math.inf
    image = plane.window.filtered
    return difference_sigma((image[:, lag:] - image[:, :-lag])[both])


def check_smooth_outline(
    plane: _Plane, levels: _Levels, spacing: tuple[float, float], diameter: float
) -> None:
    """Refuse a large region whose outline is ragged (not a well-delineated lesion).

    ``diameter``: the region's (:func:`~.feret._pixel_feret`), in mm.
    """
    if diameter < RAGGED_MIN_DIAMETER_MM:
        return
    ratio = convexity(plane, levels, spacing)
    if ratio >= MIN_CONVEXITY:
        return
    raise _LiverRegion(
        f"the region ({diameter:.0f} mm) has a ragged outline: liver that enhances "
        "unevenly, not a well-delineated lesion (its convex hull's perimeter is "
        f"{100 * ratio:.0f} % of its own, at least {100 * MIN_CONVEXITY:.0f} % "
        "needed)"
    )


def convexity(plane: _Plane, levels: _Levels, spacing: tuple[float, float]) -> float:
    """Return the perimeter of the outer outline's convex hull over its own (0-1]."""
    contours = _subpixel_contours(plane, levels)
    if not contours:
        return 1.0
    outline = max(contours, key=len) * np.asarray(spacing, dtype=np.float64)
    perimeter = float(np.hypot(*np.diff(outline, axis=0).T).sum())
    try:
        hull = ConvexHull(outline)
    except QhullError:
        return 1.0
    # In two dimensions ConvexHull.area is the hull's perimeter.
    return min(1.0, float(hull.area) / perimeter) if perimeter > 0 else 1.0
