"""Campaigns, a campaign's ad groups, and campaign batches (``/ads/v3/campaigns/…``).

Batch bodies are a JSON array (or ``{"campaigns": [...]}``, or a form field ``campaigns``
holding a JSON array); the answer lists one result per item, in order:
``{"data": <campaign> | null, "exceptions": [{code, message, param}]}``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import orjson
from fastapi import Depends
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request

from pinapi.api.common.auth import access
from pinapi.api.common.bodies import BodyMemo
from pinapi.api.common.context import get_runtime, get_session
from pinapi.api.common.envelope import Page
from pinapi.api.common.formats import unix_seconds
from pinapi.api.common.paging import page_size_from
from pinapi.api.common.params import Params, read_params
from pinapi.api.common.routing import router as make_router
from pinapi.api.v3.ads.ad_groups import ad_group_bodies
from pinapi.domain.access.principal import Principal
from pinapi.domain.ads import ad_groups, reads
from pinapi.domain.ads import campaigns as domain
from pinapi.domain.ads.campaigns import parse_id
from pinapi.domain.errors import DomainError, Invalid
from pinapi.domain.measurement import spend
from pinapi.store.tables import Advertiser, Campaign

router = make_router(tags=["campaigns"])
READ = access("read_campaigns")
WRITE = access("write_campaigns")


def campaign_body(
    c: Campaign, advertiser: Advertiser, now: datetime, ad_group_ids: list[str], spent: int = 0
) -> dict[str, Any]:
    return {
        "id": str(c.id),
        "advertiser_id": str(c.advertiser_id),
        "name": c.name,
        "type": "campaign",
        "status": c.status,
        "entity_status": c.status,
        "summary_status": domain.summary_status_of(c, advertiser, now, spent),
        "objective_type": c.objective_type,
        "ad_group_ids": ad_group_ids,
        "daily_spend_cap": c.daily_spend_cap,
        "lifetime_spend_cap": c.lifetime_spend_cap,
        "start_time": unix_seconds(c.start_time),
        "end_time": unix_seconds(c.end_time),
        "created_time": unix_seconds(c.created_at),
        "updated_time": unix_seconds(c.updated_at),
        "last_entity_status_updated_time": unix_seconds(c.status_updated_at),
        "order_line_id": None if c.order_line_id is None else str(c.order_line_id),
        "billing_group": c.billing_group,
        "measurement_partner_campaign_id": c.measurement_partner_campaign_id,
        "product_filter": c.product_filter,
        "tracking_urls": None if c.tracking_urls is None else orjson.dumps(c.tracking_urls).decode(),
        "is_one_tap": c.is_one_tap,
        "entity_version": c.entity_version,
    }


async def campaign_bodies(
    session: AsyncSession, rows: list[Campaign], advertiser: Advertiser, now: datetime
) -> list[dict[str, Any]]:
    """Bodies for a page of one advertiser's campaigns: one query for all their ad group ids."""
    ids = await domain.ad_group_ids(session, [c.id for c in rows])
    spent = await spend.lifetime_by_campaign(session, [c.id for c in rows])
    return [campaign_body(c, advertiser, now, ids[c.id], spent[c.id]) for c in rows]


async def _one(session: AsyncSession, loaded: domain.Loaded, now: datetime) -> dict[str, Any]:
    return (await campaign_bodies(session, [loaded.campaign], loaded.advertiser, now))[0]


@router.post("/ads/v3/campaigns/")
async def ads_v3_create_campaign_handler(
    request: Request, principal: Principal = Depends(WRITE), session: AsyncSession = Depends(get_session)
) -> dict[str, Any]:
    params = await read_params(request)
    clock = get_runtime(request).clock
    loaded = await domain.create(session, clock=clock, principal=principal, values=params.fields())
    return await _one(session, loaded, clock.now())


@router.get("/ads/v3/campaigns/{campaign}/")
async def ads_v3_get_campaign_handler(
    campaign: str, request: Request, principal: Principal = Depends(READ)
) -> dict[str, Any]:
    # One statement through the runtime's reader, no request session (docs/performance.md).
    runtime = get_runtime(request)
    found = await reads.read_campaign(
        runtime.reader,
        principal=principal,
        campaign_id=parse_id("campaign", campaign),
        action="CAMPAIGN_READ",
    )
    now = runtime.clock.now()
    body = _BODIES.get(found)
    if body is None:
        return _BODIES.put(
            found, campaign_body(found.campaign, found.advertiser, now, found.ad_group_ids, found.spent)
        )
    # The one field that moves with the clock (a campaign reaching its end time).
    body["summary_status"] = domain.summary_status_of(found.campaign, found.advertiser, now, found.spent)
    return body


