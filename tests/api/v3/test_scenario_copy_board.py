"""Scenario: copy a user's board, with its sections and pins, to a second user through the API.

This is what the v3 quickstart's ``copy_board`` does: read the source board, its sections
and the pins of each (following bookmarks), then recreate them for the target user; images
are downloaded from pinapi's own image addresses and uploaded again as base64.
"""

from __future__ import annotations

import base64
import io
from typing import Any

import httpx
from PIL import Image as PILImage

from tests.factories import Factory, bearer


def _png(colour: tuple[int, int, int], size: tuple[int, int] = (300, 450)) -> str:
    out = io.BytesIO()
    PILImage.new("RGB", size, colour).save(out, format="PNG")
    return base64.b64encode(out.getvalue()).decode()


async def _ok(r: httpx.Response) -> Any:
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["status"] == "success"
    return body


async def _all_pages(client: httpx.AsyncClient, path: str, token: str, **params: Any) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    query: dict[str, Any] = {**params, "page_size": 2}
    for _ in range(50):
        body = await _ok(await client.get(path, params=query, headers=bearer(token)))
        items += body["data"]
        if "bookmark" not in body:
            return items
        query["bookmark"] = body["bookmark"]
    raise AssertionError("too many pages")


async def _make_source(client: httpx.AsyncClient, token: str) -> str:
    board = (
        await _ok(
            await client.put(
                "/v3/boards/",
                data={"name": "Garden Ideas", "description": "Plants and beds", "category": "gardening"},
                headers=bearer(token),
            )
        )
    )["data"]
    sections: dict[str, str] = {}
    for title in ("Vegetables", "Flowers"):
        made = await _ok(
            await client.put(
                f"/v3/board/{board['id']}/sections/", data={"title": title}, headers=bearer(token)
            )
        )
        sections[title] = made["data"]["id"]
    plan = [
        ("Raised bed layout", None, (120, 160, 60)),
        ("Compost corner", None, (90, 70, 40)),
        ("Tomato trellis", "Vegetables", (200, 40, 30)),
        ("Square foot carrots", "Vegetables", (230, 120, 20)),
        ("Bean teepee", "Vegetables", (60, 140, 60)),
        ("Dahlia border", "Flowers", (190, 50, 140)),
    ]
    for title, section, colour in plan:
        data = {
            "board_id": board["id"],
            "title": title,
            "description": f"{title} notes",
            "image_base64": _png(colour),
        }
        if section:
            data["section"] = sections[section]
        await _ok(await client.put("/v3/pins/", data=data, headers=bearer(token)))
    return str(board["id"])


async def _copy_pin(
    client: httpx.AsyncClient, token: str, pin: dict[str, Any], *, board_id: str, section_id: str | None
) -> None:
    image = await client.get(pin["image_large_url"].removeprefix("http://testserver"))
    assert image.status_code == 200 and image.headers["content-type"].startswith("image/")
    data = {
        "board_id": board_id,
        "title": pin["title"],
        "description": pin["description"],
        "image_base64": base64.b64encode(image.content).decode(),
    }
    if pin.get("link"):
        data["source_url"] = pin["link"]
    if section_id:
        data["section"] = section_id
    await _ok(await client.put("/v3/pins/", data=data, headers=bearer(token)))


