"""Ad groups (``/ads/v3/ad_groups/…``); the ad group's pin promotions live with promotions."""

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
from pinapi.api.common.formats import unix_seconds
from pinapi.api.common.params import read_params
from pinapi.api.common.routing import router as make_router
from pinapi.domain.access.principal import Principal
from pinapi.domain.ads import ad_groups as domain
from pinapi.domain.ads import reads
from pinapi.domain.ads.campaigns import parse_id
from pinapi.domain.measurement import spend
from pinapi.store.tables import AdGroup, Advertiser, Campaign

router = make_router(tags=["ad groups"])
READ = access("read_campaigns")
WRITE = access("write_campaigns")


def ad_group_body(
    g: AdGroup,
    campaign: Campaign,
    advertiser: Advertiser,
    now: datetime,
    pin_promotion_ids: list[str],
    *,
    spent: int = 0,
    campaign_spent: int = 0,
) -> dict[str, Any]:
    return {
        "id": str(g.id),
        "campaign_id": str(g.campaign_id),
        "advertiser_id": str(g.advertiser_id),
        "name": g.name,
        "type": "adgroup",
        "status": g.status,
        "summary_status": domain.summary_status_of(g, campaign, advertiser, now, spent, campaign_spent),
        "budget_type": g.budget_type,
        "budget_in_micro_currency": g.budget_in_micro_currency,
        "bid_in_micro_currency": g.bid_in_micro_currency,
        "bid_strategy_type": g.bid_strategy_type,
        "billable_event": g.billable_event,
        "pacing_delivery_type": g.pacing_delivery_type,
        "placement_group": g.placement_group,
        "campaign_objective_type": campaign.objective_type,
        "conversion_learning_mode_type": g.conversion_learning_mode_type,
        "auto_targeting_enabled": g.auto_targeting_enabled,
        "lifetime_frequency_cap": g.lifetime_frequency_cap,
        "start_time": unix_seconds(g.start_time),
        "end_time": unix_seconds(g.end_time),
        "created_time": unix_seconds(g.created_at),
        "updated_time": unix_seconds(g.updated_at),
        "targeting_spec": g.targeting_spec or {},
        "optimization_goal_metadata": g.optimization_goal_metadata,
        "tracking_urls": None if g.tracking_urls is None else orjson.dumps(g.tracking_urls).decode(),
        "pin_promotion_ids": pin_promotion_ids,
        "entity_version": g.entity_version,
    }


async def ad_group_bodies(
    session: AsyncSession, rows: list[AdGroup], campaign: Campaign, advertiser: Advertiser, now: datetime
) -> list[dict[str, Any]]:
    ids = await domain.pin_promotion_ids(session, [g.id for g in rows])
    spent = await spend.lifetime_by_ad_group(session, [g.id for g in rows])
    campaign_spent = (await spend.lifetime_by_campaign(session, [campaign.id]))[campaign.id]
    return [
        ad_group_body(
            g, campaign, advertiser, now, ids[g.id], spent=spent[g.id], campaign_spent=campaign_spent
        )
        for g in rows
    ]


async def _one(session: AsyncSession, loaded: domain.Loaded, now: datetime) -> dict[str, Any]:
    return (await ad_group_bodies(session, [loaded.ad_group], loaded.campaign, loaded.advertiser, now))[0]


@router.post("/ads/v3/ad_groups/")
async def ads_v3_create_ad_group_handler(
    request: Request, principal: Principal = Depends(WRITE), session: AsyncSession = Depends(get_session)
) -> dict[str, Any]:
    params = await read_params(request)
    clock = get_runtime(request).clock
    values = {k: params.raw(k) for k in params.values}
    loaded = await domain.create(session, clock=clock, principal=principal, values=values)
    return await _one(session, loaded, clock.now())


@router.get("/ads/v3/ad_groups/{ad_group}/")
async def ads_v3_get_ad_group_handler(
    ad_group: str, request: Request, principal: Principal = Depends(READ)
) -> dict[str, Any]:
    # One statement through the runtime's reader, no request session (docs/performance.md).
    runtime = get_runtime(request)
    found = await reads.read_ad_group(
        runtime.reader,
        principal=principal,
        ad_group_id=parse_id("ad_group", ad_group),
        action="AD_GROUP_READ",
    )
    now = runtime.clock.now()
    body = _BODIES.get(found)
    if body is None:
        return _BODIES.put(
            found,
            ad_group_body(
                found.ad_group,
                found.campaign,
                found.advertiser,
                now,
                found.pin_promotion_ids,
                spent=found.spent,
                campaign_spent=found.campaign_spent,
            ),
        )
    # The one field that moves with the clock (start and end times passing).
    body["summary_status"] = domain.summary_status_of(
        found.ad_group, found.campaign, found.advertiser, now, found.spent, found.campaign_spent
    )
    return body


_BODIES = BodyMemo()


@router.put("/ads/v3/ad_groups/{ad_group}/")
async def ads_v3_update_ad_group_handler(
    ad_group: str,
    request: Request,
    principal: Principal = Depends(WRITE),
    session: AsyncSession = Depends(get_session),
) -> dict[str, Any]:
    params = await read_params(request)
    clock = get_runtime(request).clock
    values = {k: params.raw(k) for k in params.values}
    loaded = await domain.update(
        session, clock=clock, principal=principal, ad_group_id=parse_id("ad_group", ad_group), values=values
    )
    return await _one(session, loaded, clock.now())
