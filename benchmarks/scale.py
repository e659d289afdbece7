"""Scale of the data transfer commands (issue 21, item 17): memory, lock, wide headers.

Each figure is compared with a reference measured in the same run, never with a fixed
time:

- **wide header**: ``read_measurements`` of a measurements.csv with 100,000 extra
  columns, against ``csv.reader`` merely splitting the same file (the header check
  was quadratic: 102 s);
- **memory**: the peak resident memory of ``assess``, ``import`` and ``export`` of a
  synthetic central double read (2 readers x 5 timepoints x 3 lesions per subject)
  minus their peak on a file of one subject (modules and caches), divided by what the
  larger file adds (the attack measured about 19 x the CSV for ``import``/``assess``;
  ``export`` held everything); for scale, the same figure for ``csv.reader`` merely
  listing the file's rows;
- **opening a subject**: listing the reads a reader may see and loading one subject's
  read, at 1 x and at the larger size (proportional to the subject, not the database).

Run ``python benchmarks/scale.py [--factor 10]`` (default: 1 x and 3 x the trial of 228
subjects; the 10 x database takes minutes to import on a laptop).
"""

import argparse
import csv
import io
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TEMPLATE = (
    ROOT / "tests" / "data" / "measurements" / "nct06779461_central_two_subjects.csv"
)
TRIAL_SUBJECTS = 228
READERS = ("R1", "R2")
FOLLOW_UPS = 4
"""Follow-ups after the baseline: 5 timepoints per read."""
EXTRA_COLUMNS = 100_000


def _template() -> tuple[list[str], list[list[str]]]:
    """Return the template's header and subject S01's baseline and FU1 rows."""
    with TEMPLATE.open(encoding="utf-8", newline="") as stream:
        rows = list(csv.reader(stream))
    header = rows[0]
    subject, index = header.index("subject_id"), header.index("timepoint_index")
    mine = [row for row in rows[1:] if row[subject] == "S01" and row[index] in "01"]
    return header, mine


def trial_csv(path: Path, subjects: int) -> int:
    """Write a valid measurements.csv of ``subjects`` double-read subjects; its size."""
    header, template = _template()
    col = {name: n for n, name in enumerate(header)}
    baseline = date(2026, 1, 5)
    with path.open("w", encoding="utf-8", newline="") as stream:
        writer = csv.writer(stream, lineterminator="\n")
        writer.writerow(header)
        for number in range(1, subjects + 1):
            for reader in READERS:
                for index in range(FOLLOW_UPS + 1):
                    source = "0" if index == 0 else "1"
                    scan = baseline + timedelta(days=30 * index)
                    signed = scan + timedelta(days=3)
                    for row in template:
                        if row[col["timepoint_index"]] != source:
                            continue
                        out = list(row)
                        out[col["subject_id"]] = f"S{number:05d}"
                        out[col["reader_id"]] = reader
                        out[col["timepoint"]] = (
                            "BASELINE" if index == 0 else f"FU{index}"
                        )
                        out[col["timepoint_index"]] = str(index)
                        out[col["scan_date"]] = scan.isoformat()
                        out[col["study_day"]] = str(30 * index)
                        out[col["signed_at"]] = f"{signed.isoformat()}T14:03:22Z"
                        writer.writerow(out)
    return path.stat().st_size


def wide_csv(path: Path) -> int:
    """Write the template with 100,000 empty extra columns; its size."""
    with TEMPLATE.open(encoding="utf-8", newline="") as stream:
        rows = list(csv.reader(stream))
    extra = [f"x{n}" for n in range(EXTRA_COLUMNS)]
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(rows[0] + extra)
    writer.writerows(row + [""] * EXTRA_COLUMNS for row in rows[1:])
    path.write_text(out.getvalue(), encoding="utf-8")
    return path.stat().st_size


def _best_of(runs: int, work: "Sequence[str]") -> float:
    """Best wall time of ``runs`` runs of a Python snippet in this interpreter."""
    namespace: dict[str, object] = {}
    exec(work[0], namespace)
    best = float("inf")
    for _ in range(runs):
        start = time.perf_counter()
        exec(work[1], namespace)
        best = min(best, time.perf_counter() - start)
    return best


def wide_header(folder: Path) -> None:
    """Print read_measurements of 100,000 extra columns against csv.reader alone."""
    path = folder / "wide.csv"
    size = wide_csv(path)
    split = _best_of(
        3, ("import csv", f"list(csv.reader(open({str(path)!r}, newline='')))")
    )
    read = _best_of(
        3,
        (
            "from mrecist_reader.transfer.csv_in import read_measurements\n"
            "from mrecist_reader.resources import load_profile",
            f"read_measurements(__import__('pathlib').Path({str(path)!r}), "
            "profile_for=load_profile)",
        ),
    )
    print(
        f"wide header ({EXTRA_COLUMNS:,} extra columns, {size / 1e6:.1f} MB): "
        f"read_measurements {read:.2f} s, csv.reader alone {split:.2f} s "
        f"(x{read / split:.1f})"
    )


