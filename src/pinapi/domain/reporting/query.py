"""Report queries: read the parameters of a delivery-metrics request and answer it from the facts.

A query is answered by at most two aggregations: the delivery facts grouped by the level's
entity and the time bucket (``delivery_hours`` in the database; at the targeting levels the
packed ``delivery_breakdowns`` of the same rows, summed per targeting value by
``reporting.breakdowns`` since no database can group inside a packed value), and, when
conversion metrics are asked for, the attributed ``conversion_events`` grouped the same way
and by touch type and event. Python only merges the two, folds days into weeks or months
(and UTC hours into local hours), and computes the metrics from each row's summed bases, so
a rate is always a ratio of sums.
When there is nothing to merge or fold (TOTAL and DAY without conversion metrics, outside
the targeting levels) the database orders its groups and they are read in batches straight
into column blocks; a 150,000-row report then costs little more than the aggregation itself.

Day buckets are advertiser-local: the facts carry the local date of their hour, so DAY,
WEEK, MONTH and TOTAL never convert time zones. HOUR groups by the UTC hour (at most 8 days
of them) and converts each to the advertiser's local date and hour.
"""

from __future__ import annotations

import re
from collections.abc import AsyncGenerator, AsyncIterator, Iterable, Mapping, Sequence
from contextlib import aclosing
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from itertools import repeat
from operator import add
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    CompoundSelect,
    Select,
    and_,
    func,
    literal,
    or_,
    select,
    union_all,
)
from sqlalchemy.ext.asyncio import AsyncSession

from pinapi.domain.errors import Invalid
from pinapi.domain.reporting import books
from pinapi.domain.reporting.breakdowns import breakdown_sums
from pinapi.domain.reporting.catalog import CATALOG, EVENTS, TOUCHES, bases_of, resolve
from pinapi.store.tables import Advertiser, ConversionEvent, DeliveryBreakdown, DeliveryHour
from pinapi.store.tables.facts import METRIC_COLUMNS

LEVELS = (
    "ADVERTISER",
    "CAMPAIGN",
    "AD_GROUP",
    "PIN_PROMOTION",
    "AD_GROUP_TARGETING",
    "PIN_PROMOTION_TARGETING",
    "CAMPAIGN_TARGETING",
    "ADVERTISER_TARGETING",
)
GRANULARITIES = ("TOTAL", "DAY", "HOUR", "WEEK", "MONTH")
TARGETING_TYPES = ("COUNTRY", "REGION", "AGE_BUCKET", "GENDER", "APPTYPE", "PLACEMENT", "LOCALE", "KEYWORD")
WINDOW_DAYS = (0, 1, 7, 14, 30, 60)
REPORT_TIMES = ("AD_EVENT", "CONVERSION_EVENT")
DATA_SOURCES = ("OFFLINE", "REALTIME")
HOUR_DAYS_BACK = 8
CONVERSION_TARGETING = {"COUNTRY": "country", "APPTYPE": "app_type"}
"""Targeting types a conversion event records (its pinner's country and app type); only
these can carry conversion metrics at the targeting levels."""

_ENTITY = {
    "ADVERTISER": "advertiser_id",
    "CAMPAIGN": "campaign_id",
    "AD_GROUP": "ad_group_id",
    "PIN_PROMOTION": "pin_promotion_id",
}
_DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_CHUNK = 5000


@dataclass(frozen=True, slots=True)
class Windows:
    click: int = 30
    engagement: int = 30
    view: int = 1

    def days(self, touch: str) -> int:
        return {"CLICK": self.click, "ENGAGEMENT": self.engagement, "VIEW": self.view}[touch]


