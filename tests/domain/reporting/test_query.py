"""Report queries against fact rows written straight into the tables (SQLite and PostgreSQL).

Each expected number is recomputed here with plain Python sums over the rows the builder
wrote, so the SQL aggregation, the local-date buckets and the book cut-offs are checked
against an independent reference.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import replace
from datetime import date, datetime, timedelta
from typing import Any

from pinapi.domain.measurement.events import NewEvent
from pinapi.domain.reporting import books
from pinapi.domain.reporting.catalog import CATALOG
from pinapi.domain.reporting.query import ReportQuery, Row, Windows, run, stream
from pinapi.runtime import Runtime
from tests.conftest import START
from tests.domain.reporting.builder import FactWorld, advertiser, build, utc
from tests.factories import Factory

FROM = utc(2026, 10, 25)
HOURS = 8 * 24 + 12  # to 2026-11-02 12:00 UTC, the fixture clock
NOW = START
ENTITY = {
    "ADVERTISER": "advertiser_id",
    "CAMPAIGN": "campaign_id",
    "AD_GROUP": "ad_group_id",
    "PIN_PROMOTION": "pin_promotion_id",
}
COUNTS = ("IMPRESSION_1", "CLICKTHROUGH_1", "SPEND_IN_MICRO_DOLLAR", "IMPRESSION_2", "REPIN_1")
COLUMN = {
    "IMPRESSION_1": "impression_1",
    "CLICKTHROUGH_1": "clickthrough_1",
    "SPEND_IN_MICRO_DOLLAR": "spend_in_micro_dollar",
    "IMPRESSION_2": "impression_2",
    "REPIN_1": "save_1",
}


def _closed_range(r: dict[str, Any]) -> bool:
    """Inside the default query's dates and closed at NOW."""
    day: date = r["local_date"]
    return date(2026, 10, 25) <= day <= date(2026, 11, 1)


def _by(col: str) -> Callable[[dict[str, Any]], tuple[int, date]]:
    return lambda r: (r[col], r["local_date"])


async def _world(runtime: Runtime, factory: Factory, **kw: Any) -> FactWorld:
    adv = await advertiser(factory)
    return await build(runtime, adv, start=FROM, hours=HOURS, **kw)


def _query(world: FactWorld, level: str = "AD_GROUP", **kw: Any) -> ReportQuery:
    values: dict[str, Any] = {
        "advertiser_id": world.advertiser.id,
        "level": level,
        "start_date": date(2026, 10, 25),
        "end_date": date(2026, 11, 2),
        "granularity": "DAY",
        "metrics": COUNTS,
    }
    values.update(kw)
    return ReportQuery(**values)


async def _run(runtime: Runtime, q: ReportQuery, now: datetime = NOW) -> list[Row]:
    async with runtime.sessions() as s:
        return await run(s, q, now=now)


def _reference(
    rows: Iterable[dict[str, Any]],
    key: Callable[[dict[str, Any]], Any],
    keep: Callable[[dict[str, Any]], bool] = lambda r: True,
) -> dict[Any, dict[str, int]]:
    out: dict[Any, dict[str, int]] = defaultdict(lambda: dict.fromkeys(COUNTS, 0))
    for r in rows:
        if keep(r):
            sums = out[key(r)]
            for m in COUNTS:
                sums[m] += r[COLUMN[m]]
    return dict(out)


def _counts(rows: list[Row]) -> dict[Any, dict[str, int | float]]:
    return {(r.entity_id, r.date): {m: r.values[m] for m in COUNTS} for r in rows}


