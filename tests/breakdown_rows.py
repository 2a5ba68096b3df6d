"""Targeting breakdowns as one row per (promotion, hour, dimension value), for tests.

The store packs a promotion-hour's breakdowns into one ``delivery_breakdowns`` value; tests
state and check them far more plainly as rows of their own (the ids, the dimension type and
value, and every metric column). These helpers convert both ways through
``store.breakdowns`` itself, so a fixture written with them is read exactly as the engine's
rows are.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import numpy as np
from sqlalchemy import ColumnElement, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from pinapi.store.breakdowns import names, pack, register, unpack, value_code
from pinapi.store.tables import DeliveryBreakdown
from pinapi.store.tables.facts import METRIC_COLUMNS

IDS = ("ad_group_id", "campaign_id", "advertiser_id", "local_date")


@dataclass(frozen=True, slots=True)
class DimensionRow:
    """One dimension value's sums of one breakdown row; each metric column is an attribute
    (0 where the value has no entry for it)."""

    pin_promotion_id: int
    hour: datetime
    ad_group_id: int
    campaign_id: int
    advertiser_id: int
    local_date: date
    dimension_type: str
    dimension_value: str
    metrics: dict[str, int]

    def __getattr__(self, name: str) -> int:
        if name != "metrics" and name in METRIC_COLUMNS:
            return self.metrics.get(name, 0)
        raise AttributeError(name)


async def write_dimension_rows(session: AsyncSession, rows: Sequence[Mapping[str, Any]]) -> None:
    """Store dimension rows (ids, ``dimension_type``, ``dimension_value`` and metric columns,
    absent ones 0) as one ``DeliveryBreakdown`` row per (pin promotion, hour), registering
    the value codes. Zero sums are not stored, as the engine stores none."""
    groups: dict[tuple[int, datetime], list[Mapping[str, Any]]] = {}
    for row in rows:
        groups.setdefault((row["pin_promotion_id"], row["hour"]), []).append(row)
    await register(session, {(r["dimension_type"], r["dimension_value"]) for r in rows}, {})
    metrics = np.arange(len(METRIC_COLUMNS), dtype=np.int64)
    values: list[dict[str, Any]] = []
    for (promotion, hour), members in groups.items():
        first = members[0]
        for other in members[1:]:
            if any(other[k] != first[k] for k in IDS):
                raise ValueError(f"rows of promotion {promotion} at {hour} disagree on their ids")
        codes = np.repeat(
            [value_code(r["dimension_type"], r["dimension_value"]) for r in members], metrics.size
        )
        amounts = [int(r.get(c, 0)) for r in members for c in METRIC_COLUMNS]
        values.append(
            {
                "pin_promotion_id": promotion,
                "hour": hour,
                **{k: first[k] for k in IDS},
                "entries": pack(codes, np.tile(metrics, len(members)), amounts),
            }
        )
    for i in range(0, len(values), 2000):
        await session.execute(insert(DeliveryBreakdown), values[i : i + 2000])


async def read_dimension_rows(session: AsyncSession, *where: ColumnElement[bool]) -> list[DimensionRow]:
    """The dimension rows of the ``DeliveryBreakdown`` rows matching ``where`` (all without):
    one per row and dimension value that has an entry, ordered by promotion, hour, type and
    value."""
    t = DeliveryBreakdown
    ids = (t.pin_promotion_id, t.hour, t.ad_group_id, t.campaign_id, t.advertiser_id, t.local_date)
    stored = (await session.execute(select(*ids, t.entries).where(*where))).all()
    row_ix, code, metric, amount = unpack([r.entries for r in stored])
    pairs = await names(session, np.unique(code).tolist())
    found: dict[tuple[int, int], dict[str, int]] = {}
    for i, c, m, a in zip(row_ix.tolist(), code.tolist(), metric.tolist(), amount.tolist(), strict=True):
        sums = found.setdefault((i, c), {})
        column = METRIC_COLUMNS[m]
        sums[column] = sums.get(column, 0) + a
    out = []
    for (i, c), sums in found.items():
        r = stored[i]
        dimension_type, dimension_value = pairs[c]
        out.append(
            DimensionRow(
                pin_promotion_id=r.pin_promotion_id,
                hour=r.hour,
                ad_group_id=r.ad_group_id,
                campaign_id=r.campaign_id,
                advertiser_id=r.advertiser_id,
                local_date=r.local_date,
                dimension_type=dimension_type,
                dimension_value=dimension_value,
                metrics={column: sums.get(column, 0) for column in METRIC_COLUMNS},
            )
        )
    out.sort(key=lambda d: (d.pin_promotion_id, d.hour, d.dimension_type, d.dimension_value))
    return out
