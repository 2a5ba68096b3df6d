"""Hot-path shortcuts keep behaviour: routes called without FastAPI's dependency solver,
routers tried hot first, one edge middleware, in-process rate-limit windows equal to
``limits``' and FastAPI's telemetry hooks (docs/performance.md)."""

from __future__ import annotations

import contextlib
import random
import time
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from fastapi import Depends, Query
from fastapi.routing import APIRoute
from starlette.requests import Request

from pinapi.api.common import middleware
from pinapi.api.common.auth import access
from pinapi.api.common.context import get_session
from pinapi.api.common.ratelimit import Category, Limiter
from pinapi.api.common.routing import V3Route, _direct_plan, hot_first
from pinapi.api.common.routing import router as v3_router
from pinapi.app import HOT_ROUTERS, create_app
from pinapi.domain.access.principal import Principal
from pinapi.runtime import Runtime
from pinapi.settings import Settings
from tests.api.common.conftest import MakeClient
from tests.factories import Factory, bearer

calls: list[str] = []


async def counted_dependency(request: Request) -> str:
    calls.append(request.url.path)
    return "counted"


def _routes() -> Any:
    r = v3_router()

    @r.get("/v3/direct/{thing}/items/{item}/")
    async def v3_direct(
        thing: str,
        item: str,
        request: Request,
        principal: Principal = Depends(access("read_users")),
        first: str = Depends(counted_dependency),
        again: str = Depends(counted_dependency),
    ) -> dict[str, Any]:
        return {"thing": thing, "item": item, "user": str(principal.user_id), "deps": [first, again]}

    @r.get("/v3/solved/{number}/")
    async def v3_solved(
        number: int, size: int = Query(2), principal: Principal = Depends(access("read_users"))
    ) -> list[int]:
        return [number, size]

    return r


def _plan(r: Any, name: str) -> Any:
    route = next(x for x in r.routes if x.name == name)
    assert isinstance(route, V3Route)
    return _direct_plan(route.dependant, route.body_field, None)


def test_direct_plan_only_for_string_paths_and_request_dependencies() -> None:
    r = _routes()
    plan = _plan(r, "v3_direct")
    assert plan is not None
    assert plan.path_names == ("thing", "item") and plan.request_name == "request"
    assert [d[0] for d in plan.dependencies] == ["principal", "first", "again"]
    assert _plan(r, "v3_solved") is None  # an int path parameter and a query parameter

    sync = v3_router()

    def plain(request: Request) -> str:
        return "sync"

    @sync.get("/v3/sync/")
    async def v3_sync(value: str = Depends(plain)) -> str:
        return value

    assert _plan(sync, "v3_sync") is None  # run in a thread by FastAPI: left to it

    with_session = v3_router()

    @with_session.get("/v3/with_session/{x}/")
    async def v3_with_session(x: str, session: Any = Depends(get_session)) -> str:
        return x

    assert _plan(with_session, "v3_with_session") is not None


async def test_direct_routes_answer_like_solved_ones(make_client: MakeClient, factory: Factory) -> None:
    client = await make_client(routers=[_routes()])
    user = await factory.user()
    token = await factory.token(user, "read_users")
    calls.clear()
    r = await client.get("/v3/direct/a%20b/items/7", headers=bearer(token))
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["endpoint_name"] == "v3_direct"
    assert body["data"] == {"thing": "a b", "item": "7", "user": str(user.id), "deps": ["counted", "counted"]}
    assert calls == ["/v3/direct/a b/items/7/"]  # a dependency used twice runs once
    assert r.headers["x-userendpoint-ratelimit-limit"] == "100000"
    # Failures of a dependency are envelopes, exactly as through the solver.
    r = await client.get("/v3/direct/a/items/7/")
    assert (r.status_code, r.json()["code"], r.json()["endpoint_name"]) == (401, 3, "v3_direct")
    assert r.json()["message"] == "Authorization failed: no access token was sent."
    r = await client.get("/v3/direct/a/items/7/", headers=bearer("pina_unknown"))
    assert (r.status_code, r.json()["code"]) == (401, 2)
    weak = await factory.token(user, "read_pins")
    r = await client.get("/v3/direct/a/items/7/", headers=bearer(weak))
    assert (r.status_code, r.json()["code"]) == (401, 3)
    # The solver still serves what it must: conversions, queries and their errors.
    r = await client.get("/v3/solved/5/?size=3", headers=bearer(token))
    assert r.status_code == 200 and r.json()["data"] == [5, 3]
    r = await client.get("/v3/solved/five/", headers=bearer(token))
    assert (r.status_code, r.json()["code"]) == (400, 1)


@contextlib.asynccontextmanager
async def _app_client(runtime: Runtime, routers: list[Any]) -> AsyncIterator[tuple[Any, httpx.AsyncClient]]:
    application = create_app(runtime=runtime, migrate=False, demo=False)
    for r in routers:
        application.include_router(r)
    async with application.router.lifespan_context(application):
        transport = httpx.ASGITransport(app=application)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            yield application, client


