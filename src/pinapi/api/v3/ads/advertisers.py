"""Advertisers and their campaign lists (``/ads/v3/advertisers/…``).

The advertiser's boards, pins, order lines, offers and billing routes live with the ads
modules that own them; this module serves the account itself and its campaigns.
"""

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
from pinapi.api.v3.ads.campaigns import campaign_bodies
from pinapi.domain.access import sharing
from pinapi.domain.access.principal import Principal
from pinapi.domain.ads import advertisers as domain
from pinapi.domain.ads import campaigns
from pinapi.domain.ads.campaigns import parse_id

router = make_router(tags=["advertisers"])
READ = access("read_advertisers")
WRITE = access("write_advertisers")
READ_CAMPAIGNS = access("read_campaigns")


def advertiser_body(v: domain.Visible, *, campaign_ids: list[str] | None = None) -> dict[str, Any]:
    a = v.advertiser
    body: dict[str, Any] = {
        "id": str(a.id),
        "name": a.name,
        "type": "advertiser",
        "status": a.status,
        "owner_user_id": str(a.owner_user_id),
        "country": a.country,
        "currency": a.currency,
        "timezone": a.timezone,
        "created_time": unix_seconds(a.created_at),
        "updated_time": unix_seconds(a.updated_at),
        "merchant_id": None,
        "is_agency": False,
        "is_agency_paying": False,
        "is_one_tap": a.is_one_tap,
        "test_account": a.test_account,
        "source_integration_platform_type": "DEFAULT",
        "roles": v.roles,
        "actions": v.actions,
    }
    if campaign_ids is not None:
        body["campaign_ids"] = campaign_ids
    return body


@router.get("/ads/v3/advertisers/")
async def ads_v3_get_advertisers_handler(
    request: Request,
    principal: Principal = Depends(READ),
    session: AsyncSession = Depends(get_session),
) -> Page:
    params = await read_params(request)
    owner = params.raw("owner_user_id")
    owner_id = None if owner in (None, "", "me") else parse_id("owner_user_id", owner)
    include_acl = params.flag("include_acl", False)
    limit = page_size_from(params.raw("page_size"))
    context = f"advertisers:{principal.user_id}:{owner_id}:{int(include_acl)}"
    raw = params.text("bookmark")
    runtime = get_runtime(request)
    after = runtime.bookmarks.decode(raw, context) if raw else None
    rows, next_key = await domain.list_visible(
        session,
        principal=principal,
        owner_user_id=owner_id,
        include_acl=include_acl,
        after=after,
        limit=limit,
    )
    bookmark = runtime.bookmarks.encode(context, next_key) if next_key is not None else None
    return Page([advertiser_body(v) for v in rows], bookmark)


@router.get("/ads/v3/advertisers/me/")
async def ads_v3_get_advertiser_me_handler(
    principal: Principal = Depends(READ), session: AsyncSession = Depends(get_session)
) -> dict[str, Any]:
    v = await domain.me(session, principal=principal)
    return advertiser_body(v, campaign_ids=await domain.campaign_ids(session, v.advertiser.id))


@router.post("/ads/v3/advertisers/")
async def ads_v3_create_advertiser_handler(
    request: Request,
    principal: Principal = Depends(WRITE),
    session: AsyncSession = Depends(get_session),
) -> dict[str, Any]:
    params = await read_params(request)
    v = await domain.create(
        session,
        clock=get_runtime(request).clock,
        principal=principal,
        name=params.text("name", max_len=500),
        country=params.text("country", max_len=10),
        currency=params.text("currency", max_len=10),
        timezone=params.text("timezone", max_len=64),
        tos_id=params.integer("tos_id", hi=2**63 - 1),
    )
    return advertiser_body(v, campaign_ids=[])


@router.get("/ads/v3/advertisers/{advertiser}/")
async def ads_v3_get_advertiser_handler(
    advertiser: str, principal: Principal = Depends(READ), session: AsyncSession = Depends(get_session)
) -> dict[str, Any]:
    v = await domain.get_visible(
        session, principal=principal, advertiser_id=parse_id("advertiser", advertiser)
    )
    return advertiser_body(v, campaign_ids=await domain.campaign_ids(session, v.advertiser.id))


@router.get("/ads/v3/advertisers/{advertiser}/campaigns/")
async def ads_v3_get_advertiser_campaigns_handler(
    advertiser: str,
    request: Request,
    principal: Principal = Depends(READ_CAMPAIGNS),
    session: AsyncSession = Depends(get_session),
) -> Page:
    found, _ = await sharing.require_action(
        session, principal=principal, advertiser_id=parse_id("advertiser", advertiser), action="CAMPAIGN_READ"
    )
    params = await read_params(request)
    status = params.choice("campaign_status", campaigns.LIST_STATUSES, "ALL", upper=True) or "ALL"
    managed = params.choice("managed_status", campaigns.MANAGED_STATUSES, "ALL", upper=True) or "ALL"
    limit = page_size_from(params.raw("page_size"))
    context = f"advertiser:{found.id}:campaigns:{status}:{managed}"
    raw = params.text("bookmark")
    runtime = get_runtime(request)
    after = runtime.bookmarks.decode(raw, context) if raw else None
    page = await campaigns.list_for(
        session,
        advertiser_id=found.id,
        campaign_status=status,
        managed_status=managed,
        after=after,
        limit=limit,
    )
    items = await campaign_bodies(session, page.rows, found, runtime.clock.now())
    bookmark = runtime.bookmarks.encode(context, page.next_key) if page.next_key is not None else None
    return Page(items, bookmark)


@router.get("/ads/v3/advertisers/{advertiser}/campaigns/summary/")
async def ads_v3_get_advertiser_campaigns_summary_handler(
    advertiser: str,
    request: Request,
    principal: Principal = Depends(READ_CAMPAIGNS),
    session: AsyncSession = Depends(get_session),
) -> dict[str, int]:
    found, _ = await sharing.require_action(
        session, principal=principal, advertiser_id=parse_id("advertiser", advertiser), action="CAMPAIGN_READ"
    )
    counts = await campaigns.summary(session, advertiser=found, now=get_runtime(request).clock.now())
    return counts
