"""Order lines: the insertion orders an advertiser's campaigns spend against.

v3 exposes them read-only (the sales team created them); ``create_order_line`` is how the
demo, the tests and the console make one. ``campaign_ids`` are the campaigns whose
``order_line_id`` names the line. Reading needs ORDER_LINE_READ (an ANALYST lacks it).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from pinapi.domain.access import sharing
from pinapi.domain.access.principal import Principal
from pinapi.domain.ads.pin_promotions import require_object_action
from pinapi.domain.clock import Clock
from pinapi.domain.errors import Invalid, NotFound
from pinapi.store.keyset import KeysetPage, fetch_page
from pinapi.store.tables import Campaign, OrderLine

ORDER_LINE_NOT_FOUND = 3004
PAID_TYPES = ("BONUS", "MAKE_GOOD", "PAID", "TEST")
STATUSES = ("ACTIVE", "DELETED", "PAUSED")


@dataclass(frozen=True, slots=True)
class OrderLineView:
    line: OrderLine
    campaign_ids: list[int]


def _missing() -> NotFound:
    return NotFound("Order line", code=ORDER_LINE_NOT_FOUND)


async def create_order_line(
    session: AsyncSession,
    *,
    clock: Clock,
    advertiser_id: int,
    name: str,
    budget_micro: int,
    paid_budget_micro: int | None = None,
    paid_type: str = "PAID",
    purchase_order_id: str | None = None,
    start_time: datetime | None = None,
    end_time: datetime | None = None,
) -> OrderLine:
    if not name.strip():
        raise Invalid("name", "must not be empty")
    if budget_micro <= 0:
        raise Invalid("budget", "must be positive")
    if paid_type not in PAID_TYPES:
        raise Invalid("paid_type", f"must be one of {', '.join(PAID_TYPES)}")
    if start_time and end_time and end_time <= start_time:
        raise Invalid("end_time", "must be after start_time")
    line = OrderLine(
        advertiser_id=advertiser_id,
        name=name.strip(),
        budget_micro=budget_micro,
        paid_budget_micro=budget_micro if paid_budget_micro is None else paid_budget_micro,
        paid_type=paid_type,
        purchase_order_id=purchase_order_id,
        status="ACTIVE",
        start_time=start_time,
        end_time=end_time,
        created_at=clock.now(),
    )
    session.add(line)
    await session.flush()
    return line


async def _views(session: AsyncSession, lines: Sequence[OrderLine]) -> list[OrderLineView]:
    if not lines:
        return []
    rows = await session.execute(
        select(Campaign.order_line_id, Campaign.id)
        .where(Campaign.order_line_id.in_([x.id for x in lines]))
        .order_by(Campaign.id)
    )
    by_line: dict[int, list[int]] = {}
    for line_id, campaign_id in rows.all():
        if line_id is not None:
            by_line.setdefault(int(line_id), []).append(int(campaign_id))
    return [OrderLineView(line=x, campaign_ids=by_line.get(x.id, [])) for x in lines]


async def get(session: AsyncSession, *, principal: Principal, order_line_id: int) -> OrderLineView:
    line = await session.get(OrderLine, order_line_id)
    if line is None:
        raise _missing()
    await require_object_action(
        session,
        principal=principal,
        advertiser_id=line.advertiser_id,
        action="ORDER_LINE_READ",
        missing=_missing(),
    )
    return (await _views(session, [line]))[0]


async def list_for_advertiser(
    session: AsyncSession, *, principal: Principal, advertiser_id: int, after: list[Any] | None, limit: int
) -> tuple[list[OrderLineView], list[Any] | None]:
    await sharing.require_action(
        session, principal=principal, advertiser_id=advertiser_id, action="ORDER_LINE_READ"
    )
    page: KeysetPage[OrderLine] = await fetch_page(
        session,
        select(OrderLine).where(OrderLine.advertiser_id == advertiser_id, OrderLine.status != "DELETED"),
        order=[OrderLine.id.expression],
        after=after,
        limit=limit,
        key_of=lambda r: [r.id],
    )
    return await _views(session, page.rows), page.next_key
