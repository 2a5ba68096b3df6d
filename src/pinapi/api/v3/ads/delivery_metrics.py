"""Synchronous delivery metrics (``/ads/v3/{level}/{id}/delivery_metrics/`` and the targeting
breakdowns ``…/targeting_delivery_metrics/``).

v3 never published the sync answer's shape, so pinapi answers what the async JSON report
and the v4 routes carry: ``data`` is a JSON array of flat rows, one per entity and time
bucket (and targeting value), each naming its entity by the level's id field as a decimal
string, its bucket by ``DATE`` (and ``HOUR``), and then one key per requested metric. An
entity with no delivery in the range has no row, so a silent range answers ``[]``.

The numbers are the reporting core's (``domain.reporting``): this module only resolves the
path's entity with the caller's rights on it, hands the merged parameters to
``parse_query`` (which names any bad field) and shapes the rows. Each route needs its
level's read scope and AD_ANALYTICS_READ on the owning advertiser, and counts against the
METRICS rate-limit category.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

from fastapi import Depends
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request

from pinapi.api.common.auth import access
from pinapi.api.common.context import get_runtime, get_session
from pinapi.api.common.params import Params, read_params
from pinapi.api.common.ratelimit import Category
from pinapi.api.common.routing import router as make_router
from pinapi.domain.access import sharing
from pinapi.domain.access.principal import Principal
from pinapi.domain.ads import ad_groups, campaigns, pin_promotions
from pinapi.domain.ads.campaigns import parse_id
from pinapi.domain.errors import Invalid
from pinapi.domain.reporting.export_params import ATTRIBUTION_TYPES
from pinapi.domain.reporting.query import Row, parse_query, run
from pinapi.store.tables import Advertiser, PinPromotion

router = make_router(tags=["delivery metrics"])
ADVERTISER_READ = access("read_advertisers", category=Category.METRICS)
CAMPAIGN_READ = access("read_campaigns", category=Category.METRICS)
PROMOTION_READ = access("read_pin_promotions", category=Category.METRICS)
ACTION = "AD_ANALYTICS_READ"

# The entity a report covers comes from the path (or the v4 id lists), never from these.
_NOT_QUERY = frozenset(
    {
        "access_token",
        "__body__",
        "level",
        "campaign_ids",
        "ad_group_ids",
        "pin_promotion_ids",
        "ad_ids",
        "attribution_types",
    }
)


# List parameters: a comma string, repeated keys or a JSON array string all read the same.
_LISTS = ("metrics", "columns", "targeting_types", "targeting_type")


def query_values(params: Params) -> dict[str, Any]:
    """The merged request parameters ``parse_query`` reads, minus auth and entity selectors."""
    values = {k: v for k, v in params.values.items() if k not in _NOT_QUERY}
    for name in _LISTS:
        if name in values:
            values[name] = params.items(name)
    return values


def check_attribution(params: Params) -> None:
    """``attribution_types`` (v4's INDIVIDUAL or HOUSEHOLD), read as async reports read it: the
    simulated population has one pinner per household, so both give the same conversions."""
    for value in params.items("attribution_types"):
        if value.upper() not in ATTRIBUTION_TYPES:
            raise Invalid("attribution_types", f"must be among {', '.join(ATTRIBUTION_TYPES)}")


def wire_rows(rows: Sequence[Row], id_field: str) -> list[dict[str, Any]]:
    """Rows as the wire carries them: id, bucket, targeting, then the metrics in query order."""
    out: list[dict[str, Any]] = []
    for row in rows:
        item: dict[str, Any] = {id_field: str(row.entity_id)}
        if row.date is not None:
            item["DATE"] = row.date.isoformat()
        if row.hour is not None:
            item["HOUR"] = row.hour
        if row.targeting_type is not None:
            item["TARGETING_TYPE"] = row.targeting_type
            item["TARGETING_VALUE"] = row.targeting_value
        item.update(row.values)
        out.append(item)
    return out


async def report(
    request: Request,
    session: AsyncSession,
    *,
    advertiser: Advertiser,
    level: str,
    id_field: str,
    campaign_ids: tuple[int, ...] | None = None,
    ad_group_ids: tuple[int, ...] | None = None,
    pin_promotion_ids: tuple[int, ...] | None = None,
) -> list[dict[str, Any]]:
    """Parse the request's report parameters, restrict them to the given ids, and run."""
    params = await read_params(request)
    check_attribution(params)
    now = get_runtime(request).clock.now()
    query = parse_query(query_values(params), advertiser=advertiser, now=now, level=level)
    query = dataclasses.replace(
        query, campaign_ids=campaign_ids, ad_group_ids=ad_group_ids, pin_promotion_ids=pin_promotion_ids
    )
    return wire_rows(await run(session, query, now=now), id_field)


async def promotion_advertiser(
    session: AsyncSession, principal: Principal, raw: str
) -> tuple[int, Advertiser]:
    """The pin promotion's id and advertiser; hidden (not found) without any role on it."""
    promotion_id = parse_id("pin_promotion", raw)
    promotion = await session.get(PinPromotion, promotion_id)
    if promotion is None:
        raise pin_promotions.PinPromotionNotFound()
    advertiser = await pin_promotions.require_object_action(
        session,
        principal=principal,
        advertiser_id=promotion.advertiser_id,
        action=ACTION,
        missing=pin_promotions.PinPromotionNotFound(),
    )
    return promotion_id, advertiser


async def ad_group_report(
    request: Request, session: AsyncSession, principal: Principal, raw: str, level: str
) -> list[dict[str, Any]]:
    """One ad group's rows at ``level`` (AD_GROUP or AD_GROUP_TARGETING)."""
    loaded = await ad_groups.load(
        session, principal=principal, ad_group_id=parse_id("ad_group", raw), action=ACTION
    )
    return await report(
        request,
        session,
        advertiser=loaded.advertiser,
        level=level,
        id_field="AD_GROUP_ID",
        ad_group_ids=(loaded.ad_group.id,),
    )


async def promotion_report(
    request: Request, session: AsyncSession, principal: Principal, raw: str, level: str
) -> list[dict[str, Any]]:
    """One pin promotion's rows at ``level`` (PIN_PROMOTION or PIN_PROMOTION_TARGETING)."""
    promotion_id, advertiser = await promotion_advertiser(session, principal, raw)
    return await report(
        request,
        session,
        advertiser=advertiser,
        level=level,
        id_field="PIN_PROMOTION_ID",
        pin_promotion_ids=(promotion_id,),
    )


@router.get("/ads/v3/advertisers/{advertiser}/delivery_metrics/")
async def ads_v3_advertiser_delivery_metrics_handler(
    advertiser: str,
    request: Request,
    principal: Principal = Depends(ADVERTISER_READ),
    session: AsyncSession = Depends(get_session),
) -> list[dict[str, Any]]:
    found, _ = await sharing.require_action(
        session, principal=principal, advertiser_id=parse_id("advertiser", advertiser), action=ACTION
    )
    return await report(request, session, advertiser=found, level="ADVERTISER", id_field="ADVERTISER_ID")


@router.get("/ads/v3/campaigns/{campaign}/delivery_metrics/")
async def ads_v3_campaign_delivery_metrics_handler(
    campaign: str,
    request: Request,
    principal: Principal = Depends(CAMPAIGN_READ),
    session: AsyncSession = Depends(get_session),
) -> list[dict[str, Any]]:
    loaded = await campaigns.load(
        session, principal=principal, campaign_id=parse_id("campaign", campaign), action=ACTION
    )
    return await report(
        request,
        session,
        advertiser=loaded.advertiser,
        level="CAMPAIGN",
        id_field="CAMPAIGN_ID",
        campaign_ids=(loaded.campaign.id,),
    )


@router.get("/ads/v3/ad_groups/{ad_group}/delivery_metrics/")
async def ads_v3_ad_group_delivery_metrics_handler(
    ad_group: str,
    request: Request,
    principal: Principal = Depends(CAMPAIGN_READ),
    session: AsyncSession = Depends(get_session),
) -> list[dict[str, Any]]:
    return await ad_group_report(request, session, principal, ad_group, "AD_GROUP")


@router.get("/ads/v3/ad_groups/{ad_group}/targeting_delivery_metrics/")
async def ads_v3_ad_group_per_targeting_delivery_metrics_handler(
    ad_group: str,
    request: Request,
    principal: Principal = Depends(CAMPAIGN_READ),
    session: AsyncSession = Depends(get_session),
) -> list[dict[str, Any]]:
    return await ad_group_report(request, session, principal, ad_group, "AD_GROUP_TARGETING")


@router.get("/ads/v3/pin_promotions/{pin_promotion}/delivery_metrics/")
async def ads_v3_pin_promotion_delivery_metrics_handler(
    pin_promotion: str,
    request: Request,
    principal: Principal = Depends(PROMOTION_READ),
    session: AsyncSession = Depends(get_session),
) -> list[dict[str, Any]]:
    return await promotion_report(request, session, principal, pin_promotion, "PIN_PROMOTION")


@router.get("/ads/v3/pin_promotions/{pin_promotion}/targeting_delivery_metrics/")
async def ads_v3_pin_promotion_per_targeting_delivery_metrics_handler(
    pin_promotion: str,
    request: Request,
    principal: Principal = Depends(PROMOTION_READ),
    session: AsyncSession = Depends(get_session),
) -> list[dict[str, Any]]:
    return await promotion_report(request, session, principal, pin_promotion, "PIN_PROMOTION_TARGETING")
