"""Migrations: up to every head, down to base and up again, and the models match the result."""

from __future__ import annotations

import asyncio
import re
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect
from sqlalchemy.engine import Connection

from pinapi.store import migrate
from pinapi.store.db import SQLITE_PAGE_BYTES, make_engine
from pinapi.store.tables import Base
from tests.conftest import PG_URL, need

# Full-text search objects that migration 0003 creates per dialect and the models leave out on
# purpose (see ``store/tables/search.py``): SQLite FTS5 tables with their shadow tables, and the
# generated ``search_tsv`` column with its GIN index on PostgreSQL.
_SEARCH_ONLY = re.compile(r"^(\w+_fts(_\w+)?|search_tsv|ix_\w+_search_tsv)$")


def _include(obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any) -> bool:
    return not (reflected and compare_to is None and name is not None and _SEARCH_ONLY.match(name))


def _diff(conn: Connection) -> list[Any]:
    ctx = MigrationContext.configure(
        conn, opts={"compare_type": True, "compare_server_default": False, "include_object": _include}
    )
    return list(compare_metadata(ctx, Base.metadata))


def _tables(conn: Connection) -> set[str]:
    return {t for t in inspect(conn).get_table_names() if not _SEARCH_ONLY.match(t)}


async def _state(url: str) -> tuple[set[str], list[Any]]:
    engine = make_engine(url)
    try:
        async with engine.connect() as conn:
            return await conn.run_sync(_tables), await conn.run_sync(_diff)
    finally:
        await engine.dispose()


async def _round_trip(url: str) -> None:
    model_tables = set(Base.metadata.tables)
    await migrate.upgrade_async(url)
    tables, diff = await _state(url)
    assert diff == []
    assert tables == model_tables | {"alembic_version"}

    await asyncio.to_thread(migrate.downgrade, url, "base")
    tables, _ = await _state(url)
    assert tables == {"alembic_version"}

    await migrate.upgrade_async(url)
    tables, diff = await _state(url)
    assert diff == []
    assert tables == model_tables | {"alembic_version"}


async def test_sqlite_round_trip(tmp_path: Path) -> None:
    await _round_trip(f"sqlite+aiosqlite:///{tmp_path / 'm.db'}")


@pytest.mark.postgres
async def test_postgresql_round_trip() -> None:
    need("PINAPI_TEST_DATABASE_URL", PG_URL)
    await _round_trip(PG_URL)


async def test_a_new_sqlite_database_gets_large_pages_in_wal_mode(tmp_path: Path) -> None:
    """The page size is chosen when the file is created; an existing file keeps its own."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'new.db'}"
    await migrate.upgrade_async(url)
    engine = make_engine(url)
    try:
        async with engine.connect() as conn:
            assert (await conn.exec_driver_sql("PRAGMA page_size")).scalar() == SQLITE_PAGE_BYTES
            assert (await conn.exec_driver_sql("PRAGMA journal_mode")).scalar() == "wal"
    finally:
        await engine.dispose()
    old = tmp_path / "old.db"
    with sqlite3.connect(old) as made:  # an older database with SQLite's default pages
        made.execute("CREATE TABLE t (x INTEGER)")
    engine = make_engine(f"sqlite+aiosqlite:///{old}")
    try:
        async with engine.connect() as conn:
            assert (await conn.exec_driver_sql("PRAGMA page_size")).scalar() == 4096
    finally:
        await engine.dispose()