async def test_copy_board_with_sections_and_pins_to_another_user(
    client: httpx.AsyncClient, factory: Factory
) -> None:
    alice = await factory.user("alice_gardens")
    bob = await factory.user("bob_copies")
    alice_token = await factory.token(alice, "read_organic,write_organic")
    source_id = await _make_source(client, alice_token)

    # Bob reads Alice's board through the API only.
    bob_token = await factory.token(bob, "read_organic,write_organic")
    source = (await _ok(await client.get(f"/v3/boards/{source_id}/", headers=bearer(bob_token))))["data"]
    assert source["name"] == "Garden Ideas" and source["pin_count"] == 6

    target = (
        await _ok(
            await client.put(
                "/v3/boards/",
                data={
                    "name": source["name"],
                    "description": source["description"],
                    "category": source["category"],
                },
                headers=bearer(bob_token),
            )
        )
    )["data"]
    # Pins outside sections (board pins skip sectioned pins by default).
    loose = await _all_pages(client, f"/v3/boards/{source_id}/pins/", bob_token)
    for pin in reversed(loose):
        if pin.get("type", "pin") == "pin" and not pin.get("board_section_id"):
            await _copy_pin(client, bob_token, pin, board_id=target["id"], section_id=None)
    # Each section and its pins.
    source_sections = await _all_pages(client, f"/v3/board/{source_id}/sections/", bob_token)
    assert sorted(s["title"] for s in source_sections) == ["Flowers", "Vegetables"]
    for section in source_sections:
        made = await _ok(
            await client.put(
                f"/v3/board/{target['id']}/sections/",
                data={"title": section["title"]},
                headers=bearer(bob_token),
            )
        )
        for pin in reversed(await _all_pages(client, f"/v3/board/sections/{section['id']}/pins/", bob_token)):
            await _copy_pin(client, bob_token, pin, board_id=target["id"], section_id=made["data"]["id"])

    # Bob's copy matches, section by section, with real images and exact counters.
    copy = (await _ok(await client.get(f"/v3/boards/{target['id']}/", headers=bearer(bob_token))))["data"]
    assert copy["owner"] == {"id": str(bob.id)} and copy["name"] == "Garden Ideas" and copy["pin_count"] == 6
    assert copy["description"] == "Plants and beds" and copy["category"] == "gardening"
    copied_sections = await _all_pages(client, f"/v3/board/{target['id']}/sections/", bob_token)
    by_title = {s["title"]: s for s in copied_sections}
    assert set(by_title) == {"Vegetables", "Flowers"}
    assert by_title["Vegetables"]["pin_count"] == 3 and by_title["Flowers"]["pin_count"] == 1
    veg = await _all_pages(client, f"/v3/board/sections/{by_title['Vegetables']['id']}/pins/", bob_token)
    original_veg = next(s for s in source_sections if s["title"] == "Vegetables")
    src_veg = await _all_pages(client, f"/v3/board/sections/{original_veg['id']}/pins/", bob_token)
    assert [p["title"] for p in veg] == [p["title"] for p in src_veg]
    assert veg[0]["image_large_size_pixels"] == src_veg[0]["image_large_size_pixels"]
    # The copy went through a JPEG variant, so its colour is near, not equal.
    copied, original = (int(p["dominant_color"][1:3], 16) for p in (veg[0], src_veg[0]))
    assert abs(copied - original) <= 4
    loose_copy = await _all_pages(client, f"/v3/boards/{target['id']}/pins/", bob_token)
    assert [p["title"] for p in loose_copy] == [p["title"] for p in loose]

    # Bob's profile shows the board and all six new pins; Alice's is unchanged.
    me = (await _ok(await client.get("/v3/users/me/", headers=bearer(bob_token))))["data"]
    assert me["pin_count"] == 6 and me["board_count"] == 1
    bob_pins = await _all_pages(client, "/v3/users/me/pins/", bob_token)
    assert len(bob_pins) == 6 and not any(p["is_repin"] for p in bob_pins)
    feed = await _all_pages(client, f"/v3/users/{bob.username}/boards/feed/", alice_token)
    assert [b["id"] for b in feed] == [target["id"]]
    found = await _all_pages(client, "/v3/search/user_pins/me/", bob_token, query="tomato")
    assert [p["title"] for p in found] == ["Tomato trellis"]
    alice_me = (await _ok(await client.get("/v3/users/me/", headers=bearer(alice_token))))["data"]
    assert alice_me["pin_count"] == 6 and alice_me["board_count"] == 1