@dataclass(frozen=True, slots=True)
class ReportQuery:
    advertiser_id: int
    level: str
    start_date: date
    end_date: date
    granularity: str = "TOTAL"
    metrics: tuple[str, ...] = ()
    windows: Windows = field(default_factory=Windows)
    conversion_report_time: str = "AD_EVENT"
    data_source: str = "OFFLINE"
    campaign_ids: tuple[int, ...] | None = None
    ad_group_ids: tuple[int, ...] | None = None
    pin_promotion_ids: tuple[int, ...] | None = None
    targeting_types: tuple[str, ...] | None = None

    @property
    def base_level(self) -> str:
        return self.level.removesuffix("_TARGETING")

    @property
    def targeting(self) -> bool:
        return self.level.endswith("_TARGETING")

    @property
    def conversion(self) -> bool:
        return any(CATALOG[m].conversion for m in self.metrics)


@dataclass(frozen=True, slots=True)
class Row:
    entity_id: int
    date: date | None
    hour: int | None
    targeting_type: str | None
    targeting_value: str | None
    values: dict[str, int | float]


# --- parsing ---------------------------------------------------------------------------


def _scalar(values: Mapping[str, Any], name: str) -> Any:
    value = values.get(name)
    if isinstance(value, list | tuple):
        if len(value) != 1:
            raise Invalid(name, "must be a single value")
        value = value[0]
    return value


def _text(values: Mapping[str, Any], name: str) -> str | None:
    value = _scalar(values, name)
    if value is None or value == "":
        return None
    if not isinstance(value, str | int):
        raise Invalid(name, "must be a string")
    return str(value).strip()


def _enum(values: Mapping[str, Any], name: str, allowed: Sequence[str], default: str) -> str:
    value = _text(values, name)
    if value is None:
        return default
    upper = value.upper()
    if upper not in allowed:
        raise Invalid(name, f"must be one of {', '.join(allowed)}")
    return upper


def _date(values: Mapping[str, Any], name: str) -> date:
    value = _text(values, name)
    if value is None:
        raise Invalid(name, "is required (YYYY-MM-DD)")
    if not _DATE_RE.match(value):
        raise Invalid(name, "must be a date as YYYY-MM-DD")
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise Invalid(name, "must be a date as YYYY-MM-DD") from None


def _window(values: Mapping[str, Any], name: str, default: int) -> int:
    value = _text(values, name)
    if value is None:
        return default
    try:
        days = int(value)
    except ValueError:
        raise Invalid(name, f"must be one of {', '.join(map(str, WINDOW_DAYS))}") from None
    if days not in WINDOW_DAYS:
        raise Invalid(name, f"must be one of {', '.join(map(str, WINDOW_DAYS))}")
    return days


def _items(value: Any) -> list[str]:
    """A list parameter as strings: a list, a comma string, or a list of comma strings."""
    raw = value if isinstance(value, list | tuple) else [value]
    out: list[str] = []
    for item in raw:
        if isinstance(item, bool) or not isinstance(item, str | int):
            raise ValueError(item)
        out.extend(p.strip() for p in str(item).split(",") if p.strip())
    return out


def _ids(values: Mapping[str, Any], name: str) -> tuple[int, ...] | None:
    value = values.get(name)
    if value is None or value == "" or value == []:
        return None
    try:
        ids = tuple(dict.fromkeys(int(p) for p in _items(value)))
    except ValueError:
        raise Invalid(name, "must be a list of ids") from None
    if not ids:
        return None
    if any(i <= 0 or i >= 1 << 63 for i in ids):
        raise Invalid(name, "must be a list of ids")
    return ids


def _targeting_types(values: Mapping[str, Any]) -> tuple[str, ...] | None:
    name = "targeting_types" if values.get("targeting_types") not in (None, "", []) else "targeting_type"
    value = values.get(name)
    if value is None or value == "" or value == []:
        return None
    try:
        types = [t.upper() for t in _items(value)]
    except ValueError:
        raise Invalid(name, "must be a list of targeting types") from None
    for t in types:
        if t not in TARGETING_TYPES:
            raise Invalid(name, f"unknown targeting type {t}: must be among {', '.join(TARGETING_TYPES)}")
    return tuple(dict.fromkeys(types)) or None


