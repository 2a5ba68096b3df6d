"""Conversion events as stored: derived columns, None columns and time zones read back as
given, and the stored values are the ones an ORM insert of the same row writes."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np
import pytest
from sqlalchemy import insert, select, text

from pinapi.domain.errors import Invalid
from pinapi.domain.measurement import events as measurement
from pinapi.domain.measurement.events import I64
from pinapi.runtime import Runtime
from pinapi.store.tables import ConversionEvent

NY = "America/New_York"
TOKYO = ZoneInfo("Asia/Tokyo")

EVENTS = [
    # Every column set; the event is 23:30 of the 29th in New York, touched 4.5 hours earlier.
    measurement.NewEvent(
        id=1,
        advertiser_id=10,
        event_type="CHECKOUT",
        event_time=datetime(2026, 10, 30, 3, 30, tzinfo=UTC),
        currency="USD",
        time_zone=NY,
        campaign_id=11,
        ad_group_id=12,
        pin_promotion_id=13,
        touch_type="CLICK",
        touch_time=datetime(2026, 10, 29, 23, 0, tzinfo=UTC),
        value_micro=12_500_000,
        quantity=3,
        country="US",
        app_type="IPHONE",
    ),
    # Only what is required, given in Tokyo time for a UTC advertiser.
    measurement.NewEvent(
        id=2,
        advertiser_id=10,
        event_type="PAGE_VISIT",
        event_time=datetime(2026, 10, 31, 8, 0, tzinfo=TOKYO),
        currency="EUR",
    ),
    # A Tokyo advertiser: the event just after local midnight, the touch just before it.
    measurement.NewEvent(
        id=3,
        advertiser_id=20,
        event_type="SIGNUP",
        event_time=datetime(2026, 10, 30, 15, 0, 0, 600_000, tzinfo=UTC),
        currency="JPY",
        time_zone="Asia/Tokyo",
        campaign_id=21,
        touch_type="VIEW",
        touch_time=datetime(2026, 10, 30, 14, 59, 59, tzinfo=UTC),
        value_micro=0,
        quantity=0,
    ),
]
# (local_date, touch_local_date, touch_lag_s) of each event above.
DERIVED = [
    (date(2026, 10, 29), date(2026, 10, 29), 16_200),
    (date(2026, 10, 30), None, None),
    (date(2026, 10, 31), date(2026, 10, 30), 2),
]
COLUMNS = [c.name for c in ConversionEvent.__table__.columns]


def _row(e: ConversionEvent) -> dict[str, Any]:
    return {name: getattr(e, name) for name in COLUMNS}


async def test_events_read_back_as_given(runtime: Runtime) -> None:
    async with runtime.sessions() as s, s.begin():
        assert await measurement.store_events(s, source="TAG", events=EVENTS) == 3
        assert await measurement.store_events(s, source="ENGINE", events=[]) == 0
    async with runtime.sessions() as s:
        stored = (await s.scalars(select(ConversionEvent).order_by(ConversionEvent.id))).all()
    assert len(stored) == len(EVENTS)
    for row, given, (local, touch_local, lag) in zip(stored, EVENTS, DERIVED, strict=True):
        expected = {name: getattr(given, name) for name in COLUMNS if hasattr(given, name)}
        expected.update(source="TAG", local_date=local, touch_local_date=touch_local, touch_lag_s=lag)
        assert _row(row) == expected
        assert row.event_time.tzinfo is UTC
        assert row.touch_time is None or row.touch_time.tzinfo is UTC
    assert stored[1].event_time == datetime(2026, 10, 30, 23, 0, tzinfo=UTC)
    assert stored[2].event_time.microsecond == 600_000


async def test_stored_values_match_an_orm_insert(runtime: Runtime) -> None:
    """The bulk path writes what SQLAlchemy's own insert writes (on SQLite: the same text)."""
    async with runtime.sessions() as s, s.begin():
        await measurement.store_events(s, source="ENGINE", events=EVENTS)
    async with runtime.sessions() as s, s.begin():
        rows = [
            _row(e) for e in (await s.scalars(select(ConversionEvent).order_by(ConversionEvent.id))).all()
        ]
        # The same rows through the ORM table, at ids 100 higher and with the given datetimes.
        for row, given in zip(rows, EVENTS, strict=True):
            row.update(id=row["id"] + 100, event_time=given.event_time, touch_time=given.touch_time)
        await s.execute(insert(ConversionEvent), rows)
    async with runtime.sessions() as s:
        raw = [tuple(r) for r in (await s.execute(text("SELECT * FROM conversion_events ORDER BY id"))).all()]
    ids = COLUMNS.index("id")
    bulk, orm = raw[: len(EVENTS)], raw[len(EVENTS) :]
    assert [r[ids] + 100 for r in bulk] == [r[ids] for r in orm]
    assert [r[:ids] + r[ids + 1 :] for r in bulk] == [r[:ids] + r[ids + 1 :] for r in orm]


