"""Books closed: when a day's numbers are final, and how fresh REALTIME numbers are.

A report day is a day in the advertiser's time zone. Its delivery numbers (impressions,
clicks, spend) are final at 06:00 advertiser-local on the next day, the hour by which
Pinterest says the previous day's data is ready; its conversion numbers wait one more day
(06:00 local two days after the day), since conversions keep arriving after the touch.
OFFLINE reports show only final days; REALTIME shows every hour that ended at least
``REALTIME_LAG`` before now, today included, estimates and all.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from pinapi.store.tables import Advertiser

CLOSE_AT = time(6, 0)
"""Advertiser-local time of day at which a day's books close."""
CONVERSION_DELAY_DAYS = 1
"""Extra days conversion metrics wait beyond delivery metrics."""
REALTIME_LAG = timedelta(hours=3)


@dataclass(frozen=True, slots=True)
class BooksClosed:
    conversion_metrics_ready: bool
    non_conversion_metrics_ready: bool


def _zone(advertiser: Advertiser) -> ZoneInfo:
    return ZoneInfo(advertiser.timezone or "UTC")


def closes_at(advertiser: Advertiser, day: date, *, conversion: bool) -> datetime:
    """The UTC instant at which ``day``'s metrics (of one kind) become final."""
    days = 1 + (CONVERSION_DELAY_DAYS if conversion else 0)
    local = datetime.combine(day + timedelta(days=days), CLOSE_AT, tzinfo=_zone(advertiser))
    return local.astimezone(UTC)


def books_closed(advertiser: Advertiser, day: date, now: datetime) -> BooksClosed:
    return BooksClosed(
        conversion_metrics_ready=now >= closes_at(advertiser, day, conversion=True),
        non_conversion_metrics_ready=now >= closes_at(advertiser, day, conversion=False),
    )


def last_closed_date(advertiser: Advertiser, now: datetime, *, conversion: bool) -> date:
    """The latest advertiser-local day whose books (of that kind) are closed at ``now``."""
    local = now.astimezone(_zone(advertiser))
    back = 1 + (CONVERSION_DELAY_DAYS if conversion else 0)
    if local.time() < CLOSE_AT:
        back += 1
    return local.date() - timedelta(days=back)


def realtime_cutoff(now: datetime) -> datetime:
    """Facts of UTC hours starting before this instant are visible in REALTIME: the hour
    that starts at the cutoff minus one hour ended ``REALTIME_LAG`` or more before ``now``."""
    edge = (now - REALTIME_LAG).astimezone(UTC)
    return edge.replace(minute=0, second=0, microsecond=0)
