"""Inputs that cannot hurt (issue 21, items 12 to 15): one test per class of attack.

Hostile files are real public files of ../shared/dicom_samples mutated with pydicom
(copies written into ``tmp_path``); values pydicom would refuse to write (a slope of
``abc``, an unknown VR) are written raw. Nothing here allocates the gigabytes a
hostile header asks for, even on code that would try: the address space is capped,
or numpy.empty and the decoders are guarded, while the attack runs.
"""

import contextlib
import dataclasses
import math
import os
import shutil
import subprocess
import sys
import threading
import tracemalloc
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pydicom
import pytest
from pydicom.dataset import Dataset

from mrecist_reader.core.errors import MrecistError
from mrecist_reader.imaging import pixels
from mrecist_reader.imaging.files import NOT_REGULAR_REASON
from mrecist_reader.imaging.load import VolumeLoadError, load_volume
from mrecist_reader.imaging.scan import ScanResult, scan
from mrecist_reader.imaging.sources import OUTSIDE_DICOMDIR_REASON
from mrecist_reader.imaging.volume import SeriesInfo
from tests.kit.dicom import raw, rewrite

resource = pytest.importorskip("resource", reason="needs POSIX resource limits")
pytestmark = pytest.mark.shared

MIB = 1 << 20
CT = Path("pydicom/test_files/CT_small.dcm")  # explicit VR LE, 128 x 128, 16 bits
RLE = Path("pydicom/test_files/MR_small_RLE.dcm")  # RLE Lossless, 64 x 64, 16 bits
DICOMDIR_TESTS = Path("pydicom/test_files/dicomdirtests")


# ---------------------------------------------------------------- helpers


def mutated(
    source: Path, folder: Path, mutate: Callable[[Dataset], None], name: str = "x.dcm"
) -> Path:
    """Write a copy of ``source`` changed by ``mutate`` into ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    (target,) = rewrite([Path(shutil.copyfile(source, folder / name))], mutate)
    return target


def series_of(
    source: Path,
    folder: Path,
    mutate: Callable[[Dataset], None] = lambda d: None,
    *,
    count: int = 3,
) -> Path:
    """Write ``count`` slices of ``source`` 2.5 mm apart, each changed by ``mutate``."""
    for k in range(count):

        def slice_k(dataset: Dataset, k: int = k) -> None:
            dataset.SOPInstanceUID = f"{dataset.SOPInstanceUID}.{k + 1}"
            dataset.InstanceNumber = k + 1
            dataset.ImagePositionPatient = [0.0, 0.0, 2.5 * k]
            mutate(dataset)

        mutated(source, folder, slice_k, name=f"slice{k}.dcm")
    return folder


def only_series(result: ScanResult) -> SeriesInfo:
    assert len(result.series) == 1, result
    return result.series[0]


def only_skipped_reason(result: ScanResult) -> str:
    assert result.series == ()
    assert len(result.skipped) == 1, result.skipped
    return result.skipped[0].reason


@contextlib.contextmanager
def address_space_capped(extra: int = 1 << 30) -> Iterator[None]:
    """Cap this process's address space at its current size plus ``extra`` bytes.

    A header that makes code allocate gigabytes then fails with MemoryError instead of
    exhausting the machine (the test fails, the run goes on). Where the process size
    cannot be read (not Linux), the allocation peaks are still asserted.
    """
    statm = Path("/proc/self/statm")
    if not statm.is_file():
        yield
        return
    current = int(statm.read_text().split()[0]) * os.sysconf("SC_PAGE_SIZE")
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    resource.setrlimit(resource.RLIMIT_AS, (current + extra, hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_AS, (soft, hard))


def peak_bytes(action: Callable[[], Any]) -> tuple[Any, int]:
    """Run ``action``; return its result and the peak of Python allocations meanwhile."""
    tracemalloc.start()
    try:
        result = action()
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return result, peak


@pytest.fixture
def no_large_arrays(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fail (without allocating) when anything asks numpy.empty for over 64 MiB."""
    real_empty = np.empty

    def guarded(shape: Any, dtype: Any = float, *args: Any, **kwargs: Any) -> Any:
        count = math.prod(shape) if isinstance(shape, tuple | list) else int(shape)
        size = count * np.dtype(dtype).itemsize
        assert size <= 64 * MIB, f"numpy.empty asked for {size} bytes"
        return real_empty(shape, dtype, *args, **kwargs)

    monkeypatch.setattr(np, "empty", guarded)

    def decoder_reached(*_args: Any, **_kwargs: Any) -> Any:
        raise AssertionError("a hostile frame reached the decoder")

    monkeypatch.setattr(pixels, "_decode_with_pydicom", decoder_reached)