def local_today(advertiser: Advertiser, now: datetime) -> date:
    return now.astimezone(ZoneInfo(advertiser.timezone or "UTC")).date()


def parse_query(
    values: Mapping[str, Any],
    *,
    advertiser: Advertiser,
    now: datetime,
    level: str | None = None,
    max_days: int = 90,
) -> ReportQuery:
    """A ``ReportQuery`` from the v3 parameters; every broken rule fails naming its field."""
    if level is None:
        level = _enum(values, "level", LEVELS, "")
        if not level:
            raise Invalid("level", f"is required: one of {', '.join(LEVELS)}")
    elif level not in LEVELS:
        raise Invalid("level", f"must be one of {', '.join(LEVELS)}")
    start = _date(values, "start_date")
    end = _date(values, "end_date")
    if start > end:
        raise Invalid("end_date", "must not be before start_date")
    if (end - start).days + 1 > max_days:
        raise Invalid("end_date", f"the range from start_date may span at most {max_days} days")
    granularity = _enum(values, "granularity", GRANULARITIES, "TOTAL")
    data_source = _enum(values, "data_source", DATA_SOURCES, "OFFLINE")
    report_time = _enum(values, "conversion_report_time", REPORT_TIMES, "AD_EVENT")
    metric_field = "metrics" if values.get("metrics") not in (None, "", []) else "columns"
    raw_metrics = values.get(metric_field)
    if raw_metrics == "" or raw_metrics == []:
        raw_metrics = None
    if raw_metrics is not None and not isinstance(raw_metrics, str | list | tuple):
        raise Invalid(metric_field, "must be a list of metric names")
    metrics = resolve(raw_metrics, field=metric_field)
    asked_all = metrics == tuple(CATALOG) and len(metrics) > 1
    types = _targeting_types(values) if level.endswith("_TARGETING") else None

    # Conversion metrics are refused where they cannot be computed; ALL keeps what can be.
    reason = None
    if granularity == "HOUR":
        reason = "conversion metrics are not available at HOUR granularity"
    elif data_source == "REALTIME":
        reason = "conversion metrics are not available with data_source REALTIME"
    elif level.endswith("_TARGETING") and not set(types or TARGETING_TYPES) <= set(CONVERSION_TARGETING):
        reason = "conversion metrics at targeting levels need targeting_types COUNTRY or APPTYPE only"
    if reason is not None:
        if asked_all:
            metrics = tuple(m for m in metrics if not CATALOG[m].conversion)
        else:
            bad = [m for m in metrics if CATALOG[m].conversion]
            if bad:
                raise Invalid(metric_field, f"{reason}: {bad[0]}")

    if granularity == "HOUR":
        earliest = local_today(advertiser, now) - timedelta(days=HOUR_DAYS_BACK)
        if start < earliest:
            raise Invalid(
                "start_date", f"HOUR granularity reaches at most {HOUR_DAYS_BACK} days back ({earliest})"
            )

    return ReportQuery(
        advertiser_id=advertiser.id,
        level=level,
        start_date=start,
        end_date=end,
        granularity=granularity,
        metrics=metrics,
        windows=Windows(
            click=_window(values, "click_window_days", 30),
            engagement=_window(values, "engagement_window_days", 30),
            view=_window(values, "view_window_days", 1),
        ),
        conversion_report_time=report_time,
        data_source=data_source,
        campaign_ids=_ids(values, "campaign_ids"),
        ad_group_ids=_ids(values, "ad_group_ids"),
        pin_promotion_ids=_ids(values, "pin_promotion_ids"),
        targeting_types=types,
    )


# --- running ---------------------------------------------------------------------------

Key = tuple[int, date | None, int | None, str | None, str | None]


