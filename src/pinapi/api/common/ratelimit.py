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
from collections import deque
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


class _Windows:
    """The two ``limits`` strategies on memory storage, computed in place.

    ``limits`` on memory storage costs about as much per call as the rest of a light
    route's auth (async locks, an expiry task, key strings, a list insert at the front of
    the window), and the stats for the headers as much again. With one process holding the
    counts there is nothing to share, so the same arithmetic runs here: the moving window
    keeps each key's call times oldest first and refuses a call once ``limit`` of them
    fall inside the window; the sliding window counter weighs the previous fixed window's
    count by the share of it still inside the sliding window, exactly as ``limits`` does
    (its keys, its rounding, its reset time). Every call is decided and its figures read
    in one synchronous step, so the headers are exact, not sampled.
    """

    SWEEP_SECONDS = 60.0

    def __init__(self) -> None:
        self._moving: dict[tuple[Category, str], deque[float]] = {}
        self._counts: dict[tuple[Category, str], list[int]] = {}  # [window index, previous, current]
        self._expiry: dict[Category, int] = {}
        self._next_sweep = 0.0

    def hit(self, category: Category, item: RateLimitItem, moving: bool, key: str) -> RateState:
        now = time.time()
        if now >= self._next_sweep:
            self._sweep(now)
        expiry = item.get_expiry()
        self._expiry[category] = expiry
        if moving:
            return self._moving_hit(category, item.amount, expiry, key, now)
        return self._sliding_hit(category, item.amount, expiry, key, now)

    def _moving_hit(self, category: Category, limit: int, expiry: int, key: str, now: float) -> RateState:
        times = self._moving.get((category, key))
        if times is None:
            times = self._moving[(category, key)] = deque()
        cutoff = now - expiry
        while times and times[0] < cutoff:
            times.popleft()
        allowed = len(times) < limit
        if allowed:
            times.append(now)
        # A call exactly one window old still blocks, but ``limits``' figures leave it out.
        edge = 0
        while edge < len(times) and times[edge] <= cutoff:
            edge += 1
        start = times[edge] if edge < len(times) else now
        remaining = max(0, limit - (len(times) - edge))
        return RateState(allowed, limit, remaining, max(0, math.ceil(start + expiry - now)))

    def _sliding_hit(self, category: Category, limit: int, expiry: int, key: str, now: float) -> RateState:
        index = int(now / expiry)
        counts = self._counts.get((category, key))
        if counts is None:
            counts = self._counts[(category, key)] = [index, 0, 0]
        elif counts[0] != index:
            # The window moved on: the current count becomes the previous one (or both go).
            counts[1] = counts[2] if counts[0] == index - 1 else 0
            counts[0], counts[2] = index, 0
        previous, current = counts[1], counts[2]
        previous_ttl = (1 - (((now - expiry) / expiry) % 1)) * expiry if previous else 0.0
        allowed = math.floor(previous * previous_ttl / expiry + current) + 1 <= limit
        if allowed:
            current = counts[2] = current + 1
        remaining = max(0, limit - math.floor(previous * previous_ttl / expiry + current))
        if not (previous or current):
            return RateState(allowed, limit, remaining, 0)
        current_ttl = (1 - ((now / expiry) % 1)) * expiry + expiry
        reset_in = min(
            previous_ttl % (expiry / previous) if previous else math.inf,
            current_ttl % expiry if current else math.inf,
        )
        return RateState(allowed, limit, remaining, max(0, math.ceil(reset_in)))

    def _sweep(self, now: float) -> None:
        """Forget keys with nothing left in their windows (idle callers), once a minute."""
        self._next_sweep = now + self.SWEEP_SECONDS
        for (category, key), times in list(self._moving.items()):
            if not times or times[-1] < now - self._expiry.get(category, 0):
                del self._moving[(category, key)]
        for (category, key), counts in list(self._counts.items()):
            expiry = self._expiry.get(category)
            if expiry is None or counts[0] < int(now / expiry) - 1:
                del self._counts[(category, key)]

    def clear(self) -> None:
        self._moving.clear()
        self._counts.clear()


class Limiter:
    def __init__(
        self, settings: Settings, storage_url: str | None = None, *, in_process: bool = True
    ) -> None:
        """``in_process=False`` keeps ``limits`` deciding on memory storage too (tests of
        the header sampling below use it); Redis storage is always ``limits``'."""
        self._stats: dict[tuple[Category, str], _Stats] = {}
        url = storage_url if storage_url is not None else settings.redis_url
        self.storage: Storage
        self._windows = _Windows() if in_process and not url else None
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
        if self._windows is not None:
            return self._windows.hit(category, item, isinstance(strategy, MovingWindowRateLimiter), key)
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
        if self._windows is not None:
            self._windows.clear()
        await self.storage.reset()

    async def check(self) -> bool:
        return bool(await self.storage.check())

    async def close(self) -> None:
        """Release the storage's connections (Redis; the memory storage holds none)."""
        client = getattr(getattr(self.storage, "bridge", None), "storage", None)
        closer = getattr(client, "aclose", None)
        if closer is not None:
            await closer()
