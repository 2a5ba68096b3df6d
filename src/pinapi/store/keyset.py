"""Keyset (seek) pagination for SQLAlchemy selects.

Ordering is on a tuple of columns ending with a unique one (the id), all in one direction,
so the next page is ``WHERE (c1, …, id) > (last values)`` served by an index: the cost of a
page does not grow with how deep it is.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from sqlalchemy import Select, tuple_
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
        vals = tuple_(*after)
        stmt = stmt.where(cols < vals if descending else cols > vals)
    stmt = stmt.order_by(*[c.desc() if descending else c.asc() for c in order]).limit(limit + 1)
    rows: list[Any] = list((await session.scalars(stmt)).all())
    more = len(rows) > limit
    rows = rows[:limit]
    return KeysetPage(rows=rows, next_key=key_of(rows[-1]) if more and rows else None)
