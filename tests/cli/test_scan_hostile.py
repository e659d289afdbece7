"""`mrecist-reader scan` facing hostile input (issue 21, items 9, 13, 14 and 15).

Valid JSON whatever the numbers in the files, a table that cannot be forged by a file
name, a FIFO that never blocks, no internal error (exit 3) for any hostile header, and
the zip cache's age limit taken from the settings.
"""

import contextlib
import json
import os
import threading
import time
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest
from pydicom.dataset import Dataset

from mrecist_reader.cli import main
from tests.kit.dicom import SeriesSpec, raw, rewrite, write_series

EXIT_INTERNAL = 3


def _hostile_series(folder: Path, mutate: Callable[[Dataset], None]) -> Path:
    """Write a 3-slice CT series, then change every file with ``mutate``."""
    rewrite(write_series(folder, SeriesSpec(n_slices=3)), mutate)
    return folder


def _refuse_constant(name: str) -> None:
    raise AssertionError(f"{name} is not JSON")


def test_scan_json_never_prints_infinity_or_nan(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    study = tmp_path / "study"
    _hostile_series(study / "a", lambda d: raw(d, "ImagePositionPatient", b"inf\\0\\0"))
    _hostile_series(
        study / "b", lambda d: raw(d, "ImageOrientationPatient", b"0\\" * 5 + b"0")
    )
    _hostile_series(study / "c", lambda d: raw(d, "PixelSpacing", b"nan\\1e999"))
    _hostile_series(study / "d", lambda d: raw(d, "RescaleSlope", b"-inf"))
    assert main(["scan", str(study), "--json"]) == 0
    out = capsys.readouterr().out
    document = json.loads(out, parse_constant=_refuse_constant)
    assert len(document["series"]) == 3
    assert all(
        s["slice_spacing_mm"] == pytest.approx(2.5) or s["slice_spacing_mm"] is None
        for s in document["series"]
    )
    assert [s["reason"][:20] for s in document["skipped"]] == [
        "RescaleSlope (0028,1"
    ] * 3


def test_scan_table_escapes_newlines_and_bidi_characters_of_file_names(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    study = tmp_path / "study"
    write_series(study, SeriesSpec(n_slices=2))
    names = [
        "forged\nseries.dcm",  # a line of its own in the table
        "report\u202egpj.dcm",  # right-to-left override: reads "report.jpg..."
        "clear\x1b[2Jscreen.dcm",  # a terminal escape sequence
        "zero\u200bwidth.dcm",
    ]
    for name in names:
        (study / name).write_text("not an image")
    assert main(["scan", str(study)]) == 0
    out = capsys.readouterr().out
    for hidden in ("\u202e", "\x1b", "\u200b", "\r"):
        assert hidden not in out
    skipped = [line for line in out.splitlines() if line.startswith("  ")]
    assert len(skipped) == len(names)  # one line per file, no forged extra line
    assert any("forged\\nseries.dcm: not a DICOM file" in line for line in skipped)
    assert any("report\\u202egpj.dcm" in line for line in skipped)
    assert any("clear\\u001b[2Jscreen.dcm" in line for line in skipped)


def _finishes(action: Callable[[], int], fifo: Path) -> int:
    """Run ``action`` in a thread; fail when it blocks (then unblock it)."""
    status: list[int] = []
    worker = threading.Thread(target=lambda: status.append(action()), daemon=True)
    worker.start()
    worker.join(timeout=20)
    hung = worker.is_alive()
    for _ in range(20):
        if not worker.is_alive():
            break
        with contextlib.suppress(OSError):
            os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))
        worker.join(timeout=0.5)
    assert not hung, "scan blocked on a FIFO"
    assert status, "scan did not return"
    return status[0]


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs here")
@pytest.mark.parametrize("name", ["DICOMDIR", "study.zip", "pipe"])
def test_scan_of_a_fifo_exits_2_naming_it_not_a_regular_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], name: str
) -> None:
    fifo = tmp_path / name
    os.mkfifo(fifo)
    assert _finishes(lambda: main(["scan", str(fifo)]), fifo) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: {fifo}: not a regular file")


@pytest.mark.parametrize(
    ("keyword", "value", "vr"),
    [
        ("RescaleSlope", b"abc", None),
        ("RescaleSlope", b"0", None),
        ("RescaleIntercept", b"1,5", None),
        ("ImagePositionPatient", b"abc\\def", None),
        ("ImagePositionPatient", b"1e400\\0\\0", None),
        ("ImageOrientationPatient", b"1\\0\\0\\1\\0\\0", None),
        ("PixelSpacing", b"-1\\0", None),
        ("PixelSpacing", b"1\\1", "ZZ"),
        ("NumberOfFrames", b"-1", None),
        ("NumberOfFrames", b"2147483647", None),
        ("Rows", b"\x00\x00", None),
        ("BitsStored", b"\x00\x00", None),
        ("SliceThickness", b"x", None),
    ],
)
def test_scan_of_hostile_headers_never_exits_3(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    keyword: str,
    value: bytes,
    vr: str | None,
) -> None:
    study = _hostile_series(tmp_path / "study", lambda d: raw(d, keyword, value, vr))
    for extra in ([], ["--json"]):
        status = main(["scan", str(study), *extra])
        captured = capsys.readouterr()
        assert status == 0, captured.err
        assert "internal error" not in captured.err
        assert "Traceback" not in captured.err
    json.loads(captured.out, parse_constant=_refuse_constant)


def _zip_of_series(folder: Path, name: str, seed: int) -> Path:
    files = write_series(
        folder / f"src-{name}", SeriesSpec(n_slices=2, origin=(0, 0, seed))
    )
    archive = folder / f"{name}.zip"
    with zipfile.ZipFile(archive, "w") as zipped:
        for file in files:
            zipped.write(file, file.name)
    return archive


def test_the_zip_cache_age_limit_comes_from_the_settings(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    cache = tmp_path / "cache"
    monkeypatch.setenv("MRECIST_READER_ZIP_CACHE_DIR", str(cache))
    first, second, third = (_zip_of_series(tmp_path, n, k) for k, n in enumerate("abc"))
    assert main(["scan", str(first)]) == 0
    (extraction,) = cache.iterdir()
    three_days_ago = time.time() - 3 * 86400
    os.utime(extraction, (three_days_ago, three_days_ago))
    assert main(["scan", str(second)]) == 0  # default: 7 days
    assert extraction.is_dir()
    monkeypatch.setenv("MRECIST_READER_ZIP_CACHE_DAYS", "2")
    assert main(["scan", str(third)]) == 0
    assert not extraction.exists()
    assert len(list(cache.iterdir())) == 2
    monkeypatch.setenv("MRECIST_READER_ZIP_CACHE_DAYS", "a week")
    capsys.readouterr()
    assert main(["scan", str(third)]) == 2
    assert (
        "MRECIST_READER_ZIP_CACHE_DAYS: 'a week' is not an age"
        in capsys.readouterr().err
    )
