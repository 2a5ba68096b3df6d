"""The targeting reader over packed breakdowns (SQLite and PostgreSQL).

Every expectation is recomputed with plain Python sums over the dimension rows the builder
packed, so the numpy grouping, the type filter, the REALTIME cut-off and the shape of the
groups at each granularity are checked against an independent reference.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import insert

from pinapi.domain.reporting import books
from pinapi.domain.reporting.breakdowns import breakdown_sums
from pinapi.domain.reporting.query import ReportQuery, _delivery_rows
from pinapi.runtime import Runtime
from pinapi.store.breakdowns import metric_index, pack, register, value_code
from pinapi.store.tables import DeliveryBreakdown
from pinapi.store.tables.facts import METRIC_COLUMNS
from tests.conftest import START
from tests.domain.reporting.builder import DIMENSION_VALUES, FactWorld, advertiser, build, utc
from tests.factories import Factory

FROM = utc(2026, 10, 30)
HOURS = 3 * 24 + 12  # to the fixture clock
COLS = ("impression_1", "clickthrough_1", "spend_in_micro_dollar", "video_watch_time_ms_1")
FIRST, LAST = date(2026, 10, 29), date(2026, 11, 2)
ENTITY = {"ADVERTISER": "advertiser_id", "AD_GROUP": "ad_group_id", "PIN_PROMOTION": "pin_promotion_id"}


def _query(world: FactWorld, level: str, granularity: str, **kw: Any) -> ReportQuery:
    return ReportQuery(
        advertiser_id=world.advertiser.id,
        level=level,
        start_date=FIRST,
        end_date=LAST,
        granularity=granularity,
        **kw,
    )


def _bucket(granularity: str) -> Callable[[dict[str, Any]], tuple[Any, ...]]:
    if granularity == "HOUR":
        return lambda r: (r["hour"],)
    if granularity == "DAY":
        return lambda r: (r["local_date"],)
    return lambda r: ()


def _reference(
    dims: Iterable[dict[str, Any]], entity: str, granularity: str, cols: tuple[str, ...]
) -> set[tuple[Any, ...]]:
    """The groups the reader must return: a group exists where any of its rows has a
    non-zero metric (what the packed value holds), whatever ``cols`` sum to."""
    bucket = _bucket(granularity)
    sums: dict[tuple[Any, ...], list[int]] = {}
    for r in dims:
        if not any(r[c] for c in METRIC_COLUMNS):
            continue
        key = (r[entity], *bucket(r), r["dimension_type"], r["dimension_value"])
        got = sums.setdefault(key, [0] * len(cols))
        for i, c in enumerate(cols):
            got[i] += r[c]
    return {(*k, *v) for k, v in sums.items()}


async def _rows(runtime: Runtime, q: ReportQuery, cols: tuple[str, ...] = COLS) -> list[tuple[Any, ...]]:
    async with runtime.sessions() as s:
        return [tuple(r) for r in await _delivery_rows(s, q, cols, q.start_date, q.end_date, START)]


@pytest.fixture
async def world(runtime: Runtime, factory: Factory) -> FactWorld:
    adv = await advertiser(factory)
    return await build(runtime, adv, start=FROM, hours=HOURS, seed=7)


@pytest.mark.parametrize("granularity", ["TOTAL", "DAY", "HOUR"])
@pytest.mark.parametrize("level", ["ADVERTISER", "AD_GROUP", "PIN_PROMOTION"])
async def test_groups_and_sums_equal_the_packed_rows(
    runtime: Runtime, world: FactWorld, level: str, granularity: str
) -> None:
    got = await _rows(runtime, _query(world, f"{level}_TARGETING", granularity))
    assert got and len(got) == len(set(got))
    width = 1 + (granularity != "TOTAL") + 2 + len(COLS)
    assert {len(r) for r in got} == {width}
    assert all(isinstance(v, int) for r in got for v in r[width - len(COLS) :])
    assert set(got) == _reference(world.dims, ENTITY[level], granularity, COLS)
    if granularity == "DAY":
        assert {r[1] for r in got} <= {FIRST + timedelta(days=i) for i in range(5)}


async def test_each_type_sums_to_the_totals(runtime: Runtime, world: FactWorld) -> None:
    got = await _rows(runtime, _query(world, "AD_GROUP_TARGETING", "DAY"))
    totals: dict[tuple[int, date], list[int]] = defaultdict(lambda: [0] * len(COLS))
    for h in world.hours:
        for i, c in enumerate(COLS):
            totals[(h["ad_group_id"], h["local_date"])][i] += h[c]
    for dtype in DIMENSION_VALUES:
        per_type: dict[tuple[int, date], list[int]] = defaultdict(lambda: [0] * len(COLS))
        for r in got:
            if r[2] == dtype:
                for i in range(len(COLS)):
                    per_type[(r[0], r[1])][i] += r[4 + i]
        assert per_type == totals


async def test_targeting_types_keep_only_their_groups(runtime: Runtime, world: FactWorld) -> None:
    every = await _rows(runtime, _query(world, "PIN_PROMOTION_TARGETING", "DAY"))
    kept = ("GENDER", "PLACEMENT")
    got = await _rows(runtime, _query(world, "PIN_PROMOTION_TARGETING", "DAY", targeting_types=kept))
    assert {r[2] for r in got} == set(kept)
    assert set(got) == {r for r in every if r[2] in kept}
    one = await _rows(runtime, _query(world, "PIN_PROMOTION_TARGETING", "DAY", targeting_types=("COUNTRY",)))
    assert set(one) == {r for r in every if r[2] == "COUNTRY"}


async def test_realtime_stops_at_the_cutoff(runtime: Runtime, world: FactWorld) -> None:
    cutoff = books.realtime_cutoff(START)
    assert cutoff < max(r["hour"] for r in world.dims)  # the world reaches past the cut-off
    q = _query(world, "CAMPAIGN_TARGETING", "HOUR", data_source="REALTIME")
    got = await _rows(runtime, q)
    early = [r for r in world.dims if r["hour"] < cutoff]
    assert set(got) == _reference(early, "campaign_id", "HOUR", COLS)
    assert max(r[1] for r in got) == cutoff - timedelta(hours=1)
    offline = await _rows(runtime, _query(world, "CAMPAIGN_TARGETING", "HOUR"))
    assert max(r[1] for r in offline) > cutoff


async def test_requested_metrics_in_order_and_groups_that_sum_to_zero(
    runtime: Runtime, world: FactWorld
) -> None:
    """A value whose asked-for metric is 0 everywhere is still a group (it had delivery)."""
    adv = world.advertiser.id
    hour = datetime(2026, 10, 31, 15, tzinfo=UTC)
    ids = {"pin_promotion_id": 1, "ad_group_id": 2, "campaign_id": 3, "advertiser_id": adv}
    imp, clicks = metric_index("impression_1"), metric_index("clickthrough_1")
    us, fr = value_code("COUNTRY", "US"), value_code("COUNTRY", "FR")
    async with runtime.sessions() as s, s.begin():
        await register(s, [("COUNTRY", "US"), ("COUNTRY", "FR")], {})
        await s.execute(
            insert(DeliveryBreakdown),
            [
                {
                    **ids,
                    "hour": hour,
                    "local_date": date(2026, 10, 31),
                    "entries": pack([us, us, fr], [imp, clicks, imp], [9, 4, 5]),
                },
                {**ids, "hour": hour + timedelta(hours=1), "local_date": date(2026, 10, 31), "entries": b""},
            ],
        )
    t = DeliveryBreakdown
    async with runtime.sessions() as s:
        got = await breakdown_sums(
            s,
            [t.ad_group_id],
            [t.advertiser_id == adv, t.ad_group_id == 2],
            ["clickthrough_1", "impression_1", "clickthrough_1"],
        )
        assert sorted(got) == [(2, "COUNTRY", "FR", 0, 5, 0), (2, "COUNTRY", "US", 4, 9, 4)]
        assert (
            await breakdown_sums(
                s, [t.ad_group_id], [t.advertiser_id == adv, t.ad_group_id == 2], ["save_1"], ["GENDER"]
            )
            == []
        )
        assert (
            await breakdown_sums(
                s, [t.ad_group_id], [t.advertiser_id == adv, t.ad_group_id == 404], ["save_1"]
            )
            == []
        )


async def test_an_unnamed_code_fails_instead_of_vanishing(runtime: Runtime, world: FactWorld) -> None:
    adv = world.advertiser.id
    ids = {"pin_promotion_id": 5, "ad_group_id": 6, "campaign_id": 7, "advertiser_id": adv}
    async with runtime.sessions() as s, s.begin():
        entry = pack([value_code("COUNTRY", "ZZ")], [0], [3])
        await s.execute(
            insert(DeliveryBreakdown),
            [{**ids, "hour": utc(2026, 10, 31, 3), "local_date": date(2026, 10, 30), "entries": entry}],
        )
    t = DeliveryBreakdown
    async with runtime.sessions() as s:
        with pytest.raises(RuntimeError, match="without a name"):
            await breakdown_sums(
                s, [t.ad_group_id], [t.advertiser_id == adv, t.ad_group_id == 6], ["impression_1"]
            )
