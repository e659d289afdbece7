"""Separating a lesion from an enhancing vessel that touches it (issue 16).

A vessel as bright as the lesion cannot be left out by its intensity; it is left out by
its shape, which differs from a lesion's in two ways:

* **In the slice plane** a vessel is a band of constant width, at most
  ``BAND_RADIUS_MM`` (6 mm) in radius, that runs on beyond the lesion. An opening of the
  region (holes filled) by a disk of that radius (or of 4 or 2.5 mm when a small lesion
  holds no 6 mm disk) (two Euclidean distance transforms, so the disk is
  exact in millimetres on anisotropic pixels) keeps the lesion's body and removes the
  band; a removed piece is a vessel when it is straight (the narrow side of its convex
  principal axis, robustly, at most the band's width) and reaches at least ``BAND_REACH_MM`` (10 mm) beyond
  the convex hull of what remains, and at most ``BAND_MAX_CONTACT`` (a quarter) of its
  edge is joined to the body (a strip peeled off the edge of a larger region lies
  along it over a whole side), and the region holds a disk at least
  ``BAND_BODY_RATIO`` (1.8) times the band's half-width in radius (a lesion is clearly
  wider than the vessel beside it; a vessel trunk keeps its branches); the strip along the band may take at most
  ``BAND_MAX_STRIP`` times the band's own area of the region; a cut that would leave more than ``BAND_MAX_LOST`` of the
  region beyond the strip is not made (a straight edge inside an organ). The other pieces the opening removes (the tips of a
  narrow ellipse, the thin sides of a rim around necrosis) lie along the lesion's own
  hull and are kept.
* **Head to foot** a vessel's cross-section is small, round and the same from slice to
  slice, and it runs on beyond the lesion's ends, where a lesion tapers. When the end
  planes of the region followed through the slices hold such a track (at least
  ``TRACK_MIN_SLICES`` slices and ``TRACK_MIN_MM`` mm, each cross-section at most
  ``TRACK_MAX_AREA_MM2`` and within a factor ``TRACK_AREA_SPREAD`` of the track's median),
  and the planes between hold something clearly wider (twice the track's area), the
  track is a vessel: it is dropped, and on the lesion's planes its cross-section is
  removed where a straight line through the track's centroids puts it (the track's
  nearest cross-section moved there, widened by one pixel for its partial-volume fringe).

A wide vessel touching a large lesion only over its widest slices is apart from it on
the slices above and below (where the lesion tapers), so the lesion is followed
without it and no track is found: it is found from those separate cross-sections
beside the lesion instead (:func:`separate_beside`). A small lesion holding no disk
wider than the in-plane vessel beside it is cut off the straight band that runs out of
the window (:func:`cut_bands`, ``_cut_through``).

A region that is all track (a vessel clicked on its own) is left as it is, for the shape
tests to refuse. Every separation sets ``touches_vessel``, and the proposal says "touches
a vessel: check the outline".
"""

import math
from collections.abc import Callable

import numpy as np
import numpy.typing as npt
from scipy import ndimage
from skimage import morphology as skmorphology

from mrecist_reader.imaging.measure.feret import _pixel_feret
from mrecist_reader.imaging.measure.model import (
    _CROSS,
    _SQUARE,
    Mask,
    _Plane,
    _Strip,
    _Window,
)

_convex_hull: Callable[[Mask], Mask] = skmorphology.convex_hull_image
BAND_RADIUS_MM = 6.0  # widest vessel left out in the slice plane: 12 mm across
# ... or narrower, when a small lesion holds no disk that wide.
BAND_RADII_MM = (BAND_RADIUS_MM, 4.0, 2.5)
BAND_BODY_RATIO = 1.8  # the body's inscribed radius over the band's half-width
# ... or this, for a band that runs straight past the lesion (on both sides of it).
BAND_THROUGH_RATIO = 1.2
BAND_THROUGH_WIDTH = 1.25  # two pieces of one straight band: together this much wider
BAND_REACH_MM = 10.0
BAND_MIN_ELONGATION = 2.0  # length over width of a band ending inside the window
BAND_MAX_CONTACT = 0.25  # of the band's edge joined to the lesion's body
BAND_MAX_STRIP = 3.0  # region area in a vessel's strip, at most this times the band's
BAND_MAX_LOST = 0.25  # of the kept region, cut off beyond a vessel's strip  # a vessel runs on at least this far beyond the lesion
# A small lesion (the lesions no opening separates) lies within this of the click.
THROUGH_FAR_MM = 25.0
TRACK_MIN_SLICES = 3
TRACK_MIN_MM = 10.0
TRACK_MAX_AREA_MM2 = math.pi * 7.0**2  # a vessel up to 14 mm across
TRACK_AREA_SPREAD = 1.7
TRACK_SLACK_MM2 = 15.0  # ... plus this, for the few pixels of a thin or faint track
TRACK_OFF_LINE_PX = (
    1.5  # a track plane's centroid this far off the fitted line is not clean
)
TRACK_LESION_RATIO = 2.0  # the lesion's widest plane is at least twice the track


