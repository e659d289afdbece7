"""Shared test set-up: Qt offscreen, sample paths, real-file skips."""

import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

REPO_ROOT = Path(__file__).resolve().parent.parent
SAMPLE_DICOM = REPO_ROOT / "sample_dicom"
SHARED_SAMPLES = REPO_ROOT.parent / "shared" / "dicom_samples"


@pytest.fixture(scope="session")
def repo_root() -> Path:
    """Return the checkout's root folder."""
    return REPO_ROOT


@pytest.fixture(scope="session")
def shared_samples() -> Path:
    """Return the real public DICOM files of ../shared/dicom_samples (skip when absent)."""
    if not SHARED_SAMPLES.is_dir():
        pytest.skip(
            "../shared/dicom_samples is absent (a user's clone): real-file tests skipped"
        )
    return SHARED_SAMPLES


@pytest.fixture(autouse=True)
def _isolated_user_dirs(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Keep every test away from the real user's data, config and log folders."""
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("XDG_DATA_HOME", str(home / "data"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / "config"))
    monkeypatch.setenv("XDG_STATE_HOME", str(home / "state"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(home / "cache"))


@pytest.fixture(autouse=True)
def _no_window_outlives_its_test() -> Iterator[None]:
    """Delete every window a test leaves behind, once its background work is done.

    A closed window is only hidden: it would go on receiving the application's style,
    palette and font changes in later tests while half of its objects are gone, and
    the interpreter would tear it down at exit in no particular order.
    """
    yield
    if "PySide6.QtWidgets" not in sys.modules:
        return
    from PySide6.QtCore import QEvent, QThreadPool
    from PySide6.QtWidgets import QApplication

    application = QApplication.instance()
    if not isinstance(application, QApplication):
        return
    QThreadPool.globalInstance().waitForDone(30_000)
    application.processEvents()
    for widget in application.topLevelWidgets():
        # Only the application's own windows: pyqtgraph's parentless context menus and
        # control panels go with the plot that owns them (deleting them first crashes it).
        if type(widget).__module__.startswith("mrecist_reader."):
            widget.close()
            widget.deleteLater()
    application.sendPostedEvents(None, QEvent.Type.DeferredDelete)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Let Qt's background work end before the interpreter tears Qt down.

    A loading or measuring worker still running on Qt's global thread pool when the
    interpreter exits can deliver its signal to a destroyed object and crash the process
    after every test has passed; wait for the pool and deliver what is pending first.
    """
    del session, exitstatus
    if "PySide6.QtCore" not in sys.modules:
        return
    from PySide6.QtCore import QCoreApplication, QEvent, QThreadPool

    QThreadPool.globalInstance().waitForDone(30_000)
    application = QCoreApplication.instance()
    if application is not None:
        application.processEvents()
        # the deleteLater() of closed windows (not sent by processEvents)
        application.sendPostedEvents(None, QEvent.Type.DeferredDelete)
