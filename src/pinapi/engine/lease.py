"""One simulation at a time: a lease on the engine, held while a range is simulated.

Why: the live engine (a jobs worker's ticks) and ``pinapi simulate`` (or two of them) each
restore a checkpoint, write chunks of facts from their own state and checkpoint again;
interleaved, they would leave facts and checkpoints that no single run would give. Each
takes the lease before simulating and renews it chunk by chunk; a second one finds it held
and stops (``simulate``) or waits (a live tick).

The lease is one row taken with a single conditional UPDATE, atomic on SQLite and
PostgreSQL alike; it expires after ``TTL_SECONDS`` of wall time (not the simulation clock,
which may stand still), so a crashed holder does not block the engine for good.
"""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Callable

from sqlalchemy import select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from pinapi.domain.errors import Conflict
from pinapi.store.tables import EngineLease

NAME = "engine"
TTL_SECONDS = 600
BUSY_CODE = 2901
"""The response code of ``EngineBusy`` (v3 lists none for this; the 29xx range is free)."""


class EngineBusy(Conflict):
    """Another simulation holds the engine."""

    def __init__(self, holder: str, seconds_left: int) -> None:
        super().__init__(
            f"the delivery engine is busy: {holder} is simulating (its lease ends within {seconds_left} s)",
            code=BUSY_CODE,
        )


def holder_name(kind: str) -> str:
    """A holder name unique to this process and run, readable in the busy message."""
    return f"{kind} (pid {os.getpid()}, {uuid.uuid4().hex[:8]})"


async def _ensure_row(session: AsyncSession) -> None:
    dialect = (await session.connection()).dialect.name
    values = {"name": NAME, "holder": "", "expires_at": 0}
    if dialect == "postgresql":
        await session.execute(postgresql.insert(EngineLease).values(values).on_conflict_do_nothing())
    else:
        await session.execute(sqlite.insert(EngineLease).values(values).on_conflict_do_nothing())


async def take(session: AsyncSession, holder: str, *, now: Callable[[], float] = time.time) -> None:
    """Take or renew the lease for ``holder`` in the caller's transaction; raises
    ``EngineBusy`` while someone else holds an unexpired one."""
    t = int(now())
    claim = (
        update(EngineLease)
        .where(
            EngineLease.name == NAME,
            (EngineLease.holder == holder) | (EngineLease.holder == "") | (EngineLease.expires_at <= t),
        )
        .values(holder=holder, expires_at=t + TTL_SECONDS)
    )
    if getattr(await session.execute(claim), "rowcount", 0) == 1:
        return
    row = (await session.execute(select(EngineLease.holder, EngineLease.expires_at))).one_or_none()
    if row is None:  # the first take ever: create the row, then claim it like any other
        await _ensure_row(session)
        if getattr(await session.execute(claim), "rowcount", 0) == 1:
            return
        row = (await session.execute(select(EngineLease.holder, EngineLease.expires_at))).one()
    raise EngineBusy(row.holder, max(0, int(row.expires_at) - t))


async def give_back(session: AsyncSession, holder: str) -> None:
    """Free the lease if ``holder`` still has it, in the caller's transaction."""
    await session.execute(
        update(EngineLease)
        .where(EngineLease.name == NAME, EngineLease.holder == holder)
        .values(holder="", expires_at=0)
    )


async def hold(sessions: Callable[[], AsyncSession], holder: str) -> None:
    """``take`` in a transaction of its own."""
    async with sessions() as session, session.begin():
        await take(session, holder)


async def release(sessions: Callable[[], AsyncSession], holder: str) -> None:
    """``give_back`` in a transaction of its own."""
    async with sessions() as session, session.begin():
        await give_back(session, holder)