def replaced_after_scan(
    shared_samples: Path,
    tmp_path: Path,
    source: Path,
    mutate: Callable[[Dataset], None],
) -> SeriesInfo:
    """Scan a sound copy of ``source``, then replace the file by a hostile variant.

    Files change between the scan and the load (a share being written, another
    program): the loader must judge what it reads, not trust the scan.
    """
    folder = tmp_path / "study"
    mutated(shared_samples / source, folder, lambda d: None)
    series = only_series(scan(folder))
    (folder / "x.dcm").unlink()
    mutated(shared_samples / source, folder, mutate)
    return series


# ---------------------------------------------------------------- 12 blow-ups


@pytest.mark.parametrize("source", [RLE, CT], ids=["rle", "uncompressed"])
def test_a_file_declaring_2147483647_frames_is_refused_without_allocating(
    shared_samples: Path, tmp_path: Path, source: Path
) -> None:
    mutated(
        shared_samples / source,
        tmp_path,
        lambda d: raw(d, "NumberOfFrames", b"2147483647"),
    )
    with address_space_capped():
        result, peak = peak_bytes(lambda: scan(tmp_path))
    assert "2147483647" in only_skipped_reason(result)
    assert peak < 50 * MIB


def test_rows_and_columns_of_65535_on_an_rle_file_are_refused_by_scan(
    shared_samples: Path, tmp_path: Path
) -> None:
    def huge(dataset: Dataset) -> None:
        dataset.Rows = dataset.Columns = 65535

    mutated(shared_samples / RLE, tmp_path, huge)
    with address_space_capped():
        result, peak = peak_bytes(lambda: scan(tmp_path))
    reason = only_skipped_reason(result)
    assert "declare 8589672450 bytes of pixels" in reason
    assert peak < 50 * MIB


def test_a_small_compressed_file_declaring_a_large_image_is_refused_for_its_size(
    shared_samples: Path, tmp_path: Path
) -> None:
    def large(dataset: Dataset) -> None:  # 32 MiB declared by a file of 8 KB
        dataset.Rows = dataset.Columns = 4096

    mutated(shared_samples / RLE, tmp_path, large)
    reason = only_skipped_reason(scan(tmp_path))
    assert "more than a" in reason
    assert "compressed file can hold" in reason


@pytest.mark.usefixtures("no_large_arrays")
def test_the_loader_refuses_65535_rows_and_columns_before_allocating(
    shared_samples: Path, tmp_path: Path
) -> None:
    def huge(dataset: Dataset) -> None:
        dataset.Rows = dataset.Columns = 65535

    series = replaced_after_scan(shared_samples, tmp_path, RLE, huge)
    as_rescanned = dataclasses.replace(series, rows=65535, columns=65535)
    for target in (series, as_rescanned):
        with pytest.raises(VolumeLoadError) as refused:
            load_volume(target)
        assert str(refused.value).startswith(str(series.files[0]))
        assert "8589672450 bytes of pixels" in str(refused.value)


@pytest.mark.usefixtures("no_large_arrays")
def test_the_loader_refuses_a_file_declaring_more_frames_than_it_holds(
    shared_samples: Path, tmp_path: Path
) -> None:
    series = replaced_after_scan(
        shared_samples,
        tmp_path,
        RLE,
        lambda d: raw(d, "NumberOfFrames", b"2147483647"),
    )
    with pytest.raises(
        VolumeLoadError, match=r"NumberOfFrames \(0028,0008\) 2147483647"
    ):
        load_volume(series)


# ---------------------------------------------------------------- 13 hangs


def _never_hangs(action: Callable[[], ScanResult], fifos: list[Path]) -> ScanResult:
    """Run ``action`` in a thread; fail if it blocks, then unblock it (FIFO writers)."""
    outcome: list[ScanResult | Exception] = []

    def run() -> None:
        try:
            outcome.append(action())
        except Exception as error:  # noqa: BLE001 - reported by the assertions below
            outcome.append(error)

    worker = threading.Thread(target=run, daemon=True)
    worker.start()
    worker.join(timeout=20)
    hung = worker.is_alive()
    for _ in range(20):  # release a reader blocked on a FIFO: open it for writing
        if not worker.is_alive():
            break
        for fifo in fifos:
            with contextlib.suppress(OSError):
                os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))
        worker.join(timeout=0.5)
    assert not hung, "scan blocked on a FIFO"
    assert outcome, "scan did not finish"
    assert isinstance(outcome[0], ScanResult), outcome
    return outcome[0]


