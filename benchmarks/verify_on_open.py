"""How long the window's GUI thread is held by verifying the reads database on opening.

The trial-sized synthetic double read (``mrecist_reader.analysis.double_read``: 228
subjects, two readers each, up to 6 timepoints) is imported into an SQLite database.
Measured, median of 3 in this process:

- ``verify``: the whole verification on opening (``session.check_on_opening``: every
  read's content hash recomputed and compared with its last audit entry, the chain
  checked). Before, it ran on the GUI thread when the first read opened.
- ``gui_thread``: what the GUI thread now does for it: ``start_verification`` and
  ``finish_verification`` with the result (the verification itself runs in a worker).

Reference, in the same run: ``ReadRepository.all_reads()`` (every read loaded once).
Last line: JSON.
"""

import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

from mrecist_reader.analysis.double_read import double_read_trial
from mrecist_reader.core.model import ReadType
from mrecist_reader.desk.desk import ReaderContext, ReadingDesk
from mrecist_reader.resources import load_profile
from mrecist_reader.session import check_on_opening
from mrecist_reader.storage.audit import Actor
from mrecist_reader.storage.repository import ReadRepository

SUBJECTS = 228
MANAGER = Actor("RM01", "benchmark")


def _median(work: "object", runs: int = 3) -> float:
    times: list[float] = []
    for _ in range(runs):
        start = time.perf_counter()
        work()  # type: ignore[operator]
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> int:
    """Measure and print the figures; return 0."""
    with tempfile.TemporaryDirectory() as name:
        url = f"sqlite:///{Path(name) / 'reads.db'}"
        trial = double_read_trial(SUBJECTS)
        with ReadRepository(url) as repository:
            repository.assign(list(trial.assignments), actor=MANAGER, source="bench")
            repository.import_reads(list(trial.reads), actor=MANAGER, source="bench")
            reads = len(repository.all_reads())
            reference = _median(repository.all_reads)
            verify = _median(
                lambda: check_on_opening(repository, head_path=None, actor=MANAGER)
            )
            check = check_on_opening(repository, head_path=None, actor=MANAGER)
        context = ReaderContext(
            reader_id="R01",
            read_type=ReadType.CENTRAL,
            profile=load_profile("nct06779461"),
            db_url=url,
        )

        def gui_thread() -> None:
            desk = ReadingDesk(context)
            desk.start_verification()  # the job itself runs in a worker
            desk.finish_verification(check)

        gui = _median(gui_thread)
    assert not check.problems, check.problems
    figures = {
        "reads": reads,
        "reference_all_reads_s": round(reference, 3),
        "verify_s": round(verify, 3),
        "gui_thread_s": round(gui, 4),
    }
    print(
        f"{reads} reads: verification {verify:.2f} s (was on the GUI thread), "
        f"now on the GUI thread {gui * 1000:.1f} ms; reference all_reads "
        f"{reference:.2f} s"
    )
    print(json.dumps(figures))
    return 0


if __name__ == "__main__":
    sys.exit(main())