async def test_naive_times_are_refused(runtime: Runtime) -> None:
    naive = datetime(2026, 10, 30, 3, 30)
    for event in (
        measurement.NewEvent(id=7, advertiser_id=1, event_type="LEAD", event_time=naive, currency="USD"),
        measurement.NewEvent(
            id=8,
            advertiser_id=1,
            event_type="LEAD",
            event_time=naive,
            currency="USD",
            touch_type="CLICK",
            touch_time=naive - timedelta(hours=1),
        ),
    ):
        async with runtime.sessions() as s, s.begin():
            with pytest.raises(ValueError, match="naive"):
                await measurement.store_events(s, source="TAG", events=[EVENTS[1], event])
    async with runtime.sessions() as s:
        assert (await s.scalars(select(ConversionEvent.id))).all() == []


# -- the column-wise door -------------------------------------------------------------------

# Instants where a zone's offset or local date turns: New York's DST switches, Santiago's
# switches at local midnight (in April the date turns back for an hour), Lord Howe's
# half-hour shifts at xx:30 UTC, Kolkata's midnight at 18:30 UTC.
ZONES = ("UTC", NY, "America/Santiago", "Australia/Lord_Howe", "Asia/Kolkata", "Asia/Tokyo")
TURNS = [
    datetime(2026, 3, 8, 7, tzinfo=UTC),
    datetime(2026, 11, 1, 6, tzinfo=UTC),
    datetime(2026, 3, 9, 4, tzinfo=UTC),
    datetime(2026, 4, 5, 3, tzinfo=UTC),
    datetime(2026, 9, 6, 4, tzinfo=UTC),
    datetime(2026, 10, 3, 15, 30, tzinfo=UTC),
    datetime(2026, 4, 4, 15, 30, tzinfo=UTC),
    datetime(2026, 10, 30, 18, 30, tzinfo=UTC),
]
N = 600
AT = int(datetime(2026, 10, 30, tzinfo=UTC).timestamp())


def _i64(*values: int) -> I64:
    return np.array(values, dtype=np.int64)


def _engine_style_columns(first_id: int) -> measurement.EventColumns:
    """Columns built the way the engine builds them: numpy arrays and codes, no objects per
    event. Times fall within two hours of the turns above; some rows have microseconds (some
    on exact halves, where the lag rounds to even), no touch, or NULL ids and segments."""
    rng = np.random.default_rng(7)
    turns = np.array([int(t.timestamp()) for t in TURNS], dtype=np.int64)
    event_s = turns[rng.integers(0, turns.size, N)] + rng.integers(-7200, 7200, N)
    event_us = np.where(rng.random(N) < 0.7, 0, rng.choice(_i64(500_000, 1, 999_999, 250_000), N))
    touched = rng.random(N) < 0.75
    lag_us = rng.integers(0, 3 * 86400 * 1_000_000, N)
    lag_us[:40] = rng.integers(0, 20, 40) * 1_000_000 + 500_000
    lag_us[40:45] = 0
    touch_s, touch_us = np.divmod(event_s * 1_000_000 + event_us - lag_us, 1_000_000)
    some_null = rng.random(N) < 0.2
    touch_codes = np.where(touched, rng.integers(0, 3, N), -1)
    return measurement.EventColumns(
        id=np.arange(first_id, first_id + N, dtype=np.int64),
        advertiser_id=rng.integers(1, 5, N),
        event_type=measurement.Coded(measurement.EVENT_TYPES, rng.integers(0, 10, N)),
        event_time=event_s,
        currency=measurement.Coded(("USD", "EUR", "JPY"), rng.integers(0, 3, N)),
        time_zone=measurement.Coded(ZONES, rng.integers(0, len(ZONES), N)),
        campaign_id=np.ma.masked_array(rng.integers(100, 200, N), mask=some_null),
        ad_group_id=rng.integers(200, 300, N),
        touch_type=measurement.Coded(("VIEW", "CLICK", "ENGAGEMENT"), touch_codes),
        touch_time=np.ma.masked_array(touch_s, mask=~touched),
        value_micro=rng.integers(0, 10**9, N),
        quantity=rng.integers(0, 4, N),
        country=measurement.Coded(("US", "DE"), np.where(some_null, -1, rng.integers(0, 2, N))),
        event_microsecond=event_us,
        touch_microsecond=touch_us,
    )


