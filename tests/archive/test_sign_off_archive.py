"""Sign-off queues the SR for the archive and sends it in the background (no Qt)."""

import threading
from dataclasses import dataclass, replace
from pathlib import Path

import pydicom
import pytest
from psygnal import Signal
from pydicom.dataset import Dataset

from mrecist_reader.archive.config import parse_archive_config
from mrecist_reader.archive.errors import ArchiveUnreachable
from mrecist_reader.archive.nodes import DicomwebNode, DimseNode, InvalidNode
from mrecist_reader.archive.outbox import Outbox
from mrecist_reader.archive.sr import read_report
from mrecist_reader.core.model import Read, ReadStatus
from mrecist_reader.desk.sr_outbox import ArchiveStatus, SignOffArchiver, archiver_for
from mrecist_reader.imaging.scan import scan
from mrecist_reader.imaging.volume import SeriesInfo
from mrecist_reader.imaging.worklist import SubjectEntry, build_worklist
from tests.archive.test_sr import FOLLOW_UP, sample_read
from tests.conftest import SAMPLE_DICOM


class FakeArchive:
    """Takes what is stored, or refuses it while ``down``."""

    def __init__(self, *, down: bool = False) -> None:
        self.down = down
        self.stored: list[Dataset] = []

    def store(self, dataset: Dataset) -> None:
        if self.down:
            raise ArchiveUnreachable("connection refused by 127.0.0.1:4242")
        self.stored.append(dataset)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture(scope="module")
def series() -> tuple[SeriesInfo, ...]:
    return scan(SAMPLE_DICOM / "S01", use_index=False).series


def signed_through(read: Read, last: int) -> Read:
    """Return the read with the timepoints after ``last`` back to drafts."""
    return replace(
        read,
        timepoints=tuple(
            t
            if t.index <= last
            else replace(t, read_status=ReadStatus.DRAFT, signed_at=None)
            for t in read.timepoints
        ),
    )


def archiver(
    tmp_path: Path, archive: FakeArchive, clock: Clock | None = None
) -> SignOffArchiver:
    outbox = Outbox(tmp_path / "outbox", clock=clock or Clock())
    return SignOffArchiver(outbox, lambda: archive)


def test_signing_a_timepoint_queues_its_sr_and_only_its_sr(
    tmp_path: Path, series: tuple[SeriesInfo, ...]
) -> None:
    hook = archiver(tmp_path, FakeArchive())
    read = sample_read()
    assert hook.read_changed(signed_through(read, 0), series) == []  # first sight
    queued = hook.read_changed(read, series)  # FU1 just signed
    assert len(queued) == 1
    sr = pydicom.dcmread(queued[0])
    assert sr.StudyInstanceUID == FOLLOW_UP.study_uid
    assert [lesion.lesion_id for lesion in read_report(sr)] == ["T1", "T2", "NT1", "N1"]
    assert hook.read_changed(read, series) == []  # nothing newly signed
    assert hook.status.waiting == 1


def test_the_archive_down_keeps_the_sr_queued_and_says_why(
    tmp_path: Path, series: tuple[SeriesInfo, ...]
) -> None:
    archive, clock = FakeArchive(down=True), Clock()
    hook = archiver(tmp_path, archive, clock)
    read = sample_read()
    hook.read_changed(signed_through(read, 0), series)
    hook.read_changed(read, series)
    report = hook.send_now()
    assert report is not None
    assert report.sent == ()
    assert hook.status.waiting == 1
    assert "connection refused" in hook.status.text()
    archive.down = False
    assert hook.send_now() is not None
    assert archive.stored == []  # not due yet: retried later
    clock.now += 31
    assert hook.send_now() is not None
    assert len(archive.stored) == 1
    assert hook.status == ArchiveStatus(waiting=0, sent=1)


def test_images_not_found_is_a_problem_never_an_exception(tmp_path: Path) -> None:
    hook = archiver(tmp_path, FakeArchive())
    read = sample_read()
    hook.read_changed(signed_through(read, 0), ())
    assert hook.read_changed(read, ()) == []  # no series: images not found
    assert f"series {FOLLOW_UP.series_uid}" in hook.status.problem
    assert hook.status.waiting == 0


