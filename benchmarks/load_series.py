"""Benchmark: from a folder to a volume, ours vs SimpleITK vs a pydicom loop vs the floor.

Run by ``make bench`` (never by the tests). It writes into a temporary folder a
512x512x300 CT series three times (uncompressed explicit VR little endian, RLE Lossless
and JPEG 2000 Lossless, both through pydicom's pylibjpeg encoders) and a 3,000-file
folder of ten 512x512 series, then times, **alternating the contenders** within each
repeat (so that drift on a shared machine spreads over all of them; one warm-up round
first, so the page cache is warm for everyone):

- ``floor``: every file's bytes read into one preallocated, touched buffer (no
  allocation, no parsing: nothing can load faster);
- SimpleITK: ``ImageSeriesReader`` on the sorted file list, and from the folder
  (``GetGDCMSeriesFileNames`` + ``Execute``);
- a plain pydicom loop written as users write it: ``dcmread`` + ``pixel_array`` into an
  int16 volume, rescaled in place (``slope * v + intercept`` as whole numbers); and its
  header-only form (``dcmread(stop_before_pixels=True)``) against which ``scan`` is set;
- ours: ``load_volume`` on the ``scan`` result, ``scan`` alone, and folder to volume
  (``scan`` + ``load_volume``, scan index off: a first open);
- the 3,000-file folder: from the folder to the middle slice of its largest series on a
  first open (index off), and on a second open (index on, already written);
- the first requested slice of ``open_volume`` (middle slice);
- ``fresh_volume``: a new int16 array of the volume's shape, every page touched: what
  any loader pays to produce a volume, and the floor (a preallocated buffer) does not.

Why ``ours`` measured alone (0.044 s) was several times faster than in these rounds
(0.11-0.28 s): numpy asks the kernel for huge pages on large arrays (``madvise``); right
after other large arrays were freed (SimpleITK's, the pydicom loop's) the kernel
compacts memory to find them, and touching a fresh 150 MB volume then takes 0.4-1.0 s
instead of 0.05 s (0.2 s steady without huge pages; measured on 2026-12-06).
So the volume's allocation, not the reading, varies with what ran before: measured
alone, back to back, the loader reuses memory in the best state. ``fresh_volume``
shows that cost in the rounds' state (one thread touching every page; the loader
touches its volume from several threads, so it can take less), and ``load / (floor +
fresh volume)`` sets the load against reading plus allocating.

Each figure is the median over the repeats, with its spread (lowest-highest). Every
volume is compared voxel by voxel with SimpleITK's, and ours' geometry (origin and
spacing) with SimpleITK's. Peak memory of ours is measured in a child process as the
growth of its peak RSS (VmHWM) during ``load_volume``. The last line printed is JSON.

Targets (issue 20): folder to volume <= 0.35 x SimpleITK; scan <= 1.0 x the pydicom
header loop; RLE <= 0.5 x the pydicom loop; J2K <= 0.6 x SimpleITK; load <= 3 x the
floor; the 3,000-file folder to its first image <= 2.5 s, <= 1 s on a second open; peak
<= 1.3 x the volume's bytes.
"""

import argparse
import contextlib
import dataclasses
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
    JPEG2000Lossless,
    RLELossless,
    generate_uid,
)

N_SLICES, SIZE = 300, 512
BIG_FOLDER_SERIES, BIG_FOLDER_SLICES = 10, 300


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


def generate(folder: Path) -> dict[str, Path]:
    """Write the uncompressed, RLE and J2K series; return their folders by name."""
    folders = {name: folder / name for name in ("plain", "rle", "j2k")}
    for path in folders.values():
        path.mkdir()
    rng = np.random.default_rng(0)
    study_uid = generate_uid()
    uids = {name: generate_uid() for name in folders}
    for k in range(N_SLICES):
        pixels = _phantom(k, rng)
        for name, syntax in (
            ("plain", None),
            ("rle", RLELossless),
            ("j2k", JPEG2000Lossless),
        ):
            ds = _dataset(k, pixels, uids[name], study_uid)
            if syntax is not None:
                ds.compress(syntax, encoding_plugin="pylibjpeg")
            ds.save_as(folders[name] / f"{k:04d}.dcm", enforce_file_format=True)
    return folders


def generate_big_folder(folder: Path) -> Path:
    """Write 3,000 uncompressed files: ten series of 300 slices, names shuffled."""
    folder.mkdir()
    rng = np.random.default_rng(1)
    pixels = [_phantom(k, rng) for k in range(4)]
    study_uid = generate_uid()
    order = rng.permutation(BIG_FOLDER_SERIES * BIG_FOLDER_SLICES)
    for number in range(BIG_FOLDER_SERIES):
        series_uid = generate_uid()
        for k in range(BIG_FOLDER_SLICES):
            ds = _dataset(k, pixels[k % 4], series_uid, study_uid)
            ds.SeriesNumber = number + 1
            ds.SeriesDescription = f"LIVER SERIES {number + 1}"
            name = order[number * BIG_FOLDER_SLICES + k]
            ds.save_as(folder / f"IM{name:05d}", enforce_file_format=True)
    return folder