def _as_events(
    c: measurement.EventColumns, first_id: int, *, zoned: bool = False
) -> list[measurement.NewEvent]:
    """The same events as NewEvent objects; ``zoned`` gives their times in assorted zones."""

    def text_of(col: measurement.Coded | None, i: int) -> str | None:
        code = -1 if col is None else int(col.codes[i])
        return None if col is None or code < 0 else col.names[code]

    def int_of(col: Any, i: int) -> int | None:
        return None if col is None or np.ma.getmaskarray(col)[i] else int(np.ma.getdata(col)[i])

    def time_of(seconds: Any, micro: I64 | None, i: int) -> datetime | None:
        s = int_of(seconds, i)
        if s is None:
            return None
        at = datetime.fromtimestamp(s, UTC).replace(microsecond=0 if micro is None else int(micro[i]))
        return at.astimezone(ZoneInfo(ZONES[i % len(ZONES)])) if zoned else at

    out = []
    for i in range(len(c)):
        event_time = time_of(c.event_time, c.event_microsecond, i)
        assert event_time is not None
        out.append(
            measurement.NewEvent(
                id=first_id + i,
                advertiser_id=int(c.advertiser_id[i]),
                event_type=str(text_of(c.event_type, i)),
                event_time=event_time,
                currency=str(text_of(c.currency, i)),
                time_zone=str(text_of(c.time_zone, i)),
                campaign_id=int_of(c.campaign_id, i),
                ad_group_id=int_of(c.ad_group_id, i),
                pin_promotion_id=int_of(c.pin_promotion_id, i),
                touch_type=text_of(c.touch_type, i),
                touch_time=time_of(c.touch_time, c.touch_microsecond, i),
                value_micro=0 if c.value_micro is None else int(c.value_micro[i]),
                quantity=1 if c.quantity is None else int(c.quantity[i]),
                country=text_of(c.country, i),
                app_type=text_of(c.app_type, i),
            )
        )
    return out


