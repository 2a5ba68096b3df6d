"""The demo dataset loaded by ``pinapi serve`` on an empty database.

Each resource area adds a module with ``async def load(runtime, session)`` and a line in
``AREAS``; they run in order inside one transaction. Loading is idempotent: it does nothing
when the demo user already exists, so restarting a server keeps its state.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from pinapi.demo import access, ads, organic, promotions
from pinapi.runtime import Runtime
from pinapi.store.tables import User

Loader = Callable[[Runtime, AsyncSession], Awaitable[None]]
AREAS: list[Loader] = [access.load, organic.load]
AREAS += [ads.load]
AREAS += [promotions.load]


async def load_demo_dataset(runtime: Runtime) -> bool:
    """Load every area's demo data; returns False when the dataset is already there."""
    async with runtime.sessions() as session, session.begin():
        if await session.scalar(select(User.id).where(User.username == "demo")) is not None:
            return False
        for load in AREAS:
            await load(runtime, session)
    return True
