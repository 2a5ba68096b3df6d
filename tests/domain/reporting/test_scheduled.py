"""Scheduled reports in the worker: the calendar, runs against a frozen clock moved by the
tests, the files they write (checked against plain sums of the fact rows), failures,
deactivation, expiry and the never-twice rule."""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select, update

from pinapi.domain.access.principal import Principal
from pinapi.domain.clock import FixedClock
from pinapi.domain.errors import Invalid
from pinapi.domain.reporting import exports, scheduled
from pinapi.jobs import scheduled_reports  # noqa: F401  (registers the scheduler and run jobs)
from pinapi.jobs.worker import HANDLERS, Worker
from pinapi.runtime import Runtime
from pinapi.store.tables import Advertiser, Job, ScheduledReport, ScheduledReportExecution
from tests.domain.reporting import builder
from tests.factories import Factory

MONDAY = date(2026, 11, 2)  # the fixture clock's day: 2026-11-02 12:00 UTC is 07:00 in New York


def _report(**fields: Any) -> ScheduledReport:
    values: dict[str, Any] = {"days_of_the_week": [], "days_of_the_month": [], "months_of_the_year": []}
    values.update(fields)
    return ScheduledReport(**values)


def test_calendar_lists_must_all_match_and_empty_lists_do_not_restrict() -> None:
    daily = _report()
    assert all(scheduled.is_due(daily, MONDAY + timedelta(days=i)) for i in range(7))
    mondays = _report(days_of_the_week=[0])
    assert [scheduled.is_due(mondays, MONDAY + timedelta(days=i)) for i in range(7)] == [
        True,
        False,
        False,
        False,
        False,
        False,
        False,
    ]
    firsts_of_december = _report(days_of_the_month=[1], months_of_the_year=[12])
    assert scheduled.is_due(firsts_of_december, date(2026, 12, 1))
    assert not scheduled.is_due(firsts_of_december, date(2026, 11, 1))
    assert not scheduled.is_due(firsts_of_december, date(2026, 12, 2))
    # both a weekday and a day of the month: 2026-12-07 is a Monday, the 1st is a Tuesday
    both = _report(days_of_the_week=[0], days_of_the_month=[7])
    assert scheduled.is_due(both, date(2026, 12, 7))
    assert not scheduled.is_due(both, date(2026, 12, 1))
    assert not scheduled.is_due(both, date(2026, 12, 14))


def test_a_day_runs_from_six_in_the_morning_advertiser_local() -> None:
    adv = Advertiser(timezone="America/New_York")
    at = datetime(2026, 11, 2, 10, 59, tzinfo=UTC)  # 05:59 in New York
    assert scheduled.latest_runnable_day(adv, at) == date(2026, 11, 1)
    assert scheduled.latest_runnable_day(adv, at + timedelta(minutes=1)) == MONDAY
    assert scheduled.run_instant(adv, MONDAY) == datetime(2026, 11, 2, 11, tzinfo=UTC)


async def _owner(runtime: Runtime, factory: Factory) -> tuple[Advertiser, Principal]:
    adv = await builder.advertiser(factory, tz="America/New_York")
    return adv, Principal(user_id=adv.owner_user_id, app_id=5, scopes=frozenset())


async def _create(runtime: Runtime, adv: Advertiser, me: Principal, **values: Any) -> ScheduledReport:
    fields: dict[str, Any] = {
        "report_level": "ADVERTISER",
        "columns": "IMPRESSION_1,SPEND_IN_MICRO_DOLLAR",
        "granularity": "DAY",
        "report_format": "csv",
        **values,
    }
    async with runtime.sessions() as s, s.begin():
        return await scheduled.create(
            s, clock=runtime.clock, principal=me, advertiser_id=adv.id, values=fields
        )


async def _tick(runtime: Runtime) -> int:
    """One scheduler pass at the clock's time, then every job it queued."""
    worker = Worker(
        sessions=runtime.sessions,
        clock=runtime.clock,
        handlers=HANDLERS,
        services={"data_dir": runtime.settings.data_dir},
    )
    await worker.schedule_periodic()
    return await worker.drain()