def _opening(mask: Mask, spacing: tuple[float, float], radius_mm: float) -> Mask:
    """Return the opening of ``mask`` by a disk of ``radius_mm`` (exact, in mm)."""
    padded = np.pad(mask, 1)
    inside = ndimage.distance_transform_edt(padded, sampling=spacing)
    core = inside > radius_mm
    if not core.any():
        return np.zeros_like(mask)
    outside = ndimage.distance_transform_edt(~core, sampling=spacing)
    return np.asarray((outside <= radius_mm) & padded)[1:-1, 1:-1]


def _hull_image(mask: Mask) -> Mask:
    return np.asarray(_convex_hull(mask), dtype=np.bool_)


def cut_bands(
    region: Mask,
    seed: tuple[int, int] | None,
    spacing: tuple[float, float],
    origin: tuple[int, int] = (0, 0),
    index: int = -1,
) -> tuple[Mask, tuple[_Strip, ...]]:
    """Return ``region`` without the vessels running through it in the slice plane.

    The second value holds the strips of the vessels cut off (none: no vessel), in mm
    of the whole slice ``index`` (``origin`` is the window's corner). ``seed`` (local pixel),
    when given, picks the part kept; otherwise the largest part is kept.
    """
    if region.sum() < 30:
        return region, ()
    # Holes (noise in a first region, a necrotic core) are filled: the lesion's body is
    # what a disk fits in, necrosis included.
    filled = np.asarray(ndimage.binary_fill_holes(region))
    for radius_mm in BAND_RADII_MM:
        body = _opening(filled, spacing, radius_mm)
        if not body.any():
            continue
        if _touches_border(body):
            # Not a lesion inside this window (plain liver, an organ): the window
            # grows, or the region is refused for its size, vessel or not. A small
            # lesion beside a vessel as wide as itself may be one (below).
            break
        removed, long_left, strips = _bands(filled, body, spacing, radius_mm)
        if removed.any():
            kept = _part_at(region & ~removed, seed)
            if kept is None:
                return region, ()
            # Cutting a vessel off loses the vessel. Cutting a region in two (a
            # straight edge inside an organ) would lose a large part of it: no cut.
            lost = region & ~removed & ~kept
            if lost.sum() > BAND_MAX_LOST * kept.sum():
                return region, ()
            return kept, _placed(strips, origin, spacing, index)
        if not long_left:
            break  # nothing long enough to be a band hidden in a wider piece
    if seed is not None and _touches_border(region):
        return _cut_through(region, seed, spacing, origin, index)
    return region, ()


