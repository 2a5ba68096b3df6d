"""Fact rows for reporting tests, written straight into the fact tables.

``FactWorld`` keeps every row it writes, so a test can compute what a report must say with
plain Python sums over those rows (an independent reference for the SQL aggregation).
"""

from __future__ import annotations

import itertools
import random
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import insert, update

from pinapi.domain.measurement import events as measurement
from pinapi.runtime import Runtime
from pinapi.store.tables import Advertiser, DeliveryHour
from pinapi.store.tables.facts import METRIC_COLUMNS
from tests.breakdown_rows import write_dimension_rows
from tests.factories import Factory

_bases = itertools.count(1)
DIMENSION_VALUES = {
    "COUNTRY": ("US", "CA", "GB"),
    "APPTYPE": ("iphone", "android_mobile", "web"),
    "GENDER": ("female", "male", "unknown"),
    "AGE_BUCKET": ("18-24", "25-34", "35-44"),
    "PLACEMENT": ("BROWSE", "SEARCH", "OTHER"),
}


@dataclass(frozen=True)
class Promo:
    id: int
    ad_group_id: int
    campaign_id: int


@dataclass
class FactWorld:
    advertiser: Advertiser
    promos: list[Promo]
    zone: ZoneInfo
    hours: list[dict[str, Any]] = field(default_factory=list)
    dims: list[dict[str, Any]] = field(default_factory=list)
    events: list[measurement.NewEvent] = field(default_factory=list)

    def local_date(self, t: datetime) -> date:
        return t.astimezone(self.zone).date()


def _split(total: int, parts: int, rng: random.Random) -> list[int]:
    cuts = sorted(rng.randint(0, total) for _ in range(parts - 1))
    edges = [0, *cuts, total]
    return [edges[i + 1] - edges[i] for i in range(parts)]


async def advertiser(factory: Factory, tz: str = "America/New_York", name: str = "Rep") -> Advertiser:
    owner = await factory.user(business=True)
    adv = await factory.advertiser(owner, name)
    async with factory.rt.sessions() as s, s.begin():
        await s.execute(update(Advertiser).where(Advertiser.id == adv.id).values(timezone=tz))
    adv.timezone = tz
    return adv


def entities(adv_id: int, base: int, shape: tuple[int, ...] = (2, 1)) -> list[Promo]:
    """Promotions for ``shape`` = ad groups per campaign, promotions per ad group."""
    groups_per_campaign, promos_per_group = shape
    out: list[Promo] = []
    n = 0
    for c in range(2):
        campaign = base + 100 * (c + 1)
        for g in range(groups_per_campaign):
            group = campaign + 10 * (g + 1)
            for _ in range(promos_per_group):
                n += 1
                out.append(Promo(base + 10_000 + n, group, campaign))
    return out


async def build(
    runtime: Runtime,
    adv: Advertiser,
    *,
    start: datetime,
    hours: int,
    seed: int = 1,
    shape: tuple[int, ...] = (2, 1),
    conversions: int = 0,
    dims: bool = True,
) -> FactWorld:
    """Hourly facts for two campaigns' promotions over ``hours`` UTC hours from ``start``,
    random but seeded; dimension rows split each total row exactly; ``conversions`` events."""
    rng = random.Random(seed)
    base = next(_bases) * 1_000_000  # ids unique across the worlds of one database
    world = FactWorld(adv, entities(adv.id, base, shape), ZoneInfo(adv.timezone))
    for p in world.promos:
        for k in range(hours):
            if rng.random() < 0.15:
                continue  # some hours without delivery
            t = start + timedelta(hours=k)
            imp = rng.randint(1, 400)
            clicks = rng.randint(0, imp // 10)
            saves = rng.randint(0, imp // 20)
            closeups = rng.randint(0, imp // 8)
            metrics = {c: 0 for c in METRIC_COLUMNS}
            metrics.update(
                impression_1=imp,
                clickthrough_1=clicks,
                outbound_click_1=rng.randint(0, clicks),
                save_1=saves,
                closeup_1=closeups,
                engagement_1=clicks + saves + closeups,
                spend_in_micro_dollar=imp * rng.randint(1_000, 9_000),
                impression_2=saves * 3,
                clickthrough_2=rng.randint(0, saves),
                video_start_1=imp // 2,
                video_mrc_views_1=imp // 4,
                video_p100_combined_1=imp // 9,
                video_watch_time_ms_1=imp * 700,
            )
            ids = {
                "pin_promotion_id": p.id,
                "ad_group_id": p.ad_group_id,
                "campaign_id": p.campaign_id,
                "advertiser_id": adv.id,
                "hour": t,
                "local_date": world.local_date(t),
            }
            world.hours.append({**ids, **metrics})
            if not dims:
                continue
            for dtype, values in DIMENSION_VALUES.items():
                parts = {c: _split(metrics[c], len(values), rng) for c in METRIC_COLUMNS}
                for i, v in enumerate(values):
                    row = {**ids, "dimension_type": dtype, "dimension_value": v}
                    row.update({c: parts[c][i] for c in METRIC_COLUMNS})
                    world.dims.append(row)
    for n in range(conversions):
        p = rng.choice(world.promos)
        touch_time = start + timedelta(seconds=rng.randint(0, hours * 3600 - 1))
        lag = rng.choice([60, 3600, 20 * 3600, 2 * 86400, 10 * 86400, 20 * 86400, 40 * 86400])
        event_type = rng.choice(("PAGE_VISIT", "ADD_TO_CART", "CHECKOUT", "SIGNUP", "LEAD", "VIEW_CATEGORY"))
        valued = event_type in ("ADD_TO_CART", "CHECKOUT")
        world.events.append(
            measurement.NewEvent(
                id=base + n + 1,
                advertiser_id=adv.id,
                campaign_id=p.campaign_id,
                ad_group_id=p.ad_group_id,
                pin_promotion_id=p.id,
                event_type=event_type,
                event_time=touch_time + timedelta(seconds=lag),
                touch_type=rng.choice(("CLICK", "ENGAGEMENT", "VIEW")),
                touch_time=touch_time,
                value_micro=rng.randint(1_000_000, 90_000_000) if valued else 0,
                quantity=rng.randint(1, 3) if valued else 1,
                currency="USD",
                time_zone=adv.timezone,
                country=rng.choice(DIMENSION_VALUES["COUNTRY"]),
                app_type=rng.choice(DIMENSION_VALUES["APPTYPE"]),
            )
        )
    async with runtime.sessions() as s, s.begin():
        for i in range(0, len(world.hours), 2000):
            await s.execute(insert(DeliveryHour), world.hours[i : i + 2000])
        await write_dimension_rows(s, world.dims)
        await measurement.store_events(s, source="TAG", events=world.events)
    return world


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)
