"""The one place that converts between voxel indices and patient millimetres.

Indices are ``(slice, row, column)``; patient coordinates are DICOM LPS ``(x, y, z)`` mm.
DICOM (PS3.3 C.7.6.2.1.1): the pixel at row ``r``, column ``c`` lies at
``IPP + c * PixelSpacing[1] * row_cosine + r * PixelSpacing[0] * column_cosine``, where
``row_cosine`` (the first three ImageOrientationPatient values) points along a row, i.e.
towards increasing column index.
"""

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from mrecist_reader.imaging.volume import SeriesInfo

FloatArray = npt.NDArray[np.float64]


def build_affine(
    image_orientation: Sequence[float],
    first_position_mm: Sequence[float],
    pixel_spacing_mm: Sequence[float],
    slice_step_mm: Sequence[float],
) -> FloatArray:
    """Return the 4x4 index-to-patient affine of a stack of slices.

    Parameters
    ----------
    image_orientation
        ImageOrientationPatient: row cosine (3 values) then column cosine (3 values).
    first_position_mm
        ImagePositionPatient of slice 0, mm.
    pixel_spacing_mm
        PixelSpacing ``(row spacing, column spacing)``, mm.
    slice_step_mm
        Vector from the centre of slice ``k`` to slice ``k + 1``, mm (from positions, not
        SliceThickness, so gantry tilt and direction are kept).

    Returns
    -------
    numpy.ndarray
        ``A`` with ``A @ (slice, row, column, 1) = (x, y, z, 1)``.

    """
    row_cosine = np.asarray(image_orientation[:3], dtype=np.float64)
    column_cosine = np.asarray(image_orientation[3:6], dtype=np.float64)
    affine = np.eye(4, dtype=np.float64)
    affine[:3, 0] = np.asarray(slice_step_mm, dtype=np.float64)
    affine[:3, 1] = column_cosine * float(pixel_spacing_mm[0])
    affine[:3, 2] = row_cosine * float(pixel_spacing_mm[1])
    affine[:3, 3] = np.asarray(first_position_mm, dtype=np.float64)
    return affine


def index_to_patient(affine: FloatArray, indices: npt.ArrayLike) -> FloatArray:
    """Map ``(slice, row, column)`` indices (shape ``(3,)`` or ``(n, 3)``) to patient mm."""
    points = np.atleast_2d(np.asarray(indices, dtype=np.float64))
    homogeneous = np.hstack([points, np.ones((points.shape[0], 1))])
    patient = (affine @ homogeneous.T).T[:, :3]
    result = patient[0] if np.ndim(indices) == 1 else patient
    return np.asarray(result, dtype=np.float64)


def patient_to_index(affine: FloatArray, points_mm: npt.ArrayLike) -> FloatArray:
    """Map patient mm points (shape ``(3,)`` or ``(n, 3)``) to fractional indices."""
    points = np.atleast_2d(np.asarray(points_mm, dtype=np.float64))
    homogeneous = np.hstack([points, np.ones((points.shape[0], 1))])
    indices = (np.linalg.inv(affine) @ homogeneous.T).T[:, :3]
    result = indices[0] if np.ndim(points_mm) == 1 else indices
    return np.asarray(result, dtype=np.float64)


def slice_normal(image_orientation: Sequence[float]) -> FloatArray:
    """Return the unit normal of the image plane (row cosine x column cosine)."""
    row_cosine = np.asarray(image_orientation[:3], dtype=np.float64)
    column_cosine = np.asarray(image_orientation[3:6], dtype=np.float64)
    normal = np.cross(row_cosine, column_cosine)
    return normal / np.linalg.norm(normal)


def series_affine(
    series: SeriesInfo, positions: Sequence[tuple[float, float, float] | None] = ()
) -> npt.NDArray[np.float64]:
    """Return the index-to-patient affine of a series from its image positions.

    The slice step is ``(last position - first position) / (n - 1)`` over the volume's
    ``n`` slices, gaps filled (keeps gantry tilt); without positions it is the slice
    normal times ``slice_spacing_mm`` (or 1 mm).
    """
    positions = positions or series.slice_positions_mm
    known = [p for p in positions if p is not None]
    first = (
        known[0] if len(known) == len(positions) and known else series.first_position_mm
    )
    if len(known) == len(positions) and len(known) > 1:
        span = series.n_slices - 1 if len(known) == series.n_images else len(known) - 1
        step = (np.asarray(known[-1]) - np.asarray(known[0])) / span
    else:
        spacing = series.slice_spacing_mm or 1.0
        step = slice_normal(series.image_orientation) * spacing
    return build_affine(series.image_orientation, first, series.pixel_spacing_mm, step)
