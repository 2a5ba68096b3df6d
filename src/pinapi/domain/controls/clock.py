"""Reading and moving the shared simulation clock.

Time can run with the wall clock (optionally shifted), be frozen at an instant, or be
advanced by a duration in either mode. Time never moves backwards through these functions
unless ``set_time`` is asked to, which callers use only to start a simulation over.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from pinapi.domain.clock import SharedClock
from pinapi.domain.errors import Invalid
from pinapi.store.db import read_only
from pinapi.store.tables import ClockState

ROW_ID = 1
log = logging.getLogger("pinapi.clock")


@dataclass(frozen=True)
class ClockView:
    now: datetime
    mode: str
    offset_seconds: float
    version: int


def _wall() -> datetime:
    return datetime.fromtimestamp(time.time(), UTC)


async def _row(session: AsyncSession, *, for_update: bool = False) -> ClockState:
    row = await session.get(ClockState, ROW_ID, with_for_update=for_update)
    if row is None:
        row = ClockState(
            id=ROW_ID, mode="wall", offset_seconds=0.0, frozen_at=None, version=0, updated_at=_wall()
        )
        session.add(row)
        await session.flush()
    return row


async def refresh(session: AsyncSession, clock: SharedClock) -> ClockView:
    """Load the shared state into this process's clock."""
    row = await session.get(ClockState, ROW_ID)
    if row is None:
        clock.apply(mode="wall", offset_seconds=0.0, frozen_at=None, version=0)
    elif row.version != clock.version:
        clock.apply(
            mode=row.mode, offset_seconds=row.offset_seconds, frozen_at=row.frozen_at, version=row.version
        )
    return ClockView(clock.now(), clock.mode, clock.offset_seconds, clock.version)


async def change(
    session: AsyncSession,
    clock: SharedClock,
    *,
    mode: str | None = None,
    advance_seconds: float | None = None,
    set_time: datetime | None = None,
) -> ClockView:
    """Freeze, resume, advance or set the shared clock, and apply it to this process at once."""
    if mode is not None and mode not in ("wall", "frozen"):
        raise Invalid("mode", "must be wall or frozen")
    if advance_seconds is not None and advance_seconds < 0:
        raise Invalid("advance_seconds", "must not be negative")
    if set_time is not None and set_time.tzinfo is None:
        raise Invalid("time", "must carry a time zone")
    row = await _row(session, for_update=True)
    current = (
        row.frozen_at
        if row.mode == "frozen" and row.frozen_at
        else _wall() + timedelta(seconds=row.offset_seconds)
    )
    target = set_time or current
    if advance_seconds:
        target = target + timedelta(seconds=advance_seconds)
    new_mode = mode or row.mode
    if new_mode == "frozen":
        row.frozen_at = target
        row.offset_seconds = (target - _wall()).total_seconds()
    else:
        row.frozen_at = None
        row.offset_seconds = (target - _wall()).total_seconds()
    row.mode = new_mode
    row.version += 1
    row.updated_at = _wall()
    await session.flush()
    clock.apply(
        mode=row.mode, offset_seconds=row.offset_seconds, frozen_at=row.frozen_at, version=row.version
    )
    return ClockView(clock.now(), clock.mode, clock.offset_seconds, clock.version)


async def follow(
    sessions: async_sessionmaker[AsyncSession], clock: SharedClock, stop: asyncio.Event, every: float
) -> None:
    """Keep this process's clock in step with the shared row until ``stop`` is set."""
    while not stop.is_set():
        try:
            async with sessions() as session:
                await read_only(session)
                await refresh(session, clock)
        except Exception:  # a transient database error must not stop the clock
            log.warning("clock refresh failed", exc_info=True)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=every)
