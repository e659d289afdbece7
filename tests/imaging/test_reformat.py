"""Coronal and sagittal reformats: true spacing, tilt corrected, reference lines."""

from pathlib import Path

import numpy as np
import numpy.typing as npt
import pydicom
import pytest

from mrecist_reader.imaging.geometry import (
    build_affine,
    index_to_patient,
    patient_to_index,
)
from mrecist_reader.imaging.load import load_volume
from mrecist_reader.imaging.reformat import (
    Plane,
    build_reformat,
    reference_line,
    reformat_slice,
)
from mrecist_reader.imaging.scan import scan
from mrecist_reader.imaging.volume import Volume
from tests.kit.dicom import SeriesSpec, write_series

ROD_X, ROD_Y = 5.0, 30.0
"""A rod along the patient's z axis (mm): vertical on coronal and sagittal images."""


def _rod_series(tmp_path: Path, tilt_mm_per_slice: float) -> SeriesSpec:
    spec = SeriesSpec(
        n_slices=12,
        rows=40,
        columns=40,
        pixel_spacing=(1.0, 1.0),
        slice_step=2.0,
        origin=(-10.0, 0.0, 30.0),
        tilt_mm_per_slice=tilt_mm_per_slice,
    )

    def pixels(k: int) -> npt.NDArray[np.int64]:
        values = np.full((spec.rows, spec.columns), 1000, dtype=np.int64)
        row = round(ROD_Y - spec.origin[1] - k * tilt_mm_per_slice)  # column cosine +y
        column = round(ROD_X - spec.origin[0])
        values[row, column] = 3000
        return values

    spec.pixels = pixels  # type: ignore[misc]
    write_series(tmp_path, spec)
    return spec


def _load(folder: Path) -> Volume:
    (series,) = scan(folder).series
    return load_volume(series)


def test_axis_aligned_coronal_is_indexing_with_true_spacing() -> None:
    affine = build_affine((1, 0, 0, 0, 1, 0), (0, 0, 0), (0.7, 0.7), (0, 0, 2.5))
    volume = np.arange(4 * 5 * 6, dtype=np.int16).reshape(4, 5, 6)
    grid = build_reformat(volume.shape, affine, Plane.CORONAL)  # type: ignore[arg-type]
    assert grid.aligned
    assert grid.shape == (5, 4, 6)  # front to back, head to feet, right to left
    assert grid.pixel_spacing_mm == pytest.approx((2.5, 0.7))
    assert grid.slice_spacing_mm == pytest.approx(0.7)
    coronal = reformat_slice(volume, grid, 2, fill=-1.0)
    # head at the top: the last axial slice (highest z) is the first row
    np.testing.assert_array_equal(coronal, volume[::-1, 2, :])
    sagittal_grid = build_reformat(volume.shape, affine, Plane.SAGITTAL)  # type: ignore[arg-type]
    sagittal = reformat_slice(volume, sagittal_grid, 3, fill=-1.0)
    np.testing.assert_array_equal(sagittal, volume[::-1, :, 3])


@pytest.mark.parametrize("plane", [Plane.CORONAL, Plane.SAGITTAL])
def test_indexed_slices_equal_resampled_ones(plane: Plane) -> None:
    # feet-first slices, a y flip: every sign of the index path
    affine = build_affine((1, 0, 0, 0, -1, 0), (3, 40, 90), (0.5, 0.5), (0, 0, -2.0))
    rng = np.random.default_rng(1)
    volume = rng.integers(-1000, 1000, (7, 9, 11)).astype(np.int16)
    grid = build_reformat(volume.shape, affine, plane)  # type: ignore[arg-type]
    assert grid.aligned
    for k in range(grid.shape[0]):
        indexed = reformat_slice(volume, grid, k, fill=-1024)
        np.testing.assert_array_equal(
            indexed, reformat_slice(volume, grid, k, fill=-1024, fast=False)
        )
    assert np.all(reformat_slice(volume, grid, grid.shape[0] + 3, -1024) == -1024)


