"""What the proposal shows besides the caliper (issue 16, items 3-5).

On the proposal's slice: the outline of the segmented viable region and of the necrotic
part left out (so that a leak is visible before the reader accepts), the whole-lesion
longest diameter (viable plus necrotic, what RECIST 1.1 measures), the longest viable
diameter's perpendicular (EASL's bidimensional product), and the warnings.

**Necrotic part.** Tissue enclosed by the viable region (a core), and tissue darker
than the liver by ``max(3 noise sigmas, NECROSIS_DROP * contrast)`` that borders it and
is bounded (it does not reach the border of a window ``WHOLE_MARGIN_MM``
wider than the viable region, and is at most ``NECROSIS_MAX_AREA`` times its area: a
necrotic half); on CT it must be soft tissue (at least -50 HU), never fat, lung or air.
Fat or fluid outside the liver runs on beyond the window and is not counted.

**Liver edge.** Tissue clearly darker than the liver (by ``max(3 noise sigmas,
EDGE_DROP * contrast)``) that runs on beyond that window, within ``EDGE_REACH_MM`` of the
viable region: the lesion touches the liver's edge (fat, air, or the fat-suppressed fat
of MR outside it), and the proposal warns "touches the liver edge: check the outline"
(a lesion there may bulge out of the liver, or be cut by its edge).

**Perpendicular.** The longest span of the viable region along a line perpendicular to
the caliper (first to last viable point along it), over lines across the whole caliper.
"""

from collections.abc import Callable

import numpy as np
import numpy.typing as npt
from scipy import ndimage
from skimage import measure as skmeasure

from mrecist_reader.imaging.geometry import index_to_patient
from mrecist_reader.imaging.measure.model import (
    _CROSS,
    FloatImage,
    Mask,
    MeasureOptions,
    Points,
    _Levels,
    _Plane,
)
from mrecist_reader.imaging.measure.windows import _bounding_box, _window_around
from mrecist_reader.imaging.volume import Volume

_find_contours: Callable[[npt.NDArray[np.float64], float], list[Points]] = (
    skmeasure.find_contours
)
Contour = tuple[tuple[float, float, float], ...]
NECROSIS_DROP = 0.15  # of the lesion-to-liver contrast, below the liver
NECROSIS_MAX_AREA = 2.0  # a bounded dark neighbour larger than this is not necrosis
WHOLE_MARGIN_MM = 20.0
CT_SOFT_TISSUE_HU = -50.0
VESSEL_WARNING = "touches a vessel: check the outline"
EDGE_WARNING = "touches the liver edge: check the outline"
EDGE_DROP = 0.5  # of the lesion-to-liver contrast, below the liver: outside it
EDGE_REACH_MM = 3.0
EDGE_MIN_PIXELS = 5
LOW_CONTRAST_SIGMAS = 8.0
THICK_SLICE_MM = 5.0


def contours_mm(
    volume: Volume, k: int, origin: tuple[int, int], contours: list[Points]
) -> tuple[Contour, ...]:
    """Return window-pixel contours ``(row, column)`` as patient-mm polygons on slice k."""
    result: list[Contour] = []
    for contour in contours:
        if len(contour) < 3:
            continue
        indices = np.column_stack(
            [np.full(len(contour), float(k)), contour + np.asarray(origin, float)]
        )
        points = index_to_patient(volume.affine, indices)
        result.append(tuple((float(x), float(y), float(z)) for x, y, z in points))
    return tuple(result)


def mask_contours(mask: Mask) -> list[Points]:
    """Return the outlines of ``mask`` (half a pixel outside its pixel centres)."""
    padded = np.pad(mask.astype(np.float64), 1)
    found: list[Points] = _find_contours(padded, 0.5)
    return [contour - 1.0 for contour in found]


