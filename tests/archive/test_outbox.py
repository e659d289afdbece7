"""The outbox: results wait while the archive is down and go when it is back."""

from pathlib import Path

import pydicom
import pytest
from pydicom.dataset import Dataset

from mrecist_reader.archive.dicomweb import DicomwebArchive
from mrecist_reader.archive.dimse import DimseArchive
from mrecist_reader.archive.nodes import DicomwebNode, DimseNode
from mrecist_reader.archive.outbox import Outbox
from mrecist_reader.archive.sr import measurement_report
from tests.archive import orthanc as o
from tests.archive.orthanc import Orthanc
from tests.archive.test_sr import IMAGES, sample_read


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def sr_path(tmp_path: Path) -> Path:
    path = tmp_path / "sr.dcm"
    measurement_report(sample_read(), 0, IMAGES).save_as(path, enforce_file_format=True)
    return path


class Recorder:
    def __init__(self) -> None:
        self.stored: list[str] = []

    def store(self, dataset: Dataset) -> None:
        self.stored.append(str(dataset.SOPInstanceUID))


def down() -> DimseArchive:
    return DimseArchive(DimseNode("PACS", "127.0.0.1", o.free_port(), timeout_s=1))


def test_a_result_waits_while_the_archive_is_down(
    tmp_path: Path, sr_path: Path
) -> None:
    clock = Clock()
    outbox = Outbox(tmp_path / "outbox", clock=clock)
    outbox.add(sr_path)
    report = outbox.send_due(down())
    (item,) = report.failed
    assert (item.attempts, item.next_try_at) == (1, clock.now + 30)
    assert "connection refused" in item.last_error
    assert outbox.pending() == [item]  # the state survives: it is on disk


def test_delays_double_up_to_the_limit(tmp_path: Path, sr_path: Path) -> None:
    clock = Clock()
    outbox = Outbox(tmp_path / "outbox", clock=clock, first_delay_s=30, max_delay_s=100)
    outbox.add(sr_path)
    delays = []
    for _ in range(4):
        start = clock.now
        (item,) = outbox.send_due(down()).failed
        delays.append(item.next_try_at - start)
        clock.now = item.next_try_at
    assert delays == [30, 60, 100, 100]


def test_nothing_is_tried_before_its_time(tmp_path: Path, sr_path: Path) -> None:
    clock = Clock()
    outbox = Outbox(tmp_path / "outbox", clock=clock)
    outbox.add(sr_path)
    outbox.send_due(down())
    clock.now += 29
    recorder = Recorder()
    assert outbox.send_due(recorder).waiting == 1
    assert recorder.stored == []
    clock.now += 1
    assert len(outbox.send_due(recorder).sent) == 1
    assert outbox.pending() == []


def test_adding_the_same_sr_twice_queues_it_once(tmp_path: Path, sr_path: Path) -> None:
    outbox = Outbox(tmp_path / "outbox")
    outbox.add(sr_path)
    outbox.add(sr_path)
    assert len(outbox.pending()) == 1


@pytest.mark.orthanc
def test_a_queued_sr_reaches_the_archive_when_it_is_back(
    orthanc: Orthanc, tmp_path: Path, sr_path: Path
) -> None:
    clock = Clock()
    outbox = Outbox(tmp_path / "outbox", clock=clock)
    outbox.add(sr_path)
    outbox.send_due(down())
    clock.now += 30
    archive = DicomwebArchive(
        DicomwebNode(orthanc.dicomweb_url, username=o.USER, password=o.PASSWORD)
    )
    report = orthanc.in_namespace(lambda: outbox.send_due(archive))
    assert [path.parent.name for path in report.sent] == ["sent"]
    sr = pydicom.dcmread(sr_path)
    found = orthanc.in_namespace(
        lambda: archive.client.search_for_instances(
            sr.StudyInstanceUID, sr.SeriesInstanceUID
        )
    )
    assert [item["00080018"]["Value"][0] for item in found] == [sr.SOPInstanceUID]
