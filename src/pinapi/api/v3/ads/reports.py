"""Async delivery-metrics reports (``/ads/v3/reports/async/{advertiser}/delivery_metrics/``).

POST takes the report's parameters from the query, a form or a JSON body (v3 clients use
all three) and answers ``{"token": …}``; GET with ``?token=`` answers
``{"report_status": "IN_PROGRESS"}`` (HTTP 200, as the v3 client tests expect) until the
worker has written the file, then ``{"report_status": "FINISHED", "url": …}``. Both need
``read_advertisers``, AD_ANALYTICS_READ on the advertiser, and count as METRICS calls.
"""

from __future__ import annotations

from typing import Any

from fastapi import Depends
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request

from pinapi.api.common.auth import access
from pinapi.api.common.context import get_runtime, get_session
from pinapi.api.common.params import Params, read_params
from pinapi.api.common.ratelimit import Category
from pinapi.api.common.routing import router as make_router
from pinapi.domain.access.principal import Principal
from pinapi.domain.ads.campaigns import parse_id
from pinapi.domain.errors import Invalid
from pinapi.domain.reporting import exports, reports

router = make_router(tags=["reports"])
METRICS = access("read_advertisers", category=Category.METRICS)
PATH = "/ads/v3/reports/async/{advertiser}/delivery_metrics/"

# List parameters the core reads as comma strings: a JSON array string or repeated keys
# arrive here too, and are flattened the one way every route reads them.
_LISTS = (
    "metrics",
    "columns",
    "targeting_types",
    "targeting_type",
    "campaign_ids",
    "ad_group_ids",
    "pin_promotion_ids",
)


def report_values(params: Params) -> dict[str, Any]:
    values = {k: v for k, v in params.values.items() if k not in ("access_token", "__body__")}
    for name in _LISTS:
        if name in values:
            values[name] = params.items(name)
    return values


@router.post(PATH)
async def ads_v3_create_advertiser_delivery_metrics_report(
    advertiser: str,
    request: Request,
    principal: Principal = Depends(METRICS),
    session: AsyncSession = Depends(get_session),
) -> dict[str, Any]:
    runtime = get_runtime(request)
    report = await reports.create(
        session,
        clock=runtime.clock,
        principal=principal,
        advertiser_id=parse_id("advertiser", advertiser),
        values=report_values(await read_params(request)),
        data_dir=runtime.settings.data_dir,
    )
    return {"token": report.token}


@router.get(PATH)
async def ads_v3_get_advertiser_delivery_metrics_report_handler(
    advertiser: str,
    request: Request,
    principal: Principal = Depends(METRICS),
    session: AsyncSession = Depends(get_session),
) -> dict[str, Any]:
    runtime = get_runtime(request)
    token = (await read_params(request)).text("token", max_len=200)
    if not token:
        raise Invalid("token", "is required")
    state = await reports.status(
        session,
        clock=runtime.clock,
        principal=principal,
        advertiser_id=parse_id("advertiser", advertiser),
        token=token,
    )
    if state.file_key is None:
        return {"report_status": state.report_status}
    base = runtime.settings.public_url or str(request.base_url)
    url = exports.download_url(
        runtime, base, state.file_key, expires_at=runtime.clock.now() + reports.URL_TTL
    )
    return {"report_status": state.report_status, "url": url}
