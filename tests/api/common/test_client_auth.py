"""Client authorization (contract 1.4): requests signed with the app secret, no user token."""

from __future__ import annotations

import time

import httpx

from pinapi.domain.access import signing
from pinapi.settings import Settings
from tests.factories import Factory, MadeApp

PUBLIC_FIELDS = {
    "id",
    "username",
    "full_name",
    "about",
    "profile_url",
    "pin_count",
    "board_count",
    "follower_count",
    "following_count",
    "created_at",
    "type",
    "image_small_url",
    "image_medium_url",
    "image_large_url",
    "image_xlarge_url",
}
PRIVATE_FIELDS = {"is_partner", "profile_reach", "verified_domains", "domain_verified", "website_url"}


def signed_query(
    app: MadeApp,
    path: str,
    *,
    timestamp: str,
    method: str = "GET",
    extra: dict[str, str] | None = None,
    secret: str | None = None,
    base: str = "http://testserver",
) -> dict[str, str]:
    """The query a v3 client sends: its params plus client_id, timestamp and oauth_signature."""
    params = {**(extra or {}), "client_id": str(app.id), "timestamp": timestamp}
    sig = signing.sign(secret or app.secret, method, f"{base}{path}", params.items())
    return {**params, "oauth_signature": sig}


def now_ms() -> str:
    return str(int(time.time() * 1000))


async def test_good_signature_gets_public_fields_only(client: httpx.AsyncClient, factory: Factory) -> None:
    user = await factory.user("pubby", business=True)
    app = await factory.app()
    path = "/v3/users/pubby/"
    r = await client.get(path, params=signed_query(app, path, timestamp=now_ms()))
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["status"] == "success" and body["endpoint_name"] == "v3_get_user_handler"
    data = body["data"]
    assert set(data) == PUBLIC_FIELDS
    assert not PRIVATE_FIELDS & set(data)
    assert data["id"] == str(user.id) and data["username"] == "pubby"


async def test_seconds_and_milliseconds_timestamps(client: httpx.AsyncClient, factory: Factory) -> None:
    await factory.user("stamps")
    app = await factory.app()
    path = "/v3/users/stamps/"
    for stamp in (str(int(time.time())), now_ms()):
        r = await client.get(path, params=signed_query(app, path, timestamp=stamp))
        assert r.status_code == 200, (stamp, r.text)


async def test_extra_params_and_slashless_path_are_signed_as_sent(
    client: httpx.AsyncClient, factory: Factory
) -> None:
    await factory.user("extras")
    app = await factory.app()
    path = "/v3/users/extras"  # the client signs exactly the URL it calls, here without the slash
    query = signed_query(app, path, timestamp=now_ms(), extra={"fields": "a b,c/d", "page_size": "10"})
    r = await client.get(path, params=query)
    assert r.status_code == 200, r.text


async def test_bad_signature_is_code_2(client: httpx.AsyncClient, factory: Factory) -> None:
    await factory.user("victim")
    app = await factory.app()
    other = await factory.app("Other App")
    path = "/v3/users/victim/"
    cases = {
        "wrong secret": signed_query(app, path, timestamp=now_ms(), secret=other.secret),
        "other path": signed_query(app, "/v3/users/someone/", timestamp=now_ms()),
        "other method": signed_query(app, path, timestamp=now_ms(), method="POST"),
        "other host": signed_query(app, path, timestamp=now_ms(), base="http://evil.example"),
        "garbage": {**signed_query(app, path, timestamp=now_ms()), "oauth_signature": "00ff"},
        "unknown app": {**signed_query(app, path, timestamp=now_ms()), "client_id": "12345"},
        "client_id beyond 64 bits": {**signed_query(app, path, timestamp=now_ms()), "client_id": "9" * 25},
        "client_id of 2**63": {**signed_query(app, path, timestamp=now_ms()), "client_id": str(2**63)},
        "client_id not a number": {**signed_query(app, path, timestamp=now_ms()), "client_id": "abc"},
    }
    tampered = signed_query(app, path, timestamp=now_ms())
    tampered["timestamp"] = str(int(tampered["timestamp"]) + 1)
    cases["tampered timestamp"] = tampered
    for name, query in cases.items():
        r = await client.get(path, params=query)
        assert r.status_code == 401, name
        body = r.json()
        assert body["code"] == 2 and body["status"] == "failure" and body["data"] is None, name


async def test_stale_timestamp_is_refused(
    client: httpx.AsyncClient, factory: Factory, settings: Settings
) -> None:
    await factory.user("stale")
    app = await factory.app()
    path = "/v3/users/stale/"
    window = settings.signature_window_seconds
    for offset in (-(window + 5), window + 5):
        for stamp in (str(int(time.time()) + offset), str(int((time.time() + offset) * 1000))):
            r = await client.get(path, params=signed_query(app, path, timestamp=stamp))
            assert r.status_code == 401, stamp
            assert r.json()["code"] == 2
            assert "stale" in r.json()["message"]
    inside = str(int(time.time()) - window + 30)
    r = await client.get(path, params=signed_query(app, path, timestamp=inside))
    assert r.status_code == 200


async def test_missing_parts_and_me_are_refused(client: httpx.AsyncClient, factory: Factory) -> None:
    app = await factory.app()
    path = "/v3/users/me/"
    query = signed_query(app, path, timestamp=now_ms())
    r = await client.get(path, params=query)
    assert r.status_code == 400
    assert r.json()["code"] == 1 and r.json()["param"] == "user"
    no_stamp = {k: v for k, v in query.items() if k != "timestamp"}
    r = await client.get(path, params=no_stamp)
    assert r.status_code == 401 and r.json()["code"] == 2
    # A signature is accepted only where the route allows client authorization; without one
    # the route asks for a token.
    r = await client.get(path, params={"client_id": str(app.id), "timestamp": now_ms()})
    assert r.status_code == 401 and r.json()["code"] == 3