async def test_day_rows_match_the_facts_at_every_level(runtime: Runtime, factory: Factory) -> None:
    world = await _world(runtime, factory)
    closed = books.last_closed_date(world.advertiser, NOW, conversion=False)
    assert closed == date(2026, 11, 1)  # 07:00 in New York on Nov 2
    for level, col in ENTITY.items():
        rows = await _run(runtime, _query(world, level))
        want = _reference(world.hours, _by(col), _closed_range)
        assert _counts(rows) == want
        assert [(r.entity_id, r.date) for r in rows] == sorted(want)
        assert all(r.hour is None and r.targeting_type is None for r in rows)
        assert {r.date for r in rows} == {date(2026, 10, 24) + timedelta(days=i) for i in range(1, 9)}


async def test_total_is_the_sum_of_days_and_rates_come_from_sums(runtime: Runtime, factory: Factory) -> None:
    world = await _world(runtime, factory)
    metrics = (*COUNTS, "CTR", "CPC_IN_MICRO_DOLLAR", "CPM_IN_MICRO_DOLLAR", "SPEND_IN_DOLLAR", "ECTR")
    days = await _run(runtime, _query(world, "CAMPAIGN", metrics=metrics))
    total = await _run(runtime, _query(world, "CAMPAIGN", metrics=metrics, granularity="TOTAL"))
    assert len(total) == 2 and all(r.date is None for r in total)
    for t in total:
        mine = [r for r in days if r.entity_id == t.entity_id]
        for m in COUNTS:
            assert t.values[m] == sum(r.values[m] for r in mine)
        v = t.values
        assert v["CTR"] == v["CLICKTHROUGH_1"] / v["IMPRESSION_1"]
        assert v["CPC_IN_MICRO_DOLLAR"] == v["SPEND_IN_MICRO_DOLLAR"] / v["CLICKTHROUGH_1"]
        assert v["CPM_IN_MICRO_DOLLAR"] == 1000 * v["SPEND_IN_MICRO_DOLLAR"] / v["IMPRESSION_1"]
        assert v["SPEND_IN_DOLLAR"] == v["SPEND_IN_MICRO_DOLLAR"] * 1e-6
        clicks = sum(
            r["clickthrough_1"] + r["clickthrough_2"]
            for r in world.hours
            if r["campaign_id"] == t.entity_id and _closed_range(r)
        )
        imps = sum(
            r["impression_1"] + r["impression_2"]
            for r in world.hours
            if r["campaign_id"] == t.entity_id and _closed_range(r)
        )
        assert v["ECTR"] == clicks / imps
        assert list(v) == list(metrics)


async def test_filters_restrict_the_entities(runtime: Runtime, factory: Factory) -> None:
    world = await _world(runtime, factory)
    other = await _world(runtime, factory, seed=2)  # another advertiser's facts never show
    p = world.promos[0]
    rows = await _run(runtime, _query(world, "PIN_PROMOTION", ad_group_ids=(p.ad_group_id,)))
    assert {r.entity_id for r in rows} == {x.id for x in world.promos if x.ad_group_id == p.ad_group_id}
    rows = await _run(runtime, _query(world, "AD_GROUP", campaign_ids=(p.campaign_id, 999)))
    assert {r.entity_id for r in rows} == {
        x.ad_group_id for x in world.promos if x.campaign_id == p.campaign_id
    }
    rows = await _run(runtime, _query(world, "ADVERTISER", pin_promotion_ids=(p.id,), granularity="TOTAL"))
    want = _reference(
        world.hours,
        lambda r: r["advertiser_id"],
        lambda r: r["pin_promotion_id"] == p.id and _closed_range(r),
    )
    assert {r.entity_id: {m: r.values[m] for m in COUNTS} for r in rows} == want
    assert await _run(runtime, _query(world, "AD_GROUP", campaign_ids=(other.promos[0].campaign_id,))) == []


