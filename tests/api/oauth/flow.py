"""Drive the OAuth dialog like a browser: read its forms from the HTML and submit them."""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx

from tests.factories import PASSWORD, MadeApp


@dataclass
class Form:
    action: str
    fields: dict[str, str] = field(default_factory=dict)
    buttons: list[str] = field(default_factory=list)


class _Forms(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.forms: list[Form] = []
        self._in_button = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            self.forms.append(Form(action=a.get("action", "")))
        elif tag == "input" and self.forms and a.get("name"):
            self.forms[-1].fields[a["name"]] = a.get("value", "")
        elif tag == "button":
            self._in_button = True

    def handle_endtag(self, tag: str) -> None:
        if tag == "button":
            self._in_button = False

    def handle_data(self, data: str) -> None:
        if self._in_button and self.forms and data.strip():
            self.forms[-1].buttons.append(data.strip())


def forms(html: str) -> list[Form]:
    parser = _Forms()
    parser.feed(html)
    return parser.forms


def form_with(html: str, *, action: str, button: str | None = None) -> Form:
    for f in forms(html):
        if f.action == action and (button is None or button in f.buttons):
            return f
    raise AssertionError(f"no form posting to {action} ({button}) in the page")


def authorize_url(app: MadeApp, **extra: str) -> str:
    query = {
        "client_id": str(app.id),
        "redirect_uri": app.redirect_uris[0],
        "response_type": "code",
        "scope": "read_users,read_pins",
        "state": "xyz",
    }
    query.update(extra)
    return "/oauth/?" + urlencode({k: v for k, v in query.items() if v != "-"})


async def sign_in(client: httpx.AsyncClient, page: httpx.Response, username: str) -> httpx.Response:
    """Submit the sign-in form of ``page``; returns the consent page it leads to."""
    form = form_with(page.text, action="/oauth/login/")
    form.fields.update(username=username, password=PASSWORD)
    r = await client.post("/oauth/login/", data=form.fields)
    assert r.status_code == 303, r.text
    consent = await client.get(r.headers["location"])
    assert consent.status_code == 200, consent.text
    return consent


async def decide(client: httpx.AsyncClient, consent: httpx.Response, button: str) -> httpx.Response:
    form = form_with(consent.text, action="/oauth/consent/", button=button)
    return await client.post("/oauth/consent/", data=form.fields)


def query_of(location: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}


async def get_code(
    client: httpx.AsyncClient, app: MadeApp, username: str, **extra: str
) -> tuple[str, dict[str, str]]:
    """The whole dialog for ``username`` (signing in when needed); returns the code."""
    page = await client.get(authorize_url(app, **extra))
    assert page.status_code == 200, page.text
    consent = page if "/oauth/consent/" in page.text else await sign_in(client, page, username)
    r = await decide(client, consent, "Allow")
    assert r.status_code == 302, r.text
    query = query_of(r.headers["location"])
    return query["code"], query


def basic(app: MadeApp, secret: str | None = None) -> dict[str, str]:
    raw = f"{app.id}:{secret if secret is not None else app.secret}".encode()
    return {"Authorization": "Basic " + base64.b64encode(raw).decode()}


async def exchange(client: httpx.AsyncClient, app: MadeApp, code: str) -> httpx.Response:
    return await client.put(
        "/v3/oauth/access_token/",
        headers=basic(app),
        data={"grant_type": "authorization_code", "code": code, "redirect_uri": app.redirect_uris[0]},
    )
