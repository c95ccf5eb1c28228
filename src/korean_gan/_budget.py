"""What a job needs against what the machine has: memory, disk and time.

A job that would need more memory than is available, or more disk than is free where it
writes, is refused up front with the figures, instead of failing hours later with an
allocation error or a full disk. How long a job takes depends on the machine, so its time is
measured instead: :class:`TimeLimit` watches the pace of its first seconds and stops a job
that would run longer than allowed (nothing is written by then).
"""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

__all__ = ["BudgetError", "TimeLimit", "available_memory", "check_disk", "check_memory",
           "free_disk"]

#: Seconds of work over which :class:`TimeLimit` measures a job's pace.
MEASURE_SECONDS = 20.0
# Leave room for everything else the process and the machine hold.
_MEMORY_SHARE = 0.8
_DISK_SHARE = 0.95


class BudgetError(ValueError):
    """A job larger than this machine's free memory or disk, with the figures."""


def _gb(nbytes: float) -> str:
    return f"{nbytes / 2**30:,.1f} GB" if nbytes >= 2**30 else f"{nbytes / 2**20:,.0f} MB"


def available_memory() -> int | None:
    """Bytes of memory available for new work (Linux ``MemAvailable``), or None if unknown."""
    try:
        with open("/proc/meminfo", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return None


def free_disk(path: str | os.PathLike) -> int | None:
    """Free bytes on the disk that holds ``path`` (or its nearest existing parent)."""
    path = Path(path).absolute()
    for folder in (path, *path.parents):
        if folder.exists():
            try:
                return shutil.disk_usage(folder).free
            except OSError:
                return None
    return None


def check_memory(what: str, nbytes: int, hint: str) -> None:
    """Raises BudgetError if ``nbytes`` is more than this machine can hold now.

    Args:
        what: The job, e.g. ``"synth of 2,350,000 glyphs at 32 px"``.
        nbytes: The memory it needs.
        hint: What to do instead.
    """
    available = available_memory()
    if available is not None and nbytes > _MEMORY_SHARE * available:
        raise BudgetError(f"{what} needs about {_gb(nbytes)} of memory; this machine has "
                          f"{_gb(available)} available: {hint}")


def check_disk(what: str, nbytes: int, path: str | os.PathLike, hint: str) -> None:
    """Raises BudgetError if ``nbytes`` is more than the disk at ``path`` has free."""
    free = free_disk(path)
    if free is not None and nbytes > _DISK_SHARE * free:
        raise BudgetError(f"{what} needs about {_gb(nbytes)} of disk at {path}; "
                          f"{_gb(free)} is free there: {hint}")


def _duration(seconds: float) -> str:
    if seconds >= 86_400:
        return f"{seconds / 86_400:,.1f} days"
    return f"{seconds / 3600:,.1f} h" if seconds >= 3600 else f"{seconds / 60:,.0f} min"


class TimeLimit:
    """Stops a job whose pace says it would take longer than ``hours``.

    The pace is measured from the first unit of work on (start-up and the first batch, which
    builds the model's kernels, do not count) over ``measure_seconds``; then the job's total
    time is estimated once, and :meth:`check` raises BudgetError if it is over the limit.

    Args:
        what: The job, e.g. ``"10,000,000 lines at height 64"``.
        hours: The longest the job may run.
        hint: What to do instead (e.g. ``"pass --yes to run it anyway"``).
        measure_seconds: How long to watch the pace before estimating (default
            :data:`MEASURE_SECONDS`).
        clock: Returns seconds (for tests).
    """

    def __init__(self, what: str, hours: float, hint: str, measure_seconds: float | None = None,
                 clock=time.monotonic) -> None:
        self.what, self.seconds, self.hint = what, hours * 3600, hint
        self.measure_seconds = MEASURE_SECONDS if measure_seconds is None else measure_seconds
        self.clock = clock
        self._first: tuple[float, int] | None = None
        self.estimate: float | None = None  # seconds, once measured

    def check(self, done: int, total: int) -> None:
        """Called as work advances: ``done`` of ``total`` units are finished."""
        if self.estimate is not None or done <= 0:
            return
        now = self.clock()
        if self._first is None:
            self._first = (now, done)
            return
        since, done_then = self._first
        if now - since < self.measure_seconds or done <= done_then:
            return
        pace = (now - since) / (done - done_then)
        self.estimate = now - since + pace * (total - done)
        if self.estimate > self.seconds:
            raise BudgetError(f"{self.what} would take about {_duration(self.estimate)} on this "
                              f"machine (measured over its first {now - since:.0f} s), more "
                              f"than {_duration(self.seconds)}: {self.hint}")