def _cut_through(
    region: Mask,
    seed: tuple[int, int],
    spacing: tuple[float, float],
    origin: tuple[int, int],
    index: int,
) -> tuple[Mask, tuple[_Strip, ...]]:
    """Cut off a small lesion the straight vessels that run out of the window.

    A lesion holding no disk wider than the vessel beside it is not separated by an
    opening. Its vessel runs straight on out of the window: the region's pieces
    further than ``THROUGH_FAR_MM`` from the click (beyond a small lesion) that are
    straight bands at most ``2 * BAND_RADIUS_MM`` wide are followed back along their
    axes; where the band runs on without a gap to within ``THROUGH_FAR_MM`` of the
    click, its strip is cut off. What remains at the click must then lie inside the
    window (no other structure runs on out of it) and keep most of the region left
    beyond the strips (``BAND_MAX_LOST``).
    """
    rows, columns = np.indices(region.shape)
    distance = np.hypot((rows - seed[0]) * spacing[0], (columns - seed[1]) * spacing[1])
    far, count = ndimage.label(region & (distance > THROUGH_FAR_MM), structure=_CROSS)
    strips: list[_StripAxis] = []
    cut = np.zeros_like(region)
    for label in range(1, count + 1):
        piece = far == label
        if piece.sum() < 10:
            continue
        low, high, centre, normal = _band_axis(piece, spacing)
        if high - low > 2.0 * BAND_RADIUS_MM + 2.0 * max(spacing):
            continue
        if _pixel_feret(_Plane(_dummy_window(piece), piece), spacing) < BAND_REACH_MM:
            continue
        margin = 0.5 * max(spacing)
        offset = _across(region.shape, centre, normal, spacing)
        strip = (offset >= low - margin) & (offset <= high + margin)
        if strip[seed] or not _runs_to(region & strip, seed, distance, spacing):
            continue
        cut |= strip
        strips.append((low - margin, high + margin, centre, normal))
    if not strips:
        return region, ()
    rest = region & ~cut
    # What the partial-volume fringe leaves of the vessel along the cut is a sliver.
    zone = ndimage.binary_dilation(cut, _CROSS, iterations=3)
    rest &= ndimage.binary_opening(rest, _CROSS) | ~zone
    kept = _part_at(rest, seed)
    if kept is None or not kept[seed] or _touches_border(kept):
        return region, ()
    lost = rest & ~kept
    if lost.sum() > BAND_MAX_LOST * kept.sum():
        return region, ()
    return kept, _placed(strips, origin, spacing, index)


def _runs_to(
    band: Mask,
    seed: tuple[int, int],
    distance: npt.NDArray[np.float64],
    spacing: tuple[float, float],
) -> bool:
    """Say whether the band's pixels reach the click's surroundings without a gap.

    The component of ``band`` (the region within the strip) that holds pixels beyond
    ``THROUGH_FAR_MM`` must also come within ``THROUGH_FAR_MM`` of the click.
    """
    labels, count = ndimage.label(band, structure=_CROSS)
    for label in range(1, count + 1):
        part = labels == label
        near = distance[part]
        if near.max() > THROUGH_FAR_MM and near.min() <= THROUGH_FAR_MM - 2.0 * max(
            spacing
        ):
            return True
    return False


def strips_mask(
    strips: tuple[_Strip, ...],
    shape: tuple[int, ...],
    origin: tuple[int, int],
    spacing: tuple[float, float],
) -> Mask:
    """Return the pixels of a window (corner ``origin``) lying in any of ``strips``."""
    found = np.zeros(shape[:2], dtype=bool)
    for strip in strips:
        offset = _across(shape, strip.centre, strip.normal, spacing, origin)
        found |= (offset >= strip.low) & (offset <= strip.high)
    return found


def _across(
    shape: tuple[int, ...],
    centre: tuple[float, float] | npt.NDArray[np.float64],
    normal: tuple[float, float] | npt.NDArray[np.float64],
    spacing: tuple[float, float],
    origin: tuple[int, int] = (0, 0),
) -> npt.NDArray[np.float64]:
    """Return each pixel's offset (mm) across the axis through ``centre``.

    ``shape``: a window whose corner is pixel ``origin`` of the slice, in whose
    millimetres ``centre`` is given.
    """
    rows, columns = np.indices(shape[:2])
    return np.asarray(
        ((rows + origin[0]) * spacing[0] - centre[0]) * normal[0]
        + ((columns + origin[1]) * spacing[1] - centre[1]) * normal[1],
        dtype=np.float64,
    )


_StripAxis = tuple[float, float, npt.NDArray[np.float64], npt.NDArray[np.float64]]


def _placed(
    strips: list[_StripAxis],
    origin: tuple[int, int],
    spacing: tuple[float, float],
    index: int,
) -> tuple[_Strip, ...]:
    """Return the strips of slice ``index`` in the slice's millimetres (from a window's)."""
    shift = np.asarray(origin, np.float64) * np.asarray(spacing)
    return tuple(
        _Strip(
            (float(c[0] + shift[0]), float(c[1] + shift[1])),
            (float(n[0]), float(n[1])),
            low,
            high,
            index,
        )
        for low, high, c, n in strips
    )