TIME = Path("/usr/bin/time")
"""GNU time: reports the child's own peak RSS (``ru_maxrss`` read inside a child of
this process would include this process's peak: Linux carries it over ``exec``)."""


def _peak_kb(code: str) -> tuple[int, float]:
    """Run Python ``code`` in a fresh process; its peak RSS (KiB) and wall time."""
    start = time.perf_counter()
    done = subprocess.run(
        [str(TIME), "-f", "PEAK_KB %M", sys.executable, "-c", code],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    wall = time.perf_counter() - start
    peaks = [line for line in done.stderr.splitlines() if line.startswith("PEAK_KB")]
    if done.returncode != 0 or not peaks:
        raise RuntimeError(f"benchmark step failed:\n{code}\n{done.stderr[-2000:]}")
    return int(peaks[-1].split()[1]), wall


def _cli(*argv: str) -> str:
    return f"import sys\nfrom mrecist_reader.cli import main\nsys.exit(main({list(argv)!r}))\n"


def _steps(folder: Path, measurements: Path, tag: str) -> dict[str, str]:
    url = f"sqlite:///{folder / f'reads_{tag}.db'}"
    return {
        "assess": _cli("assess", str(measurements), "-o", str(folder / "r.csv")),
        "import": _cli("import", str(measurements), "--db", url),
        "export": _cli("export", "--db", url, "-o", str(folder / f"out_{tag}")),
    }


def memory(folder: Path, factor: int) -> None:
    """Print the peak memory of assess, import and export per byte of CSV.

    Each command runs on a file of one subject (its fixed cost: modules, caches)
    and on the trial's; what the trial adds is divided by what its file adds.
    """
    subjects = TRIAL_SUBJECTS * factor
    small, large = folder / "one.csv", folder / f"trial_{factor}.csv"
    small_size = trial_csv(small, 1)
    size = trial_csv(large, subjects)
    reference, _ = _peak_kb(
        f"import csv\nrows = list(csv.reader(open({str(large)!r}, newline='')))\n"
    )
    base, _ = _peak_kb("import csv\n")
    print(
        f"{factor} x trial: {subjects} subjects, {size / 1e6:.1f} MB of CSV; "
        f"csv.reader's list of its rows: {(reference - base) * 1024 / size:.1f} x "
        "the CSV"
    )
    fixed = _steps(folder, small, f"one_{factor}")
    steps = _steps(folder, large, str(factor))
    for name, code in steps.items():
        peak_small, _ = _peak_kb(fixed[name])
        peak, wall = _peak_kb(code)
        extra = max(peak - peak_small, 0) * 1024 / (size - small_size)
        print(
            f"  {name:7s} peak {peak / 1024:5.0f} MiB, one subject {peak_small / 1024:4.0f}"
            f" MiB: {extra:5.1f} x the CSV's size ({wall:.0f} s)"
        )
    opening(f"sqlite:///{folder / f'reads_{factor}.db'}", factor)


def opening(url: str, factor: int) -> None:
    """Print what opening one subject's study costs against loading every read."""
    code = (
        "import time\n"
        "from mrecist_reader.core.model import ReadType\n"
        "from mrecist_reader.desk.worklist import Worklist, stored_reads_of\n"
        "from mrecist_reader.imaging.worklist import SubjectEntry\n"
        "from mrecist_reader.session import stored_reads\n"
        "from mrecist_reader.storage.repository import ReadRepository\n"
        f"repo = ReadRepository({url!r})\n"
        "one = Worklist((SubjectEntry('S00002', '', '', ()),))\n"
        "start = time.perf_counter()\n"
        "mine = stored_reads_of(repo, one, 'R1', ReadType.CENTRAL)\n"
        "opened = time.perf_counter() - start\n"
        "start = time.perf_counter()\n"
        "every = stored_reads(repo, 'R1', ReadType.CENTRAL)\n"
        "everything = time.perf_counter() - start\n"
        "print(f'  opening one subject: {len(mine)} read in {opened:.3f} s; loading "
        "every read of the reader (as opening did): {len(every)} reads in "
        "{everything:.1f} s')\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    print(done.stdout.rstrip())
    del factor


def main(argv: Sequence[str] | None = None) -> int:
    """Run the scale benchmarks."""
    if not TIME.exists():
        print(f"skipped: {TIME} (GNU time) measures the peak memory")
        return 0
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--factor", type=int, action="append")
    parser.add_argument("--skip-wide", action="store_true")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="mrecist-scale-") as name:
        folder = Path(name)
        if not args.skip_wide:
            wide_header(folder)
        for factor in args.factor or (1, 3):
            memory(folder, factor)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
