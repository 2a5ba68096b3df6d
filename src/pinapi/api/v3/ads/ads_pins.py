"""Ads pins: ``/ads/v3/pins/{pin}/`` (GET, PUT, DELETE), ``/ads/v3/pincarousel/images/upload/``
and ``/ads/v3/advertisers/{advertiser}/pins/`` (and ``…/pins/search/?query=``).

As for ads boards, the role on the advertiser decides (``domain/ads/content.py``) and the
organic domain does the work, with organic shapes.
"""

from __future__ import annotations

from typing import Any

from fastapi import Depends
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request

from pinapi.api.common.auth import access
from pinapi.api.common.context import get_runtime, get_session
from pinapi.api.common.envelope import Page
from pinapi.api.common.params import read_params
from pinapi.api.common.routing import router as make_router
from pinapi.api.v3 import pins as organic_pins
from pinapi.api.v3.ads.ads_boards import advertiser_param
from pinapi.domain.access.principal import Principal
from pinapi.domain.ads import content
from pinapi.domain.errors import Invalid
from pinapi.domain.organic import pins as pin_lib
from pinapi.domain.organic.visibility import PinNotFound

router = make_router(tags=["ads pins"])


def pin_id(raw: str) -> int:
    return organic_pins.path_id(raw, PinNotFound())


@router.get("/ads/v3/pins/{pin}/")
async def ads_v3_get_pin_handler(
    pin: str,
    request: Request,
    principal: Principal = Depends(access("read_pins")),
    session: AsyncSession = Depends(get_session),
) -> dict[str, Any]:
    params = await read_params(request)
    found, _, acting = await content.pin_for(
        session, principal=principal, pin_id=pin_id(pin), kind="READ", advertiser_id=advertiser_param(params)
    )
    view = await pin_lib.get_pin(session, principal=acting.principal, pin_id=found.id)
    return organic_pins.view_body(
        view, base_url=get_runtime(request).settings.base_url(), principal=acting.principal
    )


@router.put("/ads/v3/pins/{pin}/")
async def ads_v3_update_pin_handler(
    pin: str,
    request: Request,
    principal: Principal = Depends(access("write_pins")),
    session: AsyncSession = Depends(get_session),
) -> dict[str, Any]:
    params = await read_params(request)
    found, _, acting = await content.pin_for(
        session,
        principal=principal,
        pin_id=pin_id(pin),
        kind="UPDATE",
        advertiser_id=advertiser_param(params),
    )
    fields: dict[str, str | None] = {
        "title": params.text("title", max_len=1000),
        "description": params.text("description", max_len=5000),
        "alt_text": params.text("alt_text", max_len=5000),
    }
    for name in ("link", "source_url"):
        if name in params:
            fields["link"] = params.text(name, max_len=2000) or None
    await content.update_pin(session, pin=found, fields=fields)
    view = await pin_lib.get_pin(session, principal=acting.principal, pin_id=found.id)
    return organic_pins.view_body(
        view, base_url=get_runtime(request).settings.base_url(), principal=acting.principal
    )


@router.delete("/ads/v3/pins/{pin}/")
async def ads_v3_delete_pin_handler(
    pin: str,
    request: Request,
    principal: Principal = Depends(access("write_pins")),
    session: AsyncSession = Depends(get_session),
) -> None:
    params = await read_params(request)
    found, _, acting = await content.pin_for(
        session,
        principal=principal,
        pin_id=pin_id(pin),
        kind="UPDATE",
        advertiser_id=advertiser_param(params),
    )
    await pin_lib.delete_pin(session, principal=acting.principal, pin_id=found.id)


@router.put("/ads/v3/pincarousel/images/upload/")
async def ads_v3_upload_pin_carousel_images_handler(
    request: Request,
    principal: Principal = Depends(access("write_pins")),
    session: AsyncSession = Depends(get_session),
) -> list[dict[str, Any]]:
    params = await read_params(request)
    advertiser_id = advertiser_param(params)
    if advertiser_id is None:
        raise Invalid("advertiser_id", "is required: the images belong to that advertiser's owner")
    acting = await content.for_advertiser(session, principal=principal, advertiser_id=advertiser_id)
    acting.require("PIN_CREATE")
    return await organic_pins.v3_upload_pin_carousel_images(
        request=request, principal=acting.principal, session=session
    )


async def _owner_pins(
    request: Request, session: AsyncSession, principal: Principal, advertiser: str, *, search: bool
) -> Page:
    if not advertiser.isdigit():
        raise Invalid("advertiser", "must be a numeric id")
    params = await read_params(request)
    runtime = get_runtime(request)
    query = params.req_text("query", max_len=content.SEARCH_MAX).strip() if search else None
    acting = await content.for_advertiser(session, principal=principal, advertiser_id=int(advertiser))
    ctx = f"advertiser:{advertiser}:pins:{','.join(acting.readable_privacies())}:{query or ''}"
    after, limit = await organic_pins.page_args(request, ctx)
    page = await content.owner_pins(session, acting=acting, query=query, after=after, limit=limit)
    items = await organic_pins.pin_items(
        session, page.rows, base_url=runtime.settings.base_url(), principal=acting.principal
    )
    return organic_pins.next_page(runtime, ctx, page, items)


@router.get("/ads/v3/advertisers/{advertiser}/pins/")
async def ads_v3_get_advertiser_pins_handler(
    advertiser: str,
    request: Request,
    principal: Principal = Depends(access("read_pins")),
    session: AsyncSession = Depends(get_session),
) -> Page:
    return await _owner_pins(request, session, principal, advertiser, search=False)


@router.get("/ads/v3/advertisers/{advertiser}/pins/search/")
async def ads_v3_search_advertiser_pins_handler(
    advertiser: str,
    request: Request,
    principal: Principal = Depends(access("read_pins")),
    session: AsyncSession = Depends(get_session),
) -> Page:
    return await _owner_pins(request, session, principal, advertiser, search=True)
