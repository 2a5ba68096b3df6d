"""Conversion events as stored: derived columns, None columns and time zones read back as
given, and the stored values are the ones an ORM insert of the same row writes."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import insert, select, text

from pinapi.domain.measurement import events as measurement
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
