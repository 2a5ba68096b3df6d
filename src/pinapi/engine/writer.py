"""Write simulated hours into the fact tables.

Delivery is stored as the pin promotion totals (``delivery_hours``) and, beside each totals
row, its breakdown by every targeting dimension (country, region, locale, age bucket,
gender, app type, placement, keyword) packed into one ``delivery_breakdowns`` row
(``store.breakdowns``). Every dimension is a complete partition of the same impressions, so
each dimension's sums of a row equal that row's totals; that is what lets reports at any
level add up.

Row volume is what a month's simulation costs, so rows are as coarse as the reports allow,
and never coarser than one advertiser-local day: one row per promotion and UTC hour, as HOUR
reports need, for chunks that end within ``HOURLY_DAYS`` before the clock (HOUR reports
reach 8 days back); for older chunks a row covers the promotion's hours of one
advertiser-local day inside the chunk.

A row that covers several hours is stored at the first of them: ``max(chunk start, the local
day's first UTC hour)``, so it lies inside the chunk (re-simulating the chunk replaces it)
and carries the local date of every hour it holds. The runner ``begin``s a chunk, ``add``s its
hours (numpy only), and ``flush``es; rows go to the driver in bulk (``store.bulk``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import numpy.typing as npt
from sqlalchemy import delete, insert
from sqlalchemy.ext.asyncio import AsyncSession

from pinapi.domain.measurement import events as measurement
from pinapi.engine.conversions import EVENTS, TOUCHES
from pinapi.engine.dimensions import PLACEMENTS
from pinapi.engine.facts import METRICS, DeliveryFacts, HourResult
from pinapi.engine.population import Population
from pinapi.store.breakdowns import pack_many, register, value_code
from pinapi.store.bulk import bulk_insert
from pinapi.store.tables import (
    ClearingPriceHour,
    DeliveryBreakdown,
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
HOURLY_DAYS = 10
"""Totals and breakdowns of chunks that end within this many days before the clock stay
hourly (HOUR reports reach 8 advertiser-local days back; two more days cover any time zone)."""
EVENT_ID_BITS = 24
"""Engine conversion ids are ``unix_hour << 24 | index``: deterministic, far below the
time-ordered ids of real rows, and room for 16 M events an hour."""
_BATCH = 5000
_COMPACT_ROWS = 400_000
_MERGE_ENTRIES = 12_000_000
"""Per-day chunks merge their entries at the end (a day is about 8 M at 5,000 promotions)."""
_KEYWORD = len(DIMENSIONS) - 1
_HOUR_BITS = 5
_DAY_BITS = 3
_PROMO_SHIFT = _HOUR_BITS + _DAY_BITS
_KEY_BITS = 40
"""Buffered rows are keyed by one int64: promotion << 8 | local day << 5 | hour (< 2**40)."""
_VALUE_BITS = 16
_METRIC_BITS = 5

assert tuple(m.lower() for m in METRICS) == METRIC_COLUMNS


@dataclass(frozen=True, slots=True)
class AdvertiserInfo:
    time_zone: str
    currency: str


@dataclass
class HourCounts:
    """What one hour wrote, for progress and the summary table (delivery rows are counted
    when the chunk is flushed)."""

    delivery_rows: int = 0
    dimension_rows: int = 0
    conversions: int = 0
    impressions: dict[int, int] | None = None
    clicks: dict[int, int] | None = None
    spend: dict[int, int] | None = None


def _runs(*cols: I64) -> I64:
    """Start of each run of equal consecutive keys."""
    n = cols[0].size
    change = np.zeros(n, dtype=bool)
    if n:
        change[0] = True
    for c in cols:
        change[1:] |= c[1:] != c[:-1]
    out: I64 = np.flatnonzero(change)
    return out


def _nonzero(metrics: I64) -> list[I64]:
    """Per metric, the columns where it is not 0 (most actions are rare: sums skip the zeros)."""
    return [np.flatnonzero(row) for row in metrics]


def _sum_by(
    keys: I64, metrics: I64, nonzero: list[I64] | None = None, order: I64 | None = None
) -> tuple[I64, I64]:
    """Sum the columns of ``metrics`` (metrics x rows) that share a key; keys come back sorted.

    ``order``, when given, is an argsort of ``keys`` the caller got more cheaply."""
    n = keys.size
    if order is None:
        order = np.argsort(keys)
    sorted_keys = keys[order]
    change = np.empty(n, dtype=bool)
    change[:1] = True
    np.not_equal(sorted_keys[1:], sorted_keys[:-1], out=change[1:])
    group = np.empty(n, dtype=np.int64)
    group[order] = np.cumsum(change) - 1
    starts = np.flatnonzero(change)
    u = starts.size
    nz = nonzero if nonzero is not None else _nonzero(metrics)
    out = np.zeros((metrics.shape[0], u), dtype=np.int64)
    for m, idx in enumerate(nz):
        if idx.size:
            out[m] = np.bincount(group[idx], weights=metrics[m, idx], minlength=u)
    return sorted_keys[starts], out


def _run_sums(metrics: I64, starts: I64, nonzero: list[I64]) -> I64:
    """Sums of consecutive runs of columns (``np.add.reduceat``, but skipping zeros)."""
    n = metrics.shape[1]
    change = np.zeros(n, dtype=np.int64)
    change[starts] = 1
    group = np.cumsum(change) - 1
    out = np.zeros((metrics.shape[0], starts.size), dtype=np.int64)
    for m, idx in enumerate(nonzero):
        if idx.size:
            out[m] = np.bincount(group[idx], weights=metrics[m, idx], minlength=starts.size)
    return out


@dataclass
class _Buffer:
    """Reduced rows of the chunk so far: packed keys and a (metrics, rows) matrix.

    Rows of different hours of an hourly chunk never share a key, so merging is only worth
    its sort once the buffer has doubled since the last one (a fixed threshold would sort the
    whole, ever larger buffer again on every hour)."""

    keys: list[I64] = field(default_factory=list)
    metrics: list[I64] = field(default_factory=list)
    rows: int = 0
    limit: int = _COMPACT_ROWS

    def add(self, keys: I64, metrics: I64) -> None:
        self.keys.append(keys)
        self.metrics.append(metrics)
        self.rows += keys.size
        if self.rows > self.limit and len(self.keys) > 1:
            self.compact()

    def compact(self) -> tuple[I64, I64]:
        if not self.keys:
            return np.zeros(0, dtype=np.int64), np.zeros((len(METRICS), 0), dtype=np.int64)
        keys, metrics = _sum_by(np.concatenate(self.keys), np.concatenate(self.metrics, axis=1))
        self.keys, self.metrics, self.rows = [keys], [metrics], keys.size
        self.limit = max(_COMPACT_ROWS, 2 * keys.size)
        return keys, metrics


@dataclass
class _Entries:
    """Breakdown entries of the chunk so far: (row key, value index, metric, amount).

    Hourly chunks never repeat an entry; per-day chunks repeat them across hours and merge
    them at the end, or sooner if the buffer grows past ``_MERGE_ENTRIES``."""

    parts: list[tuple[I64, I64, I64, I64]] = field(default_factory=list)
    rows: int = 0
    limit: int = _MERGE_ENTRIES
    merging: bool = False

    def add(self, key: I64, value: I64, metric: I64, amount: I64) -> None:
        self.parts.append((key, value, metric, amount))
        self.rows += key.size
        if self.merging and self.rows > self.limit and len(self.parts) > 1:
            self.merge()

    def merge(self) -> tuple[I64, I64, I64, I64]:
        if not self.parts:
            z = np.zeros(0, dtype=np.int64)
            return z, z, z, z
        key, value, metric, amount = (np.concatenate([p[i] for p in self.parts]) for i in range(4))
        if self.merging and key.size:
            key, value, metric, amount = _merge_entries(key, value, metric, amount)
        self.parts, self.rows = [(key, value, metric, amount)], key.size
        self.limit = max(_MERGE_ENTRIES, 2 * key.size)
        return key, value, metric, amount


def _dense(ids: I64) -> tuple[I64, I64]:
    """(distinct values in order, index of each id among them) for small non-negative ids,
    through a lookup table instead of a sort."""
    present = np.flatnonzero(np.bincount(ids))
    lut = np.empty(int(present[-1]) + 1, dtype=np.int64)
    lut[present] = np.arange(present.size, dtype=np.int64)
    return present, lut[ids]


def _merge_entries(key: I64, value: I64, metric: I64, amount: I64) -> tuple[I64, I64, I64, I64]:
    """Sum entries sharing (row key, value, metric). Row keys of a chunk are a few thousand
    promotion-days and values a few hundred, so every step is a dense lookup (no sort of
    the millions of entries); the result comes ordered by (row key, value, metric)."""
    rows, r = _dense(key)
    values, v = _dense(value)
    pairs, p = _dense(r * values.size + v)
    width = 1 << _METRIC_BITS
    sums = np.bincount(p * width + metric, weights=amount, minlength=pairs.size * width)
    at = np.flatnonzero(sums)
    pair, m = np.divmod(at, width)
    r2, v2 = np.divmod(pairs[pair], values.size)
    return rows[r2], values[v2], m, sums[at].astype(np.int64)


class Writer:
    """Turns ``HourResult``s into rows; holds the lookup tables for codes and local dates."""

    def __init__(self, population: Population, advertisers: Mapping[int, AdvertiserInfo]) -> None:
        self.population = population
        self.advertisers = advertisers
        self.attributes = population.attributes()
        dims = population.dims
        codes: dict[str, list[str]] = {
            "country": [c.code for c in dims.countries],
            "region": list(population.regions),
            "locale": list(population.locales),
            "age": [a.code for a in dims.age_buckets],
            "gender": [g.code for g in dims.genders],
            "app_type": [a.code for a in dims.app_types],
            "placement": list(PLACEMENTS),
        }
        # One table of (dimension type, value) for every dimension; several engine indices can
        # share one code (countries without regions all have region ""), so they map together.
        self._values: list[tuple[str, str]] = []
        self._codes: list[int] = []
        self._value_index: dict[tuple[str, str], int] = {}
        self._registered: dict[int, tuple[str, str]] = {}
        self._lookup: dict[str, I64] = {}
        for dim_type, key in DIMENSIONS[:_KEYWORD]:
            self._lookup[key] = np.array([self._value(dim_type, c) for c in codes[key]], dtype=np.int64)
        self._zones = {i: ZoneInfo(a.time_zone) for i, a in advertisers.items()}
        self._countries = [c.code for c in dims.countries]
        self._day_start: dict[tuple[int, int], datetime] = {}
        self.begin(datetime.fromtimestamp(0, UTC), datetime.fromtimestamp(3600, UTC))

    def _value(self, dim_type: str, value: str) -> int:
        found = self._value_index.get((dim_type, value))
        if found is None:
            found = self._value_index[(dim_type, value)] = len(self._values)
            if found >= 1 << _VALUE_BITS:
                raise ValueError("too many distinct breakdown values")
            self._values.append((dim_type, value))
            self._codes.append(value_code(dim_type, value))
        return found

    def local_date(self, advertiser_id: int, hour: datetime) -> date:
        tz = self._zones.get(advertiser_id)
        return hour.astimezone(tz).date() if tz else hour.astimezone(UTC).date()

    # -- a chunk ----------------------------------------------------------------------------
    def begin(self, start: datetime, end: datetime, *, hourly: bool = True) -> None:
        """Start buffering the chunk [start, end)."""
        self.start, self.end = start, end
        self.hourly = hourly
        self._base_day = start.astimezone(UTC).date().toordinal() - 2
        self._dense: dict[int, int] = {}
        self._pids: list[int] = []
        self._ids: list[tuple[int, int, int]] = []
        self._totals = _Buffer()
        self._events: list[measurement.NewEvent] = []
        self._organic_rows: dict[str, list[Any]] = {
            name: []
            for name in ("pin_id", "hour", "impression", "closeup", "save", "clickthrough", "outbound_click")
        }
        self._prices: list[dict[str, Any]] = []
        self._entries = _Entries(merging=True)
        self._packed: list[tuple[I64, list[bytes]]] = []

    def add(self, result: HourResult) -> HourCounts:
        """Fold one hour into the chunk's buffers (no database work: ``flush`` stores).

        The engine's rows come grouped by promotion, so totals are sums of runs (no sort) and
        breakdowns are sums per (run, dimension value). A row left unsummed by an unexpected
        order would still be merged when the chunk is flushed.
        """
        facts = result.delivery
        counts = HourCounts(impressions={}, clicks={}, spend={})
        counts.conversions = self._extras(result)
        n = len(facts)
        if n == 0:
            return counts
        hour_slot = (int(result.hour.timestamp()) - int(self.start.timestamp())) // 3600
        hour_bits = hour_slot if self.hourly else 0
        if not 0 <= hour_bits < 1 << _HOUR_BITS:
            raise ValueError("a chunk holds at most 32 hours")
        metrics = np.stack([facts.metrics[m] for m in METRICS]).astype(np.int64, copy=False)
        pid = facts.pin_promotion_id
        starts = _runs(pid)
        run_pid = pid[starts].tolist()
        run_adv = facts.advertiser_id[starts].tolist()
        for p, g, c, a in zip(
            run_pid,
            facts.ad_group_id[starts].tolist(),
            facts.campaign_id[starts].tolist(),
            run_adv,
            strict=True,
        ):
            if p not in self._dense:
                self._dense[p] = len(self._pids)
                self._pids.append(p)
                self._ids.append((g, c, a))
        days: dict[int, int] = {}
        for a in set(run_adv):
            days[a] = self.local_date(a, result.hour).toordinal() - self._base_day
            if not 0 <= days[a] < 1 << _DAY_BITS:
                raise ValueError("a chunk spans at most a few local days")
        base = np.array(
            [
                (self._dense[p] << _PROMO_SHIFT) | (days[a] << _HOUR_BITS)
                for p, a in zip(run_pid, run_adv, strict=True)
            ],
            dtype=np.int64,
        )
        row_nonzero = _nonzero(metrics)
        totals = _run_sums(metrics, starts, row_nonzero)
        self._totals.add(base | hour_bits, totals)
        run_adv_arr = np.array(run_adv, dtype=np.int64)
        advs, inv = np.unique(run_adv_arr, return_inverse=True)
        for target, name in (
            (counts.impressions, "IMPRESSION_1"),
            (counts.clicks, "CLICKTHROUGH_1"),
            (counts.spend, "SPEND_IN_MICRO_DOLLAR"),
        ):
            sums = np.bincount(inv.reshape(-1), weights=totals[METRICS.index(name)], minlength=advs.size)
            assert target is not None
            target.update(zip(advs.tolist(), sums.astype(np.int64).tolist(), strict=True))

        self._breakdowns(facts, base | hour_bits, starts, metrics, row_nonzero)
        return counts

    def _breakdowns(
        self, facts: DeliveryFacts, keys: I64, starts: I64, metrics: I64, nonzero: list[I64]
    ) -> None:
        """Sum one hour's rows per (promotion run, dimension value) for every dimension at once.

        Value indices are small and shared by all dimensions, so (run, value) is a dense
        index: one ``bincount`` per metric over the rows of every dimension, no sort."""
        n = len(facts)
        lengths = np.diff(np.append(starts, n))
        run_of_row = np.repeat(np.arange(starts.size, dtype=np.int64), lengths)
        seg = facts.segment.astype(np.int64, copy=False)
        kw_u, kw_inv = np.unique(facts.keyword_id, return_inverse=True)
        kw_values = np.array(
            [self._value("KEYWORD", "" if k < 0 else str(k)) for k in kw_u.tolist()], dtype=np.int64
        )
        values = [self._lookup[key][self.attributes[key][seg]] for _, key in DIMENSIONS[: _KEYWORD - 1]]
        values.append(self._lookup["placement"][facts.placement.astype(np.int64, copy=False)])
        values.append(kw_values[kw_inv.reshape(-1)])
        nv, dims = len(self._values), len(values)
        space = starts.size * nv
        flat = (run_of_row[None, :] * nv + np.stack(values)).reshape(-1)
        occupied = np.flatnonzero(np.bincount(flat, minlength=space))
        lut = np.empty(space, dtype=np.int64)
        lut[occupied] = np.arange(occupied.size, dtype=np.int64)
        index = lut[flat].reshape(dims, n)
        sums = np.zeros((occupied.size, len(nonzero)), dtype=np.float64)
        for m, idx in enumerate(nonzero):
            if idx.size == n:
                sums[:, m] = np.bincount(
                    index.reshape(-1), weights=np.tile(metrics[m], dims), minlength=sums.shape[0]
                )
            elif idx.size:
                sums[:, m] = np.bincount(
                    index[:, idx].reshape(-1), weights=np.tile(metrics[m, idx], dims), minlength=sums.shape[0]
                )
        pair, metric = np.nonzero(sums)  # row-major: ordered by run, then value
        amount = sums[pair, metric].astype(np.int64)
        run, value = np.divmod(occupied[pair], nv)
        if self.hourly:
            # Keys of an hourly chunk never repeat: the hour's rows are final, pack them now.
            codes = np.array(self._codes, dtype=np.int64)[value]
            self._packed.append((keys, pack_many(run, codes, metric, amount, keys.size)))
        else:
            self._entries.add(keys[run], value, metric, amount)

    def _row_hour(self, advertiser_id: int, day_ordinal: int) -> datetime:
        """Where a row covering a local day's hours of this chunk is stored."""
        key = (advertiser_id, day_ordinal)
        found = self._day_start.get(key)
        if found is None:
            tz = self._zones.get(advertiser_id, ZoneInfo("UTC"))
            local = datetime.combine(date.fromordinal(day_ordinal), time(0), tz).astimezone(UTC)
            found = self._day_start[key] = local.replace(minute=0, second=0, microsecond=0)
        return max(found, self.start)

    def _unpack(self, keys: I64) -> tuple[list[int], list[tuple[int, int, int]], list[int], I64]:
        """(promotion ids, their (ad group, campaign, advertiser), day ordinals, hour slots)."""
        dense = ((keys >> _PROMO_SHIFT) & ((1 << (_KEY_BITS - _PROMO_SHIFT)) - 1)).tolist()
        days = (((keys >> _HOUR_BITS) & ((1 << _DAY_BITS) - 1)) + self._base_day).tolist()
        return (
            [self._pids[d] for d in dense],
            [self._ids[d] for d in dense],
            days,
            keys & ((1 << _HOUR_BITS) - 1),
        )

    def _columns(self, keys: I64, metrics: I64, hourly: bool) -> dict[str, Any]:
        pids, ids, days, slots = self._unpack(keys)
        if hourly:
            start = int(self.start.timestamp())
            by_slot = {s: datetime.fromtimestamp(start + 3600 * s, UTC) for s in set(slots.tolist())}
            hours = [by_slot[s] for s in slots.tolist()]
        else:
            hours = [self._row_hour(i[2], d) for i, d in zip(ids, days, strict=True)]
        by_day = {d: date.fromordinal(d) for d in set(days)}
        columns: dict[str, Any] = {
            "pin_promotion_id": pids,
            "hour": hours,
            "ad_group_id": [i[0] for i in ids],
            "campaign_id": [i[1] for i in ids],
            "advertiser_id": [i[2] for i in ids],
            "local_date": [by_day[d] for d in days],
        }
        columns.update(zip(METRIC_COLUMNS, metrics.tolist(), strict=True))
        return columns

    async def flush(self, session: AsyncSession) -> tuple[int, int]:
        """Store the chunk's delivery rows; returns (total rows, breakdown rows)."""
        keys, metrics = self._totals.compact()
        columns = self._columns(keys, metrics, self.hourly)
        totals = await bulk_insert(session, DeliveryHour.__table__, columns)
        packed = {name: columns[name] for name in (*IDS, "hour", "local_date")}
        packed["entries"] = self._blobs(keys)
        await register(session, self._values, self._registered)
        breakdowns = await bulk_insert(session, DeliveryBreakdown.__table__, packed)
        await self._flush_extras(session)
        self.begin(self.end, self.end + timedelta(hours=1), hourly=self.hourly)
        return totals, breakdowns

    def _blobs(self, keys: I64) -> list[bytes]:
        """The packed breakdowns of the chunk's rows, in the order of their (sorted) keys."""
        if self.hourly:
            if not self._packed:
                return []
            got = np.concatenate([k for k, _ in self._packed])
            blobs = [b for _, part in self._packed for b in part]
            order = np.argsort(got, kind="stable")
            if not np.array_equal(got[order], keys):
                raise AssertionError("breakdowns and totals of a chunk name different rows")
            return [blobs[i] for i in order.tolist()]
        e_key, e_value, e_metric, e_amount = self._entries.merge()
        row = np.searchsorted(keys, e_key)
        if e_key.size and (int(row.max()) >= keys.size or not np.array_equal(keys[row], e_key)):
            raise AssertionError("a breakdown entry without its totals row")
        codes = np.array(self._codes, dtype=np.int64)[e_value]
        return pack_many(row, codes, e_metric, e_amount, keys.size)

    async def write_hour(self, session: AsyncSession, result: HourResult) -> HourCounts:
        """One hour on its own: hourly totals and breakdowns, and the rest."""
        self.begin(result.hour, result.hour + timedelta(hours=1))
        counts = self.add(result)
        counts.delivery_rows, counts.dimension_rows = await self.flush(session)
        return counts

    # -- the rest of an hour: buffered by ``add``, stored by ``flush`` -----------------------
    def _extras(self, result: HourResult) -> int:
        """Buffer the hour's conversions, organic activity and clearing prices; returns the
        number of conversions."""
        self._buffer_conversions(result)
        o = result.organic
        keep = np.flatnonzero(o.impression > 0)
        if keep.size:
            organic = self._organic_rows
            organic["pin_id"].extend(o.pin_id[keep].tolist())
            organic["hour"].extend([result.hour] * keep.size)
            for name in ("impression", "closeup", "save", "clickthrough", "outbound_click"):
                organic[name].extend(getattr(o, name)[keep].tolist())
        self._buffer_prices(result)
        return len(result.conversions)

    def _buffer_conversions(self, result: HourResult) -> None:
        batch = result.conversions
        n = len(batch)
        if n == 0:
            return
        if n >= 1 << EVENT_ID_BITS:
            raise ValueError("too many conversion events in one hour")
        base = (int(result.hour.timestamp()) // 3600) << EVENT_ID_BITS
        seg_codes = self.population.codes(batch.segment)
        cols = {k: getattr(batch, k).tolist() for k in batch.__dataclass_fields__ if k != "segment"}
        fallback = AdvertiserInfo("UTC", "USD")
        for i in range(n):
            adv = cols["advertiser_id"][i]
            info = self.advertisers.get(adv, fallback)
            self._events.append(
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

    def _buffer_prices(self, result: HourResult) -> None:
        p = result.prices
        day = result.hour.astimezone(UTC).date()
        for c, country in enumerate(self._countries):
            for k, placement in enumerate(PLACEMENTS):
                hist = p.counts[c, k]
                auctions = int(hist.sum())
                if auctions == 0:
                    continue
                self._prices.append(
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

    async def _flush_extras(self, session: AsyncSession) -> None:
        if self._events:
            await measurement.store_events(session, source="ENGINE", events=self._events)
        await bulk_insert(session, OrganicPinHour.__table__, self._organic_rows)
        for i in range(0, len(self._prices), _BATCH):
            await session.execute(insert(ClearingPriceHour), self._prices[i : i + _BATCH])


async def delete_range(session: AsyncSession, *, start: datetime, end: datetime) -> None:
    """Remove every engine fact of the UTC hours [start, end) (tag events stay)."""
    for table in (DeliveryHour, DeliveryBreakdown, OrganicPinHour, ClearingPriceHour):
        await session.execute(delete(table).where(table.hour >= start, table.hour < end))
    await measurement.delete_simulated(session, start=start, end=end)


def hours(start: datetime, end: datetime) -> int:
    return max(0, int((end - start) / timedelta(hours=1)))
