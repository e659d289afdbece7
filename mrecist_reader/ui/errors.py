"""Error dialogs instead of tracebacks: the UI's error boundary and excepthook.

Expected errors (:class:`~mrecist_reader.core.errors.MrecistError`) are shown as a warning
with their message; anything else is logged with its traceback and shown as a critical
dialog that points to the log file. Nothing is swallowed silently.
"""

import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from types import TracebackType

from psygnal import EmitLoopError
from PySide6.QtWidgets import QApplication, QMessageBox, QWidget

from mrecist_reader.core.errors import MrecistError
from mrecist_reader.desk.blinding import without_paths

logger = logging.getLogger(__name__)

_UNEXPECTED = (
    "Something unexpected went wrong: {error}\n\n"
    "Your work up to the last action is saved. Details are in the log file."
)


def show_message(
    parent: QWidget | None,
    title: str,
    text: str,
    *,
    critical: bool = False,
) -> None:
    """Show a modal message box (warning, or critical when ``critical``)."""
    icon = QMessageBox.Icon.Critical if critical else QMessageBox.Icon.Warning
    box = QMessageBox(icon, title, text, QMessageBox.StandardButton.Ok, parent)
    box.setObjectName("errorDialog")
    box.exec()


def report_error(
    parent: QWidget | None,
    title: str,
    error: BaseException,
    *,
    blinded: bool = False,
) -> None:
    """Show ``error`` to the reader: a warning for expected errors, else critical.

    In a blinded read (``blinded``, or ``parent``'s window reads blinded) the message
    shows no file paths: a folder is often named after the patient.
    """
    error = _original(error)
    hidden = blinded or is_blinded_window(parent)
    shown = without_paths(str(error)) if hidden else str(error)
    if isinstance(error, MrecistError):
        logger.info("%s: %s", title, error)
        show_message(parent, title, shown)
        return
    if isinstance(error, OSError):
        logger.warning("%s: %s", title, error)
        show_message(parent, title, f"Could not read or write a file: {shown}")
        return
    logger.error("%s", title, exc_info=(type(error), error, error.__traceback__))
    show_message(parent, title, _UNEXPECTED.format(error=shown), critical=True)


def _original(error: BaseException) -> BaseException:
    """Return the error a desk callback raised, not psygnal's wrapper around it.

    psygnal wraps an exception raised in a connected callback in an ``EmitLoopError``
    whose message lists the callback chain and local variables: never for a reader.
    """
    while isinstance(error, EmitLoopError) and error.__cause__ is not None:
        error = error.__cause__
    return error


def is_blinded_window(widget: QWidget | None) -> bool:
    """Return whether ``widget`` belongs to a window reading blinded (central)."""
    window = None if widget is None else widget.window()
    context = getattr(window, "context", None)
    return bool(getattr(context, "is_blinded", False))


@contextmanager
def error_boundary(parent: QWidget | None, title: str) -> Iterator[None]:
    """Catch what escapes a user action and show it in a dialog.

    Usable as a context manager (``with error_boundary(self, "Sign"):``) or a decorator.
    :class:`MrecistError` becomes a warning with its message; any other exception is
    logged with its traceback and shown as a critical dialog. The exception does not
    propagate further: the action is over, the application stays usable.
    """
    try:
        yield
    except Exception as error:  # noqa: BLE001 - the UI edge: every error is shown
        report_error(parent, title, error)


def _excepthook(
    exc_type: type[BaseException],
    exc: BaseException,
    tb: TracebackType | None,
) -> None:
    if issubclass(exc_type, KeyboardInterrupt):
        sys.__excepthook__(exc_type, exc, tb)
        return
    parent = QApplication.activeWindow()
    report_error(parent, "Error", exc.with_traceback(tb))


def install_excepthook() -> None:
    """Route exceptions escaping Qt slots to :func:`report_error` instead of stderr."""
    sys.excepthook = _excepthook
