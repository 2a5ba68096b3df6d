"""Hourly rows reach exactly as far back as HOUR reports may ask, in every advertiser's zone."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from pinapi.domain.reporting.query import HOUR_DAYS_BACK
from pinapi.engine.folding import hour_horizon

ZONES = ("America/New_York", "America/Los_Angeles", "Europe/London", "Europe/Berlin", "America/Sao_Paulo")
WIDE = (*ZONES, "Pacific/Kiritimati", "Pacific/Pago_Pago", "Australia/Lord_Howe", "Asia/Kathmandu")


@settings(max_examples=200, deadline=None)
@given(
    minutes=st.integers(0, 2 * 366 * 24 * 60),
    zones=st.lists(st.sampled_from(WIDE), min_size=0, max_size=4),
)
def test_every_hour_a_report_may_ask_for_is_after_the_horizon(minutes: int, zones: list[str]) -> None:
    now = datetime(2026, 1, 1, tzinfo=UTC) + timedelta(minutes=minutes)
    horizon = hour_horizon(now, zones)
    for name in {*zones, "UTC"}:
        tz = ZoneInfo(name)
        first = now.astimezone(tz).date() - timedelta(days=HOUR_DAYS_BACK)
        assert datetime.combine(first, time(0), tz).astimezone(UTC) > horizon
    assert horizon > now - timedelta(days=HOUR_DAYS_BACK + 2, hours=2)


def test_a_month_ending_at_midnight_keeps_nine_hourly_days() -> None:
    """The benchmark's clock and zones: the UTC day that ends 9 days before is not needed."""
    now = datetime(2026, 11, 1, tzinfo=UTC)
    horizon = hour_horizon(now, ZONES)
    ends = [now - timedelta(days=d) for d in range(12)]
    assert sum(end > horizon for end in ends) == 9
