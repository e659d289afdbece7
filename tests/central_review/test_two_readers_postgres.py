"""central-review.md §Many readers, one database: two readers' processes on one PostgreSQL.

Two application processes (reader 1 and reader 2 of the same subject) read at the same
moment on one real PostgreSQL server (started by the tests on 127.0.0.1): each
records lesions through its own :class:`~mrecist_reader.session.ReadSession` and signs
the baseline. Their reads stay independent (each read holds only its reader's lesions
and audit entries, each reader's session sees only its own read), the audit trail
verifies, and the adjudication trigger that both signatures start records the cut
once.
"""

import subprocess
import sys
from pathlib import Path

import pytest

from mrecist_reader.core.adjudication import Assignment, CutStatus
from mrecist_reader.core.model import ReadKey, ReadType
from mrecist_reader.storage.errors import ReadNotFound
from mrecist_reader.storage.repository import ReadRepository, Viewer
from tests.central_review.reads import MANAGER

STUDY = "NCT06779461"

REPO_ROOT = Path(__file__).resolve().parents[2]
LESIONS = 12
"""Non-target lesions each reader records, one transaction each."""

READER = """
import sys, time
from pathlib import Path
from mrecist_reader.core.model import Caliper, Organ, ReadKey, ReadType
from mrecist_reader.resources import load_profile
from mrecist_reader.session import ReadSession
from mrecist_reader.storage.repository import ReadRepository

url, reader, go, count = sys.argv[1], sys.argv[2], Path(sys.argv[3]), int(sys.argv[4])
repository = ReadRepository(url)
key = ReadKey("NCT06779461", "S01", reader, ReadType.CENTRAL)
session = ReadSession.open(repository, key, site_id="SITE01",
                           profile=load_profile("nct06779461"))
print("ready", flush=True)
while not go.exists():  # both processes start writing at the same moment
    time.sleep(0.01)
session.add_timepoint("BASELINE", 0, study_day=0)
for number in range(count):
    session.add_non_target(Organ.LIVER, f"{reader} nodule {number}")
session.designate_target(
    Organ.LIVER, f"{reader} segment VII",
    caliper=Caliper((-20.0, 0.0, -100.0), (20.0, 0.0, -100.0)),
    series_instance_uid="1.2.826.0.1.1", sop_instance_uid="1.2.826.0.1.1.7",
)
session.sign_timepoint(0)
print("signed", flush=True)
"""


def start_reader(url: str, reader: str, go: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", READER, url, reader, str(go), str(LESIONS)],
        cwd=REPO_ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


@pytest.mark.postgres
def test_two_readers_processes_on_one_postgres_stay_independent(
    postgres_url: str, tmp_path: Path
) -> None:
    with ReadRepository(postgres_url) as repository:
        repository.assign(
            [Assignment("S01", "R01", "R02", "A01")], actor=MANAGER, source="a.csv"
        )
    go = tmp_path / "go"
    readers = {
        reader: start_reader(postgres_url, reader, go) for reader in ("R01", "R02")
    }
    for process in readers.values():
        assert process.stdout is not None
        assert process.stdout.readline().strip() == "ready"
    go.touch()
    for reader, process in readers.items():
        out, err = process.communicate(timeout=240)
        assert process.returncode == 0, f"{reader}: {err}"
        assert out.strip() == "signed"
    with ReadRepository(postgres_url) as repository:
        for reader, other in (("R01", "R02"), ("R02", "R01")):
            key = ReadKey(STUDY, "S01", reader, ReadType.CENTRAL)
            read = repository.load(key, viewer=Viewer(reader, ReadType.CENTRAL))
            assert read is not None
            locations = [lesion.location for lesion in read.lesions]
            assert len(locations) == LESIONS + 1
            assert all(location.startswith(reader) for location in locations)
            other_key = ReadKey(STUDY, "S01", other, ReadType.CENTRAL)
            viewer = Viewer(reader, ReadType.CENTRAL)
            with pytest.raises(ReadNotFound):
                repository.load(other_key, viewer=viewer)
            assert repository.list_reads(viewer) == (key,)
        trail = repository.audit_trail()
        for record in trail:
            for reader in ("R01", "R02"):
                if record.read_ref == f"{STUDY}/S01/{reader}/central":
                    assert record.reader_id == reader
        assert repository.verify_audit_trail() is None
        assert repository.integrity_problems() == ()
        (case,) = repository.adjudication_cases()
        triggers = [e for e in trail if e.action == "trigger"]
    assert (case.cut, case.status) == ("BASELINE", CutStatus.CONCORDANT)
    assert len(triggers) == 1
