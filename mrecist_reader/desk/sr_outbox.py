"""Sign-off sends the SR to the archive: queued, sent in the background, retried.

When a timepoint is signed and an archive node is configured
(:mod:`mrecist_reader.archive.config`), :class:`SignOffArchiver` writes the SR of
each newly signed timepoint (:mod:`mrecist_reader.desk.sr_export`) into the outbox
(:class:`~mrecist_reader.archive.outbox.Outbox`) and wakes its sender thread, which
sends what is due and retries later while the archive is down. Nothing here ever
raises to the reader: sign-off is stored before, and a failure (an image not found,
the archive refused or down) is kept in :attr:`SignOffArchiver.status` and announced
by :attr:`SignOffArchiver.status_changed` (emitted from the sender thread: a view
moves it to its own thread).

The timepoint's key images (a Key Object Selection document,
:mod:`mrecist_reader.archive.kos`) are queued beside its SR; key images that cannot be
written are said, and the SR goes anyway.

It watches the reads rather than the signing code: :meth:`SignOffArchiver.read_changed`
compares the signed timepoints with the ones seen before (the first sight of a read
only remembers them), so a read opened already signed sends nothing again.
"""

import logging
import tempfile
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import platformdirs
from psygnal import EmitLoopError, Signal, SignalInstance

from mrecist_reader.archive.config import read_archive_config
from mrecist_reader.archive.errors import ArchiveError
from mrecist_reader.archive.nodes import InvalidNode
from mrecist_reader.archive.outbox import Outbox, Sender, SendReport
from mrecist_reader.archive.sr import SRExportError, image_headers
from mrecist_reader.core.errors import MrecistError
from mrecist_reader.core.model import Read, ReadKey
from mrecist_reader.desk.sr_export import (
    build_key_image_documents,
    build_reports,
    key_image_series,
    referenced_series,
    signed_indexes,
    write_atomically,
)
from mrecist_reader.imaging.volume import SeriesInfo
from mrecist_reader.imaging.worklist import SubjectEntry
from mrecist_reader.settings import APP_NAME, settings_path

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class ArchiveStatus:
    """What the reader sees of the archive: files waiting, and the last problem.

    The files are SRs and key-image (Key Object Selection) documents.
    """

    waiting: int = 0
    sent: int = 0
    problem: str = ""
    queued: tuple[str, ...] = field(default=())

    def text(self) -> str:
        """Say it in one line for a status bar (empty: nothing to say)."""
        parts = []
        if self.waiting:
            parts.append(
                f"{self.waiting} file(s) (SR, key images) waiting for the archive"
            )
        if self.problem:
            parts.append(self.problem)
        return "; ".join(parts)


