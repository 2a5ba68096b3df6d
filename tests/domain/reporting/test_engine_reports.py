"""Reports over facts the real engine wrote: two simulated days of the engine test world."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

from sqlalchemy import func, select

from pinapi.domain.reporting.catalog import CATALOG
from pinapi.domain.reporting.query import ReportQuery, Windows, run
from pinapi.engine.runner import Simulator, simulate
from pinapi.runtime import Runtime
from pinapi.store.tables import ConversionEvent, DeliveryHour
from pinapi.store.tables.facts import METRIC_COLUMNS
from tests.domain.reporting.builder import utc
from tests.engine_db.world import DAY0, POPULATION, SEED, build_world
from tests.factories import Factory

LATER = utc(2027, 1, 1)


async def test_reports_over_engine_facts(runtime: Runtime, factory: Factory) -> None:
    world = await build_world(runtime, factory)
    await simulate(
        runtime.sessions,
        clock=runtime.clock,
        simulator=Simulator(seed=SEED, population=POPULATION),
        start=DAY0,
        end=DAY0 + timedelta(days=2),
    )
    adv = world.advertiser
    base = ReportQuery(
        advertiser_id=adv.id,
        level="ADVERTISER",
        start_date=date(2026, 10, 29),
        end_date=date(2026, 12, 31),
        granularity="DAY",
        metrics=tuple(CATALOG),
        windows=Windows(60, 60, 60),
        conversion_report_time="CONVERSION_EVENT",
    )
    async with runtime.sessions() as s:
        rows = await run(s, base, now=LATER)
        sums = (
            await s.execute(
                select(
                    DeliveryHour.local_date,
                    *(func.sum(getattr(DeliveryHour, c)) for c in ("impression_1", "spend_in_micro_dollar")),
                )
                .where(DeliveryHour.advertiser_id == adv.id)
                .group_by(DeliveryHour.local_date)
                .order_by(DeliveryHour.local_date)
            )
        ).all()
        events = (
            await s.execute(
                select(
                    ConversionEvent.local_date,
                    ConversionEvent.touch_local_date,
                    ConversionEvent.touch_lag_s,
                    ConversionEvent.event_time,
                    ConversionEvent.touch_time,
                ).where(ConversionEvent.advertiser_id == adv.id)
            )
        ).all()
        promos = await run(s, replace(base, level="PIN_PROMOTION"), now=LATER)
    assert len(sums) >= 2 and sum(int(v) for _, v, _ in sums) > 0
    by_day = {r.date: r.values for r in rows}
    for day, imps, spend in sums:
        assert by_day[day]["IMPRESSION_1"] == int(imps)
        assert by_day[day]["SPEND_IN_MICRO_DOLLAR"] == int(spend)
    # The writer's events carry the touch's local date and the lag the windows compare.
    assert events
    for d, td, lag, et, tt in events:
        assert tt is not None and td is not None
        assert lag == round((et - tt).total_seconds()) and td <= d
    per_day: dict[date, int] = {}
    for d, *_ in events:
        per_day[d] = per_day.get(d, 0) + 1
    assert {d: v["TOTAL_CONVERSIONS"] for d, v in by_day.items() if v["TOTAL_CONVERSIONS"]} == per_day
    assert sum(r.values["TOTAL_CONVERSIONS"] for r in promos) == len(events)
    assert {r.entity_id for r in promos} == set(world.delivering.values())
    for m in CATALOG:
        if CATALOG[m].additive:
            assert sum(r.values[m] for r in promos) == sum(r.values[m] for r in rows), m
    # Every fact column is read by some metric but the billing counter.
    used = {b for m in CATALOG.values() for b in m.formula.bases()}
    assert set(METRIC_COLUMNS) - used == {"billable_events"}
