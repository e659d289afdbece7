"""A folder scanned twice: the second scan re-reads only what changed, never identity."""

import os
import stat
from collections.abc import Callable
from pathlib import Path

import pydicom
import pytest
from pydicom.uid import generate_uid

from mrecist_reader.imaging import scan_index
from mrecist_reader.imaging.scan import ScanResult, scan
from tests.kit.dicom import SeriesSpec, write_series

IDENTITY = {
    "PatientName": "Doe^Jane",
    "PatientID": "HOSP-123456",
    "PatientBirthDate": "19610203",
    "InstitutionName": "Saint Elsewhere",
    "StudyDate": "20240517",
    "SeriesDate": "20240517",
    "AccessionNumber": "ACC998877",
}


def _folder(tmp_path: Path) -> Path:
    folder = tmp_path / "DOE_JANE_HOSP"
    write_series(folder / "a", SeriesSpec(n_slices=6, extra=dict(IDENTITY)))
    write_series(
        folder / "b",
        SeriesSpec(n_slices=4, description="LIVER PORTAL", extra=dict(IDENTITY)),
    )
    (folder / "notes.txt").write_text("not an image")
    return folder


def _scan(folder: Path, tmp_path: Path, *, use_index: bool = True) -> ScanResult:
    return scan(folder, index_dir=tmp_path / "index", use_index=use_index)


def test_a_folder_scanned_twice_gives_the_same_result_from_its_index(
    tmp_path: Path,
) -> None:
    folder = _folder(tmp_path)
    first = _scan(folder, tmp_path)
    second = _scan(folder, tmp_path)
    assert (first.files_reused, first.files_read) == (0, 11)
    assert (second.files_reused, second.files_read) == (11, 0)
    assert second.series == first.series
    assert second.skipped == first.skipped
    assert second.series[0].identity.patient_name == "Doe^Jane"
    assert second.series == _scan(folder, tmp_path, use_index=False).series


def test_a_changed_file_is_read_again_and_its_new_values_are_used(
    tmp_path: Path,
) -> None:
    folder = _folder(tmp_path)
    first = _scan(folder, tmp_path)
    portal = next(s for s in first.series if s.series_description == "LIVER PORTAL")
    changed = portal.files[0]
    dataset = pydicom.dcmread(changed)
    dataset.SeriesDescription = "LIVER DELAYED"
    dataset.SeriesInstanceUID = generate_uid()
    dataset.save_as(changed)
    os.utime(changed, ns=(0, os.stat(changed).st_mtime_ns + 10**9))
    second = _scan(folder, tmp_path)
    assert (second.files_reused, second.files_read) == (10, 1)
    fresh = _scan(folder, tmp_path, use_index=False)
    assert second.series == fresh.series
    assert "LIVER DELAYED" in {s.series_description for s in second.series}


def test_added_and_removed_files_are_found_on_the_second_scan(tmp_path: Path) -> None:
    folder = _folder(tmp_path)
    first = _scan(folder, tmp_path)
    removed = first.series[0].files[-1]
    removed.unlink()
    write_series(folder / "c", SeriesSpec(n_slices=3, description="LIVER LATE"))
    second = _scan(folder, tmp_path)
    assert second.files_read == 3
    assert second.series == _scan(folder, tmp_path, use_index=False).series
    assert removed not in {f for s in second.series for f in s.files}


def _index_file(tmp_path: Path) -> Path:
    (found,) = (tmp_path / "index").glob("*.json")
    return found


def test_the_index_holds_no_identity_and_no_file_names_and_is_private(
    tmp_path: Path,
) -> None:
    folder = _folder(tmp_path)
    _scan(folder, tmp_path)
    index = _index_file(tmp_path)
    text = index.read_text()
    for value in [*IDENTITY.values(), "2024-05-17", "IM0", "DOE_JANE", "notes.txt"]:
        assert value not in text
    assert stat.S_IMODE(index.stat().st_mode) == 0o600
    assert stat.S_IMODE(index.parent.stat().st_mode) == 0o700


@pytest.mark.parametrize(
    "damage",
    [
        lambda text: text[: len(text) // 2],
        lambda text: text.replace('"rows":32', '"rows":"32"', 1),
        lambda text: text.replace('"stat":[', '"stat":["x",', 1),
        lambda text: text.replace('"frames":[[', '"frames":[[[1e999],', 1),
        lambda text: "[]",
    ],
    ids=["cut short", "wrong type", "bad stat", "bad geometry", "not an index"],
)
def test_a_damaged_index_is_rebuilt_never_trusted(
    tmp_path: Path, damage: Callable[[str], str]
) -> None:
    folder = _folder(tmp_path)
    first = _scan(folder, tmp_path)
    index = _index_file(tmp_path)
    damaged = damage(index.read_text())
    assert damaged != index.read_text()
    index.write_text(damaged)
    second = _scan(folder, tmp_path)
    assert (second.files_reused, second.series) == (0, first.series)
    third = _scan(folder, tmp_path)
    assert (third.files_reused, third.series) == (11, first.series)


def test_the_index_of_another_version_is_not_used(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = _folder(tmp_path)
    _scan(folder, tmp_path)
    monkeypatch.setattr(scan_index, "INDEX_FORMAT", scan_index.INDEX_FORMAT + 1)
    assert _scan(folder, tmp_path).files_reused == 0
