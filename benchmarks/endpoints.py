"""Time of ``mrecist-reader endpoints`` on a trial of 228 subjects × 6 timepoints.

The synthetic trial (``mrecist_reader.analysis.synthetic``: 228 subjects, two arms, two
strata, up to 3 TACE sessions, up to 6 timepoints) is written once; then the real
command runs as a user runs it (a new process: imports, reading, derivation,
statistics, the figures as PNG and SVG, and report.pdf). The reference, measured in the
same run: a new Python process that reads the same three CSV files with the csv module.
Target (issue 18): <= 5 s including the PDF. Last line: JSON.
"""

import json
import re
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from mrecist_reader.analysis.synthetic import write_trial

TARGET_S = 5.0
RUNS = 3
SUBJECTS = 228

READ_WITH_CSV = """
import csv, sys
for name in sys.argv[1:]:
    with open(name, encoding="utf-8", newline="") as stream:
        rows = list(csv.DictReader(stream))
"""


def _timed(command: list[str]) -> tuple[float, float]:
    """Return the wall-clock and CPU (user + system) seconds of one child process.

    The CPU time says what the command costs when the machine is shared (2 cores and
    several engineers' test runs stretch the wall clock, not the work).
    """
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(command, check=True, capture_output=True, timeout=300)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def _median(values: list[float]) -> float:
    return sorted(values)[len(values) // 2]


def main() -> int:
    """Measure and print the figures; return 0."""
    with tempfile.TemporaryDirectory() as folder:
        files = write_trial(Path(folder) / "trial", subjects=SUBJECTS, complete=True)
        inputs = [str(files.responses), str(files.treatments), str(files.arms)]
        timepoints = sum(1 for _ in files.responses.open(encoding="utf-8")) - 1
        reference = [
            _timed([sys.executable, "-c", READ_WITH_CSV, *inputs]) for _ in range(RUNS)
        ]
        command = [
            sys.executable, "-m", "mrecist_reader", "endpoints",
            "--responses", inputs[0], "--treatments", inputs[1], "--arms", inputs[2],
        ]  # fmt: skip
        runs = [
            _timed([*command, "-o", str(Path(folder) / f"out{n}")]) for n in range(RUNS)
        ]
        report = (Path(folder) / "out0" / "report.pdf").read_bytes()
        pages = len(re.findall(rb"/Type\s*/Page\b(?!s)", report))
    csv_s, csv_cpu = (
        _median([w for w, _c in reference]),
        _median([c for _w, c in reference]),
    )
    median, cpu = _median([w for w, _c in runs]), _median([c for _w, c in runs])
    best = min(w for w, _c in runs)
    print(f"trial: {SUBJECTS} subjects, {timepoints} timepoints (responses.csv rows)")
    print(
        f"python reading the three CSVs with csv (reference): {csv_s:.2f} s "
        f"(CPU {csv_cpu:.2f} s)"
    )
    print(
        f"mrecist-reader endpoints incl. figures and report.pdf: median {median:.2f} s, "
        f"best {best:.2f} s over {RUNS} runs (CPU {cpu:.2f} s)"
    )
    print(
        f"ratio endpoints / csv reference: {median / csv_s:.1f} (CPU {cpu / csv_cpu:.1f})"
    )
    print(
        f"target <= {TARGET_S:.1f} s: {'met' if median <= TARGET_S else 'NOT met'} "
        f"(CPU: {'met' if cpu <= TARGET_S else 'NOT met'})"
    )
    print(
        json.dumps(
            {
                "benchmark": "endpoints",
                "subjects": SUBJECTS,
                "endpoints_s_median": round(median, 3),
                "endpoints_s_best": round(best, 3),
                "endpoints_cpu_s": round(cpu, 3),
                "csv_reference_s": round(csv_s, 3),
                "ratio": round(median / csv_s, 1),
                "ratio_cpu": round(cpu / csv_cpu, 1),
                "report_pages": pages,
                "target_s": TARGET_S,
            }
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