def _bands(
    filled: Mask, body: Mask, spacing: tuple[float, float], radius_mm: float
) -> tuple[Mask, bool, list[_StripAxis]]:
    """Return the strips of the bands outside ``body``, and if a long piece was left.

    A long piece that is not a band (wider than one) may be a band joined to a thin
    part of the lesion: a smaller disk may part them.
    """
    pieces, count = ndimage.label(filled & ~body, structure=_CROSS)
    width_limit = 2.0 * radius_mm + 2.0 * max(spacing)
    sizes = np.bincount(pieces.ravel(), minlength=count + 1)
    removed = np.zeros_like(filled)
    long_left = False
    axes: list[_StripAxis] = []
    labels = [label for label in range(1, count + 1) if sizes[label] >= 10]
    through = _through_pieces(pieces, labels, spacing, width_limit)
    for label in labels:
        piece = pieces == label
        ratio = BAND_THROUGH_RATIO if label in through else BAND_BODY_RATIO
        if _is_band(piece, filled, spacing, width_limit, ratio) and _leaves(
            piece, body
        ):
            strip = _strip(piece, filled.shape, spacing)
            # The strip takes the band and the part of it the opening kept; a strip
            # taking much more runs across a larger region, not beside a lesion.
            if (strip & filled).sum() <= BAND_MAX_STRIP * sizes[label]:
                removed |= strip
                low, high, centre, normal = _band_axis(piece, spacing)
                margin = max(spacing)
                axes.append((low - margin, high + margin, centre, normal))
        elif (
            _pixel_feret(_Plane(_dummy_window(piece), piece), spacing)
            >= 2 * BAND_REACH_MM
        ):
            long_left = True
    return removed, long_left, axes


def _through_pieces(
    pieces: npt.NDArray[np.int32],
    labels: list[int],
    spacing: tuple[float, float],
    width_limit: float,
) -> set[int]:
    """Return the labels of pieces that are two ends of one straight band.

    A vessel running past the lesion leaves the body on both sides along one straight
    strip: the two pieces together are no wider than the wider of them (plus a quarter).
    A vessel's branches leave its trunk at an angle, so they are never such a pair.
    """
    widths = {}
    for label in labels:
        low, high, _, _ = _band_axis(pieces == label, spacing)
        widths[label] = high - low
    found: set[int] = set()
    for n, first in enumerate(labels):
        for second in labels[n + 1 :]:
            if widths[first] > width_limit or widths[second] > width_limit:
                continue
            low, high, _, _ = _band_axis(np.isin(pieces, (first, second)), spacing)
            if high - low <= BAND_THROUGH_WIDTH * max(widths[first], widths[second]):
                found.update((first, second))
    return found


def _is_band(
    piece: Mask,
    region: Mask,
    spacing: tuple[float, float],
    width_limit: float,
    body_ratio: float = BAND_BODY_RATIO,
) -> bool:
    low, high, centre, normal = _band_axis(piece, spacing)
    if high - low > width_limit:
        return False
    # A band is long, or runs on out of the window; a piece hardly longer than wide
    # that ends inside it is the round cross-section of a vessel running head to
    # foot (left to the track tests), whose strip would cut through the lesion.
    points = np.argwhere(piece) * np.asarray(spacing)
    length = float(np.ptp((points - centre) @ np.array([normal[1], -normal[0]])))
    if length < BAND_MIN_ELONGATION * (high - low) and not _touches_border(piece):
        return False
    # A lesion is clearly wider than the vessel beside it; a vessel's trunk is not
    # (its branches are not cut off it). A vessel running straight past the lesion
    # (a band on both sides) needs a body only a little wider than itself.
    inscribed = float(ndimage.distance_transform_edt(region, sampling=spacing).max())
    if inscribed < body_ratio * 0.5 * (high - low):
        return False
    if _pixel_feret(_Plane(_dummy_window(piece), piece), spacing) < BAND_REACH_MM:
        return False
    rest = region & ~piece
    if not rest.any():
        return False
    outside = ~_hull_image(rest)
    reach = ndimage.distance_transform_edt(outside, sampling=spacing)
    return bool(reach[piece].max() >= BAND_REACH_MM)


def _leaves(piece: Mask, body: Mask) -> bool:
    """Say whether ``piece`` leaves the body: joined to it over a short part of its edge.

    A vessel touches the lesion over a short length and runs on between darker tissue;
    a strip peeled off the edge of a larger region (a part of an organ) lies along the
    body over one whole side.
    """
    edge = piece & ~ndimage.binary_erosion(piece, _CROSS)
    contact = edge & ndimage.binary_dilation(body, _CROSS)
    return bool(contact.sum() <= BAND_MAX_CONTACT * edge.sum())


