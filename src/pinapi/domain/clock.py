"""The one source of "now" for every rule that depends on time.

Nothing else calls ``datetime.now()``: schedules, token expiry, job back-off and report
readiness all read the clock they are given, so tests (and later the simulation) can move
time without touching the code that reads it.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime: ...


class SystemClock:
    """Wall time in UTC."""

    def now(self) -> datetime:
        return datetime.fromtimestamp(time.time(), UTC)


class FixedClock:
    """A clock that moves only when told to (tests)."""

    def __init__(self, at: datetime) -> None:
        self._at = at

    def now(self) -> datetime:
        return self._at

    def advance(self, delta: timedelta) -> None:
        self._at = self._at + delta

    def set(self, at: datetime) -> None:
        self._at = at


class SharedClock:
    """The simulation clock every process shares (its state lives in the ``sim_clock`` row).

    ``now()`` is pure arithmetic on the last state this process loaded: wall time plus an
    offset, or a frozen instant. ``domain/controls/clock.py`` loads and changes the state;
    the API process refreshes it in the background so a change made by another process (the
    CLI, another API worker) is seen within a second.
    """

    def __init__(self) -> None:
        self.mode = "wall"
        self.offset_seconds = 0.0
        self.frozen_at: datetime | None = None
        self.version = -1

    def now(self) -> datetime:
        if self.mode == "frozen" and self.frozen_at is not None:
            return self.frozen_at
        return datetime.fromtimestamp(time.time() + self.offset_seconds, UTC)

    def apply(self, *, mode: str, offset_seconds: float, frozen_at: datetime | None, version: int) -> None:
        self.mode = mode
        self.offset_seconds = offset_seconds
        self.frozen_at = frozen_at
        self.version = version
