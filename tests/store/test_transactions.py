"""Transactions on every backend: a rolled-back request leaves nothing, savepoints nest."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from pinapi.domain.access import users
from pinapi.runtime import Runtime
from pinapi.store.bulk import Column, bulk_insert
from pinapi.store.tables import OrganicPinHour, User


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


async def test_a_bulk_insert_as_the_first_statement_rolls_back(runtime: Runtime) -> None:
    """PostgreSQL's COPY runs on the raw connection: it must still be inside the transaction."""
    async with runtime.sessions() as session:
        await session.begin()
        stored = await bulk_insert(
            session,
            OrganicPinHour.__table__,
            {
                "pin_id": np.array([1, 2]),
                "hour": [datetime(2026, 10, 1, tzinfo=UTC)] * 2,
                **{c: np.array([3, 4]) for c in ("impression", "closeup", "save", "clickthrough")},
                "outbound_click": [0, 1],
            },
        )
        assert stored == 2
        await session.rollback()
    async with runtime.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(OrganicPinHour)) == 0


async def test_a_bulk_insert_conflict_is_sqlalchemys_integrity_error(runtime: Runtime) -> None:
    """On SQLite the rows go to the driver itself; its errors still come as SQLAlchemy's.
    (PostgreSQL's COPY raises asyncpg's own errors, as it always has.)"""
    row: dict[str, Column] = {
        "pin_id": np.array([1]),
        "hour": [datetime(2026, 10, 1, tzinfo=UTC)],
        **{c: np.array([3]) for c in ("impression", "closeup", "save", "clickthrough", "outbound_click")},
    }
    async with runtime.sessions() as session, session.begin():
        if session.get_bind().dialect.name != "sqlite":
            pytest.skip("COPY's errors are asyncpg's")
        await bulk_insert(session, OrganicPinHour.__table__, row)
    async with runtime.sessions() as session:
        await session.begin()
        with pytest.raises(IntegrityError):
            await bulk_insert(session, OrganicPinHour.__table__, row)
        await session.rollback()
    async with runtime.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(OrganicPinHour)) == 1
