"""Time of the reader metrics and the adjudication queue on a trial-sized double read.

The synthetic double read (``mrecist_reader.analysis.double_read``: 228 subjects, three
reader pairs, up to 6 timepoints, two readers each) is imported once into an SQLite
database (its size is printed). Then, measured:

- the first adjudication trigger over every subject (in this process, on a copy of
  the database made before any trigger ran);
- the adjudication queue of each adjudicator (in this process);
- the metrics work in this process, its libraries imported (every primary read, the
  statistics, the figures), as the review manager's screen recomputes them;
- ``mrecist-reader metrics -o DIR`` as a user runs it: a new process (imports, the
  trigger finding nothing new, every primary read, the statistics, the CSV files and
  the three PNG figures).

The reference, measured in the same run: a new Python process reading every
timepoint, lesion and observation row of the same database with the sqlite3 module.
Target (issue 17): metrics and queue <= 2 s. Wall-clock and CPU (user + system)
seconds are both given: on a shared 2-core machine the wall clock stretches, the CPU
time is the work. Last line: JSON.
"""

import json
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from mrecist_reader.analysis.double_read import double_read_trial
from mrecist_reader.analysis.reader_metrics import (
    metric_rows,
    pchart_rows,
    write_figures,
)
from mrecist_reader.cli.metrics import collect
from mrecist_reader.session import adjudication_queue, trigger_adjudication
from mrecist_reader.storage.audit import Actor
from mrecist_reader.storage.repository import ReadRepository

TARGET_S = 2.0
RUNS = 3
SUBJECTS = 228
MANAGER = Actor("PM01", "benchmark")

READ_WITH_SQLITE = """
import sqlite3, sys
connection = sqlite3.connect(sys.argv[1])
for table in ("reads", "timepoints", "lesions", "observations", "adjudications"):
    rows = connection.execute(f"SELECT * FROM {table}").fetchall()
"""


def _timed(command: list[str]) -> tuple[float, float]:
    """Return the wall-clock and CPU (user + system) seconds of one child process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(command, check=True, capture_output=True, timeout=300)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def _median(values: list[float]) -> float:
    return sorted(values)[len(values) // 2]


def _clock() -> tuple[float, float]:
    return time.perf_counter(), time.process_time()


def _since(start: tuple[float, float]) -> tuple[float, float]:
    wall, cpu = _clock()
    return wall - start[0], cpu - start[1]


def _metrics_work(repository: ReadRepository, folder: Path) -> None:
    """Compute every metric of the database and draw the figures (no CSV writing)."""
    subjects = collect(repository)
    metric_rows(subjects)
    pchart_rows(subjects)
    write_figures(folder, subjects)


def _database(folder: Path) -> tuple[Path, int]:
    """Write the double read into a new database; return its path and timepoints."""
    trial = double_read_trial(SUBJECTS)
    path = folder / "double_read.db"
    with ReadRepository(f"sqlite:///{path}") as repository:
        repository.assign(list(trial.assignments), actor=MANAGER, source="benchmark")
        repository.import_reads(list(trial.reads), actor=MANAGER, source="benchmark")
    return path, sum(len(r.timepoints) for r in trial.reads)


def main() -> int:
    """Measure and print the figures; return 0."""
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        untriggered, timepoints = _database(folder)
        path = folder / "triggered.db"
        shutil.copyfile(untriggered, path)
        with ReadRepository(f"sqlite:///{path}") as repository:
            start = _clock()
            cases = trigger_adjudication(repository, MANAGER)
            trigger_wall, trigger_cpu = _since(start)
            start = _clock()
            queues = {
                adjudicator: adjudication_queue(repository, adjudicator)
                for adjudicator in sorted(
                    {a.adjudicator for a in repository.assignments()}
                )
            }
            queue_wall, queue_cpu = _since(start)
            _metrics_work(repository, folder / "warm-up")  # the libraries imported
            start = _clock()
            _metrics_work(repository, folder / "warm")
            work_wall, work_cpu = _since(start)
        size_mb = path.stat().st_size / 1e6
        reference = [
            _timed([sys.executable, "-c", READ_WITH_SQLITE, str(path)])
            for _ in range(RUNS)
        ]
        command = [
            sys.executable, "-m", "mrecist_reader", "metrics",
            "--db", f"sqlite:///{path}", "--reader", "PM01",
        ]  # fmt: skip
        runs = [_timed([*command, "-o", str(folder / f"out{n}")]) for n in range(RUNS)]
    ref_s = _median([w for w, _c in reference])
    ref_cpu = _median([c for _w, c in reference])
    median, cpu = _median([w for w, _c in runs]), _median([c for _w, c in runs])
    awaiting = sum(len(q) for q in queues.values())
    print(
        f"database: {SUBJECTS} subjects, {2 * SUBJECTS} primary reads, {timepoints} "
        f"timepoints, SQLite file {size_mb:.1f} MB; {len(cases)} cuts, "
        f"{awaiting} awaiting adjudication"
    )
    print(
        f"python reading every read row with sqlite3 (reference): {ref_s:.2f} s "
        f"(CPU {ref_cpu:.2f} s)"
    )
    print(
        f"first trigger over every subject (in process): {trigger_wall:.2f} s "
        f"(CPU {trigger_cpu:.2f} s)"
    )
    print(
        f"adjudication queues of {len(queues)} adjudicators (in process): "
        f"{queue_wall:.3f} s (CPU {queue_cpu:.3f} s)"
    )
    print(
        f"metrics work: every read, statistics, figures (in process, libraries "
        f"imported): {work_wall:.2f} s (CPU {work_cpu:.2f} s)"
    )
    print(
        f"mrecist-reader metrics incl. figures (new process): median {median:.2f} s "
        f"over {RUNS} runs (CPU {cpu:.2f} s)"
    )
    print(
        f"ratio metrics / sqlite3 reference: {median / ref_s:.1f} (CPU {cpu / ref_cpu:.1f})"
    )
    total_cpu = cpu + queue_cpu
    print(
        f"target metrics + queue <= {TARGET_S:.1f} s, new process: "
        f"{'met' if median + queue_wall <= TARGET_S else 'NOT met'} "
        f"(CPU {total_cpu:.2f} s: {'met' if total_cpu <= TARGET_S else 'NOT met'}); "
        f"in process: {'met' if work_wall + queue_wall <= TARGET_S else 'NOT met'} "
        f"(CPU {work_cpu + queue_cpu:.2f} s)"
    )
    print(
        json.dumps(
            {
                "benchmark": "metrics",
                "subjects": SUBJECTS,
                "timepoints": timepoints,
                "database_mb": round(size_mb, 2),
                "trigger_s": round(trigger_wall, 3),
                "trigger_cpu_s": round(trigger_cpu, 3),
                "queue_s": round(queue_wall, 4),
                "metrics_work_s": round(work_wall, 3),
                "metrics_work_cpu_s": round(work_cpu, 3),
                "metrics_s_median": round(median, 3),
                "metrics_cpu_s": round(cpu, 3),
                "sqlite_reference_s": round(ref_s, 3),
                "ratio": round(median / ref_s, 1),
                "ratio_cpu": round(cpu / ref_cpu, 1),
                "target_s": TARGET_S,
            }
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
