from __future__ import annotations

import base64
import io
from dataclasses import dataclass

import httpx
import pytest
from PIL import Image as PILImage

from pinapi.runtime import Runtime
from pinapi.store.tables import Advertiser, Board, Pin, User
from tests.factories import Factory, bearer

ORGANIC = "read_boards,write_boards,read_pins,write_pins,read_secret_boards,read_secret_pins"


@dataclass
class Team:
    owner: User
    advertiser: Advertiser
    owner_token: str
    manager_token: str  # CAMPAIGN_MANAGER
    analyst_token: str  # ANALYST
    stranger_token: str
    boards: dict[str, str]  # privacy -> board id
    pins: dict[str, str]  # privacy -> pin id


async def _board(client: httpx.AsyncClient, token: str, name: str, privacy: str) -> str:
    r = await client.put("/v3/boards/", data={"name": name, "privacy": privacy}, headers=bearer(token))
    assert r.status_code == 200, r.text
    return str(r.json()["data"]["id"])


async def _pin(client: httpx.AsyncClient, token: str, board: str, title: str) -> str:
    r = await client.put(
        "/v3/pins/",
        data={
            "board_id": board,
            "title": title,
            "description": f"{title} for the season",
            "image_url": "https://img.example.com/x.jpg",
            "source_url": "https://shop.example.com/item",
        },
        headers=bearer(token),
    )
    assert r.status_code == 200, r.text
    return str(r.json()["data"]["id"])


@pytest.fixture
async def team(client: httpx.AsyncClient, factory: Factory) -> Team:
    owner = await factory.user("brand", business=True)
    adv = await factory.advertiser(owner)
    manager = await factory.user("manager")
    analyst = await factory.user("analyst")
    await factory.share(adv, manager, "CAMPAIGN_MANAGER")
    await factory.share(adv, analyst, "ANALYST")
    owner_token = await factory.token(owner, ORGANIC)
    boards = {
        p: await _board(client, owner_token, f"{p} board", p) for p in ("public", "protected", "secret")
    }
    pins = {p: await _pin(client, owner_token, boards[p], f"{p} boots") for p in boards}
    return Team(
        owner,
        adv,
        owner_token,
        await factory.token(manager, ORGANIC),
        await factory.token(analyst, ORGANIC),
        await factory.token(await factory.user("stranger"), ORGANIC),
        boards,
        pins,
    )


async def test_advertiser_boards_list_and_create(
    client: httpx.AsyncClient, team: Team, runtime: Runtime, factory: Factory
) -> None:
    url = f"/ads/v3/advertisers/{team.advertiser.id}/boards/"
    r = await client.get(url, headers=bearer(team.analyst_token))
    assert r.status_code == 200, r.text
    assert r.json()["endpoint_name"] == "ads_v3_get_advertiser_boards_handler"
    assert [b["id"] for b in r.json()["data"]] == [team.boards["public"], team.boards["protected"]]
    r = await client.get(url, headers=bearer(team.owner_token))
    assert len(r.json()["data"]) == 3

    r = await client.post(
        url, data={"name": "Team picks", "privacy": "protected"}, headers=bearer(team.manager_token)
    )
    assert r.status_code == 200, r.text
    created = r.json()["data"]
    async with runtime.sessions() as s:
        board = await s.get(Board, int(created["id"]))
        assert board is not None and board.owner_id == team.owner.id and board.privacy == "protected"
    r = await client.post(url, data={"name": "Loud", "privacy": "public"}, headers=bearer(team.manager_token))
    assert r.status_code == 403 and r.json()["code"] == 1902  # no PUBLIC_BOARD_CREATE
    r = await client.post(url, data={"name": "Nope"}, headers=bearer(team.analyst_token))
    assert r.status_code == 403 and r.json()["code"] == 1902
    r = await client.post(url, data={"privacy": "protected"}, headers=bearer(team.owner_token))
    assert r.status_code == 400 and "'name'" in r.json()["message"]
    r = await client.post(url, data={"name": "x", "privacy": "open"}, headers=bearer(team.owner_token))
    assert r.status_code == 400 and "'privacy'" in r.json()["message"]
    r = await client.get(url, headers=bearer(team.stranger_token))
    assert r.status_code == 403 and r.json()["code"] == 1902
    r = await client.get(url, headers=bearer(await factory.token(team.owner, "read_pins")))
    assert r.status_code == 401 and r.json()["code"] == 3


