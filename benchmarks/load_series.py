"""Benchmark: loading a 512x512x300 CT series, ours vs SimpleITK vs a pydicom loop.

Run by ``make bench`` (never by the tests). It writes the series into a temporary folder
twice (uncompressed explicit VR little endian, and RLE Lossless through pydicom's
pylibjpeg-rle encoder), then times in one run:

- ``floor``: reading every file's bytes (nothing can load faster than this);
- SimpleITK ``ImageSeriesReader`` on the sorted file list (header reading included);
- a plain pydicom loop (``dcmread`` + ``pixel_array`` + rescale per file);
- ours (``load_volume`` on the ``scan`` result; the scan itself is timed apart);
- the first requested slice of ``open_volume`` (middle slice).

Every reader runs once to warm the page cache, then again up to 7 times (fewer when a run
is slow: they stop after about 3 s) and the median warm time is reported for all, so the
comparison is between decoders, not disks, and one disturbed run does not decide it. Peak memory of ours is measured in a
child process as the growth of its peak RSS (VmHWM) during ``load_volume`` above the
interpreter's baseline (after imports and the scan). The last line printed is JSON:
``{"ours_s", "simpleitk_s", "pydicom_s", "floor_s", "first_slice_s",
"ours_compressed_s", "simpleitk_compressed_s", "peak_rss_mb"}`` plus the scan time.

Targets: uncompressed ours <= 0.5 x SimpleITK and <= 3 x floor; compressed ours <= 0.7 x
SimpleITK; first slice <= 0.2 s; peak <= 1.3 x the volume's bytes.
"""

import argparse
import contextlib
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pydicom
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import (
    CTImageStorage,
    ExplicitVRLittleEndian,
    RLELossless,
    generate_uid,
)

N_SLICES, SIZE = 300, 512


def _phantom(k: int, rng: np.random.Generator) -> np.ndarray:
    """Return one slice of stored values (12-bit unsigned, HU + 1024): body, liver, noise."""
    y, x = np.mgrid[0:SIZE, 0:SIZE]
    hu = np.full((SIZE, SIZE), -1000.0)
    body = ((x - 256) / 220.0) ** 2 + ((y - 256) / 160.0) ** 2 < 1
    hu[body] = 40.0
    liver = ((x - 190) / 90.0) ** 2 + ((y - 240) / 70.0) ** 2 < 1
    hu[liver] = 60.0 + 20 * np.sin(k / 20.0)
    hu += rng.normal(0, 12, hu.shape)
    return np.clip(hu + 1024, 0, 4095).astype(np.uint16)


def _dataset(k: int, pixels: np.ndarray, series_uid: str, study_uid: str) -> Dataset:
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = CTImageStorage
    meta.MediaStorageSOPInstanceUID = generate_uid()
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds = Dataset()
    ds.file_meta = meta
    ds.SOPClassUID = CTImageStorage
    ds.SOPInstanceUID = meta.MediaStorageSOPInstanceUID
    ds.StudyInstanceUID, ds.SeriesInstanceUID = study_uid, series_uid
    ds.Modality, ds.SeriesDescription, ds.SeriesNumber = "CT", "LIVER ARTERIAL", 2
    ds.PatientID, ds.InstanceNumber = "BENCH", k + 1
    ds.ImagePositionPatient = [-180.0, -180.0, -600.0 + 1.25 * k]
    ds.ImageOrientationPatient = [1, 0, 0, 0, 1, 0]
    ds.PixelSpacing, ds.SliceThickness = [0.703125, 0.703125], 1.25
    ds.Rows = ds.Columns = SIZE
    ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 12, 11, 0
    ds.RescaleSlope, ds.RescaleIntercept = 1, -1024
    ds.PixelData = pixels.tobytes()
    return ds


def generate(folder: Path) -> tuple[Path, Path]:
    """Write the uncompressed and the RLE series; return their folders."""
    plain, rle = folder / "plain", folder / "rle"
    plain.mkdir()
    rle.mkdir()
    rng = np.random.default_rng(0)
    series_uid, rle_uid, study_uid = generate_uid(), generate_uid(), generate_uid()
    for k in range(N_SLICES):
        pixels = _phantom(k, rng)
        ds = _dataset(k, pixels, series_uid, study_uid)
        ds.save_as(plain / f"{k:04d}.dcm", enforce_file_format=True)
        ds.SeriesInstanceUID = rle_uid
        ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID = generate_uid()
        ds.compress(RLELossless, encoding_plugin="pylibjpeg")
        ds.save_as(rle / f"{k:04d}.dcm", enforce_file_format=True)
    return plain, rle


MAX_RUNS, TIME_BUDGET_S = 7, 3.0


def warm_time(run: Callable[[], Any]) -> float:
    """Run once to warm the cache, then time up to MAX_RUNS runs; return the median (s)."""
    run()
    times: list[float] = []
    while len(times) < MAX_RUNS and (not times or sum(times) < TIME_BUDGET_S):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def read_floor(files: list[Path]) -> None:
    """Read every file's bytes."""
    for path in files:
        path.read_bytes()


def read_simpleitk(files: list[Path]) -> np.ndarray:
    """Load with SimpleITK's ImageSeriesReader (GDCM ImageIO)."""
    import SimpleITK as sitk

    reader = sitk.ImageSeriesReader()
    reader.SetFileNames([str(f) for f in files])
    return sitk.GetArrayViewFromImage(reader.Execute())


