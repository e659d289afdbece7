"""Results waiting to go to the archive: a folder queue, retried with growing delays.

:meth:`Outbox.add` copies a DICOM file (an SR) into ``FOLDER/pending``; the reader goes
on at once. :meth:`Outbox.send_due` (run in a worker thread, e.g. every minute) sends
each pending file whose time has come; a file the archive took moves to ``FOLDER/sent``,
and one it could not take (archive down, refused) stays, with the error and the time of
the next attempt in a ``.json`` beside it: 30 s, then 1, 2, 4... minutes, at most an hour.
The queue survives a restart of the application, since it is only files.
"""

import json
import logging
import os
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from pydicom import dcmread
from pydicom.dataset import Dataset

from mrecist_reader.archive.errors import ArchiveError
from mrecist_reader.archive.store import check_uid

logger = logging.getLogger(__name__)


class Sender(Protocol):
    """What the outbox needs of an archive client (DIMSE or DICOMweb)."""

    def store(self, dataset: Dataset) -> None: ...  # noqa: D102


@dataclass(frozen=True, slots=True)
class PendingItem:
    """A file waiting to be sent: attempts so far, next attempt (epoch s), last error."""

    path: Path
    attempts: int = 0
    next_try_at: float = 0.0
    last_error: str = ""


@dataclass(frozen=True, slots=True)
class SendReport:
    """What one :meth:`Outbox.send_due` did."""

    sent: tuple[Path, ...]
    failed: tuple[PendingItem, ...]
    waiting: int


class Outbox:
    """A folder of files to send, with their retry state."""

    def __init__(
        self,
        folder: Path,
        *,
        clock: Callable[[], float] = time.time,
        first_delay_s: float = 30.0,
        max_delay_s: float = 3600.0,
    ) -> None:
        self.pending_dir = folder / "pending"
        self.sent_dir = folder / "sent"
        self.clock = clock
        self.first_delay_s = first_delay_s
        self.max_delay_s = max_delay_s

    def add(self, file: Path) -> Path:
        """Queue a copy of ``file`` under its SOP Instance UID (again: replaced)."""
        uid = check_uid(
            str(dcmread(file, stop_before_pixels=True).SOPInstanceUID), "SOP"
        )
        self.pending_dir.mkdir(parents=True, exist_ok=True)
        target = self.pending_dir / f"{uid}.dcm"
        temporary = self.pending_dir / f".{uid}.part"
        try:
            shutil.copyfile(file, temporary)
            os.replace(temporary, target)
        finally:
            temporary.unlink(missing_ok=True)
        _state_path(target).unlink(missing_ok=True)  # a new version starts afresh
        return target

    def pending(self) -> list[PendingItem]:
        """Return the files waiting, oldest attempt first."""
        if not self.pending_dir.is_dir():
            return []
        items = [_load_state(path) for path in sorted(self.pending_dir.glob("*.dcm"))]
        return sorted(items, key=lambda item: (item.next_try_at, item.path.name))

    def send_due(self, archive: Sender) -> SendReport:
        """Send every pending file whose time has come; never raises an ArchiveError."""
        now = self.clock()
        sent: list[Path] = []
        failed: list[PendingItem] = []
        waiting = 0
        for item in self.pending():
            if item.next_try_at > now:
                waiting += 1
                continue
            try:
                archive.store(dcmread(item.path))
            except ArchiveError as error:
                failed.append(self._postpone(item, str(error), now))
                continue
            sent.append(self._mark_sent(item.path))
        return SendReport(tuple(sent), tuple(failed), waiting)

    def _postpone(self, item: PendingItem, error: str, now: float) -> PendingItem:
        attempts = item.attempts + 1
        delay = min(self.first_delay_s * 2 ** (attempts - 1), self.max_delay_s)
        later = PendingItem(item.path, attempts, now + delay, error)
        _save_state(later)
        logger.warning(
            "%s not sent (attempt %d, next in %.0f s): %s",
            item.path.name,
            attempts,
            delay,
            error,
        )
        return later

    def _mark_sent(self, path: Path) -> Path:
        self.sent_dir.mkdir(parents=True, exist_ok=True)
        target = self.sent_dir / path.name
        os.replace(path, target)
        _state_path(path).unlink(missing_ok=True)
        logger.info("%s sent", path.name)
        return target


def _state_path(path: Path) -> Path:
    return path.with_suffix(".json")


def _load_state(path: Path) -> PendingItem:
    state_file = _state_path(path)
    try:
        state = json.loads(state_file.read_text(encoding="utf-8"))
        return PendingItem(
            path,
            int(state["attempts"]),
            float(state["next_try_at"]),
            str(state["last_error"]),
        )
    except FileNotFoundError:
        return PendingItem(path)
    except (ValueError, KeyError, TypeError) as error:
        logger.warning("%s: unreadable retry state (%s); trying now", state_file, error)
        return PendingItem(path)


def _save_state(item: PendingItem) -> None:
    state = {
        "attempts": item.attempts,
        "next_try_at": item.next_try_at,
        "last_error": item.last_error,
    }
    target = _state_path(item.path)
    temporary = target.with_name(f".{target.name}.part")
    temporary.write_text(json.dumps(state), encoding="utf-8")
    os.replace(temporary, target)
