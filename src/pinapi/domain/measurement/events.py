"""Storing conversion events: the one path for simulated and (later) real tag events.

The delivery engine and the conversion tag endpoints both call ``store_events``; reporting
then reads ``conversion_events`` without caring where a row came from. Each event keeps its
attribution data (the touch type and touch time it is attributed to, when known), so any
click / engagement / view window can be applied at read time rather than being fixed when
the event is stored.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncSession

from pinapi.domain.errors import Invalid
from pinapi.store.bulk import bulk_insert
from pinapi.store.tables import ConversionEvent

SOURCES = ("ENGINE", "TAG")
EVENT_TYPES = (
    "PAGE_VISIT", "VIEW_CATEGORY", "SIGNUP", "LEAD", "ADD_TO_CART", "CHECKOUT",
    "SEARCH", "WATCH_VIDEO", "APP_INSTALL", "CUSTOM",
)  # fmt: skip
TOUCH_TYPES = ("CLICK", "ENGAGEMENT", "VIEW")


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


def _check(e: NewEvent) -> None:
    if e.event_type not in EVENT_TYPES:
        raise Invalid("event_type", f"must be one of {', '.join(EVENT_TYPES)}")
    if e.touch_type is not None and e.touch_type not in TOUCH_TYPES:
        raise Invalid("touch_type", f"must be one of {', '.join(TOUCH_TYPES)}")
    if (e.touch_type is None) != (e.touch_time is None):
        raise Invalid("touch_time", "is given exactly when touch_type is")
    if e.touch_time is not None and e.touch_time > e.event_time:
        raise Invalid("touch_time", "must not be after the event time")
    if e.value_micro < 0:
        raise Invalid("value_micro", "must not be negative")
    if e.quantity < 0:
        raise Invalid("quantity", "must not be negative")


async def store_events(session: AsyncSession, *, source: str, events: Sequence[NewEvent]) -> int:
    """Validate and insert conversion events in the caller's transaction; returns how many.

    The engine stores thousands of events an hour, so they are built column-wise and go in
    through ``bulk_insert`` (COPY on PostgreSQL) rather than as one dict per row.
    """
    if source not in SOURCES:
        raise Invalid("source", f"must be one of {', '.join(SOURCES)}")
    zones: dict[str, ZoneInfo] = {}
    for e in events:
        _check(e)
        # COPY skips the column types' bind processing, which refuses naive datetimes (a naive
        # touch time beside an aware event time has already failed the comparison in _check).
        if e.event_time.tzinfo is None:
            raise ValueError("naive datetime given to the store")
        if e.time_zone not in zones:
            zones[e.time_zone] = ZoneInfo(e.time_zone)
    local_date: list[date] = []
    touch_local_date: list[date | None] = []
    touch_lag_s: list[int | None] = []
    for e in events:
        tz = zones[e.time_zone]
        local_date.append(e.event_time.astimezone(tz).date())
        touch = e.touch_time
        if touch is None:
            touch_local_date.append(None)
            touch_lag_s.append(None)
        else:
            touch_local_date.append(touch.astimezone(tz).date())
            touch_lag_s.append(round((e.event_time - touch).total_seconds()))
    columns: dict[str, Sequence[object]] = {
        "id": [e.id for e in events],
        "source": [source] * len(events),
        "advertiser_id": [e.advertiser_id for e in events],
        "campaign_id": [e.campaign_id for e in events],
        "ad_group_id": [e.ad_group_id for e in events],
        "pin_promotion_id": [e.pin_promotion_id for e in events],
        "event_type": [e.event_type for e in events],
        "event_time": [e.event_time for e in events],
        "local_date": local_date,
        "touch_type": [e.touch_type for e in events],
        "touch_time": [e.touch_time for e in events],
        "touch_local_date": touch_local_date,
        "touch_lag_s": touch_lag_s,
        "value_micro": [e.value_micro for e in events],
        "quantity": [e.quantity for e in events],
        "currency": [e.currency for e in events],
        "country": [e.country for e in events],
        "app_type": [e.app_type for e in events],
    }
    return await bulk_insert(session, ConversionEvent.__table__, columns)


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
