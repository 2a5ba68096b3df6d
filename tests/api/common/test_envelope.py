"""The v3 envelope and error codes, seen through ``GET /v3/users/{user}/`` and test-only routes."""

from __future__ import annotations

import logging
import re
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from fastapi import APIRouter, Depends
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from pinapi.api.common.context import get_session
from pinapi.api.common.routing import router as v3_router
from pinapi.domain.errors import Invalid
from pinapi.runtime import Runtime
from pinapi.store.tables import User
from tests.api.common.conftest import MakeClient
from tests.factories import Factory, bearer

RID = re.compile(r"^[0-9a-f]{16}$")
SECRET_DETAIL = "db-password=hunter2 at /srv/internal.py"


def failure(code: int, message: str, endpoint_name: str) -> dict[str, Any]:
    return {
        "status": "failure",
        "code": code,
        "data": None,
        "message": message,
        "endpoint_name": endpoint_name,
        "error": {"message": message},
    }


async def test_unknown_route_is_code_11(client: httpx.AsyncClient) -> None:
    for path in ("/v3/no/such/route/", "/v3/no/such/route", "/ads/v3/nothing/", "/nothing"):
        r = await client.get(path)
        assert r.status_code == 404, path
        assert r.json() == failure(11, "API method not found.", "unknown")
        assert RID.match(r.headers["x-pinterest-rid"])


async def test_wrong_method_is_code_5(client: httpx.AsyncClient, factory: Factory) -> None:
    token = await factory.token(await factory.user(), "read_users")
    for method in ("POST", "PUT", "DELETE"):
        for path in ("/v3/users/me/", "/v3/users/me"):
            r = await client.request(method, path, headers=bearer(token))
            assert r.status_code == 405, (method, path)
            body = r.json()
            assert body["status"] == "failure" and body["code"] == 5
            assert body["message"] == "Method not allowed" and body["data"] is None
            assert r.headers["allow"] == "GET"
            assert RID.match(r.headers["x-pinterest-rid"])


async def test_both_path_forms_answer_directly(client: httpx.AsyncClient, factory: Factory) -> None:
    user = await factory.user("slashes")
    token = await factory.token(user, "read_users")
    bodies = []
    for path in ("/v3/users/me/", "/v3/users/me", "/v3/users/slashes", f"/v3/users/{user.id}"):
        r = await client.get(path, headers=bearer(token), follow_redirects=False)
        assert r.status_code == 200, path
        assert "location" not in r.headers
        body = r.json()
        assert body["endpoint_name"] == "v3_get_user_handler"
        bodies.append(body["data"])
    assert all(b == bodies[0] for b in bodies)


async def test_query_access_token_is_accepted(client: httpx.AsyncClient, factory: Factory) -> None:
    token = await factory.token(await factory.user("querytoken"), "read_users")
    r = await client.get("/v3/users/me/", params={"access_token": token})
    assert r.status_code == 200
    assert r.json()["data"]["username"] == "querytoken"


async def test_request_ids_are_distinct_on_success_and_error(
    client: httpx.AsyncClient, factory: Factory
) -> None:
    token = await factory.token(await factory.user(), "read_users")
    rids = []
    for _ in range(5):
        ok = await client.get("/v3/users/me/", headers=bearer(token))
        bad = await client.get("/v3/users/me/")
        assert ok.status_code == 200 and bad.status_code == 401
        assert bad.json() == failure(
            3, "Authorization failed: no access token was sent.", "v3_get_user_handler"
        )
        rids += [ok.headers["x-pinterest-rid"], bad.headers["x-pinterest-rid"]]
    assert all(RID.match(r) for r in rids)
    assert len(set(rids)) == len(rids)


