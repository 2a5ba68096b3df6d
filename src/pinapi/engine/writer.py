"""Store folded chunks (``folding.FoldedChunk``, from a ``Folder`` in this process or in the
engine's child process) in the fact tables, in the caller's transaction, and remove a
range's facts before it is simulated again.

Rows go to the driver in bulk (``store.bulk``); the breakdown value codes are registered
first so readers can name every entry.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime, timedelta
from typing import Any

import numpy as np
from sqlalchemy import delete, insert
from sqlalchemy.ext.asyncio import AsyncSession

from pinapi.domain.measurement import events as measurement
from pinapi.engine.folding import FoldedChunk
from pinapi.store.breakdowns import Pair, register
from pinapi.store.bulk import Coded, bulk_insert
from pinapi.store.tables import (
    ClearingPriceHour,
    DeliveryBreakdown,
    DeliveryHour,
    OrganicPinHour,
)

_BATCH = 5000


async def store(session: AsyncSession, folded: FoldedChunk, registered: dict[int, Pair]) -> tuple[int, int]:
    """Insert a folded chunk; returns (total rows, breakdown rows). ``registered`` holds the
    value codes this caller has already registered (updated in place)."""
    times: dict[str, dict[int, Any]] = {}
    totals = await bulk_insert(session, DeliveryHour.__table__, _objects(folded.totals, times))
    await register(session, folded.values, registered)
    breakdowns = await bulk_insert(session, DeliveryBreakdown.__table__, _objects(folded.breakdowns, times))
    if folded.events is not None:
        await measurement.store_event_columns(session, source="ENGINE", columns=folded.events)
    await bulk_insert(session, OrganicPinHour.__table__, _objects(folded.organic, times))
    for i in range(0, len(folded.prices), _BATCH):
        await session.execute(insert(ClearingPriceHour), folded.prices[i : i + _BATCH])
    return totals, breakdowns


def _objects(columns: Mapping[str, Any], cache: dict[str, dict[int, Any]]) -> dict[str, Any]:
    """``columns`` with ``hour`` (unix seconds) as datetimes and ``local_date`` (ordinals) as
    dates, each a ``Coded`` column; ``cache`` keeps the objects of values seen before (a
    chunk has few of either)."""
    out = dict(columns)  # ``entries`` (``PackedRows``) go as they are: bulk_insert streams them
    for name, make in (("hour", _utc), ("local_date", date.fromordinal)):
        values = out.get(name)
        if isinstance(values, np.ndarray):
            made = cache.setdefault(name, {})
            distinct, codes = np.unique(values, return_inverse=True)
            objects = []
            for v in distinct.tolist():
                if v not in made:
                    made[v] = make(v)
                objects.append(made[v])
            out[name] = Coded(objects, codes.reshape(-1).astype(np.int64, copy=False))
    return out


def _utc(seconds: int) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


async def delete_range(session: AsyncSession, *, start: datetime, end: datetime) -> None:
    """Remove every engine fact of the UTC hours [start, end) (tag events stay)."""
    for table in (DeliveryHour, DeliveryBreakdown, OrganicPinHour, ClearingPriceHour):
        await session.execute(delete(table).where(table.hour >= start, table.hour < end))
    await measurement.delete_simulated(session, start=start, end=end)


def hours(start: datetime, end: datetime) -> int:
    return max(0, int((end - start) / timedelta(hours=1)))
