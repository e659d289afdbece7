"""The local folder that receives retrieved files: ``ROOT/STUDY_UID/SERIES_UID/SOP_UID.dcm``.

Each file is written to a temporary name and renamed into place, so an interrupted
retrieval leaves whole files only, and a second run finds them and retrieves the rest.
"""

import logging
import os
import re
import tempfile
from collections.abc import Callable
from pathlib import Path

from mrecist_reader.archive.errors import UnsafeIdentifier

logger = logging.getLogger(__name__)

_UID = re.compile(r"^[0-9]+(\.[0-9]+)*$")


def check_uid(uid: str, what: str) -> str:
    """Return ``uid`` if it is a DICOM UID (digits and dots, at most 64), else raise.

    The UID becomes a file or folder name: ``../x`` from an archive must not.
    """
    if len(uid) > 64 or not _UID.match(uid):
        raise UnsafeIdentifier(
            f"the archive sent {what} {uid[:80]!r}, which is not a UID"
        )
    return uid


class LocalStore:
    """A folder of retrieved files, one per SOP instance.

    ``on_write`` is called with each file's path as soon as it is in place (from the
    thread that received it: pynetdicom's for C-GET and C-MOVE), so a viewer can show
    the first image before the series has arrived and a progress bar can count images.
    """

    def __init__(
        self, root: Path, on_write: Callable[[Path], None] | None = None
    ) -> None:
        self.root = root
        self.on_write = on_write

    def series_dir(self, study_uid: str, series_uid: str) -> Path:
        """Return the folder of one series (not created)."""
        return (
            self.root
            / check_uid(study_uid, "a study UID")
            / check_uid(series_uid, "a series UID")
        )

    def present(self, study_uid: str, series_uid: str) -> set[str]:
        """Return the SOP Instance UIDs of the series' files already here."""
        folder = self.series_dir(study_uid, series_uid)
        if not folder.is_dir():
            return set()
        return {path.stem for path in folder.glob("*.dcm") if path.is_file()}

    def write(self, study_uid: str, series_uid: str, sop_uid: str, data: bytes) -> Path:
        """Write one file atomically and return its path (an existing one is replaced)."""
        name = f"{check_uid(sop_uid, 'a SOP Instance UID')}.dcm"
        folder = self.series_dir(study_uid, series_uid)
        folder.mkdir(parents=True, exist_ok=True)
        target = folder / name
        handle, temporary = tempfile.mkstemp(dir=folder, prefix=".", suffix=".part")
        try:
            with os.fdopen(handle, "wb") as file:
                file.write(data)
            os.replace(temporary, target)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
        logger.debug("stored %s", target)
        if self.on_write is not None:
            self.on_write(target)
        return target
