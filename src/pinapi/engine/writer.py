"""Write one simulated hour's results into the fact tables.

Delivery is stored as two roll-ups of the engine's per-segment rows (``facts.rollup``): the
pin promotion x hour totals, and one breakdown per targeting dimension (country, region,
locale, age bucket, gender, app type, placement, keyword). Every breakdown is a complete
partition of the same impressions, so each dimension's rows of a promotion-hour sum exactly
to that promotion-hour's totals; that is what lets reports at any level add up.

Rows are built column-wise from the numpy arrays and inserted in batches; numbers become
Python ints (asyncpg refuses numpy scalars). Deleting a range before it is rewritten is
``delete_range``; the runner calls both in one transaction per chunk.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import numpy.typing as npt
from sqlalchemy import delete, insert
from sqlalchemy.ext.asyncio import AsyncSession

from pinapi.domain.measurement import events as measurement
from pinapi.engine.conversions import EVENTS, TOUCHES
from pinapi.engine.dimensions import PLACEMENTS
from pinapi.engine.facts import METRICS, HourResult, rollup
from pinapi.engine.population import Population
from pinapi.store.tables import (
    ClearingPriceHour,
    DeliveryDimensionHour,
    DeliveryHour,
    OrganicPinHour,
)
from pinapi.store.tables.facts import METRIC_COLUMNS

I64 = npt.NDArray[np.int64]
IDS = ("pin_promotion_id", "ad_group_id", "campaign_id", "advertiser_id")
DIMENSIONS = (
    ("COUNTRY", "country"),
    ("REGION", "region"),
    ("LOCALE", "locale"),
    ("AGE_BUCKET", "age"),
    ("GENDER", "gender"),
    ("APPTYPE", "app_type"),
    ("PLACEMENT", "placement"),
    ("KEYWORD", "keyword_id"),
)
"""(dimension_type stored, engine roll-up key)."""
EVENT_ID_BITS = 24
"""Engine conversion ids are ``unix_hour << 24 | index``: deterministic, far below the
time-ordered ids of real rows, and room for 16 M events an hour."""
_BATCH = 5000

assert tuple(m.lower() for m in METRICS) == METRIC_COLUMNS


@dataclass(frozen=True, slots=True)
class AdvertiserInfo:
    time_zone: str
    currency: str


@dataclass
class HourCounts:
    """What one hour wrote, for progress and the summary table."""

    delivery_rows: int = 0
    dimension_rows: int = 0
    conversions: int = 0
    impressions: dict[int, int] | None = None
    clicks: dict[int, int] | None = None
    spend: dict[int, int] | None = None


class Writer:
    """Turns ``HourResult``s into rows; holds the lookup tables for codes and local dates."""

    def __init__(self, population: Population, advertisers: Mapping[int, AdvertiserInfo]) -> None:
        self.population = population
        self.advertisers = advertisers
        self.attributes = population.attributes()
        dims = population.dims
        self._codes: dict[str, list[str]] = {
            "country": [c.code for c in dims.countries],
            "region": list(population.regions),
            "locale": list(population.locales),
            "age": [a.code for a in dims.age_buckets],
            "gender": [g.code for g in dims.genders],
            "app_type": [a.code for a in dims.app_types],
            "placement": list(PLACEMENTS),
        }
        self._zones = {i: ZoneInfo(a.time_zone) for i, a in advertisers.items()}

    def local_date(self, advertiser_id: int, hour: datetime) -> date:
        tz = self._zones.get(advertiser_id)
        return hour.astimezone(tz).date() if tz else hour.astimezone(UTC).date()

    def _value(self, key: str, raw: int) -> str:
        if key == "keyword_id":
            return "" if raw < 0 else str(raw)
        return self._codes[key][raw]

    async def write_hour(self, session: AsyncSession, result: HourResult) -> HourCounts:
        hour = result.hour
        counts = HourCounts(impressions={}, clicks={}, spend={})
        facts = result.delivery
        keys, metrics = rollup(facts, IDS, self.attributes)
        ids = {k: keys[k].tolist() for k in IDS}
        values = {m.lower(): metrics[m].tolist() for m in METRICS}
        dates = {a: self.local_date(a, hour) for a in set(ids["advertiser_id"])}
        totals: list[dict[str, Any]] = []
        for i in range(len(ids["pin_promotion_id"])):
            row: dict[str, Any] = {k: ids[k][i] for k in IDS}
            row["hour"] = hour
            row["local_date"] = dates[row["advertiser_id"]]
            for col in METRIC_COLUMNS:
                row[col] = values[col][i]
            totals.append(row)
            adv = row["advertiser_id"]
            assert counts.impressions is not None and counts.clicks is not None and counts.spend is not None
            counts.impressions[adv] = counts.impressions.get(adv, 0) + row["impression_1"]
            counts.clicks[adv] = counts.clicks.get(adv, 0) + row["clickthrough_1"]
            counts.spend[adv] = counts.spend.get(adv, 0) + row["spend_in_micro_dollar"]
        await _insert(session, DeliveryHour, totals)
        counts.delivery_rows = len(totals)

        for dim_type, key in DIMENSIONS:
            dkeys, dmetrics = rollup(facts, (*IDS, key), self.attributes)
            dids = {k: dkeys[k].tolist() for k in IDS}
            raw = dkeys[key].tolist()
            dvalues = {m.lower(): dmetrics[m].tolist() for m in METRICS}
            # Several indices can share one code (countries without regions all have region
            # ""), so rows are merged by (promotion, value) before they are stored.
            merged: dict[tuple[int, str], dict[str, Any]] = {}
            for i in range(len(raw)):
                value = self._value(key, raw[i])
                found = merged.get((dids["pin_promotion_id"][i], value))
                if found is not None:
                    for col in METRIC_COLUMNS:
                        found[col] += dvalues[col][i]
                    continue
                row = {k: dids[k][i] for k in IDS}
                row["hour"] = hour
                row["local_date"] = dates[row["advertiser_id"]]
                row["dimension_type"] = dim_type
                row["dimension_value"] = value
                for col in METRIC_COLUMNS:
                    row[col] = dvalues[col][i]
                merged[(row["pin_promotion_id"], value)] = row
            rows = list(merged.values())
            await _insert(session, DeliveryDimensionHour, rows)
            counts.dimension_rows += len(rows)

        counts.conversions = await self._conversions(session, result)
        await self._organic(session, result)
        await self._prices(session, result)
        return counts

    async def _conversions(self, session: AsyncSession, result: HourResult) -> int:
        batch = result.conversions
        n = len(batch)
        if n == 0:
            return 0
        if n >= 1 << EVENT_ID_BITS:
            raise ValueError("too many conversion events in one hour")
        base = (int(result.hour.timestamp()) // 3600) << EVENT_ID_BITS
        seg_codes = self.population.codes(batch.segment)
        cols = {k: getattr(batch, k).tolist() for k in batch.__dataclass_fields__ if k != "segment"}
        new: list[measurement.NewEvent] = []
        for i in range(n):
            adv = cols["advertiser_id"][i]
            info = self.advertisers.get(adv, AdvertiserInfo("UTC", "USD"))
            new.append(
                measurement.NewEvent(
                    id=base | i,
                    advertiser_id=adv,
                    campaign_id=cols["campaign_id"][i],
                    ad_group_id=cols["ad_group_id"][i],
                    pin_promotion_id=cols["pin_promotion_id"][i],
                    event_type=EVENTS[cols["event"][i]],
                    event_time=datetime.fromtimestamp(cols["time"][i], UTC),
                    touch_type=TOUCHES[cols["touch"][i]],
                    touch_time=datetime.fromtimestamp(cols["touch_time"][i], UTC),
                    value_micro=cols["value_micro"][i],
                    quantity=cols["quantity"][i],
                    currency=info.currency,
                    time_zone=info.time_zone,
                    country=seg_codes["country"][i],
                    app_type=seg_codes["app_type"][i],
                )
            )
        return await measurement.store_events(session, source="ENGINE", events=new)

    async def _organic(self, session: AsyncSession, result: HourResult) -> None:
        o = result.organic
        keep = np.flatnonzero(o.impression > 0)
        cols = {
            "pin_id": o.pin_id[keep].tolist(),
            "impression": o.impression[keep].tolist(),
            "closeup": o.closeup[keep].tolist(),
            "save": o.save[keep].tolist(),
            "clickthrough": o.clickthrough[keep].tolist(),
            "outbound_click": o.outbound_click[keep].tolist(),
        }
        rows = [{"hour": result.hour, **{k: v[i] for k, v in cols.items()}} for i in range(keep.size)]
        await _insert(session, OrganicPinHour, rows)

    async def _prices(self, session: AsyncSession, result: HourResult) -> None:
        p = result.prices
        day = result.hour.astimezone(UTC).date()
        rows: list[dict[str, Any]] = []
        for c, country in enumerate(self._codes["country"]):
            for k, placement in enumerate(PLACEMENTS):
                hist = p.counts[c, k]
                auctions = int(hist.sum())
                if auctions == 0:
                    continue
                rows.append(
                    {
                        "hour": result.hour,
                        "country": country,
                        "placement": placement,
                        "day": day,
                        "auctions": auctions,
                        "sum_cpm_micro": int(p.sum_cpm_micro[c, k]),
                        "histogram": hist.tolist(),
                    }
                )
        await _insert(session, ClearingPriceHour, rows)


async def _insert(session: AsyncSession, table: Any, rows: list[dict[str, Any]]) -> None:
    for i in range(0, len(rows), _BATCH):
        await session.execute(insert(table), rows[i : i + _BATCH])


async def delete_range(session: AsyncSession, *, start: datetime, end: datetime) -> None:
    """Remove every engine fact of the UTC hours [start, end) (tag events stay)."""
    for table in (DeliveryHour, DeliveryDimensionHour, OrganicPinHour, ClearingPriceHour):
        await session.execute(delete(table).where(table.hour >= start, table.hour < end))
    await measurement.delete_simulated(session, start=start, end=end)


def hours(start: datetime, end: datetime) -> int:
    return max(0, int((end - start) / timedelta(hours=1)))
