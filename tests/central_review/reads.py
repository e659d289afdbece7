"""Primary reads for the central review tests: one liver target per subject.

Every free-text field of a read carries its reader's ID (``R01-secret``), so a test can
search anything a reader is shown for another reader's marks.
"""

from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

from mrecist_reader.core.model import Caliper, Read
from mrecist_reader.storage.audit import Actor
from tests.kit.reads import Detail, build_read

SIGNED_AT = datetime(2026, 5, 4, 10, 0, tzinfo=UTC)
MANAGER = Actor("PM01", "manager")


def secret(reader_id: str) -> str:
    """Return the text only ``reader_id``'s read holds."""
    return f"{reader_id}-secret"


def primary_read(
    subject_id: str,
    reader_id: str,
    sizes_mm: Sequence[float],
    *,
    signed: int | None = None,
    signed_at: datetime = SIGNED_AT,
) -> Read:
    """Return a central read of one liver target measured ``sizes_mm`` (baseline first).

    The first ``signed`` timepoints are signed (default: all); a timepoint is 30 days
    after the previous one. 50 → 30 mm is PR, 50 → 45 SD, 50 → 70 PD.
    """
    count = len(sizes_mm)
    caliper = Caliper((-10.0, 20.0, -100.0), (30.0, 20.0, -100.0))
    return build_read(
        {"T1": list(sizes_mm)},
        locations={"T1": f"{secret(reader_id)} seg VII"},
        details={
            ("T1", i): Detail(
                caliper,
                "1.2.826.0.1.1",
                "1.2.826.0.1.1.7",
                comment=f"{secret(reader_id)} comment {i}",
            )
            for i in range(count)
        },
        signed=count if signed is None else signed,
        signed_at=signed_at,
        subject_id=subject_id,
        reader_id=reader_id,
    )


def with_reader(read: Read, reader_id: str) -> Read:
    """Return ``read`` as ``reader_id``'s."""
    return replace(read, key=replace(read.key, reader_id=reader_id))


def write_csv(path: Path, header: str, *rows: str) -> Path:
    """Write a small CSV file (one row a line) and return its path."""
    path.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    return path


ASSIGNMENTS_HEADER = "subject_id,reader_1,reader_2,adjudicator"