def _test_routes() -> list[APIRouter]:
    """Routes that exist only in these tests: a crash inside and outside the v3 route class,
    a framework-validated parameter, and a write followed by a failure (must roll back)."""
    v3 = v3_router()

    @v3.get("/v3/test/boom/")
    async def v3_test_boom() -> dict[str, Any]:
        raise RuntimeError(SECRET_DETAIL)

    @v3.get("/v3/test/typed/")
    async def v3_test_typed(count: int) -> dict[str, Any]:
        return {"count": count}

    @v3.post("/v3/test/write/")
    async def v3_test_write(
        username: str, fail: bool, session: AsyncSession = Depends(get_session)
    ) -> dict[str, Any]:
        stamp = datetime(2026, 1, 1, tzinfo=UTC)
        session.add(User(username=username, created_at=stamp, password_changed_at=stamp))
        await session.flush()
        if fail:
            raise Invalid("fail", "asked to fail after writing")
        return {"username": username}

    plain = APIRouter()

    @plain.get("/plain/boom")
    async def plain_boom() -> dict[str, Any]:
        raise RuntimeError(SECRET_DETAIL)

    return [v3, plain]


async def test_unexpected_error_is_code_12_without_internals(
    make_client: MakeClient, caplog: pytest.LogCaptureFixture
) -> None:
    client = await make_client(routers=_test_routes())
    with caplog.at_level(logging.ERROR, logger="pinapi.errors"):
        r = await client.get("/v3/test/boom/")
    assert r.status_code == 500
    rid = r.headers["x-pinterest-rid"]
    assert RID.match(rid)
    body = r.json()
    assert body == {
        **failure(12, "Something went wrong on our end. Sorry about that.", "v3_test_boom"),
        "request_id": rid,
    }
    assert SECRET_DETAIL not in r.text and "Traceback" not in r.text and "RuntimeError" not in r.text
    logged = [rec for rec in caplog.records if rid in rec.getMessage()]
    assert len(logged) == 1
    assert logged[0].exc_info is not None and SECRET_DETAIL in str(logged[0].exc_info[1])


async def test_unexpected_error_outside_v3_routes(
    make_client: MakeClient, caplog: pytest.LogCaptureFixture
) -> None:
    client = await make_client(routers=_test_routes(), raise_app_exceptions=False)
    with caplog.at_level(logging.ERROR, logger="pinapi.errors"):
        r = await client.get("/plain/boom")
    assert r.status_code == 500
    body = r.json()
    assert body["code"] == 12 and body["status"] == "failure"
    rid = body["request_id"]
    assert RID.match(rid) and r.headers["x-pinterest-rid"] == rid
    assert SECRET_DETAIL not in r.text and "Traceback" not in r.text
    assert any(rid in rec.getMessage() for rec in caplog.records if rec.name == "pinapi.errors")


async def test_framework_validation_is_code_1_naming_the_field(make_client: MakeClient) -> None:
    client = await make_client(routers=_test_routes())
    r = await client.get("/v3/test/typed/", params={"count": "many"})
    assert r.status_code == 400
    body = r.json()
    assert body["code"] == 1 and body["param"] == "count"
    assert body["message"].startswith("Invalid parameter 'count': ")
    assert body["endpoint_name"] == "v3_test_typed"
    missing = await client.get("/v3/test/typed")
    assert missing.status_code == 400 and missing.json()["param"] == "count"
    ok = await client.get("/v3/test/typed", params={"count": "3"})
    assert ok.status_code == 200 and ok.json()["data"] == {"count": 3}


async def _count_users(runtime: Runtime, username: str) -> int:
    async with runtime.sessions() as s:
        return int(
            await s.scalar(select(func.count()).select_from(User).where(User.username == username)) or 0
        )


async def test_a_failed_request_writes_nothing(make_client: MakeClient, runtime: Runtime) -> None:
    client = await make_client(routers=_test_routes())
    r = await client.post("/v3/test/write/", params={"username": "rolled_back", "fail": "true"})
    assert r.status_code == 400 and r.json()["code"] == 1 and r.json()["param"] == "fail"
    assert await _count_users(runtime, "rolled_back") == 0
    r = await client.post("/v3/test/write/", params={"username": "committed", "fail": "false"})
    assert r.status_code == 200 and r.json()["data"] == {"username": "committed"}
    assert await _count_users(runtime, "committed") == 1