async def test_columns_store_what_new_events_store(runtime: Runtime) -> None:
    """Row for row, the column door stores what the NewEvent door stores (on SQLite the same
    text), and each derived column is what the event's own datetimes give."""
    columns = _engine_style_columns(first_id=1)
    events = _as_events(columns, first_id=N + 1, zoned=True)
    async with runtime.sessions() as s, s.begin():
        assert await measurement.store_event_columns(s, source="ENGINE", columns=columns) == N
        assert await measurement.store_events(s, source="ENGINE", events=events) == N
    async with runtime.sessions() as s:
        raw = [tuple(r) for r in (await s.execute(text("SELECT * FROM conversion_events ORDER BY id"))).all()]
        stored = (await s.scalars(select(ConversionEvent).order_by(ConversionEvent.id))).all()
    ids = COLUMNS.index("id")
    assert [r[ids] for r in raw] == list(range(1, 2 * N + 1))
    assert [r[:ids] + r[ids + 1 :] for r in raw[:N]] == [r[:ids] + r[ids + 1 :] for r in raw[N:]]

    # The per-event definitions, from each event's own datetimes.
    for row, e in zip(stored[:N], events, strict=True):
        tz = ZoneInfo(e.time_zone)
        expected = {name: getattr(e, name) for name in COLUMNS if hasattr(e, name)}
        # In UTC: a time inside a repeated local hour equals no time of another zone (PEP 495).
        at = e.event_time.astimezone(UTC)
        expected.update(id=e.id - N, source="ENGINE", event_time=at, local_date=at.astimezone(tz).date())
        if e.touch_time is None:
            expected.update(touch_local_date=None, touch_lag_s=None)
        else:
            touch = e.touch_time.astimezone(UTC)
            expected.update(
                touch_time=touch,
                touch_local_date=touch.astimezone(tz).date(),
                touch_lag_s=round((at - touch).total_seconds()),
            )
        assert _row(row) == expected
    # The data reach what they are there to test.
    touched = [r for r in stored[:N] if r.touch_time is not None]
    assert 50 < len(touched) < N
    halves = [r.touch_lag_s for r in stored[:40] if r.touch_lag_s is not None]
    assert len(halves) > 20 and {lag % 2 for lag in halves} == {0}  # x.5 s rounds to even
    assert any(r.campaign_id is None for r in stored) and any(r.country is None for r in stored)
    assert any(r.local_date != r.event_time.date() for r in stored)


