"""Scheduled reports: definitions, their calendar, and the runs the jobs worker makes of them.

A schedule is an async report definition (level, columns, windows, filters, format) plus a
calendar. The report of a run covers a range relative to the run's advertiser-local day
(``report_start_relative_days_in_past`` … ``report_end_relative_days_in_past`` days before
it), so "the last seven days, every Monday" is ``7``/``1`` with ``days_of_the_week=[0]``.

When a day is due: every list given must contain the day (days of the week 0 = Monday … 6 =
Sunday, as Python's ``date.weekday``; days of the month 1-31; months 1-12); an empty list
does not restrict, so a schedule with no lists runs daily. A due day runs at the first
scheduler pass at or after 06:00 advertiser-local, when the previous day's non-conversion
books are closed. ``scheduled_through`` remembers the last day considered, so a day is
queued once; a worker that was down catches up at most ``CATCH_UP_DAYS`` days. The run job
has a dedupe key per schedule and day and the execution row is unique per schedule and day,
so no day runs twice however many workers there are.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import orjson
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from pinapi.domain.access import roles as role_lib
from pinapi.domain.access import sharing
from pinapi.domain.access.principal import Principal
from pinapi.domain.clock import Clock
from pinapi.domain.errors import AdvertiserAccessDenied, DomainError, Invalid, NotFound
from pinapi.domain.reporting import exports
from pinapi.domain.reporting.query import GRANULARITIES, WINDOW_DAYS
from pinapi.jobs import queue
from pinapi.store.ids import new_id
from pinapi.store.keyset import KeysetPage, fetch_page
from pinapi.store.tables import Advertiser, ScheduledReport, ScheduledReportExecution

log = logging.getLogger("pinapi.reports")
RUN_KIND = "reports.scheduled_run"
SCHEDULER_KIND = "reports.scheduled_due"
SCHEDULER_EVERY_SECONDS = 300
RUN_HOUR = 6  # advertiser-local hour from which a due day runs (yesterday's books are closed)
CATCH_UP_DAYS = 31
MAX_START_DAYS_IN_PAST = 365
MAX_EMAILS = 100
DEFAULT_START_DAYS_IN_PAST = 7
DEFAULT_END_DAYS_IN_PAST = 1
STATUSES = ("ACTIVE", "INACTIVE")
CONVERSION_REPORT_TIMES = ("AD_EVENT", "CONVERSION_EVENT")
# The v3 ScheduledReport example spells granularity DAILY; the async report says DAY.
GRANULARITY_ALIASES = {"DAILY": "DAY", "HOURLY": "HOUR", "WEEKLY": "WEEK", "MONTHLY": "MONTH"}
_EMAIL = re.compile(r"^[^@\s,;]+@[^@\s,;]+\.[^@\s,;]+$")

# Where the core's parameter names differ from the schedule's own, errors name the latter.
_FIELD_NAMES = {
    "level": "report_level",
    "metrics": "columns",
    "conversion_report_time": "conversion_report_time_type",
    "filters": "filters_json",
    "start_date": "report_start_relative_days_in_past",
    "end_date": "report_end_relative_days_in_past",
}


class ScheduledReportNotFound(NotFound):
    def __init__(self) -> None:
        super().__init__("Scheduled report", code=3010, message="Scheduled report not found.")


def dir_text(data_dir: Path) -> str:
    """The data dir as job payloads carry it (absolute: the worker may run elsewhere)."""
    return str(data_dir.resolve())


# ---------------------------------------------------------------- calendar


def local_now(advertiser: Advertiser, now: datetime) -> datetime:
    return now.astimezone(ZoneInfo(advertiser.timezone or "UTC"))


def run_instant(advertiser: Advertiser, day: date) -> datetime:
    """When a due ``day`` runs: 06:00 advertiser-local that day, in UTC."""
    zone = ZoneInfo(advertiser.timezone or "UTC")
    return datetime.combine(day, time(RUN_HOUR), tzinfo=zone).astimezone(UTC)


def latest_runnable_day(advertiser: Advertiser, now: datetime) -> date:
    local = local_now(advertiser, now)
    return local.date() if local.hour >= RUN_HOUR else local.date() - timedelta(days=1)


def is_due(report: ScheduledReport, day: date) -> bool:
    return (
        (not report.days_of_the_week or day.weekday() in report.days_of_the_week)
        and (not report.days_of_the_month or day.day in report.days_of_the_month)
        and (not report.months_of_the_year or day.month in report.months_of_the_year)
    )


def report_range(report: ScheduledReport, run_date: date) -> tuple[date, date]:
    return (
        run_date - timedelta(days=report.start_days_in_past),
        run_date - timedelta(days=report.end_days_in_past),
    )


# ---------------------------------------------------------------- parsing


def _items(name: str, value: Any) -> list[str]:
    """A list given as a JSON array, a JSON array in a string, a comma string or repeated keys."""
    if value is None:
        return []
    if isinstance(value, str):
        text = value.strip()
        if text.startswith("["):
            try:
                value = orjson.loads(text)
            except orjson.JSONDecodeError as exc:
                raise Invalid(name, "is not a valid JSON array") from exc
        else:
            return [p.strip() for p in text.split(",") if p.strip()]
    if not isinstance(value, list):
        value = [value]
    out: list[str] = []
    for item in value:
        if isinstance(item, (dict, list)) or item is None:
            raise Invalid(name, "must be a list of scalars")
        if isinstance(item, str) and "," in item:
            out.extend(p.strip() for p in item.split(",") if p.strip())
        else:
            out.append(str(item).strip())
    return out


def _int_list(name: str, value: Any, lo: int, hi: int) -> list[int]:
    numbers: set[int] = set()
    for item in _items(name, value):
        if not re.fullmatch(r"-?\d+", item):
            raise Invalid(name, f"must be a list of integers, got {item!r}")
        number = int(item)
        if not lo <= number <= hi:
            raise Invalid(name, f"values must be between {lo} and {hi}, got {number}")
        numbers.add(number)
    return sorted(numbers)


def _int(name: str, value: Any, lo: int, hi: int) -> int:
    if isinstance(value, bool) or value is None or value == "":
        raise Invalid(name, "must be an integer")
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = str(value).strip()
    if not re.fullmatch(r"-?\d+", text):
        raise Invalid(name, "must be an integer")
    number = int(text)
    if not lo <= number <= hi:
        raise Invalid(name, f"must be between {lo} and {hi}")
    return number


def _choice(name: str, value: Any, allowed: tuple[str, ...]) -> str:
    if not isinstance(value, str) or value.strip().upper() not in allowed:
        raise Invalid(name, f"must be one of {', '.join(allowed)}")
    return value.strip().upper()


def _granularity(value: Any) -> str:
    if not isinstance(value, str):
        raise Invalid("granularity", f"must be one of {', '.join(GRANULARITIES)}")
    text = value.strip().upper()
    return _choice("granularity", GRANULARITY_ALIASES.get(text, text), tuple(GRANULARITIES))


def _expiration(value: Any, now: datetime) -> datetime | None:
    if value is None or value == "":
        return None
    if isinstance(value, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", value.strip()):
        try:
            when = datetime.combine(date.fromisoformat(value.strip()), time(), tzinfo=UTC)
        except ValueError as exc:
            raise Invalid("expiration_date", "is not a valid date") from exc
    else:
        seconds = _int("expiration_date", value, 0, 253_402_300_799)
        when = datetime.fromtimestamp(seconds, UTC)
    if when <= now:
        raise Invalid("expiration_date", "must be in the future")
    return when


def _emails(value: Any) -> list[str]:
    emails = _items("email_list", value)
    if len(emails) > MAX_EMAILS:
        raise Invalid("email_list", f"must hold at most {MAX_EMAILS} addresses")
    for email in emails:
        if len(email) > 254 or not _EMAIL.match(email):
            raise Invalid("email_list", f"{email!r} is not an email address")
    return list(dict.fromkeys(emails))


def _filters(value: Any) -> str | None:
    if value is None or value == "":
        return None
    if isinstance(value, (list, dict)):
        return orjson.dumps(value).decode()
    if not isinstance(value, str):
        raise Invalid("filters_json", "must be a JSON array of filter objects")
    return value


_SETTERS = {
    "report_level": "report_level",
    "columns": "columns",
    "granularity": "granularity",
    "report_format": "report_format",
    "data_source": "data_source",
    "days_of_the_week": "days_of_the_week",
    "days_of_the_month": "days_of_the_month",
    "months_of_the_year": "months_of_the_year",
    "report_start_relative_days_in_past": "start_days_in_past",
    "report_end_relative_days_in_past": "end_days_in_past",
    "click_window_days": "click_window_days",
    "engagement_window_days": "engagement_window_days",
    "view_window_days": "view_window_days",
    "conversion_report_time_type": "conversion_report_time_type",
    "filters_json": "filters_json",
    "entity_fields": "entity_fields",
    "email_list": "email_list",
    "expiration_date": "expiration_date",
    "status": "status",
}


def _parse(values: Mapping[str, Any], now: datetime) -> dict[str, Any]:
    """The given fields, each checked on its own; the whole definition is checked after."""
    out: dict[str, Any] = {}
    for name, attr in _SETTERS.items():
        if name not in values:
            continue
        raw = values[name]
        if name == "report_level":
            if not isinstance(raw, str) or not raw.strip():
                raise Invalid(name, "is required")
            out[attr] = raw.strip().upper()
        elif name in ("columns", "entity_fields"):
            out[attr] = [c.upper() for c in _items(name, raw)]
        elif name == "granularity":
            out[attr] = _granularity(raw)
        elif name == "report_format":
            out[attr] = _choice(name, raw, ("CSV", "JSON")).lower()
        elif name == "data_source":
            out[attr] = _choice(name, raw, ("OFFLINE", "REALTIME"))
        elif name == "days_of_the_week":
            out[attr] = _int_list(name, raw, 0, 6)
        elif name == "days_of_the_month":
            out[attr] = _int_list(name, raw, 1, 31)
        elif name == "months_of_the_year":
            out[attr] = _int_list(name, raw, 1, 12)
        elif name in ("report_start_relative_days_in_past", "report_end_relative_days_in_past"):
            out[attr] = _int(name, raw, 0, MAX_START_DAYS_IN_PAST)
        elif name.endswith("_window_days"):
            out[attr] = _int(name, raw, 0, max(WINDOW_DAYS))
            if out[attr] not in WINDOW_DAYS:
                raise Invalid(name, f"must be one of {', '.join(map(str, WINDOW_DAYS))}")
        elif name == "conversion_report_time_type":
            out[attr] = _choice(name, raw, CONVERSION_REPORT_TIMES)
        elif name == "filters_json":
            out[attr] = _filters(raw)
        elif name == "email_list":
            out[attr] = _emails(raw)
        elif name == "expiration_date":
            out[attr] = _expiration(raw, now)
        elif name == "status":
            out[attr] = _choice(name, raw, STATUSES)
    return out


def export_values(report: ScheduledReport, run_date: date) -> dict[str, Any]:
    """The async-report parameters of one run (the names ``exports.parse_export`` reads)."""
    start, end = report_range(report, run_date)
    values: dict[str, Any] = {
        "start_date": start.isoformat(),
        "end_date": end.isoformat(),
        "level": report.report_level,
        "granularity": report.granularity,
        "report_format": report.report_format,
        "data_source": report.data_source,
        "click_window_days": str(report.click_window_days),
        "engagement_window_days": str(report.engagement_window_days),
        "view_window_days": str(report.view_window_days),
        "conversion_report_time": report.conversion_report_time_type,
    }
    if report.columns:
        values["columns"] = list(report.columns)
    if report.entity_fields:
        values["entity_fields"] = list(report.entity_fields)
    if report.filters_json:
        values["filters"] = report.filters_json
    return values


def _check(report: ScheduledReport, advertiser: Advertiser, now: datetime) -> exports.ExportSpec:
    """Check the whole definition as the async report would for a run today."""
    if report.start_days_in_past < report.end_days_in_past:
        raise Invalid(
            "report_start_relative_days_in_past", "must not be less than report_end_relative_days_in_past"
        )
    if report.start_days_in_past - report.end_days_in_past > exports.MAX_SPAN_DAYS:
        raise Invalid(
            "report_start_relative_days_in_past",
            f"must be at most {exports.MAX_SPAN_DAYS} more than report_end_relative_days_in_past",
        )
    day = local_now(advertiser, now).date()
    try:
        return exports.parse_export(export_values(report, day), advertiser=advertiser, now=now)
    except Invalid as exc:
        field = _FIELD_NAMES.get(exc.field, exc.field)
        raise Invalid(field, exc.reason, code=exc.code) from exc


# ---------------------------------------------------------------- account sharing


async def _authorize(
    session: AsyncSession, *, principal: Principal, advertiser_id: int, action: str
) -> Advertiser:
    """Reads need AD_ANALYTICS_READ as every report does, and the guide's own action."""
    advertiser, roles = await sharing.require_action(
        session, principal=principal, advertiser_id=advertiser_id, action="AD_ANALYTICS_READ"
    )
    if not role_lib.allows(roles, action):
        raise AdvertiserAccessDenied(
            f"User is not authorized to access requested advertiser (needs {action})."
        )
    return advertiser