async def test_update_cover_and_delete_board(client: httpx.AsyncClient, team: Team, runtime: Runtime) -> None:
    protected = team.boards["protected"]
    r = await client.put(
        f"/ads/v3/boards/{protected}/", data={"description": "Fall"}, headers=bearer(team.manager_token)
    )
    assert r.status_code == 200, r.text
    assert r.json()["endpoint_name"] == "ads_v3_update_board_handler"
    assert r.json()["data"]["description"] == "Fall"
    r = await client.put(
        f"/ads/v3/boards/{team.boards['public']}/",
        data={"description": "x"},
        headers=bearer(team.manager_token),
    )
    assert r.status_code == 403 and r.json()["code"] == 1902
    r = await client.put(
        f"/ads/v3/boards/{protected}/", data={"privacy": "secret"}, headers=bearer(team.manager_token)
    )
    assert r.status_code == 403 and r.json()["code"] == 1902
    r = await client.put(
        f"/ads/v3/boards/{protected}/", data={"category": "nope"}, headers=bearer(team.manager_token)
    )
    assert r.status_code == 400 and "'category'" in r.json()["message"]

    r = await client.put(
        f"/ads/v3/boards/{protected}/cover/",
        data={"pin_id": team.pins["protected"]},
        headers=bearer(team.manager_token),
    )
    assert r.status_code == 200 and r.json()["data"]["cover_pin_id"] == team.pins["protected"]
    r = await client.put(
        f"/ads/v3/boards/{protected}/cover/",
        data={"pin_id": team.pins["public"]},
        headers=bearer(team.manager_token),
    )
    assert r.status_code == 400 and "'pin_id'" in r.json()["message"]

    r = await client.delete(f"/ads/v3/boards/{protected}/", headers=bearer(team.analyst_token))
    assert r.status_code == 403 and r.json()["code"] == 1902
    r = await client.delete(f"/ads/v3/boards/{protected}/", headers=bearer(team.stranger_token))
    assert r.status_code == 404 and r.json()["code"] == 40
    r = await client.delete(f"/ads/v3/boards/{protected}/", headers=bearer(team.manager_token))
    assert r.status_code == 200, r.text
    async with runtime.sessions() as s:
        assert await s.get(Board, int(protected)) is None
        assert await s.get(Pin, int(team.pins["protected"])) is None


async def test_board_pins_list_and_create(client: httpx.AsyncClient, team: Team, runtime: Runtime) -> None:
    protected = team.boards["protected"]
    r = await client.post(
        f"/ads/v3/boards/{protected}/pins/",
        data={
            "title": "Team pin",
            "image_url": "https://img.example.com/t.jpg",
            "board_id": team.boards["public"],
        },
        headers=bearer(team.manager_token),
    )
    assert r.status_code == 200, r.text
    created = r.json()["data"]
    async with runtime.sessions() as s:
        pin = await s.get(Pin, int(created["id"]))
        assert pin is not None and pin.board_id == int(protected) and pin.owner_id == team.owner.id
    r = await client.get(f"/ads/v3/boards/{protected}/pins/", headers=bearer(team.analyst_token))
    assert r.status_code == 200
    assert [p["id"] for p in r.json()["data"]] == [created["id"], team.pins["protected"]]
    r = await client.get(f"/ads/v3/boards/{team.boards['secret']}/pins/", headers=bearer(team.analyst_token))
    assert r.status_code == 403 and r.json()["code"] == 1902
    r = await client.post(
        f"/ads/v3/boards/{protected}/pins/", data={"title": "no image"}, headers=bearer(team.manager_token)
    )
    assert r.status_code == 400 and "'image'" in r.json()["message"]
    r = await client.post(
        f"/ads/v3/boards/{protected}/pins/",
        data={"image_url": "https://img.example.com/t.jpg"},
        headers=bearer(team.analyst_token),
    )
    assert r.status_code == 403 and r.json()["code"] == 1902
    r = await client.get("/ads/v3/boards/123/pins/", headers=bearer(team.owner_token))
    assert r.status_code == 404 and r.json()["code"] == 40


async def test_ads_pin_get_update_delete(client: httpx.AsyncClient, team: Team, runtime: Runtime) -> None:
    public = team.pins["public"]
    r = await client.get(f"/ads/v3/pins/{public}/", headers=bearer(team.analyst_token))
    assert r.status_code == 200, r.text
    assert r.json()["endpoint_name"] == "ads_v3_get_pin_handler" and r.json()["data"]["id"] == public
    r = await client.get(f"/ads/v3/pins/{team.pins['secret']}/", headers=bearer(team.analyst_token))
    assert r.status_code == 403 and r.json()["code"] == 1902
    r = await client.get(f"/ads/v3/pins/{public}/", headers=bearer(team.stranger_token))
    assert r.status_code == 404 and r.json()["code"] == 50

    r = await client.put(
        f"/ads/v3/pins/{public}/",
        data={"title": "New title", "link": "https://shop.example.com/new"},
        headers=bearer(team.manager_token),
    )
    assert r.status_code == 200, r.text
    assert r.json()["data"]["title"] == "New title"
    async with runtime.sessions() as s:
        pin = await s.get(Pin, int(public))
        assert (
            pin is not None
            and pin.link == "https://shop.example.com/new"
            and pin.domain == "shop.example.com"
        )
    r = await client.put(
        f"/ads/v3/pins/{public}/", data={"link": "not a url"}, headers=bearer(team.manager_token)
    )
    assert r.status_code == 400 and "'source_url'" in r.json()["message"]
    r = await client.put(f"/ads/v3/pins/{public}/", data={"title": "x"}, headers=bearer(team.analyst_token))
    assert r.status_code == 403 and r.json()["code"] == 1902

    r = await client.delete(f"/ads/v3/pins/{public}/", headers=bearer(team.manager_token))
    assert r.status_code == 200
    async with runtime.sessions() as s:
        assert await s.get(Pin, int(public)) is None
    r = await client.get(f"/ads/v3/pins/{public}/", headers=bearer(team.owner_token))
    assert r.status_code == 404 and r.json()["code"] == 50


