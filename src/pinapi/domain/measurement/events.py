"""Storing conversion events: the one path for simulated and (later) real tag events.

The delivery engine and the conversion tag endpoints both store through here; reporting then
reads ``conversion_events`` without caring where a row came from. Each event keeps its
attribution data (the touch type and touch time it is attributed to, when known), so any
click / engagement / view window can be applied at read time rather than being fixed when
the event is stored.

Two doors lead to one room. ``store_event_columns`` takes numpy columns: the engine stores
hundreds of thousands of events a simulated month and should not build a Python object per
event to do it. ``store_events`` takes ``NewEvent`` objects (tag events, tests), turns them
into the same columns and goes through the same validation, derived columns and insert, so
the two can never disagree about what a stored event looks like.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from typing import Any, TypeAlias
from zoneinfo import ZoneInfo

import numpy as np
import numpy.typing as npt
from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncSession

from pinapi.domain.errors import Invalid
from pinapi.store.bulk import Coded as Coded  # part of this module's interface (EventColumns)
from pinapi.store.bulk import Column, bulk_insert
from pinapi.store.tables import ConversionEvent

SOURCES = ("ENGINE", "TAG")
EVENT_TYPES = (
    "PAGE_VISIT", "VIEW_CATEGORY", "SIGNUP", "LEAD", "ADD_TO_CART", "CHECKOUT",
    "SEARCH", "WATCH_VIDEO", "APP_INSTALL", "CUSTOM",
)  # fmt: skip
TOUCH_TYPES = ("CLICK", "ENGAGEMENT", "VIEW")

I64: TypeAlias = npt.NDArray[np.int64]
Bools: TypeAlias = npt.NDArray[np.bool_]
Objects: TypeAlias = npt.NDArray[np.object_]
NullableI64: TypeAlias = I64 | np.ma.MaskedArray[Any, np.dtype[np.int64]]
"""An int64 column that may hold NULLs: a plain array has none, a masked array is NULL where
it is masked."""

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_EPOCH_ORDINAL = _EPOCH.date().toordinal()
_MICRO = timedelta(microseconds=1)
_SECOND = timedelta(seconds=1)
_US = 1_000_000
_UTC_ZONE = ZoneInfo("UTC")


@dataclass(frozen=True, slots=True)
class NewEvent:
    """One conversion event to store; ``id`` is given by the caller (the engine derives it
    from the hour and the event's index so re-simulation writes identical rows)."""

    id: int
    advertiser_id: int
    event_type: str
    event_time: datetime
    currency: str
    time_zone: str = "UTC"
    """The advertiser's IANA time zone: ``local_date`` is the event's date there."""
    campaign_id: int | None = None
    ad_group_id: int | None = None
    pin_promotion_id: int | None = None
    touch_type: str | None = None
    touch_time: datetime | None = None
    value_micro: int = 0
    quantity: int = 1
    country: str | None = None
    app_type: str | None = None


@dataclass(frozen=True, slots=True)
class EventColumns:
    """Conversion events column-wise: every array is a 1-D int64 array (``Coded.codes`` may
    be any signed integer dtype) with one entry per event.

    Times are whole unix seconds in UTC. ``event_microsecond`` and ``touch_microsecond``
    (0-999999) carry a sub-second part when there is one: tag events may have it, the
    engine's times are whole seconds. Optional columns left as None are NULL on every row,
    except ``value_micro`` (0) and ``quantity`` (1), which take the table's defaults.
    """

    id: I64
    advertiser_id: I64
    event_type: Coded
    event_time: I64
    currency: Coded
    time_zone: Coded
    """The advertiser's IANA time zone per event: ``local_date`` is the event's date there."""
    campaign_id: NullableI64 | None = None
    ad_group_id: NullableI64 | None = None
    pin_promotion_id: NullableI64 | None = None
    touch_type: Coded | None = None
    touch_time: NullableI64 | None = None
    value_micro: I64 | None = None
    quantity: I64 | None = None
    country: Coded | None = None
    app_type: Coded | None = None
    event_microsecond: I64 | None = None
    touch_microsecond: I64 | None = None

    def __len__(self) -> int:
        return int(self.id.shape[0])


async def store_events(session: AsyncSession, *, source: str, events: Sequence[NewEvent]) -> int:
    """Validate and insert conversion events in the caller's transaction; returns how many.

    The events become ``EventColumns`` and go through ``store_event_columns``'s path. A naive
    datetime is the caller's bug rather than bad input and raises ValueError, after any
    ``Invalid`` of an earlier event or of the same one (the order event-by-event checks give).
    """
    if source not in SOURCES:
        raise Invalid("source", f"must be one of {', '.join(SOURCES)}")
    columns, naive = _columns_of(events)
    return await _store(session, source, columns, naive)


async def store_event_columns(session: AsyncSession, *, source: str, columns: EventColumns) -> int:
    """Validate and insert conversion events given column-wise, in the caller's transaction;
    returns how many.

    Bad input raises the ``Invalid`` (naming the field) of the first bad event, the one
    ``store_events`` raises for the same events, and stores nothing. Malformed columns
    (unequal lengths, other dtypes, codes outside their table, a NULL currency or time
    zone) are the caller's bug and raise ValueError.
    """
    if source not in SOURCES:
        raise Invalid("source", f"must be one of {', '.join(SOURCES)}")
    return await _store(session, source, columns, None)


async def _store(session: AsyncSession, source: str, given: EventColumns, naive: int | None) -> int:
    c = _normalised(given)
    n = len(c)
    if n == 0:
        return 0
    zones = _validated_zones(c, naive)
    event_s = c.event_time
    event_us = c.event_microsecond
    touch_null = _null_mask(c.touch_time, n)
    touched = np.flatnonzero(~touch_null)
    everyone = touched.size == n

    # Event and touch dates in one pass over the distinct (zone, UTC hour) pairs of both.
    zone_codes = c.time_zone.codes
    touch: tuple[I64, I64 | None] | None = None
    if c.touch_time is not None and touched.size:
        touch_s: I64 = np.ma.getdata(c.touch_time)
        touch_us = c.touch_microsecond
        if not everyone:
            touch_s = touch_s[touched]
            touch_us = None if touch_us is None else touch_us[touched]
        touch = touch_s, touch_us
        touch_zones = zone_codes if everyone else zone_codes[touched]
        days = _local_days(
            np.concatenate([event_s, touch_s]), np.concatenate([zone_codes, touch_zones]), zones
        )
    else:
        days = _local_days(event_s, zone_codes, zones)

    touch_time: Sequence[object] = [None] * n
    touch_local_date: Sequence[object] = [None] * n
    touch_lag_s: Sequence[object] = [None] * n
    if touch is not None:
        touch_s, touch_us = touch
        e_s = event_s if everyone else event_s[touched]
        e_us = event_us if everyone or event_us is None else event_us[touched]
        lag = _lag_seconds(e_s, e_us, touch_s, touch_us)
        values = (_datetimes(touch_s, touch_us), _dates(days[n:]), lag.astype(object))
        if everyone:
            touch_time, touch_local_date, touch_lag_s = (v.tolist() for v in values)
        else:
            touch_time, touch_local_date, touch_lag_s = (_scatter(v, touched, n) for v in values)

    columns: dict[str, Column] = {
        "id": c.id.tolist(),
        "source": [source] * n,
        "advertiser_id": c.advertiser_id.tolist(),
        "campaign_id": _nullable_ints(c.campaign_id, n),
        "ad_group_id": _nullable_ints(c.ad_group_id, n),
        "pin_promotion_id": _nullable_ints(c.pin_promotion_id, n),
        "event_type": _column(c.event_type, n),
        "event_time": _datetimes(event_s, event_us).tolist(),
        "local_date": _dates(days[:n]).tolist(),
        "touch_type": _column(c.touch_type, n),
        "touch_time": touch_time,
        "touch_local_date": touch_local_date,
        "touch_lag_s": touch_lag_s,
        "value_micro": [0] * n if c.value_micro is None else c.value_micro.tolist(),
        "quantity": [1] * n if c.quantity is None else c.quantity.tolist(),
        "currency": _column(c.currency, n),
        "country": _column(c.country, n),
        "app_type": _column(c.app_type, n),
    }
    return await bulk_insert(session, ConversionEvent.__table__, columns)


# -- checks --------------------------------------------------------------------------------


def _normalised(c: EventColumns) -> EventColumns:
    """Refuse columns that do not line up; returns them with int64 codes (so code arithmetic
    cannot overflow a small dtype)."""
    if not isinstance(c.id, np.ndarray) or c.id.ndim != 1:
        raise ValueError("id must be a 1-D int64 array")
    n = len(c)
    arrays: dict[str, Any] = {
        "id": c.id,
        "advertiser_id": c.advertiser_id,
        "event_time": c.event_time,
        "campaign_id": c.campaign_id,
        "ad_group_id": c.ad_group_id,
        "pin_promotion_id": c.pin_promotion_id,
        "touch_time": c.touch_time,
        "value_micro": c.value_micro,
        "quantity": c.quantity,
        "event_microsecond": c.event_microsecond,
        "touch_microsecond": c.touch_microsecond,
    }
    coded = {
        "event_type": c.event_type,
        "currency": c.currency,
        "time_zone": c.time_zone,
        "touch_type": c.touch_type,
        "country": c.country,
        "app_type": c.app_type,
    }
    for name, array in arrays.items():
        if array is None:
            continue
        if not isinstance(array, np.ndarray) or array.dtype != np.int64 or array.shape != (n,):
            raise ValueError(f"{name} must be a 1-D int64 array as long as id")
    recoded: dict[str, Any] = {}
    for name, col in coded.items():
        if col is None:
            continue
        codes = col.codes
        if not isinstance(codes, np.ndarray) or codes.dtype.kind != "i" or codes.shape != (n,):
            raise ValueError(f"{name} codes must be a 1-D signed integer array as long as id")
        lowest = 0 if name in ("currency", "time_zone") else -1
        if n and (int(codes.min()) < lowest or int(codes.max()) >= len(col.names)):
            raise ValueError(f"{name} has codes outside its table of names")
        if codes.dtype != np.int64:
            recoded[name] = Coded(col.names, codes.astype(np.int64))
    for name in ("event_microsecond", "touch_microsecond"):
        micro = arrays[name]
        if micro is not None and n and (int(micro.min()) < 0 or int(micro.max()) >= _US):
            raise ValueError(f"{name} must be within 0-999999")
    return replace(c, **recoded) if recoded else c


def _validated_zones(c: EventColumns, naive: int | None) -> list[ZoneInfo]:
    """Raise the error of the first bad event, as checking event by event would; returns the
    time zones of ``c.time_zone.names`` (UTC for names no event uses).

    Each rule gives a mask of the events it refuses, in the order the rules apply to one
    event; the first refused event raises the first of the rules that refuse it.
    """
    n = len(c)
    rules: list[tuple[Bools, Callable[[int], Exception]]] = []

    def rule(bad: Bools, field: str, reason: str) -> None:
        rules.append((bad, lambda _: Invalid(field, reason)))

    rule(_outside(c.event_type, EVENT_TYPES), "event_type", f"must be one of {', '.join(EVENT_TYPES)}")
    touch_type_null = np.ones(n, dtype=np.bool_)
    if c.touch_type is not None:
        touch_type_null = c.touch_type.codes < 0
        bad = ~touch_type_null & _outside(c.touch_type, TOUCH_TYPES)
        rule(bad, "touch_type", f"must be one of {', '.join(TOUCH_TYPES)}")
    touch_null = _null_mask(c.touch_time, n)
    rule(touch_type_null != touch_null, "touch_time", "is given exactly when touch_type is")
    if c.touch_time is not None:
        t, e = np.ma.getdata(c.touch_time), c.event_time
        later = t > e
        if c.touch_microsecond is not None or c.event_microsecond is not None:
            t_us = _zeros_if_none(c.touch_microsecond, n)
            e_us = _zeros_if_none(c.event_microsecond, n)
            later |= (t == e) & (t_us > e_us)
        rule(~touch_null & later, "touch_time", "must not be after the event time")
    if c.value_micro is not None:
        rule(c.value_micro < 0, "value_micro", "must not be negative")
    if c.quantity is not None:
        rule(c.quantity < 0, "quantity", "must not be negative")
    if naive is not None:
        bad = np.zeros(n, dtype=np.bool_)
        bad[naive] = True
        rules.append((bad, lambda _: ValueError("naive datetime given to the store")))

    # A time zone the system does not know fails only for the events that use it.
    zones = [_UTC_ZONE] * len(c.time_zone.names)
    failed: dict[int, Exception] = {}
    for code in np.unique(c.time_zone.codes).tolist():
        try:
            zones[code] = ZoneInfo(c.time_zone.names[code])
        except (KeyError, ValueError) as exc:  # ZoneInfoNotFoundError is a KeyError
            failed[code] = exc
    if failed:
        bad = np.isin(c.time_zone.codes, list(failed))
        rules.append((bad, lambda row: failed[int(c.time_zone.codes[row])]))

    firsts = [int(np.argmax(bad)) if bad.any() else n for bad, _ in rules]
    row = min(firsts)
    if row < n:
        error = next(make for (bad, make) in rules if bad[row])
        raise error(row)
    return zones


def _outside(col: Coded, allowed: tuple[str, ...]) -> Bools:
    """Per event: is its value (NULL included) not one of ``allowed``?"""
    # The NULL code -1 picks the table's last entry, which is the NULL one.
    valid = np.array([name in allowed for name in col.names] + [False], dtype=np.bool_)
    out: Bools = ~valid[col.codes]
    return out


def _null_mask(col: NullableI64 | None, n: int) -> Bools:
    if col is None:
        return np.ones(n, dtype=np.bool_)
    out: Bools = np.ma.getmaskarray(col)
    return out


def _zeros_if_none(col: I64 | None, n: int) -> I64:
    return np.zeros(n, dtype=np.int64) if col is None else col


# -- derived columns and stored values -------------------------------------------------------


def _local_days(seconds: I64, zone_codes: I64, zones: Sequence[ZoneInfo]) -> I64:
    """Days since 1970-01-01 of each instant in its zone's local time.

    Offsets are looked up once per distinct (zone, UTC hour), not per event. An hour whose
    two ends have different offsets holds a transition: its instant is found by bisection,
    so events on either side of it get their own offset (transitions do fall inside UTC
    hours: Lord Howe's at xx:30, St. John's at xx:31 until 2011).
    """
    hours = seconds // 3600
    first = int(hours.min())
    span = int(hours.max()) - first + 1
    uniq, inverse = np.unique(zone_codes * span + (hours - first), return_inverse=True)
    before = np.empty(uniq.size, dtype=np.int64)
    after = np.empty(uniq.size, dtype=np.int64)
    switch = np.empty(uniq.size, dtype=np.int64)
    for k, key in enumerate(uniq.tolist()):
        tz = zones[key // span]
        start = (key % span + first) * 3600
        a, b = _offset(tz, start), _offset(tz, start + 3599)
        before[k], after[k] = a, b
        switch[k] = start + 3600 if a == b else _transition(tz, start, start + 3599, a)
    offsets = np.where(seconds >= switch[inverse], after[inverse], before[inverse])
    out: I64 = (seconds + offsets) // 86400
    return out


def _offset(tz: ZoneInfo, second: int) -> int:
    """UTC offset of ``tz`` at the unix second, in seconds."""
    offset = datetime.fromtimestamp(second, tz).utcoffset()
    return 0 if offset is None else offset // _SECOND


def _transition(tz: ZoneInfo, low: int, high: int, low_offset: int) -> int:
    """The first second in (low, high] whose offset is no longer ``low_offset``."""
    while high - low > 1:
        mid = (low + high) // 2
        if _offset(tz, mid) == low_offset:
            low = mid
        else:
            high = mid
    return high


def _lag_seconds(event_s: I64, event_us: I64 | None, touch_s: I64, touch_us: I64 | None) -> I64:
    """Whole seconds from touch to event, rounded half to even like ``round`` of a float."""
    lag: I64 = event_s - touch_s
    if event_us is None and touch_us is None:
        return lag
    micros = lag * _US + _zeros_if_none(event_us, lag.size) - _zeros_if_none(touch_us, lag.size)
    whole, rest = np.divmod(micros, _US)
    up = (rest > _US // 2) | ((rest == _US // 2) & (whole % 2 == 1))
    out: I64 = whole + up
    return out


def _datetimes(seconds: I64, micro: I64 | None) -> Objects:
    """UTC datetimes of unix seconds (plus microseconds), as stored."""
    out = _objects([datetime.fromtimestamp(s, UTC) for s in seconds.tolist()])
    if micro is not None:
        for i in np.flatnonzero(micro).tolist():
            out[i] = out[i].replace(microsecond=int(micro[i]))
    return out


def _dates(days: I64) -> Objects:
    """Dates of day numbers; there are few distinct ones, so each is built once."""
    uniq, inverse = np.unique(days, return_inverse=True)
    table = _objects([date.fromordinal(d + _EPOCH_ORDINAL) for d in uniq.tolist()])
    out: Objects = table[inverse]
    return out


def _column(col: Coded | None, n: int) -> Coded | list[object]:
    return [None] * n if col is None else col


def _nullable_ints(col: NullableI64 | None, n: int) -> list[object]:
    if col is None:
        return [None] * n
    data = np.ma.getdata(col)
    null = np.ma.getmaskarray(col)
    if not null.any():
        out: list[object] = data.tolist()
        return out
    values = data.astype(object)
    values[null] = None
    out = values.tolist()
    return out


def _scatter(values: Objects, rows: I64, n: int) -> list[object]:
    """``values`` placed at ``rows`` of ``n`` NULLs."""
    out = np.full(n, None, dtype=object)
    out[rows] = values
    result: list[object] = out.tolist()
    return result


def _objects(items: Sequence[object]) -> Objects:
    """A 1-D object array of the items as they are (``np.array`` would unpack sequences)."""
    out = np.empty(len(items), dtype=object)
    out[:] = items
    return out


# -- NewEvent objects to columns -------------------------------------------------------------


def _columns_of(events: Sequence[NewEvent]) -> tuple[EventColumns, int | None]:
    """The events as columns, and the index of the first with a naive datetime (read as UTC
    here; the caller refuses it in its turn)."""
    naive: int | None = None
    event_us: list[int] = []
    touch_us: list[int] = []
    touch_null: list[bool] = []
    for i, e in enumerate(events):
        t = e.event_time
        if t.tzinfo is None:
            naive = i if naive is None else naive
            t = t.replace(tzinfo=UTC)
        event_us.append((t - _EPOCH) // _MICRO)
        touch = e.touch_time
        if touch is None:
            touch_us.append(0)
            touch_null.append(True)
            continue
        if touch.tzinfo is None:
            naive = i if naive is None else naive
            touch = touch.replace(tzinfo=UTC)
        touch_us.append((touch - _EPOCH) // _MICRO)
        touch_null.append(False)
    event_s, event_micro = np.divmod(np.array(event_us, dtype=np.int64), _US)
    touch_s, touch_micro = np.divmod(np.array(touch_us, dtype=np.int64), _US)
    touch_time: NullableI64 | None = None
    if not all(touch_null):
        touch_time = np.ma.masked_array(touch_s, mask=touch_null) if any(touch_null) else touch_s
    columns = EventColumns(
        id=_ints([e.id for e in events]),
        advertiser_id=_ints([e.advertiser_id for e in events]),
        event_type=Coded.of([e.event_type for e in events]),
        event_time=event_s,
        currency=Coded.of([e.currency for e in events]),
        time_zone=Coded.of([e.time_zone for e in events]),
        campaign_id=_nullable([e.campaign_id for e in events]),
        ad_group_id=_nullable([e.ad_group_id for e in events]),
        pin_promotion_id=_nullable([e.pin_promotion_id for e in events]),
        touch_type=Coded.of([e.touch_type for e in events]),
        touch_time=touch_time,
        value_micro=_ints([e.value_micro for e in events]),
        quantity=_ints([e.quantity for e in events]),
        country=Coded.of([e.country for e in events]),
        app_type=Coded.of([e.app_type for e in events]),
        event_microsecond=event_micro if event_micro.any() else None,
        touch_microsecond=touch_micro if touch_micro.any() else None,
    )
    return columns, naive


def _ints(values: list[int]) -> I64:
    return np.array(values, dtype=np.int64)


def _nullable(values: list[int | None]) -> NullableI64 | None:
    null = [v is None for v in values]
    if not any(null):
        return np.array(values, dtype=np.int64)
    if all(null):
        return None
    data = np.array([0 if v is None else v for v in values], dtype=np.int64)
    return np.ma.masked_array(data, mask=null)


async def delete_simulated(session: AsyncSession, *, start: datetime, end: datetime) -> int:
    """Remove the engine's events of [start, end) before that range is simulated again
    (tag events are real and stay)."""
    result = await session.execute(
        delete(ConversionEvent).where(
            ConversionEvent.source == "ENGINE",
            ConversionEvent.event_time >= start,
            ConversionEvent.event_time < end,
        )
    )
    return int(getattr(result, "rowcount", 0) or 0)