async def test_offline_waits_for_closed_books_and_realtime_shows_today(
    runtime: Runtime, factory: Factory
) -> None:
    world = await _world(runtime, factory)
    q = _query(world, "ADVERTISER", start_date=date(2026, 11, 1), end_date=date(2026, 11, 2))
    early = await _run(runtime, q, now=utc(2026, 11, 2, 10, 59))  # 05:59 in New York
    assert [r.date for r in early] == [date(2026, 10, 31) + timedelta(days=0)] or early == []
    assert early == []  # Nov 1 closes at 06:00 local on Nov 2
    at_six = await _run(runtime, q, now=utc(2026, 11, 2, 11))
    assert [r.date for r in at_six] == [date(2026, 11, 1)]
    live = await _run(runtime, replace(q, data_source="REALTIME"))
    assert [r.date for r in live] == [date(2026, 11, 1), date(2026, 11, 2)]
    cutoff = books.realtime_cutoff(NOW)
    assert cutoff == utc(2026, 11, 2, 9)
    want = sum(
        r["impression_1"] for r in world.hours if r["local_date"] == date(2026, 11, 2) and r["hour"] < cutoff
    )
    assert live[1].values["IMPRESSION_1"] == want
    # Conversion metrics wait one more day.
    conv = replace(q, metrics=("IMPRESSION_1", "TOTAL_CONVERSIONS"))
    assert await _run(runtime, conv, now=utc(2026, 11, 3, 10, 59)) == []
    assert [r.date for r in await _run(runtime, conv, now=utc(2026, 11, 3, 11))] == [date(2026, 11, 1)]


async def test_hour_rows_are_local_hours_and_the_repeated_hour_merges(
    runtime: Runtime, factory: Factory
) -> None:
    world = await _world(runtime, factory)
    q = _query(
        world, "ADVERTISER", granularity="HOUR", start_date=date(2026, 11, 1), end_date=date(2026, 11, 1)
    )
    rows = await _run(runtime, q)
    # 2026-11-01 is the end of daylight time in New York: 25 UTC hours fold into 24 local hours.
    assert [r.hour for r in rows] == list(range(24))
    assert all(r.date == date(2026, 11, 1) for r in rows)
    by_hour: dict[datetime, int] = defaultdict(int)
    for r in world.hours:
        by_hour[r["hour"]] += r["impression_1"]
    assert rows[1].values["IMPRESSION_1"] == by_hour[utc(2026, 11, 1, 5)] + by_hour[utc(2026, 11, 1, 6)]
    assert rows[0].values["IMPRESSION_1"] == by_hour[utc(2026, 11, 1, 4)]
    assert rows[23].values["IMPRESSION_1"] == by_hour[utc(2026, 11, 2, 4)]
    day = await _run(runtime, replace(q, granularity="DAY"))
    assert day[0].values["IMPRESSION_1"] == sum(r.values["IMPRESSION_1"] for r in rows)


async def test_week_and_month_buckets(runtime: Runtime, factory: Factory) -> None:
    world = await _world(runtime, factory)
    week = await _run(runtime, _query(world, "ADVERTISER", granularity="WEEK"))
    # Oct 25 is a Sunday: its week starts Monday Oct 19; Oct 26 - Nov 1 is the next week.
    assert [r.date for r in week] == [date(2026, 10, 19), date(2026, 10, 26)]
    month = await _run(runtime, _query(world, "ADVERTISER", granularity="MONTH"))
    assert [r.date for r in month] == [date(2026, 10, 1), date(2026, 11, 1)]
    want = _reference(world.hours, lambda r: r["local_date"].month, _closed_range)
    assert [{m: r.values[m] for m in COUNTS} for r in month] == [want[10], want[11]]
    oct25 = _reference(world.hours, lambda r: 0, lambda r: r["local_date"] == date(2026, 10, 25))
    assert {m: week[0].values[m] for m in COUNTS} == oct25[0]


