"""Background work (scanning, loading, measuring) off the GUI thread.

A thin layer over :func:`superqt.utils.create_worker` (a ``QRunnable`` on the global
``QThreadPool`` with ``started``/``returned``/``errored``/``finished`` signals delivered on
the GUI thread). Workers return values; they never touch the session.
"""

import logging
from collections.abc import Callable
from typing import Any

from superqt.utils import FunctionWorker, create_worker

logger = logging.getLogger(__name__)


def run_in_thread(
    fn: Callable[..., Any],
    *args: Any,
    on_done: Callable[[Any], None],
    on_error: Callable[[BaseException], None],
    on_finished: Callable[[], None] | None = None,
) -> FunctionWorker[Any]:
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
    connections: dict[str, Callable[..., Any]] = {
        "returned": on_done,
        "errored": on_error,  # also stops superqt re-raising the error on the GUI thread
    }
    if on_finished is not None:
        connections["finished"] = lambda *_: on_finished()
    logger.debug("starting background work %s", getattr(fn, "__name__", fn))
    worker: FunctionWorker[Any] = create_worker(
        fn, *args, _start_thread=True, _connect=connections
    )
    return worker
