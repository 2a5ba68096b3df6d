"""Organic analytics rules: the metric formulas, the range rules, and agreement with the facts
the engine writes (a two-day simulation, compared with plain SQL sums)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import func, select

from pinapi.domain.errors import Invalid
from pinapi.domain.reporting import organic
from pinapi.engine.runner import Simulator, simulate
from pinapi.runtime import Runtime
from pinapi.store.tables import DeliveryHour, OrganicPinHour, Pin, PinPromotion, User
from tests.conftest import START
from tests.engine_db.world import DAY0, POPULATION, SEED, build_world
from tests.factories import Factory

TODAY = START.date()
counts = st.integers(min_value=0, max_value=10**9)
day_totals = st.fixed_dictionaries({b: counts for b in organic.BASES})


@given(st.lists(day_totals, min_size=1, max_size=30))
def test_rates_come_from_summed_counts(days: list[dict[str, int]]) -> None:
    total = {b: sum(d[b] for d in days) for b in organic.BASES}
    got = organic.compute(list(organic.METRICS), total)
    imp = total["IMPRESSION"]
    engaged = total["CLOSEUP"] + total["SAVE"] + total["CLICKTHROUGH"]
    assert got["ENGAGEMENT"] == engaged
    assert got["ENGAGEMENT_RATE"] == (engaged / imp if imp else 0.0)
    assert got["SAVE_RATE"] == (total["SAVE"] / imp if imp else 0.0)
    assert got["PIN_CLICK"] == total["CLOSEUP"] + total["CLICKTHROUGH"]
    assert got["OUTBOUND_CLICK_RATE"] == (total["OUTBOUND_CLICK"] / imp if imp else 0.0)
    starts = total["VIDEO_START"]
    assert got["VIDEO_AVG_WATCH_TIME"] == (total["VIDEO_WATCH_TIME"] / starts if starts else 0.0)
    # Counts are additive: the total of the days is the sum of each day's count.
    for name in ("IMPRESSION", "SAVE", "ENGAGEMENT", "VIDEO_V50_WATCH_TIME"):
        assert got[name] == sum(organic.compute([name], d)[name] for d in days)


def test_metric_names() -> None:
    assert organic.metric_names([], organic.ORGANIC_DEFAULT) == organic.ORGANIC_DEFAULT
    assert organic.metric_names(["save", "SAVE", " pin_click "], ()) == ("SAVE", "PIN_CLICK")
    with pytest.raises(Invalid) as err:
        organic.metric_names(["IMPRESSION", "REACH"], ())
    assert err.value.field == "metric_types" and "'REACH'" in err.value.reason
    with pytest.raises(Invalid) as err:
        organic.metric_names(["X"], (), field_name="sort_by_metrics")
    assert err.value.field == "sort_by_metrics"


@pytest.mark.parametrize(
    ("start", "end", "field"),
    [
        (date(2026, 11, 2), date(2026, 11, 1), "end_date"),
        (date(2026, 11, 1), date(2026, 11, 3), "end_date"),
        (date(2026, 8, 3), date(2026, 8, 4), "start_date"),
        (date(2026, 8, 4), date(2026, 11, 2), "end_date"),
    ],
)
def test_range_rules(start: date, end: date, field: str) -> None:
    with pytest.raises(Invalid) as err:
        organic.date_range(start, end, today=TODAY)
    assert err.value.field == field


def test_range_is_whole_utc_days() -> None:
    lo, hi = organic.date_range(date(2026, 8, 4), date(2026, 11, 1), today=TODAY)
    assert lo == datetime(2026, 8, 4, tzinfo=UTC) and hi == datetime(2026, 11, 2, tzinfo=UTC)


def test_day_status() -> None:
    closed = datetime(2026, 11, 2, 0, tzinfo=UTC)
    assert organic.day_status(date(2026, 11, 1), closed) == "READY"
    assert organic.day_status(date(2026, 11, 2), closed) == "PROCESSING"
    assert organic.day_status(date(2026, 11, 1), None) == "PROCESSING"


def test_filter_sources() -> None:
    both = organic.Filters()
    assert (both.organic, both.paid_part, both.earned) == (True, True, True)
    paid = organic.Filters(paid=1)
    assert (paid.organic, paid.paid_part, paid.earned) == (False, True, False)
    downstream = organic.Filters(downstream=1)
    assert (downstream.organic, downstream.paid_part, downstream.earned) == (False, False, True)


async def test_metrics_agree_with_engine_facts(runtime: Runtime, factory: Factory) -> None:
    await build_world(runtime, factory)
    await simulate(
        runtime.sessions,
        clock=runtime.clock,
        simulator=Simulator(seed=SEED, population=POPULATION),
        start=DAY0,
        end=DAY0 + timedelta(days=2),
    )
    now = runtime.clock.now()
    async with runtime.sessions() as s:
        owner = await s.scalar(select(User).where(User.username == "engineowner"))
        assert owner is not None
        own = select(Pin.id).where(Pin.owner_id == owner.id)
        organic_imp = await s.scalar(
            select(func.sum(OrganicPinHour.impression)).where(OrganicPinHour.pin_id.in_(own))
        )
        paid_imp, earned_imp, paid_saves = (
            await s.execute(
                select(
                    func.sum(DeliveryHour.impression_1),
                    func.sum(DeliveryHour.impression_2),
                    func.sum(DeliveryHour.save_1),
                )
                .join(PinPromotion, PinPromotion.id == DeliveryHour.pin_promotion_id)
                .where(PinPromotion.pin_id.in_(own))
            )
        ).one()
        assert organic_imp and paid_imp and earned_imp  # the world really delivers

        async def run(filters: organic.Filters) -> organic.UserMetrics:
            return await organic.user_metrics(
                s,
                user_id=owner.id,
                start=DAY0.date(),
                end=DAY0.date() + timedelta(days=2),
                names=("IMPRESSION", "SAVE", "SAVE_RATE"),
                filters=filters,
                now=now,
            )

        everything = await run(organic.Filters())
        assert everything.summary["IMPRESSION"] == organic_imp + paid_imp + earned_imp
        assert sum(d.metrics["IMPRESSION"] for d in everything.days) == everything.summary["IMPRESSION"]
        assert (
            everything.summary["SAVE_RATE"] == everything.summary["SAVE"] / everything.summary["IMPRESSION"]
        )
        # The simulation ended at DAY0 + 2 days: the third day has no facts yet.
        assert [d.status for d in everything.days] == ["READY", "READY", "PROCESSING"]
        assert everything.days[2].metrics["IMPRESSION"] == 0
        organic_only = await run(organic.Filters(paid=0, downstream=0))
        assert organic_only.summary["IMPRESSION"] == organic_imp
        paid_only = await run(organic.Filters(paid=1))
        assert paid_only.summary["IMPRESSION"] == paid_imp and paid_only.summary["SAVE"] == paid_saves
        downstream = await run(organic.Filters(downstream=1))
        assert downstream.summary["IMPRESSION"] == earned_imp