def read_pydicom(files: list[Path]) -> np.ndarray:
    """Load with a plain pydicom loop (the common hand-written way)."""
    from pydicom.pixels.processing import apply_modality_lut

    slices = []
    for path in files:
        ds = pydicom.dcmread(path)
        slices.append(apply_modality_lut(ds.pixel_array, ds))
    return np.stack(slices)


def peak_rss_kb() -> int:
    """Return this process's peak RSS in KiB.

    Linux: VmHWM of /proc/self/status (per address space, so not inherited from the
    parent the way ``ru_maxrss`` survives ``execve``); elsewhere ``ru_maxrss``.
    """
    status = Path("/proc/self/status")
    if status.exists():
        for line in status.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def peak_child(folder: Path) -> None:
    """In a child process: print the peak RSS growth (MB) of load_volume."""
    from mrecist_reader.imaging.load import load_volume
    from mrecist_reader.imaging.scan import scan

    (series,) = scan(folder).series
    baseline = peak_rss_kb()
    volume = load_volume(series)
    peak = peak_rss_kb()
    print(
        json.dumps({"peak_mb": (peak - baseline) / 1024, "bytes": volume.array.nbytes})
    )


def main() -> int:
    """Generate, time, print the table and the JSON line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--peak-child", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.peak_child:
        peak_child(args.peak_child)
        return 0
    from mrecist_reader.imaging.load import VolumeLoadError, load_volume, open_volume
    from mrecist_reader.imaging.scan import scan

    with tempfile.TemporaryDirectory(prefix="mrecist-bench-") as tmp:
        start = time.perf_counter()
        plain, rle = generate(Path(tmp))
        print(
            f"generated {N_SLICES} slices of {SIZE}x{SIZE} twice in {time.perf_counter() - start:.1f} s"
        )
        scan_start = time.perf_counter()
        (series,) = scan(plain).series
        scan_s = time.perf_counter() - scan_start
        (rle_series,) = scan(rle).series
        files, rle_files = list(series.files), list(rle_series.files)

        ours = load_volume(series).array
        reference = read_pydicom(files)
        assert np.array_equal(ours, reference), "ours differs from pydicom"
        assert np.array_equal(load_volume(rle_series).array, reference), "RLE differs"
        del ours, reference

        def time_first() -> float:
            """Median time from open_volume to the middle slice (1 warm-up run)."""
            times = []
            for _ in range(MAX_RUNS + 1):
                start = time.perf_counter()
                loader = open_volume(series)
                loader.request_slice(N_SLICES // 2)
                times.append(time.perf_counter() - start)
                loader.cancel()
                with contextlib.suppress(VolumeLoadError):
                    loader.wait()  # let the cancelled workers stop before the next run
            return statistics.median(times[1:])

        results = {
            "ours_s": warm_time(lambda: load_volume(series)),
            "simpleitk_s": warm_time(lambda: read_simpleitk(files)),
            "pydicom_s": warm_time(lambda: read_pydicom(files)),
            "floor_s": warm_time(lambda: read_floor(files)),
            "first_slice_s": time_first(),
            "ours_compressed_s": warm_time(lambda: load_volume(rle_series)),
            "simpleitk_compressed_s": warm_time(lambda: read_simpleitk(rle_files)),
        }
        child = subprocess.run(
            [sys.executable, __file__, "--peak-child", str(plain)],
            check=True,
            capture_output=True,
            text=True,
        )
        peak = json.loads(child.stdout.strip().splitlines()[-1])
        results["peak_rss_mb"] = peak["peak_mb"]
        results["scan_s"] = scan_s
        volume_mb = peak["bytes"] / 2**20
    _print_table(results, volume_mb)
    print(json.dumps({k: round(v, 4) for k, v in results.items()}))
    return 0


def _print_table(results: dict[str, float], volume_mb: float) -> None:
    ours, sitk = results["ours_s"], results["simpleitk_s"]
    rows = [
        ("floor (read bytes)", results["floor_s"], ""),
        ("SimpleITK", sitk, ""),
        ("pydicom loop", results["pydicom_s"], ""),
        ("ours", ours, f"{ours / sitk:.2f} x SimpleITK (<= 0.5), "
         f"{ours / results['floor_s']:.2f} x floor (<= 3)"),
        ("ours, first slice", results["first_slice_s"], "(<= 0.2 s)"),
        ("SimpleITK, RLE", results["simpleitk_compressed_s"], ""),
        ("ours, RLE", results["ours_compressed_s"],
         f"{results['ours_compressed_s'] / results['simpleitk_compressed_s']:.2f} x "
         "SimpleITK (<= 0.7)"),
        ("scan (headers)", results["scan_s"], ""),
    ]  # fmt: skip
    print(
        f"{'reader':22} {'seconds':>8}  note (warm cache, median of up to {MAX_RUNS} runs)"
    )
    for name, seconds, note in rows:
        print(f"{name:22} {seconds:8.3f}  {note}")
    peak = results["peak_rss_mb"]
    print(f"peak RSS of load_volume: {peak:.0f} MB for a {volume_mb:.0f} MB volume "
          f"({peak / volume_mb:.2f} x, <= 1.3)")  # fmt: skip


if __name__ == "__main__":
    sys.exit(main())