def necrotic_part(
    volume: Volume, plane: _Plane, levels: _Levels, opts: MeasureOptions
) -> tuple[Mask, Mask, tuple[int, int], bool]:
    """Return (viable, necrotic) masks in a window around the viable region, its origin.

    The last value says whether the region touches the liver edge (:func:`at_edge`).
    """
    r0, r1, c0, c1 = _bounding_box(plane.mask)
    pr, pc = plane.window.origin
    centre = (pr + (r0 + r1) // 2, pc + (c0 + c1) // 2)
    sr, sc = volume.pixel_spacing_mm
    half_mm = 0.5 * max((r1 - r0) * sr, (c1 - c0) * sc) + WHOLE_MARGIN_MM
    window = _window_around(volume, plane.window.index, centre, half_mm, opts)
    height, width = window.filtered.shape
    viable = np.zeros((height, width), dtype=bool)
    rows, columns = np.nonzero(plane.mask)
    rows = rows + pr - window.origin[0]
    columns = columns + pc - window.origin[1]
    inside = (rows >= 0) & (rows < height) & (columns >= 0) & (columns < width)
    viable[rows[inside], columns[inside]] = True
    image = window.filtered
    drop = max(3.0 * levels.noise, NECROSIS_DROP * (levels.lesion - levels.background))
    dark = (image < levels.background - drop) & ~viable
    if volume.series.modality.upper() == "CT":
        dark &= image >= CT_SOFT_TISSUE_HU
    holes = ndimage.binary_fill_holes(viable) & ~viable
    necrotic = np.asarray(holes | _bounded_neighbours(dark, viable))
    edge = at_edge(image, viable, levels, volume.pixel_spacing_mm)
    return viable, necrotic, window.origin, edge


def at_edge(
    image: FloatImage, viable: Mask, levels: _Levels, spacing: tuple[float, float]
) -> bool:
    """Say whether the viable region touches the liver's edge in ``image``.

    Outside the liver is tissue clearly darker than the liver around the lesion (by
    ``max(3 noise sigmas, EDGE_DROP * contrast)``: fat, air, fat-suppressed fat on MR)
    that runs on beyond the window (necrosis is bounded, inside the lesion or the
    liver). It touches the region when at least ``EDGE_MIN_PIXELS`` of it lie within
    ``EDGE_REACH_MM`` of the viable region.
    """
    drop = max(3.0 * levels.noise, EDGE_DROP * (levels.lesion - levels.background))
    dark = image < levels.background - drop
    labels, count = ndimage.label(dark, structure=_CROSS)
    if count == 0:
        return False
    border = np.unique(
        np.concatenate([labels[0], labels[-1], labels[:, 0], labels[:, -1]])
    )
    outside = np.isin(labels, border[border > 0])
    near = ndimage.distance_transform_edt(~viable, sampling=spacing) <= EDGE_REACH_MM
    return bool((outside & near).sum() >= EDGE_MIN_PIXELS)


def _bounded_neighbours(dark: Mask, viable: Mask) -> Mask:
    labels, count = ndimage.label(dark, structure=_CROSS)
    if count == 0:
        return np.zeros_like(dark)
    touching = np.unique(labels[ndimage.binary_dilation(viable, _CROSS) & dark])
    border = np.unique(
        np.concatenate([labels[0], labels[-1], labels[:, 0], labels[:, -1]])
    )
    sizes = np.bincount(labels.ravel(), minlength=count + 1)
    limit = NECROSIS_MAX_AREA * float(viable.sum())
    keep = [
        int(label)
        for label in touching
        if label != 0 and label not in border and sizes[label] <= limit
    ]
    return np.isin(labels, keep) if keep else np.zeros_like(dark)


def perpendicular_span(mask: Mask, ends: Points, spacing: tuple[float, float]) -> float:
    """Return the longest span (mm) of ``mask`` along lines perpendicular to ``ends``.

    ``ends`` are the caliper's end points in the mask's (row, column) pixels.
    """
    scale = np.asarray(spacing, dtype=np.float64)
    start, stop = ends[0] * scale, ends[1] * scale
    length = float(np.hypot(*(stop - start)))
    if length == 0.0:
        return 0.0
    direction = (stop - start) / length
    normal = np.array([-direction[1], direction[0]])
    step = 0.5 * float(min(spacing))
    along = np.arange(0.0, length + step, step)
    reach = np.arange(-length, length + step, step)
    points = (
        start[None, None, :]
        + along[:, None, None] * direction[None, None, :]
        + reach[None, :, None] * normal[None, None, :]
    ) / scale
    values = ndimage.map_coordinates(
        mask.astype(np.float32), points.reshape(-1, 2).T, order=1, cval=0.0
    ).reshape(len(along), len(reach))
    return _longest_span(values >= 0.5, step)


def _longest_span(inside: npt.NDArray[np.bool_], step: float) -> float:
    """Return the longest first-to-last run of True over the rows of ``inside``."""
    rows = inside.any(axis=1)
    if not rows.any():
        return 0.0
    hits = inside[rows]
    first = hits.argmax(axis=1)
    last = hits.shape[1] - 1 - hits[:, ::-1].argmax(axis=1)
    return float((last - first).max()) * step


def warnings_for(
    volume: Volume, planes: list[_Plane], levels: _Levels, at_liver_edge: bool = False
) -> tuple[str, ...]:
    """Return the warnings the reader should see with the proposal."""
    found: list[str] = []
    if any(plane.touches_vessel for plane in planes):
        found.append(VESSEL_WARNING)
    if at_liver_edge:
        found.append(EDGE_WARNING)
    contrast = levels.lesion - levels.background
    if levels.noise > 0 and contrast < LOW_CONTRAST_SIGMAS * levels.noise:
        found.append(
            f"low contrast to the liver ({contrast / levels.noise:.0f} noise sigmas): "
            "check the outline"
        )
    if volume.slice_spacing_mm > THICK_SLICE_MM + 1e-6:
        found.append(
            f"thick slices ({volume.slice_spacing_mm:.1f} mm): the longest diameter "
            "may lie between slices"
        )
    return tuple(found)
