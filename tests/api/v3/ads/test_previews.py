from __future__ import annotations

import base64
import io
from datetime import timedelta

# anyio imports its file module lazily inside FileResponse; pytest rewriting that import deep in
# a request can trip a CPython 3.11 AST bug, so it is imported up front.
import anyio._core._fileio  # noqa: F401
import httpx
from PIL import Image as PILImage
from sqlalchemy import func, select

from pinapi.domain.clock import FixedClock
from pinapi.runtime import Runtime
from pinapi.store.tables import Preview
from tests.api.v3.ads.builders import AdsBuilder
from tests.factories import Factory, bearer

SCOPE = "read_pin_promotions"


def _png(width: int = 472, height: int = 708) -> bytes:
    out = io.BytesIO()
    PILImage.new("RGB", (width, height), (200, 30, 40)).save(out, format="PNG")
    return out.getvalue()


async def _previews(runtime: Runtime) -> int:
    async with runtime.sessions() as s:
        return int(await s.scalar(select(func.count()).select_from(Preview)) or 0)


async def test_preview_with_image_is_served_for_seven_days(
    client: httpx.AsyncClient, factory: Factory, clock: FixedClock
) -> None:
    user = await factory.user("previewer")
    token = await factory.token(user, SCOPE)
    r = await client.post(
        "/ads/v3/previews/image/",
        files={"image": ("p.png", _png(), "image/png")},
        data={"title": "Summer <sale>"},
        headers=bearer(token),
    )
    assert r.status_code == 200, r.text
    assert r.json()["endpoint_name"] == "ads_v3_create_preview_with_image_handler"
    data = r.json()["data"]
    assert data["width"] == 236 and data["height"] == 354
    assert data["url"].startswith("http://testserver/ad-preview/") and data["url"].endswith("/")
    page = await client.get(data["url"].removeprefix("http://testserver"))
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "Summer &lt;sale&gt;" in page.text
    src = page.text.split('src="', 1)[1].split('"', 1)[0]
    img = await client.get(src.removeprefix("http://testserver"))
    assert img.status_code == 200 and img.headers["content-type"].startswith("image/")

    clock.advance(timedelta(days=7))
    page = await client.get(data["url"].removeprefix("http://testserver"))
    assert page.status_code == 404 and page.json()["code"] == 1101


async def test_preview_with_image_base64_and_bad_input(
    client: httpx.AsyncClient, factory: Factory, runtime: Runtime
) -> None:
    user = await factory.user("previewer2")
    token = await factory.token(user, SCOPE)
    r = await client.post(
        "/ads/v3/previews/image/",
        json={"image_base64": base64.b64encode(_png(100, 50)).decode()},
        headers=bearer(token),
    )
    assert r.status_code == 200 and r.json()["data"]["height"] == 118
    for kwargs, field in (
        ({"json": {}}, "image"),
        ({"files": {"image": ("x.png", b"not an image", "image/png")}}, "image"),
        ({"json": {"image_base64": "%%%"}}, "image_base64"),
    ):
        r = await client.post("/ads/v3/previews/image/", headers=bearer(token), **kwargs)
        assert r.status_code == 400, r.text
        assert f"'{field}'" in r.json()["message"]
    assert await _previews(runtime) == 1
    r = await client.post(
        "/ads/v3/previews/image/",
        files={"image": ("p.png", _png(), "image/png")},
        headers=bearer(await factory.token(user, "read_pins")),
    )
    assert r.status_code == 401 and r.json()["code"] == 3


async def test_preview_with_pin(client: httpx.AsyncClient, factory: Factory, runtime: Runtime) -> None:
    ads = AdsBuilder(runtime)
    owner = await factory.user("pin_previewer", business=True)
    board = await ads.board(owner)
    pin = await ads.pin(owner, board, title="Boots")
    secret = await ads.pin(owner, await ads.board(owner, "Hidden", privacy="secret"))
    token = await factory.token(owner, SCOPE)
    r = await client.post("/ads/v3/previews/pin/", data={"pin_id": str(pin.id)}, headers=bearer(token))
    assert r.status_code == 200, r.text
    data = r.json()["data"]
    assert data["width"] == 236 and data["height"] == -1  # a remote image pinapi did not measure
    page = await client.get(data["url"].removeprefix("http://testserver"))
    assert "https://img.example.com/plaid.jpg" in page.text and "Boots" in page.text

    for payload, status, code in (({}, 400, 1), ({"pin_id": "x"}, 400, 1), ({"pin_id": "5"}, 404, 50)):
        r = await client.post("/ads/v3/previews/pin/", json=payload, headers=bearer(token))
        assert (r.status_code, r.json()["code"]) == (status, code), payload
    # A secret pin needs read_secret_pins on the token.
    r = await client.post("/ads/v3/previews/pin/", json={"pin_id": str(secret.id)}, headers=bearer(token))
    assert r.status_code == 404 and r.json()["code"] == 50
    # An advertiser named in the request needs PIN_PROMOTION_READ there.
    adv = await factory.advertiser(owner)
    stranger = await factory.user("pv_stranger")
    r = await client.post(
        "/ads/v3/previews/pin/",
        json={"pin_id": str(pin.id), "advertiser_id": str(adv.id)},
        headers=bearer(await factory.token(stranger, SCOPE)),
    )
    assert r.status_code == 403 and r.json()["code"] == 1902
    assert await _previews(runtime) == 1


async def test_deprecated_preview_routes_answer_2051(client: httpx.AsyncClient, factory: Factory) -> None:
    token = await factory.token(await factory.user("pv_old"), SCOPE)
    for method, path in (
        ("POST", "/ads/v3/previews/pin_url/"),
        ("POST", "/ads/v3/previews/pin_id/"),
        ("GET", "/ads/v3/previews/abc123/"),
    ):
        r = await client.request(method, path, headers=bearer(token))
        assert r.status_code == 410, path
        assert r.json()["code"] == 2051 and r.json()["message"] == "Sorry! This endpoint has been deprecated."
    r = await client.get("/ad-preview/nosuchkey/")
    assert r.status_code == 404 and r.json()["code"] == 1101
