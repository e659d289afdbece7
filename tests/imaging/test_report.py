"""Every file scan does not use is named with a reason in words, for a load report."""

import shutil
import zipfile
from pathlib import Path

import pytest

from mrecist_reader.cli import main
from mrecist_reader.imaging.report import (
    SkipKind,
    count_text,
    group_skipped,
    load_summary,
    skip_kind,
)
from mrecist_reader.imaging.scan import scan
from mrecist_reader.imaging.sources import SkippedFile
from tests.kit.dicom import SeriesSpec, write_series


def _damaged_member_zip(path: Path, images: list[Path]) -> Path:
    """Write a zip whose first member's bytes are corrupted (its CRC no longer matches)."""
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_STORED) as archive:
        for image in images:
            archive.write(image, f"study/{image.name}")
    data = bytearray(path.read_bytes())
    start = data.find(b"DICM")
    data[start + 200 : start + 210] = b"X" * 10
    path.write_bytes(bytes(data))
    return path


def test_a_damaged_zip_member_is_named_once_in_words_and_again_on_reuse(
    tmp_path: Path,
) -> None:
    images = write_series(tmp_path / "src", SeriesSpec(n_slices=3))
    archive = _damaged_member_zip(tmp_path / "study.zip", sorted(images))
    first_member = sorted(images)[0].name
    for _ in range(2):  # extracted, then the cached extraction is reused
        result = scan(archive, cache_dir=tmp_path / "cache")
        assert [s.n_images for s in result.series] == [2]
        assert [s.path for s in result.skipped] == [f"{archive}!study/{first_member}"]
        (reason,) = [s.reason for s in result.skipped]
        assert reason.startswith("damaged inside the zip archive")
        assert skip_kind(reason) is SkipKind.DAMAGED


def test_every_skipped_file_has_its_path_and_reason(tmp_path: Path) -> None:
    images = write_series(tmp_path / "good", SeriesSpec(n_slices=3))
    bad = tmp_path / "bad"
    bad.mkdir()
    whole = images[0].read_bytes()
    (bad / "truncated.dcm").write_bytes(whole[: len(whole) - 500])
    (bad / "empty.dcm").write_bytes(b"")
    (bad / "notes.txt").write_text("reader's notes", encoding="utf-8")
    result = scan(tmp_path)
    assert [s.n_images for s in result.series] == [3]
    reasons = {Path(s.path).name: s.reason for s in result.skipped}
    assert set(reasons) == {"truncated.dcm", "empty.dcm", "notes.txt"}
    assert reasons["truncated.dcm"].startswith("truncated file")
    assert reasons["empty.dcm"] == "empty file"
    assert reasons["notes.txt"].startswith("not a DICOM file")
    kinds = {name: skip_kind(r) for name, r in reasons.items()}
    assert kinds == {
        "truncated.dcm": SkipKind.DAMAGED,
        "empty.dcm": SkipKind.DAMAGED,
        "notes.txt": SkipKind.NOT_DICOM,
    }
    assert result.series_warnings == ()


@pytest.mark.shared
def test_real_files_skipped_are_grouped_by_kind(shared_samples: Path) -> None:
    result = scan(shared_samples / "fo-dicom")
    groups = group_skipped(result.skipped)
    by_kind = {g.kind: [Path(s.path).name for s in g.files] for g in groups}
    assert "GH178.dcm" in by_kind[SkipKind.NOT_AN_IMAGE]  # dose report, no pixels
    assert "GH340.dcm" in by_kind[SkipKind.UNSUPPORTED]  # 12 bits allocated
    assert all(s.reason for s in result.skipped)
    assert {s.subject_id for s in result.series_warnings} <= {
        s.subject_id for s in result.series
    }


@pytest.mark.shared
def test_real_truncated_file_is_damaged(shared_samples: Path, tmp_path: Path) -> None:
    source = shared_samples / "pydicom" / "test_files" / "MR_truncated.dcm"
    shutil.copy(source, tmp_path)
    (skipped,) = scan(tmp_path).skipped
    assert skipped.reason.startswith("truncated file: pixel data needs 8192 bytes")
    assert skip_kind(skipped.reason) is SkipKind.DAMAGED


@pytest.mark.parametrize(
    ("reason", "kind"),
    [
        ("DICOMDIR record points at a missing file", SkipKind.UNREACHABLE),
        ("DICOMDIR (a directory of files, not an image)", SkipKind.NOT_AN_IMAGE),
        ("folder cannot be read: Permission denied", SkipKind.UNREACHABLE),
        ("zip member path leaves the archive's folder: refused", SkipKind.REFUSED),
        ("not an image (modality SR)", SkipKind.NOT_AN_IMAGE),
        ("float pixel data (parametric map) is not supported", SkipKind.UNSUPPORTED),
        ("unreadable zip archive: File is not a zip file", SkipKind.DAMAGED),
        ("zip archive inside the study: not opened (open it on its own)", SkipKind.NOT_DICOM),
    ],
)  # fmt: skip
def test_skip_kinds(reason: str, kind: SkipKind) -> None:
    assert skip_kind(reason) is kind


def test_counts_read_as_words() -> None:
    assert count_text(1, "file") == "1 file"
    assert count_text(2, "file") == "2 files"
    assert count_text(2, "series", "series") == "2 series"
    assert load_summary((), ()) == "0 series found"
    skipped = (SkippedFile("a", "empty file"),)
    assert load_summary((), skipped) == (
        "0 series found; 1 file not loaded: see the load report"
    )


def test_cli_says_one_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write_series(tmp_path, SeriesSpec(n_slices=2))
    (tmp_path / "x.txt").write_text("x", encoding="utf-8")
    assert main(["scan", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "1 file skipped:" in out
    assert "1 files" not in out
