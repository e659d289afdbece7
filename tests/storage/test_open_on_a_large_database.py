"""Issue 21, item 17: opening a study on a database ten times the trial froze the GUI.

Showing how far the reader got with the subjects of the opened study loaded every
stored read of the reader (19 s at 10 x the trial). It now looks up the listed
subjects only: the number of reads loaded and of SQL statements run is the same
whatever else the database holds.
"""

import tracemalloc
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import event

from mrecist_reader.core.model import ReadKey, ReadType
from mrecist_reader.desk.worklist import Worklist, stored_reads_of
from mrecist_reader.imaging.worklist import SubjectEntry
from mrecist_reader.storage.audit import Actor
from mrecist_reader.storage.repository import ReadRepository, Viewer
from tests.storage.samples import sample_read

READERS = ("R1", "R2")


def _database(path: Path, subjects: int) -> ReadRepository:
    repository = ReadRepository(f"sqlite:///{path}")
    for number in range(1, subjects + 1):
        for reader in READERS:
            read = sample_read(reader, ReadType.LOCAL, f"S{number:03d}")
            repository.save(read, [], actor=Actor(reader, "tester"))
    return repository


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ReadRepository]:
    repository = _database(tmp_path_factory.mktemp("small") / "reads.db", 4)
    yield repository
    repository.close()


@pytest.fixture(scope="module")
def large(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ReadRepository]:
    repository = _database(tmp_path_factory.mktemp("large") / "reads.db", 24)
    yield repository
    repository.close()


def _worklist(*subject_ids: str) -> Worklist:
    return Worklist(tuple(SubjectEntry(s, "", "", ()) for s in subject_ids))


class _Counted:
    """Counts the reads a repository loads and the SQL statements it runs."""

    def __init__(self, repository: ReadRepository) -> None:
        self.loads = 0
        self.statements = 0
        self._repository = repository
        self._load = repository.load

    def __enter__(self) -> "_Counted":
        def load(key: ReadKey, *, viewer: Viewer) -> object:
            self.loads += 1
            return self._load(key, viewer=viewer)

        self._repository.load = load  # type: ignore[method-assign,assignment]
        event.listen(self._repository._engine, "before_cursor_execute", self._count)
        return self

    def _count(self, *_args: object) -> None:
        self.statements += 1

    def __exit__(self, *_exc: object) -> None:
        event.remove(self._repository._engine, "before_cursor_execute", self._count)
        del self._repository.load


def test_opening_a_study_loads_only_its_subjects_reads(
    large: ReadRepository,
) -> None:
    with _Counted(large) as counted:
        reads = stored_reads_of(large, _worklist("S005", "S017"), "R1", ReadType.LOCAL)
    assert [(r.key.subject_id, r.key.reader_id) for r in reads] == [
        ("S005", "R1"),
        ("S017", "R1"),
    ]
    assert reads[0] == sample_read("R1", ReadType.LOCAL, "S005")
    assert counted.loads == 2


def test_opening_a_study_costs_the_same_on_a_database_six_times_larger(
    small: ReadRepository, large: ReadRepository
) -> None:
    counts = []
    for repository in (small, large):
        with _Counted(repository) as counted:
            stored_reads_of(repository, _worklist("S002"), "R2", ReadType.LOCAL)
        counts.append((counted.loads, counted.statements))
    assert counts[0] == counts[1]
    assert counts[0][0] == 1


def test_a_study_without_stored_reads_or_subjects_loads_nothing(
    large: ReadRepository,
) -> None:
    with _Counted(large) as counted:
        assert stored_reads_of(large, _worklist("S999"), "R1", ReadType.LOCAL) == ()
        assert stored_reads_of(large, _worklist(), "R1", ReadType.LOCAL) == ()
    assert counted.loads == 0


def test_listing_by_subject_gives_what_the_full_list_gives_for_them(
    large: ReadRepository,
) -> None:
    viewer = Viewer("R1", ReadType.LOCAL)
    everything = large.list_reads(viewer)
    assert len(everything) == 48
    wanted = {"S003", "S020"}
    assert large.list_reads(viewer, subject_ids=sorted(wanted)) == tuple(
        key for key in everything if key.subject_id in wanted
    )


def _verification_peak(repository: ReadRepository) -> int:
    repository.integrity_problems()  # caches warm
    tracemalloc.start()
    try:
        assert repository.integrity_problems() == ()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


PER_READ_LIMIT = 10_000
"""Bytes of peak allocations per stored read while verifying (about 3,300 now: the
trail's entries; holding every read's rows took 21,400)."""


def test_verifying_a_large_database_holds_one_read_at_a_time(
    small: ReadRepository, large: ReadRepository
) -> None:
    # Export and opening verify the database (issue 21, item 1); every read's rows
    # were held until the end (200 MB at 10 x the trial).
    extra_reads = len(READERS) * (24 - 4)
    growth = _verification_peak(large) - _verification_peak(small)
    assert growth / extra_reads < PER_READ_LIMIT
