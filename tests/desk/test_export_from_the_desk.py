"""The window's export (the reading desk) and the command line give identical files.

Issue 13's check, without Qt: a reader half-reads a follow-up at the desk (one of two
targets measured), exports from the desk, and ``mrecist-reader export`` on the same
database writes the same bytes, with no response row for that follow-up.
"""

import csv
from collections.abc import Iterator
from pathlib import Path

import pytest

from mrecist_reader.cli import main
from mrecist_reader.core.model import Organ, ReadType
from mrecist_reader.desk.desk import ReaderContext, ReadingDesk
from mrecist_reader.desk.export import EXPORT_FILES
from mrecist_reader.resources import load_profile
from tests.desk.conftest import caliper_at, worklist


@pytest.fixture
def url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'reads.db'}"


@pytest.fixture
def desk(url: str) -> Iterator[ReadingDesk]:
    context = ReaderContext(
        reader_id="R01",
        read_type=ReadType.CENTRAL,
        profile=load_profile("nct06779461"),
        db_url=url,
    )
    reading = ReadingDesk(context)
    reading.set_worklist(worklist())
    reading.open_read()
    reading.go_to_timepoint(0)
    yield reading
    reading.close()


def half_read_fu1(desk: ReadingDesk) -> None:
    desk.designate(caliper_at(desk, (0.0, 0.0, 0.0), 60.0), Organ.LIVER, "VII")
    desk.designate(caliper_at(desk, (-80.0, 0.0, 0.0), 40.0), Organ.LIVER, "II")
    desk.sign()
    desk.go_to_timepoint(1)
    desk.measure("T1", caliper_at(desk, (0.0, 0.0, 0.0), 50.0))


def test_the_desks_export_and_the_command_lines_are_byte_identical(
    desk: ReadingDesk, url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    half_read_fu1(desk)
    result = desk.export(tmp_path / "window")
    assert main(["export", "--db", url, "-o", str(tmp_path / "cli")]) == 0
    for name in EXPORT_FILES:
        assert (tmp_path / "window" / name).read_bytes() == (
            tmp_path / "cli" / name
        ).read_bytes()
    assert result.without_response == (
        "S01 FU1: T2 (target) not assessed",
        "S01 FU2: T1 (target) not assessed; T2 (target) not assessed; "
        "FU1 is incomplete",
    )
    assert "S01 FU1: T2 (target) not assessed" in capsys.readouterr().out
    with result.paths[1].open(encoding="utf-8", newline="") as stream:
        responses = list(csv.DictReader(stream))
    assert [row["timepoint"] for row in responses] == ["BASELINE"]
