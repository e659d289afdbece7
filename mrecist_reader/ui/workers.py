"""Background work (scanning, loading, measuring) off the GUI thread.

A thin layer over :class:`superqt.utils.FunctionWorker` (a ``QRunnable`` on the global
``QThreadPool`` with ``started``/``returned``/``errored``/``finished`` signals delivered on
the GUI thread). Workers return values; they never touch the session.
"""

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QTimer

if TYPE_CHECKING:  # superqt is imported with the first background work (start-up)
    from concurrent.futures import Future

    from superqt.utils import FunctionWorker

logger = logging.getLogger(__name__)


def run_in_thread(
    fn: Callable[..., Any],
    *args: Any,
    on_done: Callable[[Any], None],
    on_error: Callable[[BaseException], None],
    on_finished: Callable[[], None] | None = None,
) -> "FunctionWorker[Any]":
    """Run ``fn(*args)`` on the thread pool; report the result on the GUI thread.

    Parameters
    ----------
    fn, args
        The work and its positional arguments.
    on_done
        Called with the return value (GUI thread).
    on_error
        Called with the exception when ``fn`` raises (GUI thread).
    on_finished
        Called after either of the above.

    Returns
    -------
    FunctionWorker
        The started worker (``worker.quit()`` asks it to stop; loaders have their own
        ``cancel``).

    """
    from superqt.utils import FunctionWorker

    # FunctionWorker directly: superqt's create_worker would also re-raise errors on
    # the GUI thread (its default for workers without an "errored" connection).
    worker: FunctionWorker[Any] = FunctionWorker(fn, *args)
    worker.returned.connect(on_done)
    worker.errored.connect(on_error)
    if on_finished is not None:
        worker.finished.connect(lambda *_: on_finished())
    logger.debug("starting background work %s", getattr(fn, "__name__", fn))
    worker.start()
    return worker


def when_done(
    future: "Future[Any]",
    *,
    on_done: Callable[[Any], None],
    on_error: Callable[[BaseException], None],
    on_finished: Callable[[], None] | None = None,
    interval_ms: int = 10,
) -> QTimer:
    """Report a :class:`concurrent.futures.Future`'s outcome on the GUI thread.

    Polls the future with a timer (no thread needed: the work already runs elsewhere,
    e.g. in the start-up prefetch process). Returns the running timer.
    """
    timer = QTimer()
    timer.setInterval(interval_ms)

    def check() -> None:
        if not future.done():
            return
        timer.stop()
        error = future.exception()
        if error is None:
            on_done(future.result())
        else:
            on_error(error)
        if on_finished is not None:
            on_finished()

    timer.timeout.connect(check)
    timer.start()
    return timer
