"""A job's overall progress over weighted stages, fed by
:func:`korean_gan.fontmaker.make_font`'s ``on_progress(stage, done, total)``."""

from __future__ import annotations

from collections.abc import Callable

__all__ = ["StageProgress"]



class StageProgress:
    """A job's overall progress from 0 to 1 over weighted, sequential stages.

    Args:
        stages: ``(name, weight)`` in order; the weights are shares of the job's time.
        update: Called as ``update(stage, progress)`` whenever either changes.
    """

    def __init__(self, stages: list[tuple[str, float]],
                 update: Callable[[str, float], None]) -> None:
        total = sum(weight for _, weight in stages)
        self._start: dict[str, float] = {}
        self._weight: dict[str, float] = {}
        done = 0.0
        for name, weight in stages:
            self._start[name] = done / total
            self._weight[name] = weight / total
            done += weight
        self._update = update
        self._best = 0.0

    def stage(self, name: str, fraction: float = 0.0) -> None:
        """Marks ``fraction`` (0 to 1) of stage ``name`` done; unknown stages are ignored."""
        if name not in self._start:
            return
        fraction = min(max(fraction, 0.0), 1.0)
        # Never backwards: a bar's total can grow while it runs.
        self._best = max(self._best, self._start[name] + self._weight[name] * fraction)
        self._update(name, round(self._best, 4))

    def bar(self, stage: str, done: int, total: int | None) -> None:
        """An ``on_progress`` callback of :func:`korean_gan.fontmaker.make_font`."""
        self.stage(stage, done / total if total else 0.0)
