"""The token exchange, ``PUT /v3/oauth/access_token/``: both grants, credentials, encodings."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import httpx
from sqlalchemy import select

from pinapi.domain.access import users
from pinapi.domain.clock import FixedClock
from pinapi.runtime import Runtime
from pinapi.store.tables import AuthCode, Token
from tests.api.oauth.flow import basic, exchange, get_code
from tests.factories import Factory, MadeApp, bearer

URL = "/v3/oauth/access_token/"


async def _refreshable_tokens(client: httpx.AsyncClient, app: MadeApp, username: str) -> dict[str, str]:
    code, _ = await get_code(client, app, username, refreshable="True")
    r = await exchange(client, app, code)
    assert r.status_code == 200, r.text
    data: dict[str, str] = r.json()["data"]
    return data


async def _me(client: httpx.AsyncClient, token: str) -> httpx.Response:
    return await client.get("/v3/users/me/", headers=bearer(token))


async def test_exchange_answers_the_v3_token_shape(
    client: httpx.AsyncClient, factory: Factory, runtime: Runtime
) -> None:
    app = await factory.app()
    await factory.user("alice")
    code, _ = await get_code(client, app, "alice")
    r = await exchange(client, app, code)
    assert r.status_code == 200
    body = r.json()
    token = body["access_token"]
    assert body["status"] == "success" and body["code"] == 0 and body["message"] == "ok"
    assert body["scope"] == "read_users,read_pins"
    assert body["endpoint_name"] == "v3_oauth_access_token_handler"
    assert body["data"] == {
        "access_token": token,
        "token_type": "bearer",
        "expires_at": 0,
        "consumer_id": str(app.id),
        "authorized": True,
        "scope": "read_users,read_pins",
    }
    async with runtime.sessions() as s:
        stored = (await s.scalars(select(AuthCode))).one()
        tokens = list(await s.scalars(select(Token)))
    assert stored.used_at == runtime.clock.now()
    assert [(t.kind, t.scopes, t.app_id) for t in tokens] == [("access", "read_users,read_pins", app.id)]
    assert tokens[0].token_hash != token
    assert (await _me(client, token)).status_code == 200


async def test_scope_reports_everything_ever_granted(client: httpx.AsyncClient, factory: Factory) -> None:
    app = await factory.app()
    await factory.user("bob")
    first, _ = await get_code(client, app, "bob", scope="read_users")
    assert (await exchange(client, app, first)).json()["scope"] == "read_users"
    second, _ = await get_code(client, app, "bob", scope="read_secret")
    body = (await exchange(client, app, second)).json()
    assert body["scope"] == "read_users,read_secret_boards,read_secret_pins"
    # The new token itself carries only what this consent asked for.
    r = await _me(client, body["access_token"])
    assert r.status_code == 401 and r.json()["code"] == 3


async def test_token_with_scope_x_cannot_call_a_route_needing_y(
    client: httpx.AsyncClient, factory: Factory
) -> None:
    app = await factory.app()
    await factory.user("cara")
    code, _ = await get_code(client, app, "cara", scope="read_pins")
    token = (await exchange(client, app, code)).json()["access_token"]
    r = await _me(client, token)
    assert r.status_code == 401
    assert r.json()["code"] == 3 and "read_users" in r.json()["message"]


async def test_code_reuse_fails_and_revokes_its_tokens(
    client: httpx.AsyncClient, factory: Factory, runtime: Runtime
) -> None:
    app = await factory.app()
    await factory.user("dan")
    code, _ = await get_code(client, app, "dan", refreshable="true")
    first = (await exchange(client, app, code)).json()
    assert (await _me(client, first["access_token"])).status_code == 200  # now cached in-process
    again = await exchange(client, app, code)
    assert again.status_code == 401
    body = again.json()
    assert body["status"] == "failure" and body["code"] == 283 and body["data"] is None
    assert "already been used" in body["message"]
    r = await _me(client, first["access_token"])
    assert r.status_code == 401 and r.json()["code"] == 2
    refresh = await client.put(
        URL,
        headers=basic(app),
        data={"grant_type": "refresh_token", "refresh_token": first["data"]["refresh_token"]},
    )
    assert refresh.status_code == 401 and refresh.json()["code"] == 283
    async with runtime.sessions() as s:
        assert all(t.revoked_at is not None for t in await s.scalars(select(Token)))


async def test_expired_code_is_refused(
    client: httpx.AsyncClient, factory: Factory, clock: FixedClock
) -> None:
    app = await factory.app()
    await factory.user("eve")
    fresh, _ = await get_code(client, app, "eve")
    stale, _ = await get_code(client, app, "eve")
    clock.advance(timedelta(seconds=599))
    assert (await exchange(client, app, fresh)).status_code == 200
    clock.advance(timedelta(seconds=1))
    r = await exchange(client, app, stale)
    assert r.status_code == 401
    assert r.json()["code"] == 283 and "expired" in r.json()["message"]


async def test_redirect_uri_must_match_the_code(client: httpx.AsyncClient, factory: Factory) -> None:
    app = await factory.app(redirect_uris=["http://localhost:9999/a", "http://localhost:9999/b"])
    await factory.user("fay")
    code, _ = await get_code(client, app, "fay")
    form = {"grant_type": "authorization_code", "code": code}
    missing = await client.put(URL, headers=basic(app), data=form)
    assert missing.status_code == 400
    assert missing.json()["code"] == 1 and missing.json()["param"] == "redirect_uri"
    other = await client.put(
        URL, headers=basic(app), data={**form, "redirect_uri": "http://localhost:9999/b"}
    )
    assert other.status_code == 401 and other.json()["code"] == 283
    # A failed attempt does not burn the code.
    ok = await client.put(URL, headers=basic(app), data={**form, "redirect_uri": "http://localhost:9999/a"})
    assert ok.status_code == 200


async def test_unknown_code_and_other_apps_code(client: httpx.AsyncClient, factory: Factory) -> None:
    app = await factory.app()
    other = await factory.app("Other")
    await factory.user("gus")
    code, _ = await get_code(client, app, "gus")
    assert (await exchange(client, app, "not-a-code")).json()["code"] == 283
    r = await client.put(
        URL,
        headers=basic(other),
        data={"grant_type": "authorization_code", "code": code, "redirect_uri": app.redirect_uris[0]},
    )
    assert r.status_code == 401 and r.json()["code"] == 283


async def test_refresh_returns_new_distinct_tokens(client: httpx.AsyncClient, factory: Factory) -> None:
    app = await factory.app()
    await factory.user("hana")
    data = await _refreshable_tokens(client, app, "hana")
    refresh_token = data["refresh_token"]
    seen = {data["access_token"]}
    for _ in range(3):
        r = await client.put(
            URL, headers=basic(app), data={"grant_type": "refresh_token", "refresh_token": refresh_token}
        )
        assert r.status_code == 200, r.text
        body = r.json()
        token = body["access_token"]
        assert token not in seen and token == body["data"]["access_token"]
        assert body["data"]["refresh_token"] == refresh_token
        assert body["scope"] == "read_users,read_pins"
        seen.add(token)
        assert (await _me(client, token)).status_code == 200
    for token in seen:
        assert (await _me(client, token)).status_code == 200


async def test_refresh_may_narrow_but_not_widen_scope(client: httpx.AsyncClient, factory: Factory) -> None:
    app = await factory.app()
    await factory.user("ian")
    refresh_token = (await _refreshable_tokens(client, app, "ian"))["refresh_token"]
    form = {"grant_type": "refresh_token", "refresh_token": refresh_token}
    narrow = await client.put(URL, headers=basic(app), data={**form, "scope": "read_pins"})
    assert narrow.status_code == 200
    assert (await _me(client, narrow.json()["access_token"])).json()["code"] == 3
    wide = await client.put(URL, headers=basic(app), data={**form, "scope": "read_pins,write_pins"})
    assert wide.status_code == 400 and wide.json()["code"] == 282
    bogus = await client.put(URL, headers=basic(app), data={**form, "scope": "read_nothing"})
    assert bogus.status_code == 400 and bogus.json()["code"] == 282


async def test_refresh_token_is_bound_to_its_app(client: httpx.AsyncClient, factory: Factory) -> None:
    app = await factory.app()
    other = await factory.app("Other")
    await factory.user("joe")
    refresh_token = (await _refreshable_tokens(client, app, "joe"))["refresh_token"]
    form = {"grant_type": "refresh_token", "refresh_token": refresh_token}
    assert (await client.put(URL, headers=basic(other), data=form)).json()["code"] == 283
    nope = await client.put(URL, headers=basic(app), data={**form, "refresh_token": "pinr_nope"})
    assert nope.status_code == 401 and nope.json()["code"] == 283


async def test_not_refreshable_has_no_refresh_token(client: httpx.AsyncClient, factory: Factory) -> None:
    app = await factory.app()
    await factory.user("kim")
    code, _ = await get_code(client, app, "kim", refreshable="False")
    data = (await exchange(client, app, code)).json()["data"]
    assert "refresh_token" not in data


async def test_body_credentials_with_bogus_bearer_and_form(
    client: httpx.AsyncClient, factory: Factory
) -> None:
    app = await factory.app()
    await factory.user("lee")
    code, _ = await get_code(client, app, "lee")
    r = await client.put(
        URL,
        headers={"Authorization": "Bearer 0"},
        data={
            "grant_type": "authorization_code",
            "client_id": str(app.id),
            "client_secret": app.secret,
            "code": code,
            "redirect_uri": app.redirect_uris[0],
        },
    )
    assert r.status_code == 200, r.text
    assert (await _me(client, r.json()["access_token"])).status_code == 200


async def test_json_body_post_and_no_trailing_slash(client: httpx.AsyncClient, factory: Factory) -> None:
    app = await factory.app()
    await factory.user("max")
    code, _ = await get_code(client, app, "max", refreshable="true")
    r = await client.post(
        "/v3/oauth/access_token",
        json={
            "grant_type": "authorization_code",
            "client_id": app.id,
            "client_secret": app.secret,
            "code": code,
            "redirect_uri": app.redirect_uris[0],
        },
    )
    assert r.status_code == 200, r.text
    refresh_token = r.json()["data"]["refresh_token"]
    again = await client.put(
        URL, headers=basic(app), json={"grant_type": "refresh_token", "refresh_token": refresh_token}
    )
    assert again.status_code == 200
    assert (await _me(client, again.json()["access_token"])).status_code == 200


async def test_wrong_or_missing_client_credentials(client: httpx.AsyncClient, factory: Factory) -> None:
    app = await factory.app()
    await factory.user("ned")
    code, _ = await get_code(client, app, "ned")
    form = {"grant_type": "authorization_code", "code": code, "redirect_uri": app.redirect_uris[0]}
    attempts = [
        {"headers": basic(app, "wrong-secret"), "data": form},
        {"data": {**form, "client_id": str(app.id), "client_secret": "wrong-secret"}},
        {"data": {**form, "client_id": "999", "client_secret": app.secret}},
        {"data": form},
        {"headers": {"Authorization": "Basic !!!"}, "data": form},
        {"headers": basic(app), "data": {**form, "client_id": "999"}},
    ]
    for attempt in attempts:
        r = await client.put(URL, **attempt)  # type: ignore[arg-type]
        assert r.status_code == 401, attempt
        assert r.json()["code"] == 2 and r.json()["status"] == "failure"
    # None of them used up the code.
    assert (await exchange(client, app, code)).status_code == 200


async def test_bad_grant_type(client: httpx.AsyncClient, factory: Factory) -> None:
    app = await factory.app()
    for value in ("password", None):
        data = {"grant_type": value} if value else {}
        r = await client.put(URL, headers=basic(app), data=data)
        assert r.status_code == 400
        assert r.json()["code"] == 1 and r.json()["param"] == "grant_type"
    r = await client.put(URL, headers=basic(app), data={"grant_type": "authorization_code"})
    assert r.status_code == 400 and r.json()["param"] == "code"
    assert (await client.get(URL)).json()["code"] == 5


async def test_password_change_revokes_tokens(
    client: httpx.AsyncClient, factory: Factory, runtime: Runtime
) -> None:
    app = await factory.app()
    user = await factory.user("ola")
    data = await _refreshable_tokens(client, app, "ola")
    assert (await _me(client, data["access_token"])).status_code == 200  # cached in-process now
    async with runtime.sessions() as s, s.begin():
        row = await users.get_user(s, user.id)
        assert row is not None
        revoked = await users.change_password(
            s, clock=runtime.clock, user=row, password="brand-new-pass", token_cache=runtime.token_cache
        )
    assert revoked == 2  # the access and the refresh token
    r = await _me(client, data["access_token"])
    assert r.status_code == 401
    assert r.json()["code"] == 2 and r.json()["message"] == "Authentication failed."
    form = {"grant_type": "refresh_token", "refresh_token": data["refresh_token"]}
    assert (await client.put(URL, headers=basic(app), data=form)).json()["code"] == 283


async def test_concurrent_exchanges_of_one_code_issue_once(
    client: httpx.AsyncClient, factory: Factory, runtime: Runtime
) -> None:
    app = await factory.app()
    await factory.user("pia")
    code, _ = await get_code(client, app, "pia")
    results = await asyncio.gather(*(exchange(client, app, code) for _ in range(3)))
    assert sorted(r.status_code for r in results) == [200, 401, 401]
    assert all(r.json()["code"] == 283 for r in results if r.status_code == 401)
    async with runtime.sessions() as s:
        assert len(list(await s.scalars(select(Token)))) == 1


async def test_oversized_client_id_is_refused_not_crashed(client: httpx.AsyncClient) -> None:
    r = await client.put(
        "/v3/oauth/access_token/",
        data={
            "grant_type": "authorization_code",
            "code": "x",
            "redirect_uri": "http://localhost/",
            "client_id": "9" * 30,
            "client_secret": "s",
        },
    )
    assert r.status_code == 401
    assert r.json()["code"] == 2
    r = await client.get(
        "/oauth/",
        params={
            "client_id": "9" * 30,
            "redirect_uri": "http://localhost/",
            "response_type": "code",
            "scope": "read_users",
        },
    )
    assert r.status_code == 400
