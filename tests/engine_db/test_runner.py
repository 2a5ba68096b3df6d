"""The engine against the database: what gets stored, that it adds up, and re-simulation."""

from __future__ import annotations

import pickle
from collections import defaultdict
from datetime import UTC, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import pytest
from sqlalchemy import func, select, text

from pinapi.domain.clock import FixedClock
from pinapi.domain.errors import Invalid
from pinapi.domain.measurement import events as measurement
from pinapi.engine.folding import ORGANIC_HOURLY_DAYS
from pinapi.engine.runner import Simulator, Summary, simulate
from pinapi.runtime import Runtime
from pinapi.store.tables import (
    Bill,
    ConversionEvent,
    DeliveryBreakdown,
    DeliveryHour,
    EngineBilledDay,
    EngineCheckpoint,
    OrganicPinHour,
    PinPromotion,
)
from pinapi.store.tables.facts import METRIC_COLUMNS
from tests.breakdown_rows import read_dimension_rows
from tests.engine_db.world import DAY0, DAY_BUDGET, POPULATION, SEED, World, build_world
from tests.factories import Factory

END = DAY0 + timedelta(days=2)
FACT_TABLES = {
    "delivery_hours": "pin_promotion_id, hour",
    "delivery_breakdowns": "pin_promotion_id, hour",
    "conversion_events": "id",
    "organic_pin_hours": "pin_id, hour",
    "clearing_price_hours": "hour, country, placement",
}


async def _run(runtime: Runtime, start: Any = DAY0, end: Any = END, processes: int = 1) -> Summary:
    return await simulate(
        runtime.sessions,
        clock=runtime.clock,
        simulator=Simulator(seed=SEED, population=POPULATION),
        start=start,
        end=end,
        processes=processes,
    )


async def _dump(runtime: Runtime) -> dict[str, list[tuple[Any, ...]]]:
    out: dict[str, list[tuple[Any, ...]]] = {}
    async with runtime.sessions() as s:
        for table, order in FACT_TABLES.items():
            out[table] = [
                tuple(r) for r in (await s.execute(text(f"SELECT * FROM {table} ORDER BY {order}"))).all()
            ]
        # Checkpoints are compared by content: pickle's bytes depend on object sharing.
        out["checkpoints"] = [
            (r[0], _plain(pickle.loads(r[1])))
            for r in (
                await s.execute(
                    select(EngineCheckpoint.hour, EngineCheckpoint.state).order_by(EngineCheckpoint.hour)
                )
            ).all()
        ]
    return out


def _plain(value: Any) -> Any:
    """A comparable form of an engine state: arrays become (dtype, shape, bytes)."""
    if isinstance(value, np.ndarray):
        return (value.dtype.str, value.shape, value.tobytes())
    if isinstance(value, dict):
        return tuple((k, _plain(v)) for k, v in value.items())
    if isinstance(value, list | tuple):
        return tuple(_plain(v) for v in value)
    if hasattr(value, "__dataclass_fields__"):
        return tuple((k, _plain(getattr(value, k))) for k in value.__dataclass_fields__)
    return value


@pytest.fixture
async def world(runtime: Runtime, factory: Factory) -> World:
    return await build_world(runtime, factory)


