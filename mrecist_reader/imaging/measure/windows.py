"""Denoised windows around a click (step 1).

The in-plane median filter, the noise and the value at the seed, and the click snapped
to a voxel.
"""

import math

import numpy as np
from scipy import ndimage

from mrecist_reader.imaging.geometry import patient_to_index
from mrecist_reader.imaging.measure.model import (
    FloatImage,
    Mask,
    MeasureOptions,
    NoEnhancingLesion,
    _Window,
)
from mrecist_reader.imaging.volume import Volume

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
    return difference_sigma((image[:, lag:] - image[:, :-lag]).ravel())


def difference_sigma(differences: FloatImage) -> float:
    """Return the noise sigma of an image from differences of its pixels (robust).

    The median absolute deviation of the differences, as a Gaussian's sigma, over the
    square root of two (each difference holds the noise of two pixels).
    """
    mad = float(np.median(np.abs(differences - np.median(differences))))
    return 1.4826 * mad / math.sqrt(2.0)


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


def _bounding_box(mask: Mask) -> tuple[int, int, int, int]:
    rows = np.flatnonzero(mask.any(axis=1))
    columns = np.flatnonzero(mask.any(axis=0))
    return (int(rows[0]), int(rows[-1]) + 1, int(columns[0]), int(columns[-1]) + 1)
