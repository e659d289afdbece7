"""The archive seen from the window: sign-off sends the SR, the status bar says how.

A thin view over :mod:`mrecist_reader.desk.sr_outbox`: when ``archive.toml`` names a
node, the SR of every timepoint signed in this window is queued and sent by the
archiver's own thread; what it reports (SRs waiting, the archive down or refusing,
an image not found) is shown in the status bar, in the window's thread.
"""

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Signal

from mrecist_reader.archive.config import ARCHIVE_FILE
from mrecist_reader.settings import settings_path

if TYPE_CHECKING:  # highdicom and the archive clients load only with an archive file
    from mrecist_reader.desk.desk import ReadingDesk
    from mrecist_reader.desk.sr_outbox import ArchiveStatus, SignOffArchiver
    from mrecist_reader.desk.worklist import Worklist


def _stop(archiver: "SignOffArchiver") -> None:
    archiver.status_changed.disconnect()  # the view is gone: nobody to tell
    archiver.stop(wait=False)


def _remember_places(worklist: "Worklist") -> None:
    from mrecist_reader.desk.image_places import remember

    remember(
        info
        for subject in worklist.subjects
        for timepoint in subject.timepoints
        for info in timepoint.series
    )


class ArchiveStatusView(QObject):
    """Start the sign-off archiver of the desk and show its status."""

    status_changed = Signal(object)  # ArchiveStatus, in the window's thread

    def __init__(
        self,
        parent: QObject,
        desk: "ReadingDesk",
        say: Callable[[str, int], None],
        *,
        config_folder: Path | None = None,
        outbox_folder: Path | None = None,
    ) -> None:
        super().__init__(parent)
        self._say = say
        # where each series was opened from: export --sr finds the images there
        desk.worklist_changed.connect(_remember_places)
        self.archiver: SignOffArchiver | None = None
        folder = config_folder or settings_path().parent
        if not (folder / ARCHIVE_FILE).exists():
            return  # no archive: nothing loaded, nothing started
        from mrecist_reader.desk.sr_outbox import archiver_for

        self.archiver, problem = archiver_for(
            desk, config_folder=folder, outbox_folder=outbox_folder
        )
        if problem:
            say(problem, 0)
        if self.archiver is None:
            return
        self.status_changed.connect(self._show)
        # emitted from the archiver's threads: Qt queues it to this object's thread
        self.archiver.status_changed.connect(self.status_changed.emit)
        archiver = self.archiver
        archiver.start()
        self.destroyed.connect(lambda: _stop(archiver))

    def _show(self, status: "ArchiveStatus") -> None:
        text = status.text()
        if status.queued and not text:
            text = f"SR queued for the archive: {', '.join(status.queued)}"
        if text:
            self._say(text, 0 if status.problem else 5000)
