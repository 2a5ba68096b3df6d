"""Engine, session factory and the hot-path reader, for SQLite (default) and PostgreSQL.

SQLite runs in WAL mode with a busy timeout so the API and a separate worker process can
share one file; PostgreSQL is used as is.

``Reader`` serves single-statement reads outside a request's unit of work. aiosqlite runs
every DBAPI call (cursor, execute, fetch, commit, rollback) in its connection thread, and each
hop back to the event loop costs about as much as a whole light route; a primary-key read
needs six of them. On a file-backed SQLite database the reader instead runs the statement on
the event-loop thread through a stdlib ``sqlite3`` connection that is read-only and never
waits for a lock (a point read takes microseconds; in WAL mode readers never wait for
writers), and falls back to the async engine in the rare case SQLite reports busy. Every read
is its own snapshot of committed data: nothing is cached, so counts stay exact. On PostgreSQL
the reader sends the statement's SQL, compiled once, straight to an asyncpg pool (one round
trip, no transaction around it: SQLAlchemy's async execution path costs several times the
query), with an autocommit SQLAlchemy engine of its own as the fallback.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import sqlite3
import threading
from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import asyncpg  # type: ignore[import-untyped]
from sqlalchemy import Select, event
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.sql import Executable

Values = tuple[Any, ...]  # a row's values, in select order
log = logging.getLogger("pinapi.store")


# Execution option naming how a SQLite transaction begins: "IMMEDIATE" (default) or "DEFERRED".
SQLITE_BEGIN = "pinapi_sqlite_begin"


async def read_only(session: AsyncSession) -> AsyncSession:
    """Begin ``session`` as a reader: on SQLite it then takes no write lock (``BEGIN DEFERRED``).

    Sessions begin IMMEDIATE by default, so read-then-write work waits for the lock rather
    than failing on the upgrade; a reader that may run while this process already holds the
    write lock in another session (token checks inside a write request) must not wait for it.
    """
    await session.connection(execution_options={SQLITE_BEGIN: "DEFERRED"})
    return session


def is_sqlite(url: str) -> bool:
    return url.startswith("sqlite")


SQLITE_PAGE_BYTES = 16384


def make_engine(url: str) -> AsyncEngine:
    if is_sqlite(url):
        # Every request may hold a connection for a moment: a pool smaller than the usual
        # concurrency makes SQLAlchemy open and close overflow connections (one thread and
        # four PRAGMAs each) on every burst, which cost more than the queries themselves.
        engine = create_async_engine(url, connect_args={"timeout": 30}, pool_size=32, max_overflow=32)

        @event.listens_for(engine.sync_engine, "connect")
        def _pragmas(dbapi_conn: Any, _record: Any) -> None:
            cur = dbapi_conn.cursor()
            # Takes effect only while the file is empty (before WAL mode fixes it), so it
            # chooses the page size of every new database: 16 KiB pages hold a dozen packed
            # breakdown rows each, and the engine's bulk inserts ran ~5% faster end to end
            # than with SQLite's 4 KiB (docs/performance.md, "Delivery engine").
            cur.execute(f"PRAGMA page_size={SQLITE_PAGE_BYTES}")
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.close()
            # The sqlite3 module opens transactions itself, late and without SAVEPOINT
            # support (a released savepoint would commit). Turn that off and let
            # SQLAlchemy emit BEGIN, so nested transactions and rollbacks are real.
            dbapi_conn.isolation_level = None

        @event.listens_for(engine.sync_engine, "begin")
        def _begin(conn: Any) -> None:
            # IMMEDIATE takes the write lock up front, so a transaction that reads and then
            # writes waits (busy_timeout) instead of failing on the lock upgrade. Read-only
            # work (GET requests) asks for DEFERRED and never blocks writers in WAL mode.
            mode = conn.get_execution_options().get(SQLITE_BEGIN, "IMMEDIATE")
            conn.exec_driver_sql("BEGIN DEFERRED" if mode == "DEFERRED" else "BEGIN IMMEDIATE")

        return engine
    # Overflow connections are closed as soon as they are returned to a full pool, so under a
    # steady load above pool_size every request would open and close one (a connection
    # costs as much as 20 point reads): keep the pool itself large enough for the load.
    return create_async_engine(url, pool_size=20, max_overflow=10, pool_pre_ping=True)


def make_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)


def _sqlite_file_path(engine: AsyncEngine) -> str | None:
    """The file of a file-backed SQLite engine, else None (memory and URI databases)."""
    url = engine.url
    if not url.drivername.startswith("sqlite"):
        return None
    database = url.database or ""
    if not database or database == ":memory:" or database.startswith("file:") or url.query:
        return None
    return database


@dataclass(frozen=True, slots=True)
class _Prepared:
    """A SELECT compiled once for the inline path: its SQL, bind order and type processors."""

    sql: str
    binds: tuple[tuple[str, Any, Callable[[Any], Any] | None], ...]  # name, default, processor
    processors: tuple[tuple[int, Callable[[Any], Any]], ...]  # result columns that need one


def _prepare(statement: Executable, dialect: Dialect) -> _Prepared | None:
    """Compile ``statement`` for the inline path, or None when only the async path can run it."""
    if not isinstance(statement, Select):
        return None
    compiled = statement.compile(dialect=dialect)
    if "POSTCOMPILE" in compiled.string or compiled.positiontup is None:
        return None  # expanding IN lists and the like are rendered per call
    binds = []
    for name in compiled.positiontup:
        bind = compiled.binds[name]
        if bind.expanding or bind.callable is not None:
            return None
        binds.append((name, bind.value, bind.type.dialect_impl(dialect).bind_processor(dialect)))
    processors = []
    for i, col in enumerate(statement.selected_columns):
        proc = col.type.dialect_impl(dialect).result_processor(dialect, None)
        if proc is not None:
            processors.append((i, proc))
    return _Prepared(compiled.string, tuple(binds), tuple(processors))


class Row:
    """One row as the driver returned it, its values converted on first use.

    ``key`` is the driver's raw row when it is hashable (always on SQLite: text, numbers,
    NULL), else None. Two reads of one statement with equal keys have equal values, so a
    caller may keep what it built from a row under its key (``Memo``) and skip the
    conversions, object building and formatting the next time the same row comes back:
    the statement still runs every time, so nothing stale is ever served.
    """

    __slots__ = ("_prepared", "_raw", "_values")

    def __init__(self, raw: Values, prepared: _Prepared | None) -> None:
        self._raw = raw
        self._prepared = prepared
        self._values: Values | None = None

    @property
    def key(self) -> Hashable | None:
        """The raw row when hashable, else None (decoded JSON from PostgreSQL's pool)."""
        try:
            hash(self._raw)
        except TypeError:
            return None
        return self._raw

    @property
    def values(self) -> Values:
        """The row's values in select order, through the column types' result processors."""
        if self._values is None:
            raw, prepared = self._raw, self._prepared
            self._values = raw if prepared is None else _processed(prepared, raw)
        return self._values


class Memo:
    """What callers built from rows, by the rows' keys (``Row.key``) and whatever else the
    result depends on; bounded (emptied when full, so a scan of many objects cannot grow
    it). Values are shared between requests: keep only things nobody mutates."""

    __slots__ = ("_items", "_limit")

    def __init__(self, limit: int = 4096) -> None:
        self._items: dict[Hashable, Any] = {}
        self._limit = limit

    def get(self, key: Hashable) -> Any:
        return self._items.get(key)

    def put(self, key: Hashable, value: Any) -> None:
        if len(self._items) >= self._limit:
            self._items.clear()
        self._items[key] = value

    def clear(self) -> None:
        self._items.clear()


class Reader:
    """Runs one read statement at a time, as cheaply as the backend allows (see the module)."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self._path = _sqlite_file_path(engine)
        # Elsewhere, reads go through an engine of their own: autocommit (no BEGIN and no
        # ROLLBACK around a lone SELECT) and no pre-ping (a dead pooled connection is
        # retried once instead), so a read is one round trip instead of four.
        self._remote: AsyncEngine | None = None
        self._pool: asyncpg.Pool | None = None
        self._pool_loop: asyncio.AbstractEventLoop | None = None
        self._pool_lock = asyncio.Lock()
        self._pool_failed = False
        if self._path is None and not is_sqlite(engine.url.drivername):
            # No overflow: a read waiting a moment for a pooled connection costs far less than
            # opening one (TCP, TLS negotiation, startup) and closing it again after the burst.
            self._remote = create_async_engine(
                engine.url, pool_size=16, max_overflow=0, pool_timeout=30, isolation_level="AUTOCOMMIT"
            )
        self._conn: sqlite3.Connection | None = None
        self._thread: int | None = None
        self._identity: tuple[int, int] | None = None
        self._prepared: dict[int, tuple[Executable, _Prepared | None]] = {}

    async def first(self, statement: Executable, params: Mapping[str, Any] | None = None) -> Values | None:
        """The values of the first row of ``statement`` (a SELECT), in select order, or None.

        Pass a statement built once, at import, with ``bindparam`` placeholders filled from
        ``params``: its compiled form is then reused as is. (A statement rebuilt per call is
        still served, through the async engine, whose cache must hash it and match its
        columns again: that costs more than the query.)
        """
        if self._path is not None:
            done, row = self._first_inline(statement, params or {})
            if done:
                return None if row is None else row.values
        row = await self._first_elsewhere(statement, params)
        return None if row is None else row.values

    async def first_row(self, statement: Executable, params: Mapping[str, Any] | None = None) -> Row | None:
        """``first`` as a ``Row``: its ``key`` lets a caller reuse what it built from an equal row."""
        if self._path is not None:
            done, row = self._first_inline(statement, params or {})
            if done:
                return row
        return await self._first_elsewhere(statement, params)

    async def _first_elsewhere(self, statement: Executable, params: Mapping[str, Any] | None) -> Row | None:
        """The read when the inline SQLite path cannot serve it (see the module)."""
        if self._remote is not None and self._path is None:
            done, row = await self._first_pooled(statement, params or {})
            if done:
                return row
        if self._remote is None:
            async with self.engine.connect() as conn:
                found = (await conn.execute(statement, params)).first()
            return None if found is None else Row(tuple(found), None)
        for attempt in (1, 2):
            try:
                async with self._remote.connect() as conn:
                    found = (await conn.execute(statement, params)).first()
                return None if found is None else Row(tuple(found), None)
            except DBAPIError as exc:
                if attempt == 2 or not exc.connection_invalidated:
                    raise
        raise AssertionError("unreachable")

    async def _first_pooled(
        self, statement: Executable, params: Mapping[str, Any]
    ) -> tuple[bool, Row | None]:
        """PostgreSQL: the prepared SQL straight on an asyncpg pool (no greenlet, no
        SQLAlchemy execution context), which is most of a point read's cost otherwise."""
        prepared = self._prepared_for(statement)
        if prepared is None:
            return False, None
        loop = asyncio.get_running_loop()
        if self._pool is None:
            async with self._pool_lock:
                if self._pool is None and not self._pool_failed:
                    await self._open_pool(loop)
        if self._pool is None or self._pool_loop is not loop:
            return False, None  # no pool, or it belongs to another event loop
        async with self._pool.acquire() as conn:
            raw = await conn.fetchrow(prepared.sql, *_args(prepared, params))
        if raw is None:
            return True, None
        return True, Row(tuple(raw), prepared)

    async def _open_pool(self, loop: asyncio.AbstractEventLoop) -> None:
        assert self._remote is not None
        dsn = self._remote.url.set(drivername="postgresql").render_as_string(hide_password=False)
        try:
            self._pool = await asyncpg.create_pool(dsn, min_size=1, max_size=16, init=_json_codecs)
        except Exception:
            # A URL only SQLAlchemy understands (driver options in the query string): keep
            # serving reads through the SQLAlchemy engine rather than failing them.
            log.warning("hot-path reader: no asyncpg pool, using SQLAlchemy", exc_info=True)
            self._pool_failed = True
            return
        self._pool_loop = loop

    def _first_inline(self, statement: Executable, params: Mapping[str, Any]) -> tuple[bool, Row | None]:
        """``(True, row)`` when read inline; ``(False, None)`` when the async path must serve."""
        prepared = self._prepared_for(statement)
        if prepared is None:
            return False, None
        conn = self._connection()
        if conn is None:
            return False, None
        try:
            cursor = conn.execute(prepared.sql, _args(prepared, params))
            try:
                raw = cursor.fetchone()
            finally:
                cursor.close()  # ends the statement, so the next read sees the latest commits
        except sqlite3.OperationalError as exc:
            text = str(exc).lower()
            if "locked" in text or "busy" in text:
                return False, None
            self.close()
            raise
        return True, None if raw is None else Row(raw, prepared)

    def _prepared_for(self, statement: Executable) -> _Prepared | None:
        hit = self._prepared.get(id(statement))
        if hit is not None and hit[0] is statement:
            return hit[1]
        if len(self._prepared) >= _MAX_PREPARED:
            self._prepared.clear()  # someone passes per-call statements: don't grow forever
        prepared = _prepare(statement, self.engine.dialect)
        self._prepared[id(statement)] = (statement, prepared)
        return prepared

    def _connection(self) -> sqlite3.Connection | None:
        """This thread's read connection, opened on first use; None when it cannot serve."""
        thread = threading.get_ident()
        assert self._path is not None
        try:
            identity = _file_identity(self._path)
        except OSError:
            return None
        if self._conn is not None and identity != self._identity:
            self.close()  # the file was replaced (a restore): never read the old one
        if self._conn is not None:
            return self._conn if self._thread == thread else None
        try:
            # mode=rw: never create a missing database file; query_only: never write;
            # busy_timeout=0: never block the event loop on a lock (the async path serves).
            conn = sqlite3.connect(
                f"file:{quote(self._path)}?mode=rw",
                uri=True,
                isolation_level=None,
                check_same_thread=False,
                timeout=0,
            )
            conn.execute("PRAGMA query_only=ON")
        except sqlite3.Error:
            return None
        self._conn, self._thread, self._identity = conn, thread, identity
        return conn

    def close(self) -> None:
        """Close the SQLite read connection (the next read reopens it)."""
        if self._conn is not None:
            self._conn.close()
        self._conn = None
        self._thread = None

    async def aclose(self) -> None:
        """Release everything, at process or runtime end."""
        self.close()
        if self._pool is not None:
            await self._pool.close()
            self._pool = None
        if self._remote is not None:
            await self._remote.dispose()


_MAX_PREPARED = 512


def _args(prepared: _Prepared, params: Mapping[str, Any]) -> list[Any]:
    return [
        (proc(params[name]) if proc else params[name]) if name in params else default
        for name, default, proc in prepared.binds
    ]


def _processed(prepared: _Prepared, raw: Values) -> Values:
    if not prepared.processors:
        return raw
    values = list(raw)
    for i, proc in prepared.processors:
        values[i] = proc(values[i])
    return tuple(values)


async def _json_codecs(conn: asyncpg.Connection) -> None:
    """Decode JSON columns as SQLAlchemy's asyncpg connections do, so a reader row holds
    the same values on PostgreSQL as on SQLite (asyncpg alone hands JSON over as text)."""
    for name in ("json", "jsonb"):
        await conn.set_type_codec(name, schema="pg_catalog", encoder=_json_text, decoder=json.loads)


def _json_text(value: Any) -> str:
    return json.dumps(value)


def _file_identity(path: str) -> tuple[int, int]:
    """Device and inode: a stat per read (about a microsecond) notices a swapped file."""
    st = os.stat(path)
    return st.st_dev, st.st_ino