async def test_advertiser_pins_and_search(client: httpx.AsyncClient, team: Team) -> None:
    base = f"/ads/v3/advertisers/{team.advertiser.id}/pins/"
    r = await client.get(base, headers=bearer(team.analyst_token))
    assert r.status_code == 200, r.text
    assert [p["id"] for p in r.json()["data"]] == [team.pins["protected"], team.pins["public"]]
    r = await client.get(base + "?page_size=1", headers=bearer(team.owner_token))
    assert len(r.json()["data"]) == 1 and r.json()["bookmark"]
    r = await client.get(base + "search/?query=PUBLIC%20boots", headers=bearer(team.analyst_token))
    assert r.status_code == 200 and [p["id"] for p in r.json()["data"]] == [team.pins["public"]]
    assert r.json()["endpoint_name"] == "ads_v3_search_advertiser_pins_handler"
    r = await client.get(base + "search/?query=secret", headers=bearer(team.analyst_token))
    assert r.json()["data"] == []
    r = await client.get(base + "search/?query=secret", headers=bearer(team.owner_token))
    assert [p["id"] for p in r.json()["data"]] == [team.pins["secret"]]
    r = await client.get(base + "search/", headers=bearer(team.owner_token))
    assert r.status_code == 400 and "'query'" in r.json()["message"]
    r = await client.get(base, headers=bearer(team.stranger_token))
    assert r.status_code == 403 and r.json()["code"] == 1902


async def test_carousel_upload_for_advertiser(client: httpx.AsyncClient, team: Team) -> None:
    out = io.BytesIO()
    PILImage.new("RGB", (64, 64), (10, 20, 30)).save(out, format="PNG")
    b64 = base64.b64encode(out.getvalue()).decode()
    r = await client.put(
        "/ads/v3/pincarousel/images/upload/",
        data={"images_base64": b64, "advertiser_id": str(team.advertiser.id)},
        headers=bearer(team.manager_token),
    )
    assert r.status_code == 200, r.text
    data = r.json()["data"]
    assert len(data) == 1 and len(data[0]["image_signature"]) == 32
    r = await client.put(
        "/ads/v3/pincarousel/images/upload/", data={"images_base64": b64}, headers=bearer(team.manager_token)
    )
    assert r.status_code == 400 and "'advertiser_id'" in r.json()["message"]
    r = await client.put(
        "/ads/v3/pincarousel/images/upload/",
        data={"images_base64": b64, "advertiser_id": str(team.advertiser.id)},
        headers=bearer(team.analyst_token),
    )
    assert r.status_code == 403 and r.json()["code"] == 1902


async def test_ads_board_and_pin_routes_need_their_scopes(
    client: httpx.AsyncClient, team: Team, factory: Factory
) -> None:
    reader = await factory.token(team.owner, "read_boards,read_pins")
    writer = await factory.token(team.owner, "write_boards")
    board, pin = team.boards["public"], team.pins["public"]
    adv = team.advertiser.id
    for method, url, token, scope in (
        ("DELETE", f"/ads/v3/boards/{board}/", reader, "write_boards"),
        ("PUT", f"/ads/v3/boards/{board}/", reader, "write_boards"),
        ("PUT", f"/ads/v3/boards/{board}/cover/", reader, "write_boards"),
        ("GET", f"/ads/v3/boards/{board}/pins/", writer, "read_pins"),
        ("POST", f"/ads/v3/boards/{board}/pins/", reader, "write_pins"),
        ("GET", f"/ads/v3/pins/{pin}/", writer, "read_pins"),
        ("PUT", f"/ads/v3/pins/{pin}/", reader, "write_pins"),
        ("DELETE", f"/ads/v3/pins/{pin}/", reader, "write_pins"),
        ("PUT", "/ads/v3/pincarousel/images/upload/", reader, "write_pins"),
        ("GET", f"/ads/v3/advertisers/{adv}/boards/", writer, "read_boards"),
        ("POST", f"/ads/v3/advertisers/{adv}/boards/", reader, "write_boards"),
        ("GET", f"/ads/v3/advertisers/{adv}/pins/", writer, "read_pins"),
        ("GET", f"/ads/v3/advertisers/{adv}/pins/search/?query=x", writer, "read_pins"),
    ):
        r = await client.request(method, url, headers=bearer(token))
        assert (r.status_code, r.json()["code"]) == (401, 3), (method, url)
        assert scope in r.json()["message"], (method, url)
