"""The hot-path optimisations keep behaviour: shared token checks, cached rate-limit stats,
router prefix rejection, request ids and the settled heap (docs/performance.md)."""

from __future__ import annotations

import asyncio
import gc
from typing import Any

import httpx
import pytest
from fastapi import Depends
from starlette.routing import Match

from pinapi.api.common import ratelimit as ratelimit_module
from pinapi.api.common.auth import access
from pinapi.api.common.middleware import SettleHeap
from pinapi.api.common.ratelimit import Category, Limiter
from pinapi.api.common.routing import V3Router
from pinapi.api.common.routing import router as v3_router
from pinapi.domain.access import tokens
from pinapi.domain.access.principal import Principal
from pinapi.runtime import Runtime
from pinapi.settings import Settings
from tests.api.common.conftest import MakeClient
from tests.factories import Factory, bearer


async def test_concurrent_cache_misses_share_one_token_check(
    client: httpx.AsyncClient, factory: Factory, runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    token = await factory.token(await factory.user("herd"), "read_users")
    calls = 0
    verify = tokens.verify

    async def counted(*args: Any, **kwargs: Any) -> Principal:
        nonlocal calls
        calls += 1
        await asyncio.sleep(0.01)  # keep the check in flight while the others arrive
        principal: Principal = await verify(*args, **kwargs)
        return principal

    monkeypatch.setattr(tokens, "verify", counted)
    responses = await asyncio.gather(*(client.get("/v3/users/me/", headers=bearer(token)) for _ in range(8)))
    assert [r.status_code for r in responses] == [200] * 8
    assert calls == 1
    assert runtime.token_checks == {}  # forgotten once done


async def test_shared_token_check_failure_reaches_every_waiter(client: httpx.AsyncClient) -> None:
    responses = await asyncio.gather(
        *(client.get("/v3/users/me/", headers=bearer("pina_unknown")) for _ in range(4))
    )
    assert [(r.status_code, r.json()["code"]) for r in responses] == [(401, 2)] * 4


@pytest.fixture
async def limiter() -> Limiter:
    # ``limits`` deciding on memory storage, as it does on Redis (the in-process windows
    # compute exact figures and need no sampling).
    return Limiter(Settings(limit_organic_per_hour=5, _env_file=None), in_process=False)


async def test_cached_stats_count_down_exactly_and_refresh(
    limiter: Limiter, monkeypatch: pytest.MonkeyPatch
) -> None:
    reads = 0
    _item, strategy = limiter.items[Category.ORGANIC]
    original = strategy.get_window_stats

    async def counted(*args: Any) -> Any:
        nonlocal reads
        reads += 1
        return await original(*args)

    monkeypatch.setattr(strategy, "get_window_stats", counted)
    states = [await limiter.hit(Category.ORGANIC, "9:9") for _ in range(3)]
    assert [s.remaining for s in states] == [4, 3, 2]
    assert reads == 1  # one stats read served all three headers
    monkeypatch.setattr(ratelimit_module, "STATS_SECONDS", 0.0)
    assert (await limiter.hit(Category.ORGANIC, "9:9")).remaining == 1
    assert reads == 2
    monkeypatch.setattr(ratelimit_module, "STATS_SECONDS", 60.0)
    assert (await limiter.hit(Category.ORGANIC, "9:9")).remaining == 0
    refused = await limiter.hit(Category.ORGANIC, "9:9")
    assert (refused.allowed, refused.remaining) == (False, 0)
    assert reads == 3  # a refusal always reads fresh stats
    await limiter.reset()
    assert limiter._stats == {}
    assert (await limiter.hit(Category.ORGANIC, "9:9")).remaining == 4


def _routers() -> tuple[V3Router, V3Router]:
    first, last = v3_router(), v3_router()

    @first.get("/v3/hotpath/{thing}/")
    async def v3_hotpath_first(thing: str, principal: Principal = Depends(access("read_users"))) -> str:
        return f"first {thing}"

    @last.get("/ads/v3/hotpath/{thing}/items/")
    async def v3_hotpath_last(thing: str, principal: Principal = Depends(access("read_users"))) -> str:
        return f"last {thing}"

    assert isinstance(first, V3Router) and isinstance(last, V3Router)
    return first, last


def test_router_rejects_paths_without_its_prefixes() -> None:
    first, last = _routers()
    scope = {"type": "http", "path": "/v3/hotpath/x/", "method": "GET"}
    assert first._static_prefixes() == ("/v3/hotpath/",)
    assert last.matches(scope) == (Match.NONE, {})
    # A route whose path starts with a parameter could match anything: no quick rejection.
    anything = v3_router()

    @anything.get("/{whatever}/")
    async def v3_anything(whatever: str) -> str:
        return whatever

    assert isinstance(anything, V3Router) and anything._static_prefixes() is None


async def test_routes_behind_rejecting_routers_still_match(make_client: MakeClient, factory: Factory) -> None:
    client = await make_client(routers=list(_routers()))
    token = await factory.token(await factory.user(), "read_users")
    r = await client.get("/ads/v3/hotpath/7/items/", headers=bearer(token))
    assert r.status_code == 200
    assert (r.json()["data"], r.json()["endpoint_name"]) == ("last 7", "v3_hotpath_last")
    r = await client.get("/v3/hotpath/8", headers=bearer(token))
    assert r.status_code == 200 and r.json()["data"] == "first 8"
    # A path match with the wrong method is still a 405 (code 5), not a 404.
    r = await client.post("/ads/v3/hotpath/7/items/", headers=bearer(token))
    assert (r.status_code, r.json()["code"]) == (405, 5)


async def test_request_ids_are_unique_16_hex(client: httpx.AsyncClient) -> None:
    rids = [(await client.get("/healthz")).headers["x-pinterest-rid"] for _ in range(20)]
    assert len(set(rids)) == 20
    assert all(len(rid) == 16 and int(rid, 16) >= 0 for rid in rids)


async def test_settle_heap_freezes_after_startup_only() -> None:
    seen: list[str] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        await send({"type": "lifespan.startup.complete"})

    async def send(message: Any) -> None:
        seen.append(message["type"])

    before = gc.get_freeze_count()
    try:
        await SettleHeap(app)({"type": "lifespan"}, None, send)  # type: ignore[arg-type]
        assert seen == ["lifespan.startup.complete"]
        assert gc.get_freeze_count() > before
    finally:
        gc.unfreeze()