async def _load(session: AsyncSession, advertiser: Advertiser, report_id: int) -> ScheduledReport:
    report = await session.get(ScheduledReport, report_id)
    if report is None or report.advertiser_id != advertiser.id:
        raise ScheduledReportNotFound()
    return report


# ---------------------------------------------------------------- the API's operations


async def create(
    session: AsyncSession,
    *,
    clock: Clock,
    principal: Principal,
    advertiser_id: int,
    values: Mapping[str, Any],
) -> ScheduledReport:
    advertiser = await _authorize(
        session, principal=principal, advertiser_id=advertiser_id, action="SCHEDULED_REPORT_CREATE"
    )
    now = clock.now()
    if not values.get("report_level"):
        raise Invalid("report_level", "is required")
    parsed = _parse(values, now)
    report = ScheduledReport(
        advertiser_id=advertiser.id,
        user_id=principal.user_id,
        client_id=principal.app_id,
        status="ACTIVE",
        columns=[],
        granularity="DAY",
        report_format="csv",
        data_source="OFFLINE",
        days_of_the_week=[],
        days_of_the_month=[],
        months_of_the_year=[],
        start_days_in_past=DEFAULT_START_DAYS_IN_PAST,
        end_days_in_past=DEFAULT_END_DAYS_IN_PAST,
        click_window_days=30,
        engagement_window_days=30,
        view_window_days=1,
        conversion_report_time_type="AD_EVENT",
        entity_fields=[],
        email_list=[],
        created_at=now,
        updated_at=now,
        # the creation day itself may still run (from 06:00 local, at the next pass)
        scheduled_through=local_now(advertiser, now).date() - timedelta(days=1),
    )
    for attr, value in parsed.items():
        setattr(report, attr, value)
    spec = _check(report, advertiser, now)
    report.columns = list(spec.query.metrics)
    session.add(report)
    await session.flush()
    return report


