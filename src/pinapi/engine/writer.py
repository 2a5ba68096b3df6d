"""Store folded chunks (``folding.FoldedChunk``) in the fact tables, in the caller's
transaction, and remove a range's facts before it is simulated again.

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
from pinapi.engine.facts import HourResult
from pinapi.engine.folding import AdvertiserInfo, FoldedChunk, Folder, HourCounts
from pinapi.engine.population import Population
from pinapi.store.breakdowns import PackedRows, Pair, register
from pinapi.store.bulk import bulk_insert
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
    times: dict[int, Any] = {}
    totals = await bulk_insert(session, DeliveryHour.__table__, _objects(folded.totals, times))
    await register(session, folded.values, registered)
    breakdowns = await bulk_insert(session, DeliveryBreakdown.__table__, _objects(folded.breakdowns, times))
    if folded.events is not None:
        await measurement.store_event_columns(session, source="ENGINE", columns=folded.events)
    await bulk_insert(session, OrganicPinHour.__table__, _objects(folded.organic, times))
    for i in range(0, len(folded.prices), _BATCH):
        await session.execute(insert(ClearingPriceHour), folded.prices[i : i + _BATCH])
    return totals, breakdowns


def _objects(columns: Mapping[str, Any], cache: dict[int, Any]) -> dict[str, Any]:
    """``columns`` with ``hour`` (unix seconds) as datetimes and ``local_date`` (ordinals) as
    dates; ``cache`` keeps the objects of values seen before (a chunk has few of either)."""
    out = dict(columns)
    if isinstance(out.get("entries"), PackedRows):
        out["entries"] = out["entries"].values()
    for name, make in (("hour", _utc), ("local_date", date.fromordinal)):
        values = out.get(name)
        if isinstance(values, np.ndarray):
            made = {}
            for v in np.unique(values).tolist():
                key = v if name == "hour" else -v - 1  # ordinals and seconds never share a key
                found = cache.get(key)
                made[v] = found if found is not None else cache.setdefault(key, make(v))
            out[name] = [made[v] for v in values.tolist()]
    return out


def _utc(seconds: int) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


class Writer:
    """A ``Folder`` and the storing of what it folds, for callers in one process."""

    def __init__(self, population: Population, advertisers: Mapping[int, AdvertiserInfo]) -> None:
        self.folder = Folder(population, advertisers)
        self._registered: dict[int, Pair] = {}

    def begin(
        self, start: datetime, end: datetime, *, hourly: bool = True, organic_hourly: bool | None = None
    ) -> None:
        self.folder.begin(start, end, hourly=hourly, organic_hourly=organic_hourly)

    def add(self, result: HourResult) -> HourCounts:
        return self.folder.add(result)

    async def flush(self, session: AsyncSession) -> tuple[int, int]:
        """Store the chunk's rows; returns (total rows, breakdown rows)."""
        return await store(session, self.folder.finish(), self._registered)

    async def write_hour(self, session: AsyncSession, result: HourResult) -> HourCounts:
        """One hour on its own: hourly totals and breakdowns, and the rest."""
        self.begin(result.hour, result.hour + timedelta(hours=1))
        counts = self.add(result)
        counts.delivery_rows, counts.dimension_rows = await self.flush(session)
        return counts


async def delete_range(session: AsyncSession, *, start: datetime, end: datetime) -> None:
    """Remove every engine fact of the UTC hours [start, end) (tag events stay)."""
    for table in (DeliveryHour, DeliveryBreakdown, OrganicPinHour, ClearingPriceHour):
        await session.execute(delete(table).where(table.hour >= start, table.hour < end))
    await measurement.delete_simulated(session, start=start, end=end)


def hours(start: datetime, end: datetime) -> int:
    return max(0, int((end - start) / timedelta(hours=1)))