async def test_local_dates_across_offset_changes(runtime: Runtime) -> None:
    """Events a second either side of where the local date or the offset turns."""
    cases = [
        # (zone, UTC time, local date)
        (NY, datetime(2026, 3, 8, 4, 59, 59, tzinfo=UTC), date(2026, 3, 7)),  # 23:59:59 EST
        (NY, datetime(2026, 3, 8, 6, 59, 59, tzinfo=UTC), date(2026, 3, 8)),  # 01:59:59 EST
        (NY, datetime(2026, 3, 8, 7, 0, 0, tzinfo=UTC), date(2026, 3, 8)),  # 03:00 EDT
        (NY, datetime(2026, 3, 9, 3, 59, 59, tzinfo=UTC), date(2026, 3, 8)),  # 23:59:59 EDT
        (NY, datetime(2026, 3, 9, 4, 0, 0, tzinfo=UTC), date(2026, 3, 9)),
        (NY, datetime(2026, 11, 1, 3, 59, 59, tzinfo=UTC), date(2026, 10, 31)),  # EDT still
        (NY, datetime(2026, 11, 2, 4, 59, 59, tzinfo=UTC), date(2026, 11, 1)),  # EST again
        ("Asia/Kolkata", datetime(2026, 10, 30, 18, 29, 59, tzinfo=UTC), date(2026, 10, 30)),
        ("Asia/Kolkata", datetime(2026, 10, 30, 18, 30, 0, tzinfo=UTC), date(2026, 10, 31)),
        ("Asia/Kathmandu", datetime(2026, 10, 30, 18, 14, 59, tzinfo=UTC), date(2026, 10, 30)),
        ("Asia/Kathmandu", datetime(2026, 10, 30, 18, 15, 0, tzinfo=UTC), date(2026, 10, 31)),
        ("America/Santiago", datetime(2026, 9, 6, 3, 59, 59, tzinfo=UTC), date(2026, 9, 5)),
        ("America/Santiago", datetime(2026, 9, 6, 4, 0, 0, tzinfo=UTC), date(2026, 9, 6)),  # 01:00
        ("America/Santiago", datetime(2026, 4, 5, 2, 59, 59, tzinfo=UTC), date(2026, 4, 4)),
        ("America/Santiago", datetime(2026, 4, 5, 3, 0, 0, tzinfo=UTC), date(2026, 4, 4)),  # 23:00 again
        ("America/Santiago", datetime(2026, 4, 5, 4, 0, 0, tzinfo=UTC), date(2026, 4, 5)),
        # Lord Howe leaves +11 for +10:30 at 15:00 UTC and midnight falls at xx:30 UTC.
        ("Australia/Lord_Howe", datetime(2026, 4, 4, 12, 59, 59, tzinfo=UTC), date(2026, 4, 4)),
        ("Australia/Lord_Howe", datetime(2026, 4, 4, 13, 0, 0, tzinfo=UTC), date(2026, 4, 5)),
        ("Australia/Lord_Howe", datetime(2026, 4, 5, 13, 29, 59, tzinfo=UTC), date(2026, 4, 5)),
        ("Australia/Lord_Howe", datetime(2026, 4, 5, 13, 30, 0, tzinfo=UTC), date(2026, 4, 6)),
        # St. John's switched at 00:01 local until 2011, one minute into a UTC hour: the dates
        # turn inside the hour at 02:30/02:31 and 03:30 UTC, so one offset per hour is not enough.
        ("America/St_Johns", datetime(2010, 11, 7, 2, 0, 0, tzinfo=UTC), date(2010, 11, 6)),
        ("America/St_Johns", datetime(2010, 11, 7, 2, 30, 0, tzinfo=UTC), date(2010, 11, 7)),
        ("America/St_Johns", datetime(2010, 11, 7, 2, 30, 59, tzinfo=UTC), date(2010, 11, 7)),
        ("America/St_Johns", datetime(2010, 11, 7, 2, 31, 0, tzinfo=UTC), date(2010, 11, 6)),
        ("America/St_Johns", datetime(2010, 11, 7, 2, 59, 59, tzinfo=UTC), date(2010, 11, 6)),
        ("America/St_Johns", datetime(2010, 3, 14, 3, 29, 59, tzinfo=UTC), date(2010, 3, 13)),
        ("America/St_Johns", datetime(2010, 3, 14, 3, 30, 0, tzinfo=UTC), date(2010, 3, 14)),
        ("America/St_Johns", datetime(2010, 3, 14, 3, 31, 0, tzinfo=UTC), date(2010, 3, 14)),
    ]
    zones = tuple(dict.fromkeys(zone for zone, _, _ in cases))
    n = len(cases)
    at = np.array([int(t.timestamp()) for _, t, _ in cases], dtype=np.int64)
    columns = measurement.EventColumns(
        id=np.arange(1, n + 1, dtype=np.int64),
        advertiser_id=np.ones(n, dtype=np.int64),
        event_type=measurement.Coded(("LEAD",), np.zeros(n, dtype=np.int64)),
        event_time=at,
        currency=measurement.Coded(("USD",), np.zeros(n, dtype=np.int64)),
        time_zone=measurement.Coded(zones, np.array([zones.index(z) for z, _, _ in cases], dtype=np.int64)),
        touch_type=measurement.Coded(("CLICK",), np.zeros(n, dtype=np.int64)),
        touch_time=at,
    )
    async with runtime.sessions() as s, s.begin():
        assert await measurement.store_event_columns(s, source="ENGINE", columns=columns) == n
    async with runtime.sessions() as s:
        stored = (await s.scalars(select(ConversionEvent).order_by(ConversionEvent.id))).all()
    got = [(r.local_date, r.touch_local_date, r.touch_lag_s) for r in stored]
    assert got == [(d, d, 0) for _, _, d in cases]
    for row, (zone, t, _) in zip(stored, cases, strict=True):
        assert row.local_date == t.astimezone(ZoneInfo(zone)).date()
        assert (row.event_time, row.touch_time, row.value_micro, row.quantity) == (t, t, 0, 1)
        assert (row.campaign_id, row.ad_group_id, row.pin_promotion_id, row.country, row.app_type) == (
            None,
        ) * 5


def _columns(**changes: Any) -> measurement.EventColumns:
    """Three good events, with ``changes`` applied."""
    n = 3
    base: dict[str, Any] = {
        "id": _i64(1, 2, 3),
        "advertiser_id": np.ones(n, dtype=np.int64),
        "event_type": measurement.Coded(("LEAD",), np.zeros(n, dtype=np.int64)),
        "event_time": np.full(n, AT, dtype=np.int64),
        "currency": measurement.Coded(("USD",), np.zeros(n, dtype=np.int64)),
        "time_zone": measurement.Coded(("UTC",), np.zeros(n, dtype=np.int64)),
        "touch_type": measurement.Coded(("CLICK",), np.zeros(n, dtype=np.int64)),
        "touch_time": np.full(n, AT - 60, dtype=np.int64),
    }
    return measurement.EventColumns(**{**base, **changes})