def _filters(table: Any, query: ReportQuery) -> list[ColumnElement[bool]]:
    narrowed = any(x is not None for x in (query.campaign_ids, query.ad_group_ids, query.pin_promotion_ids))
    # With entity ids the advertiser test only guards against other advertisers' ids; "+ 0"
    # keeps a planner without statistics (SQLite) from scanning the advertiser's whole index
    # range instead of the entity's.
    adv = table.advertiser_id + 0 if narrowed else table.advertiser_id
    out: list[ColumnElement[bool]] = [adv == query.advertiser_id]
    for ids, col in (
        (query.campaign_ids, table.campaign_id),
        (query.ad_group_ids, table.ad_group_id),
        (query.pin_promotion_ids, table.pin_promotion_id),
    ):
        if ids is not None:
            out.append(col.in_(ids) if len(ids) > 1 else col == ids[0])
    return out


def _date_span(advertiser: Advertiser, query: ReportQuery, now: datetime) -> tuple[date, date]:
    """The local dates the query may show: OFFLINE stops at the last closed day (of the
    conversion books when any conversion metric is asked for, so a row is never half final)."""
    end = query.end_date
    if query.data_source == "OFFLINE":
        end = min(end, books.last_closed_date(advertiser, now, conversion=query.conversion))
    return query.start_date, end


def _delivery_keys(table: Any, query: ReportQuery) -> list[Any]:
    """The columns the delivery facts group by: the level's entity and the time bucket."""
    keys: list[Any] = [getattr(table, _ENTITY[query.base_level])]
    if query.granularity == "HOUR":
        keys.append(table.hour)
    elif query.granularity != "TOTAL":
        keys.append(table.local_date)
    return keys


def _delivery_where(
    table: Any, query: ReportQuery, start: date, end: date, now: datetime
) -> list[ColumnElement[bool]]:
    """The rows of either delivery table (totals or breakdowns) the query reads."""
    where = _filters(table, query)
    where += [table.local_date >= start, table.local_date <= end]
    if query.data_source == "REALTIME":
        where.append(table.hour < books.realtime_cutoff(now))
    return where


def _delivery_select(
    query: ReportQuery, cols: Sequence[str], start: date, end: date, now: datetime, *, ordered: bool = False
) -> Select[Any]:
    table = DeliveryHour
    group = _delivery_keys(table, query)
    sums = [func.sum(getattr(table, c)).cast(BigInteger) for c in cols]
    stmt = select(*group, *sums).where(*_delivery_where(table, query, start, end, now)).group_by(*group)
    return stmt.order_by(*group) if ordered else stmt


async def _delivery_rows(
    session: AsyncSession, query: ReportQuery, cols: Sequence[str], start: date, end: date, now: datetime
) -> Sequence[Sequence[Any]]:
    """The delivery groups ``(*keys, [targeting type, targeting value,] *sums of cols)``, in
    no particular order; the targeting levels sum the packed breakdowns instead of SQL."""
    if not query.targeting:
        found: Sequence[Sequence[Any]] = (
            await session.execute(_delivery_select(query, cols, start, end, now))
        ).all()
        return found
    table = DeliveryBreakdown
    return await breakdown_sums(
        session,
        _delivery_keys(table, query),
        _delivery_where(table, query, start, end, now),
        cols,
        query.targeting_types,
    )


