"""Fold simulated hours into the rows of the fact tables (numpy and plain Python only).

Delivery becomes the pin promotion totals (``delivery_hours``) and, beside each totals row,
its breakdown by every targeting dimension (country, region, locale, age bucket, gender,
app type, placement, keyword) packed into one ``delivery_breakdowns`` value
(``store.breakdowns``). Every dimension is a complete partition of the same impressions, so
each dimension's sums of a row equal that row's totals; that is what lets reports at any
level add up.

Row volume is what a month's simulation costs, so rows are as coarse as the reports allow,
and never coarser than one advertiser-local day: one row per promotion and UTC hour, as HOUR
reports need, for chunks that end after the earliest hour an HOUR report of any of the
advertisers may ask for (``hour_horizon``: 8 local days back); for older chunks a row covers
the promotion's hours of one advertiser-local day inside the chunk.

A row that covers several hours is stored at the first of them: ``max(chunk start, the local
day's first UTC hour)``, so it lies inside the chunk (re-simulating the chunk replaces it)
and carries the local date of every hour it holds. A ``Folder`` ``begin``s a chunk, ``add``s
its hours and ``finish``es it into a ``FoldedChunk``, which ``writer.store`` writes; no
database is touched here, so the fold can run in another process than the storing.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import numpy.typing as npt

from pinapi.domain.measurement import events as measurement
from pinapi.domain.reporting.query import HOUR_DAYS_BACK
from pinapi.engine.conversions import EVENTS, TOUCHES, ConversionBatch
from pinapi.engine.dimensions import PLACEMENTS
from pinapi.engine.facts import METRICS, DeliveryFacts, HourResult
from pinapi.engine.kernels import gather_ranges, pair_sums
from pinapi.engine.population import Population
from pinapi.engine.rollup import VALUE_BITS, Buffer, Entries, runs
from pinapi.store.breakdowns import PackedRows, pack_records, pack_rows, value_code
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
ORGANIC_HOURLY_DAYS = 2
"""Organic rows of chunks that end within this many days before the clock stay hourly: organic
reads sum UTC days and windows from UTC midnights, all but the last 24 hours of pin stats."""
EVENT_ID_BITS = 24
"""Engine conversion ids are ``unix_hour << 24 | index``: deterministic, far below the
time-ordered ids of real rows, and room for 16 M events an hour."""
_KEYWORD = len(DIMENSIONS) - 1
_HOUR_BITS = 5
ORGANIC_COLUMNS = ("impression", "closeup", "save", "clickthrough", "outbound_click")
_DAY_BITS = 3
_PROMO_SHIFT = _HOUR_BITS + _DAY_BITS
_KEY_BITS = 40
"""Buffered rows are keyed by one int64: promotion << 8 | local day << 5 | hour (< 2**40)."""

assert tuple(m.lower() for m in METRICS) == METRIC_COLUMNS


def hour_horizon(now: datetime, time_zones: Iterable[str]) -> datetime:
    """The earliest hour an HOUR report may ask for at ``now`` (the local midnight
    ``HOUR_DAYS_BACK`` days before the local today) in any of ``time_zones`` or UTC, less an
    hour for local midnights that daylight saving time moves. Chunks that end after it keep
    hourly rows."""
    earliest = now
    for name in {*time_zones, "UTC"}:
        tz = ZoneInfo(name)
        first = now.astimezone(tz).date() - timedelta(days=HOUR_DAYS_BACK)
        earliest = min(earliest, datetime.combine(first, time(0), tz).astimezone(UTC))
    return earliest - timedelta(hours=1)


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


@dataclass
class FoldedChunk:
    """One chunk's rows, column-wise, as ``writer.store`` inserts them."""

    start: datetime
    end: datetime
    totals: dict[str, Any]
    """``delivery_hours`` columns."""
    breakdowns: dict[str, Any]
    """``delivery_breakdowns`` columns (ids, hour, local date, packed entries)."""
    values: list[tuple[str, str]]
    """Every (dimension type, value) the entries may name, for their code rows."""
    events: measurement.EventColumns | None
    organic: dict[str, list[Any]]
    prices: list[dict[str, Any]]