async def test_dependency_overrides_still_apply(runtime: Runtime, factory: Factory) -> None:
    async def fake() -> str:
        return "fake"

    token = await factory.token(await factory.user(), "read_users")
    async with _app_client(runtime, [_routes()]) as (application, client):
        application.dependency_overrides[counted_dependency] = fake
        r = await client.get("/v3/direct/x/items/y/", headers=bearer(token))
        assert r.status_code == 200 and r.json()["data"]["deps"] == ["fake", "fake"]
        application.dependency_overrides.clear()
        r = await client.get("/v3/direct/x/items/y/", headers=bearer(token))
        assert r.json()["data"]["deps"] == ["counted", "counted"]


def _router(*paths: str) -> Any:
    r = v3_router()
    for i, path in enumerate(paths):

        async def endpoint() -> str:
            return "ok"

        r.add_api_route(path, endpoint, methods=["GET"], name=f"v3_r{i}_{abs(hash(path))}")
    return r


def test_hot_first_moves_routers_only_past_routers_that_cannot_match_their_paths() -> None:
    first = _router("/v3/a/{x}/")
    clash = _router("/v3/{kind}/b/")  # could serve /v3/a/b/ too
    free = _router("/v3/c/{x}/y/", "/ads/v3/d/")
    hot = _router("/v3/a/b/", "/v3/e/{x}/f/")
    other = _router("/v3/e/{x}/")
    assert hot_first([first, clash, free, hot, other], hot=[free, hot]) == [free, first, clash, hot, other]
    # Nothing in the way: a hot router goes first; routers of any shape block a move.
    solo = _router("/v3/g/h/")
    assert hot_first([first, other, solo], hot=[solo]) == [solo, first, other]
    anything = _router("/v3/{path:path}")
    assert hot_first([anything, solo], hot=[solo]) == [anything, solo]
    assert hot_first([first], hot=[solo]) == [first]


def test_hot_routers_of_the_app_go_first() -> None:
    from pinapi.api.v3 import ROUTERS
    from pinapi.app import HOT_ROUTERS

    assert hot_first(ROUTERS, HOT_ROUTERS)[: len(HOT_ROUTERS)] == list(HOT_ROUTERS)


async def test_request_edge_gives_ids_and_slashes_in_one_layer(
    client: httpx.AsyncClient, factory: Factory
) -> None:
    token = await factory.token(await factory.user(), "read_users")
    with_slash = await client.get("/v3/users/me/", headers=bearer(token))
    without = await client.get("/v3/users/me", headers=bearer(token))
    assert with_slash.status_code == without.status_code == 200
    assert with_slash.json()["data"] == without.json()["data"]
    rids = {with_slash.headers["x-pinterest-rid"], without.headers["x-pinterest-rid"]}
    assert len(rids) == 2 and all(len(rid) == 16 for rid in rids)
    r = await client.get("/v3/nowhere")
    assert r.status_code == 404 and len(r.headers["x-pinterest-rid"]) == 16


def test_framework_telemetry_only_off_without_an_sdk(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(middleware, "_has_sdk", lambda: False)
    assert middleware.framework_telemetry() == {"tracing": False, "metrics": False, "logs": False}
    monkeypatch.setattr(middleware, "_has_sdk", lambda: True)
    assert middleware.framework_telemetry() is None


@pytest.mark.parametrize("category", [Category.READ, Category.WRITE, Category.ORGANIC])
async def test_in_process_windows_decide_and_count_like_limits(
    category: Category, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The same calls at the same instants through both: same decisions, same headers."""
    settings = Settings(
        limit_ads_read_per_second=4, limit_ads_write_per_minute=5, limit_organic_per_hour=6, _env_file=None
    )
    ours, theirs = Limiter(settings), Limiter(settings, in_process=False)
    expiry = ours.items[category][0].get_expiry()
    rng = random.Random(7)
    now = 1_800_000_000.0 + expiry * 0.8  # close to a window's end, so windows roll over
    monkeypatch.setattr(time, "time", lambda: now)
    monkeypatch.setattr("pinapi.api.common.ratelimit.STATS_SECONDS", 0.0)  # limits' stats fresh
    seen = set()
    for _ in range(120):
        now += rng.choice([0.0, 0.001, expiry * 0.05, expiry * 0.3, expiry * 1.1])
        key = rng.choice(["1:1", "1:2"])
        a, b = await ours.hit(category, key), await theirs.hit(category, key)
        assert (a.allowed, a.limit, a.remaining) == (b.allowed, b.limit, b.remaining)
        assert abs(a.reset_seconds - b.reset_seconds) <= 1
        seen.add(a.allowed)
    assert seen == {True, False}
    await theirs.reset()


def test_hot_routes_are_the_apps_own_and_keep_their_order(runtime: Runtime) -> None:
    application = create_app(runtime=runtime, migrate=False, demo=False)
    own = [r for r in application.router.routes if isinstance(r, APIRoute)]
    hot = [route for router in HOT_ROUTERS for route in router.routes]
    assert all(route in own for route in hot)
    paths = [r.path for r in own]
    assert paths.index("/v3/users/{user}/") < paths.index("/v3/pins/{pin}/")
    assert "/ads/v3/campaigns/{campaign}/" in paths
