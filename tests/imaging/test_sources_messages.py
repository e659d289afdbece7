"""What scan says about folders it cannot list and zip archives it does not open."""

import os
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from mrecist_reader.cli import main
from mrecist_reader.imaging.scan import scan
from mrecist_reader.imaging.sources import (
    NESTED_ZIP_REASON,
    collect_files,
    zip_archive_reason,
)
from tests.kit.dicom import SeriesSpec, write_series


def _refuse_listing(monkeypatch: pytest.MonkeyPatch, *blocked: Path) -> None:
    """Make ``os.scandir`` fail on ``blocked`` as chmod 000 would (root ignores it)."""
    real_scandir = os.scandir
    refused = {str(path) for path in blocked}

    def scandir(path: "str | os.PathLike[str]" = ".") -> Iterator[os.DirEntry[str]]:
        if os.fspath(path) in refused:
            raise PermissionError(13, "Permission denied", os.fspath(path))
        return real_scandir(path)

    monkeypatch.setattr(os, "scandir", scandir)


def _study_zip(folder: Path, name: str, members: dict[str, bytes]) -> Path:
    path = folder / name
    with zipfile.ZipFile(path, "w") as archive:
        for member, data in members.items():
            archive.writestr(member, data)
    return path


def _damaged_zip(path: Path, image: Path) -> Path:
    """Write a zip cut short: it starts with a zip signature but has no table of contents."""
    whole = _study_zip(path.parent, "whole.zip", {"a/1.dcm": image.read_bytes()})
    path.write_bytes(whole.read_bytes()[:200])
    whole.unlink()
    return path


def test_a_folder_that_cannot_be_listed_is_reported_and_the_rest_scanned(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_series(tmp_path / "good", SeriesSpec(n_slices=3))
    locked = tmp_path / "locked"
    write_series(locked, SeriesSpec(n_slices=2))
    _refuse_listing(monkeypatch, locked)
    result = scan(tmp_path, workers=1)
    assert [s.n_images for s in result.series] == [3]
    assert [(s.path, s.reason) for s in result.skipped] == [
        (str(locked), "folder cannot be read: Permission denied")
    ]


def test_an_unlistable_folder_given_as_the_path_exits_2_with_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    locked = tmp_path / "locked"
    write_series(locked, SeriesSpec(n_slices=2))
    _refuse_listing(monkeypatch, locked)
    assert main(["scan", str(locked)]) == 2
    captured = capsys.readouterr()
    assert captured.err == (
        f"error: {locked}: folder cannot be read: Permission denied\n"
    )
    assert captured.out == ""


def test_a_zip_inside_a_scanned_folder_is_named_not_called_junk(
    tmp_path: Path,
) -> None:
    images = write_series(tmp_path / "study", SeriesSpec(n_slices=3))
    inner = _study_zip(
        tmp_path / "study", "more.ZIP", {"b/1.dcm": images[0].read_bytes()}
    )
    result = scan(tmp_path / "study", cache_dir=tmp_path / "cache", workers=1)
    assert [s.n_images for s in result.series] == [3]
    assert [(s.path, s.reason) for s in result.skipped] == [
        (str(inner), NESTED_ZIP_REASON)
    ]
    assert NESTED_ZIP_REASON == (
        "zip archive inside the study: not opened (open it on its own)"
    )
    assert not (tmp_path / "cache").exists()  # nothing was extracted


def test_a_zip_inside_a_zip_is_named_by_its_member_path(tmp_path: Path) -> None:
    images = write_series(tmp_path / "src", SeriesSpec(n_slices=2))
    inner = _study_zip(tmp_path, "inner.zip", {"x.dcm": images[0].read_bytes()})
    outer = _study_zip(
        tmp_path,
        "outer.zip",
        {
            "a/1.dcm": images[0].read_bytes(),
            "a/2.dcm": images[1].read_bytes(),
            "a/inner.zip": inner.read_bytes(),
        },
    )
    result = scan(outer, cache_dir=tmp_path / "cache", workers=1)
    assert [s.n_images for s in result.series] == [2]
    assert [(s.path, s.reason) for s in result.skipped] == [
        (f"{outer}!a/inner.zip", NESTED_ZIP_REASON)
    ]


def test_a_damaged_zip_in_a_folder_is_an_unreadable_zip_archive(
    tmp_path: Path,
) -> None:
    images = write_series(tmp_path / "study", SeriesSpec(n_slices=2))
    damaged = _damaged_zip(tmp_path / "study" / "part2.zip", images[0])
    result = scan(tmp_path / "study", cache_dir=tmp_path / "cache", workers=1)
    assert [s.n_images for s in result.series] == [2]
    assert [(s.path, s.reason) for s in result.skipped] == [
        (
            str(damaged),
            "unreadable zip archive: its table of contents (end of central "
            "directory) is missing; the file is cut short or damaged",
        )
    ]


def test_a_damaged_zip_given_as_the_path_exits_2_with_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    images = write_series(tmp_path / "src", SeriesSpec(n_slices=1))
    damaged = _damaged_zip(tmp_path / "study.zip", images[0])
    assert main(["scan", str(damaged)]) == 2
    captured = capsys.readouterr()
    assert captured.err.startswith(f"error: {damaged}: unreadable zip archive: ")
    assert captured.err.count("\n") == 1
    assert "Traceback" not in captured.err
    assert captured.out == ""


def test_a_file_named_zip_that_is_not_one_says_so(tmp_path: Path) -> None:
    fake = tmp_path / "study.zip"
    fake.write_text("this is a text file\n")
    collected = collect_files(fake, cache_dir=tmp_path / "cache")
    assert collected.files == ()
    assert [(s.path, s.reason) for s in collected.skipped] == [
        (
            str(fake),
            "unreadable zip archive: no zip signature in the file; "
            "expected a zip archive",
        )
    ]


def test_a_file_starting_with_a_zip_signature_is_described_as_an_archive(
    tmp_path: Path,
) -> None:
    images = write_series(tmp_path / "src", SeriesSpec(n_slices=1))
    damaged = _damaged_zip(tmp_path / "IM0005", images[0])
    assert zip_archive_reason(damaged).startswith("unreadable zip archive: ")
    sound = _study_zip(tmp_path, "IM0006", {"a.dcm": images[0].read_bytes()})
    assert zip_archive_reason(sound) == NESTED_ZIP_REASON
    collected = collect_files(damaged, cache_dir=tmp_path / "cache")
    assert [s.reason for s in collected.skipped] == [zip_archive_reason(damaged)]


def test_a_zip_among_dicom_files_without_a_zip_name_is_named(tmp_path: Path) -> None:
    images = write_series(tmp_path / "study", SeriesSpec(n_slices=2))
    _damaged_zip(tmp_path / "study" / "IM0005", images[0])
    _study_zip(tmp_path / "study", "IM0006", {"a.dcm": images[0].read_bytes()})
    result = scan(tmp_path / "study", cache_dir=tmp_path / "cache", workers=1)
    reasons = {Path(s.path).name: s.reason for s in result.skipped}
    assert reasons["IM0005"].startswith("unreadable zip archive: its table of contents")
    assert reasons["IM0006"] == NESTED_ZIP_REASON
