"""What a job needs against what the machine has: memory and disk, estimated before any work.

A job that would need more memory than is available, or more disk than is free where it
writes, is refused up front with the figures, instead of failing hours later with an
allocation error or a full disk.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

__all__ = ["BudgetError", "available_memory", "check_disk", "check_memory", "free_disk"]

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
