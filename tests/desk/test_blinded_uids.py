"""Issue 21 item 7, dates inside UIDs: a blinded export carries keyed UID pseudonyms.

Many scanners build UIDs from the acquisition date and time. A blinded export writes
``2.25.`` pseudonyms (an HMAC with the reads database's secret) in every UID column,
the database keeps the mapping (a sponsor asks the site to resolve one), the same UID
gets the same pseudonym in every export of one database and another in another
database; an unblinded export keeps the UIDs; the window and the command line still
write the same bytes.
"""

import csv
import re
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy

from mrecist_reader.cli import main
from mrecist_reader.core.model import Organ, ReadType
from mrecist_reader.desk.desk import ReaderContext, ReadingDesk
from mrecist_reader.desk.export import EXPORT_FILES, database_reads, export_reads
from mrecist_reader.imaging.worklist import SubjectEntry, build_worklist
from mrecist_reader.resources import load_profile
from mrecist_reader.storage.repository import ReadRepository
from mrecist_reader.transfer.csv_out import UID_COLUMNS
from tests.desk.conftest import caliper_at
from tests.gui.conftest import make_series

DATED_UID = "1.2.840.113619.2.55.3.20260105.123456"
"""A UID built from the acquisition date and time (2026-01-05 12:34:56)."""

PSEUDONYM = re.compile(r"2\.25\.(0|[1-9][0-9]*)")


def dated_worklist() -> tuple[SubjectEntry, ...]:
    return build_worklist(
        [
            make_series(
                uid=f"{DATED_UID}.{index}",
                subject_id="S01",
                timepoint_label=label,
            )
            for index, label in enumerate(("BASELINE", "FU1"))
        ]
    )


def read_at_desk(url: str, read_type: ReadType) -> ReadingDesk:
    """Return a desk whose read of S01 has a signed baseline with two measured targets."""
    context = ReaderContext(
        reader_id="R01",
        read_type=read_type,
        profile=load_profile("nct06779461"),
        db_url=url,
    )
    desk = ReadingDesk(context)
    desk.set_worklist(dated_worklist())
    desk.open_read()
    desk.go_to_timepoint(0)
    desk.designate(caliper_at(desk, (0.0, 0.0, 0.0), 60.0), Organ.LIVER, "VII")
    desk.designate(caliper_at(desk, (-8.0, 0.0, 0.0), 40.0), Organ.LIVER, "II")
    desk.sign()
    return desk


@pytest.fixture
def url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'reads.db'}"


@pytest.fixture
def central(url: str) -> Iterator[ReadingDesk]:
    desk = read_at_desk(url, ReadType.CENTRAL)
    yield desk
    desk.close()


def uid_cells(folder: Path) -> list[str]:
    with (folder / "measurements.csv").open(encoding="utf-8", newline="") as stream:
        return [
            row[column]
            for row in csv.DictReader(stream)
            for column in UID_COLUMNS
            if row[column]
        ]


def stored_uids(url: str) -> set[str]:
    (read,) = database_reads(url)
    return {
        uid
        for obs in read.observations
        for uid in (obs.series_instance_uid, obs.sop_instance_uid)
        if uid
    }


def exported_text(folder: Path) -> str:
    return "".join(
        path.read_text(encoding="utf-8") for path in sorted(folder.iterdir())
    )


def test_a_blinded_export_contains_no_original_uid_and_no_date(
    central: ReadingDesk, url: str, tmp_path: Path
) -> None:
    originals = stored_uids(url)
    assert len(originals) >= 2
    assert all(DATED_UID in uid for uid in originals)
    central.export(tmp_path / "window")
    assert main(["export", "--db", url, "-o", str(tmp_path / "cli")]) == 0
    for folder in (tmp_path / "window", tmp_path / "cli"):
        text = exported_text(folder)
        assert "20260105" not in text
        assert "113619" not in text
        assert not [uid for uid in originals if uid in text]
        cells = uid_cells(folder)
        assert len(cells) >= 4  # a series and an image UID per measured target
        for cell in cells:
            assert PSEUDONYM.fullmatch(cell), cell
            assert len(cell) <= 64
            number = uuid.UUID(int=int(cell.removeprefix("2.25.")))
            assert number.variant == uuid.RFC_4122
            assert number.version == 8
    for name in EXPORT_FILES:  # the window and the command line: the same bytes
        assert (tmp_path / "window" / name).read_bytes() == (
            tmp_path / "cli" / name
        ).read_bytes()


def test_the_mapping_resolves_each_pseudonym_back_to_its_uid(
    central: ReadingDesk, url: str, tmp_path: Path
) -> None:
    originals = stored_uids(url)
    assert main(["export", "--db", url, "-o", str(tmp_path / "out")]) == 0
    cells = set(uid_cells(tmp_path / "out"))
    with ReadRepository(url) as repository:
        resolved = {repository.original_uid(cell) for cell in cells}
        assert repository.original_uid("2.25.12345") is None
    assert resolved == originals