class SignOffArchiver:
    """Queue the SR of each newly signed timepoint and send it in the background."""

    status_changed = Signal(object)

    def __init__(
        self,
        outbox: Outbox,
        connect: Callable[[], Sender],
        *,
        blinded: bool = False,
        interval_s: float = 60.0,
    ) -> None:
        self.outbox = outbox
        self.connect = connect
        self.blinded = blinded
        self.interval_s = interval_s
        self.status = ArchiveStatus(waiting=len(outbox.pending()))
        self._signed: dict[ReadKey, frozenset[int]] = {}
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # ------------------------------------------------------------------ queue
    def read_changed(self, read: Read, series: Iterable[SeriesInfo]) -> list[Path]:
        """Queue the SR of each timepoint signed since ``read`` was last seen.

        ``series`` are the subject's series (their files give the images' headers).
        Returns the queued files; never raises (a problem goes into the status).
        """
        new = self.newly_signed(read)
        return self.queue(read, new, series) if new else []

    def newly_signed(self, read: Read) -> tuple[int, ...]:
        """Return the timepoints signed since ``read`` was last seen (none at first)."""
        signed = frozenset(signed_indexes(read))
        with self._lock:
            before = self._signed.get(read.key)
            self._signed[read.key] = signed
        if before is None:
            return ()  # first sight: a read opened already signed sends nothing
        return tuple(sorted(signed - before))

    def queue(
        self, read: Read, indexes: tuple[int, ...], series: Iterable[SeriesInfo]
    ) -> list[Path]:
        """Put the SRs of these signed timepoints into the outbox and wake the sender."""
        wanted = referenced_series([read]) | key_image_series([read])
        files = [
            path
            for info in series
            if info.series_instance_uid in wanted
            for path in info.files
        ]
        key_problem = ""
        try:
            headers = image_headers(files)
            reports = build_reports([read], headers, blinded=self.blinded, only=indexes)
            try:  # key images go beside the SR; a problem with them never stops it
                keys = build_key_image_documents(
                    [read], headers, blinded=self.blinded, only=indexes
                )
            except (SRExportError, ValueError, AttributeError, TypeError) as error:
                keys = []
                key_problem = (
                    f"subject {read.key.subject_id}: key images not queued: {error}"
                )
            with tempfile.TemporaryDirectory(prefix="mrecist_sr_") as folder:
                written = write_atomically([*reports, *keys], Path(folder))
                queued = [self.outbox.add(path) for path in written]
        except (MrecistError, OSError, ValueError, AttributeError, TypeError) as error:
            # highdicom refuses what it cannot write (ValueError, AttributeError)
            why = "SR not queued for the archive"
            if isinstance(error, SRExportError):
                why = "SR not written"
            self._report(problem=f"subject {read.key.subject_id}: {why}: {error}")
            return []
        logger.info("%d SR(s) queued for the archive", len(queued))
        if key_problem:
            logger.warning("%s", key_problem)
        self._report(queued=tuple(p.name for p in queued), problem=key_problem)
        self._wake.set()
        return queued

    # ------------------------------------------------------------------ sending
    def send_now(self) -> SendReport | None:
        """Send what is due (in the caller's thread); ``None``: no connection."""
        try:
            archive = self.connect()
        except (ArchiveError, OSError) as error:
            self._report(problem=f"archive not reached: {error}")
            return None
        report = self.outbox.send_due(archive)
        problem = ""
        if report.failed:
            last = report.failed[-1]
            problem = (
                f"archive did not take {len(report.failed)} SR(s): {last.last_error}"
            )
        self._report(problem=problem, sent=len(report.sent))
        return report

    def start(self) -> None:
        """Start the sender thread (sends at once, then when woken or every interval)."""
        if self._thread is not None:
            return
        self._stop.clear()
        self._wake.set()
        self._thread = threading.Thread(
            target=self._run, name="archive-outbox", daemon=True
        )
        self._thread.start()

    def stop(self, *, wait: bool = True) -> None:
        """Stop the sender thread (what is queued stays queued for the next start).

        ``wait=False`` does not wait for a send under way (closing the window).
        """
        thread, self._thread = self._thread, None
        if thread is None:
            return
        self._stop.set()
        self._wake.set()
        if wait:
            thread.join()

    def _run(self) -> None:
        while not self._stop.is_set():
            self._wake.wait(self.interval_s)
            self._wake.clear()
            if self._stop.is_set():
                break
            try:
                self.send_now()
            except Exception as error:  # the sender thread must go on
                logger.exception("archive outbox")
                self._report(problem=f"archive outbox: {error}")

    def _report(
        self, *, problem: str = "", sent: int = 0, queued: tuple[str, ...] = ()
    ) -> None:
        with self._lock:
            self.status = ArchiveStatus(
                waiting=len(self.outbox.pending()),
                sent=self.status.sent + sent,
                problem=problem,
                queued=queued,
            )
            status = self.status
        try:
            self.status_changed.emit(status)
        except EmitLoopError as error:  # a view gone meanwhile: the status stays here
            logger.debug("archive status not shown: %s", error)


# ---------------------------------------------------------------------- the desk
class _Session(Protocol):
    @property
    def read(self) -> Read: ...

    @property
    def read_changed(self) -> SignalInstance: ...


class _Context(Protocol):
    @property
    def blinded_export(self) -> bool: ...


class WatchedDesk(Protocol):
    """What the archiver needs of the reading desk (:class:`ReadingDesk` is one)."""

    @property
    def session_changed(self) -> SignalInstance: ...  # noqa: D102

    @property
    def subject(self) -> SubjectEntry | None: ...  # noqa: D102

    @property
    def context(self) -> _Context: ...  # noqa: D102


def subject_series(subject: SubjectEntry | None) -> tuple[SeriesInfo, ...]:
    """Return every series of the open subject (where its images' headers are)."""
    if subject is None:
        return ()
    return tuple(info for tp in subject.timepoints for info in tp.series)


def watch(desk: WatchedDesk, archiver: SignOffArchiver) -> None:
    """Queue the SR of every timepoint signed at ``desk`` (built off the GUI thread)."""

    def on_read(read: Read) -> None:
        new = archiver.newly_signed(read)
        if new:
            series = subject_series(desk.subject)
            threading.Thread(
                target=archiver.queue,
                args=(read, new, series),
                name="archive-sr",
                daemon=True,
            ).start()

    def on_session(session: _Session | None) -> None:
        if session is None:
            return
        archiver.newly_signed(session.read)  # remember what was signed before
        session.read_changed.connect(on_read)

    desk.session_changed.connect(on_session)


def default_outbox() -> Path:
    """Return the user's outbox folder (beside the reads database)."""
    return platformdirs.user_data_path(APP_NAME, appauthor=False) / "outbox"


def archiver_for(
    desk: WatchedDesk,
    *,
    config_folder: Path | None = None,
    outbox_folder: Path | None = None,
) -> tuple[SignOffArchiver | None, str]:
    """Return the archiver of the configured node, watching ``desk``, and a problem.

    ``(None, "")`` when no node is configured (``archive.toml`` beside
    ``settings.toml``) or it sends nothing on sign-off; ``(None, why)`` when the
    file is wrong. The sender thread is not started (:meth:`SignOffArchiver.start`).
    """
    try:
        config = read_archive_config(config_folder or settings_path().parent)
    except InvalidNode as error:
        return None, f"archive not configured: {error}"
    if config is None or not config.send_sr_on_sign:
        return None, ""
    archiver = SignOffArchiver(
        Outbox(outbox_folder or default_outbox()),
        config.connect,
        blinded=desk.context.blinded_export,
    )
    watch(desk, archiver)
    return archiver, ""