async def _executions(runtime: Runtime, report_id: int) -> list[ScheduledReportExecution]:
    async with runtime.sessions() as s:
        rows = await s.scalars(
            select(ScheduledReportExecution)
            .where(ScheduledReportExecution.schedule_id == report_id)
            .order_by(ScheduledReportExecution.run_date)
        )
        return list(rows)


def _read_csv(runtime: Runtime, key: str) -> list[dict[str, str]]:
    text = exports.report_path(runtime.settings.data_dir, key).read_text()
    return list(csv.DictReader(io.StringIO(text)))


async def test_weekly_schedule_runs_on_its_days_and_writes_the_sums_of_the_facts(
    runtime: Runtime, factory: Factory, clock: FixedClock
) -> None:
    adv, me = await _owner(runtime, factory)
    world = await builder.build(runtime, adv, start=builder.utc(2026, 10, 20), hours=24 * 40, dims=False)
    report = await _create(runtime, adv, me, days_of_the_week="0")  # Mondays, the last 7 days

    await _tick(runtime)
    [first] = await _executions(runtime, report.id)
    assert (first.run_date, first.execution_status, first.error) == (MONDAY, "SUCCESS", None)
    assert (first.start_date, first.end_date) == (date(2026, 10, 26), date(2026, 11, 1))
    assert first.report_key == f"scheduled/{first.id}/metrics_report.csv"
    assert (first.user_id, first.client_id, first.advertiser_id) == (me.user_id, 5, adv.id)

    expected: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for h in world.hours:
        if date(2026, 10, 26) <= h["local_date"] <= date(2026, 11, 1):
            sums = expected[h["local_date"].isoformat()]
            sums[0] += h["impression_1"]
            sums[1] += h["spend_in_micro_dollar"]
    rows = _read_csv(runtime, str(first.report_key))
    assert first.row_count == len(rows) == 7
    assert {r["DATE"]: [int(r["IMPRESSION_1"]), int(r["SPEND_IN_MICRO_DOLLAR"])] for r in rows} == expected
    assert {r["ADVERTISER_ID"] for r in rows} == {str(adv.id)}

    # The same day never runs twice: another pass, a direct queue and a direct run change nothing.
    clock.advance(timedelta(hours=3))
    await _tick(runtime)
    async with runtime.sessions() as s, s.begin():
        assert await scheduled.queue_due(s, clock=clock, data_dir=runtime.settings.data_dir) == 0
        again = await scheduled.execute(
            s, clock=clock, schedule_id=report.id, run_date=MONDAY, data_dir=runtime.settings.data_dir
        )
        assert again is not None and again.id == first.id
    assert len(await _executions(runtime, report.id)) == 1

    # Tuesday to Sunday are not due; the next Monday is.
    for _ in range(6):
        clock.advance(timedelta(days=1))
        await _tick(runtime)
    assert len(await _executions(runtime, report.id)) == 1
    clock.advance(timedelta(days=1))
    await _tick(runtime)
    runs = await _executions(runtime, report.id)
    assert [(r.run_date, r.execution_status) for r in runs] == [
        (MONDAY, "SUCCESS"),
        (date(2026, 11, 9), "SUCCESS"),
    ]
    assert (runs[1].start_date, runs[1].end_date) == (date(2026, 11, 2), date(2026, 11, 8))

    # A worker away for three weeks catches up each missed Monday once, in one pass.
    clock.advance(timedelta(days=21))
    await _tick(runtime)
    runs = await _executions(runtime, report.id)
    assert [r.run_date for r in runs] == [MONDAY + timedelta(days=7 * i) for i in range(5)]
    async with runtime.sessions() as s:
        queued = await s.scalar(select(func.count()).select_from(Job).where(Job.kind == scheduled.RUN_KIND))
    assert queued == 5


async def test_a_day_before_six_local_waits_and_a_new_schedule_runs_its_first_day(
    runtime: Runtime, factory: Factory, clock: FixedClock
) -> None:
    adv, me = await _owner(runtime, factory)
    clock.set(datetime(2026, 11, 2, 10, 30, tzinfo=UTC))  # 05:30 in New York
    report = await _create(runtime, adv, me)  # daily
    await _tick(runtime)
    assert await _executions(runtime, report.id) == []
    clock.set(datetime(2026, 11, 2, 11, 0, tzinfo=UTC))  # 06:00
    await _tick(runtime)
    assert [r.run_date for r in await _executions(runtime, report.id)] == [MONDAY]


