"""Issue 21, item 17: ``export`` held every row of every read (3.25 GB at 10 x the trial).

The rows now go into the files read by read, still all or nothing (temporary files
renamed at the end). Measured with tracemalloc (allocations, not time): exporting
reads already in memory allocates at its peak a small multiple of the text it writes
(fixed costs included), where holding every row took 8.8 times that.
"""

import tracemalloc
from pathlib import Path

import pytest

from mrecist_reader.core.assess import Assessment
from mrecist_reader.core.completeness import assess_complete
from mrecist_reader.core.model import Read, ReadType
from mrecist_reader.core.protocol import ProtocolProfile
from mrecist_reader.desk.export import export_reads
from tests.storage.samples import sample_read

READS = 120
LIMIT = 3.0
"""Peak allocations while exporting, in multiples of the text written: 1.2 here, of
which most is fixed (the profile, the files' buffers); holding every row took 8.8."""


def _reads() -> list[Read]:
    return [
        sample_read(reader, ReadType.LOCAL, f"S{number:04d}")
        for number in range(READS // 2)
        for reader in ("R1", "R2")
    ]


def test_an_export_writes_read_by_read_without_holding_the_rows(
    tmp_path: Path,
) -> None:
    reads = _reads()
    export_reads(reads[:2], tmp_path / "warm")  # imports, caches
    tracemalloc.start()
    try:
        result = export_reads(reads, tmp_path / "out")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    written = sum(path.stat().st_size for path in result.paths)
    assert result.reads == READS
    assert result.measurement_rows == 5 * READS  # T1, NT1 twice; N1 at follow-up
    assert result.response_rows == 2 * READS
    assert peak < LIMIT * written, f"peak {peak / written:.1f} x the text written"


def test_an_export_failing_half_way_leaves_the_earlier_files_and_no_partial_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    reads = _reads()
    folder = tmp_path / "out"
    first = export_reads(reads[:4], folder)
    before = {path.name: path.read_bytes() for path in first.paths}
    assessed: list[int] = []

    def failing(read: Read, profile: ProtocolProfile) -> Assessment | None:
        assessed.append(1)
        if len(assessed) == READS // 2:
            raise OSError("disk full")
        return assess_complete(read, profile)

    monkeypatch.setattr("mrecist_reader.desk.export.assess_complete", failing)
    with pytest.raises(OSError, match="disk full"):
        export_reads(reads, folder)
    assert {p.name: p.read_bytes() for p in first.paths} == before
    assert sorted(p.name for p in folder.iterdir()) == sorted(before)
