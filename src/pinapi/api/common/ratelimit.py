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


class Limiter:
    def __init__(self, settings: Settings, storage_url: str | None = None) -> None:
        url = storage_url if storage_url is not None else settings.redis_url
        self.storage: Storage
        if url:
            full = url if url.startswith("async+") else "async+" + url
            self.storage = storage_from_string(full)  # type: ignore[assignment]
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
        item, strategy = self.items[category]
        allowed = await strategy.hit(item, key)
        stats = await strategy.get_window_stats(item, key)
        reset = max(0, math.ceil(stats.reset_time - time.time()))
        return RateState(allowed, item.amount, max(0, stats.remaining), reset)

    async def reset(self) -> None:
        await self.storage.reset()

    async def check(self) -> bool:
        return bool(await self.storage.check())
