from __future__ import annotations

import httpx

from tests.factories import Factory, bearer


async def test_get_me_returns_user_fields(client: httpx.AsyncClient, factory: Factory) -> None:
    user = await factory.user("alice", full_name="Alice A")
    token = await factory.token(user, "read_users")
    r = await client.get("/v3/users/me/", headers=bearer(token))
    assert r.status_code == 200
    body = r.json()
    assert body["status"] == "success" and body["code"] == 0 and body["message"] == "ok"
    assert body["endpoint_name"] == "v3_get_user_handler"
    assert "bookmark" not in body
    data = body["data"]
    assert data["id"] == str(user.id)
    assert data["username"] == "alice"
    assert data["full_name"] == "Alice A"
    assert data["created_at"] == "Mon, 02 Nov 2026 12:00:00 +0000"
    assert data["pin_count"] == 0 and data["board_count"] == 0
    assert data["image_small_url"].endswith("/media/avatars/default_60.png")
    assert r.headers["x-pinterest-rid"]


async def test_get_other_user_by_name_and_id(client: httpx.AsyncClient, factory: Factory) -> None:
    me = await factory.user("reader")
    other = await factory.user("bob")
    token = await factory.token(me, "read_organic")
    for ref in ("bob", str(other.id)):
        r = await client.get(f"/v3/users/{ref}", headers=bearer(token))
        assert r.status_code == 200, r.text
        assert r.json()["data"]["username"] == "bob"


async def test_unknown_user_is_code_30(client: httpx.AsyncClient, factory: Factory) -> None:
    me = await factory.user()
    token = await factory.token(me, "read_users")
    r = await client.get("/v3/users/nosuchuser/", headers=bearer(token))
    assert r.status_code == 404
    assert r.json()["code"] == 30


async def test_missing_scope_is_refused(client: httpx.AsyncClient, factory: Factory) -> None:
    me = await factory.user()
    token = await factory.token(me, "read_boards")
    r = await client.get("/v3/users/me/", headers=bearer(token))
    assert r.status_code == 401
    body = r.json()
    assert body["code"] == 3 and body["status"] == "failure"
    assert "read_users" in body["message"]


async def test_bad_token_is_code_2(client: httpx.AsyncClient) -> None:
    r = await client.get("/v3/users/me/", headers=bearer("pina_nope"))
    assert r.status_code == 401
    assert r.json()["code"] == 2
