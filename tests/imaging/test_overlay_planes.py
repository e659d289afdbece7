"""DICOM overlay planes (group 6000): found, placed at their origin, merged per slice."""

import shutil
from pathlib import Path

import numpy as np
import pydicom
import pytest

from mrecist_reader.imaging.overlay_planes import (
    OverlayPlane,
    may_have_planes,
    overlay_mask,
    overlay_planes,
    read_overlay_planes,
    series_overlays,
)
from mrecist_reader.imaging.scan import scan
from tests.kit.dicom import SeriesSpec, overlay_plane, rewrite, write_series

SIEMENS_LIVER = "pydicom-data/MR-SIEMENS-DICOM-WithOverlays.dcm"
EXAMPLES = "pydicom/test_files/examples_overlay.dcm"


def _square(rows: int, cols: int, top: int, left: int, side: int) -> np.ndarray:
    mask = np.zeros((rows, cols), dtype=bool)
    mask[top : top + side, left : left + side] = True
    return mask


def test_a_plane_written_by_the_kit_reads_back_where_it_was_put(tmp_path: Path) -> None:
    paths = write_series(tmp_path, SeriesSpec(n_slices=1, rows=16, columns=20))
    bitmap = _square(8, 8, 2, 3, 4)
    rewrite(paths, overlay_plane(bitmap, origin=(5, 7)))
    planes = read_overlay_planes(paths[0])
    assert [p.group for p in planes] == [0x6000]
    assert planes[0].origin == (4, 6)  # 1-based in the file
    mask = overlay_mask(planes, (16, 20))
    assert mask is not None
    expected = np.zeros((16, 20), dtype=bool)
    expected[4 + 2 : 4 + 6, 6 + 3 : 6 + 7] = True
    assert np.array_equal(mask, expected)


def test_two_groups_merge_and_a_plane_past_the_edge_is_clipped() -> None:
    inside = OverlayPlane(0x6000, _square(4, 4, 0, 0, 2), (0, 0))
    past = OverlayPlane(0x6002, np.ones((4, 4), dtype=bool), (8, 8))
    mask = overlay_mask([inside, past], (10, 10))
    assert mask is not None
    assert mask[:2, :2].all()
    assert mask[8:, 8:].all()
    assert int(mask.sum()) == 4 + 4


def test_no_plane_or_an_empty_plane_draws_nothing(tmp_path: Path) -> None:
    paths = write_series(tmp_path, SeriesSpec(n_slices=1))
    assert read_overlay_planes(paths[0]) == []
    assert (
        overlay_mask([OverlayPlane(0x6000, np.zeros((2, 2), bool), (0, 0))], (4, 4))
        is None
    )


def test_an_unreadable_file_gives_no_plane_and_no_traceback(tmp_path: Path) -> None:
    bad = tmp_path / "bad.dcm"
    bad.write_bytes(b"not dicom at all")
    assert read_overlay_planes(bad) == []


def test_a_series_reads_each_slice_s_own_plane(tmp_path: Path) -> None:
    spec = SeriesSpec(n_slices=3, rows=16, columns=16, shuffle=False)
    paths = write_series(tmp_path, spec)
    for k, path in enumerate(paths):
        rewrite([path], overlay_plane(_square(16, 16, k, k, 3)))
    (series,) = scan(tmp_path, workers=1, use_index=False).series
    overlays = series_overlays(series)
    for k in range(3):
        mask = overlays.mask(k)
        assert mask is not None
        assert mask[k, k]
        assert int(mask.sum()) == 9
    assert overlays.mask(99) is None  # no such slice


def test_files_without_overlay_bytes_are_never_parsed_and_masks_are_kept(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    spec = SeriesSpec(n_slices=4, shuffle=False)
    paths = write_series(tmp_path, spec)
    rewrite(paths[2:3], overlay_plane(np.ones((4, 4), dtype=bool)))
    (series,) = scan(tmp_path, workers=1, use_index=False).series
    assert [may_have_planes(p) for p in series.files] == [False, False, True, False]
    parsed: list[Path] = []
    real = pydicom.dcmread

    def counted(path: Path, **kwargs: object) -> pydicom.Dataset:
        parsed.append(Path(path))
        return real(path, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(pydicom, "dcmread", counted)
    overlays = series_overlays(series)
    shown = [overlays.mask(k) is not None for k in range(4) for _ in range(2)]
    assert shown == [False, False, False, False, True, True, False, False]
    assert parsed == [series.files[2]]  # once, and only the file with a plane


def test_the_real_siemens_liver_mr_marks_its_lesion(
    shared_samples: Path, tmp_path: Path
) -> None:
    source = shared_samples / SIEMENS_LIVER
    dataset = pydicom.dcmread(source, stop_before_pixels=True)
    (plane,) = overlay_planes(dataset, where=str(source))
    # read independently: the plane's bits unpacked by numpy from OverlayData
    bits = np.unpackbits(
        np.frombuffer(dataset[0x6000, 0x3000].value, dtype=np.uint8), bitorder="little"
    )[: 484 * 484].reshape(484, 484)
    assert np.array_equal(plane.mask, bits.astype(bool))
    assert int(plane.mask.sum()) == 323
    shutil.copy(source, tmp_path / "mr.dcm")
    (series,) = scan(tmp_path, workers=1, use_index=False).series
    mask = series_overlays(series).mask(0)
    assert mask is not None
    assert np.array_equal(mask, plane.mask)


def test_the_real_example_overlay_on_a_non_square_image(shared_samples: Path) -> None:
    planes = read_overlay_planes(shared_samples / EXAMPLES)
    mask = overlay_mask(planes, (300, 484))
    assert mask is not None
    assert int(mask.sum()) == 222
