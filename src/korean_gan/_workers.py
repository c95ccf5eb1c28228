"""Worker processes that leave Ctrl-C to their parent.

A terminal's Ctrl-C goes to every process of the foreground group. Workers that took it too
would each print a ``KeyboardInterrupt`` traceback (even while still starting up). Workers made
here are started with SIGINT ignored (a new Python keeps an ignored SIGINT ignored), so only
the parent sees it: it prints its one line, and leaving the ``with`` block terminates the pool.
(While the pool's processes are being started, a few milliseconds, the parent ignores SIGINT
too; a Ctrl-C in that moment is lost and the next one stops the command.)
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Callable, Iterator
from multiprocessing import get_context
from multiprocessing.pool import Pool

__all__ = ["worker_pool"]


@contextlib.contextmanager
def worker_pool(processes: int, initializer: Callable | None = None,
                initargs: tuple = ()) -> Iterator[Pool]:
    """A ``spawn`` process pool whose workers ignore SIGINT; terminated on leaving the block
    (also on an error or Ctrl-C), so no worker outlives the command.

    "spawn" keeps workers clean even when the caller has TensorFlow loaded (forking a process
    that holds it can hang).
    """
    context = get_context("spawn")
    if threading.current_thread() is threading.main_thread():
        previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
        try:
            pool = context.Pool(processes, initializer=initializer, initargs=initargs)
        finally:
            signal.signal(signal.SIGINT, previous)
    else:  # only the main thread may change signal handlers; its SIGINT is the parent's
        pool = context.Pool(processes, initializer=initializer, initargs=initargs)
    try:
        yield pool
    finally:
        pool.terminate()
        pool.join()
