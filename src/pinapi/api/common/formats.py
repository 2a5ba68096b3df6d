"""Value formats of the v3 wire: organic timestamps and public URLs."""

from __future__ import annotations

from datetime import datetime
from email.utils import format_datetime


def v3_time(dt: datetime) -> str:
    """Organic objects carry RFC 2822 times in UTC: ``Tue, 18 Aug 2020 18:34:36 +0000``."""
    return format_datetime(dt.replace(microsecond=0))


def unix_seconds(dt: datetime | None) -> int | None:
    """Ads objects carry Unix seconds."""
    return None if dt is None else int(dt.timestamp())