REPEATS = 5
"""Rounds of every contender (after one warm-up round)."""


def alternated(
    contenders: dict[str, Callable[[], Any]], repeats: int = REPEATS
) -> dict[str, list[float]]:
    """Time each contender once per round, in a rotating order; one warm-up round first.

    Returns each contender's times (s). Rotating the order spreads the drift of a
    shared machine (and any order effect) over all contenders.
    """
    names = list(contenders)
    for name in names:
        contenders[name]()
    times: dict[str, list[float]] = {name: [] for name in names}
    for round_ in range(repeats):
        shift = round_ % len(names)
        for name in names[shift:] + names[:shift]:
            start = time.perf_counter()
            contenders[name]()
            times[name].append(time.perf_counter() - start)
    return times


class Floor:
    """Read every file's bytes into one preallocated, touched buffer."""

    def __init__(self, files: list[Path]) -> None:
        self.files = files
        self.buffer = bytearray(max(f.stat().st_size for f in files) * len(files))
        self.view = memoryview(self.buffer)
        self.view[:] = b"\1" * len(self.buffer)  # touched: every page is mapped

    def __call__(self) -> None:
        """Read all the files, one after the other, into the buffer."""
        position = 0
        for path in self.files:
            with path.open("rb", buffering=0) as stream:
                position += stream.readinto(self.view[position:]) or 0


def read_simpleitk(files: list[Path]) -> np.ndarray:
    """Load with SimpleITK's ImageSeriesReader (GDCM ImageIO)."""
    import SimpleITK as sitk

    reader = sitk.ImageSeriesReader()
    reader.SetFileNames([str(f) for f in files])
    return sitk.GetArrayViewFromImage(reader.Execute())


def simpleitk_from_folder(folder: Path) -> Any:
    """Load the (only) series of ``folder`` with SimpleITK: find, sort, read."""
    import SimpleITK as sitk

    reader = sitk.ImageSeriesReader()
    reader.SetFileNames(sitk.ImageSeriesReader.GetGDCMSeriesFileNames(str(folder)))
    return reader.Execute()


def read_pydicom(files: list[Path]) -> np.ndarray:
    """Load with a plain pydicom loop, as users write it: int16 volume, rescaled."""
    first = pydicom.dcmread(files[0], stop_before_pixels=True)
    volume = np.empty((len(files), first.Rows, first.Columns), dtype=np.int16)
    for k, path in enumerate(files):
        volume[k] = pydicom.dcmread(path).pixel_array
    slope, intercept = int(first.RescaleSlope), int(first.RescaleIntercept)
    if slope != 1:
        volume *= slope
    volume += intercept
    return volume


def read_pydicom_headers(files: list[Path]) -> list[Dataset]:
    """Read every header with pydicom (no pixels): what a plain scan loop does."""
    return [pydicom.dcmread(f, stop_before_pixels=True) for f in files]


def cores_used(
    contenders: dict[str, Callable[[], Any]], names: tuple[str, ...]
) -> dict[str, tuple[float, float]]:
    """Return each named contender's CPU seconds for one run, and the cores it used.

    Why a J2K ratio is what it is: SimpleITK decodes a series on every core as well
    (ITK's threads), with the same OpenJPEG, so on 2 cores the ratio is near the
    ratio of CPU seconds. Process CPU time counts every thread of this process.
    """
    found: dict[str, tuple[float, float]] = {}
    for name in names:
        if name in contenders:
            wall, cpu = time.perf_counter(), time.process_time()
            contenders[name]()
            wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
            found[name] = (cpu, cpu / wall)
    return found


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
    from mrecist_reader.imaging import scan as scan_module
    from mrecist_reader.imaging.load import load_volume

    (series,) = _scan_of(scan_module)(folder, use_index=False).series
    baseline = peak_rss_kb()
    volume = load_volume(series)
    peak = peak_rss_kb()
    print(
        json.dumps({"peak_mb": (peak - baseline) / 1024, "bytes": volume.array.nbytes})
    )


