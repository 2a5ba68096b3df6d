"""Books closed and the REALTIME cut-off, in the advertiser's time zone."""

from __future__ import annotations

from datetime import UTC, date, datetime

from pinapi.domain.reporting.books import BooksClosed, books_closed, last_closed_date, realtime_cutoff
from pinapi.store.tables import Advertiser

NY = Advertiser(id=1, name="NY", owner_user_id=1, timezone="America/New_York")
TOKYO = Advertiser(id=2, name="JP", owner_user_id=1, timezone="Asia/Tokyo")


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def test_books_close_at_six_local() -> None:
    day = date(2026, 11, 10)
    # New York is UTC-5 in November: Nov 11 06:00 local = 11:00 UTC.
    assert books_closed(NY, day, utc(2026, 11, 11, 10, 59)) == BooksClosed(False, False)
    assert books_closed(NY, day, utc(2026, 11, 11, 11)) == BooksClosed(False, True)
    assert books_closed(NY, day, utc(2026, 11, 12, 10, 59)) == BooksClosed(False, True)
    assert books_closed(NY, day, utc(2026, 11, 12, 11)) == BooksClosed(True, True)
    # Tokyo is UTC+9: Nov 11 06:00 local = Nov 10 21:00 UTC.
    assert books_closed(TOKYO, day, utc(2026, 11, 10, 21)).non_conversion_metrics_ready
    assert not books_closed(TOKYO, day, utc(2026, 11, 10, 20, 59)).non_conversion_metrics_ready
    assert books_closed(NY, date(2030, 1, 1), utc(2026, 11, 12)) == BooksClosed(False, False)


def test_last_closed_date() -> None:
    assert last_closed_date(NY, utc(2026, 11, 11, 10, 59), conversion=False) == date(2026, 11, 9)
    assert last_closed_date(NY, utc(2026, 11, 11, 11), conversion=False) == date(2026, 11, 10)
    assert last_closed_date(NY, utc(2026, 11, 11, 11), conversion=True) == date(2026, 11, 9)
    assert last_closed_date(TOKYO, utc(2026, 11, 10, 21), conversion=False) == date(2026, 11, 10)
    for now in (utc(2026, 11, 11, 10, 59), utc(2026, 11, 11, 11), utc(2026, 3, 8, 10, 30)):
        for conversion in (False, True):
            d = last_closed_date(NY, now, conversion=conversion)
            ready = books_closed(NY, d, now)
            later = books_closed(NY, date.fromordinal(d.toordinal() + 1), now)
            field = "conversion_metrics_ready" if conversion else "non_conversion_metrics_ready"
            assert getattr(ready, field) and not getattr(later, field)


def test_realtime_cutoff() -> None:
    assert realtime_cutoff(utc(2026, 11, 2, 12)) == utc(2026, 11, 2, 9)
    assert realtime_cutoff(utc(2026, 11, 2, 12, 59)) == utc(2026, 11, 2, 9)
    assert realtime_cutoff(utc(2026, 11, 2, 2, 30)) == utc(2026, 11, 1, 23)
