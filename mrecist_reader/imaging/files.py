"""Open only regular files: never a device, a FIFO or a socket.

A study folder (or a path typed by hand) may hold things that are not files: a symlink
``x.zip -> /dev/zero`` reads without end, a FIFO named ``DICOMDIR`` or ``*.zip`` blocks
the first ``open`` until some other process writes to it (forever, usually). Every file
the imaging layer reads is opened here: ``O_NONBLOCK`` so that opening a FIFO returns at
once, then ``fstat`` on the open descriptor (no race with a rename) and anything but a
regular file is refused with :data:`NOT_REGULAR_REASON`. ``O_NONBLOCK`` changes nothing
for reading a regular file.
"""

import os
import stat
from pathlib import Path
from typing import BinaryIO

__all__ = ["NOT_REGULAR_REASON", "NotARegularFile", "is_regular_file", "open_regular"]

NOT_REGULAR_REASON = "not a regular file (a device, FIFO or socket): not read"
"""Why a path that is not a regular file is skipped."""

_FLAGS = (
    os.O_RDONLY
    | getattr(os, "O_NONBLOCK", 0)
    | getattr(os, "O_NOCTTY", 0)
    | getattr(os, "O_BINARY", 0)
)


class NotARegularFile(OSError):
    """A path names a device, a FIFO, a socket or a folder, not a regular file."""

    def __str__(self) -> str:
        """Return the reason alone (the callers name the file)."""
        return str(self.strerror)


def _kind(mode: int) -> str:
    if stat.S_ISFIFO(mode):
        return "a FIFO (named pipe)"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISDIR(mode):
        return "a folder"
    return "not a regular file"


def open_regular_fd(path: Path | str) -> tuple[int, os.stat_result]:
    """Open ``path`` for reading and return ``(descriptor, its fstat)``.

    Raises
    ------
    NotARegularFile
        When ``path`` is not a regular file (the descriptor is closed).
    OSError
        When ``path`` cannot be opened.

    """
    if os.name == "nt":  # no O_NONBLOCK: stat first (a FIFO cannot be made there)
        _refuse_unless_regular(path, os.stat(path).st_mode)
    fd = os.open(path, _FLAGS)
    try:
        status = os.fstat(fd)
        _refuse_unless_regular(path, status.st_mode)
    except BaseException:
        os.close(fd)
        raise
    return fd, status


def _refuse_unless_regular(path: Path | str, mode: int) -> None:
    if not stat.S_ISREG(mode):
        raise NotARegularFile(
            0, f"{NOT_REGULAR_REASON} ({_kind(mode)})", os.fspath(path)
        )


def open_regular(path: Path | str, *, buffering: int = -1) -> BinaryIO:
    """Open a regular file for reading in binary mode (see the module docstring).

    Parameters
    ----------
    path
        The file.
    buffering
        As for :func:`open` (0: unbuffered).

    Returns
    -------
    BinaryIO
        The open file; the caller closes it.

    Raises
    ------
    NotARegularFile
        When ``path`` is a device, a FIFO, a socket or a folder.
    OSError
        When ``path`` cannot be opened.

    """
    fd, _status = open_regular_fd(path)
    stream: BinaryIO = os.fdopen(fd, "rb", buffering=buffering)
    return stream


def is_regular_file(path: Path | str) -> bool:
    """Return whether ``path`` is a regular file (following links); never opens it."""
    try:
        return stat.S_ISREG(os.stat(path).st_mode)
    except (OSError, ValueError):
        return False