async def test_targeting_rows_split_the_totals(runtime: Runtime, factory: Factory) -> None:
    world = await _world(runtime, factory)
    totals = await _run(runtime, _query(world, "AD_GROUP", granularity="TOTAL"))
    rows = await _run(runtime, _query(world, "AD_GROUP_TARGETING", granularity="TOTAL"))
    assert {r.targeting_type for r in rows} == {"COUNTRY", "APPTYPE", "GENDER", "AGE_BUCKET", "PLACEMENT"}
    for t in totals:
        for ttype in ("COUNTRY", "GENDER", "PLACEMENT"):
            mine = [r for r in rows if r.entity_id == t.entity_id and r.targeting_type == ttype]
            assert len(mine) == 3
            for m in COUNTS:
                assert sum(r.values[m] for r in mine) == t.values[m]
    keys = [(r.entity_id, r.targeting_type, r.targeting_value) for r in rows]
    assert keys == sorted(keys)
    only = await _run(
        runtime, _query(world, "AD_GROUP_TARGETING", granularity="DAY", targeting_types=("GENDER",))
    )
    assert {r.targeting_value for r in only} == {"female", "male", "unknown"}
    assert {r.targeting_type for r in only} == {"GENDER"}


def _attributed(e: NewEvent, w: Windows) -> bool:
    assert e.touch_type is not None and e.touch_time is not None
    days = {"CLICK": w.click, "ENGAGEMENT": w.engagement, "VIEW": w.view}[e.touch_type]
    return days > 0 and (e.event_time - e.touch_time) <= timedelta(days=days)


async def test_conversions_apply_windows_and_report_time(runtime: Runtime, factory: Factory) -> None:
    world = await _world(runtime, factory, conversions=400)
    metrics = (
        "TOTAL_CONVERSIONS",
        "TOTAL_CLICK_CHECKOUT",
        "TOTAL_CHECKOUT_VALUE_IN_MICRO_DOLLAR",
        "TOTAL_VIEW_ADD_TO_CART_QUANTITY",
        "CHECKOUT_ROAS",
        "ADD_TO_CART_COST_PER_ACTION",
        "SPEND_IN_MICRO_DOLLAR",
    )
    later = utc(2027, 1, 10)  # every day's books closed
    for windows in (Windows(), Windows(1, 1, 0), Windows(60, 60, 60), Windows(0, 7, 7)):
        for report_time in ("AD_EVENT", "CONVERSION_EVENT"):
            q = _query(
                world,
                "CAMPAIGN",
                metrics=metrics,
                windows=windows,
                conversion_report_time=report_time,
                end_date=date(2026, 12, 31),
                start_date=date(2026, 10, 20),
            )
            rows = await _run(runtime, q, now=later)
            got = {(r.entity_id, r.date): r.values for r in rows}
            want: dict[tuple[int, date], dict[str, int]] = defaultdict(lambda: defaultdict(int))
            for e in world.events:
                if not _attributed(e, windows):
                    continue
                assert e.touch_time is not None and e.campaign_id is not None
                when = e.touch_time if report_time == "AD_EVENT" else e.event_time
                w = want[(e.campaign_id, world.local_date(when))]
                w["TOTAL_CONVERSIONS"] += 1
                w["TOTAL_CLICK_CHECKOUT"] += e.touch_type == "CLICK" and e.event_type == "CHECKOUT"
                if e.event_type == "CHECKOUT":
                    w["TOTAL_CHECKOUT_VALUE_IN_MICRO_DOLLAR"] += e.value_micro
                if e.touch_type == "VIEW" and e.event_type == "ADD_TO_CART":
                    w["TOTAL_VIEW_ADD_TO_CART_QUANTITY"] += e.quantity
                w["ADD_TO_CART"] += e.event_type == "ADD_TO_CART"
            for key, w in want.items():
                v = got[key]
                for m in metrics[:4]:
                    assert v[m] == w[m], (windows, report_time, key, m)
                spend = v["SPEND_IN_MICRO_DOLLAR"]
                assert v["CHECKOUT_ROAS"] == (
                    w["TOTAL_CHECKOUT_VALUE_IN_MICRO_DOLLAR"] / spend if spend else 0.0
                )
                assert v["ADD_TO_CART_COST_PER_ACTION"] == (
                    spend / w["ADD_TO_CART"] if w["ADD_TO_CART"] else 0.0
                )
            for seen, v in got.items():
                if seen not in want:
                    assert v["TOTAL_CONVERSIONS"] == 0


