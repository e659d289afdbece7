"""Blinding: a central read leaves no patient identity or scan date in the file or log."""

import logging
from datetime import date
from pathlib import Path

import pytest

from mrecist_reader.core.model import Caliper, Organ, ReadKey, ReadType
from mrecist_reader.logs import configure_logging
from mrecist_reader.resources import load_profile
from mrecist_reader.session import ReadSession
from mrecist_reader.storage.repository import ReadRepository

# Identity of subject S01 in sample_dicom/generate.py, and its scan dates.
IDENTITY = ["SAMPLE^S01", "19581103", "Synthetic General Hospital"]
SCAN_DATES = [date(2025, 4, 7), date(2025, 5, 7)]


def forbidden_strings() -> list[bytes]:
    dates = [d.isoformat() for d in SCAN_DATES] + [f"{d:%Y%m%d}" for d in SCAN_DATES]
    return [s.encode() for s in [*IDENTITY, *dates]]


@pytest.fixture
def log_dir(tmp_path: Path):
    package_logger = logging.getLogger("mrecist_reader")
    saved = (list(package_logger.handlers), package_logger.level)
    configure_logging(kind="gui", verbosity=2, log_dir=tmp_path / "log")
    yield tmp_path / "log"
    for handler in list(package_logger.handlers):
        package_logger.removeHandler(handler)
        handler.close()
    for handler in saved[0]:
        package_logger.addHandler(handler)
    package_logger.setLevel(saved[1])


def make_read(folder: Path, read_type: ReadType) -> None:
    """Make a read the way the application does, from the worklist's scan dates."""
    with ReadRepository(f"sqlite:///{folder / 'reads.db'}") as repository:
        key = ReadKey("NCT06779461", "S01", "C1", read_type)
        session = ReadSession.open(
            repository, key, site_id="SITE07", profile=load_profile("nct06779461")
        )
        session.add_timepoint("BASELINE", 0, study_day=0, scan_date=SCAN_DATES[0])
        session.add_timepoint("FU1", 1, study_day=30, scan_date=SCAN_DATES[1])
        session.designate_target(
            Organ.LIVER, "segment VII", caliper=Caliper((0.0, 0, 0), (45.0, 0, 0))
        )
        session.sign_timepoint(0)


def stored_bytes(folder: Path) -> bytes:
    return b"".join(p.read_bytes() for p in sorted(folder.glob("reads.db*")))


def test_a_central_read_stores_and_logs_no_identity_or_scan_date(tmp_path, log_dir):
    make_read(tmp_path, ReadType.CENTRAL)
    logged = b"".join(p.read_bytes() for p in log_dir.glob("*.log*"))
    assert b"signed" in stored_bytes(tmp_path)  # the read is there
    assert b"designate_target" in logged  # the log is written
    for text in forbidden_strings():
        assert text not in stored_bytes(tmp_path), text
        assert text not in logged, text


def test_a_local_read_keeps_its_scan_dates(tmp_path, log_dir):
    make_read(tmp_path, ReadType.LOCAL)
    assert SCAN_DATES[0].isoformat().encode() in stored_bytes(tmp_path)
