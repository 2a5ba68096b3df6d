"""The v4 synchronous delivery metrics (``/ads/v4/advertisers/{advertiser}/…delivery_metrics``).

Clients written in the last months of v3 (Pinterest's own quickstart among them) fetched sync
metrics from these v4 paths while everything else still spoke v3, so pinapi serves them with
the v3 envelope and the same rows as the v3 routes: the advertiser's total, or one row set per
id listed in ``campaign_ids``, ``ad_group_ids`` or ``ad_ids`` (an ad is a pin promotion; its
rows carry ``AD_ID``). Listed ids must belong to the advertiser in the path: one that does not
(or does not exist) is refused by name rather than silently answering nothing for it.
Both ``…/delivery_metrics`` and ``…/delivery_metrics/`` reach these routes: the app serves
every ``/ads/`` path with and without its trailing slash.
"""

from __future__ import annotations

from typing import Any

from fastapi import Depends
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request

from pinapi.api.common.context import get_session
from pinapi.api.common.params import Params, read_params
from pinapi.api.common.routing import router as make_router
from pinapi.api.v3.ads.delivery_metrics import (
    ACTION,
    ADVERTISER_READ,
    CAMPAIGN_READ,
    PROMOTION_READ,
    report,
)
from pinapi.domain.access import sharing
from pinapi.domain.access.principal import Principal
from pinapi.domain.ads.campaigns import parse_id
from pinapi.domain.errors import Invalid
from pinapi.store.tables import AdGroup, Advertiser, Campaign, PinPromotion

router = make_router(tags=["delivery metrics (v4)"])
MAX_IDS = 250  # v4's (and v5's) limit on an id list

_Entity = type[Campaign] | type[AdGroup] | type[PinPromotion]


async def _advertiser(session: AsyncSession, principal: Principal, raw: str) -> Advertiser:
    found, _ = await sharing.require_action(
        session, principal=principal, advertiser_id=parse_id("advertiser", raw), action=ACTION
    )
    return found


async def _ids(
    session: AsyncSession, params: Params, field: str, model: _Entity, advertiser: Advertiser
) -> tuple[int, ...]:
    """The listed ids in order, once each; each must name an entity of ``advertiser``."""
    ids = tuple(dict.fromkeys(parse_id(field, raw) for raw in params.items(field)))
    if not ids:
        raise Invalid(field, "is required: list at least one id")
    if len(ids) > MAX_IDS:
        raise Invalid(field, f"lists at most {MAX_IDS} ids")
    owned = set(
        await session.scalars(select(model.id).where(model.id.in_(ids), model.advertiser_id == advertiser.id))
    )
    foreign = [i for i in ids if i not in owned]
    if foreign:
        raise Invalid(field, f"{foreign[0]} is not an id of advertiser {advertiser.id}")
    return ids


@router.get("/ads/v4/advertisers/{advertiser}/delivery_metrics/")
async def get_advertiser_delivery_metrics_handler(
    advertiser: str,
    request: Request,
    principal: Principal = Depends(ADVERTISER_READ),
    session: AsyncSession = Depends(get_session),
) -> list[dict[str, Any]]:
    found = await _advertiser(session, principal, advertiser)
    return await report(request, session, advertiser=found, level="ADVERTISER", id_field="ADVERTISER_ID")


@router.get("/ads/v4/advertisers/{advertiser}/campaigns/delivery_metrics/")
async def get_campaign_delivery_metrics_handler(
    advertiser: str,
    request: Request,
    principal: Principal = Depends(CAMPAIGN_READ),
    session: AsyncSession = Depends(get_session),
) -> list[dict[str, Any]]:
    found = await _advertiser(session, principal, advertiser)
    ids = await _ids(session, await read_params(request), "campaign_ids", Campaign, found)
    return await report(
        request, session, advertiser=found, level="CAMPAIGN", id_field="CAMPAIGN_ID", campaign_ids=ids
    )


@router.get("/ads/v4/advertisers/{advertiser}/ad_groups/delivery_metrics/")
async def get_ad_group_delivery_metrics_handler(
    advertiser: str,
    request: Request,
    principal: Principal = Depends(CAMPAIGN_READ),
    session: AsyncSession = Depends(get_session),
) -> list[dict[str, Any]]:
    found = await _advertiser(session, principal, advertiser)
    ids = await _ids(session, await read_params(request), "ad_group_ids", AdGroup, found)
    return await report(
        request, session, advertiser=found, level="AD_GROUP", id_field="AD_GROUP_ID", ad_group_ids=ids
    )


@router.get("/ads/v4/advertisers/{advertiser}/ads/delivery_metrics/")
async def get_ad_delivery_metrics_handler(
    advertiser: str,
    request: Request,
    principal: Principal = Depends(PROMOTION_READ),
    session: AsyncSession = Depends(get_session),
) -> list[dict[str, Any]]:
    found = await _advertiser(session, principal, advertiser)
    ids = await _ids(session, await read_params(request), "ad_ids", PinPromotion, found)
    return await report(
        request, session, advertiser=found, level="PIN_PROMOTION", id_field="AD_ID", pin_promotion_ids=ids
    )
