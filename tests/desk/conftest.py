"""A reading desk on an in-memory reads database, with a two-subject worklist."""

from collections.abc import Iterator

import pytest

from mrecist_reader.core.model import Caliper, Method, ReadType
from mrecist_reader.desk.desk import DrawnCaliper, ReaderContext, ReadingDesk
from mrecist_reader.imaging.volume import SeriesInfo
from mrecist_reader.imaging.worklist import SubjectEntry, build_worklist
from mrecist_reader.resources import load_profile
from tests.gui.conftest import make_series


def worklist() -> tuple[SubjectEntry, ...]:
    """S01 and S02, each with BASELINE, FU1 and FU2 (one arterial series each)."""
    return build_worklist(
        [
            make_series(
                uid=f"1.{subject}.{index}",
                subject_id=f"S0{subject}",
                timepoint_label=label,
            )
            for subject in (1, 2)
            for index, label in enumerate(("BASELINE", "FU1", "FU2"))
        ]
    )


@pytest.fixture
def desk() -> Iterator[ReadingDesk]:
    """Return a desk reading S01 (its read open), at baseline."""
    context = ReaderContext(
        reader_id="R01",
        read_type=ReadType.CENTRAL,
        profile=load_profile("nct06779461"),
        db_url="sqlite://",
    )
    reading = ReadingDesk(context)
    reading.set_worklist(worklist())
    reading.open_read()
    reading.go_to_timepoint(0)
    yield reading
    reading.close()


def caliper_at(
    desk: ReadingDesk,
    centre_mm: tuple[float, float, float],
    length_mm: float,
    *,
    index: int | None = None,
    method: Method = Method.MANUAL,
) -> DrawnCaliper:
    """Return a horizontal caliper drawn on the open series' image at ``index``."""
    timepoint = desk.timepoint_index if index is None else index
    state = desk.open_series(timepoint)
    assert state is not None, f"no series open at {timepoint}"
    return drawn_on(state.series, desk, centre_mm, length_mm, timepoint, method)


def drawn_on(
    series: SeriesInfo,
    desk: ReadingDesk,
    centre_mm: tuple[float, float, float],
    length_mm: float,
    timepoint: int,
    method: Method = Method.MANUAL,
) -> DrawnCaliper:
    x, y, z = centre_mm
    caliper = Caliper((x - length_mm / 2, y, z), (x + length_mm / 2, y, z))
    return DrawnCaliper(
        caliper,
        subject_id=series.subject_id,
        timepoint_index=timepoint,
        series_instance_uid=series.series_instance_uid,
        sop_instance_uid=series.sop_instance_uids[3],
        method=method,
    )