def _conversion_select(
    query: ReportQuery, start: date, end: date
) -> Select[Any] | CompoundSelect[Any] | None:
    ev = ConversionEvent
    entity = getattr(ev, _ENTITY[query.base_level])
    day = ev.touch_local_date if query.conversion_report_time == "AD_EVENT" else ev.local_date
    group: list[Any] = [entity]
    if query.granularity != "TOTAL":  # HOUR never carries conversion metrics
        group.append(day)
    dims: list[tuple[str, Any]] = []
    if query.targeting:
        for t in query.targeting_types or tuple(CONVERSION_TARGETING):
            if t in CONVERSION_TARGETING:
                dims.append((t, getattr(ev, CONVERSION_TARGETING[t])))
        if not dims:
            return None  # no targeting type of the query is recorded on conversion events
    windows = [
        and_(ev.touch_type == t, ev.touch_lag_s <= query.windows.days(t) * 86400)
        for t in TOUCHES
        if query.windows.days(t) > 0
    ]
    if not windows:
        return None
    where = _filters(ev, query)
    where += [day >= start, day <= end, ev.event_type.in_(EVENTS), or_(*windows)]
    if query.base_level != "ADVERTISER":
        where.append(entity.is_not(None))  # tag events may lack the entity
    aggs = [
        func.count().cast(BigInteger),
        func.sum(ev.quantity).cast(BigInteger),
        func.sum(ev.value_micro).cast(BigInteger),
    ]
    if not dims:
        cols = [*group, ev.touch_type, ev.event_type]
        return select(*cols, *aggs).where(*where).group_by(*cols)
    # One aggregation per conversion targeting type, tagged with its type name.
    parts = []
    for name, col in dims:
        cols = [*group, ev.touch_type, ev.event_type]
        parts.append(
            select(*cols, literal(name).label("ttype"), col.label("tvalue"), *aggs)
            .where(*where, col.is_not(None))
            .group_by(*cols, col)
        )
    return union_all(*parts)


def _bucket(granularity: str, day: date) -> date:
    if granularity == "WEEK":
        return day - timedelta(days=day.weekday())
    if granularity == "MONTH":
        return day.replace(day=1)
    return day


def _local_hour(zone: ZoneInfo, hour: datetime) -> tuple[date, int]:
    local = hour.astimezone(zone)
    return local.date(), local.hour


class _Plan:
    """How to turn the summed bases of many rows into metric values, prepared once per query.

    The bases are ordered delivery columns first (the order of the delivery SELECT's sums),
    then conversion sums. Values are computed a column at a time over a block of rows: an
    additive metric of one base is that base's column as it came from the database, and a
    rate is one comprehension over two columns, so a large report costs a few C-level passes
    per metric instead of Python work per row and metric.
    """

    def __init__(self, metrics: Sequence[str]) -> None:
        self.metrics = tuple(metrics)
        needed = bases_of(metrics)
        self.delivery = [b for b in needed if ":" not in b]
        self.bases = (*self.delivery, *(b for b in needed if ":" in b))
        self.index = {b: i for i, b in enumerate(self.bases)}
        self.steps: list[tuple[tuple[int, ...], tuple[int, ...], float, bool]] = []
        for name in self.metrics:
            f = CATALOG[name].formula
            num = tuple(self.index[b] for b in f.num)
            den = tuple(self.index[b] for b in f.den)
            self.steps.append((num, den, f.scale, f.additive))

    def columns(self, bases: Sequence[Sequence[int]], n: int) -> list[Sequence[int | float]]:
        """The metric columns, in query order, of ``n`` rows given as one column per base.

        Each value is the expression a single row would get: the integer sum of its numerator
        bases, times the scale, divided by the summed denominator (0.0 when that is 0)."""
        sums: dict[tuple[int, ...], Sequence[int]] = {}

        def total(idx: tuple[int, ...]) -> Sequence[int]:
            got = sums.get(idx)
            if got is None:
                if not idx:
                    got = [0] * n
                else:
                    got = bases[idx[0]]
                    for i in idx[1:]:
                        got = list(map(add, got, bases[i]))
                sums[idx] = got
            return got

        out: list[Sequence[int | float]] = []
        for num, den, scale, additive in self.steps:
            a = total(num)
            if additive:
                out.append(a)
            elif not den:
                out.append([x * scale for x in a])
            else:
                out.append([x * scale / d if d else 0.0 for x, d in zip(a, total(den), strict=True)])
        return out