async def test_facts_only_for_eligible_promotions_within_budget_and_adding_up(
    runtime: Runtime, world: World
) -> None:
    async with runtime.sessions() as s:
        states = {p.id: (p.status, p.review_status) for p in (await s.scalars(select(PinPromotion))).all()}
    assert {k: states[v] for k, v in world.silent.items()} == {
        "pending": ("ACTIVE", "PENDING"),
        "rejected": ("ACTIVE", "REJECTED"),
        "paused": ("PAUSED", "APPROVED"),
        "paused_group": ("ACTIVE", "APPROVED"),
        "inactive_advertiser": ("ACTIVE", "APPROVED"),
    }
    assert {states[v] for v in world.delivering.values()} == {("ACTIVE", "APPROVED")}
    summary = await _run(runtime)
    assert summary.hours == 48
    async with runtime.sessions() as s:
        promoted = set((await s.scalars(select(DeliveryHour.pin_promotion_id).distinct())).all())
        assert promoted == set(world.delivering.values())
        dims_promoted = set((await s.scalars(select(DeliveryBreakdown.pin_promotion_id).distinct())).all())
        assert dims_promoted == promoted
        dims = await read_dimension_rows(s)
        first_later = await s.scalar(
            select(func.min(DeliveryHour.hour)).where(DeliveryHour.ad_group_id == world.scheduled_group)
        )
        assert first_later is not None and first_later >= world.scheduled_from
        assert await s.scalar(select(func.max(DeliveryHour.hour))) == END - timedelta(hours=1)

        # Daily budgets hold per ad group and advertiser-local day, and the money is real.
        day_spend = (
            await s.execute(
                select(
                    DeliveryHour.ad_group_id,
                    DeliveryHour.local_date,
                    func.sum(DeliveryHour.spend_in_micro_dollar),
                ).group_by(DeliveryHour.ad_group_id, DeliveryHour.local_date)
            )
        ).all()
        assert day_spend and all(int(v) <= DAY_BUDGET for _, _, v in day_spend)
        assert max(int(v) for _, _, v in day_spend) > DAY_BUDGET // 2
        # local_date is the hour's date in the advertiser's zone (America/New_York).
        tz = ZoneInfo("America/New_York")
        for hour, local in (await s.execute(select(DeliveryHour.hour, DeliveryHour.local_date))).all():
            assert hour.astimezone(tz).date() == local

        # Every dimension's rows sum exactly to the totals, metric by metric, per promotion and
        # UTC hour (recent chunks keep breakdowns hourly, as HOUR reports need).
        totals: dict[tuple[Any, Any], tuple[int, ...]] = {}
        for r in (
            await s.execute(
                select(
                    DeliveryHour.pin_promotion_id,
                    DeliveryHour.hour,
                    *[func.sum(getattr(DeliveryHour, c)) for c in METRIC_COLUMNS],
                ).group_by(DeliveryHour.pin_promotion_id, DeliveryHour.hour)
            )
        ).all():
            totals[(r[0], r[1])] = tuple(int(v) for v in r[2:])
        by_type: dict[str, dict[tuple[Any, Any], tuple[int, ...]]] = defaultdict(dict)
        for d in dims:
            key = (d.pin_promotion_id, d.hour)
            sums = by_type[d.dimension_type].get(key, (0,) * len(METRIC_COLUMNS))
            by_type[d.dimension_type][key] = tuple(
                a + d.metrics[c] for a, c in zip(sums, METRIC_COLUMNS, strict=True)
            )
        assert set(by_type) == {
            "COUNTRY",
            "REGION",
            "LOCALE",
            "AGE_BUCKET",
            "GENDER",
            "APPTYPE",
            "PLACEMENT",
            "KEYWORD",
        }
        for rows in by_type.values():
            assert rows == totals
        for hour, local in (
            await s.execute(select(DeliveryBreakdown.hour, DeliveryBreakdown.local_date).distinct())
        ).all():
            assert hour.astimezone(tz).date() == local
        # The CPC group targets the US only.
        countries = {
            d.dimension_value
            for d in dims
            if d.ad_group_id == world.groups["cpc"] and d.dimension_type == "COUNTRY"
        }
        assert countries == {"US"}

        # Conversion events carry their attribution data and entity ids.
        events = (await s.scalars(select(ConversionEvent))).all()
        assert events and summary.conversions == len(events)
        for e in events:
            assert e.source == "ENGINE"
            assert e.pin_promotion_id in promoted
            assert e.advertiser_id == world.advertiser.id and e.currency == "USD"
            assert e.touch_type in ("CLICK", "ENGAGEMENT", "VIEW")
            assert e.touch_time is not None and e.touch_time <= e.event_time
            assert DAY0 <= e.event_time < END
            assert e.local_date == e.event_time.astimezone(tz).date()
            assert (e.value_micro > 0) == (e.event_type in ("ADD_TO_CART", "CHECKOUT"))
            assert e.country is not None
        for table in ("organic_pin_hours", "clearing_price_hours"):
            assert (await s.scalar(select(func.count()).select_from(text(table))) or 0) > 0


