"""Statistics of a region of interest on one image (enhancement ROI): ellipse or freehand.

mRECIST turns on whether a lesion enhances in the arterial phase: the reader compares the
lesion's attenuation with the liver's (issue 15 item 1). These are the numbers a PACS
ROI shows: mean, standard deviation, minimum, maximum and area of the pixels inside an
ellipse, in the image's units (Hounsfield units on rescaled CT, signal units on MR).

Pixel coordinates follow the viewer: ``row`` and ``column`` indices with pixel centres on
whole numbers. A pixel is inside when its centre is inside the ellipse (or on it), or
inside a freehand polygon (:func:`polygon_stats`, scikit-image's polygon fill).
"""

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from mrecist_reader.core.errors import MrecistError

_IndexPair = tuple[npt.NDArray[np.intp], npt.NDArray[np.intp]]


def _fill_polygon(*args: object, **kwargs: object) -> _IndexPair:
    """scikit-image's polygon fill, imported on first use (not with the window)."""
    from skimage import draw

    fill: Callable[..., _IndexPair] = draw.polygon
    return fill(*args, **kwargs)


class RoiError(MrecistError):
    """An ROI that cannot be measured (not a 2-D image, no pixel inside)."""


@dataclass(frozen=True, slots=True)
class PixelEllipse:
    """An axis-aligned ellipse in pixel-index units (``[row, column]``, centres whole).

    ``radius_rows`` and ``radius_columns`` are half the ellipse's extent along the rows
    (vertical) and columns (horizontal) axes, in pixels.
    """

    centre_row: float
    centre_column: float
    radius_rows: float
    radius_columns: float


@dataclass(frozen=True, slots=True)
class RoiStats:
    """The values inside an ROI: image units (HU on CT), area in mm².

    ``sd`` is the population standard deviation (divided by the pixel count, as PACS
    viewers show it).
    """

    mean: float
    sd: float
    minimum: float
    maximum: float
    area_mm2: float
    n_pixels: int


def ellipse_mask(
    shape: tuple[int, int], ellipse: PixelEllipse
) -> tuple[slice, slice, npt.NDArray[np.bool_]]:
    """Return the ellipse's bounding box in ``shape`` and its mask over that box.

    Only the box is examined, so the cost follows the ROI's size, not the image's.
    """
    rows, columns = shape
    r0 = max(math.ceil(ellipse.centre_row - ellipse.radius_rows), 0)
    r1 = min(math.floor(ellipse.centre_row + ellipse.radius_rows), rows - 1)
    c0 = max(math.ceil(ellipse.centre_column - ellipse.radius_columns), 0)
    c1 = min(math.floor(ellipse.centre_column + ellipse.radius_columns), columns - 1)
    if r1 < r0 or c1 < c0 or ellipse.radius_rows <= 0 or ellipse.radius_columns <= 0:
        return slice(0, 0), slice(0, 0), np.zeros((0, 0), dtype=bool)
    dr = (np.arange(r0, r1 + 1, dtype=np.float64) - ellipse.centre_row) / (
        ellipse.radius_rows
    )
    dc = (np.arange(c0, c1 + 1, dtype=np.float64) - ellipse.centre_column) / (
        ellipse.radius_columns
    )
    mask = dr[:, None] ** 2 + dc[None, :] ** 2 <= 1.0
    return slice(r0, r1 + 1), slice(c0, c1 + 1), mask


def ellipse_stats(
    image: npt.NDArray[np.generic],
    ellipse: PixelEllipse,
    spacing_mm: tuple[float, float],
) -> RoiStats:
    """Return the statistics of the pixels of a 2-D image inside an ellipse.

    Parameters
    ----------
    image
        One slice, ``[row, column]``, in its units (rescaled: HU on CT).
    ellipse
        The ROI in pixel-index units.
    spacing_mm
        (row spacing, column spacing) in mm; the area is the pixel count times the
        pixel's area.

    Raises
    ------
    RoiError
        When the image is not 2-D or no pixel centre lies inside the ellipse.
    """
    if image.ndim != 2:
        raise RoiError(f"ROI statistics need a 2-D image, got shape {image.shape}")
    rows, columns, mask = ellipse_mask((image.shape[0], image.shape[1]), ellipse)
    values = np.asarray(image[rows, columns], dtype=np.float64)[mask]
    if values.size == 0:
        raise RoiError(
            f"no pixel centre inside the ROI at row {ellipse.centre_row:.1f}, "
            f"column {ellipse.centre_column:.1f} (radii {ellipse.radius_rows:.1f} x "
            f"{ellipse.radius_columns:.1f} px) on a {image.shape} image"
        )
    return _stats(values, spacing_mm)


def _stats(
    values: npt.NDArray[np.float64], spacing_mm: tuple[float, float]
) -> RoiStats:
    return RoiStats(
        mean=float(values.mean()),
        sd=float(values.std()),
        minimum=float(values.min()),
        maximum=float(values.max()),
        area_mm2=float(values.size * spacing_mm[0] * spacing_mm[1]),
        n_pixels=int(values.size),
    )


PixelPoint = tuple[float, float]
"""A point in pixel-index units: (row, column)."""


def ellipse_outline(ellipse: PixelEllipse, count: int = 36) -> tuple[PixelPoint, ...]:
    """Return ``count`` points along an ellipse, (row, column), anticlockwise from 3 o'clock.

    How an ellipse ROI is kept: by its outline, as a freehand one.
    """
    return tuple(
        (
            ellipse.centre_row
            + ellipse.radius_rows * math.sin(2 * math.pi * k / count),
            ellipse.centre_column
            + ellipse.radius_columns * math.cos(2 * math.pi * k / count),
        )
        for k in range(count)
    )


def polygon_stats(
    image: npt.NDArray[np.generic],
    vertices: Sequence[PixelPoint],
    spacing_mm: tuple[float, float],
) -> RoiStats:
    """Return the statistics of the pixels of a 2-D image inside a closed polygon.

    ``vertices`` are (row, column) in pixel-index units; the last joins the first.

    Raises
    ------
    RoiError
        When the image is not 2-D, the polygon has fewer than three vertices or no
        pixel centre lies inside it.

    """
    if image.ndim != 2:
        raise RoiError(f"ROI statistics need a 2-D image, got shape {image.shape}")
    if len(vertices) < 3:
        raise RoiError(f"a freehand ROI needs 3 points or more, got {len(vertices)}")
    rows = np.asarray([v[0] for v in vertices], dtype=np.float64)
    columns = np.asarray([v[1] for v in vertices], dtype=np.float64)
    inside_rows, inside_columns = _fill_polygon(
        rows, columns, shape=(image.shape[0], image.shape[1])
    )
    values = np.asarray(image[inside_rows, inside_columns], dtype=np.float64)
    if values.size == 0:
        raise RoiError(
            f"no pixel centre inside the freehand ROI around row {rows.mean():.1f}, "
            f"column {columns.mean():.1f} on a {image.shape} image"
        )
    return _stats(values, spacing_mm)


def mean_difference(first: RoiStats, second: RoiStats) -> float:
    """Return ``first``'s mean minus ``second``'s (e.g. lesion minus liver, HU)."""
    return first.mean - second.mean