async def update(
    session: AsyncSession,
    *,
    clock: Clock,
    principal: Principal,
    advertiser_id: int,
    report_id: int,
    values: Mapping[str, Any],
) -> ScheduledReport:
    advertiser = await _authorize(
        session, principal=principal, advertiser_id=advertiser_id, action="SCHEDULED_REPORT_UPDATE"
    )
    report = await _load(session, advertiser, report_id)
    now = clock.now()
    parsed = _parse(values, now)
    reactivated = report.status == "INACTIVE" and parsed.get("status") == "ACTIVE"
    for attr, value in parsed.items():
        setattr(report, attr, value)
    spec = _check(report, advertiser, now)
    if "columns" in parsed:
        report.columns = list(spec.query.metrics)
    if reactivated:
        # Days missed while inactive are not made up: the schedule resumes from today.
        today = local_now(advertiser, now).date()
        through = report.scheduled_through
        report.scheduled_through = max(through, today - timedelta(days=1)) if through else today
    report.updated_at = now
    await session.flush()
    return report


async def get(
    session: AsyncSession, *, principal: Principal, advertiser_id: int, report_id: int
) -> ScheduledReport:
    advertiser = await _authorize(
        session, principal=principal, advertiser_id=advertiser_id, action="SCHEDULED_REPORT_READ"
    )
    return await _load(session, advertiser, report_id)


