"""The OAuth dialog, ``GET /oauth/``, driven through its HTML pages."""

from __future__ import annotations

import httpx
from sqlalchemy import func, select

from pinapi.domain.access import apps, users
from pinapi.runtime import Runtime
from pinapi.store.tables import AuthCode, Grant
from tests.api.oauth.flow import authorize_url, decide, exchange, form_with, query_of, sign_in
from tests.factories import Factory, bearer

REDIRECT_MISMATCH = "The provided redirect_uri does not match the registered redirect URI."


async def _codes(runtime: Runtime) -> list[AuthCode]:
    async with runtime.sessions() as s:
        return list(await s.scalars(select(AuthCode)))


async def test_whole_flow_through_the_pages(
    client: httpx.AsyncClient, factory: Factory, runtime: Runtime
) -> None:
    app = await factory.app("Pin Scheduler")
    user = await factory.user("alice")
    page = await client.get(authorize_url(app, refreshable="True"))
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert page.headers["x-frame-options"] == "DENY"
    assert "Log in to continue" in page.text and "Pin Scheduler" in page.text
    signin = form_with(page.text, action="/oauth/login/")
    assert set(signin.fields) == {"csrf_token", "next", "username", "password"}

    consent = await sign_in(client, page, "alice")
    assert 'Give <span class="app">Pin Scheduler</span> access' in consent.text
    assert "Logged in as <strong>alice</strong>" in consent.text
    assert "See your profile information" in consent.text  # read_users
    assert "See your public Pins" in consent.text  # read_pins
    assert form_with(consent.text, action="/oauth/consent/", button="Deny")

    r = await decide(client, consent, "Allow")
    assert r.status_code == 302
    location = r.headers["location"]
    assert location.startswith("http://localhost:9999/callback?code=")
    query = query_of(location)
    assert query["state"] == "xyz" and len(query["code"]) == 43

    (stored,) = await _codes(runtime)
    assert stored.user_id == user.id and stored.app_id == app.id
    assert stored.scopes == "read_users,read_pins" and stored.refreshable is True
    assert stored.used_at is None and stored.code_hash != query["code"]
    assert (stored.expires_at - runtime.clock.now()).total_seconds() == 600
    async with runtime.sessions() as s:
        grant = await s.get(Grant, (user.id, app.id))
    assert grant is not None and grant.scopes == "read_users,read_pins"

    token = await exchange(client, app, query["code"])
    assert token.status_code == 200, token.text
    body = token.json()
    assert body["data"]["refresh_token"]
    me = await client.get("/v3/users/me/", headers=bearer(body["access_token"]))
    assert me.status_code == 200
    assert me.json()["data"]["username"] == "alice"


async def test_signed_in_browser_goes_straight_to_consent(
    client: httpx.AsyncClient, factory: Factory
) -> None:
    app = await factory.app("Second App")
    await factory.user("bea")
    await sign_in(client, await client.get(authorize_url(app)), "bea")
    again = await client.get(authorize_url(app, scope="read_organic", state="-"))
    assert again.status_code == 200
    consent = form_with(again.text, action="/oauth/consent/", button="Allow")
    assert consent.fields["scope"] == "read_organic"
    assert "state" not in consent.fields
    # A composite scope is described by each granular scope it grants.
    for line in ("See your verified domains", "See your public boards", "See your followers"):
        assert line in again.text
    r = await decide(client, again, "Allow")
    assert set(query_of(r.headers["location"])) == {"code"}


async def test_consumer_id_and_lowercase_refreshable(client: httpx.AsyncClient, factory: Factory) -> None:
    app = await factory.app()
    await factory.user("carl")
    url = authorize_url(app, client_id="-", consumer_id=str(app.id), refreshable="false")
    consent = await sign_in(client, await client.get(url), "carl")
    assert form_with(consent.text, action="/oauth/consent/", button="Allow").fields["refreshable"] == "false"


async def test_deny_redirects_with_access_denied(
    client: httpx.AsyncClient, factory: Factory, runtime: Runtime
) -> None:
    app = await factory.app()
    user = await factory.user("dora")
    consent = await sign_in(client, await client.get(authorize_url(app, state="s 1")), "dora")
    r = await decide(client, consent, "Deny")
    assert r.status_code == 302
    assert r.headers["location"] == "http://localhost:9999/callback?error=access_denied&state=s+1"
    assert await _codes(runtime) == []
    async with runtime.sessions() as s:
        assert await s.get(Grant, (user.id, app.id)) is None


async def test_redirect_uri_not_registered_is_an_error_page(
    client: httpx.AsyncClient, factory: Factory
) -> None:
    app = await factory.app(redirect_uris=["https://example.com/cb/"])
    for uri in ("https://evil.example/cb/", "https://example.com/cb", "-"):
        r = await client.get(authorize_url(app, redirect_uri=uri))
        assert r.status_code == 400
        assert "location" not in r.headers
        assert REDIRECT_MISMATCH in r.text


async def test_app_without_redirect_uri(client: httpx.AsyncClient, runtime: Runtime) -> None:
    async with runtime.sessions() as s, s.begin():
        made = await apps.create_app(
            s, clock=runtime.clock, instance_key=runtime.instance_key, name="Bare", redirect_uris=[]
        )
    r = await client.get(f"/oauth/?client_id={made.app.id}&redirect_uri=http://x/&response_type=code")
    assert r.status_code == 400
    assert "This application has not registered a redirect URI" in r.text