needs_fifos = pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs here")


@needs_fifos
@pytest.mark.parametrize("name", ["archive.zip", "DICOMDIR", "image.dcm"])
def test_a_fifo_in_a_study_folder_never_hangs_scan(
    shared_samples: Path, tmp_path: Path, name: str
) -> None:
    series_of(shared_samples / CT, tmp_path)
    fifo = tmp_path / name
    os.mkfifo(fifo)
    result = _never_hangs(lambda: scan(tmp_path), [fifo])
    assert only_series(result).n_images == 3
    assert [(s.path, s.reason) for s in result.skipped] == [
        (str(fifo), NOT_REGULAR_REASON)
    ]
    assert "not a regular file" in NOT_REGULAR_REASON


@needs_fifos
@pytest.mark.parametrize("name", ["DICOMDIR", "study.zip", "pipe"])
def test_a_fifo_given_as_the_path_never_hangs_scan(tmp_path: Path, name: str) -> None:
    fifo = tmp_path / name
    os.mkfifo(fifo)
    result = _never_hangs(lambda: scan(fifo, cache_dir=tmp_path / "cache"), [fifo])
    assert only_skipped_reason(result) == NOT_REGULAR_REASON


@needs_fifos
def test_a_dicomdir_record_naming_a_fifo_is_skipped_unread(
    shared_samples: Path, tmp_path: Path
) -> None:
    folder = tmp_path / "dicomdirtests"
    shutil.copytree(shared_samples / DICOMDIR_TESTS, folder)
    target = folder / "77654033" / "CR1" / "6154"
    target.unlink()
    os.mkfifo(target)
    result = _never_hangs(lambda: scan(folder / "DICOMDIR"), [target])
    assert (str(target), NOT_REGULAR_REASON) in [
        (s.path, s.reason) for s in result.skipped
    ]


@pytest.mark.skipif(not Path("/dev/zero").exists(), reason="no /dev/zero here")
def test_a_link_to_dev_zero_named_like_a_zip_is_never_read(
    shared_samples: Path, tmp_path: Path
) -> None:
    series_of(shared_samples / CT, tmp_path / "study")
    for link in (tmp_path / "x.zip", tmp_path / "study" / "x.zip"):
        link.symlink_to("/dev/zero")
    with address_space_capped():
        alone, peak = peak_bytes(lambda: scan(tmp_path / "x.zip"))
        in_folder = scan(tmp_path / "study")
    assert only_skipped_reason(alone) == NOT_REGULAR_REASON
    assert peak < 50 * MIB
    assert only_series(in_folder).n_images == 3
    assert [s.reason for s in in_folder.skipped] == [NOT_REGULAR_REASON]


# ---------------------------------------------------------------- 14 no escape


@pytest.mark.parametrize(
    ("mutate", "tag"),
    [
        (lambda d: raw(d, "RescaleSlope", b"abc"), "(0028,1053)"),
        (lambda d: raw(d, "RescaleIntercept", b"1,5"), "(0028,1052)"),
        (lambda d: raw(d, "NumberOfFrames", b"many"), "(0028,0008)"),
        (lambda d: raw(d, "RescaleSlope", b"1.0", "ZZ"), "(0028,1053)"),
    ],
    ids=["slope-abc", "intercept-comma", "frames-word", "unknown-vr"],
)
def test_a_value_that_does_not_parse_is_a_skipped_entry_naming_the_tag(
    shared_samples: Path, tmp_path: Path, mutate: Callable[[Dataset], None], tag: str
) -> None:
    mutated(shared_samples / CT, tmp_path, mutate)
    assert tag in only_skipped_reason(scan(tmp_path))


@pytest.mark.parametrize(
    ("source", "mutate", "named"),
    [
        (CT, lambda d: raw(d, "RescaleSlope", b"abc"), "RescaleSlope (0028,1053)"),
        (RLE, lambda d: raw(d, "RescaleSlope", b"abc"), "RescaleSlope (0028,1053)"),
        (RLE, lambda d: raw(d, "RescaleSlope", b"1", "ZZ"), "RescaleSlope (0028,1053)"),
        (RLE, lambda d: raw(d, "BitsStored", b"\x00\x00"), "BitsStored (0028,0101)"),
        (CT, lambda d: raw(d, "RescaleSlope", b"0"), "RescaleSlope (0028,1053) is 0"),
        (RLE, lambda d: raw(d, "RescaleIntercept", b"inf"), "(0028,1052)"),
    ],
    ids=["slope-abc", "rle-slope-abc", "unknown-vr", "bits-0", "slope-0", "inf"],
)
def test_every_loader_error_is_a_mrecist_error_naming_the_file_and_the_tag(
    shared_samples: Path,
    tmp_path: Path,
    source: Path,
    mutate: Callable[[Dataset], None],
    named: str,
) -> None:
    series = replaced_after_scan(shared_samples, tmp_path, source, mutate)
    with pytest.raises(MrecistError) as refused:
        load_volume(series)
    assert isinstance(refused.value, VolumeLoadError)
    assert str(refused.value).startswith(f"{series.files[0]}: ")
    assert named in str(refused.value)


