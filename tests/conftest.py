"""Shared fixtures: every API test runs on SQLite and, when configured, on PostgreSQL.

SQLite: the schema is migrated once into a template file, copied for each test. PostgreSQL
(``PINAPI_TEST_DATABASE_URL``): migrated once per session, tables truncated between tests.
Without that variable the PostgreSQL half is skipped with a visible reason, except in CI,
where a missing database is an error.
"""

from __future__ import annotations

import asyncio
import os
import shutil
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

# Hypothesis's pytest plugin imports these lazily at session end; on CPython 3.11.7 compiling
# them there can hit "AST constructor recursion depth mismatch" (a CPython bug) and turn a
# green run red. Importing them up front compiles them while the interpreter is fresh.
import hypothesis.internal.conjecture.providers  # noqa: F401
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from pinapi.app import create_app
from pinapi.domain.access import passwords
from pinapi.domain.clock import FixedClock
from pinapi.runtime import Runtime
from pinapi.settings import Settings
from pinapi.store import migrate
from pinapi.store.tables import Base
from tests.factories import Factory

# Argon2 at production cost takes ~0.1-0.8 s a hash; tests hash thousands of passwords.
passwords.configure(time_cost=1, memory_cost=1024)

PG_URL = os.environ.get("PINAPI_TEST_DATABASE_URL", "")
REDIS_URL = os.environ.get("PINAPI_TEST_REDIS_URL", "")
IN_CI = os.environ.get("CI", "").lower() == "true"
START = datetime(2026, 11, 2, 12, 0, 0, tzinfo=UTC)


def need(var: str, value: str) -> None:
    if value:
        return
    if IN_CI:
        pytest.fail(f"{var} is not set in CI: this test must not be skipped there")
    pytest.skip(f"{var} is not set: PostgreSQL/Redis half not run")


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "template.db"
    migrate.upgrade(f"sqlite+aiosqlite:///{path}")
    return path


@pytest.fixture(scope="session")
def pg_ready() -> str:
    need("PINAPI_TEST_DATABASE_URL", PG_URL)
    # Start from an empty schema: a database left by another branch may hold revisions this
    # checkout does not know, which a downgrade could not walk back.
    asyncio.run(_reset_schema(PG_URL))
    migrate.upgrade(PG_URL)
    return PG_URL


async def _reset_schema(url: str) -> None:
    engine = create_async_engine(url)
    async with engine.begin() as conn:
        await conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
        await conn.execute(text("CREATE SCHEMA public"))
    await engine.dispose()


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(START)


@pytest.fixture
def settings(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Settings]:
    if backend == "sqlite":
        template: Path = request.getfixturevalue("sqlite_template")
        db = tmp_path / "pinapi.db"
        shutil.copy(template, db)
        url = f"sqlite+aiosqlite:///{db}"
    else:
        url = request.getfixturevalue("pg_ready")
    yield Settings(
        data_dir=tmp_path,
        database_url=url,
        secret_key="test-secret-key",
        demo=False,
        worker=False,
        public_url="http://testserver",
        _env_file=None,
    )


async def _truncate(url: str) -> None:
    engine = create_async_engine(url)
    names = ", ".join(t.name for t in reversed(Base.metadata.sorted_tables))
    async with engine.begin() as conn:
        await conn.execute(text(f"TRUNCATE {names} CASCADE"))
    await engine.dispose()


@pytest.fixture
async def runtime(settings: Settings, clock: FixedClock) -> AsyncIterator[Runtime]:
    if settings.database_url.startswith("postgresql"):
        await _truncate(settings.database_url)
    rt = Runtime.build(settings, clock=clock)
    yield rt
    if settings.redis_url:  # memory limits die with the runtime; Redis keys would outlive it
        await rt.limiter.reset()
    await rt.close()


@pytest.fixture
async def app(runtime: Runtime) -> AsyncIterator[Any]:
    application = create_app(runtime=runtime, migrate=False, demo=False)
    async with application.router.lifespan_context(application):
        yield application


@pytest.fixture
async def client(app: Any) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
        yield c


@pytest.fixture
def factory(runtime: Runtime) -> Factory:
    return Factory(runtime)
