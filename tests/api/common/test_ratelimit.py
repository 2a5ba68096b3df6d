"""Rate limits (contract 1.8): headers, 429 with code 8, categories shared across endpoints,
on in-memory storage and on Redis."""

from __future__ import annotations

import secrets
import time
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from fastapi import Depends

from pinapi.api.common.auth import access
from pinapi.api.common.ratelimit import Category, Limiter
from pinapi.api.common.routing import router as v3_router
from pinapi.domain.access.principal import Principal
from pinapi.settings import Settings
from tests.api.common.conftest import MakeClient
from tests.conftest import REDIS_URL, need
from tests.factories import Factory, bearer

LIMIT_MESSAGE = "You have exceeded your rate limit. Try again later."


@pytest.fixture(params=["memory", "redis"])
def storage_url(request: pytest.FixtureRequest) -> str:
    """'' for in-memory storage, else the Redis URL (skipped visibly when not configured)."""
    if request.param == "memory":
        return ""
    need("PINAPI_TEST_REDIS_URL", REDIS_URL)
    return REDIS_URL


def limits(r: httpx.Response) -> tuple[int, int, int]:
    h = r.headers
    return (
        int(h["x-userendpoint-ratelimit-limit"]),
        int(h["x-userendpoint-ratelimit-remaining"]),
        int(h["x-userendpoint-ratelimit-reset-seconds"]),
    )


async def test_headers_on_every_authenticated_response(
    make_client: MakeClient, factory: Factory, storage_url: str
) -> None:
    client = await make_client(redis_url=storage_url)
    token = await factory.token(await factory.user(), "read_users")
    r = await client.get("/v3/users/me/", headers=bearer(token))
    assert r.status_code == 200
    limit, remaining, reset = limits(r)
    assert (limit, remaining) == (100_000, 99_999)
    assert 0 <= reset <= 3600
    # A refusal after authentication (missing scope) counts and carries the headers too.
    weak = await factory.token(await factory.user(), "read_pins")
    r = await client.get("/v3/users/me/", headers=bearer(weak))
    assert r.status_code == 401 and r.json()["code"] == 3
    assert limits(r)[:2] == (100_000, 99_999)


async def test_organic_limit_gives_429_code_8_on_the_fourth_call(
    make_client: MakeClient, factory: Factory, storage_url: str
) -> None:
    client = await make_client(redis_url=storage_url, limit_organic_per_hour=3)
    user = await factory.user()
    token = await factory.token(user, "read_users")
    for expected_remaining in (2, 1, 0):
        r = await client.get("/v3/users/me/", headers=bearer(token))
        assert r.status_code == 200
        assert limits(r)[:2] == (3, expected_remaining)
    # Calls without a token are refused before counting: they spend nothing.
    assert (await client.get("/v3/users/me/")).status_code == 401
    r = await client.get("/v3/users/me", headers=bearer(token))
    assert r.status_code == 429
    body = r.json()
    assert body == {
        "status": "failure",
        "code": 8,
        "data": None,
        "message": LIMIT_MESSAGE,
        "endpoint_name": "v3_get_user_handler",
        "error": {"message": LIMIT_MESSAGE},
    }
    limit, remaining, reset = limits(r)
    assert (limit, remaining) == (3, 0)
    assert 0 < reset <= 3600
    assert int(r.headers["retry-after"]) == reset
    # The count is per app and user: another user of the same app is not affected.
    other = await factory.token(await factory.user(), "read_users")
    r = await client.get("/v3/users/me/", headers=bearer(other))
    assert r.status_code == 200 and limits(r)[:2] == (3, 2)


