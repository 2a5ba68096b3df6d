"""The declarative base, the UTC datetime type and the id column every table shares.

Alembic migrations are generated from the table classes of this package.

Times are stored as timezone-aware UTC datetimes. Counters that the API reports
(``pin_count``, ``follower_count``…) are columns updated with ``col = col + n`` in the same
transaction as the change they count, so they stay exact under concurrent writes.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    BigInteger,
    DateTime,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

from pinapi.store.ids import new_id


class UtcDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC datetime on every backend (SQLite forgets the zone on read)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the store")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        int: BigInteger,
        datetime: UtcDateTime,
        dict[str, Any]: JSON,
    }


def id_column() -> Mapped[int]:
    return mapped_column(BigInteger, primary_key=True, default=new_id, autoincrement=False)
