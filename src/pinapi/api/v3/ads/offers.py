"""Marketing offers: ``POST /ads/v3/advertisers/{advertiser}/marketing_offers/{offer_code}/redeem/``."""

from __future__ import annotations

from typing import Any

from fastapi import Depends
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request

from pinapi.api.common.auth import access
from pinapi.api.common.context import get_runtime, get_session
from pinapi.api.common.formats import unix_seconds
from pinapi.api.common.routing import router as make_router
from pinapi.domain.access.principal import Principal
from pinapi.domain.ads import offers as domain
from pinapi.domain.errors import Invalid

router = make_router(tags=["marketing offers"])


@router.post("/ads/v3/advertisers/{advertiser}/marketing_offers/{offer_code}/redeem/")
async def ads_v3_redeem_marketing_offer_handler(
    advertiser: str,
    offer_code: str,
    request: Request,
    principal: Principal = Depends(access("write_advertisers")),
    session: AsyncSession = Depends(get_session),
) -> dict[str, Any]:
    if not advertiser.isdigit():
        raise Invalid("advertiser", "must be a numeric id")
    credit = await domain.redeem(
        session,
        clock=get_runtime(request).clock,
        principal=principal,
        advertiser_id=int(advertiser),
        offer_code=offer_code,
    )
    return {
        "id": str(credit.id),
        "type": "marketingoffer",
        "advertiser_id": str(credit.advertiser_id),
        "offer_code": credit.offer_code,
        "name": credit.name,
        "status": "REDEEMED",
        "currency": credit.currency,
        "credit_in_micro_currency": credit.amount_micro,
        "remaining_in_micro_currency": credit.remaining_micro,
        "redeemed_time": unix_seconds(credit.created_at),
        "expiration_time": unix_seconds(credit.expires_at),
    }
