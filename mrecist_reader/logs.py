"""Logging set-up: the only place that adds handlers (called by the CLI and the GUI).

Never log patient names, IDs, birth dates, institutions or scan dates: log UIDs and
``subject_id`` only.
"""

import logging
import logging.handlers
from pathlib import Path
from typing import Literal

import platformdirs

APP_NAME = "mrecist_reader"
_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def default_log_dir() -> Path:
    """Return the per-user log folder (created on first use)."""
    return Path(platformdirs.user_log_path(APP_NAME, appauthor=False))


def configure_logging(
    kind: Literal["cli", "gui"],
    verbosity: int = 0,
    log_dir: Path | None = None,
) -> None:
    """Send the package's log records to stderr (CLI) or a rotating file (GUI).

    Parameters
    ----------
    kind
        ``"cli"``: stderr, WARNING by default, ``verbosity`` 1 INFO, 2 DEBUG.
        ``"gui"``: a rotating file ``mrecist_reader.log`` in ``log_dir`` (default: the
        user's log folder), INFO by default.
    verbosity
        Count of ``-v`` flags.
    log_dir
        Folder of the GUI's log file.

    """
    package_logger = logging.getLogger("mrecist_reader")
    for handler in list(package_logger.handlers):
        if not isinstance(handler, logging.NullHandler):
            package_logger.removeHandler(handler)
            handler.close()  # a log file left open leaks its descriptor
    base_level = logging.WARNING if kind == "cli" else logging.INFO
    level = max(logging.DEBUG, base_level - 10 * verbosity)
    package_logger.setLevel(level)
    package_logger.addHandler(_make_handler(kind, log_dir))


def _make_handler(kind: Literal["cli", "gui"], log_dir: Path | None) -> logging.Handler:
    if kind == "cli":
        handler: logging.Handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(levelname)s: %(message)s"))
        return handler
    folder = log_dir or default_log_dir()
    try:
        folder.mkdir(parents=True, exist_ok=True)
        handler = logging.handlers.RotatingFileHandler(
            folder / "mrecist_reader.log",
            maxBytes=2_000_000,
            backupCount=5,
            encoding="utf-8",
        )
    except OSError:
        handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter(_FORMAT))
    return handler
