"""Delivery to report on: the engine test world simulated for two days, a token for its
owner, and the fact rows every synchronous metrics answer must add up to.

The world's advertiser reports in America/New_York, so the simulated UTC hours
[2026-10-30, 2026-11-01) fall on the local days 2026-10-29 (evening) to 2026-10-31; the
fixture clock (2026-11-02 12:00 UTC) has closed the books of all of them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from sqlalchemy import select

from pinapi.engine.runner import Simulator, simulate
from pinapi.runtime import Runtime
from pinapi.store.tables import DeliveryHour, User
from tests.breakdown_rows import DimensionRow, read_dimension_rows
from tests.engine_db.world import DAY0, POPULATION, SEED, World, build_world
from tests.factories import Factory, bearer

SCOPES = "read_advertisers,read_campaigns,read_pin_promotions"
TZ = ZoneInfo("America/New_York")
FIRST, LAST = date(2026, 10, 29), date(2026, 11, 1)
RANGE = f"start_date={FIRST}&end_date={LAST}"
COUNTS = {
    "IMPRESSION_1": "impression_1",
    "CLICKTHROUGH_1": "clickthrough_1",
    "SPEND_IN_MICRO_DOLLAR": "spend_in_micro_dollar",
}
METRICS = ",".join(COUNTS)


class Fact(Protocol):
    """What the two delivery fact tables share (their rows are read detached)."""

    pin_promotion_id: int
    ad_group_id: int
    campaign_id: int
    advertiser_id: int
    local_date: date
    hour: datetime


@dataclass
class Delivered:
    world: World
    owner: User
    headers: dict[str, str]
    hours: list[DeliveryHour]
    dims: list[DimensionRow]

    @property
    def advertiser_id(self) -> int:
        return self.world.advertiser.id


async def deliver(runtime: Runtime, factory: Factory, scopes: str = SCOPES) -> Delivered:
    world = await build_world(runtime, factory)
    await simulate(
        runtime.sessions,
        clock=runtime.clock,
        simulator=Simulator(seed=SEED, population=POPULATION),
        start=DAY0,
        end=DAY0 + timedelta(days=2),
    )
    async with runtime.sessions() as s:
        owner = await s.get(User, world.advertiser.owner_user_id)
        hours = list(await s.scalars(select(DeliveryHour)))
        dims = await read_dimension_rows(s)
    assert owner is not None and hours and dims
    token = await factory.token(owner, scopes)
    return Delivered(world, owner, bearer(token), hours, dims)


def local_hour(fact: Fact) -> int:
    moment = fact.hour if fact.hour.tzinfo else fact.hour.replace(tzinfo=UTC)
    return moment.astimezone(TZ).hour


def expected(
    facts: Iterable[Any],
    *,
    id_field: str,
    entity: Callable[[Any], int],
    bucket: Callable[[Any], Mapping[str, Any]] = lambda f: {},
    metrics: Mapping[str, str] = COUNTS,
) -> list[dict[str, Any]]:
    """The rows a report must answer: the facts summed per entity and bucket, in row order.

    ``bucket`` gives a fact's wire bucket fields (``DATE``, ``HOUR``, ``TARGETING_*``) in
    the order rows sort by; ``metrics`` maps wire metric names to fact columns.
    """
    groups: dict[tuple[Any, ...], dict[str, Any]] = {}
    for fact in facts:
        where = dict(bucket(fact))
        key = (entity(fact), *where.values())
        row = groups.get(key)
        if row is None:
            row = groups[key] = {id_field: str(entity(fact)), **where, **dict.fromkeys(metrics, 0)}
        for name, column in metrics.items():
            row[name] += getattr(fact, column)
    return [groups[k] for k in sorted(groups)]


def by_day(fact: Fact) -> dict[str, Any]:
    return {"DATE": fact.local_date.isoformat()}


def with_ctr(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Adds CTR computed from each row's summed counts (never an average of rates)."""
    for row in rows:
        imps = row["IMPRESSION_1"]
        row["CTR"] = row["CLICKTHROUGH_1"] / imps if imps else 0.0
    return rows