def test_the_same_uid_gets_the_same_pseudonym_in_every_export_of_one_database(
    central: ReadingDesk, url: str, tmp_path: Path
) -> None:
    central.export(tmp_path / "first")
    assert main(["export", "--db", url, "-o", str(tmp_path / "second")]) == 0
    central.export(tmp_path / "third")
    assert uid_cells(tmp_path / "first") == uid_cells(tmp_path / "second")
    assert uid_cells(tmp_path / "first") == uid_cells(tmp_path / "third")
    # the series UID repeats on both targets' rows: one pseudonym for one UID
    series = uid_cells(tmp_path / "first")[0::2]
    assert len(set(series)) == 1 < len(series)


def test_another_database_gives_the_same_uid_another_pseudonym(
    central: ReadingDesk, url: str, tmp_path: Path
) -> None:
    other_url = f"sqlite:///{tmp_path / 'other.db'}"
    other = read_at_desk(other_url, ReadType.CENTRAL)
    try:
        other.export(tmp_path / "other")
    finally:
        other.close()
    central.export(tmp_path / "first")
    assert stored_uids(url) == stored_uids(other_url)
    first, second = uid_cells(tmp_path / "first"), uid_cells(tmp_path / "other")
    assert len(first) == len(second)
    assert not set(first) & set(second)
    with ReadRepository(other_url) as repository:
        assert {repository.original_uid(cell) for cell in first} == {None}


def test_an_unblinded_export_keeps_the_uids_and_a_blinded_one_of_it_does_not(
    url: str, tmp_path: Path
) -> None:
    local = read_at_desk(url, ReadType.LOCAL)
    try:
        local.export(tmp_path / "desk")
    finally:
        local.close()
    originals = stored_uids(url)
    assert set(uid_cells(tmp_path / "desk")) == originals
    assert main(["export", "--db", url, "-o", str(tmp_path / "plain")]) == 0
    assert set(uid_cells(tmp_path / "plain")) == originals
    assert main(["export", "--db", url, "-o", str(tmp_path / "b"), "--blinded"]) == 0
    blinded = uid_cells(tmp_path / "b")
    assert blinded
    assert not set(blinded) & originals
    assert all(PSEUDONYM.fullmatch(cell) for cell in blinded)


def test_a_blinded_export_without_its_database_leaves_the_uid_cells_empty(
    central: ReadingDesk, url: str, tmp_path: Path
) -> None:
    reads = tuple(database_reads(url))  # a plain tuple: no database attached
    result = export_reads(reads, tmp_path / "out")
    assert result.measurement_rows >= 2
    assert uid_cells(tmp_path / "out") == []
    text = exported_text(tmp_path / "out")
    assert DATED_UID not in text
    assert "20260105" not in text
    engine = sqlalchemy.create_engine(url)  # nothing handed out, nothing stored
    with engine.connect() as connection:
        count = connection.execute(
            sqlalchemy.text("SELECT COUNT(*) FROM uid_pseudonyms")
        )
        assert count.scalar_one() == 0
    engine.dispose()
    export_reads(reads, tmp_path / "plain", blinded=False)
    assert uid_cells(tmp_path / "plain") == []  # a central read is always blinded


def test_a_blinded_file_imported_elsewhere_keeps_its_pseudonyms(
    central: ReadingDesk, url: str, tmp_path: Path
) -> None:
    """The central database re-exports a site's blinded UIDs as they came."""
    central.export(tmp_path / "site")
    first = uid_cells(tmp_path / "site")
    other = f"sqlite:///{tmp_path / 'central.db'}"
    measurements = str(tmp_path / "site" / "measurements.csv")
    assert main(["import", measurements, "--db", other]) == 0
    assert main(["export", "--db", other, "-o", str(tmp_path / "again")]) == 0
    assert uid_cells(tmp_path / "again") == first
    with ReadRepository(url) as repository:  # the site still resolves them
        assert {repository.original_uid(cell) for cell in first} == stored_uids(url)


def test_a_scanners_own_uuid_uid_is_replaced_too(tmp_path: Path) -> None:
    """A 2.25 UID from a time-based UUID (version 1) holds a date: it is replaced."""
    scanner = f"2.25.{uuid.uuid1().int}"
    url = f"sqlite:///{tmp_path / 'reads.db'}"
    with ReadRepository(url) as repository:
        (pseudonym,) = repository.pseudonymous_uids([scanner, ""]).values()
        assert pseudonym != scanner
        assert PSEUDONYM.fullmatch(pseudonym)
        assert repository.original_uid(pseudonym) == scanner
        # a pseudonym given again is kept, and nothing new is stored for it
        assert repository.pseudonymous_uids([pseudonym]) == {pseudonym: pseudonym}
        assert repository.original_uid(pseudonym) == scanner
