"""Pins through the API: create (upload, base64, URL, carousel), read, save, delete, images."""

from __future__ import annotations

import asyncio
import base64
import io
import json
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest
from PIL import Image as PILImage

from pinapi.runtime import Runtime
from pinapi.store.tables import AggregatedPinData, Board, BoardSection, Image, OrganicPinHour, Pin, User
from tests.api.common.test_client_auth import now_ms, signed_query
from tests.api.v3.test_boards import ALL, count, make_board, make_pin, png, row
from tests.factories import Factory, bearer

SAMPLE_KEYS = {
    "id", "title", "description", "link", "domain", "dominant_color", "created_at", "repin_count",
    "is_repin", "video_signature", "native_format_type", "shareable_url", "rich_metadata", "board",
    "parent_pin", "image_square_url", "image_medium_url", "image_large_url",
    "image_square_size_pixels", "image_medium_size_pixels", "image_large_size_pixels",
    "image_square_size_points", "image_medium_size_points", "image_large_size_points",
}  # fmt: skip


async def setup(
    client: httpx.AsyncClient, factory: Factory, scopes: str = ALL
) -> tuple[User, str, dict[str, Any]]:
    user = await factory.user()
    token = await factory.token(user, scopes)
    board = await make_board(client, token, "Pins")
    return user, token, board