async def list_for(
    session: AsyncSession,
    *,
    principal: Principal,
    advertiser_id: int,
    after: list[Any] | None,
    limit: int,
) -> KeysetPage[ScheduledReport]:
    advertiser = await _authorize(
        session, principal=principal, advertiser_id=advertiser_id, action="SCHEDULED_REPORT_READ"
    )
    stmt = select(ScheduledReport).where(ScheduledReport.advertiser_id == advertiser.id)
    return await fetch_page(
        session,
        stmt,
        order=[ScheduledReport.__table__.c.id],
        after=after,
        limit=limit,
        key_of=lambda r: [r.id],
    )


async def completed(
    session: AsyncSession,
    *,
    principal: Principal,
    advertiser_id: int,
    schedule_id: int | None,
    after: list[Any] | None,
    limit: int,
) -> KeysetPage[ScheduledReportExecution]:
    """Executions, newest first (ids are time-ordered), of one schedule or of all of them."""
    advertiser = await _authorize(
        session, principal=principal, advertiser_id=advertiser_id, action="COMPLETED_REPORT_EXECUTION_READ"
    )
    stmt = select(ScheduledReportExecution).where(ScheduledReportExecution.advertiser_id == advertiser.id)
    if schedule_id is not None:
        await _load(session, advertiser, schedule_id)
        stmt = stmt.where(ScheduledReportExecution.schedule_id == schedule_id)
    return await fetch_page(
        session,
        stmt,
        order=[ScheduledReportExecution.__table__.c.id],
        after=after,
        limit=limit,
        descending=True,
        key_of=lambda e: [e.id],
    )