class Folder:
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
        self._codes_array = np.zeros(0, dtype=np.int64)
        self._value_index: dict[tuple[str, str], int] = {}
        self._lookup: dict[str, I64] = {}
        for dim_type, key in DIMENSIONS[:_KEYWORD]:
            self._lookup[key] = np.array([self._value(dim_type, c) for c in codes[key]], dtype=np.int64)
        self._zones = {i: ZoneInfo(a.time_zone) for i, a in advertisers.items()}
        self._countries = [c.code for c in dims.countries]
        self._adv_ids = np.array(sorted(advertisers), dtype=np.int64)
        infos = [advertisers[a] for a in self._adv_ids.tolist()] + [AdvertiserInfo("UTC", "USD")]
        self._zone_names = tuple(dict.fromkeys(i.time_zone for i in infos))
        self._currencies = tuple(dict.fromkeys(i.currency for i in infos))
        self._adv_zone = np.array([self._zone_names.index(i.time_zone) for i in infos], dtype=np.int64)
        self._adv_currency = np.array([self._currencies.index(i.currency) for i in infos], dtype=np.int64)
        self._day_start: dict[tuple[int, int], datetime] = {}
        self._entries = Entries()
        self.begin(datetime.fromtimestamp(0, UTC), datetime.fromtimestamp(3600, UTC))

    def _value(self, dim_type: str, value: str) -> int:
        found = self._value_index.get((dim_type, value))
        if found is None:
            found = self._value_index[(dim_type, value)] = len(self._values)
            if found >= 1 << VALUE_BITS:
                raise ValueError("too many distinct breakdown values")
            self._values.append((dim_type, value))
            self._codes.append(value_code(dim_type, value))
        return found

    def local_date(self, advertiser_id: int, hour: datetime) -> date:
        tz = self._zones.get(advertiser_id)
        return hour.astimezone(tz).date() if tz else hour.astimezone(UTC).date()

    # -- a chunk ----------------------------------------------------------------------------
    def begin(
        self, start: datetime, end: datetime, *, hourly: bool = True, organic_hourly: bool | None = None
    ) -> None:
        """Start buffering the chunk [start, end)."""
        self.start, self.end = start, end
        self.hourly = hourly
        self.organic_hourly = hourly if organic_hourly is None else organic_hourly
        self._base_day = start.astimezone(UTC).date().toordinal() - 2
        self._dense: dict[int, int] = {}
        self._pids: list[int] = []
        self._ids: list[tuple[int, int, int]] = []
        self._totals = Buffer()
        self._event_ids: list[I64] = []
        self._event_batches: list[ConversionBatch] = []
        self._organic: list[I64] = []
        self._prices: list[dict[str, Any]] = []
        self._entries.clear()
        self._packed: list[tuple[I64, npt.NDArray[np.uint8], I64]] = []
        """An hourly chunk's hours so far: (row keys, packed records, each row's end)."""

    def add(self, result: HourResult) -> HourCounts:
        """Fold one hour into the chunk's buffers (no database work: ``writer.store`` stores).

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
        metrics = facts.table
        if metrics is None or not metrics.flags.c_contiguous:
            metrics = np.empty((n, len(METRICS)), dtype=np.int64)  # row-major for the kernel
            for m, name in enumerate(METRICS):
                metrics[:, m] = facts.metrics[name]
        pid = facts.pin_promotion_id
        starts = runs(pid)
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
        totals = self._breakdowns(facts, base | hour_bits, starts, metrics)
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
        return counts

    def _breakdowns(self, facts: DeliveryFacts, keys: I64, starts: I64, metrics: I64) -> I64:
        """Sum one hour's rows per (promotion run, dimension value) for every dimension at once
        (value indices are shared by all dimensions; ``kernels.pair_sums`` does the sums);
        returns the runs' totals (metrics x runs)."""
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
        (run, value, metric, amount), totals = pair_sums(
            run_of_row, np.stack(values), metrics, starts.size, len(self._values)
        )
        if self.hourly:
            # Keys of an hourly chunk never repeat: the hour's rows are final, pack them now.
            records, ends = pack_records(run, self._code_table()[value], metric, amount, keys.size)
            self._packed.append((keys, records, ends))
        else:
            self._entries.add(keys[run], value, metric, amount)
        out: I64 = totals.T
        return out

    def _row_hour(self, advertiser_id: int, day_ordinal: int) -> datetime:
        """Where a row covering a local day's hours of this chunk is stored."""
        key = (advertiser_id, day_ordinal)
        found = self._day_start.get(key)
        if found is None:
            tz = self._zones.get(advertiser_id, ZoneInfo("UTC"))
            local = datetime.combine(date.fromordinal(day_ordinal), time(0), tz).astimezone(UTC)
            found = self._day_start[key] = local.replace(minute=0, second=0, microsecond=0)
        return max(found, self.start)

    def _columns(self, keys: I64, metrics: I64, hourly: bool) -> dict[str, Any]:
        """The rows' columns as arrays: ``hour`` in unix seconds and ``local_date`` as date
        ordinals (``writer.store`` turns both into objects): arrays cross the process
        boundary as one copy each, lists of objects one pickled object per value."""
        dense = (keys >> _PROMO_SHIFT) & ((1 << (_KEY_BITS - _PROMO_SHIFT)) - 1)
        days = ((keys >> _HOUR_BITS) & ((1 << _DAY_BITS) - 1)) + self._base_day
        ids = np.array(self._ids, dtype=np.int64).reshape(-1, 3)[dense]
        if hourly:
            hours = int(self.start.timestamp()) + 3600 * (keys & ((1 << _HOUR_BITS) - 1))
        else:
            hours = np.array(
                [
                    int(self._row_hour(a, d).timestamp())
                    for a, d in zip(ids[:, 2].tolist(), days.tolist(), strict=True)
                ],
                dtype=np.int64,
            )
        columns: dict[str, Any] = {
            "pin_promotion_id": np.array(self._pids, dtype=np.int64)[dense],
            "hour": hours,
            "ad_group_id": ids[:, 0],
            "campaign_id": ids[:, 1],
            "advertiser_id": ids[:, 2],
            "local_date": days,
        }
        columns.update(zip(METRIC_COLUMNS, metrics, strict=True))
        return columns

    def finish(self) -> FoldedChunk:
        """The chunk's rows, ready to store; the folder moves on to the next chunk."""
        keys, metrics = self._totals.compact()
        columns = self._columns(keys, metrics, self.hourly)
        packed = {name: columns[name] for name in (*IDS, "hour", "local_date")}
        packed["entries"] = self._blobs(keys)
        folded = FoldedChunk(
            start=self.start,
            end=self.end,
            totals=columns,
            breakdowns=packed,
            values=list(self._values),
            events=self._event_columns(),
            organic=self._organic_columns(),
            prices=self._prices,
        )
        self.begin(
            self.end, self.end + timedelta(hours=1), hourly=self.hourly, organic_hourly=self.organic_hourly
        )
        return folded

    def _blobs(self, keys: I64) -> PackedRows:
        """The packed breakdowns of the chunk's rows, in the order of their (sorted) keys."""
        if self.hourly:
            if not self._packed:
                return PackedRows(b"", np.zeros(0, dtype=np.int64))
            got = np.concatenate([k for k, _, _ in self._packed])
            order = np.argsort(got, kind="stable")
            if not np.array_equal(got[order], keys):
                raise AssertionError("breakdowns and totals of a chunk name different rows")
            # Every hour's rows back to back, then each row's bytes moved to its place.
            src = np.concatenate([records for _, records, _ in self._packed])
            offsets = np.cumsum([0] + [records.size for _, records, _ in self._packed[:-1]])
            ends = np.concatenate([ends + at for (_, _, ends), at in zip(self._packed, offsets, strict=True)])
            starts = np.concatenate(([0], ends[:-1]))
            moved = gather_ranges(src, starts, ends, order)
            return PackedRows(moved.data, np.cumsum((ends - starts)[order]))
        e_key, e_value, e_metric, e_amount = self._entries.merge()
        row = np.searchsorted(keys, e_key)
        if e_key.size and (int(row.max()) >= keys.size or not np.array_equal(keys[row], e_key)):
            raise AssertionError("a breakdown entry without its totals row")
        return pack_rows(row, self._code_table()[e_value], e_metric, e_amount, keys.size)

    def _code_table(self) -> I64:
        """The value codes by value index (rebuilt when values were added)."""
        if self._codes_array.size != len(self._codes):
            self._codes_array = np.array(self._codes, dtype=np.int64)
        return self._codes_array

    # -- the rest of an hour: buffered by ``add``, handed over by ``finish`` ----------------
    def _extras(self, result: HourResult) -> int:
        """Buffer the hour's conversions, organic activity and clearing prices; returns the
        number of conversions."""
        self._buffer_conversions(result)
        o = result.organic
        keep = np.flatnonzero(o.impression > 0)
        if keep.size:
            slot = (
                (int(result.hour.timestamp()) - int(self.start.timestamp())) // 3600
                if self.organic_hourly
                else 0
            )
            self._organic.append(
                np.stack(
                    [o.pin_id[keep], np.full(keep.size, slot, dtype=np.int64)]
                    + [getattr(o, name)[keep].astype(np.int64) for name in ORGANIC_COLUMNS]
                )
            )
        self._buffer_prices(result)
        return len(result.conversions)

    def _organic_columns(self) -> dict[str, Any]:
        """Organic rows per pin and hour; in a chunk older than ``ORGANIC_HOURLY_DAYS``, per
        pin for the whole chunk (a UTC day, or its part in the range), stored at the chunk's
        start. Organic reads sum UTC days and windows that start at UTC midnights, so only
        the last day's hours need their own rows, and those chunks are hourly."""
        if not self._organic:
            return {}
        rows = np.concatenate(self._organic, axis=1)
        rows = rows[:, np.lexsort((rows[1], rows[0]))]  # by pin, then hour (pin ids use all 64 bits)
        first = np.flatnonzero(np.concatenate(([True], (np.diff(rows[0]) != 0) | (np.diff(rows[1]) != 0))))
        sums = np.add.reduceat(rows[2:], first, axis=1)
        out: dict[str, Any] = {
            "pin_id": rows[0, first],
            "hour": int(self.start.timestamp()) + 3600 * rows[1, first],
        }
        out.update(zip(ORGANIC_COLUMNS, sums, strict=True))
        return out

    def _buffer_conversions(self, result: HourResult) -> None:
        batch = result.conversions
        n = len(batch)
        if n == 0:
            return
        if n >= 1 << EVENT_ID_BITS:
            raise ValueError("too many conversion events in one hour")
        base = (int(result.hour.timestamp()) // 3600) << EVENT_ID_BITS
        self._event_ids.append(base | np.arange(n, dtype=np.int64))
        self._event_batches.append(batch)

    def _event_columns(self) -> measurement.EventColumns | None:
        """The chunk's conversions as the store's columns (codes, not strings per event)."""
        if not self._event_batches:
            return None
        b = ConversionBatch.concat(self._event_batches)
        # Advertisers the set-up does not name (none in practice) report in UTC and USD.
        pos = np.searchsorted(self._adv_ids, b.advertiser_id)
        pos = np.minimum(pos, self._adv_ids.size)
        known = pos < self._adv_ids.size
        known[known] = self._adv_ids[pos[known]] == b.advertiser_id[known]
        pos[~known] = self._adv_ids.size
        pop = self.population
        countries = tuple(c.code for c in pop.dims.countries)
        app_types = tuple(a.code for a in pop.dims.app_types)
        return measurement.EventColumns(
            id=np.concatenate(self._event_ids),
            advertiser_id=b.advertiser_id,
            campaign_id=b.campaign_id,
            ad_group_id=b.ad_group_id,
            pin_promotion_id=b.pin_promotion_id,
            event_type=measurement.Coded(EVENTS, b.event),
            event_time=b.time,
            touch_type=measurement.Coded(TOUCHES, b.touch),
            touch_time=b.touch_time,
            value_micro=b.value_micro,
            quantity=b.quantity,
            currency=measurement.Coded(self._currencies, self._adv_currency[pos]),
            time_zone=measurement.Coded(self._zone_names, self._adv_zone[pos]),
            country=measurement.Coded(countries, pop.country[b.segment]),
            app_type=measurement.Coded(app_types, pop.app_type[b.segment]),
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
