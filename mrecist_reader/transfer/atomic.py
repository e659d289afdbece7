"""Write files completely or not at all (data-transfer.md §Files)."""

import contextlib
import logging
import os
import stat
import tempfile
import threading
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TextIO

logger = logging.getLogger(__name__)


@contextlib.contextmanager
def atomic_write(path: Path, *, private: bool = False) -> Iterator[TextIO]:
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
    private
        Readable by its owner only (a blinded export), whatever the umask allows.

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
    with atomic_write_all([path], private=private) as (stream,):
        yield stream


@contextlib.contextmanager
def atomic_write_all(
    paths: Sequence[Path], *, private: bool = False
) -> Iterator[list[TextIO]]:
    """Open one stream per path; the files are replaced only if the whole block succeeds.

    Every file is written to a temporary file beside it, and all of them are flushed and
    synced before the first is renamed into place, so an error while writing any of them
    leaves every ``path`` with its old content (an export's two files stay a pair).

    Parameters
    ----------
    paths
        The files to write (regular files or not yet existing).
    private
        Readable by their owner only (a blinded export), whatever the umask allows.

    A file gets the permissions of the file it replaces, else those the umask gives
    a new file (``0666 & ~umask``); ``private`` then removes every group and other
    bit. Temporary files left by an export that was killed (their process is gone)
    are removed first.

    Yields
    ------
    list[TextIO]
        The streams, in the order of ``paths``.

    """
    staged: list[tuple[Path, Path]] = []
    streams: list[TextIO] = []
    for path in map(Path, paths):
        remove_stale_temporaries(path)
    try:
        for path in map(Path, paths):
            handle, temp_name = tempfile.mkstemp(
                prefix=f".{path.name}.{os.getpid()}.", suffix=".tmp", dir=path.parent
            )
            staged.append((Path(temp_name), path))
            # mkstemp makes the file private (0600); give it the file's mode instead.
            os.chmod(temp_name, _mode_for(path, private=private))
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


def _mode_for(path: Path, *, private: bool) -> int:
    """Keep an existing file's permission bits, else follow the umask; private: 0600."""
    try:
        mode = path.stat().st_mode & 0o777
    except FileNotFoundError:
        mode = 0o666 & ~current_umask()
    return mode & 0o600 if private else mode


def current_umask() -> int:
    """Return the process's umask without changing it (Linux: from /proc)."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    with _UMASK_LOCK:  # elsewhere: set and restore it, one thread at a time
        mask = os.umask(0o077)
        os.umask(mask)
    return mask


_UMASK_LOCK = threading.Lock()

STALE_AFTER_S = 3600.0
"""A temporary file without a live owner process is removed after this long, s."""


def remove_stale_temporaries(path: Path) -> None:
    """Remove ``path``'s temporary files left by a writer that was killed.

    A temporary is named ``.NAME.PID.XXXX.tmp``: it is removed when process PID is
    gone (or, for a name without a PID, when it is older than ``STALE_AFTER_S``).
    A live writer's temporary is never touched.
    """
    prefix = f".{path.name}."
    try:
        candidates = [
            p
            for p in path.parent.iterdir()
            if p.name.startswith(prefix) and p.name.endswith(".tmp")
        ]
    except OSError:
        return
    for candidate in candidates:
        if _is_stale(candidate, candidate.name[len(prefix) :]):
            candidate.unlink(missing_ok=True)
            logger.info("removed %s, left by an interrupted write", candidate.name)


def _is_stale(candidate: Path, rest: str) -> bool:
    pid_text = rest.split(".", 1)[0]
    if pid_text.isdigit() and "." in rest:
        return not _is_running(int(pid_text))
    try:
        return time.time() - candidate.stat().st_mtime > STALE_AFTER_S
    except OSError:
        return False


def _is_running(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError):
        return True
    return True


def _is_special(path: Path) -> bool:
    """Return whether ``path`` exists and is neither a regular file nor a folder."""
    try:
        mode = path.stat().st_mode
    except OSError:
        return False
    return not (stat.S_ISREG(mode) or stat.S_ISDIR(mode))