@dataclass(frozen=True, slots=True)
class Block:
    """Consecutive report rows held as columns, in the report's order.

    A key column is ``None`` when the query has no such key (no ``dates`` at TOTAL, no
    ``hours`` but at HOUR, no targeting columns but at the targeting levels); ``values``
    holds one column per metric of the query, in its order. Files are written straight from
    the columns; ``rows`` gives the same rows as ``Row`` objects."""

    metrics: tuple[str, ...]
    entity_ids: Sequence[int]
    dates: Sequence[date | None] | None
    hours: Sequence[int | None] | None
    targeting_types: Sequence[str | None] | None
    targeting_values: Sequence[str | None] | None
    values: Sequence[Sequence[int | float]]

    def __len__(self) -> int:
        return len(self.entity_ids)

    def rows(self) -> list[Row]:
        none = repeat(None)
        metrics = self.metrics
        return [
            Row(
                entity_id=e,
                date=d,
                hour=h,
                targeting_type=tt,
                targeting_value=tv,
                values=dict(zip(metrics, v, strict=True)),
            )
            for e, d, h, tt, tv, v in zip(
                self.entity_ids,
                none if self.dates is None else self.dates,
                none if self.hours is None else self.hours,
                none if self.targeting_types is None else self.targeting_types,
                none if self.targeting_values is None else self.targeting_values,
                zip(*self.values, strict=True) if self.values else repeat(()),
                strict=False,  # the absent key columns repeat None without end
            )
        ]


def _direct(query: ReportQuery) -> bool:
    """Whether the delivery aggregation's groups, in SQL order, are the report's rows.

    True at TOTAL and DAY without conversion metrics and outside the targeting levels: no
    bucket folds groups together, no second aggregation merges in, and the keys are integers
    and dates, which every database orders as Python does (targeting values are text, which
    a database may collate otherwise)."""
    return query.granularity in ("TOTAL", "DAY") and not query.targeting and not query.conversion


async def _direct_blocks(
    session: AsyncSession, query: ReportQuery, plan: _Plan, start: date, end: date, now: datetime
) -> AsyncGenerator[Block, None]:
    cols = plan.delivery or [METRIC_COLUMNS[0]]
    width = len(plan.delivery)
    dated = query.granularity == "DAY"
    n_keys = 1 + dated
    stmt = _delivery_select(query, cols, start, end, now, ordered=True)
    # Core rows from the session's connection: the ORM's per-row processing buys nothing
    # for plain aggregates.
    conn = await session.connection()
    result = await conn.stream(stmt.execution_options(yield_per=_CHUNK))
    try:
        async for part in result.partitions(_CHUNK):
            columns = list(zip(*part, strict=True))
            bases = columns[n_keys : n_keys + width]
            yield Block(
                metrics=plan.metrics,
                entity_ids=columns[0],
                dates=columns[1] if dated else None,
                hours=None,
                targeting_types=None,
                targeting_values=None,
                values=plan.columns(bases, len(part)),
            )
    finally:
        await result.close()


