"""Organic analytics: a pinner's daily metrics, top pins and top video pins.

The numbers come from ``domain/reporting/organic.py`` (engine fact rows only). A user sees
their own analytics only (``me`` or their own id or username; anyone else is refused with
code 7, as the other owner-only user routes do), and only for a business account, as the
v3 reporting guide requires. Every route needs ``read_users``; the pin lists also need
``read_pins``, since they return pins.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from fastapi import Depends
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request

from pinapi.api.common.auth import access
from pinapi.api.common.context import get_runtime, get_session
from pinapi.api.common.params import Params, read_params
from pinapi.api.common.routing import router as make_router
from pinapi.api.v3.organic_shapes import pin_body
from pinapi.domain.access.principal import Principal
from pinapi.domain.errors import Forbidden, Invalid
from pinapi.domain.organic import pins as pin_lib
from pinapi.domain.organic.users import resolve_user
from pinapi.domain.reporting import organic
from pinapi.store.tables import User

router = make_router(tags=["analytics"])
DEFAULT_TOP_PINS = 10


def _day(params: Params, name: str) -> date:
    raw = params.req_text(name, max_len=20)
    try:
        if len(raw) != 10:
            raise ValueError(raw)
        return date.fromisoformat(raw)
    except ValueError as exc:
        raise Invalid(name, "must be a date as YYYY-MM-DD") from exc


def _tri(params: Params, name: str) -> int:
    value = params.integer(name, 2, lo=0, hi=2)
    assert value is not None
    return value


def _filters(params: Params) -> organic.Filters:
    return organic.Filters(
        paid=_tri(params, "paid"),
        in_profile=_tri(params, "in_profile"),
        from_owned_content=_tri(params, "from_owned_content"),
        downstream=_tri(params, "downstream"),
        pin_format=_choice(params, "pin_format", organic.PIN_FORMATS),
        app_types=_choice(params, "app_types", organic.APP_TYPES),
        publish_types=_choice(params, "publish_types", organic.PUBLISH_TYPES),
        include_curated=_tri(params, "include_curated"),
    )


def _choice(params: Params, name: str, allowed: tuple[str, ...]) -> str:
    raw = params.text(name, max_len=100)
    if raw is None or raw == "":
        return "all"
    value = raw.strip().lower()
    if value not in allowed:
        raise Invalid(name, f"must be one of {', '.join(allowed)}")
    return value


async def _subject(session: AsyncSession, principal: Principal, ref: str) -> User:
    """The user whose analytics are asked for: the caller, and a business account."""
    user = await resolve_user(session, principal=principal, ref=ref)
    if principal.user_id != user.id:
        raise Forbidden(f"Only {user.username} may read their analytics.")
    if not user.is_business:
        raise Forbidden("Analytics are available for business accounts only.")
    return user


@router.get("/v3/partners/analytics/users/{user}/metrics/")
async def v3_analytics_partner_metrics(
    user: str,
    request: Request,
    principal: Principal = Depends(access("read_users")),
    session: AsyncSession = Depends(get_session),
) -> dict[str, Any]:
    """AllMetrics: summary and daily metrics of the account's pins (UTC days)."""
    params = await read_params(request)
    start, end = _day(params, "start_date"), _day(params, "end_date")
    names = organic.metric_names(params.items("metric_types"), organic.ORGANIC_DEFAULT)
    filters = _filters(params)
    found = await _subject(session, principal, user)
    result = await organic.user_metrics(
        session,
        user_id=found.id,
        start=start,
        end=end,
        names=names,
        filters=filters,
        now=get_runtime(request).clock.now(),
    )
    daily = [{"date": d.day.isoformat(), "data_status": d.status, "metrics": d.metrics} for d in result.days]
    return {"all": {"summary_metrics": result.summary, "daily_metrics": daily}}


async def _top(
    request: Request, principal: Principal, session: AsyncSession, ref: str, *, video: bool
) -> list[dict[str, Any]]:
    params = await read_params(request)
    start, end = _day(params, "start_date"), _day(params, "end_date")
    default = organic.VIDEO_DEFAULT if video else organic.ORGANIC_DEFAULT
    names = organic.metric_names(params.items("metric_types"), default)
    sort_by = organic.metric_names(
        params.items("sort_by_metrics"), ("IMPRESSION",), field_name="sort_by_metrics"
    )
    limit = params.integer("num_of_pins", DEFAULT_TOP_PINS, lo=1, hi=organic.MAX_TOP_PINS)
    assert limit is not None
    filters = _filters(params)
    found = await _subject(session, principal, ref)
    top = await organic.top_pins(
        session,
        user_id=found.id,
        scopes=principal.scopes,
        start=start,
        end=end,
        names=names,
        sort_by=sort_by,
        limit=limit,
        filters=filters,
        now=get_runtime(request).clock.now(),
        video_only=video,
    )
    base_url = get_runtime(request).settings.base_url()
    views = await pin_lib.views(session, [t.pin for t in top])
    out: list[dict[str, Any]] = []
    for t, view in zip(top, views, strict=True):
        pin = pin_body(
            t.pin,
            view.image,
            t.board,
            base_url=base_url,
            viewer_user_id=principal.user_id,
            carousel_images=view.carousel_images,
        )
        pin["tracked_link"] = t.pin.link
        pin["is_uploaded"] = t.pin.image_id is not None
        pin["is_playable"] = t.pin.is_video
        metadata = {
            "canonicalized": False,
            "in_profile": t.in_profile,
            "in_profile_list": [t.in_profile],
            "paid": t.paid,
            "paid_list": [t.paid],
            "pin_format_list": [t.pin_format],
        }
        out.append({"pin": pin, "metrics": t.metrics, "metadata": metadata})
    return out


@router.get("/v3/partners/analytics/users/{user}/pins/top/")
async def v3_analytics_partner_top_pins(
    user: str,
    request: Request,
    principal: Principal = Depends(access("read_users", "read_pins")),
    session: AsyncSession = Depends(get_session),
) -> list[dict[str, Any]]:
    """PinData list: the account's pins with the most activity in the range."""
    return await _top(request, principal, session, user, video=False)


@router.get("/v3/partners/analytics/users/{user}/pins/top/video/")
async def v3_partner_analytics_partner_top_video_pins(
    user: str,
    request: Request,
    principal: Principal = Depends(access("read_users", "read_pins")),
    session: AsyncSession = Depends(get_session),
) -> list[dict[str, Any]]:
    """PinData list of video pins, with the video metric types by default."""
    return await _top(request, principal, session, user, video=True)
