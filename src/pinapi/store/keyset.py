"""Keyset (seek) pagination for SQLAlchemy selects.

Ordering is on a tuple of columns ending with a unique one (the id), all in one direction,
so the next page is ``WHERE (c1, …, id) > (last values)`` served by an index: the cost of a
page does not grow with how deep it is.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Generic, TypeVar

from sqlalchemy import Select, literal, tuple_
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement

T = TypeVar("T")


@dataclass(slots=True)
class KeysetPage(Generic[T]):
    rows: list[T]
    next_key: list[Any] | None


async def fetch_page(
    session: AsyncSession,
    stmt: Select[Any],
    *,
    order: Sequence[ColumnElement[Any]],
    after: list[Any] | None,
    limit: int,
    descending: bool = False,
    key_of: Any,
) -> KeysetPage[T]:
    """Run ``stmt`` for one page; ``key_of(row)`` gives a row's sort key as a list."""
    if after is not None:
        if len(after) != len(order):
            raise ValueError("bookmark key does not match the ordering")
        cols = tuple_(*order)
        vals = tuple_(
            *[literal(_revive(col, value), type_=col.type) for col, value in zip(order, after, strict=True)]
        )
        stmt = stmt.where(cols < vals if descending else cols > vals)
    stmt = stmt.order_by(*[c.desc() if descending else c.asc() for c in order]).limit(limit + 1)
    rows: list[Any] = list((await session.scalars(stmt)).all())
    more = len(rows) > limit
    rows = rows[:limit]
    return KeysetPage(rows=rows, next_key=key_of(rows[-1]) if more and rows else None)


def _revive(column: ColumnElement[Any], value: Any) -> Any:
    """Give a key value back its column's type after a trip through a JSON bookmark.

    A datetime key comes back as its ISO string; compared as a string it would fail on
    PostgreSQL and misorder on SQLite (which stores ``2026-01-01 12:00:00``, not ``…T…``).
    """
    if isinstance(value, str):
        kind = getattr(column.type, "impl", column.type)  # a TypeDecorator's underlying type
        try:
            python_type = kind.python_type
        except NotImplementedError:
            return value
        if python_type is datetime:
            return datetime.fromisoformat(value)
        if python_type is date:
            return date.fromisoformat(value)
    return value