async def test_resimulation_is_byte_identical_and_bills_once(runtime: Runtime, world: World) -> None:
    first = await _run(runtime)
    before = await _dump(runtime)
    assert before["delivery_hours"] and before["conversion_events"]
    async with runtime.sessions() as s:
        billed = (await s.execute(select(EngineBilledDay.local_date, EngineBilledDay.amount_micro))).all()
        bills = {b.start_time: b.spend_micro for b in (await s.scalars(select(Bill))).all()}
        spend_by_day = dict(
            (
                await s.execute(
                    select(DeliveryHour.local_date, func.sum(DeliveryHour.spend_in_micro_dollar)).group_by(
                        DeliveryHour.local_date
                    )
                )
            ).all()
        )
    # NY days 10-29 (from 00:00 UTC) and 10-30 closed inside the range; 10-31 is still open.
    assert sorted(d.isoformat() for d, _ in billed) == ["2026-10-29", "2026-10-30"]
    for day, amount in billed:
        assert amount == int(spend_by_day[day]) > 0
    assert sorted(bills.values()) == sorted(a for _, a in billed)
    assert first.days_billed == 2

    again = await _run(runtime)  # the whole range, from a fresh state
    assert again.hours == 48 and again.days_billed == 0
    assert await _dump(runtime) == before

    tail = await _run(runtime, start=DAY0 + timedelta(days=1))  # restores the checkpoint at day 1
    assert tail.hours == 24
    assert await _dump(runtime) == before

    # Simulated in a child process while this one stores: the same facts and checkpoints.
    seen: list[datetime] = []
    child = await simulate(
        runtime.sessions,
        clock=runtime.clock,
        simulator=Simulator(seed=SEED, population=POPULATION),
        start=DAY0,
        end=END,
        processes=2,
        progress=lambda hour, _: seen.append(hour),
    )
    assert child.hours == 48 and child.delivery_rows == first.delivery_rows
    assert seen == [DAY0 + timedelta(hours=h) for h in range(48)]
    assert await _dump(runtime) == before

    async with runtime.sessions() as s:
        assert (
            await s.execute(select(EngineBilledDay.local_date, EngineBilledDay.amount_micro))
        ).all() == billed
        assert {b.start_time: b.spend_micro for b in (await s.scalars(select(Bill))).all()} == bills

    # Running on closes the third NY day and bills it, once.
    await _run(runtime, start=END, end=END + timedelta(hours=6))
    async with runtime.sessions() as s:
        days = sorted((await s.scalars(select(EngineBilledDay.local_date))).all())
        assert [d.isoformat() for d in days] == ["2026-10-29", "2026-10-30", "2026-10-31"]
        assert await s.scalar(select(func.count()).select_from(Bill)) == 3


