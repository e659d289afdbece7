"""The longest viable diameter (step 5) and the caliper it gives.

The maximum Feret diameter of the viable region: on pixel centres, then on sub-pixel
outlines of the best slices.
"""

from collections.abc import Callable
from dataclasses import replace

import numpy as np
import numpy.typing as npt
from scipy import ndimage
from scipy.spatial import ConvexHull, QhullError
from skimage import measure as skmeasure

from mrecist_reader.imaging.geometry import index_to_patient
from mrecist_reader.imaging.measure import outline
from mrecist_reader.imaging.measure.model import (
    _CROSS,
    Mask,
    MeasureOptions,
    Points,
    ViableMeasurement,
    _Levels,
    _Plane,
)
from mrecist_reader.imaging.volume import Volume

_find_contours: Callable[[npt.NDArray[np.float64], float], list[Points]] = (
    skmeasure.find_contours
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


def _subpixel_contours(plane: _Plane, levels: _Levels) -> list[Points]:
    """Return the region's outlines at the thresholds, (row, column) in window pixels."""
    image = plane.window.filtered.astype(np.float64)
    field = np.minimum(image - levels.lower, levels.upper - image)
    field = np.where(plane.mask, np.maximum(field, 1e-6), np.minimum(field, -1e-6))
    padded = np.pad(field, 1, constant_values=-1.0)
    contours: list[Points] = _find_contours(padded, 0.0)
    return [contour - 1.0 for contour in contours]


def _subpixel_outline(plane: _Plane, levels: _Levels) -> Points:
    """Return every point of the region's outlines, (row, column) in window pixels."""
    contours = _subpixel_contours(plane, levels)
    if not contours:
        return np.argwhere(plane.mask).astype(np.float64)
    return np.vstack(contours)


def _measure(
    volume: Volume, planes: list[_Plane], levels: _Levels, opts: MeasureOptions
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
    measurement = _to_measurement(volume, best[1], best[2], levels)
    return _described(volume, measurement, best[1], best[2], levels, planes, opts)


def _described(
    volume: Volume,
    measurement: ViableMeasurement,
    plane: _Plane,
    ends: Points,
    levels: _Levels,
    planes: list[_Plane],
    opts: MeasureOptions,
) -> ViableMeasurement:
    """Add the outlines, the whole and perpendicular diameters and the warnings."""
    k = plane.window.index
    spacing = volume.pixel_spacing_mm
    viable_contours = _subpixel_contours(plane, levels)
    viable, necrotic, origin, edge = outline.necrotic_part(volume, plane, levels, opts)
    necrotic_contours = outline.mask_contours(necrotic) if necrotic.any() else []
    whole = measurement.diameter_mm
    if necrotic.any():
        points = np.vstack(outline.mask_contours(viable | necrotic))
        whole = _feret_pair(points * np.asarray(spacing))[2]
    shift = np.asarray(plane.window.origin, float) - np.asarray(origin, float)
    return replace(
        measurement,
        viable_outline_mm=outline.contours_mm(
            volume, k, plane.window.origin, viable_contours
        ),
        necrotic_outline_mm=outline.contours_mm(volume, k, origin, necrotic_contours),
        whole_diameter_mm=max(whole, measurement.diameter_mm),
        viable_perpendicular_mm=outline.perpendicular_span(
            viable, ends + shift, spacing
        ),
        warnings=outline.warnings_for(volume, planes, levels, at_liver_edge=edge),
    )


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
