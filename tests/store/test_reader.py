"""The hot-path reader (``store.db.Reader``) and the profile read built on it.

Every test runs on SQLite (inline path, no thread hop) and PostgreSQL (pooled connection).
"""

from __future__ import annotations

import contextlib
import sqlite3
from pathlib import Path

import pytest
from sqlalchemy import bindparam, select, update
from sqlalchemy.ext.asyncio import create_async_engine

from pinapi.domain.access.principal import Principal
from pinapi.domain.errors import Invalid, NotFound
from pinapi.domain.organic.users import read_profile
from pinapi.runtime import Runtime
from pinapi.store.db import Reader
from pinapi.store.tables import User
from tests.factories import Factory

BY_ID = select(User.username, User.pin_count, User.created_at).where(User.id == bindparam("id"))


def principal(user_id: int | None) -> Principal:
    return Principal(user_id=user_id, app_id=1, scopes=frozenset({"read_users"}))


async def test_first_reads_committed_rows_and_sees_later_commits(runtime: Runtime, factory: Factory) -> None:
    user = await factory.user("reader1")
    row = await runtime.reader.first(BY_ID, {"id": user.id})
    assert row is not None
    assert row[:2] == ("reader1", 0)
    assert row[2] == user.created_at and row[2].tzinfo is not None
    async with runtime.sessions() as s, s.begin():
        await s.execute(update(User).where(User.id == user.id).values(pin_count=User.pin_count + 3))
    # Nothing is cached: the very next read sees the commit.
    row = await runtime.reader.first(BY_ID, {"id": user.id})
    assert row is not None and row[1] == 3
    assert await runtime.reader.first(BY_ID, {"id": user.id + 1}) is None


async def test_reads_take_the_fast_path_of_their_backend(runtime: Runtime, factory: Factory) -> None:
    user = await factory.user("inline1")
    assert await runtime.reader.first(BY_ID, {"id": user.id}) is not None
    if runtime.settings.database_url.startswith("sqlite"):
        assert runtime.reader._conn is not None  # the loop-thread sqlite3 connection
    else:
        assert runtime.reader._pool is not None  # the asyncpg pool, no SQLAlchemy execution


async def test_statements_the_inline_path_cannot_take_still_work(runtime: Runtime, factory: Factory) -> None:
    a, b = await factory.user("inlist1"), await factory.user("inlist2")
    expanding = (
        select(User.username).where(User.id.in_(bindparam("ids", expanding=True))).order_by(User.username)
    )
    assert await runtime.reader.first(expanding, {"ids": [a.id, b.id]}) == ("inlist1",)
    rebuilt = select(User.username).where(User.id == b.id)  # literal value, built per call
    assert await runtime.reader.first(rebuilt) == ("inlist2",)


async def test_sqlite_reader_follows_a_replaced_database_file(runtime: Runtime, factory: Factory) -> None:
    if not runtime.settings.database_url.startswith("sqlite"):
        pytest.skip("file replacement is SQLite's")
    user = await factory.user("before")
    assert (await runtime.reader.first(BY_ID, {"id": user.id}) or ())[:1] == ("before",)
    await runtime.engine.dispose()
    path = Path(runtime.engine.url.database or "")
    copy = path.with_name("copy.db")
    # A consistent copy that differs from the original, swapped in as a restore would do.
    with contextlib.closing(sqlite3.connect(path)) as src, contextlib.closing(sqlite3.connect(copy)) as dst:
        src.backup(dst)
        dst.execute("UPDATE users SET username = 'after' WHERE id = ?", (user.id,))
        dst.commit()
        src.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    copy.replace(path)
    assert (await runtime.reader.first(BY_ID, {"id": user.id}) or ())[:1] == ("after",)


async def test_read_profile_by_me_id_and_name(runtime: Runtime, factory: Factory) -> None:
    me = await factory.user("ProfileOwner", business=True, full_name="Pat Owner")
    for ref in ("me", str(me.id), "profileowner", "PROFILEOWNER"):
        profile = await read_profile(runtime.reader, principal=principal(me.id), ref=ref)
        assert (profile.id, profile.username, profile.full_name) == (me.id, "ProfileOwner", "Pat Owner")
        assert profile.is_business is True and profile.created_at == me.created_at


async def test_read_profile_digits_fall_back_to_a_username(runtime: Runtime, factory: Factory) -> None:
    me = await factory.user()
    numeric = await factory.user("12345")
    profile = await read_profile(runtime.reader, principal=principal(me.id), ref="12345")
    assert profile.id == numeric.id


@pytest.mark.parametrize("ref", ["nosuchuser", "99", "9" * 30])
async def test_read_profile_unknown_is_not_found_code_30(
    runtime: Runtime, factory: Factory, ref: str
) -> None:
    me = await factory.user()
    with pytest.raises(NotFound) as caught:
        await read_profile(runtime.reader, principal=principal(me.id), ref=ref)
    assert caught.value.code == 30


async def test_read_profile_me_needs_a_user(runtime: Runtime) -> None:
    with pytest.raises(Invalid) as caught:
        await read_profile(runtime.reader, principal=principal(None), ref="me")
    assert caught.value.field == "user"


async def test_postgresql_url_asyncpg_cannot_take_falls_back(runtime: Runtime, factory: Factory) -> None:
    if runtime.settings.database_url.startswith("sqlite"):
        pytest.skip("the asyncpg pool is PostgreSQL's")
    user = await factory.user("fallback1")
    # A SQLAlchemy-only driver option: SQLAlchemy accepts it, a plain asyncpg DSN does not.
    url = runtime.settings.database_url + "?prepared_statement_cache_size=50"
    engine = create_async_engine(url)
    reader = Reader(engine)
    try:
        assert (await reader.first(BY_ID, {"id": user.id}) or ())[:1] == ("fallback1",)
        assert reader._pool is None and reader._pool_failed is True
    finally:
        await reader.aclose()
        await engine.dispose()
