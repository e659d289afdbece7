"""A flat folder (every file in one directory) shows a series before its last file.

Issue 20 item 4: the first image of a large folder while the rest is still scanned.
Folders are complete when read to their last file; a flat export has one folder, so it
is read series by series, each file's SeriesInstanceUID read first from its bytes. A
stack reported complete must never miss a file the full scan finds.
"""

from pathlib import Path

import pydicom
import pytest
from pydicom.uid import generate_uid

from mrecist_reader.imaging import headers as headers_module
from mrecist_reader.imaging import scan as scan_module
from mrecist_reader.imaging.scan import ScanProgress, scan
from tests.kit.dicom import SeriesSpec, save, write_series

SLICES = 12
SERIES = 3


def _flat_study(folder: Path) -> dict[int, list[Path]]:
    """Write three series into ``folder``, names interleaved (IM0001_0, IM0001_1...)."""
    study = generate_uid()
    written: dict[int, list[Path]] = {}
    for k in range(SERIES):
        spec = SeriesSpec(
            n_slices=SLICES,
            rows=16,
            columns=16,
            series_number=k + 1,
            description=f"SERIES {k + 1}",
            study_uid=study,
            name=f"IM{{number:04d}}_{k}.dcm",
        )
        written[k] = write_series(folder, spec)
    return written


def _scan_with_progress(folder: Path) -> tuple[list[ScanProgress], object]:
    reports: list[ScanProgress] = []

    def seen(progress: ScanProgress) -> None:
        _ = progress.complete  # what the window asks for, at that moment
        reports.append(progress)

    result = scan(folder, use_index=False, on_progress=seen)
    return reports, result


def _check_complete_stacks_are_whole(
    reports: list[ScanProgress], result: object
) -> int:
    """Every stack reported complete has exactly the files of the final stack."""
    final = {(s.series_instance_uid, s.stack_label): s for s in result.series}  # type: ignore[attr-defined]
    shown = 0
    for progress in reports:
        for stack in progress.complete_series:
            whole = final[(stack.series_instance_uid, stack.stack_label)]
            assert stack.files == whole.files
            shown += 1
    return shown


def test_a_flat_folder_reports_whole_series_before_its_last_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(scan_module, "FLAT_FOLDER_FILES", 10)
    _flat_study(tmp_path / "flat")
    reports, result = _scan_with_progress(tmp_path / "flat")
    early = [p for p in reports if p.complete_series]
    assert early, "no series shown before the end of the scan"
    assert early[0].files_seen < early[0].files_total
    assert len(early[0].complete_series) == 1
    assert _check_complete_stacks_are_whole(reports, result) >= 1


def test_below_the_threshold_a_flat_folder_waits_for_its_last_file(
    tmp_path: Path,
) -> None:
    _flat_study(tmp_path / "flat")  # 36 files: read as one folder
    reports, _result = _scan_with_progress(tmp_path / "flat")
    assert not [p for p in reports if p.complete_series]


def test_a_file_whose_series_cannot_be_read_from_its_bytes_is_read_first(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No preamble: pydicom reads it. It could belong to any series."""
    monkeypatch.setattr(scan_module, "FLAT_FOLDER_FILES", 10)
    written = _flat_study(tmp_path / "flat")
    bare = written[2][5]  # a slice of the last series to be read
    save(pydicom.dcmread(bare), bare, preamble=False)
    assert scan_module._series_hint(bare) is None
    assert scan_module._series_hint(written[2][4]) is not None
    read: list[Path] = []
    original = headers_module.read_header

    def recorded(path: Path) -> object:
        read.append(path)
        return original(path)

    monkeypatch.setattr(scan_module, "read_header", recorded)
    reports, result = _scan_with_progress(tmp_path / "flat")
    assert read[0] == bare
    assert _check_complete_stacks_are_whole(reports, result) >= 1
    (last,) = [s for s in result.series if s.series_description == "SERIES 3"]  # type: ignore[attr-defined]
    assert bare in last.files


def test_a_hint_contradicted_by_a_header_stops_early_completeness(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Should the bytes and the header ever disagree, only whole folders count."""
    monkeypatch.setattr(scan_module, "FLAT_FOLDER_FILES", 10)
    written = _flat_study(tmp_path / "flat")
    liar = written[1][0]
    first_uid = pydicom.dcmread(written[0][0]).SeriesInstanceUID
    honest = scan_module._series_hint

    def hint(path: Path) -> str | None:
        return str(first_uid) if path == liar else honest(path)

    monkeypatch.setattr(scan_module, "_series_hint", hint)
    reports, _result = _scan_with_progress(tmp_path / "flat")
    assert not [p for p in reports if p.complete_series]
