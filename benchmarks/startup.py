"""Time from process start to the first image shown: ``mrecist-reader sample_dicom``.

Runs the real command (offscreen, a fresh database, reader ID from the environment so
the first-start dialog is skipped) with ``MRECIST_READER_BENCHMARK_STARTUP=1``, which
makes the application print the wall-clock time of its first painted slice and quit.
References measured in the same run: a bare Python start, and Python importing Qt
widgets plus pyqtgraph (the floor any PySide6 application pays). Target: <= 2 s.
Last line: JSON.
"""

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TARGET_S = 2.0
RUNS = 3


def _environment(home: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        {
            "QT_QPA_PLATFORM": "offscreen",
            "MRECIST_READER_READER_ID": "BENCH",
            "MRECIST_READER_READ_TYPE": "central",
            "MRECIST_READER_BENCHMARK_STARTUP": "1",
            "XDG_CONFIG_HOME": str(home / "config"),
            "XDG_DATA_HOME": str(home / "data"),
            "XDG_STATE_HOME": str(home / "state"),
            "XDG_CACHE_HOME": str(home / "cache"),
        }
    )
    return env


def _time_command(command: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    subprocess.run(command, env=env, check=True, capture_output=True)
    return time.perf_counter() - start


def _first_image_s(home: Path, env: dict[str, str]) -> float:
    database = f"sqlite:///{home / 'reads.db'}"
    command = [
        sys.executable,
        "-m",
        "mrecist_reader",
        str(ROOT / "sample_dicom"),
        "--db",
        database,
        "--protocol",
        "nct06779461",
    ]
    start = time.time()
    done = subprocess.run(
        command, env=env, check=True, capture_output=True, text=True, timeout=120
    )
    for line in done.stdout.splitlines():
        if line.startswith("FIRST_IMAGE "):
            return float(line.split()[1]) - start
    raise SystemExit(f"no FIRST_IMAGE line; stderr:\n{done.stderr}")


def main() -> int:
    """Measure and print the figures; return 0."""
    with tempfile.TemporaryDirectory() as folder:
        home = Path(folder)
        env = _environment(home)
        python_s = _time_command([sys.executable, "-c", "pass"], env)
        qt_s = _time_command(
            [sys.executable, "-c", "import PySide6.QtWidgets, pyqtgraph"], env
        )
        runs = [_first_image_s(home / f"run{i}", env) for i in range(RUNS)]
    best, median = min(runs), sorted(runs)[len(runs) // 2]
    print(f"bare python start (reference): {python_s:.2f} s")
    print(f"python + import PySide6.QtWidgets, pyqtgraph (reference): {qt_s:.2f} s")
    print(
        f"process start -> first image of sample_dicom: median {median:.2f} s, "
        f"best {best:.2f} s over {RUNS} runs"
    )
    print(f"target <= {TARGET_S:.1f} s: {'met' if median <= TARGET_S else 'NOT met'}")
    print(
        json.dumps(
            {
                "benchmark": "startup",
                "first_image_s_median": round(median, 3),
                "first_image_s_best": round(best, 3),
                "python_start_s": round(python_s, 3),
                "qt_import_s": round(qt_s, 3),
                "target_s": TARGET_S,
            }
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