@pytest.mark.parametrize("plane", [Plane.CORONAL, Plane.SAGITTAL])
def test_tilted_slices_from_two_planes_equal_the_whole_volume_resampling(
    plane: Plane,
) -> None:
    tilt = np.tan(np.radians(18.5)) * 2.0  # mm along the columns' direction per slice
    affine = build_affine((1, 0, 0, 0, 1, 0), (3, 40, 90), (0.5, 0.6), (0, tilt, 2.0))
    rng = np.random.default_rng(2)
    volume = rng.integers(-1000, 1000, (7, 9, 11)).astype(np.int16)
    grid = build_reformat(volume.shape, affine, plane)  # type: ignore[arg-type]
    assert not grid.aligned
    for k in range(-1, grid.shape[0] + 1):
        np.testing.assert_allclose(
            reformat_slice(volume, grid, k, fill=-1024),
            reformat_slice(volume, grid, k, fill=-1024, fast=False),
            atol=1e-2,
        )


def test_point_on_reformat_maps_to_patient_mm_and_back() -> None:
    affine = build_affine((1, 0, 0, 0, 1, 0), (-50, 20, 100), (0.8, 0.8), (0, 0, -3))
    grid = build_reformat((10, 64, 64), affine, Plane.SAGITTAL)
    point = index_to_patient(grid.affine, (7.0, 3.0, 11.0))
    back = patient_to_index(grid.affine, point)
    np.testing.assert_allclose(back, (7.0, 3.0, 11.0), atol=1e-9)
    # the sagittal slice index is the patient's x; rows go down from the head
    assert point[0] == pytest.approx(-50 + 7 * 0.8)
    assert point[2] == pytest.approx(100.0 - 3 * 3.0)
    assert point[1] == pytest.approx(20 + 11 * 0.8)


def test_tilted_series_rod_is_vertical_on_the_reformat(tmp_path: Path) -> None:
    _rod_series(tmp_path, tilt_mm_per_slice=1.0)
    volume = _load(tmp_path)
    # the acquired slices are sheared: the rod moves one row per slice
    rows = [int(np.argmax(volume.array[k].max(axis=1))) for k in range(12)]
    assert len(set(rows)) == 12
    grid = build_reformat(volume.shape, volume.affine, Plane.SAGITTAL)
    assert not grid.aligned
    x_index = patient_to_index(grid.affine, (ROD_X, ROD_Y, 40.0))
    sagittal = reformat_slice(volume.array, grid, round(float(x_index[0])), fill=-2000)
    inside = sagittal > -2000
    rod_column = round(float(x_index[2]))
    rows_with_data = np.flatnonzero(inside[:, rod_column])
    assert len(rows_with_data) >= 10
    # tilt corrected: the rod is one column (its patient y) over its whole height
    for row in rows_with_data:
        assert int(np.argmax(np.where(inside[row], sagittal[row], -3000))) == rod_column
    rod = sagittal[rows_with_data, rod_column]
    assert rod.min() == pytest.approx(float(volume.array.max()))  # the rod, not a blur


def test_untilted_series_gives_the_same_rod_by_indexing(tmp_path: Path) -> None:
    _rod_series(tmp_path, tilt_mm_per_slice=0.0)
    volume = _load(tmp_path)
    grid = build_reformat(volume.shape, volume.affine, Plane.CORONAL)
    assert grid.aligned
    y_index = patient_to_index(grid.affine, (ROD_X, ROD_Y, 40.0))
    coronal = reformat_slice(volume.array, grid, round(float(y_index[0])), fill=-2000)
    assert coronal.dtype == volume.array.dtype
    column = round(float(y_index[2]))
    assert np.all(coronal[:, column] == volume.array.max())