_BODIES = BodyMemo()


@router.put("/ads/v3/campaigns/{campaign}/")
async def ads_v3_update_campaign_handler(
    campaign: str,
    request: Request,
    principal: Principal = Depends(WRITE),
    session: AsyncSession = Depends(get_session),
) -> dict[str, Any]:
    params = await read_params(request)
    clock = get_runtime(request).clock
    loaded = await domain.update(
        session,
        clock=clock,
        principal=principal,
        campaign_id=parse_id("campaign", campaign),
        values=params.fields(),
    )
    return await _one(session, loaded, clock.now())


@router.get("/ads/v3/campaigns/{campaign}/ad_groups/")
async def ads_v3_get_campaign_ad_groups_handler(
    campaign: str,
    request: Request,
    principal: Principal = Depends(READ),
    session: AsyncSession = Depends(get_session),
) -> Page:
    loaded = await domain.load(
        session, principal=principal, campaign_id=parse_id("campaign", campaign), action="AD_GROUP_READ"
    )
    params = await read_params(request)
    limit = page_size_from(params.raw("page_size"))
    context = f"campaign:{loaded.campaign.id}:ad_groups"
    raw = params.text("bookmark")
    runtime = get_runtime(request)
    after = runtime.bookmarks.decode(raw, context) if raw else None
    page = await ad_groups.list_for_campaign(
        session, campaign_id=loaded.campaign.id, after=after, limit=limit
    )
    items = await ad_group_bodies(session, page.rows, loaded.campaign, loaded.advertiser, runtime.clock.now())
    bookmark = runtime.bookmarks.encode(context, page.next_key) if page.next_key is not None else None
    return Page(items, bookmark)


def _batch_items(params: Params) -> list[Any]:
    body = params.values.get("__body__")
    if body is None:
        body = params.json("campaigns")
    if not isinstance(body, list):
        raise Invalid("campaigns", "must be a JSON array of campaign objects")
    return body


def _result(
    r: domain.ItemResult, advertiser: Advertiser, now: datetime, ids: dict[int, list[str]]
) -> dict[str, Any]:
    if r.campaign is not None:
        return {
            "data": campaign_body(r.campaign, advertiser, now, ids.get(r.campaign.id, [])),
            "exceptions": [],
        }
    err = r.error
    assert isinstance(err, DomainError)
    exc: dict[str, Any] = {"code": err.code, "message": err.message}
    if isinstance(err, Invalid):
        exc["param"] = err.field
    return {"data": None, "exceptions": [exc]}


async def _batch(
    request: Request, principal: Principal, session: AsyncSession, advertiser: str, creating: bool
) -> list[dict[str, Any]]:
    params = await read_params(request)
    clock = get_runtime(request).clock
    found, results = await domain.batch(
        session,
        clock=clock,
        principal=principal,
        advertiser_id=parse_id("advertiser", advertiser),
        items=_batch_items(params),
        creating=creating,
    )
    ids = await domain.ad_group_ids(session, [r.campaign.id for r in results if r.campaign is not None])
    now = clock.now()
    return [_result(r, found, now, ids) for r in results]


@router.post("/ads/v3/advertisers/{advertiser}/campaigns/batch/")
async def ads_v3_create_advertiser_campaigns_batch_handler(
    advertiser: str,
    request: Request,
    principal: Principal = Depends(WRITE),
    session: AsyncSession = Depends(get_session),
) -> list[dict[str, Any]]:
    return await _batch(request, principal, session, advertiser, creating=True)


@router.put("/ads/v3/advertisers/{advertiser}/campaigns/batch/")
async def ads_v3_update_advertiser_campaigns_batch_handler(
    advertiser: str,
    request: Request,
    principal: Principal = Depends(WRITE),
    session: AsyncSession = Depends(get_session),
) -> list[dict[str, Any]]:
    return await _batch(request, principal, session, advertiser, creating=False)
