"""Benchmark: a 3,000-file folder to its first image, progressive scan vs full scan first.

Run by ``make bench`` (never by the tests). It writes ten 512x512 CT series of 300
uncompressed slices, one folder per series (as exports lay them out; the arterial
series is the fourth), then times in alternated rounds (one warm-up round first, so
the page cache is warm for both; scan index off: a first open):

- ``full``: what the window did before issue 20 item 4: scan the whole folder, build
  the worklist, decode the middle slice of the series it opens first;
- ``progressive``: the same scan with ``on_progress``: the middle slice of the first
  series the window shows early (:func:`mrecist_reader.desk.first_image.show_early`)
  is decoded as soon as its folder has been read, and the scan goes on, the worklist
  growing with each report (:func:`~mrecist_reader.desk.first_image.grown_worklist`,
  as the window does); the first image's time and the scan's end are both recorded.

With ``--flat`` the 3,000 files lie in one folder under shuffled names (a flat export):
that folder is read series by series (``scan``'s ``FLAT_FOLDER_FILES``).

Reported: time to the first image, progressive / full (target: well under 1), the
progressive scan's end / the full one's (what reporting progress costs), medians and
spread over the rounds. The last line printed is JSON.
"""

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from load_series import _dataset, _phantom  # the same slices as load_series
from pydicom.uid import generate_uid

SERIES, SLICES = 10, 300
ARTERIAL = 3
"""Index of the arterial series (folder SE04)."""
REPEATS = 5


def generate(folder: Path, *, flat: bool = False) -> Path:
    """Write the ten series, one folder each (or all in one); return the study folder."""
    rng = np.random.default_rng(2)
    pixels = [_phantom(k, rng) for k in range(4)]
    study_uid = generate_uid()
    names = rng.permutation(SERIES * SLICES)
    for number in range(SERIES):
        series_uid = generate_uid()
        target = folder if flat else folder / f"SE{number + 1:02d}"
        target.mkdir(parents=True, exist_ok=True)
        description = "LIVER ARTERIAL" if number == ARTERIAL else "LIVER PORTAL"
        for k in range(SLICES):
            ds = _dataset(k, pixels[k % 4], series_uid, study_uid)
            ds.SeriesNumber = number + 1
            ds.SeriesDescription = description
            name = f"IM{names[number * SLICES + k]:05d}" if flat else f"IM{k:04d}"
            ds.save_as(target / name, enforce_file_format=True)
    return folder


def full(folder: Path) -> tuple[float, float]:
    """Scan everything, then decode the first slice; return (first image, scan end)."""
    from mrecist_reader.desk.first_image import first_series
    from mrecist_reader.imaging.scan import scan
    from mrecist_reader.imaging.worklist import build_worklist
    from mrecist_reader.ui.prefetch import decode_first_slice

    start = time.perf_counter()
    result = scan(folder, use_index=False)
    scanned = time.perf_counter() - start
    chosen = first_series(build_worklist(result.series))
    assert chosen is not None
    assert decode_first_slice(chosen) is not None
    return time.perf_counter() - start, scanned


def progressive(folder: Path) -> tuple[float, float]:
    """Scan with progress, decoding the first slice early; return (first image, end)."""
    from mrecist_reader.desk.first_image import (
        first_series,
        grown_worklist,
        show_early,
    )
    from mrecist_reader.imaging.scan import ScanProgress, scan
    from mrecist_reader.ui.prefetch import decode_first_slice

    start = time.perf_counter()
    shown: list[float] = []
    listed = [0]

    def on_progress(found: ScanProgress) -> None:
        if shown:  # as the window: the worklist grows with each series completed
            complete = found.complete_series
            if grown_worklist(complete, shown=listed[0]) is not None:
                listed[0] = len(complete)
            return
        subjects = show_early(
            found.complete_series,
            shown=bool(shown),
            files_left=found.files_total - found.files_seen,
        )
        chosen = None if subjects is None else first_series(subjects)
        if chosen is not None:
            assert decode_first_slice(chosen) is not None
            shown.append(time.perf_counter() - start)
            listed[0] = len(found.complete_series)

    scan(folder, use_index=False, on_progress=on_progress)
    end = time.perf_counter() - start
    assert shown, "nothing was shown before the scan ended"
    return shown[0], end


def main() -> int:
    """Generate, time alternately, print the table and the JSON line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=REPEATS)
    parser.add_argument(
        "--flat", action="store_true", help="all files in one folder, names shuffled"
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="mrecist-bench-") as tmp:
        start = time.perf_counter()
        folder = generate(Path(tmp) / "study", flat=args.flat)
        print(
            f"generated {SERIES * SLICES} files in {time.perf_counter() - start:.1f} s"
        )
        contenders = {"full": full, "progressive": progressive}
        for run in contenders.values():
            run(folder)  # warm-up: page cache, imports
        firsts: dict[str, list[float]] = {name: [] for name in contenders}
        ends: dict[str, list[float]] = {name: [] for name in contenders}
        names = list(contenders)
        for round_ in range(args.repeats):
            for name in names[round_ % 2 :] + names[: round_ % 2]:
                first, end = contenders[name](folder)
                firsts[name].append(first)
                ends[name].append(end)
    median = statistics.median
    for name in names:
        print(
            f"{name:12} first image {median(firsts[name]):6.3f} s "
            f"({min(firsts[name]):.3f}-{max(firsts[name]):.3f}); scan end "
            f"{median(ends[name]):6.3f} s ({min(ends[name]):.3f}-{max(ends[name]):.3f})"
        )
    first_ratio = median(firsts["progressive"]) / median(firsts["full"])
    end_ratio = median(ends["progressive"]) / median(ends["full"])
    per_round = [
        a / b for a, b in zip(firsts["progressive"], firsts["full"], strict=True)
    ]
    print(
        f"first image, progressive / full scan first: {first_ratio:.2f} x "
        f"(rounds {min(per_round):.2f}-{max(per_round):.2f})"
    )
    print(f"scan end, progressive / full (cost of progress): {end_ratio:.2f} x")
    print(json.dumps({
        "first_image_progressive_s": round(median(firsts["progressive"]), 4),
        "first_image_full_s": round(median(firsts["full"]), 4),
        "scan_end_progressive_s": round(median(ends["progressive"]), 4),
        "scan_end_full_s": round(median(ends["full"]), 4),
        "first_image_ratio": round(first_ratio, 3),
        "scan_end_ratio": round(end_ratio, 3),
        "files": SERIES * SLICES,
        "flat": args.flat,
        "repeats": args.repeats,
    }))  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