def test_an_infinite_position_read_by_the_loader_keeps_the_affine_finite(
    shared_samples: Path, tmp_path: Path
) -> None:
    folder = series_of(shared_samples / CT, tmp_path / "study")
    series = only_series(scan(folder))
    first = series.files[0]
    first.unlink()
    dataset_source = shared_samples / CT

    def infinite(dataset: Dataset) -> None:
        dataset.SOPInstanceUID = series.sop_instance_uids[0]
        raw(dataset, "ImagePositionPatient", b"-inf\\0\\0")

    mutated(dataset_source, folder, infinite, name=first.name)
    volume = load_volume(series)
    assert np.all(np.isfinite(volume.affine))
    assert volume.slice_spacing_mm == pytest.approx(2.5)


@pytest.mark.parametrize(
    "change",
    [
        {"pixel_spacing_mm": (0.0, 0.0)},
        {"image_orientation": (0.0, 0.0, 0.0, 0.0, 0.0, 0.0)},
        {"image_orientation": (1.0, 0.0, 0.0, 1.0, 0.0, 0.0)},
        {"slice_positions_mm": ((0.0, 0.0, 0.0),) * 3},
    ],
    ids=["zero-spacing", "zero-orientation", "parallel-orientation", "zero-step"],
)
def test_a_series_without_usable_geometry_is_a_load_error_not_a_silent_volume(
    shared_samples: Path, tmp_path: Path, change: dict[str, Any]
) -> None:
    series = only_series(scan(series_of(shared_samples / CT, tmp_path)))
    with pytest.raises(VolumeLoadError, match="no usable geometry"):
        load_volume(dataclasses.replace(series, **change))


# ---------------------------------------------------------------- 15 no silent wrong


@pytest.mark.parametrize(
    ("keyword", "value"),
    [
        ("RescaleSlope", b"0"),
        ("RescaleSlope", b"NaN"),
        ("RescaleSlope", b"inf"),
        ("RescaleIntercept", b"-inf"),
    ],
)
def test_a_rescale_that_would_blank_the_volume_is_a_skipped_entry(
    shared_samples: Path, tmp_path: Path, keyword: str, value: bytes
) -> None:
    mutated(shared_samples / CT, tmp_path, lambda d: raw(d, keyword, value))
    reason = only_skipped_reason(scan(tmp_path))
    assert reason.startswith(f"{keyword} (0028,105")
    assert "the file is not used" in reason


@pytest.mark.parametrize("frames", [b"-1", b"0"])
def test_number_of_frames_minus_one_gives_a_skipped_entry(
    shared_samples: Path, tmp_path: Path, frames: bytes
) -> None:
    path = mutated(
        shared_samples / CT, tmp_path, lambda d: raw(d, "NumberOfFrames", frames)
    )
    result = scan(tmp_path)
    assert [s.path for s in result.skipped] == [str(path)]
    assert "NumberOfFrames (0028,0008)" in result.skipped[0].reason


def test_bits_stored_beyond_bits_allocated_is_a_skipped_entry(
    shared_samples: Path, tmp_path: Path
) -> None:
    mutated(shared_samples / CT, tmp_path, lambda d: raw(d, "BitsStored", b"\x40\x00"))
    assert "BitsStored (0028,0101) 64" in only_skipped_reason(scan(tmp_path))


def _finite_numbers(series: SeriesInfo) -> list[float]:
    return [
        *series.pixel_spacing_mm,
        *series.image_orientation,
        *series.first_position_mm,
        *(() if series.slice_spacing_mm is None else (series.slice_spacing_mm,)),
    ]


