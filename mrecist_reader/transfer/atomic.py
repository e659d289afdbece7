"""Write files completely or not at all (data-transfer.md §Files)."""

import contextlib
import logging
import os
import stat
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TextIO

logger = logging.getLogger(__name__)


@contextlib.contextmanager
def atomic_write(path: Path) -> Iterator[TextIO]:
    """Open a text stream whose content replaces ``path`` only if the block succeeds.

    The text goes to a temporary file in the same folder (UTF-8, no BOM, LF line
    ends kept as written), which is flushed, synced to disk and renamed over ``path``
    with :func:`os.replace`. On any error the temporary file is removed and ``path``
    keeps its old content. A ``path`` that exists but is not a regular file (``/dev/null``,
    a named pipe, a terminal) is written directly: replacing it would destroy it.

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
    if _is_special(path):  # /dev/null, a pipe, a terminal: nothing to replace
        with path.open("w", encoding="utf-8", newline="") as stream:
            yield stream
        return
    with atomic_write_all([path]) as (stream,):
        yield stream


@contextlib.contextmanager
def atomic_write_all(paths: Sequence[Path]) -> Iterator[list[TextIO]]:
    """Open one stream per path; the files are replaced only if the whole block succeeds.

    Every file is written to a temporary file beside it, and all of them are flushed and
    synced before the first is renamed into place, so an error while writing any of them
    leaves every ``path`` with its old content (an export's two files stay a pair).

    Parameters
    ----------
    paths
        The files to write (regular files or not yet existing).

    Yields
    ------
    list[TextIO]
        The streams, in the order of ``paths``.

    """
    staged: list[tuple[Path, Path]] = []
    streams: list[TextIO] = []
    try:
        for path in map(Path, paths):
            handle, temp_name = tempfile.mkstemp(
                prefix=f".{path.name}.", suffix=".tmp", dir=path.parent
            )
            staged.append((Path(temp_name), path))
            # mkstemp makes the file private (0600); give it the usual mode instead.
            os.chmod(temp_name, _mode_for(path))
            streams.append(os.fdopen(handle, "w", encoding="utf-8", newline=""))
        yield streams
        for stream in streams:
            stream.flush()
            os.fsync(stream.fileno())
            stream.close()
        for temp_path, path in staged:
            os.replace(temp_path, path)
    except BaseException:
        for stream in streams:
            stream.close()
        for temp_path, _path in staged:
            temp_path.unlink(missing_ok=True)
        raise
    logger.debug("wrote %s", ", ".join(str(path) for _temp, path in staged))


def _mode_for(path: Path) -> int:
    """Keep an existing file's permission bits; new files get rw-r--r--."""
    try:
        return path.stat().st_mode & 0o777
    except FileNotFoundError:
        return 0o644


def _is_special(path: Path) -> bool:
    """Return whether ``path`` exists and is neither a regular file nor a folder."""
    try:
        mode = path.stat().st_mode
    except OSError:
        return False
    return not (stat.S_ISREG(mode) or stat.S_ISDIR(mode))