async def test_store_events_validates_and_tag_events_survive_resimulation(
    runtime: Runtime, world: World
) -> None:
    at = DAY0 + timedelta(hours=5)
    good = measurement.NewEvent(
        id=1,
        advertiser_id=world.advertiser.id,
        event_type="CHECKOUT",
        event_time=at,
        currency="USD",
        time_zone="America/New_York",
        value_micro=12_000_000,
        quantity=2,
    )
    bad = [
        (measurement.NewEvent(**{**_fields(good), "event_type": "BUY"}), "event_type"),
        (measurement.NewEvent(**{**_fields(good), "touch_type": "CLICK"}), "touch_time"),
        (measurement.NewEvent(**{**_fields(good), "touch_type": "POKE", "touch_time": at}), "touch_type"),
        (
            measurement.NewEvent(**{**_fields(good), "touch_type": "CLICK", "touch_time": at + timedelta(1)}),
            "touch_time",
        ),
        (measurement.NewEvent(**{**_fields(good), "value_micro": -1}), "value_micro"),
    ]
    for event, field in bad:
        async with runtime.sessions() as s, s.begin():
            with pytest.raises(Invalid) as caught:
                await measurement.store_events(s, source="TAG", events=[event])
            assert caught.value.field == field
    async with runtime.sessions() as s, s.begin():
        with pytest.raises(Invalid) as caught:
            await measurement.store_events(s, source="PIXEL", events=[good])
        assert caught.value.field == "source"
    async with runtime.sessions() as s, s.begin():
        assert await measurement.store_events(s, source="TAG", events=[good]) == 1
    await _run(runtime, end=DAY0 + timedelta(hours=12))
    async with runtime.sessions() as s:
        tag = await s.get(ConversionEvent, 1)
        assert tag is not None and tag.source == "TAG" and tag.local_date.isoformat() == "2026-10-30"
        assert tag.touch_type is None and tag.value_micro == 12_000_000 and tag.quantity == 2
        engine = await s.scalar(select(func.count()).where(ConversionEvent.source == "ENGINE"))
        assert engine is not None and engine > 0


def _fields(e: measurement.NewEvent) -> dict[str, Any]:
    return {k: getattr(e, k) for k in e.__dataclass_fields__}


async def test_resimulation_of_a_range_starting_mid_day(runtime: Runtime, world: World) -> None:
    start, end = DAY0 + timedelta(hours=6), DAY0 + timedelta(hours=30)
    first = await _run(runtime, start=start, end=end)
    before = await _dump(runtime)
    async with runtime.sessions() as s:
        kept = (await s.scalars(select(EngineCheckpoint.hour).order_by(EngineCheckpoint.hour))).all()
    assert kept == [start, DAY0 + timedelta(days=1), end]
    again = await _run(runtime, start=start, end=end)
    assert (first.hours, again.hours) == (24, 24)
    assert await _dump(runtime) == before
    # From inside the range: back to the midnight checkpoint, the same facts again.
    inner = await _run(runtime, start=DAY0 + timedelta(hours=27), end=end)
    assert inner.hours == 6
    assert await _dump(runtime) == before


async def _per_local_day(
    runtime: Runtime, dimension: str | None = None
) -> dict[tuple[Any, Any], tuple[int, ...]]:
    """Sums per (promotion, local day): of the totals, or of one dimension's breakdowns."""
    if dimension is None:
        t = DeliveryHour
        query = select(
            t.pin_promotion_id, t.local_date, *[func.sum(getattr(t, c)) for c in METRIC_COLUMNS]
        ).group_by(t.pin_promotion_id, t.local_date)
        async with runtime.sessions() as s:
            rows = (await s.execute(query)).all()
        return {(r[0], r[1]): tuple(int(v) for v in r[2:]) for r in rows}
    async with runtime.sessions() as s:
        dims = await read_dimension_rows(s)
    out: dict[tuple[Any, Any], tuple[int, ...]] = {}
    for d in dims:
        if d.dimension_type == dimension:
            key = (d.pin_promotion_id, d.local_date)
            sums = out.get(key, (0,) * len(METRIC_COLUMNS))
            out[key] = tuple(a + d.metrics[c] for a, c in zip(sums, METRIC_COLUMNS, strict=True))
    return out


