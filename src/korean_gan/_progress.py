"""Progress of long work, shown as a tqdm bar and reported to a caller's callback.

Library functions that take ``on_progress`` call it as ``on_progress(stage, done, total)``
when a stage starts and as it advances; the web app turns that into a job's progress bar.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from korean_gan._budget import TimeLimit

__all__ = ["ProgressCallback", "StageBar"]

#: ``on_progress(stage, done, total)``.
ProgressCallback = Callable[[str, int, int], None]


class StageBar:
    """One stage's progress: a tqdm bar (when shown) and the caller's ``on_progress``.

    Args:
        stage: The stage's name (the bar's label).
        total: Units of work in the stage.
        show: Draw the tqdm bar.
        on_progress: Called as ``on_progress(stage, done, total)``, or None.
        unit: What is counted (the bar's unit).
        limit: A :class:`korean_gan._budget.TimeLimit` that stops the stage if its pace says
            it would run too long, or None.
    """

    def __init__(self, stage: str, total: int, show: bool,
                 on_progress: ProgressCallback | None = None, unit: str = "glyph",
                 limit: TimeLimit | None = None) -> None:
        from tqdm.auto import tqdm

        self.stage, self.done, self._total = stage, 0, total
        self.on_progress, self.limit = on_progress, limit
        self.bar = tqdm(total=total, unit=unit, desc=stage, disable=not show)
        self._report()

    @property
    def total(self) -> int:
        """Units of work in the stage (may be corrected while it runs)."""
        return self._total

    @total.setter
    def total(self, value: int) -> None:
        self._total = value
        self.bar.total = value
        self.bar.refresh()
        self._report()

    def _report(self) -> None:
        if self.on_progress is not None:
            self.on_progress(self.stage, self.done, self._total)

    def update(self, n: int = 1) -> None:
        """Advances by ``n`` units."""
        self.done += n
        self.bar.update(n)
        self._report()
        if self.limit is not None:
            self.limit.check(self.done, self._total)

    def __enter__(self) -> StageBar:
        return self

    def __exit__(self, *exc) -> None:
        self.bar.close()
