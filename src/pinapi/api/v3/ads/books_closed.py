"""Books closed (``/ads/v3/advertisers/{advertiser}/books_closed/?date=YYYY-MM-DD``).

Whether a day's conversion and non-conversion metrics are final, read from the clock and
the advertiser's time zone (rules in ``domain/reporting/books.py``). Needs
``read_advertisers`` and AD_ANALYTICS_READ on the advertiser.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from fastapi import Depends
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request

from pinapi.api.common.auth import access
from pinapi.api.common.context import get_runtime, get_session
from pinapi.api.common.params import read_params
from pinapi.api.common.routing import router as make_router
from pinapi.domain.access import sharing
from pinapi.domain.access.principal import Principal
from pinapi.domain.ads.campaigns import parse_id
from pinapi.domain.errors import Invalid
from pinapi.domain.reporting import books

router = make_router(tags=["books closed"])
READ = access("read_advertisers")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def parse_day(raw: str | None) -> date:
    if not raw:
        raise Invalid("date", "is required (YYYY-MM-DD)")
    if not _DATE.match(raw):
        raise Invalid("date", "must be a date as YYYY-MM-DD")
    try:
        return date.fromisoformat(raw)
    except ValueError as exc:
        raise Invalid("date", "is not a valid calendar date") from exc


@router.get("/ads/v3/advertisers/{advertiser}/books_closed/")
async def ads_v3_get_advertiser_books_closed_handler(
    advertiser: str,
    request: Request,
    principal: Principal = Depends(READ),
    session: AsyncSession = Depends(get_session),
) -> dict[str, Any]:
    params = await read_params(request)
    advertiser_id = parse_id("advertiser", advertiser)
    day = parse_day(params.text("date", max_len=40))
    found, _ = await sharing.require_action(
        session, principal=principal, advertiser_id=advertiser_id, action="AD_ANALYTICS_READ"
    )
    state = books.books_closed(found, day, get_runtime(request).clock.now())
    return {
        "conversion_metrics_ready": state.conversion_metrics_ready,
        "non_conversion_metrics_ready": state.non_conversion_metrics_ready,
    }
