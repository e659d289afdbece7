"""File > Open folder, Open zip or DICOMDIR, a dropped path, and Load report.

What the reader opens is scanned in the background by the
:class:`~mrecist_reader.ui.opening.Opener`; a blinded read first removes the zip
extractions of what it had open (nothing may still read them). The load report lists
which files the last scan did not load and why, and the series' warnings, named as the
worklist names them (a blinded read: no folder, keyed names).
"""

import logging
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtWidgets import QDialog, QFileDialog, QWidget

from mrecist_reader.desk.desk import ReadingDesk
from mrecist_reader.ui.opening import Opener
from mrecist_reader.ui.timepoint_view import TimepointView

if TYPE_CHECKING:
    from concurrent.futures import Future

    from mrecist_reader.ui.prefetch import Prefetched

logger = logging.getLogger(__name__)

ARCHIVE_FILTER = "DICOM (*.zip DICOMDIR *.dcm);;All (*)"


class OpenCommands:
    """Open what the reader chooses or drops; show the last scan's load report."""

    def __init__(
        self,
        parent: QWidget,
        desk: ReadingDesk,
        opener: Opener,
        views: Sequence[TimepointView],
        say: Callable[[str, int], None],
    ) -> None:
        self.parent = parent
        self.desk = desk
        self.opener = opener
        self.views = views
        self.say = say
        self.load_report: QDialog | None = None

    def ask_folder(self) -> None:
        """Ask for a folder of DICOM files and open it."""
        folder = QFileDialog.getExistingDirectory(self.parent, "Open DICOM folder")
        if folder:
            self.open_path(Path(folder))

    def ask_file(self) -> None:
        """Ask for a zip archive or DICOMDIR and open it."""
        name, _ = QFileDialog.getOpenFileName(
            self.parent, "Open zip or DICOMDIR", "", ARCHIVE_FILTER
        )
        if name:
            self.open_path(Path(name))

    def open_path(
        self, path: Path, *, prefetched: "Future[Prefetched] | None" = None
    ) -> None:
        """Scan a folder, zip or DICOMDIR in the background, then show the worklist.

        A blinded read first removes the zip extractions of what it had open.
        """
        if self.desk.context.is_blinded:
            for view in self.views:
                view.cancel()  # nothing reads the files about to be removed
        self.desk.remove_extractions()
        self.opener.open(path, prefetched=prefetched)

    def show_load_report(self) -> None:
        """Show which files the last scan did not load and why, and series warnings."""
        from mrecist_reader.ui.load_report import LoadReportDialog
        from mrecist_reader.ui.opening import report_series, skipped_files

        found = self.opener.found
        if found is None:
            self.say("Open a folder, zip or DICOMDIR first", 5000)
            return
        # named as the worklist names them (a blinded read: no folder, keyed names)
        series = tuple(self.desk.shown_series(s) for s in report_series(found))
        self.load_report = LoadReportDialog(
            skipped_files(found),
            series,
            self.parent,
            blinded=self.desk.context.is_blinded,
        )
        self.load_report.show()
