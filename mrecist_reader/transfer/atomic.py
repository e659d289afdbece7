"""Write a file completely or not at all (data-transfer.md §Files)."""

import contextlib
import logging
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import TextIO

logger = logging.getLogger(__name__)


@contextlib.contextmanager
def atomic_write(path: Path) -> Iterator[TextIO]:
    """Open a text stream whose content replaces ``path`` only if the block succeeds.

    The text goes to a temporary file in the same folder (UTF-8, no BOM, LF line
    ends kept as written), which is flushed, synced to disk and renamed over ``path``
    with :func:`os.replace`. On any error the temporary file is removed and ``path``
    keeps its old content.

    Parameters
    ----------
    path
        The file to write.

    Yields
    ------
    TextIO
        The stream to write to.

    """
    path = Path(path)
    handle, temp_name = tempfile.mkstemp(
        prefix=f".{path.name}.", suffix=".tmp", dir=path.parent
    )
    temp_path = Path(temp_name)
    try:
        # mkstemp makes the file private (0600); give it the usual mode instead.
        os.chmod(temp_path, _mode_for(path))
        with os.fdopen(handle, "w", encoding="utf-8", newline="") as stream:
            yield stream
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temp_path, path)
    except BaseException:
        temp_path.unlink(missing_ok=True)
        raise
    logger.debug("wrote %s", path)


def _mode_for(path: Path) -> int:
    """Keep an existing file's permission bits; new files get rw-r--r--."""
    try:
        return path.stat().st_mode & 0o777
    except FileNotFoundError:
        return 0o644
