"""The batch advertiser entities report (``/ads/v3/advertisers/{advertiser}/entities/batch_report/``).

POST (optional ``entity_types``: CAMPAIGN, AD_GROUP, PIN_PROMOTION) answers a BatchID;
GET ``?batch_id=`` answers the BatchEntitiesJob: ``status`` QUEUED, PROCESSING, SUCCEEDED or
FAILED, ``created_time``, and once SUCCEEDED a ``download_url`` signed for an hour from the
read (no token needed), or an ``error`` map once FAILED. File layout: see
``domain/reporting/batch_entities.py``.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from fastapi import Depends
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request

from pinapi.api.common.auth import access
from pinapi.api.common.context import get_runtime, get_session
from pinapi.api.common.formats import unix_seconds
from pinapi.api.common.params import read_params
from pinapi.api.common.routing import router as make_router
from pinapi.domain.access.principal import Principal
from pinapi.domain.ads.campaigns import parse_id
from pinapi.domain.reporting import batch_entities, exports

router = make_router(tags=["batch entities report"])
READ = access("read_advertisers")
LINK_TTL = timedelta(hours=1)
PATH = "/ads/v3/advertisers/{advertiser}/entities/batch_report/"


@router.post(PATH)
async def ads_v3_create_advertiser_entities_batch_report_handler(
    advertiser: str,
    request: Request,
    principal: Principal = Depends(READ),
    session: AsyncSession = Depends(get_session),
) -> dict[str, Any]:
    runtime = get_runtime(request)
    params = await read_params(request)
    batch = await batch_entities.request(
        session,
        clock=runtime.clock,
        principal=principal,
        advertiser_id=parse_id("advertiser", advertiser),
        entity_types=params.items("entity_types"),
        data_dir=runtime.settings.data_dir,
    )
    return {"batch_id": batch.batch_id}


@router.get(PATH)
async def ads_v3_get_advertiser_entities_batch_report_handler(
    advertiser: str,
    request: Request,
    principal: Principal = Depends(READ),
    session: AsyncSession = Depends(get_session),
) -> dict[str, Any]:
    runtime = get_runtime(request)
    params = await read_params(request)
    view = await batch_entities.poll(
        session,
        principal=principal,
        advertiser_id=parse_id("advertiser", advertiser),
        batch_id=params.text("batch_id", max_len=100),
    )
    body: dict[str, Any] = {
        "batch_id": view.batch.batch_id,
        "status": view.status,
        "created_time": unix_seconds(view.batch.created_at),
        "entity_types": list(view.batch.entity_types),
    }
    if view.report_key is not None:
        base = runtime.settings.public_url or str(request.base_url)
        expires_at = runtime.clock.now() + LINK_TTL
        body["download_url"] = exports.download_url(runtime, base, view.report_key, expires_at=expires_at)
    if view.error is not None:
        body["error"] = {"message": view.error}
    return body
