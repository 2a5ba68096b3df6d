"""The agreement rules of reporting, as properties over random fact worlds (hypothesis).

For random advertisers (time zone, entity tree, delivery hours, conversion events): DAY,
WEEK and MONTH rows sum to TOTAL exactly for every additive metric; every level's additive
metrics equal the sum of its children's; the targeting rows of one type sum to the
untargeted rows; widening an attribution window never lowers a conversion count; and rates
are ratios of the row's own summed counts.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import replace
from datetime import date
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pinapi.domain.reporting.catalog import CATALOG, EVENTS
from pinapi.domain.reporting.query import WINDOW_DAYS, ReportQuery, Row, Windows, run
from pinapi.runtime import Runtime
from tests.domain.reporting.builder import FactWorld, advertiser, build, utc
from tests.factories import Factory

PROPERTY = settings(
    max_examples=8,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
LATER = utc(2027, 1, 20)  # every day's books are closed
ADDITIVE = tuple(m for m in CATALOG if CATALOG[m].additive)
CONVERSION_COUNTS = (
    "TOTAL_CONVERSIONS",
    *(f"TOTAL_{e}" for e in EVENTS),
    "TOTAL_CLICK_CHECKOUT",
    "TOTAL_VIEW_PAGE_VISIT",
    "TOTAL_ENGAGEMENT_ADD_TO_CART_VALUE_IN_MICRO_DOLLAR",
)
LEVELS = ("ADVERTISER", "CAMPAIGN", "AD_GROUP", "PIN_PROMOTION")
PARENT = {"CAMPAIGN": "advertiser_id", "AD_GROUP": "campaign_id", "PIN_PROMOTION": "ad_group_id"}

worlds = st.fixed_dictionaries(
    {
        "seed": st.integers(1, 10_000),
        "tz": st.sampled_from(["America/New_York", "Asia/Tokyo", "UTC", "Australia/Adelaide"]),
        "shape": st.tuples(st.integers(1, 2), st.integers(1, 3)),
        "hours": st.integers(6, 60),
        "conversions": st.integers(0, 80),
    }
)
windows = st.builds(Windows, *(st.sampled_from(WINDOW_DAYS) for _ in range(3)))


async def _make(runtime: Runtime, factory: Factory, w: dict[str, Any]) -> FactWorld:
    adv = await advertiser(factory, tz=w["tz"])
    return await build(
        runtime,
        adv,
        start=utc(2026, 10, 30, 7),
        hours=w["hours"],
        seed=w["seed"],
        shape=w["shape"],
        conversions=w["conversions"],
    )


def _query(world: FactWorld, level: str, **kw: Any) -> ReportQuery:
    values: dict[str, Any] = {
        "advertiser_id": world.advertiser.id,
        "level": level,
        "start_date": date(2026, 10, 29),
        "end_date": date(2026, 12, 31),
        "granularity": "TOTAL",
        "metrics": tuple(CATALOG),
    }
    values.update(kw)
    return ReportQuery(**values)


async def _run(runtime: Runtime, q: ReportQuery) -> list[Row]:
    async with runtime.sessions() as s:
        return await run(s, q, now=LATER)


def _sum(rows: list[Row], key: Any) -> dict[Any, dict[str, int | float]]:
    """Additive metrics of the rows summed per ``key``."""
    out: dict[Any, dict[str, int | float]] = defaultdict(dict)
    for r in rows:
        sums = out[key(r)]
        for m, v in r.values.items():
            if CATALOG[m].additive:
                sums[m] = sums.get(m, 0) + v
    return dict(out)


@PROPERTY
@given(
    w=worlds,
    granularity=st.sampled_from(["DAY", "WEEK", "MONTH"]),
    report_time=st.sampled_from(["AD_EVENT", "CONVERSION_EVENT"]),
)
async def test_buckets_sum_to_total_and_levels_to_their_parents(
    runtime: Runtime, factory: Factory, w: dict[str, Any], granularity: str, report_time: str
) -> None:
    world = await _make(runtime, factory, w)
    parent_of = {
        "CAMPAIGN": {p.campaign_id: world.advertiser.id for p in world.promos},
        "AD_GROUP": {p.ad_group_id: p.campaign_id for p in world.promos},
        "PIN_PROMOTION": {p.id: p.ad_group_id for p in world.promos},
    }
    totals: dict[str, dict[Any, dict[str, int | float]]] = {}
    for level in LEVELS:
        q = _query(world, level, conversion_report_time=report_time)
        total = await _run(runtime, q)
        buckets = await _run(runtime, replace(q, granularity=granularity))
        assert _sum(buckets, lambda r: r.entity_id) == _sum(total, lambda r: r.entity_id)
        totals[level] = _sum(total, lambda r: r.entity_id)
    for level, parent in (
        ("CAMPAIGN", "ADVERTISER"),
        ("AD_GROUP", "CAMPAIGN"),
        ("PIN_PROMOTION", "AD_GROUP"),
    ):
        up: dict[int, dict[str, int | float]] = defaultdict(lambda: dict.fromkeys(ADDITIVE, 0))
        for entity, sums in totals[level].items():
            for m in ADDITIVE:
                up[parent_of[level][entity]][m] += sums[m]
        assert dict(up) == totals[parent]
    if world.hours:
        imps = sum(r["impression_1"] for r in world.hours)
        assert totals["ADVERTISER"][world.advertiser.id]["IMPRESSION_1"] == imps


@PROPERTY
@given(
    w=worlds,
    level=st.sampled_from(
        ["AD_GROUP_TARGETING", "PIN_PROMOTION_TARGETING", "CAMPAIGN_TARGETING", "ADVERTISER_TARGETING"]
    ),
    granularity=st.sampled_from(["TOTAL", "DAY"]),
)
async def test_targeting_rows_of_one_type_sum_to_the_untargeted_rows(
    runtime: Runtime, factory: Factory, w: dict[str, Any], level: str, granularity: str
) -> None:
    world = await _make(runtime, factory, w)
    plain = await _run(runtime, _query(world, level.removesuffix("_TARGETING"), granularity=granularity))
    want = _sum(plain, lambda r: (r.entity_id, r.date))
    delivery = [m for m in ADDITIVE if not CATALOG[m].conversion]
    rows = await _run(runtime, _query(world, level, granularity=granularity, metrics=tuple(delivery)))

    def delivered(sums: dict[Any, dict[str, int | float]]) -> dict[Any, dict[str, int | float]]:
        # A plain row may hold conversions alone (touched in an hour without delivery); the
        # targeting rows of its delivery then do not exist.
        return {k: {m: v[m] for m in delivery} for k, v in sums.items() if any(v[m] for m in delivery)}

    assert rows
    for ttype in {r.targeting_type for r in rows}:
        got = _sum([r for r in rows if r.targeting_type == ttype], lambda r: (r.entity_id, r.date))
        assert delivered(got) == delivered(want)
    # Conversions split by the types an event records.
    metrics = ("TOTAL_CONVERSIONS", "TOTAL_CHECKOUT_VALUE_IN_MICRO_DOLLAR")
    for ttype in ("COUNTRY", "APPTYPE"):
        q = _query(world, level, granularity=granularity, metrics=metrics, targeting_types=(ttype,))
        got = _sum(await _run(runtime, q), lambda r: (r.entity_id, r.date))
        for key, sums in want.items():
            for m in metrics:
                assert got.get(key, {}).get(m, 0) == sums[m]


@PROPERTY
@given(w=worlds, narrow=windows, widen=windows, report_time=st.sampled_from(["AD_EVENT", "CONVERSION_EVENT"]))
async def test_widening_a_window_never_lowers_conversions(
    runtime: Runtime, factory: Factory, w: dict[str, Any], narrow: Windows, widen: Windows, report_time: str
) -> None:
    world = await _make(runtime, factory, w)
    wide = Windows(
        max(narrow.click, widen.click), max(narrow.engagement, widen.engagement), max(narrow.view, widen.view)
    )
    q = _query(
        world,
        "PIN_PROMOTION",
        granularity="DAY",
        metrics=CONVERSION_COUNTS,
        conversion_report_time=report_time,
    )
    small = {(r.entity_id, r.date): r.values for r in await _run(runtime, replace(q, windows=narrow))}
    large = {(r.entity_id, r.date): r.values for r in await _run(runtime, replace(q, windows=wide))}
    for key, values in small.items():
        for m in CONVERSION_COUNTS:
            assert large[key][m] >= values[m], (key, m, narrow, wide)
    everything = sum(v["TOTAL_CONVERSIONS"] for v in (await _sum_all(runtime, world, report_time)).values())
    assert everything == len(world.events)  # the builder's lags are all within 60 days


async def _sum_all(runtime: Runtime, world: FactWorld, report_time: str) -> dict[int, dict[str, int | float]]:
    q = _query(
        world,
        "ADVERTISER",
        metrics=("TOTAL_CONVERSIONS",),
        windows=Windows(60, 60, 60),
        conversion_report_time=report_time,
        start_date=date(2026, 10, 1),
    )
    return {r.entity_id: r.values for r in await _run(runtime, q)}


@PROPERTY
@given(w=worlds, granularity=st.sampled_from(["TOTAL", "DAY", "WEEK"]))
async def test_rates_are_ratios_of_the_rows_summed_counts(
    runtime: Runtime, factory: Factory, w: dict[str, Any], granularity: str
) -> None:
    world = await _make(runtime, factory, w)
    rows = await _run(runtime, _query(world, "AD_GROUP", granularity=granularity))

    def ratio(n: int | float, d: int | float, scale: float = 1.0) -> float:
        return n * scale / d if d else 0.0

    for r in rows:
        v = r.values
        assert v["CTR"] == ratio(v["CLICKTHROUGH_1"], v["IMPRESSION_1"])
        assert v["ECTR"] == ratio(v["TOTAL_CLICKTHROUGH"], v["TOTAL_IMPRESSION"])
        assert v["ENGAGEMENT_RATE"] == ratio(v["ENGAGEMENT_1"], v["IMPRESSION_1"])
        assert v["CPC_IN_MICRO_DOLLAR"] == ratio(v["SPEND_IN_MICRO_DOLLAR"], v["CLICKTHROUGH_1"])
        assert v["CPM_IN_MICRO_DOLLAR"] == ratio(v["SPEND_IN_MICRO_DOLLAR"], v["IMPRESSION_1"], 1000.0)
        assert v["CHECKOUT_ROAS"] == ratio(
            v["TOTAL_CHECKOUT_VALUE_IN_MICRO_DOLLAR"], v["SPEND_IN_MICRO_DOLLAR"]
        )
        assert v["PAGE_VISIT_COST_PER_ACTION"] == ratio(v["SPEND_IN_MICRO_DOLLAR"], v["TOTAL_PAGE_VISIT"])
        assert v["CPV_IN_MICRO_DOLLAR"] == ratio(v["SPEND_IN_MICRO_DOLLAR"], v["VIDEO_MRC_VIEWS_1"])
        assert v["VIDEO_AVG_WATCHTIME_IN_SECOND_1"] == ratio(
            v["VIDEO_WATCH_TIME_IN_MILLISECOND_1"], v["VIDEO_START_1"], 1e-3
        )
        assert v["TOTAL_CONVERSIONS"] == sum(v[f"TOTAL_{e}"] for e in EVENTS)