async def test_conversion_rows_by_country(runtime: Runtime, factory: Factory) -> None:
    world = await _world(runtime, factory, conversions=200)
    q = _query(
        world,
        "PIN_PROMOTION_TARGETING",
        granularity="TOTAL",
        targeting_types=("COUNTRY",),
        metrics=("IMPRESSION_1", "TOTAL_CONVERSIONS"),
        end_date=date(2026, 12, 31),
    )
    rows = await _run(runtime, q, now=utc(2027, 1, 10))
    plain = await _run(runtime, replace(q, level="PIN_PROMOTION"), now=utc(2027, 1, 10))
    for p in plain:
        mine = [r for r in rows if r.entity_id == p.entity_id]
        assert sum(r.values["TOTAL_CONVERSIONS"] for r in mine) == p.values["TOTAL_CONVERSIONS"]
        assert sum(r.values["IMPRESSION_1"] for r in mine) == p.values["IMPRESSION_1"]
    want: dict[tuple[int | None, str | None], int] = defaultdict(int)
    for e in world.events:
        assert e.touch_time is not None
        if _attributed(e, Windows()) and world.local_date(e.touch_time) >= date(2026, 10, 25):
            want[(e.pin_promotion_id, e.country)] += 1
    got = {(r.entity_id, r.targeting_value): r.values["TOTAL_CONVERSIONS"] for r in rows}
    assert {k: v for k, v in got.items() if v} == dict(want)


async def test_stream_gives_the_rows_of_run(runtime: Runtime, factory: Factory) -> None:
    world = await _world(runtime, factory, shape=(3, 4), dims=False)
    q = _query(world, "PIN_PROMOTION", metrics=("IMPRESSION_1", "CTR"))
    rows = await _run(runtime, q)
    async with runtime.sessions() as s:
        chunks = [chunk async for chunk in stream(s, q, now=NOW)]
    assert [r for c in chunks for r in c] == rows
    assert len(rows) == 24 * 8


async def test_empty_range_and_no_delivery(runtime: Runtime, factory: Factory) -> None:
    world = await _world(runtime, factory)
    q = _query(world, start_date=date(2026, 9, 1), end_date=date(2026, 9, 30))
    assert await _run(runtime, q) == []
    assert await _run(runtime, replace(q, start_date=date(2026, 11, 5), end_date=date(2026, 11, 6))) == []


async def test_hour_targeting_rows_and_every_realtime_metric(runtime: Runtime, factory: Factory) -> None:
    world = await _world(runtime, factory)
    every = tuple(m for m in CATALOG if CATALOG[m].realtime)
    q = _query(
        world,
        "CAMPAIGN",
        granularity="HOUR",
        start_date=date(2026, 11, 1),
        end_date=date(2026, 11, 2),
        data_source="REALTIME",
        metrics=every,
    )
    plain = await _run(runtime, q)
    rows = await _run(runtime, replace(q, level="CAMPAIGN_TARGETING", targeting_types=("GENDER", "APPTYPE")))
    assert {r.targeting_type for r in rows} == {"GENDER", "APPTYPE"}
    assert max((r.date, r.hour) for r in plain) == (date(2026, 11, 2), 3)  # 08:00 UTC, the last before 09:00
    for ttype in ("GENDER", "APPTYPE"):
        sums: dict[tuple[int, date | None, int | None], int] = defaultdict(int)
        for r in rows:
            if r.targeting_type == ttype:
                sums[(r.entity_id, r.date, r.hour)] += int(r.values["IMPRESSION_1"])
        assert sums == {(r.entity_id, r.date, r.hour): r.values["IMPRESSION_1"] for r in plain}
    assert all(list(r.values) == list(every) for r in plain)