async def test_unknown_scope_is_something_went_wrong(client: httpx.AsyncClient, factory: Factory) -> None:
    app = await factory.app()
    r = await client.get(authorize_url(app, scope="read_pins,read_everything"))
    assert r.status_code == 400
    assert "location" not in r.headers
    assert "Something went wrong!" in r.text and "read_everything" in r.text


async def test_unknown_client_is_an_error_page(client: httpx.AsyncClient, factory: Factory) -> None:
    app = await factory.app()
    for client_id in ("12345", "not-a-number", "-"):
        r = await client.get(authorize_url(app, client_id=client_id))
        assert r.status_code == 400, client_id
        assert "Something went wrong!" in r.text
        assert "location" not in r.headers


async def test_bad_refreshable_is_an_error_page(client: httpx.AsyncClient, factory: Factory) -> None:
    app = await factory.app()
    r = await client.get(authorize_url(app, refreshable="maybe"))
    assert r.status_code == 400
    assert "refreshable" in r.text


async def test_unsupported_response_type_redirects_with_error(
    client: httpx.AsyncClient, factory: Factory
) -> None:
    app = await factory.app()
    r = await client.get(authorize_url(app, response_type="token"))
    assert r.status_code == 302
    assert r.headers["location"] == "http://localhost:9999/callback?error=unsupported_response_type&state=xyz"
    missing = await client.get(authorize_url(app, response_type="-"))
    assert missing.status_code == 302
    assert query_of(missing.headers["location"])["error"] == "invalid_request"


async def test_wrong_password_shows_the_form_again(client: httpx.AsyncClient, factory: Factory) -> None:
    app = await factory.app()
    await factory.user("erin")
    page = await client.get(authorize_url(app))
    form = form_with(page.text, action="/oauth/login/")
    form.fields.update(username="erin", password="wrong-password")
    r = await client.post("/oauth/login/", data=form.fields)
    assert r.status_code == 401
    assert "The username or password you entered is incorrect." in r.text
    assert 'value="erin"' in r.text
    form = form_with(r.text, action="/oauth/login/")
    form.fields.update(username="nobody", password="correct-horse-battery")
    unknown = await client.post("/oauth/login/", data=form.fields)
    assert unknown.status_code == 401
    assert "The username or password you entered is incorrect." in unknown.text
    # Still signed out: the dialog shows the sign-in form again.
    assert "/oauth/login/" in (await client.get(authorize_url(app))).text


async def test_forms_without_the_csrf_token_are_refused(
    client: httpx.AsyncClient, factory: Factory, runtime: Runtime
) -> None:
    app = await factory.app()
    await factory.user("finn")
    page = await client.get(authorize_url(app))
    form = form_with(page.text, action="/oauth/login/")
    form.fields.update(username="finn", password="correct-horse-battery", csrf_token="forged")
    r = await client.post("/oauth/login/", data=form.fields)
    assert r.status_code == 400 and "expired" in r.text
    consent = await sign_in(client, await client.get(authorize_url(app)), "finn")
    allow = form_with(consent.text, action="/oauth/consent/", button="Allow")
    allow.fields["csrf_token"] = "forged"
    r = await client.post("/oauth/consent/", data=allow.fields)
    assert r.status_code == 400
    assert await _codes(runtime) == []
    # A browser without the cookie (another site posting the form) is refused too.
    client.cookies.clear()
    allow = form_with(consent.text, action="/oauth/consent/", button="Allow")
    r = await client.post("/oauth/consent/", data=allow.fields)
    assert r.status_code == 400
    assert await _codes(runtime) == []


async def test_consent_post_revalidates_the_request(client: httpx.AsyncClient, factory: Factory) -> None:
    app = await factory.app()
    await factory.user("gil")
    consent = await sign_in(client, await client.get(authorize_url(app)), "gil")
    allow = form_with(consent.text, action="/oauth/consent/", button="Allow")
    allow.fields["redirect_uri"] = "https://evil.example/"
    r = await client.post("/oauth/consent/", data=allow.fields)
    assert r.status_code == 400 and REDIRECT_MISMATCH in r.text


async def test_not_you_signs_out(client: httpx.AsyncClient, factory: Factory) -> None:
    app = await factory.app()
    await factory.user("hal")
    consent = await sign_in(client, await client.get(authorize_url(app)), "hal")
    logout = form_with(consent.text, action="/oauth/logout/")
    r = await client.post("/oauth/logout/", data=logout.fields)
    assert r.status_code == 303
    page = await client.get(r.headers["location"])
    assert "Log in to continue" in page.text


async def test_password_change_signs_the_browser_out(
    client: httpx.AsyncClient, factory: Factory, runtime: Runtime
) -> None:
    app = await factory.app()
    user = await factory.user("ivy")
    await sign_in(client, await client.get(authorize_url(app)), "ivy")
    async with runtime.sessions() as s, s.begin():
        row = await users.get_user(s, user.id)
        assert row is not None
        await users.change_password(s, clock=runtime.clock, user=row, password="a-new-password")
    page = await client.get(authorize_url(app))
    assert "Log in to continue" in page.text
    async with runtime.sessions() as s:
        assert await s.scalar(select(func.count()).select_from(AuthCode)) == 0
