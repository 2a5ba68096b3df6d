"""Rate limits per app and user, in the v3 categories, on the ``limits`` library.

Ads routes fall in one of four categories whose calls add up across endpoints (READ per
second, READ_HIGH, WRITE and METRICS per minute); organic routes share one hourly limit.
The per-second and per-minute categories use a moving window (exact); the hourly organic
limit uses the sliding-window counter, which is O(1) per hit instead of O(limit) in memory.
Storage is in memory by default and Redis when ``PINAPI_REDIS_URL`` is set, so several API
processes share one count.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from enum import StrEnum

from limits import RateLimitItem, RateLimitItemPerHour, RateLimitItemPerMinute, RateLimitItemPerSecond
from limits.aio.storage import MemoryStorage, Storage
from limits.aio.strategies import MovingWindowRateLimiter, RateLimiter, SlidingWindowCounterRateLimiter
from limits.storage import storage_from_string

from pinapi.settings import Settings


class Category(StrEnum):
    READ = "READ"
    READ_HIGH = "READ_HIGH"
    WRITE = "WRITE"
    METRICS = "METRICS"
    ORGANIC = "ORGANIC"


@dataclass(frozen=True, slots=True)
class RateState:
    allowed: bool
    limit: int
    remaining: int
    reset_seconds: int

    def headers(self) -> list[tuple[bytes, bytes]]:
        return [
            (b"x-userendpoint-ratelimit-limit", str(self.limit).encode()),
            (b"x-userendpoint-ratelimit-remaining", str(self.remaining).encode()),
            (b"x-userendpoint-ratelimit-reset-seconds", str(self.reset_seconds).encode()),
        ]


# How long a key's window stats serve the rate-limit headers (see ``Limiter.hit``).
STATS_SECONDS = 0.1
MAX_CACHED_STATS = 10_000


@dataclass(slots=True)
class _Stats:
    fetched: float  # monotonic time of the read
    remaining: int  # as read, right after the call that read it
    reset_time: float  # wall-clock epoch seconds
    hits: int = 0  # calls allowed since the read


class Limiter:
    def __init__(self, settings: Settings, storage_url: str | None = None) -> None:
        self._stats: dict[tuple[Category, str], _Stats] = {}
        url = storage_url if storage_url is not None else settings.redis_url
        self.storage: Storage
        if url:
            full = url if url.startswith("async+") else "async+" + url
            # limits' async Redis storage defaults to the coredis client; we ship redis-py.
            options = {"implementation": "redispy"} if "redis" in full.split("://", 1)[0] else {}
            self.storage = storage_from_string(full, **options)  # type: ignore[assignment]
        else:
            self.storage = MemoryStorage()
        moving = MovingWindowRateLimiter(self.storage)
        sliding = SlidingWindowCounterRateLimiter(self.storage)
        self.items: dict[Category, tuple[RateLimitItem, RateLimiter]] = {
            Category.READ: (
                RateLimitItemPerSecond(settings.limit_ads_read_per_second, namespace="r"),
                moving,
            ),
            Category.READ_HIGH: (
                RateLimitItemPerMinute(settings.limit_ads_read_high_per_minute, namespace="rh"),
                moving,
            ),
            Category.WRITE: (
                RateLimitItemPerMinute(settings.limit_ads_write_per_minute, namespace="w"),
                moving,
            ),
            Category.METRICS: (
                RateLimitItemPerMinute(settings.limit_ads_metrics_per_minute, namespace="m"),
                moving,
            ),
            Category.ORGANIC: (RateLimitItemPerHour(settings.limit_organic_per_hour, namespace="o"), sliding),
        }

    async def hit(self, category: Category, key: str) -> RateState:
        """Count one call; ``limits`` decides, and the header figures come from its stats.

        The stats read costs as much as the hit itself, so a key's stats are fetched at most
        every ``STATS_SECONDS``: in between, ``remaining`` is the fetched figure minus the
        calls allowed since. The decision is always exact; only the informational headers
        may lag the window's own decay (or, on Redis, other processes' calls) by that long.
        A refused call always reads fresh stats.
        """
        item, strategy = self.items[category]
        allowed = await strategy.hit(item, key)
        now = time.monotonic()
        cached = self._stats.get((category, key))
        if allowed and cached is not None and now - cached.fetched < STATS_SECONDS:
            cached.hits += 1
            remaining, reset_time = max(0, cached.remaining - cached.hits), cached.reset_time
        else:
            stats = await strategy.get_window_stats(item, key)
            remaining, reset_time = max(0, stats.remaining), stats.reset_time
            if len(self._stats) >= MAX_CACHED_STATS:
                self._stats.clear()
            self._stats[(category, key)] = _Stats(now, remaining, reset_time)
        reset = max(0, math.ceil(reset_time - time.time()))
        return RateState(allowed, item.amount, remaining, reset)

    async def reset(self) -> None:
        self._stats.clear()
        await self.storage.reset()

    async def check(self) -> bool:
        return bool(await self.storage.check())

    async def close(self) -> None:
        """Release the storage's connections (Redis; the memory storage holds none)."""
        client = getattr(getattr(self.storage, "bridge", None), "storage", None)
        closer = getattr(client, "aclose", None)
        if closer is not None:
            await closer()