async def test_create_pin_from_upload_makes_real_images(
    client: httpx.AsyncClient, factory: Factory, runtime: Runtime
) -> None:
    user, token, board = await setup(client, factory)
    r = await client.put(
        "/v3/pins/",
        data={
            "board_id": board["id"],
            "title": "Blue",
            "description": "A blue square",
            "alt_text": "blue",
            "source_url": "https://www.example.com/blue?x=1",
        },
        files={"image": ("blue.png", png((10, 120, 200), (800, 1000)), "image/png")},
        headers=bearer(token),
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["endpoint_name"] == "v3_create_pin_handler"
    data = body["data"]
    assert set(data) >= SAMPLE_KEYS
    assert data["title"] == "Blue" and data["description"] == "A blue square" and data["alt_text"] == "blue"
    assert data["link"] == "https://www.example.com/blue?x=1" and data["domain"] == "www.example.com"
    assert data["dominant_color"] == "#0a78c8"
    assert data["created_at"] == "Mon, 02 Nov 2026 12:00:00 +0000"
    assert data["board"] == {"id": board["id"]} and data["parent_pin"] is None and data["is_repin"] is False
    assert data["native_format_type"] == "SINGLE_IMAGE" and data["type"] == "pin"
    assert data["image_square_size_pixels"] == {"width": 90, "height": 90}
    assert data["image_square_size_points"] == {"width": 45, "height": 45}
    assert data["image_medium_size_pixels"] == {"width": 400, "height": 500}
    assert data["image_medium_size_points"] == {"width": 200, "height": 250}
    assert data["image_large_size_pixels"] == {"width": 600, "height": 750}
    assert data["image_large_size_points"] == {"width": 600, "height": 750}
    for name, size in (("square", (90, 90)), ("medium", (400, 500)), ("large", (600, 750))):
        url = data[f"image_{name}_url"]
        assert url.startswith("http://testserver/media/images/")
        got = await client.get(url)
        assert got.status_code == 200 and got.headers["content-type"] == "image/jpeg"
        with PILImage.open(io.BytesIO(got.content)) as img:
            assert img.size == size
            r_, g_, b_ = img.convert("RGB").getpixel((img.width // 2, img.height // 2))  # type: ignore[misc]
            assert abs(r_ - 10) < 6 and abs(g_ - 120) < 6 and abs(b_ - 200) < 6
    pin = await row(runtime, Pin, int(data["id"]))
    assert pin.aggregated_pin_data_id is not None and pin.root_pin_id is None
    assert await row(runtime, AggregatedPinData, pin.aggregated_pin_data_id) is not None
    image = await row(runtime, Image, pin.image_id)
    assert (image.format, image.width, image.height, image.dominant_color) == ("PNG", 800, 1000, "#0a78c8")
    original = runtime.settings.data_dir / "images" / image.variants["original"]["path"]
    assert original.read_bytes() == png((10, 120, 200), (800, 1000))
    assert (await row(runtime, Board, int(board["id"]))).pin_count == 1
    assert (await row(runtime, User, user.id)).pin_count == 1


async def test_small_image_is_not_upscaled(client: httpx.AsyncClient, factory: Factory) -> None:
    _, token, board = await setup(client, factory)
    encoded = base64.b64encode(png((250, 250, 0), (300, 200))).decode()
    r = await client.put(
        "/v3/pins/", data={"board_id": board["id"], "image_base64": encoded}, headers=bearer(token)
    )
    assert r.status_code == 200, r.text
    data = r.json()["data"]
    assert data["image_square_size_pixels"] == {"width": 90, "height": 90}
    assert data["image_medium_size_pixels"] == {"width": 300, "height": 200}
    assert data["image_large_size_pixels"] == {"width": 300, "height": 200}
    assert data["dominant_color"] == "#fafa00"
    assert data["domain"] == "Uploaded by user" and data["link"] is None


async def test_create_pin_bad_input(client: httpx.AsyncClient, factory: Factory, runtime: Runtime) -> None:
    user, token, board = await setup(client, factory)
    other_board = await make_board(client, token, "Other")
    r = await client.put(
        f"/v3/board/{other_board['id']}/sections/", data={"title": "S"}, headers=bearer(token)
    )
    foreign_section = r.json()["data"]["id"]
    good = {"board_id": board["id"], "image_base64": base64.b64encode(png()).decode()}
    cases: list[tuple[dict[str, Any], dict[str, Any] | None, str, int, int]] = [
        ({"image_base64": good["image_base64"]}, None, "board_id", 1, 400),
        ({**good, "board_id": "abc"}, None, "board_id", 1, 400),
        ({"board_id": board["id"]}, None, "image", 1, 400),
        ({**good, "image_base64": "!!!notbase64"}, None, "image_base64", 1, 400),
        (
            {**good, "image_base64": base64.b64encode(b"GIF89a not really").decode()},
            None,
            "image_base64",
            1,
            400,
        ),
        ({"board_id": board["id"]}, {"image": ("x.txt", b"hello", "text/plain")}, "image", 1, 400),
        ({**good, "title": "t" * 101}, None, "title", 1, 400),
        ({**good, "description": "d" * 501}, None, "description", 1, 400),
        ({**good, "alt_text": "a" * 501}, None, "alt_text", 1, 400),
        ({**good, "source_url": "javascript:alert(1)"}, None, "source_url", 1, 400),
        ({**good, "image_url": "ftp://x/y.png", "image_base64": None}, None, "image_url", 1, 400),
        ({**good, "section": foreign_section}, None, "Board section", 2031, 404),
        ({**good, "board_id": "424242"}, None, "Board", 40, 404),
        ({**good, "carousel_data_json": "{not json"}, None, "carousel_data_json", 1, 400),
    ]
    for data, files, needle, code, status in cases:
        sent = {k: v for k, v in data.items() if v is not None}
        r = await client.put("/v3/pins/", data=sent, files=files, headers=bearer(token))
        assert r.status_code == status, (needle, r.text)
        assert r.json()["code"] == code, (needle, r.text)
        assert needle in r.json()["message"], (needle, r.text)
    assert await count(runtime, Pin) == 0
    assert (await row(runtime, User, user.id)).pin_count == 0


async def test_oversized_upload_is_refused(
    client: httpx.AsyncClient, factory: Factory, runtime: Runtime
) -> None:
    _, token, board = await setup(client, factory)
    big = b"\x89PNG" + b"\0" * (20 * 1024 * 1024)
    r = await client.put(
        "/v3/pins/",
        data={"board_id": board["id"]},
        files={"image": ("big.png", big, "image/png")},
        headers=bearer(token),
    )
    assert r.status_code == 400 and r.json()["code"] == 1
    assert "image" in r.json()["message"] and "20 MB" in r.json()["message"]
    assert await count(runtime, Pin) == 0


async def test_create_pin_scope_and_foreign_boards(
    client: httpx.AsyncClient, factory: Factory, runtime: Runtime
) -> None:
    _, token, board = await setup(client, factory)
    stranger = await factory.user()
    t_stranger = await factory.token(stranger, ALL)
    secret = await make_board(client, token, "Secret", privacy="secret")
    img = base64.b64encode(png()).decode()
    r = await client.put(
        "/v3/pins/", data={"board_id": board["id"], "image_base64": img}, headers=bearer(t_stranger)
    )
    assert r.status_code == 401 and r.json()["code"] == 7
    r = await client.put(
        "/v3/pins/", data={"board_id": secret["id"], "image_base64": img}, headers=bearer(t_stranger)
    )
    assert r.status_code == 404 and r.json()["code"] == 40
    t_read = await factory.token(stranger, "read_organic")
    r = await client.put(
        "/v3/pins/", data={"board_id": board["id"], "image_base64": img}, headers=bearer(t_read)
    )
    assert r.status_code == 401 and r.json()["code"] == 3 and "write_pins" in r.json()["message"]
    assert await count(runtime, Pin) == 0


class _Recorder(httpx.AsyncBaseTransport):
    def __init__(self) -> None:
        self.requests: list[httpx.Request] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return httpx.Response(200, content=png())


async def test_disallowed_host_is_never_fetched(
    client: httpx.AsyncClient, factory: Factory, runtime: Runtime
) -> None:
    recorder = _Recorder()
    runtime.extras["http_transport"] = recorder
    _, token, board = await setup(client, factory)
    url = "http://images.example.com/cat.jpg"
    r = await client.put("/v3/pins/", data={"board_id": board["id"], "image_url": url}, headers=bearer(token))
    assert r.status_code == 200, r.text
    assert recorder.requests == []
    data = r.json()["data"]
    assert data["image_large_url"] == url and data["image_square_url"] == url
    assert data["image_large_size_pixels"] == {"width": None, "height": None}
    assert data["dominant_color"] is None
    pin = await row(runtime, Pin, int(data["id"]))
    assert pin.image_id is None and pin.image_url == url
    got = await client.get(f"/v3/pins/{data['id']}/", headers=bearer(token))
    assert got.json()["data"]["image_medium_url"] == url
    # an allowed host does go through the (mock) transport
    r = await client.put(
        "/v3/pins/",
        data={"board_id": board["id"], "image_url": "http://127.0.0.1:1/p.png"},
        headers=bearer(token),
    )
    assert r.status_code == 200 and [str(q.url) for q in recorder.requests] == ["http://127.0.0.1:1/p.png"]
    assert r.json()["data"]["image_large_size_pixels"] == {"width": 600, "height": 750}


@pytest.fixture
def image_server() -> Iterator[str]:
    """A loopback HTTP server serving one PNG at /ok.png and a non-image at /text."""
    body = png((0, 200, 100), (640, 480))

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if self.path == "/ok.png":
                payload, ctype, status = body, "image/png", 200
            elif self.path == "/text":
                payload, ctype, status = b"not an image", "text/plain", 200
            else:
                payload, ctype, status = b"", "text/plain", 404
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, format: str, *args: Any) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


async def test_loopback_image_url_is_fetched(
    client: httpx.AsyncClient, factory: Factory, runtime: Runtime, image_server: str
) -> None:
    _, token, board = await setup(client, factory)
    started = time.monotonic()
    r = await client.put(
        "/v3/pins/",
        data={"board_id": board["id"], "image_url": f"{image_server}/ok.png"},
        headers=bearer(token),
    )
    assert time.monotonic() - started < 10
    assert r.status_code == 200, r.text
    data = r.json()["data"]
    assert data["dominant_color"] == "#00c864"
    assert data["image_large_size_pixels"] == {"width": 600, "height": 450}
    assert data["image_large_url"].startswith("http://testserver/media/images/")
    image = await row(runtime, Image, (await row(runtime, Pin, int(data["id"]))).image_id)
    assert image.source_url == f"{image_server}/ok.png"
    for path, needle in (("/text", "not an image"), ("/missing", "HTTP 404")):
        r = await client.put(
            "/v3/pins/",
            data={"board_id": board["id"], "image_url": f"{image_server}{path}"},
            headers=bearer(token),
        )
        assert r.status_code == 400 and r.json()["code"] == 1
        assert "image_url" in r.json()["message"] and needle in r.json()["message"]
    assert await count(runtime, Pin) == 1


async def test_get_pin_and_privacy(client: httpx.AsyncClient, factory: Factory) -> None:
    _, token, board = await setup(client, factory)
    secret = await make_board(client, token, "Secret", privacy="secret")
    public_pin = await make_pin(client, token, board["id"])
    secret_pin = await make_pin(client, token, secret["id"])
    stranger = await factory.user()
    t_stranger = await factory.token(stranger, ALL)
    r = await client.get(f"/v3/pins/{public_pin['id']}/", headers=bearer(t_stranger))
    assert r.status_code == 200 and r.json()["endpoint_name"] == "v3_get_pin"
    assert (
        r.json()["data"] == {**public_pin, "access": r.json()["data"].get("access")} or r.json()["data"]["id"]
    )
    assert "access" not in r.json()["data"]
    r = await client.get(f"/v3/pins/{secret_pin['id']}/", headers=bearer(t_stranger))
    assert r.status_code == 404 and r.json()["code"] == 50
    no_secret = await factory.token(stranger, "read_organic")
    owner_no_secret_pins = await factory.token(await factory.user(), "read_pins")
    r = await client.get(f"/v3/pins/{secret_pin['id']}/", headers=bearer(token))
    assert r.status_code == 200
    for bad in ("nope", "123", "99999999999999999999", "9999999999999999999", "²"):
        r = await client.get(f"/v3/pins/{bad}/", headers=bearer(no_secret))
        assert r.status_code == 404 and r.json()["code"] == 50
    r = await client.get(
        f"/v3/pins/{public_pin['id']}/", headers=bearer(await factory.token(stranger, "read_boards"))
    )
    assert r.status_code == 401 and r.json()["code"] == 3
    r = await client.get(f"/v3/pins/{public_pin['id']}/", headers=bearer(owner_no_secret_pins))
    assert r.status_code == 200


async def test_owner_needs_read_secret_pins(client: httpx.AsyncClient, factory: Factory) -> None:
    user, token, _ = await setup(client, factory)
    secret = await make_board(client, token, "Secret", privacy="secret")
    pin = await make_pin(client, token, secret["id"])
    only_boards = await factory.token(user, "read_organic,read_secret_boards")
    r = await client.get(f"/v3/pins/{pin['id']}/", headers=bearer(only_boards))
    assert r.status_code == 404 and r.json()["code"] == 50


async def test_save_pin_repins_and_counts_the_root(
    client: httpx.AsyncClient, factory: Factory, runtime: Runtime
) -> None:
    _alice, ta, a_board = await setup(client, factory)
    bob, tb, b_board = await setup(client, factory)
    _carol, tc, c_board = await setup(client, factory)
    root = await make_pin(client, ta, a_board["id"], source_url="https://shop.example.org/item")
    r = await client.post(
        f"/v3/partners/pins/{root['id']}/save/", data={"board_id": b_board["id"]}, headers=bearer(tb)
    )
    assert r.status_code == 200, r.text
    assert r.json()["endpoint_name"] == "v3_partner_save_handler"
    first = r.json()["data"]
    assert first["is_repin"] is True and first["parent_pin"] == {"id": root["id"]}
    assert first["board"] == {"id": b_board["id"]}
    assert first["link"] == root["link"] and first["image_large_url"] == root["image_large_url"]
    assert first["aggregated_pin_data"] == root["aggregated_pin_data"]
    r = await client.post(
        f"/v3/partners/pins/{first['id']}/save/", json={"board_id": c_board["id"]}, headers=bearer(tc)
    )
    assert r.status_code == 200, r.text
    second = r.json()["data"]
    assert second["parent_pin"] == {"id": first["id"]}
    assert second["aggregated_pin_data"] == root["aggregated_pin_data"]
    assert (await row(runtime, Pin, int(root["id"]))).repin_count == 2
    assert (await row(runtime, Pin, int(first["id"]))).repin_count == 0
    assert (await row(runtime, Pin, int(second["id"]))).root_pin_id == int(root["id"])
    agg = await row(runtime, AggregatedPinData, int(root["aggregated_pin_data"]["id"]))
    assert agg.save_count == 2
    assert (await row(runtime, User, bob.id)).pin_count == 1
    assert (await row(runtime, Board, int(c_board["id"]))).pin_count == 1
    got = await client.get(f"/v3/pins/{root['id']}/", headers=bearer(ta))
    assert got.json()["data"]["repin_count"] == 2
    # deleting a repin gives the root its count back
    r = await client.delete(f"/v3/pins/{second['id']}/", headers=bearer(tc))
    assert r.status_code == 200
    assert (await row(runtime, Pin, int(root["id"]))).repin_count == 1
    assert (await row(runtime, AggregatedPinData, agg.id)).save_count == 1


async def test_save_pin_bad_input_and_forbidden(
    client: httpx.AsyncClient, factory: Factory, runtime: Runtime
) -> None:
    _, ta, a_board = await setup(client, factory)
    _, tb, b_board = await setup(client, factory)
    secret = await make_board(client, ta, "Secret", privacy="secret")
    pin = await make_pin(client, ta, a_board["id"])
    hidden = await make_pin(client, ta, secret["id"])
    url = f"/v3/partners/pins/{pin['id']}/save/"
    r = await client.post(url, data={}, headers=bearer(tb))
    assert r.status_code == 400 and r.json()["code"] == 1 and "board_id" in r.json()["message"]
    r = await client.post(url, data={"board_id": "x1"}, headers=bearer(tb))
    assert r.status_code == 400 and "board_id" in r.json()["message"]
    r = await client.post(url, data={"board_id": a_board["id"]}, headers=bearer(tb))
    assert r.status_code == 401 and r.json()["code"] == 7
    r = await client.post(
        f"/v3/partners/pins/{hidden['id']}/save/", data={"board_id": b_board["id"]}, headers=bearer(tb)
    )
    assert r.status_code == 404 and r.json()["code"] == 50
    r = await client.post("/v3/partners/pins/77/save/", data={"board_id": b_board["id"]}, headers=bearer(tb))
    assert r.status_code == 404 and r.json()["code"] == 50
    r = await client.post(url, data={"board_id": b_board["id"], "board_section_id": "5"}, headers=bearer(tb))
    assert r.status_code == 404 and r.json()["code"] == 2031
    t_read = await factory.token(await factory.user(), "read_organic")
    r = await client.post(url, data={"board_id": b_board["id"]}, headers=bearer(t_read))
    assert r.status_code == 401 and "write_pins" in r.json()["message"]
    assert (await row(runtime, Pin, int(pin["id"]))).repin_count == 0
    assert await count(runtime, Pin) == 2


async def test_delete_pin(client: httpx.AsyncClient, factory: Factory, runtime: Runtime) -> None:
    user, token, board = await setup(client, factory)
    r = await client.put(f"/v3/board/{board['id']}/sections/", data={"title": "S"}, headers=bearer(token))
    section_id = r.json()["data"]["id"]
    pin = await make_pin(client, token, board["id"], section=section_id)
    keep = await make_pin(client, token, board["id"])
    stranger = await factory.user()
    r = await client.delete(f"/v3/pins/{pin['id']}/", headers=bearer(await factory.token(stranger, ALL)))
    assert r.status_code == 401 and r.json()["code"] == 7
    r = await client.delete(f"/v3/pins/{pin['id']}/", headers=bearer(await factory.token(user, "read_pins")))
    assert r.status_code == 401 and r.json()["code"] == 3
    r = await client.delete(f"/v3/pins/{pin['id']}/", headers=bearer(token))
    assert r.status_code == 200 and r.json()["endpoint_name"] == "v3_delete_pin_handler"
    assert r.json()["data"] is None
    assert await row(runtime, Pin, int(pin["id"])) is None
    assert await row(runtime, AggregatedPinData, int(pin["aggregated_pin_data"]["id"])) is None
    assert (await row(runtime, Board, int(board["id"]))).pin_count == 1
    assert (await row(runtime, BoardSection, int(section_id))).pin_count == 0
    assert (await row(runtime, User, user.id)).pin_count == 1
    r = await client.delete(f"/v3/pins/{pin['id']}/", headers=bearer(token))
    assert r.status_code == 404 and r.json()["code"] == 50
    assert await row(runtime, Pin, int(keep["id"])) is not None


async def test_carousel_upload_and_pin(client: httpx.AsyncClient, factory: Factory, runtime: Runtime) -> None:
    _, token, board = await setup(client, factory)
    colors = [(255, 0, 0), (0, 255, 0), (0, 0, 255)]
    r = await client.put(
        "/v3/pincarousel/images/upload/",
        data={"images_base64": ",".join(base64.b64encode(png(c, (500, 500))).decode() for c in colors)},
        headers=bearer(token),
    )
    assert r.status_code == 200, r.text
    assert r.json()["endpoint_name"] == "v3_upload_pin_carousel_images"
    uploads = r.json()["data"]
    assert len(uploads) == 3 and all(len(u["image_signature"]) == 32 for u in uploads)
    slots = [{"image_signature": u["image_signature"], "title": f"Slot {i}"} for i, u in enumerate(uploads)]
    r = await client.put(
        "/v3/pins/",
        data={"board_id": board["id"], "carousel_data_json": json.dumps({"carousel_slots": slots})},
        headers=bearer(token),
    )
    assert r.status_code == 200, r.text
    data = r.json()["data"]
    assert data["native_format_type"] == "CAROUSEL"
    assert data["dominant_color"] == "#ff0000"
    assert [s["title"] for s in data["carousel_data"]["carousel_slots"]] == ["Slot 0", "Slot 1", "Slot 2"]
    assert data["carousel_data"]["carousel_slots"][1]["images"]["medium"]["width"] == 400
    for n in (1, 6):
        body = json.dumps([{"image_signature": uploads[0]["image_signature"]}] * n)
        r = await client.put(
            "/v3/pins/", data={"board_id": board["id"], "carousel_data_json": body}, headers=bearer(token)
        )
        assert r.status_code == 400 and r.json()["code"] == 2380, r.text
    r = await client.put(
        "/v3/pins/",
        data={"board_id": board["id"], "carousel_data_json": json.dumps([{"image_signature": "0" * 32}] * 2)},
        headers=bearer(token),
    )
    assert r.status_code == 400 and "carousel_data_json" in r.json()["message"]
    r = await client.put("/v3/pincarousel/images/upload/", data={}, headers=bearer(token))
    assert r.status_code == 400 and "images" in r.json()["message"]
    r = await client.put(
        "/v3/pincarousel/images/upload/", data={"images_base64": "bm9wZQ=="}, headers=bearer(token)
    )
    assert r.status_code == 400 and "images_base64" in r.json()["message"]
    r = await client.put(
        "/v3/pincarousel/images/upload/",
        data={"images_base64": base64.b64encode(png()).decode()},
        headers=bearer(await factory.token(await factory.user(), "read_organic")),
    )
    assert r.status_code == 401 and r.json()["code"] == 3
    assert await count(runtime, Pin) == 1


async def test_concurrent_pin_creations_keep_counts_exact(
    client: httpx.AsyncClient, factory: Factory, runtime: Runtime
) -> None:
    user, token, board = await setup(client, factory)
    r = await client.put(f"/v3/board/{board['id']}/sections/", data={"title": "S"}, headers=bearer(token))
    section_id = r.json()["data"]["id"]
    encoded = base64.b64encode(png((1, 2, 3), (120, 120))).decode()

    async def one(i: int) -> int:
        r = await client.put(
            "/v3/pins/",
            data={"board_id": board["id"], "image_base64": encoded, "title": f"p{i}", "section": section_id},
            headers=bearer(token),
        )
        return r.status_code

    statuses = await asyncio.gather(*(one(i) for i in range(20)))
    assert statuses == [200] * 20
    assert (await row(runtime, Board, int(board["id"]))).pin_count == 20
    assert (await row(runtime, BoardSection, int(section_id))).pin_count == 20
    assert (await row(runtime, User, user.id)).pin_count == 20
    assert await count(runtime, Pin, Pin.board_id == int(board["id"])) == 20
    assert await count(runtime, AggregatedPinData) == 20


async def test_signed_client_sees_public_pins_only(client: httpx.AsyncClient, factory: Factory) -> None:
    _, token, board = await setup(client, factory)
    secret = await make_board(client, token, "Secret", privacy="secret")
    public_pin = await make_pin(client, token, board["id"])
    secret_pin = await make_pin(client, token, secret["id"])
    app = await factory.app()
    path = f"/v3/pins/{public_pin['id']}/"
    r = await client.get(path, params=signed_query(app, path, timestamp=now_ms()))
    assert r.status_code == 200, r.text
    data = r.json()["data"]
    assert data["id"] == public_pin["id"] and data["image_large_url"] == public_pin["image_large_url"]
    assert not {"board", "parent_pin", "pinned_to_board", "owner", "aggregated_pin_data"} & set(data)
    path = f"/v3/pins/{secret_pin['id']}/"
    r = await client.get(path, params=signed_query(app, path, timestamp=now_ms()))
    assert r.status_code == 404 and r.json()["code"] == 50


async def test_image_route_serves_only_stored_variants(client: httpx.AsyncClient, factory: Factory) -> None:
    _, token, board = await setup(client, factory)
    pin = await make_pin(client, token, board["id"])
    image_path = pin["image_square_url"].removeprefix("http://testserver")
    image_id = image_path.split("/")[3]
    r = await client.get(f"/media/images/{image_id}/original.png")
    assert r.status_code == 200 and r.content == png()
    for bad in (
        f"/media/images/{image_id}/secret.key",
        "/media/images/1/90x90.jpg",
        "/media/images/x/90x90.jpg",
    ):
        r = await client.get(bad)
        assert r.status_code == 404, bad
    r = await client.get(f"/media/images/{image_id}/..%2F..%2Fsecret.key")
    assert r.status_code == 404


async def _organic_hours(
    runtime: Runtime, pin_id: int, rows: list[tuple[datetime, int, int, int, int]]
) -> None:
    async with runtime.sessions() as s, s.begin():
        for hour, imp, save, close, click in rows:
            s.add(
                OrganicPinHour(
                    pin_id=pin_id, hour=hour, impression=imp, save=save, closeup=close, clickthrough=click
                )
            )


async def test_owner_sees_pin_stats_from_the_organic_facts(
    client: httpx.AsyncClient, factory: Factory, runtime: Runtime
) -> None:
    # The clock is 2026-11-02 12:00 UTC: 24h = [11-01 12:00, 11-02 12:00); 7d and 30d are
    # the whole UTC days before 11-02 00:00.
    _, token, board = await setup(client, factory)
    pin = await make_pin(client, token, board["id"])
    quiet = await make_pin(client, token, board["id"])
    await _organic_hours(
        runtime,
        int(pin["id"]),
        [
            (datetime(2026, 11, 2, 8, tzinfo=UTC), 7, 1, 2, 0),  # 24h only (today)
            (datetime(2026, 11, 2, 12, tzinfo=UTC), 500, 5, 5, 5),  # the running hour: in no window
            (datetime(2026, 11, 1, 12, tzinfo=UTC), 30, 0, 3, 1),  # 24h and 7d
            (datetime(2026, 11, 1, 11, tzinfo=UTC), 10, 1, 0, 0),  # 7d
            (datetime(2026, 10, 20, 5, tzinfo=UTC), 100, 4, 10, 2),  # 30d
            (datetime(2026, 10, 2, 23, tzinfo=UTC), 1000, 9, 9, 9),  # older than 30 days
        ],
    )
    r = await client.get(f"/v3/pins/{pin['id']}/", headers=bearer(token))
    assert r.status_code == 200, r.text
    assert r.json()["data"]["pin_stats"] == {
        "type": "root",
        "24h": {
            "last_updated": "Mon, 02 November 2026 12:00:00 +0000",
            "impression": 37,
            "save": 1,
            "closeup": 5,
            "clickthrough": 1,
        },
        "7d": {
            "last_updated": "Mon, 02 November 2026 00:00:00 +0000",
            "impression": 40,
            "save": 1,
            "closeup": 3,
            "clickthrough": 1,
        },
        "30d": {
            "last_updated": "Mon, 02 November 2026 00:00:00 +0000",
            "impression": 140,
            "save": 5,
            "closeup": 13,
            "clickthrough": 3,
        },
    }
    # A pin without activity in the window shows null, as v3 does.
    r = await client.get(f"/v3/pins/{quiet['id']}/", headers=bearer(token))
    assert r.status_code == 200 and r.json()["data"]["pin_stats"] is None


async def test_pin_stats_are_the_owners_only(
    client: httpx.AsyncClient, factory: Factory, runtime: Runtime
) -> None:
    user, token, board = await setup(client, factory)
    pin = await make_pin(client, token, board["id"])
    await _organic_hours(runtime, int(pin["id"]), [(datetime(2026, 11, 1, 12, tzinfo=UTC), 30, 1, 1, 1)])
    stranger = await factory.user()
    t_stranger = await factory.token(stranger, ALL)
    r = await client.get(f"/v3/pins/{pin['id']}/", headers=bearer(t_stranger))
    assert r.status_code == 200 and r.json()["data"]["pin_stats"] is None
    # The stranger's own save of the pin: no stats on repins, even for their owner.
    stranger_board = await make_board(client, t_stranger, "Saved")
    saved = await client.post(
        f"/v3/partners/pins/{pin['id']}/save/",
        data={"board_id": stranger_board["id"]},
        headers=bearer(t_stranger),
    )
    assert saved.status_code == 200, saved.text
    repin_id = saved.json()["data"]["id"]
    await _organic_hours(runtime, int(repin_id), [(datetime(2026, 11, 1, 12, tzinfo=UTC), 9, 1, 1, 1)])
    r = await client.get(f"/v3/pins/{repin_id}/", headers=bearer(t_stranger))
    assert r.status_code == 200 and r.json()["data"]["pin_stats"] is None
    # Client-authorized reads carry no owner fields at all.
    app = await factory.app()
    path = f"/v3/pins/{pin['id']}/"
    r = await client.get(path, params=signed_query(app, path, timestamp=now_ms()))
    assert r.status_code == 200 and "pin_stats" not in r.json()["data"]
    # Without read_pins the owner gets no pin at all.
    r = await client.get(path, headers=bearer(await factory.token(user, "read_boards")))
    assert r.status_code == 401 and r.json()["code"] == 3
    # The owner does see them.
    r = await client.get(path, headers=bearer(token))
    assert r.json()["data"]["pin_stats"]["24h"]["impression"] == 30


async def test_repeated_pin_reads_follow_the_store_the_clock_and_the_caller(
    client: httpx.AsyncClient, factory: Factory, runtime: Runtime, clock: Any
) -> None:
    # A read whose row equals an earlier one reuses what that read built, so every change
    # that matters must reach the row: new facts, a new clock hour, another caller.
    _, token, _board = await setup(client, factory)
    secret = await make_board(client, token, "Hidden", privacy="secret")
    pin = await make_pin(client, token, secret["id"])
    path = f"/v3/pins/{pin['id']}/"
    first = await client.get(path, headers=bearer(token))
    again = await client.get(path, headers=bearer(token))
    assert first.status_code == again.status_code == 200
    assert first.json()["data"] == again.json()["data"] and again.json()["data"]["pin_stats"] is None
    # The owner's read was kept; a stranger reading the same pin is still refused.
    stranger = await factory.token(await factory.user(), ALL)
    r = await client.get(path, headers=bearer(stranger))
    assert r.status_code == 404 and r.json()["code"] == 50
    # New facts for a past hour show on the next read.
    await _organic_hours(runtime, int(pin["id"]), [(datetime(2026, 11, 2, 10, tzinfo=UTC), 4, 1, 1, 0)])
    r = await client.get(path, headers=bearer(token))
    stats = r.json()["data"]["pin_stats"]
    assert stats["24h"]["impression"] == 4 and stats["24h"]["last_updated"].endswith(" 12:00:00 +0000")
    # The next clock hour moves the windows (and their last_updated) on an unchanged row.
    clock.advance(timedelta(hours=1))
    r = await client.get(path, headers=bearer(token))
    assert r.json()["data"]["pin_stats"]["24h"]["last_updated"].endswith(" 13:00:00 +0000")
    # An edit shows at once.
    async with runtime.sessions() as s, s.begin():
        stored = await s.get(Pin, int(pin["id"]))
        assert stored is not None
        stored.title = "Edited"
    r = await client.get(path, headers=bearer(token))
    assert r.json()["data"]["title"] == "Edited"
    assert {k: v for k, v in r.json()["data"].items() if k not in ("title", "pin_stats")} == {
        k: v for k, v in first.json()["data"].items() if k not in ("title", "pin_stats")
    }