# Each: changes that make the second of three events break one rule, and the field named.
INVALID = [
    ({"event_type": measurement.Coded(("LEAD", "BUY"), _i64(0, 1, 0))}, "event_type"),
    ({"event_type": measurement.Coded(("LEAD",), _i64(0, -1, 0))}, "event_type"),
    ({"touch_type": measurement.Coded(("CLICK", "POKE"), _i64(0, 1, 0))}, "touch_type"),
    ({"touch_type": measurement.Coded(("CLICK",), _i64(0, -1, 0))}, "touch_time"),
    ({"touch_time": np.ma.masked_array(_i64(AT, AT, AT), mask=[False, True, False])}, "touch_time"),
    ({"touch_time": _i64(AT, AT + 1, AT)}, "touch_time"),
    ({"touch_time": _i64(AT, AT, AT), "touch_microsecond": _i64(0, 1, 0)}, "touch_time"),
    ({"value_micro": _i64(0, -1, 0)}, "value_micro"),
    ({"quantity": _i64(1, -1, 1)}, "quantity"),
]


@pytest.mark.parametrize(("changes", "field"), INVALID)
async def test_each_rule_names_its_field_on_both_doors(
    runtime: Runtime, changes: dict[str, Any], field: str
) -> None:
    columns = _columns(**changes)
    async with runtime.sessions() as s, s.begin():
        with pytest.raises(Invalid) as by_columns:
            await measurement.store_event_columns(s, source="TAG", columns=columns)
    async with runtime.sessions() as s, s.begin():
        with pytest.raises(Invalid) as by_events:
            await measurement.store_events(s, source="TAG", events=_as_events(columns, first_id=1))
    assert by_columns.value.field == by_events.value.field == field
    assert by_columns.value.reason == by_events.value.reason
    async with runtime.sessions() as s:
        assert (await s.scalars(select(ConversionEvent.id))).all() == []


def test_the_first_bad_event_and_its_first_broken_rule_are_reported() -> None:
    """As checking event by event would: the earliest bad event wins, and within it the rule
    checked first. No database is reached before the checks fail."""
    session: Any = None
    cases: list[tuple[dict[str, Any], str]] = [
        # event 1 has a negative quantity, event 2 a bad event type: event 1 is reported.
        (
            {"quantity": _i64(1, -1, 1), "event_type": measurement.Coded(("LEAD", "X"), _i64(0, 0, 1))},
            "quantity",
        ),
        # Both on event 1: the event type is checked before the quantity.
        (
            {"quantity": _i64(1, -1, 1), "event_type": measurement.Coded(("LEAD", "X"), _i64(0, 1, 0))},
            "event_type",
        ),
        ({"value_micro": _i64(0, -5, 0), "touch_time": _i64(AT, AT + 9, AT)}, "touch_time"),
    ]
    for changes, field in cases:
        columns = _columns(**changes)
        for store in (
            measurement.store_event_columns(session, source="ENGINE", columns=columns),
            measurement.store_events(session, source="ENGINE", events=_as_events(columns, first_id=1)),
        ):
            with pytest.raises(Invalid) as caught:
                asyncio.run(store)
            assert caught.value.field == field
    with pytest.raises(Invalid) as caught:
        asyncio.run(measurement.store_event_columns(session, source="PIXEL", columns=_columns()))
    assert caught.value.field == "source"


