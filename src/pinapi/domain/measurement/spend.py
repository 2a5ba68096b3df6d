"""Spend so far, read from the delivery engine's fact rows.

Summary statuses need it (a lifetime budget or spend cap that is used up makes an object
COMPLETED); the engine's hourly rows are the only record of spend, so this sums them.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from pinapi.store.tables.facts import DeliveryHour


async def _by(
    session: AsyncSession, column: InstrumentedAttribute[int], ids: Sequence[int]
) -> dict[int, int]:
    out = dict.fromkeys(ids, 0)
    if not ids:
        return out
    rows = await session.execute(
        select(column, func.sum(DeliveryHour.spend_in_micro_dollar)).where(column.in_(ids)).group_by(column)
    )
    for key, total in rows:
        out[int(key)] = int(total or 0)
    return out


async def lifetime_by_campaign(session: AsyncSession, campaign_ids: Sequence[int]) -> dict[int, int]:
    return await _by(session, DeliveryHour.campaign_id, campaign_ids)


async def lifetime_by_ad_group(session: AsyncSession, ad_group_ids: Sequence[int]) -> dict[int, int]:
    return await _by(session, DeliveryHour.ad_group_id, ad_group_ids)
