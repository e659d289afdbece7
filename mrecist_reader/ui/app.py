"""Start the desktop application: ``mrecist-reader [PATH]`` and ``mrecist-reader-gui``.

This is the one place that configures global state forced on us by the libraries
(``pg.setConfigOptions``, ``sys.excepthook``, the Qt application and its theme).
"""

import argparse
import logging
import os
import sys
import time
from collections.abc import Mapping, Sequence

NO_DISPLAY_MESSAGE = (
    "mrecist-reader: no display: run under a desktop session, or `xvfb-run make run`, "
    "or set QT_QPA_PLATFORM=offscreen to test"
)

EXIT_NO_DISPLAY = 2

logger = logging.getLogger(__name__)

_PROCESS_START = time.perf_counter()


def display_problem(env: Mapping[str, str], platform: str) -> str | None:
    """Return why no window can open here, or ``None`` when a display is available.

    On Linux a window needs ``DISPLAY`` (X11) or ``WAYLAND_DISPLAY``, unless
    ``QT_QPA_PLATFORM`` chooses a platform (``offscreen``, ``xcb``...) explicitly.
    """
    if not platform.startswith("linux"):
        return None
    if env.get("QT_QPA_PLATFORM") or env.get("DISPLAY") or env.get("WAYLAND_DISPLAY"):
        return None
    return NO_DISPLAY_MESSAGE


def run_gui(path: str | None, *, db_url: str | None, protocol: str | None) -> int:
    """Open the reading workstation, optionally on a folder, zip file or DICOMDIR.

    Parameters
    ----------
    path
        What to open at start (``None``: an empty worklist).
    db_url
        SQLAlchemy URL of the reads database (``None``: the settings' default).
    protocol
        Protocol profile name or file (``None``: the settings' default).

    Returns
    -------
    int
        The exit status: 0 after a normal quit, 2 when no display is available or the
        reader cancelled the first-start questions.

    """
    problem = display_problem(os.environ, sys.platform)
    if problem is not None:
        print(problem, file=sys.stderr)  # noqa: T201 - the CLI edge
        return EXIT_NO_DISPLAY
    from mrecist_reader.ui.prefetch import start_prefetch, zip_cache_settings

    cache_dir, cache_limit_mb, cache_days = (
        zip_cache_settings() if path else (None, None, None)
    )
    # before Qt is imported: the fork stays cheap
    prefetched = start_prefetch(
        path,
        cache_dir=cache_dir,
        cache_limit_mb=cache_limit_mb,
        cache_max_age_days=cache_days,
    )
    from mrecist_reader.ui.startup import start_application

    return start_application(
        path,
        db_url=db_url,
        protocol=protocol,
        prefetched=prefetched,
        started_at=_PROCESS_START,
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``mrecist-reader-gui`` script (the CLI's bare form)."""
    from mrecist_reader.logs import configure_logging

    parser = argparse.ArgumentParser(prog="mrecist-reader-gui")
    parser.add_argument("path", nargs="?", help="folder, zip file or DICOMDIR to open")
    parser.add_argument("--db", help="SQLAlchemy URL of the reads database")
    parser.add_argument("--protocol", help="protocol profile name or file")
    parser.add_argument("-v", "--verbose", action="count", default=0)
    args = parser.parse_args(list(sys.argv[1:] if argv is None else argv))
    configure_logging(kind="gui", verbosity=args.verbose)
    return run_gui(args.path, db_url=args.db, protocol=args.protocol)
