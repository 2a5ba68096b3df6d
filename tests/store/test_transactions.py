"""Transactions on every backend: a rolled-back request leaves nothing, savepoints nest."""

from __future__ import annotations

from sqlalchemy import func, select

from pinapi.domain.access import users
from pinapi.runtime import Runtime
from pinapi.store.tables import User


async def test_savepoint_release_does_not_commit_the_outer_transaction(runtime: Runtime) -> None:
    async with runtime.sessions() as session:
        await session.begin()
        async with session.begin_nested():
            await users.create_user(session, clock=runtime.clock, username="inner", password="long-enough")
        await session.rollback()
    async with runtime.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(User)) == 0


async def test_rolled_back_savepoint_keeps_the_outer_work(runtime: Runtime) -> None:
    async with runtime.sessions() as session, session.begin():
        await users.create_user(session, clock=runtime.clock, username="outer", password="long-enough")
        nested = await session.begin_nested()
        await users.create_user(session, clock=runtime.clock, username="dropped", password="long-enough")
        await nested.rollback()
    async with runtime.sessions() as session:
        names = list(await session.scalars(select(User.username)))
    assert names == ["outer"]