def _band_axis(
    piece: Mask, spacing: tuple[float, float]
) -> tuple[float, float, npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """Return the band's extent across its axis (mm), its centre and its normal.

    Robust: the 3rd-97th percentiles across the principal axis, widened by 6 %, so
    that a sliver of the lesion's edge joined to the band does not widen it.
    """
    points = np.argwhere(piece) * np.asarray(spacing)
    centre = points.mean(axis=0)
    _, _, axes = np.linalg.svd(points - centre, full_matrices=False)
    normal = np.asarray(axes[1], dtype=np.float64)
    across = (points - centre) @ normal
    low, high = (float(v) for v in np.percentile(across, [3.0, 97.0]))
    return low - 0.06 * (high - low), high + 0.06 * (high - low), centre, normal


def _strip(piece: Mask, shape: tuple[int, ...], spacing: tuple[float, float]) -> Mask:
    """Return the straight strip the band ``piece`` belongs to, one pixel wider.

    The opening keeps the part of a band lying flat along the lesion's edge (a disk
    fits across both); the whole strip along the band's axis is removed instead.
    """
    low, high, centre, normal = _band_axis(piece, spacing)
    offset = _across(shape, centre, normal, spacing)
    margin = max(spacing)
    return np.asarray((offset >= low - margin) & (offset <= high + margin))


def _touches_border(mask: Mask) -> bool:
    return bool(
        mask[0].any() or mask[-1].any() or mask[:, 0].any() or mask[:, -1].any()
    )


def _dummy_window(mask: Mask) -> _Window:
    return _Window(-1, (0, 0), np.zeros(mask.shape, np.float32), (False,) * 4)


def _part_at(mask: Mask, seed: tuple[int, int] | None) -> Mask | None:
    labels, count = ndimage.label(mask, structure=_CROSS)
    if count == 0:
        return None
    label = int(labels[seed]) if seed is not None else 0
    if label == 0:
        sizes = np.bincount(labels.ravel(), minlength=count + 1)
        sizes[0] = 0
        label = int(sizes.argmax())
    return np.asarray(labels == label)


# ------------------------------------------------------------------ head-to-foot track


def _area_mm2(plane: _Plane, spacing: tuple[float, float]) -> float:
    return float(plane.mask.sum()) * spacing[0] * spacing[1]


def _centroid(plane: _Plane) -> tuple[float, float]:
    rows, columns = np.nonzero(plane.mask)
    origin = plane.window.origin
    return (float(rows.mean()) + origin[0], float(columns.mean()) + origin[1])


def _tail_length(
    planes: list[_Plane], spacing: tuple[float, float], slice_mm: float
) -> int:
    """Return how many planes from the start of ``planes`` form a vessel track."""
    areas: list[float] = []
    for plane in planes:
        area = _area_mm2(plane, spacing)
        if area > TRACK_MAX_AREA_MM2:
            break
        if (
            areas
            and area > TRACK_AREA_SPREAD * float(np.median(areas)) + TRACK_SLACK_MM2
        ):
            break
        areas.append(area)
    n = len(areas)
    if n < TRACK_MIN_SLICES or n * slice_mm < TRACK_MIN_MM:
        return 0
    return n


def separate_track(
    planes: list[_Plane], spacing: tuple[float, float], slice_mm: float
) -> tuple[list[_Plane], bool]:
    """Return the lesion's planes without a vessel running head to foot beside it.

    ``planes`` are the followed planes in any order; the result is sorted by slice.
    The second value says whether a vessel track was found and removed.
    """
    ordered = sorted(planes, key=lambda plane: plane.window.index)
    low = _tail_length(ordered, spacing, slice_mm)
    high = _tail_length(ordered[::-1], spacing, slice_mm)
    if low == 0 and high == 0:
        return ordered, False
    lesion = ordered[low : len(ordered) - high]
    track = ordered[:low] + ordered[len(ordered) - high :]
    if not lesion:
        return ordered, False
    track_area = float(np.median([_area_mm2(p, spacing) for p in track]))
    if max(_area_mm2(p, spacing) for p in lesion) < TRACK_LESION_RATIO * track_area:
        return ordered, False
    # The track's planes next to the lesion may hold a piece of its cap: the fit and
    # the template use the planes whose area is the track's own.
    clean = [
        plane
        for plane in track
        if 0.6 * track_area <= _area_mm2(plane, spacing) <= 1.4 * track_area
    ]
    if not clean:
        return ordered, False
    ends = (lesion[0].window.index, lesion[-1].window.index)
    near = sorted(
        clean, key=lambda plane: min(abs(plane.window.index - e) for e in ends)
    )[:12]
    # A plane next to the lesion may still hold a sliver of its cap, which pulls its
    # centroid off the track: planes off the fitted line are left out of the fit and
    # of the templates.
    line = _fit_track(near)
    on_line = _on_line(near, line)
    if on_line:
        near = on_line
        line = _fit_track(near)
    cleaned = [
        _without_track(plane, line, _nearest(near, plane.window.index))
        for plane in lesion
    ]
    kept = [plane for plane in cleaned if plane is not None]
    if not kept:
        return ordered, False
    return kept, True


def _fit_track(track: list[_Plane]) -> tuple[np.ndarray, np.ndarray]:
    """Return (slope, intercept) of row and column against slice index (least squares)."""
    ks = np.array([plane.window.index for plane in track], dtype=np.float64)
    centres = np.array([_centroid(plane) for plane in track])
    if np.ptp(ks) == 0:
        return np.zeros(2), centres.mean(axis=0)
    design = np.column_stack([ks, np.ones_like(ks)])
    solution, *_ = np.linalg.lstsq(design, centres, rcond=None)
    return solution[0], solution[1]


def _on_line(track: list[_Plane], line: tuple[np.ndarray, np.ndarray]) -> list[_Plane]:
    """Return the planes of ``track`` whose centroid lies near the fitted line.

    Near: within ``TRACK_OFF_LINE_PX`` pixels, or twice the median distance if larger.
    """
    slope, intercept = line
    distances = np.array(
        [
            float(
                np.hypot(
                    *(np.asarray(_centroid(p)) - (slope * p.window.index + intercept))
                )
            )
            for p in track
        ]
    )
    limit = max(TRACK_OFF_LINE_PX, 2.0 * float(np.median(distances)))
    return [p for p, d in zip(track, distances, strict=True) if d <= limit]


def _nearest(track: list[_Plane], k: int) -> _Plane:
    return min(track, key=lambda plane: abs(plane.window.index - k))


def _without_track(
    plane: _Plane, line: tuple[np.ndarray, np.ndarray], template: _Plane
) -> _Plane | None:
    """Return ``plane`` minus the vessel's cross-section predicted on its slice."""
    slope, intercept = line
    k = plane.window.index
    predicted = slope * k + intercept
    shift = predicted - np.asarray(_centroid(template))
    rows, columns = np.nonzero(template.mask)
    rows = np.rint(rows + template.window.origin[0] + shift[0]).astype(int)
    columns = np.rint(columns + template.window.origin[1] + shift[1]).astype(int)
    rows -= plane.window.origin[0]
    columns -= plane.window.origin[1]
    inside = (
        (rows >= 0)
        & (rows < plane.mask.shape[0])
        & (columns >= 0)
        & (columns < plane.mask.shape[1])
    )
    vessel = np.zeros_like(plane.mask)
    vessel[rows[inside], columns[inside]] = True
    vessel = ndimage.binary_dilation(vessel, _CROSS)
    rest = plane.mask & ~vessel
    # What the partial-volume fringe leaves of the vessel is a sliver: a one-pixel
    # opening near the vessel drops it.
    zone = ndimage.binary_dilation(vessel, _CROSS, iterations=3)
    rest &= ndimage.binary_opening(rest, _CROSS) | ~zone
    kept = _part_at(rest, None)
    if kept is None:
        return None
    return _Plane(plane.window, kept)


# ------------------------------------------------------- a track beside the lesion

# A vessel beside the lesion is seen apart from it on at least this many slices and mm
# (its line through them must also meet the lesion's planes).
BESIDE_MIN_SLICES = 2
BESIDE_MIN_MM = 5.0
SATELLITE_MIN_MM2 = 5.0  # a vessel 1.3 mm in radius or more; noise specks are smaller
SATELLITE_MIN_OVERLAP = 0.25  # of the predicted cross-section lying on the lesion


def separate_beside(
    planes: list[_Plane],
    around: list[tuple[_Plane, Mask]],
    spacing: tuple[float, float],
    slice_mm: float,
) -> list[_Plane]:
    """Return the lesion's planes without a vessel that runs beside it head to foot.

    A vessel touching a large lesion near its widest slices leaves it on the slices
    above and below, where the lesion tapers: there it is a separate bright
    cross-section beside the lesion (``around[i]`` holds ``planes[i]``'s region in a
    wider window and that window's viable mask), small, about the same from slice to slice, on
    a straight line: at least ``BESIDE_MIN_SLICES`` slices and ``BESIDE_MIN_MM`` mm,
    on one side of the lesion's widest slices or on both (two chains on one line are
    one vessel). Where that line meets the lesion's planes (the vessel's predicted
    cross-section takes at least ``SATELLITE_MIN_OVERLAP`` of its own area off them),
    the vessel's cross-section (the nearest separate one, moved onto the line) is
    removed, as for a track the lesion was followed into (:func:`separate_track`), and
    the plane marked as touching a vessel.
    """
    order = sorted(range(len(planes)), key=lambda i: planes[i].window.index)
    ordered = [planes[i] for i in order]
    found: dict[int, list[_Plane]] = {}
    for i in order:
        found[planes[i].window.index] = _satellites(*around[i], spacing)
    for track in _tracks(_chains(found)):
        if _is_vessel_chain(track, spacing, slice_mm):
            ordered = _remove_chain(ordered, track)
    return ordered


def _satellites(
    plane: _Plane, viable: Mask, spacing: tuple[float, float]
) -> list[_Plane]:
    """Return the small viable components beside ``plane``'s region, whole in its window."""
    labels, count = ndimage.label(viable, structure=_CROSS)
    if count == 0:
        return []
    pixel_mm2 = spacing[0] * spacing[1]
    sizes = np.bincount(labels.ravel(), minlength=count + 1)
    touching = set(np.unique(labels[plane.mask]).tolist())
    border = set(
        np.unique(
            np.concatenate([labels[0], labels[-1], labels[:, 0], labels[:, -1]])
        ).tolist()
    )
    found = []
    for label in range(1, count + 1):
        area = sizes[label] * pixel_mm2
        if label in touching or label in border:
            continue
        if not SATELLITE_MIN_MM2 <= area <= TRACK_MAX_AREA_MM2:
            continue
        found.append(_Plane(plane.window, np.asarray(labels == label)))
    return found


def _global_pixels(plane: _Plane) -> set[tuple[int, int]]:
    rows, columns = np.nonzero(plane.mask)
    origin = plane.window.origin
    return set(
        zip((rows + origin[0]).tolist(), (columns + origin[1]).tolist(), strict=True)
    )


def _chains(found: dict[int, list[_Plane]]) -> list[list[_Plane]]:
    """Link the satellites of consecutive slices that overlap into chains."""
    chains: list[list[_Plane]] = []
    open_chains: list[tuple[list[_Plane], set[tuple[int, int]]]] = []
    for k in sorted(found):
        next_open = []
        for satellite in found[k]:
            pixels = _global_pixels(satellite)
            for chain, last in open_chains:
                if chain[-1].window.index == k - 1 and pixels & last:
                    chain.append(satellite)
                    next_open.append((chain, pixels))
                    break
            else:
                chain = [satellite]
                chains.append(chain)
                next_open.append((chain, pixels))
        open_chains = next_open
    return chains


def _tracks(chains: list[list[_Plane]]) -> list[list[_Plane]]:
    """Join the chains that lie on one straight line (a vessel seen on both sides).

    A vessel touching the lesion over its widest slices is apart from it above and
    below: two chains, perhaps of one or two slices each on thick slices.
    """
    tracks: list[list[_Plane]] = []
    for chain in sorted(chains, key=len, reverse=True):
        for track in tracks:
            joined = sorted(track + chain, key=lambda plane: plane.window.index)
            if _collinear(joined):
                track[:] = joined
                break
        else:
            tracks.append(list(chain))
    return tracks


def _collinear(planes: list[_Plane]) -> bool:
    """Say whether the centroids of ``planes`` lie on one line (``TRACK_OFF_LINE_PX``)."""
    if len({plane.window.index for plane in planes}) < len(planes):
        return False
    slope, intercept = _fit_track(planes)
    return all(
        float(
            np.hypot(*(np.asarray(_centroid(p)) - (slope * p.window.index + intercept)))
        )
        <= TRACK_OFF_LINE_PX
        for p in planes
    )


def _is_vessel_chain(
    chain: list[_Plane], spacing: tuple[float, float], slice_mm: float
) -> bool:
    """Say whether a track of satellites is a vessel: long enough and of even size."""
    indices = [plane.window.index for plane in chain]
    span_mm = (max(indices) - min(indices) + 1) * slice_mm
    if len(chain) < BESIDE_MIN_SLICES or span_mm < BESIDE_MIN_MM:
        return False
    areas = np.array([_area_mm2(plane, spacing) for plane in chain])
    median = float(np.median(areas))
    return bool(
        areas.max() <= TRACK_AREA_SPREAD * median + TRACK_SLACK_MM2
        and areas.min() >= median / TRACK_AREA_SPREAD - TRACK_SLACK_MM2
    )


def _remove_chain(ordered: list[_Plane], chain: list[_Plane]) -> list[_Plane]:
    """Remove the chain's vessel from the lesion's planes it runs into."""
    line = _fit_track(chain)
    on_line = _on_line(chain, line)
    if len(on_line) >= TRACK_MIN_SLICES:
        chain = on_line
        line = _fit_track(chain)
    by_index = {plane.window.index: n for n, plane in enumerate(ordered)}
    result = list(ordered)
    indices = {p.window.index for p in chain}
    for k, n in by_index.items():
        if k in indices:
            continue  # the vessel is apart from the lesion on this slice
        plane = result[n]
        template = _nearest(chain, k)
        cleaned = _without_track(plane, line, template)
        if cleaned is None:
            continue
        lost = int(plane.mask.sum() - cleaned.mask.sum())
        if lost >= SATELLITE_MIN_OVERLAP * int(template.mask.sum()):
            result[n] = _Plane(plane.window, cleaned.mask, True, plane.strips)
    return result


# ------------------------------------------------------------- strands of a vessel

STRAND_MIN_PX = 4
STRAND_REACH_MM = 2.0


def drop_strands(planes: list[_Plane], spacing: tuple[float, float]) -> list[_Plane]:
    """Return the planes without thin strands sticking out of the lesion.

    On a slice off a thin vessel's axis, the vessel is a faint line one or two pixels
    wide, and where it passes the lesion a piece of it may lie in the viable range,
    joined to the lesion: a strand that lengthens the diameter by several
    millimetres. A piece that a one-pixel opening removes (at most two pixels wide)
    and that reaches ``STRAND_REACH_MM`` or more beyond the convex hull of the opened
    region is dropped. The corners of a half cut by necrosis and the sides of a thin
    rim lie on that hull (within a pixel of it), and are kept. Only the planes with at
    least half the largest area (those that may hold the longest diameter) are
    looked at.
    """
    largest = max(int(plane.mask.sum()) for plane in planes)
    result = []
    for plane in planes:
        if plane.mask.sum() >= 0.5 * largest:
            mask = _without_strands(plane.mask, spacing)
            if mask is not None:
                plane = _Plane(plane.window, mask, plane.touches_vessel, plane.strips)
        result.append(plane)
    return result


def _without_strands(mask: Mask, spacing: tuple[float, float]) -> Mask | None:
    """Return ``mask`` without its protruding strands (None: nothing dropped)."""
    opened = ndimage.binary_opening(mask, _CROSS)
    parts, n_parts = ndimage.label(opened, structure=_CROSS)
    if n_parts == 0:
        return None
    # The body: what the opening keeps, but the bits of a strand three pixels wide.
    part_sizes = np.bincount(parts.ravel(), minlength=n_parts + 1)
    part_sizes[0] = 0
    opened = np.isin(parts, np.flatnonzero(part_sizes >= 0.1 * part_sizes.max()))
    pieces, count = ndimage.label(mask & ~opened, structure=_SQUARE)
    if count == 0:
        return None
    sizes = np.bincount(pieces.ravel(), minlength=count + 1)
    candidates = [
        label for label in range(1, count + 1) if sizes[label] >= STRAND_MIN_PX
    ]
    if not candidates:
        return None
    reach = ndimage.distance_transform_edt(~_hull_image(opened), sampling=spacing)
    dropped = np.zeros_like(mask)
    for label in candidates:
        piece = pieces == label
        if float(reach[piece].max()) >= STRAND_REACH_MM:
            dropped |= piece
    if not dropped.any():
        return None
    return _part_at(mask & ~dropped, None)