# ---------------------------------------------------------------- the worker's side


async def queue_due(session: AsyncSession, *, clock: Clock, data_dir: Path) -> int:
    """Queue a run for every due day of every active schedule up to now; returns how many."""
    now = clock.now()
    rows = await session.execute(
        select(ScheduledReport, Advertiser)
        .join(Advertiser, Advertiser.id == ScheduledReport.advertiser_id)
        .where(ScheduledReport.status == "ACTIVE")
        .order_by(ScheduledReport.id)
    )
    queued = 0
    for report, advertiser in rows:
        last = latest_runnable_day(advertiser, now)
        through = report.scheduled_through or (last - timedelta(days=1))
        day = max(through + timedelta(days=1), last - timedelta(days=CATCH_UP_DAYS - 1))
        while day <= last:
            expired = (
                report.expiration_date is not None and run_instant(advertiser, day) >= report.expiration_date
            )
            if not expired and is_due(report, day):
                await queue.enqueue(
                    session,
                    clock=clock,
                    kind=RUN_KIND,
                    payload={
                        "schedule": report.id,
                        "run_date": day.isoformat(),
                        "data_dir": dir_text(data_dir),
                    },
                    dedupe_key=f"scheduled_report:{report.id}:{day.isoformat()}",
                    max_attempts=3,
                )
                queued += 1
            day += timedelta(days=1)
        if report.scheduled_through is None or last > report.scheduled_through:
            report.scheduled_through = last
    await session.flush()
    return queued


def report_key(execution_id: int, report_format: str) -> str:
    """Where a run's file lives under the reports folder (the download route serves it)."""
    return f"scheduled/{execution_id}/{exports.file_name(report_format)}"


async def execute(
    session: AsyncSession, *, clock: Clock, schedule_id: int, run_date: date, data_dir: Path
) -> ScheduledReportExecution | None:
    """Run one day of a schedule and record it: SUCCESS with its file, or INTERNAL_ERROR."""
    report = await session.get(ScheduledReport, schedule_id)
    if report is None or report.status != "ACTIVE":
        return None  # deleted or switched off since the day was queued
    existing = await session.scalar(
        select(ScheduledReportExecution).where(
            ScheduledReportExecution.schedule_id == schedule_id,
            ScheduledReportExecution.run_date == run_date,
        )
    )
    if existing is not None:
        return existing
    advertiser = await session.get(Advertiser, report.advertiser_id)
    assert advertiser is not None
    now = clock.now()
    start, end = report_range(report, run_date)
    execution = ScheduledReportExecution(
        schedule_id=report.id,
        advertiser_id=report.advertiser_id,
        user_id=report.user_id,
        client_id=report.client_id,
        run_date=run_date,
        start_date=start,
        end_date=end,
        execution_status="SUCCESS",
        row_count=0,
        report_time=now,
        id=new_id(),
    )
    key = report_key(execution.id, report.report_format)
    path = exports.report_path(data_dir, key)
    try:
        async with session.begin_nested():
            spec = exports.parse_export(export_values(report, run_date), advertiser=advertiser, now=now)
            execution.row_count = await exports.write_export(session, spec, path=path, now=now)
        execution.report_key = key
    except Exception as exc:  # any failure of the run is recorded, not retried
        log.warning("scheduled report %s for %s failed: %s", report.id, run_date, exc)
        path.unlink(missing_ok=True)
        reason = exc.message if isinstance(exc, DomainError) else f"{type(exc).__name__}: {exc}"
        execution.execution_status = "INTERNAL_ERROR"
        execution.error = reason[:2000]
    execution.report_time = clock.now()
    session.add(execution)
    await session.flush()
    return execution