def test_an_unknown_time_zone_fails_before_anything_is_stored() -> None:
    session: Any = None
    columns = _columns(time_zone=measurement.Coded(("UTC", "Mars/Olympus"), _i64(0, 0, 1)))
    with pytest.raises(ZoneInfoNotFoundError):
        asyncio.run(measurement.store_event_columns(session, source="ENGINE", columns=columns))
    # A bad event before the unknown zone is reported first.
    columns = _columns(
        time_zone=measurement.Coded(("UTC", "Mars/Olympus"), _i64(0, 0, 1)), quantity=_i64(1, -1, 1)
    )
    with pytest.raises(Invalid, match="quantity"):
        asyncio.run(measurement.store_event_columns(session, source="ENGINE", columns=columns))


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"advertiser_id": _i64(1, 1)}, "advertiser_id must be a 1-D int64 array"),
        ({"event_time": np.full(3, AT, dtype=np.int32)}, "event_time must be a 1-D int64 array"),
        ({"campaign_id": [1, 2, 3]}, "campaign_id must be a 1-D int64 array"),
        ({"event_type": measurement.Coded(("LEAD",), _i64(0, 1, 0))}, "event_type has codes outside"),
        ({"country": measurement.Coded(("US",), _i64(0, -2, 0))}, "country has codes outside"),
        (
            {"country": measurement.Coded(("US",), np.zeros(3))},  # type: ignore[arg-type]
            "country codes must be a 1-D signed integer",
        ),
        ({"country": measurement.Coded(("US",), np.zeros(3, dtype=np.uint8))}, "country codes must be"),
        ({"time_zone": measurement.Coded(("UTC",), _i64(0, -1, 0))}, "time_zone has codes outside"),
        ({"currency": measurement.Coded(("USD",), _i64(0, -1, 0))}, "currency has codes outside"),
        ({"event_microsecond": _i64(0, 1_000_000, 0)}, "event_microsecond must be within"),
    ],
)
def test_malformed_columns_are_the_callers_bug(changes: dict[str, Any], message: str) -> None:
    session: Any = None
    with pytest.raises(ValueError, match=message):
        asyncio.run(measurement.store_event_columns(session, source="ENGINE", columns=_columns(**changes)))


async def test_no_events_store_nothing(runtime: Runtime) -> None:
    empty = np.zeros(0, dtype=np.int64)
    columns = measurement.EventColumns(
        id=empty,
        advertiser_id=empty,
        event_type=measurement.Coded((), empty),
        event_time=empty,
        currency=measurement.Coded((), empty),
        time_zone=measurement.Coded((), empty),
        touch_time=np.ma.masked_array(empty, mask=np.zeros(0, dtype=np.bool_)),
    )
    async with runtime.sessions() as s, s.begin():
        assert await measurement.store_event_columns(s, source="ENGINE", columns=columns) == 0
        assert await measurement.store_events(s, source="TAG", events=[]) == 0
    async with runtime.sessions() as s:
        assert (await s.scalars(select(ConversionEvent.id))).all() == []


async def test_nullable_columns_all_null_or_partly(runtime: Runtime) -> None:
    """None leaves a column NULL on every row; a masked array only where it is masked; the
    code -1 is a NULL string, in codes of any signed integer dtype."""
    columns = _columns(
        campaign_id=np.ma.masked_array(_i64(5, 6, 7), mask=[False, True, False]),
        ad_group_id=_i64(8, 9, 10),
        touch_type=measurement.Coded(("VIEW",), _i64(0, -1, -1)),
        touch_time=np.ma.masked_array(_i64(AT - 1, 0, 0), mask=[False, True, True]),
        country=measurement.Coded(("FR", "US"), np.array([-1, 1, 0], dtype=np.int8)),  # small codes
        app_type=measurement.Coded(("WEB",), _i64(-1, -1, -1)),
    )
    async with runtime.sessions() as s, s.begin():
        assert await measurement.store_event_columns(s, source="TAG", columns=columns) == 3
    async with runtime.sessions() as s:
        stored = (await s.scalars(select(ConversionEvent).order_by(ConversionEvent.id))).all()
    at = datetime.fromtimestamp(AT, UTC)
    got = [
        (
            r.campaign_id,
            r.ad_group_id,
            r.pin_promotion_id,
            r.touch_type,
            r.touch_time,
            r.touch_lag_s,
            r.country,
        )
        for r in stored
    ]
    assert got == [
        (5, 8, None, "VIEW", at - timedelta(seconds=1), 1, None),
        (None, 9, None, None, None, None, "US"),
        (7, 10, None, None, None, None, "FR"),
    ]
    assert [(r.app_type, r.touch_local_date, r.value_micro, r.quantity) for r in stored] == [
        (None, date(2026, 10, 29), 0, 1),
        (None, None, 0, 1),
        (None, None, 0, 1),
    ]
