"""The endpoints view's data at the reading desk (issue 18 item 6), without Qt.

A local (site) reader sees the trial endpoints of their reads in the open database; a
blinded central reader never does, and for them nothing is opened: not the database,
not treatments.csv, and never arms.csv (endpoints.md §Inputs).
"""

from dataclasses import replace
from pathlib import Path

import pytest

from mrecist_reader.core.model import Read, ReadType
from mrecist_reader.desk.desk import ReaderContext, ReadingDesk
from mrecist_reader.desk.endpoints import EndpointsHidden, endpoints_at_desk
from mrecist_reader.resources import load_profile
from mrecist_reader.storage.audit import Actor
from mrecist_reader.storage.repository import ReadRepository
from mrecist_reader.transfer.csv_in import read_measurements

REPO = Path(__file__).resolve().parents[2]
TWO_SUBJECTS = REPO / "tests/data/measurements/nct06779461_central_two_subjects.csv"
PROFILE = load_profile("nct06779461")


def context(read_type: ReadType, url: str) -> ReaderContext:
    return ReaderContext(
        reader_id="R01", read_type=read_type, profile=PROFILE, db_url=url
    )


def as_local(read: Read, reader_id: str) -> Read:
    key = replace(read.key, read_type=ReadType.LOCAL, reader_id=reader_id)
    return replace(read, key=key)


@pytest.fixture
def treatments(tmp_path: Path) -> Path:
    path = tmp_path / "treatments.csv"
    path.write_text(
        "schema_version,study_id,subject_id,treatment,session,study_day\n"
        "1,NCT06779461,S01,TACE,1,2\n1,NCT06779461,S02,TACE,1,1\n",
        encoding="utf-8",
    )
    return path


def test_a_central_reader_is_refused_before_the_database_or_any_file_is_opened(
    tmp_path: Path,
) -> None:
    opened: list[str] = []

    def never(url: str) -> ReadRepository:
        opened.append(url)
        raise AssertionError("the database was opened")

    desk = ReadingDesk(context(ReadType.CENTRAL, "sqlite://"), open_repository=never)
    absent = tmp_path / "absent.csv"  # opening it would fail with another error
    with pytest.raises(EndpointsHidden, match="blinded central read never sees them"):
        endpoints_at_desk(desk, absent, absent)
    assert opened == []


def test_a_local_reader_sees_the_endpoints_of_their_own_reads_in_the_database(
    tmp_path: Path, treatments: Path
) -> None:
    url = f"sqlite:///{tmp_path / 'reads.db'}"
    reads = read_measurements(TWO_SUBJECTS, profile_for=load_profile)
    desk = ReadingDesk(context(ReadType.LOCAL, url))
    try:
        desk.repository().import_reads(
            [as_local(reads[0], "R01"), as_local(reads[1], "R02")],
            actor=Actor("R01", "tester"),
            source="two subjects",
        )
        found = endpoints_at_desk(desk, treatments, None)
    finally:
        desk.close()
    # another local reader's read of S02 is not this reader's: S02 has no read here
    pooled = {
        r.endpoint: (r.n, r.responders)
        for r in found.analysis.rates
        if (r.population, r.arm) == ("full", "all")
    }
    assert not found.courses["S02"].timepoints
    # S01 alone, a responder at 30 days (with S02's read it would be 1 of 2)
    assert pooled["ORR30_last"] == (1, 1)
