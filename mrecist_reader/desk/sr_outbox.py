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

from psygnal import Signal

from mrecist_reader.archive.errors import ArchiveError
from mrecist_reader.archive.outbox import Outbox, Sender, SendReport
from mrecist_reader.archive.sr import SRExportError, image_headers
from mrecist_reader.core.errors import MrecistError
from mrecist_reader.core.model import Read, ReadKey
from mrecist_reader.desk.sr_export import (
    build_reports,
    referenced_series,
    signed_indexes,
    write_atomically,
)
from mrecist_reader.imaging.volume import SeriesInfo

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class ArchiveStatus:
    """What the reader sees of the archive: SRs waiting, and the last problem."""

    waiting: int = 0
    sent: int = 0
    problem: str = ""
    queued: tuple[str, ...] = field(default=())

    def text(self) -> str:
        """Say it in one line for a status bar (empty: nothing to say)."""
        parts = []
        if self.waiting:
            parts.append(f"{self.waiting} SR(s) waiting for the archive")
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
        signed = frozenset(signed_indexes(read))
        with self._lock:
            before = self._signed.get(read.key)
            self._signed[read.key] = signed
        if before is None:
            return []  # first sight: a read opened already signed sends nothing
        new = tuple(sorted(signed - before))
        if not new:
            return []
        return self.queue(read, new, series)

    def queue(
        self, read: Read, indexes: tuple[int, ...], series: Iterable[SeriesInfo]
    ) -> list[Path]:
        """Put the SRs of these signed timepoints into the outbox and wake the sender."""
        wanted = referenced_series([read])
        files = [
            path
            for info in series
            if info.series_instance_uid in wanted
            for path in info.files
        ]
        try:
            reports = build_reports(
                [read], image_headers(files), blinded=self.blinded, only=indexes
            )
            with tempfile.TemporaryDirectory(prefix="mrecist_sr_") as folder:
                written = write_atomically(reports, Path(folder))
                queued = [self.outbox.add(path) for path in written]
        except (MrecistError, OSError) as error:
            why = "SR not queued for the archive"
            if isinstance(error, SRExportError):
                why = "SR not written"
            self._report(problem=f"subject {read.key.subject_id}: {why}: {error}")
            return []
        logger.info("%d SR(s) queued for the archive", len(queued))
        self._report(queued=tuple(p.name for p in queued))
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

    def stop(self) -> None:
        """Stop the sender thread (what is queued stays queued for the next start)."""
        thread, self._thread = self._thread, None
        if thread is None:
            return
        self._stop.set()
        self._wake.set()
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
        self.status_changed.emit(status)
