"""Scheduled reports (``/ads/v3/reports/scheduled/{advertiser}/…``).

POST creates a schedule and PUT changes it (any field, ``status`` ACTIVE/INACTIVE included);
both answer the ScheduledReport object. GET ``…/completed/`` pages the runs, newest first,
each a CompletedScheduledReport with a ``report_link`` signed for an hour from the read
(null when the run failed). GET of the list and of one schedule are added beside the
contract's three routes. Parameters come from the query, a form or a JSON body.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from fastapi import Depends
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request

from pinapi.api.common.auth import access
from pinapi.api.common.context import get_runtime, get_session
from pinapi.api.common.envelope import Page
from pinapi.api.common.formats import unix_seconds
from pinapi.api.common.paging import page_size_from
from pinapi.api.common.params import Params, read_params
from pinapi.api.common.routing import router as make_router
from pinapi.domain.access.principal import Principal
from pinapi.domain.ads.campaigns import parse_id
from pinapi.domain.reporting import exports, scheduled
from pinapi.store.tables import ScheduledReport, ScheduledReportExecution

router = make_router(tags=["scheduled reports"])
READ = access("read_advertisers")
WRITE = access("write_advertisers")
LINK_TTL = timedelta(hours=1)
BASE = "/ads/v3/reports/scheduled/{advertiser}/"


def schedule_body(r: ScheduledReport) -> dict[str, Any]:
    return {
        "id": str(r.id),
        "advertiser_id": str(r.advertiser_id),
        "user_id": str(r.user_id),
        "client_id": str(r.client_id),
        "report_template_id": None,
        "status": r.status,
        "report_level": r.report_level,
        "columns": list(r.columns),
        "granularity": r.granularity,
        "report_format": r.report_format,
        "data_source": r.data_source,
        "days_of_the_week": list(r.days_of_the_week),
        "days_of_the_month": list(r.days_of_the_month),
        "months_of_the_year": list(r.months_of_the_year),
        "report_start_relative_days_in_past": r.start_days_in_past,
        "report_end_relative_days_in_past": r.end_days_in_past,
        "click_window_days": r.click_window_days,
        "engagement_window_days": r.engagement_window_days,
        "view_window_days": r.view_window_days,
        "conversion_report_time_type": r.conversion_report_time_type,
        "filters_json": r.filters_json,
        "entity_fields": list(r.entity_fields),
        "email_list": list(r.email_list),
        "expiration_date": unix_seconds(r.expiration_date),
        "created_time": unix_seconds(r.created_at),
        "updated_time": unix_seconds(r.updated_at),
    }


def _page(params: Params) -> tuple[int, str | None]:
    return page_size_from(params.raw("page_size")), params.text("bookmark")


@router.post(BASE)
async def ads_v3_create_scheduled_report_handler(
    advertiser: str,
    request: Request,
    principal: Principal = Depends(WRITE),
    session: AsyncSession = Depends(get_session),
) -> dict[str, Any]:
    report = await scheduled.create(
        session,
        clock=get_runtime(request).clock,
        principal=principal,
        advertiser_id=parse_id("advertiser", advertiser),
        values=(await read_params(request)).fields(),
    )
    return schedule_body(report)


@router.get(BASE)
async def ads_v3_get_scheduled_reports_handler(
    advertiser: str,
    request: Request,
    principal: Principal = Depends(READ),
    session: AsyncSession = Depends(get_session),
) -> Page:
    runtime = get_runtime(request)
    advertiser_id = parse_id("advertiser", advertiser)
    limit, raw = _page(await read_params(request))
    context = f"advertiser:{advertiser_id}:scheduled_reports"
    after = runtime.bookmarks.decode(raw, context) if raw else None
    page = await scheduled.list_for(
        session, principal=principal, advertiser_id=advertiser_id, after=after, limit=limit
    )
    bookmark = runtime.bookmarks.encode(context, page.next_key) if page.next_key is not None else None
    return Page([schedule_body(r) for r in page.rows], bookmark)


@router.get(BASE + "completed/")
async def ads_v3_get_completed_scheduled_reports_handler(
    advertiser: str,
    request: Request,
    principal: Principal = Depends(READ),
    session: AsyncSession = Depends(get_session),
) -> Page:
    runtime = get_runtime(request)
    params = await read_params(request)
    advertiser_id = parse_id("advertiser", advertiser)
    raw_schedule = params.text("report_schedule_id")
    schedule_id = parse_id("report_schedule_id", raw_schedule) if raw_schedule else None
    limit, raw = _page(params)
    context = f"advertiser:{advertiser_id}:completed_reports:{schedule_id or ''}"
    after = runtime.bookmarks.decode(raw, context) if raw else None
    page = await scheduled.completed(
        session,
        principal=principal,
        advertiser_id=advertiser_id,
        schedule_id=schedule_id,
        after=after,
        limit=limit,
    )
    base = runtime.settings.public_url or str(request.base_url)
    expires_at = runtime.clock.now() + LINK_TTL

    def body(e: ScheduledReportExecution) -> dict[str, Any]:
        link = None
        if e.report_key is not None:
            link = exports.download_url(runtime, base, e.report_key, expires_at=expires_at)
        return {
            "id": str(e.id),
            "advertiser_id": str(e.advertiser_id),
            "user_id": str(e.user_id),
            "client_id": str(e.client_id),
            "report_schedule_id": str(e.schedule_id),
            "report_time": unix_seconds(e.report_time),
            "execution_status": e.execution_status,
            "report_link": link,
            "report_date": e.run_date.isoformat(),
            "start_date": e.start_date.isoformat(),
            "end_date": e.end_date.isoformat(),
        }

    bookmark = runtime.bookmarks.encode(context, page.next_key) if page.next_key is not None else None
    return Page([body(e) for e in page.rows], bookmark)


@router.get(BASE + "{scheduled_report}/")
async def ads_v3_get_scheduled_report_handler(
    advertiser: str,
    scheduled_report: str,
    principal: Principal = Depends(READ),
    session: AsyncSession = Depends(get_session),
) -> dict[str, Any]:
    report = await scheduled.get(
        session,
        principal=principal,
        advertiser_id=parse_id("advertiser", advertiser),
        report_id=parse_id("scheduled_report", scheduled_report),
    )
    return schedule_body(report)


@router.put(BASE + "{scheduled_report}/")
async def ads_v3_update_scheduled_report_handler(
    advertiser: str,
    scheduled_report: str,
    request: Request,
    principal: Principal = Depends(WRITE),
    session: AsyncSession = Depends(get_session),
) -> dict[str, Any]:
    report = await scheduled.update(
        session,
        clock=get_runtime(request).clock,
        principal=principal,
        advertiser_id=parse_id("advertiser", advertiser),
        report_id=parse_id("scheduled_report", scheduled_report),
        values=(await read_params(request)).fields(),
    )
    return schedule_body(report)