def test_the_sender_thread_sends_what_is_queued(
    tmp_path: Path, series: tuple[SeriesInfo, ...]
) -> None:
    archive = FakeArchive()
    hook = archiver(tmp_path, archive)
    sent = threading.Event()
    hook.status_changed.connect(lambda status: sent.set() if status.sent else None)
    hook.start()
    try:
        read = sample_read()
        hook.read_changed(signed_through(read, 0), series)
        hook.read_changed(read, series)
        assert sent.wait(60), "the sender thread did not send"
    finally:
        hook.stop()
    assert len(archive.stored) == 1
    assert hook.outbox.pending() == []


def test_the_archive_file_names_a_dicomweb_or_a_dimse_node() -> None:
    web = parse_archive_config(
        '[node]\ndicomweb = "https://pacs.example/dicom-web"\ntoken = "t"\n',
        "archive.toml",
    )
    assert web is not None
    assert web.node == DicomwebNode("https://pacs.example/dicom-web", token="t")
    assert web.send_sr_on_sign
    dimse = parse_archive_config(
        '[node]\ndimse = "ORTHANC@pacs:4242"\nour_ae_title = "ME"\n'
        "[sign_off]\nsend_sr = false\n",
        "archive.toml",
    )
    assert dimse is not None
    assert dimse.node == DimseNode("ORTHANC", "pacs", 4242, our_ae_title="ME")
    assert not dimse.send_sr_on_sign
    assert parse_archive_config("", "archive.toml") is None


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('[node]\ndimse = "ORTHANC@pacs"\n', "archive.toml: --dimse"),
        ('[node]\ndicomweb = "ftp://x"\n', "archive.toml: --dicomweb"),
        ('[node]\ndimse = "A@b:1"\ndicomweb = "http://x"\n', "not both"),
        ('[node]\ndimse = "A@b:1"\nmove_port = "x"\n', "move_port"),
        ("[sign_off]\nsend_sr = 1\n", "send_sr"),
        ("node = [", "not TOML"),
    ],
)
def test_a_mistake_in_the_archive_file_is_named(text: str, message: str) -> None:
    with pytest.raises(InvalidNode, match=message):
        parse_archive_config(text, "archive.toml")


class FakeSession:
    read_changed = Signal(object)

    def __init__(self, read: Read) -> None:
        self.read = read


@dataclass
class FakeContext:
    blinded_export: bool = False


class FakeDesk:
    """What the archiver watches of the reading desk: the session and the subject."""

    session_changed = Signal(object)

    def __init__(self, subject: SubjectEntry | None) -> None:
        self.subject = subject
        self.context = FakeContext()


def test_the_desk_sends_the_sr_of_a_timepoint_signed_there(
    tmp_path: Path, series: tuple[SeriesInfo, ...]
) -> None:
    (subject,) = build_worklist(series)
    desk = FakeDesk(subject)
    config = tmp_path / "config"
    config.mkdir()
    (config / "archive.toml").write_text(
        '[node]\ndicomweb = "http://127.0.0.1:9/dicom-web"\n', encoding="utf-8"
    )
    hook, problem = archiver_for(
        desk, config_folder=config, outbox_folder=tmp_path / "outbox"
    )
    assert hook is not None
    assert problem == ""
    queued = threading.Event()
    hook.status_changed.connect(lambda status: queued.set() if status.queued else None)
    read = sample_read()
    session = FakeSession(signed_through(read, 0))
    desk.session_changed.emit(session)  # opened with the baseline signed: nothing
    session.read_changed.emit(read)  # FU1 signed at the desk
    assert queued.wait(60), "the SR was not queued"
    (pending,) = hook.outbox.pending()
    assert pydicom.dcmread(pending.path).StudyInstanceUID == FOLLOW_UP.study_uid


def test_without_an_archive_file_nothing_is_watched(tmp_path: Path) -> None:
    assert archiver_for(FakeDesk(None), config_folder=tmp_path) == (None, "")
    (tmp_path / "archive.toml").write_text('[node]\ndimse = "x"\n', encoding="utf-8")
    hook, problem = archiver_for(FakeDesk(None), config_folder=tmp_path)
    assert hook is None
    assert "archive.toml" in problem