@pytest.mark.parametrize(
    ("keyword", "value", "warned"),
    [
        ("PixelSpacing", b"0\\0", "is not a pixel spacing (each value must be above 0"),
        ("PixelSpacing", b"-0.7\\-0.7", "is not a pixel spacing (each value must be"),
        ("PixelSpacing", b"inf\\1", "is not a pixel spacing (not 2 finite numbers)"),
        ("ImageOrientationPatient", b"0\\0\\0\\0\\0\\0", "zero or not unit direction"),
        (
            "ImageOrientationPatient",
            b"1\\0\\0\\1\\0\\0",
            "parallel or not perpendicular",
        ),
        ("ImagePositionPatient", b"inf\\0\\0", "is not a position"),
        ("ImagePositionPatient", b"0\\0\\1e308", "is not a position (beyond"),
    ],
    ids=[
        "spacing-0",
        "spacing-negative",
        "spacing-inf",
        "orientation-0",
        "orientation-parallel",
        "position-inf",
        "position-1e308",
    ],
)
def test_impossible_geometry_is_ignored_with_a_warning_naming_the_tag(
    shared_samples: Path, tmp_path: Path, keyword: str, value: bytes, warned: str
) -> None:
    series_of(shared_samples / CT, tmp_path, lambda d: raw(d, keyword, value))
    series = only_series(scan(tmp_path))
    assert any(
        w.startswith(f"{keyword} (00") and warned in w and w.endswith(": ignored")
        for w in series.warnings
    ), series.warnings
    assert all(math.isfinite(v) for v in _finite_numbers(series))
    volume = load_volume(series)
    assert np.all(np.isfinite(volume.affine))
    assert abs(np.linalg.det(volume.affine[:3, :3])) > 0
    assert np.ptp(volume.array) > 0  # not a blank volume


def test_dicomdir_records_pointing_outside_its_folder_are_outside_not_missing(
    shared_samples: Path, tmp_path: Path
) -> None:
    folder = tmp_path / "disc"
    shutil.copytree(shared_samples / DICOMDIR_TESTS, folder)
    (tmp_path / "elsewhere").write_bytes(b"not yours")
    (folder / "LINK").symlink_to(tmp_path / "elsewhere")
    dicomdir = pydicom.dcmread(folder / "DICOMDIR")
    records = [r for r in dicomdir.DirectoryRecordSequence if "ReferencedFileID" in r]
    raw(records[0], "ReferencedFileID", b"..\\elsewhere")
    raw(records[1], "ReferencedFileID", b"LINK")
    raw(records[2], "ReferencedFileID", b"NOWHERE\\6278")
    dicomdir.save_as(folder / "DICOMDIR")
    reasons = {Path(s.path).name: s.reason for s in scan(folder / "DICOMDIR").skipped}
    assert reasons["elsewhere"] == OUTSIDE_DICOMDIR_REASON
    assert reasons["LINK"] == OUTSIDE_DICOMDIR_REASON
    assert "outside the DICOMDIR's folder" in OUTSIDE_DICOMDIR_REASON
    assert reasons["6278"] == "DICOMDIR record points at a missing file"


def _columns_8240(dataset: Dataset) -> None:
    dataset.Columns = 8240  # the JPEG-LS frame is 64 x 64


@pytest.mark.parametrize(
    ("source", "mutate"),
    [
        (
            Path("pydicom/test_files/JPEG2000.dcm"),
            lambda d: raw(d, "PlanarConfiguration", b"1e400", "FD"),
        ),
        (Path("pydicom/test_files/MR_small_jpeg_ls_lossless.dcm"), _columns_8240),
    ],
    ids=["wrong-vr", "frame-not-the-header-size"],
)
def test_a_frame_that_would_abort_gdcm_is_a_load_error_not_a_crash(
    shared_samples: Path,
    tmp_path: Path,
    source: Path,
    mutate: Callable[[Dataset], None],
) -> None:
    """GDCM (a decoder of last resort) aborts the process on what it finds inconsistent.

    Run in a child process: on code that hands the file to GDCM the child dies
    (SIGABRT) instead of the test session.
    """
    mutated(shared_samples / source, tmp_path, mutate)
    script = (
        "import sys\n"
        "from pathlib import Path\n"
        "from mrecist_reader.core.errors import MrecistError\n"
        "from mrecist_reader.imaging.load import load_volume\n"
        "from mrecist_reader.imaging.scan import scan\n"
        "(series,) = scan(Path(sys.argv[1])).series\n"
        "try:\n"
        "    load_volume(series)\n"
        "except MrecistError as error:\n"
        "    print(error)\n"
    )
    child = subprocess.run(
        [sys.executable, "-c", script, str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert child.returncode == 0, child.stderr[-2000:]
    assert child.stdout.startswith(f"{tmp_path / 'x.dcm'}: cannot decode pixel data")