def test_reference_line_of_an_axial_slice_on_a_coronal_pane() -> None:
    affine = build_affine((1, 0, 0, 0, 1, 0), (0, 0, 0), (1.0, 1.0), (0, 0, 2.0))
    shape = (20, 30, 40)
    grid = build_reformat(shape, affine, Plane.CORONAL)
    line = reference_line(grid.affine, grid.shape, 10, affine, 5)
    assert line is not None
    (r0, c0), (r1, c1) = line
    # axial slice 5 is z = 10 mm; the coronal's row 0 is z = 38: row 14, edge to edge
    assert r0 == pytest.approx(14.0)
    assert r1 == pytest.approx(14.0)
    assert sorted((c0, c1)) == pytest.approx([-0.5, 39.5])
    # and the coronal slice as a line on the axial pane: one row, its y
    back = reference_line(affine, shape, 5, grid.affine, 10)
    assert back is not None
    assert back[0][0] == pytest.approx(10.0)
    assert back[1][0] == pytest.approx(10.0)


def test_parallel_or_missing_planes_have_no_line() -> None:
    affine = build_affine((1, 0, 0, 0, 1, 0), (0, 0, 0), (1.0, 1.0), (0, 0, 2.0))
    assert reference_line(affine, (20, 30, 40), 3, affine, 5) is None
    grid = build_reformat((20, 30, 40), affine, Plane.CORONAL)
    far = affine.copy()
    far[:3, 3] = (0.0, 0.0, 500.0)  # an axial slice above the coronal image
    assert reference_line(grid.affine, grid.shape, 3, far, 0) is None


def test_axial_is_not_reformatted() -> None:
    with pytest.raises(ValueError, match="acquired"):
        build_reformat((2, 2, 2), np.eye(4), Plane.AXIAL)


def test_tilted_real_series_reformat_geometry(shared_samples: Path) -> None:
    folder = shared_samples / "dcm_qa_ct" / "In" / "GE"
    volume = _load(folder)
    affine = volume.affine
    normal = np.cross(affine[:3, 1], affine[:3, 2])
    normal /= np.linalg.norm(normal)
    step = affine[:3, 0] / np.linalg.norm(affine[:3, 0])
    tilt = np.degrees(np.arccos(abs(float(np.dot(step, normal)))))
    assert tilt == pytest.approx(18.5, abs=0.5)  # the shear the reformat corrects
    grid = build_reformat(volume.shape, affine, Plane.SAGITTAL)
    assert not grid.aligned
    # patient-aligned grid: slices along x, rows down z, columns along y
    assert np.count_nonzero(grid.affine[:3, :3]) == 3
    assert grid.affine[2, 1] < 0
    # every file's first pixel (IPP, read independently) lies inside the grid
    positions = []
    for path in sorted(folder.iterdir()):
        ds = pydicom.dcmread(path, stop_before_pixels=True)
        positions.append([float(v) for v in ds.ImagePositionPatient])
        spacing = [float(v) for v in ds.PixelSpacing]
    assert grid.pixel_spacing_mm[1] == pytest.approx(min(spacing))
    indices = patient_to_index(grid.affine, np.asarray(positions))
    limits = np.asarray(grid.shape) - 0.5
    assert np.all(indices > -0.5 - 1e-6)
    assert np.all(indices < limits + 1e-6)
    # the resampled middle sagittal image shows the head: CT values, air outside
    middle = reformat_slice(volume.array, grid, grid.shape[0] // 2, fill=-1024)
    assert middle.shape == grid.shape[1:]
    assert float(middle.max()) > 0
    assert float(np.median(middle)) < -500
    # the skull's front edge is where the acquired slices put it, slice by slice
    for k in (3, volume.shape[0] // 2, volume.shape[0] - 4):
        centre_column = volume.shape[2] // 2
        profile = volume.array[k, :, centre_column]
        row = int(np.argmax(profile > 300))  # first bone along the column direction
        edge_mm = index_to_patient(affine, (k, row, centre_column))
        where = patient_to_index(grid.affine, edge_mm)
        sagittal = reformat_slice(volume.array, grid, round(float(where[0])), -1024)
        value = sagittal[round(float(where[1])), round(float(where[2]))]
        assert value > 100, (k, row, value)