def _check_same(name: str, ours: Any, folder: Path) -> None:
    """Assert that our volume has SimpleITK's voxels, origin and spacing."""
    import SimpleITK as sitk

    image = simpleitk_from_folder(folder)
    assert np.array_equal(ours.array, sitk.GetArrayViewFromImage(image)), name
    origin = ours.affine[:3, 3]
    spacing = np.linalg.norm(ours.affine[:3, :3], axis=0)[::-1][[2, 1, 0]]
    assert np.allclose(origin, image.GetOrigin(), atol=1e-4), (name, origin)
    assert np.allclose(sorted(spacing), sorted(image.GetSpacing()), atol=1e-4), (
        name,
        spacing,
        image.GetSpacing(),
    )


def _scan_of(module: Any) -> Callable[..., Any]:
    """Return ``scan``, ignoring the options an older version lacks (to measure it)."""
    import inspect

    known = set(inspect.signature(module.scan).parameters)

    def scan(folder: Path, **options: Any) -> Any:
        return module.scan(folder, **{k: v for k, v in options.items() if k in known})

    return scan


def main() -> int:
    """Generate, time, print the table and the JSON line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--peak-child", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--repeats", type=int, default=REPEATS)
    parser.add_argument(
        "--only",
        nargs="+",
        metavar="CONTENDER",
        help="time only these contenders (e.g. ours_j2k simpleitk_j2k), still alternated",
    )
    args = parser.parse_args()
    if args.peak_child:
        peak_child(args.peak_child)
        return 0
    from mrecist_reader.imaging import scan as scan_module
    from mrecist_reader.imaging.load import VolumeLoadError, load_volume, open_volume

    scan = _scan_of(scan_module)
    if hasattr(scan_module, "allow_worker_processes"):
        scan_module.allow_worker_processes()  # as the application's entry points may
    with tempfile.TemporaryDirectory(prefix="mrecist-bench-") as tmp:
        start = time.perf_counter()
        folders = generate(Path(tmp))
        wants_big = not args.only or any(c.startswith("big") for c in args.only)
        big = generate_big_folder(Path(tmp) / "big") if wants_big else Path(tmp)
        print(f"generated in {time.perf_counter() - start:.1f} s")
        index_dir = Path(tmp) / "index"
        series = {
            name: scan(folder, use_index=False).series[0]
            for name, folder in folders.items()
        }
        files = {name: list(s.files) for name, s in series.items()}
        for name, folder in folders.items():
            _check_same(name, load_volume(series[name]), folder)
        reference = read_pydicom(files["plain"])
        assert np.array_equal(load_volume(series["plain"]).array, reference)
        del reference

        def first_image(folder: Path, *, use_index: bool) -> None:
            found = scan(folder, use_index=use_index, index_dir=index_dir).series
            largest = max(found, key=lambda s: s.n_slices)
            loader = open_volume(largest)
            loader.request_slice(largest.n_slices // 2)
            loader.cancel()
            with contextlib.suppress(VolumeLoadError):
                loader.wait()

        def first_slice() -> None:
            loader = open_volume(series["plain"])
            loader.request_slice(N_SLICES // 2)
            loader.cancel()
            with contextlib.suppress(VolumeLoadError):
                loader.wait()

        def fresh_volume() -> np.ndarray:
            volume = np.empty((N_SLICES, SIZE, SIZE), dtype=np.int16)
            volume.fill(0)  # every page touched, as a loader writes every voxel
            return volume

        big_files = sorted(big.iterdir()) if wants_big else []
        floor = Floor(files["plain"])
        plain = folders["plain"]
        contenders: dict[str, Callable[[], Any]] = {
            "floor": floor,
            "fresh_volume": fresh_volume,
            "ours": lambda: load_volume(series["plain"]),
            "simpleitk": lambda: read_simpleitk(files["plain"]),
            "pydicom": lambda: read_pydicom(files["plain"]),
            "ours_folder": lambda: load_volume(scan(plain, use_index=False).series[0]),
            "simpleitk_folder": lambda: simpleitk_from_folder(plain),
            "ours_scan": lambda: scan(plain, use_index=False),
            "pydicom_headers": lambda: read_pydicom_headers(files["plain"]),
            "first_slice": first_slice,
            "ours_rle": lambda: load_volume(series["rle"]),
            "simpleitk_rle": lambda: read_simpleitk(files["rle"]),
            "pydicom_rle": lambda: read_pydicom(files["rle"]),
            "ours_j2k": lambda: load_volume(series["j2k"]),
            "ours_j2k_parsed": lambda: load_volume(
                dataclasses.replace(series["j2k"], encoded_slices=())
            ),
            "simpleitk_j2k": lambda: read_simpleitk(files["j2k"]),
            "big_first_open": lambda: first_image(big, use_index=False),
            "big_second_open": lambda: first_image(big, use_index=True),
            "big_scan": lambda: scan(big, use_index=False),
            "big_pydicom_headers": lambda: read_pydicom_headers(big_files),
        }
        if args.only:
            unknown = set(args.only) - set(contenders)
            if unknown:
                parser.error(f"unknown contender(s): {', '.join(sorted(unknown))}")
            contenders = {k: v for k, v in contenders.items() if k in args.only}
        times = alternated(contenders, args.repeats)
        cores = cores_used(contenders, ("ours_j2k", "simpleitk_j2k"))
        peak = {} if args.only else _peak_of(plain)
    medians = {name: statistics.median(t) for name, t in times.items()}
    _print_table(times, medians, peak, cores)
    if not peak:
        print(json.dumps({k: round(v, 4) for k, v in medians.items()}))
        return 0
    print(json.dumps({
        **{k: round(v, 4) for k, v in medians.items()},
        **{f"{k}_spread": [round(min(t), 4), round(max(t), 4)] for k, t in times.items()},
        "peak_rss_mb": round(peak["peak_mb"], 1),
        "volume_mb": round(peak["bytes"] / 2**20, 1),
        "repeats": args.repeats,
    }))  # fmt: skip
    return 0


def _peak_of(folder: Path) -> dict[str, Any]:
    """Return the peak memory of ``load_volume`` on ``folder``, from a child process."""
    child = subprocess.run(
        [sys.executable, __file__, "--peak-child", str(folder)],
        check=True,
        capture_output=True,
        text=True,
    )
    peak: dict[str, Any] = json.loads(child.stdout.strip().splitlines()[-1])
    return peak


RATIOS = (
    ("ours", "simpleitk", "load, ours / SimpleITK", None),
    ("ours", "floor", "load, ours / floor", 3.0),
    ("ours", "pydicom", "load, ours / pydicom loop", None),
    ("ours_folder", "simpleitk_folder", "folder -> volume, ours / SimpleITK", 0.35),
    ("ours_scan", "pydicom_headers", "scan / pydicom header loop", 1.0),
    ("ours_rle", "pydicom_rle", "RLE, ours / pydicom loop", 0.5),
    ("ours_rle", "simpleitk_rle", "RLE, ours / SimpleITK", None),
    ("ours_j2k", "simpleitk_j2k", "J2K, ours / SimpleITK", 0.6),
    ("ours_j2k", "ours_j2k_parsed", "J2K, recorded fragments / headers parsed", None),
    ("big_scan", "big_pydicom_headers", "3,000 files: scan / pydicom header loop", 1.0),
)


def _print_table(
    times: dict[str, list[float]],
    medians: dict[str, float],
    peak: dict[str, Any],
    cores: dict[str, tuple[float, float]] | None = None,
) -> None:
    rounds = len(next(iter(times.values())))
    print(
        f"{'contender':22} {'median s':>9} {'spread s':>15}  (alternated, {rounds} rounds)"
    )
    for name, values in times.items():
        print(f"{name:22} {medians[name]:9.3f} {min(values):7.3f}-{max(values):<7.3f}")
    print()
    for ours, reference, label, target in RATIOS:
        if ours not in times or reference not in times:
            continue
        ratio = medians[ours] / medians[reference]
        per_round = [a / b for a, b in zip(times[ours], times[reference], strict=True)]
        goal = f"(<= {target})" if target else ""
        print(
            f"{label:42} {ratio:5.2f} x  rounds {min(per_round):.2f}-{max(per_round):.2f} {goal}"
        )
    for name, (cpu, used) in (cores or {}).items():
        print(f"{name:22} CPU {cpu:6.2f} s a load, {used:4.2f} cores used (one run)")
    if not peak:  # --only: the ratios above are all
        return
    with_volume = [
        f + v for f, v in zip(times["floor"], times["fresh_volume"], strict=True)
    ]
    per_round = [a / b for a, b in zip(times["ours"], with_volume, strict=True)]
    print(
        f"{'load, ours / (floor + fresh volume)':42} "
        f"{medians['ours'] / statistics.median(with_volume):5.2f} x  "
        f"rounds {min(per_round):.2f}-{max(per_round):.2f}"
    )
    print(
        f"{'3,000 files to first image, first open':42} {medians['big_first_open']:5.2f} s  (<= 2.5 s)"
    )
    print(
        f"{'3,000 files to first image, second open':42} {medians['big_second_open']:5.2f} s  (<= 1 s)"
    )
    print(f"{'first requested slice':42} {medians['first_slice']:5.3f} s  (<= 0.2 s)")
    volume_mb = peak["bytes"] / 2**20
    print(f"{'peak RSS of load_volume / volume':42} {peak['peak_mb'] / volume_mb:5.2f} x  "
          f"({peak['peak_mb']:.0f} MB for {volume_mb:.0f} MB, <= 1.3)")  # fmt: skip


if __name__ == "__main__":
    sys.exit(main())