async def _organic_per_utc_day(runtime: Runtime) -> dict[tuple[Any, Any], tuple[int, ...]]:
    t = OrganicPinHour
    cols = (t.impression, t.closeup, t.save, t.clickthrough, t.outbound_click)
    async with runtime.sessions() as s:
        rows = (await s.execute(select(t.pin_id, t.hour, *cols))).all()
    out: dict[tuple[Any, Any], tuple[int, ...]] = {}
    for pin, hour, *values in rows:
        key = (pin, hour.date())
        out[key] = tuple(a + b for a, b in zip(out.get(key, (0,) * len(cols)), values, strict=True))
    return out


async def test_old_days_store_daily_totals_with_the_same_sums(runtime: Runtime, world: World) -> None:
    """Chunks that ended before every HOUR report's reach keep one totals row per
    promotion and local day in the chunk; the per-day sums equal those of hourly rows."""
    hourly = await _run(runtime)
    by_day = await _per_local_day(runtime)
    organic_by_day = await _organic_per_utc_day(runtime)
    async with runtime.sessions() as s:
        hourly_rows = await s.scalar(select(func.count()).select_from(DeliveryHour))
    assert hourly_rows == hourly.delivery_rows
    clock = runtime.clock
    assert isinstance(clock, FixedClock)
    # Three days on, delivery stays hourly (HOUR reports reach 8 days back) while organic
    # rows, read by UTC day beyond the last 24 hours, are one per pin and day.
    clock.set(END + timedelta(days=ORGANIC_HOURLY_DAYS, hours=1))
    assert (await _run(runtime)).delivery_rows == hourly.delivery_rows
    assert await _organic_per_utc_day(runtime) == organic_by_day
    async with runtime.sessions() as s:
        organic_hours = set((await s.scalars(select(OrganicPinHour.hour).distinct())).all())
    assert organic_hours == {DAY0, DAY0 + timedelta(days=1)}
    clock.set(END + timedelta(days=10, hours=1))  # beyond 8 local days back in any zone
    daily = await _run(runtime)  # re-simulates the same days, now "old"
    assert await _per_local_day(runtime) == by_day
    # The child process leaves per-day chunks unfolded and the storing side folds them:
    # the same rows and checkpoints.
    stored = await _dump(runtime)
    assert (await _run(runtime, processes=2)).delivery_rows == daily.delivery_rows
    assert await _dump(runtime) == stored
    # Organic activity of old days: one row per pin and UTC day, at its midnight, same sums.
    assert await _organic_per_utc_day(runtime) == organic_by_day
    async with runtime.sessions() as s:
        organic_hours = set((await s.scalars(select(OrganicPinHour.hour).distinct())).all())
    assert organic_hours == {DAY0, DAY0 + timedelta(days=1)}
    for dimension in (
        "COUNTRY",
        "REGION",
        "LOCALE",
        "AGE_BUCKET",
        "GENDER",
        "APPTYPE",
        "PLACEMENT",
        "KEYWORD",
    ):
        assert await _per_local_day(runtime, dimension) == by_day
    assert daily.delivery_rows < hourly.delivery_rows / 5
    tz = ZoneInfo("America/New_York")
    async with runtime.sessions() as s:
        rows = (
            await s.execute(select(DeliveryHour.pin_promotion_id, DeliveryHour.hour, DeliveryHour.local_date))
        ).all()
    assert len(rows) == daily.delivery_rows
    for _, hour, local in rows:
        day_start = datetime.combine(local, time(0), tz).astimezone(UTC)
        assert hour == max(hour.replace(hour=0), day_start)
    # Breakdowns of old chunks are daily too: each sits at the first hour of its local day
    # inside its UTC-day chunk.
    async with runtime.sessions() as s:
        placed = (
            await s.execute(select(DeliveryBreakdown.hour, DeliveryBreakdown.local_date).distinct())
        ).all()
    assert placed
    for hour, local in placed:
        day_start = datetime.combine(local, time(0), tz).astimezone(UTC)
        assert hour == max(hour.replace(hour=0), day_start)