async def test_a_run_that_fails_is_recorded_with_its_reason_and_leaves_no_file(
    runtime: Runtime, factory: Factory, clock: FixedClock
) -> None:
    adv, me = await _owner(runtime, factory)
    report = await _create(runtime, adv, me)
    async with runtime.sessions() as s, s.begin():  # a definition that no longer parses
        await s.execute(
            update(ScheduledReport).where(ScheduledReport.id == report.id).values(columns=["NO_SUCH_METRIC"])
        )
    await _tick(runtime)
    [run] = await _executions(runtime, report.id)
    assert run.execution_status == "INTERNAL_ERROR"
    assert run.report_key is None and run.row_count == 0
    assert run.error is not None and "NO_SUCH_METRIC" in run.error
    reports_dir = Path(runtime.settings.data_dir) / exports.REPORTS_DIR
    assert not (reports_dir / "scheduled" / str(run.id)).exists()
    # the failure is final for that day: the next pass does not retry it
    clock.advance(timedelta(hours=1))
    await _tick(runtime)
    assert len(await _executions(runtime, report.id)) == 1


async def test_inactive_schedules_do_not_run_and_resume_without_backfill(
    runtime: Runtime, factory: Factory, clock: FixedClock
) -> None:
    adv, me = await _owner(runtime, factory)
    report = await _create(runtime, adv, me, status="INACTIVE")
    for _ in range(3):
        await _tick(runtime)
        clock.advance(timedelta(days=1))
    assert await _executions(runtime, report.id) == []
    async with runtime.sessions() as s, s.begin():
        await scheduled.update(
            s,
            clock=clock,
            principal=me,
            advertiser_id=adv.id,
            report_id=report.id,
            values={"status": "ACTIVE"},
        )
    await _tick(runtime)
    assert [r.run_date for r in await _executions(runtime, report.id)] == [MONDAY + timedelta(days=3)]


async def test_no_run_at_or_after_the_expiration_date(
    runtime: Runtime, factory: Factory, clock: FixedClock
) -> None:
    adv, me = await _owner(runtime, factory)
    # expires on Wednesday 2026-11-04 at 08:00 UTC: Monday and Tuesday run, Wednesday (06:00
    # local = 11:00 UTC) does not
    expires = int(datetime(2026, 11, 4, 8, tzinfo=UTC).timestamp())
    report = await _create(runtime, adv, me, expiration_date=expires)
    clock.advance(timedelta(days=4))
    await _tick(runtime)
    assert [r.run_date for r in await _executions(runtime, report.id)] == [MONDAY, MONDAY + timedelta(days=1)]


async def test_create_checks_the_whole_definition_naming_the_schedule_fields(
    runtime: Runtime, factory: Factory
) -> None:
    adv, me = await _owner(runtime, factory)
    cases: list[tuple[dict[str, Any], str]] = [
        ({"report_level": "SHELF"}, "report_level"),
        ({"columns": "IMPRESSION_1,BOGUS"}, "columns"),
        ({"conversion_report_time_type": "LATER"}, "conversion_report_time_type"),
        ({"filters_json": "[{"}, "filters_json"),
        (
            {"report_start_relative_days_in_past": 2, "report_end_relative_days_in_past": 3},
            "report_start_relative_days_in_past",
        ),
        ({"report_start_relative_days_in_past": 40}, "report_start_relative_days_in_past"),
        ({"days_of_the_week": [7]}, "days_of_the_week"),
        ({"days_of_the_month": "0"}, "days_of_the_month"),
        ({"months_of_the_year": ["x"]}, "months_of_the_year"),
        ({"click_window_days": 3}, "click_window_days"),
        ({"email_list": "ops@example.com,not-an-email"}, "email_list"),
        ({"expiration_date": 1_000}, "expiration_date"),
        ({"granularity": "YEARLY"}, "granularity"),
        ({"status": "PAUSED"}, "status"),
    ]
    for values, field in cases:
        with pytest.raises(Invalid) as caught:
            await _create(runtime, adv, me, **values)
        assert caught.value.field == field, (values, caught.value.message)
    async with runtime.sessions() as s:
        assert await s.scalar(select(func.count()).select_from(ScheduledReport)) == 0
