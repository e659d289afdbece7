"""Build the running application: Qt, theme, settings, reader identity, window.

Split from :mod:`mrecist_reader.ui.app` so that the "no display" check runs before Qt
is imported.
"""

import logging
import os
import sys
import time
from concurrent.futures import Future
from dataclasses import replace
from pathlib import Path

import pyqtgraph as pg
from PySide6.QtCore import QCoreApplication, QEvent, QTimer
from PySide6.QtWidgets import QApplication

from mrecist_reader import __version__
from mrecist_reader.core.errors import MrecistError
from mrecist_reader.resources import load_profile
from mrecist_reader.settings import Settings, load_user_settings, remember_reader
from mrecist_reader.ui.dialogs import ask_reader_identity
from mrecist_reader.ui.errors import install_excepthook, report_error, show_message
from mrecist_reader.ui.icons import app_icon
from mrecist_reader.ui.main_window import MainWindow, ReaderContext
from mrecist_reader.ui.prefetch import Prefetched
from mrecist_reader.ui.theme import apply_theme

logger = logging.getLogger(__name__)

BENCHMARK_ENV = "MRECIST_READER_BENCHMARK_STARTUP"
"""When set, print the wall-clock time of the first image shown and quit (benchmark)."""

EXIT_CANCELLED = 2
EXIT_FAILED = 1


def create_application(argv: list[str] | None = None) -> QApplication:
    """Return the QApplication (created once), themed, with the global options set."""
    existing = QApplication.instance()
    app = existing if isinstance(existing, QApplication) else QApplication(argv or [])
    QCoreApplication.setOrganizationName("mrecist_reader")
    QCoreApplication.setApplicationName("mrecist_reader")
    QCoreApplication.setApplicationVersion(__version__)
    app.setDesktopFileName("mrecist-reader")  # resources/mrecist-reader.desktop
    pg.setConfigOptions(imageAxisOrder="row-major", antialias=True)
    apply_theme(app)
    app.setWindowIcon(app_icon())
    install_excepthook()
    return app


def effective_settings(
    settings: Settings, *, db_url: str | None, protocol: str | None
) -> Settings:
    """Apply the command line's ``--db`` and ``--protocol`` over the settings."""
    if db_url:
        settings = replace(settings, db_url=db_url)
    if protocol:
        settings = replace(settings, protocol_profile=protocol)
    return settings


def ensure_reader(settings: Settings) -> Settings | None:
    """Ask the reader ID and read type on first start and remember them.

    Returns ``None`` when the reader cancels.
    """
    if settings.reader_id:
        return settings
    answer = ask_reader_identity(None, read_type=settings.read_type)
    if answer is None:
        return None
    reader_id, read_type = answer
    remember_reader(reader_id, read_type)
    return replace(settings, reader_id=reader_id, read_type=read_type)


def user_data_dir() -> Path:
    """Return the user's data folder (the last audit head seen of each database)."""
    import platformdirs

    from mrecist_reader.settings import APP_NAME

    return platformdirs.user_data_path(APP_NAME, appauthor=False)


def build_window(settings: Settings) -> MainWindow:
    """Open the database and profile of the settings and return the main window."""
    if settings.db_url.startswith("sqlite:///"):
        Path(settings.db_url.removeprefix("sqlite:///")).parent.mkdir(
            parents=True, exist_ok=True
        )
    context = ReaderContext(
        reader_id=settings.reader_id,
        read_type=settings.read_type,
        profile=load_profile(settings.protocol_profile),
        db_url=settings.db_url,
        blinded_export=settings.blinded_export,
        zip_cache_dir=settings.zip_cache_path,
        zip_cache_mb=settings.zip_cache_mb,
        zip_cache_days=settings.zip_cache_days,
        data_dir=user_data_dir(),
    )
    return MainWindow(context, icon=app_icon())


def start_application(
    path: str | None,
    *,
    db_url: str | None,
    protocol: str | None,
    prefetched: "Future[Prefetched] | None" = None,
    started_at: float | None = None,
) -> int:
    """Run the application until the reader quits; return the exit status.

    ``started_at`` is ``time.perf_counter()`` at the process start (for the start-up
    log; default: now).
    """
    clock = _StartClock(time.perf_counter() if started_at is None else started_at)
    clock.log("imports done")
    app = create_application(sys.argv[:1])
    clock.log("application created")
    try:
        settings = effective_settings(
            load_user_settings(), db_url=db_url, protocol=protocol
        )
        ready = ensure_reader(settings)
        if ready is None:
            return EXIT_CANCELLED
        window = build_window(ready)
    except (MrecistError, OSError) as error:
        show_message(None, "mrecist_reader cannot start", str(error), critical=True)
        return EXIT_FAILED
    window.show()
    clock.log("window shown")
    verify_in_background(window)
    if path:
        target = Path(path)
        QTimer.singleShot(0, window, lambda: _open_at_start(window, target, prefetched))
    if os.environ.get(BENCHMARK_ENV):
        _report_first_image(window, app, clock)
    code = app.exec()
    window.shutdown()
    _destroy(window, app)
    return int(code)


def verify_in_background(window: MainWindow) -> None:
    """Verify the reads database on a worker thread (issue 21 item 1).

    Verifying recomputes every read's content hash; on the GUI thread it froze the
    window on a large database. Until it reports, reads open read-only; a database
    that fails stays read-only and the window says why
    (``ReadingDesk.integrity_failed``).
    """
    from mrecist_reader.ui.workers import run_in_thread

    desk = window.desk
    run_in_thread(
        desk.start_verification(),
        on_done=desk.finish_verification,
        on_error=desk.verification_failed,
    )


def _destroy(window: MainWindow, app: QApplication) -> None:
    """Delete the window's widgets now, while every Python part of them still exists.

    Left to Python's garbage collector, the widget tree would be destroyed in whatever
    order the collector frees its parts, and Qt could call into a part already freed.
    """
    window.deleteLater()
    app.sendPostedEvents(None, QEvent.Type.DeferredDelete)


def _open_at_start(
    window: MainWindow, target: Path, prefetched: "Future[Prefetched] | None"
) -> None:
    if not target.exists():
        report_error(window, "Open", FileNotFoundError(f"{target} does not exist"))
        return
    window.open_path(target, prefetched=prefetched)


def _report_first_image(
    window: MainWindow, app: QApplication, clock: "_StartClock"
) -> None:
    """Print ``FIRST_IMAGE <epoch seconds>`` when the first slice is painted, then quit."""
    viewer = window.baseline_view.viewer

    def shown(_index: int) -> None:
        viewer.slice_changed.disconnect(shown)
        viewer.canvas.viewport().repaint()
        clock.log("first image shown")
        print(f"FIRST_IMAGE {time.time():.6f}", flush=True)  # noqa: T201
        QTimer.singleShot(0, app.quit)

    viewer.slice_changed.connect(shown)


class _StartClock:
    """Logs how long after the process start each start-up step was reached."""

    def __init__(self, started_at: float) -> None:
        self.started_at = started_at

    def log(self, step: str) -> None:
        elapsed = time.perf_counter() - self.started_at
        logger.info("start-up: %s after %.2f s", step, elapsed)
