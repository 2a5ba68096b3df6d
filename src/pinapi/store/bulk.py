"""Bulk inserts for the fact tables, in the caller's transaction.

An ORM or Core ``insert`` with one dict per row costs tens of microseconds a row in Python,
which is most of a month's simulation at the benchmark size. Fact rows are plain integers,
dates and a few strings, so they go straight to the driver instead: ``COPY`` on PostgreSQL
(asyncpg's ``copy_records_to_table``) and one prepared ``executemany`` on SQLite. Values are
encoded by the column types' own bind processors, so what is stored is byte for byte what
SQLAlchemy would have stored.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt
from sqlalchemy import FromClause, LargeBinary
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession

_SQLITE_CACHE_KIB = 131_072


@dataclass(frozen=True, slots=True)
class Coded:
    """A column of few distinct values as one code per row into a table of them; code -1 is
    NULL. Event types, countries, a chunk's hours and dates take a handful of values over
    thousands of rows: each value is encoded once and the column is built by one numpy take,
    instead of touching (or hashing) a Python object per row before the insert itself."""

    names: Sequence[Any]
    """The distinct values (event type names, datetimes, dates ...)."""
    codes: npt.NDArray[np.signedinteger[Any]]
    """Any signed integer dtype (the engine keeps segment attributes in int8/int16)."""

    @classmethod
    def of(cls, values: Sequence[Any]) -> Coded:
        """Code a column given value by value (None is NULL)."""
        names = tuple(v for v in dict.fromkeys(values) if v is not None)
        index: dict[Any, int] = {v: i for i, v in enumerate(names)}
        index[None] = -1
        codes = np.fromiter(map(index.__getitem__, values), dtype=np.int64, count=len(values))
        return cls(names, codes)

    def __len__(self) -> int:
        return int(self.codes.size)

    def expand(self, encode: Any = None) -> list[Any]:
        """The column value by value, each distinct value passed through ``encode`` once."""
        table = np.empty(len(self.names) + 1, dtype=object)  # code -1 picks the trailing None
        table[:-1] = [encode(v) for v in self.names] if encode is not None else list(self.names)
        out: list[Any] = table[self.codes].tolist()
        return out


class Values(Protocol):
    """A column given value by value: a sequence, an array, or anything sized that yields its
    values once (``store.breakdowns.PackedRows``)."""

    def __len__(self) -> int: ...

    def __iter__(self) -> Iterator[Any]: ...


Column = Values | Coded


async def bulk_insert(session: AsyncSession, table: FromClause, columns: Mapping[str, Column]) -> int:
    """Insert the rows given column-wise (name -> values, equal lengths; numpy arrays become
    plain Python values, ``Coded`` columns are expanded) into ``table`` on the session's
    connection; returns the number of rows."""
    name = getattr(table, "name", None)
    if not isinstance(name, str):
        raise TypeError("bulk_insert needs a table")
    names = list(columns)
    n = len(columns[names[0]]) if names else 0
    if n == 0:
        return 0
    conn = await session.connection()
    dialect = conn.dialect
    plain: dict[str, Values] = {
        c: v.tolist() if isinstance(v, np.ndarray) else v
        for c, v in columns.items()
        if not isinstance(v, Coded)
    }
    driver: Any = (await conn.get_raw_connection()).driver_connection
    if dialect.name == "postgresql":
        plain.update({c: v.expand() for c, v in columns.items() if isinstance(v, Coded)})
        if not driver.is_in_transaction():
            # The driver opens the session's transaction lazily, at its first statement: COPY
            # on the raw connection before one would commit on its own and outlive a rollback.
            await conn.exec_driver_sql("SELECT 1")
        records = zip(*(plain[c] for c in names), strict=True)  # made as COPY takes them
        await driver.copy_records_to_table(name, records=records, columns=names)
        return n
    # Fact tables grow by millions of rows with four indexes each: a larger page cache keeps
    # their hot index pages in memory (SQLite's default is 2 MB per connection).
    await conn.exec_driver_sql(f"PRAGMA cache_size=-{_SQLITE_CACHE_KIB}")
    cols: list[Values] = []
    for column in names:
        kind = table.c[column].type
        # sqlite3 stores bytes as BLOBs as they are; the type's processor would only wrap each
        # in a memoryview (and hashing large blobs to encode each once costs more than that).
        proc = None if isinstance(kind, LargeBinary) else kind._cached_bind_processor(dialect)
        given = columns[column]
        if isinstance(given, Coded):
            cols.append(given.expand(proc))
            continue
        values = plain[column]
        if proc is not None:
            # Only a few distinct values per such column (hours, dates): encode each once.
            cache = {v: proc(v) for v in set(values)}
            values = [cache[v] for v in values]
        cols.append(values)
    # Straight to the driver, with the rows as an iterator: sqlite3 binds each tuple as zip
    # makes it (zip reuses one when it is freed). A list of every row's tuple (hundreds of
    # thousands a chunk) kept Python's garbage collector scanning them again and again, a
    # fifth of the storing process's CPU, and SQLAlchemy takes only lists for executemany.
    sql = f"INSERT INTO {name} ({', '.join(names)}) VALUES ({', '.join('?' * len(names))})"
    errors = dialect.loaded_dbapi.Error
    try:
        cursor = await driver.executemany(sql, zip(*cols, strict=True))
        await cursor.close()
    except errors as exc:  # as SQLAlchemy would raise it (IntegrityError, ...)
        raise DBAPIError.instance(sql, None, exc, errors) from exc
    return n
