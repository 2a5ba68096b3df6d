"""Order lines: ``GET /ads/v3/advertisers/{advertiser}/order_lines/`` and ``/ads/v3/order_lines/{id}/``."""

from __future__ import annotations

from typing import Any

from fastapi import Depends
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request

from pinapi.api.common.auth import access
from pinapi.api.common.context import get_runtime, get_session
from pinapi.api.common.envelope import Page
from pinapi.api.common.formats import unix_seconds
from pinapi.api.common.paging import page_size_from
from pinapi.api.common.params import read_params
from pinapi.api.common.routing import router as make_router
from pinapi.domain.access.principal import Principal
from pinapi.domain.ads import order_lines as domain
from pinapi.domain.errors import Invalid

router = make_router(tags=["order lines"])
READ = access("read_advertisers")


def _id(raw: str, what: str) -> int:
    if not raw.isdigit():
        raise Invalid(what, "must be a numeric id")
    return int(raw)


def order_line_body(view: domain.OrderLineView) -> dict[str, Any]:
    x = view.line
    return {
        "id": str(x.id),
        "type": "orderline",
        "advertiser_id": str(x.advertiser_id),
        "name": x.name,
        "budget": x.budget_micro,
        "paid_budget": x.paid_budget_micro,
        "paid_type": x.paid_type,
        "purchase_order_id": x.purchase_order_id,
        "status": x.status,
        "campaign_ids": [str(c) for c in view.campaign_ids],
        "start_time": unix_seconds(x.start_time),
        "end_time": unix_seconds(x.end_time),
    }


@router.get("/ads/v3/advertisers/{advertiser}/order_lines/")
async def ads_v3_get_advertiser_order_lines_handler(
    advertiser: str,
    request: Request,
    principal: Principal = Depends(READ),
    session: AsyncSession = Depends(get_session),
) -> Page:
    adv = _id(advertiser, "advertiser")
    params = await read_params(request)
    size = page_size_from(params.raw("page_size"))
    bookmarks = get_runtime(request).bookmarks
    ctx = f"advertiser:{adv}:order_lines"
    raw = params.text("bookmark")
    views, next_key = await domain.list_for_advertiser(
        session,
        principal=principal,
        advertiser_id=adv,
        after=bookmarks.decode(raw, ctx) if raw else None,
        limit=size,
    )
    return Page([order_line_body(v) for v in views], bookmarks.encode(ctx, next_key) if next_key else None)


@router.get("/ads/v3/order_lines/{order_line}/")
async def ads_v3_get_order_line_handler(
    order_line: str,
    principal: Principal = Depends(READ),
    session: AsyncSession = Depends(get_session),
) -> dict[str, Any]:
    view = await domain.get(session, principal=principal, order_line_id=_id(order_line, "order_line"))
    return order_line_body(view)