def _ads_routes() -> Any:
    """Test-only ads routes: two WRITE endpoints and one READ endpoint."""
    ads = v3_router()

    @ads.post("/ads/v3/test/alpha/")
    async def v3_test_alpha_write(principal: Principal = Depends(access("write_campaigns"))) -> str:
        return "alpha"

    @ads.put("/ads/v3/test/beta/")
    async def v3_test_beta_write(principal: Principal = Depends(access("write_campaigns"))) -> str:
        return "beta"

    @ads.get("/ads/v3/test/alpha/")
    async def v3_test_alpha_read(principal: Principal = Depends(access("read_campaigns"))) -> str:
        return "read"

    @ads.get("/ads/v3/test/metrics/")
    async def v3_test_metrics(
        principal: Principal = Depends(access("read_campaigns", category=Category.METRICS)),
    ) -> str:
        return "metrics"

    return ads


async def test_ads_write_category_adds_up_across_endpoints(
    make_client: MakeClient, factory: Factory, storage_url: str
) -> None:
    client = await make_client(
        routers=[_ads_routes()],
        redis_url=storage_url,
        limit_ads_write_per_minute=2,
        limit_ads_metrics_per_minute=1,
    )
    token = await factory.token(await factory.user(), "manage_ads")
    h = bearer(token)
    r = await client.post("/ads/v3/test/alpha/", headers=h)
    assert r.status_code == 200 and limits(r)[:2] == (2, 1)
    r = await client.put("/ads/v3/test/beta", headers=h)
    assert r.status_code == 200 and limits(r)[:2] == (2, 0)
    r = await client.post("/ads/v3/test/alpha/", headers=h)
    assert r.status_code == 429 and r.json()["code"] == 8
    assert r.json()["endpoint_name"] == "v3_test_alpha_write"
    assert 0 < limits(r)[2] <= 60
    # READ and METRICS are categories of their own.
    r = await client.get("/ads/v3/test/alpha/", headers=h)
    assert r.status_code == 200 and limits(r)[:2] == (500, 499)
    r = await client.get("/ads/v3/test/metrics/", headers=h)
    assert r.status_code == 200 and limits(r)[:2] == (1, 0)
    r = await client.get("/ads/v3/test/metrics/", headers=h)
    assert r.status_code == 429 and r.json()["code"] == 8


@pytest.fixture
async def limiter(storage_url: str) -> AsyncIterator[Limiter]:
    settings = Settings(
        limit_ads_read_per_second=3,
        limit_ads_read_high_per_minute=2,
        limit_ads_write_per_minute=2,
        limit_ads_metrics_per_minute=2,
        limit_organic_per_hour=2,
        _env_file=None,
    )
    lim = Limiter(settings, storage_url=storage_url)
    yield lim
    await lim.reset()
    await lim.close()


@pytest.mark.parametrize(
    ("category", "limit", "window"),
    [
        (Category.READ, 3, 1),
        (Category.READ_HIGH, 2, 60),
        (Category.WRITE, 2, 60),
        (Category.METRICS, 2, 60),
        (Category.ORGANIC, 2, 3600),
    ],
)
async def test_limiter_counts_each_category_per_key(
    limiter: Limiter, category: Category, limit: int, window: int
) -> None:
    for _ in range(5):
        key = f"{secrets.randbelow(10**12)}:1"
        started = time.monotonic()
        states = [await limiter.hit(category, key) for _ in range(limit + 1)]
        if time.monotonic() - started < window / 2:
            break  # a stalled machine could let a 1-second window slide mid-sequence: retry
    assert [s.allowed for s in states] == [True] * limit + [False]
    assert [s.remaining for s in states] == [*range(limit - 1, -1, -1), 0]
    assert all(s.limit == limit for s in states)
    assert all(0 <= s.reset_seconds <= window for s in states)
    assert states[-1].headers() == [
        (b"x-userendpoint-ratelimit-limit", str(limit).encode()),
        (b"x-userendpoint-ratelimit-remaining", b"0"),
        (b"x-userendpoint-ratelimit-reset-seconds", str(states[-1].reset_seconds).encode()),
    ]
    # Another key, and every other category of the same key, are untouched.
    assert (await limiter.hit(category, key + "0")).allowed
    for other in Category:
        if other is not category:
            assert (await limiter.hit(other, key)).allowed, other


async def test_limiter_storage_is_reachable(limiter: Limiter) -> None:
    assert await limiter.check() is True