async def _merged(
    session: AsyncSession,
    query: ReportQuery,
    plan: _Plan,
    advertiser: Advertiser,
    start: date,
    end: date,
    now: datetime,
) -> dict[Key, list[int]]:
    """The report's rows by key, each with its summed bases, from both aggregations."""
    nbases = len(plan.bases)
    rows: dict[Key, list[int]] = {}
    gran = query.granularity
    targeting = query.targeting
    zone = ZoneInfo(advertiser.timezone or "UTC")

    # The delivery sums come in base order; without them the query still runs (one column)
    # so a row exists wherever there was delivery.
    cols = plan.delivery or [METRIC_COLUMNS[0]]
    width = len(plan.delivery)
    tail = [0] * (nbases - width)
    found_rows = await _delivery_rows(session, query, cols, start, end, now)
    n_keys = 1 + (gran != "TOTAL") + 2 * targeting
    if gran in ("TOTAL", "DAY"):
        # The database's groups are the report's rows: no merging needed.
        for r in found_rows:
            d = r[1] if gran == "DAY" else None
            key: Key = (
                (r[0], d, None, r[n_keys - 2], r[n_keys - 1]) if targeting else (r[0], d, None, None, None)
            )
            rows[key] = [*r[n_keys : n_keys + width], *tail]
    else:
        for r in found_rows:
            h: int | None = None
            if gran == "HOUR":
                d, h = _local_hour(zone, r[1])
            else:
                d = _bucket(gran, r[1])
            key = (r[0], d, h, r[n_keys - 2], r[n_keys - 1]) if targeting else (r[0], d, h, None, None)
            found = rows.get(key)
            if found is None:
                rows[key] = [*r[n_keys : n_keys + width], *tail]
            else:
                for i in range(width):
                    found[i] += r[n_keys + i]

    def add(key: Key, values: Iterable[tuple[int, int]]) -> None:
        found = rows.get(key)
        if found is None:
            found = rows[key] = [0] * nbases
        for i, v in values:
            found[i] += v

    if query.conversion:
        cstmt = _conversion_select(query, start, end)
        if cstmt is not None:
            for r in (await session.execute(cstmt)).all():
                entity = r[0]
                k = 1
                d = None
                if gran != "TOTAL":
                    d = _bucket(gran, r[1])
                    k = 2
                touch, event = r[k], r[k + 1]
                k += 2
                tt = tv = None
                if query.targeting:
                    tt, tv = r[k], r[k + 1]
                    k += 2
                count, qty, value = r[k], r[k + 1], r[k + 2]
                pairs = [
                    (plan.index.get(f"c:{touch}:{event}", -1), count),
                    (plan.index.get(f"q:{touch}:{event}", -1), qty),
                    (plan.index.get(f"v:{touch}:{event}", -1), value),
                ]
                add((entity, d, None, tt, tv), ((i, v) for i, v in pairs if i >= 0))
    return rows


def _order(key: Key) -> tuple[Any, ...]:
    e, d, h, tt, tv = key
    return (e, d or date.min, -1 if h is None else h, tt or "", tv or "")


async def stream_blocks(
    session: AsyncSession, query: ReportQuery, *, now: datetime
) -> AsyncGenerator[Block, None]:
    """The report's rows as column blocks, ordered by (entity, date, hour, targeting type,
    targeting value).

    When the database's groups are the rows (``_direct``) they are read in batches in SQL
    order and never held whole; otherwise both aggregations are merged by key first."""
    advertiser = await session.get(Advertiser, query.advertiser_id)
    if advertiser is None:
        raise Invalid("advertiser_id", "unknown advertiser")
    plan = _Plan(query.metrics)
    start, end = _date_span(advertiser, query, now)
    if start > end or not query.metrics:
        return
    if _direct(query):
        async with aclosing(_direct_blocks(session, query, plan, start, end, now)) as blocks:
            async for block in blocks:
                yield block
        return
    rows = await _merged(session, query, plan, advertiser, start, end, now)
    keys = sorted(rows, key=_order)
    dated = query.granularity != "TOTAL"
    hourly = query.granularity == "HOUR"
    for i in range(0, len(keys), _CHUNK):
        part = keys[i : i + _CHUNK]
        key_columns = list(zip(*part, strict=True))
        bases = list(zip(*(rows[k] for k in part), strict=True))
        yield Block(
            metrics=plan.metrics,
            entity_ids=key_columns[0],
            dates=key_columns[1] if dated else None,
            hours=key_columns[2] if hourly else None,
            targeting_types=key_columns[3] if query.targeting else None,
            targeting_values=key_columns[4] if query.targeting else None,
            values=plan.columns(bases, len(part)),
        )


async def run(session: AsyncSession, query: ReportQuery, *, now: datetime) -> list[Row]:
    """The report's rows, ordered by (entity, date, hour, targeting type, targeting value)."""
    return [row async for block in stream_blocks(session, query, now=now) for row in block.rows()]


async def stream(session: AsyncSession, query: ReportQuery, *, now: datetime) -> AsyncIterator[list[Row]]:
    """The rows of ``run`` in chunks, each chunk's ``Row`` objects made only when it is taken."""
    async for block in stream_blocks(session, query, now=now):
        yield block.rows()
