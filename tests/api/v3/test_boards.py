"""Boards through the API: create, read, update, delete, follow and board pins."""

from __future__ import annotations

import asyncio
import io
from typing import Any

import httpx
from PIL import Image as PILImage
from sqlalchemy import func, select

from pinapi.runtime import Runtime
from pinapi.store.tables import (
    AggregatedPinData,
    Board,
    BoardFollow,
    BoardSection,
    Pin,
    User,
)
from tests.api.v3.organic_rows import Rows
from tests.factories import Factory, bearer

ALL = "read_organic,write_organic,read_secret"


def png(color: tuple[int, int, int] = (10, 120, 200), size: tuple[int, int] = (800, 1000)) -> bytes:
    out = io.BytesIO()
    PILImage.new("RGB", size, color).save(out, format="PNG")
    return out.getvalue()


async def make_board(
    client: httpx.AsyncClient, token: str, name: str = "Recipes", **extra: Any
) -> dict[str, Any]:
    r = await client.put("/v3/boards/", data={"name": name, **extra}, headers=bearer(token))
    assert r.status_code == 200, r.text
    data: dict[str, Any] = r.json()["data"]
    return data


async def make_pin(client: httpx.AsyncClient, token: str, board_id: str, **extra: Any) -> dict[str, Any]:
    r = await client.put(
        "/v3/pins/",
        data={"board_id": board_id, "title": "A pin", **extra},
        files={"image": ("p.png", png(), "image/png")},
        headers=bearer(token),
    )
    assert r.status_code == 200, r.text
    data: dict[str, Any] = r.json()["data"]
    return data


async def count(runtime: Runtime, model: Any, *where: Any) -> int:
    async with runtime.sessions() as s:
        return int(await s.scalar(select(func.count()).select_from(model).where(*where)) or 0)


async def row(runtime: Runtime, model: Any, key: int) -> Any:
    async with runtime.sessions() as s:
        return await s.get(model, key)


async def test_create_board_returns_board_organic(
    client: httpx.AsyncClient, factory: Factory, runtime: Runtime
) -> None:
    user = await factory.user("cook")
    token = await factory.token(user, "write_boards")
    r = await client.put(
        "/v3/boards/",
        data={
            "name": "Summer Recipes",
            "description": "Cold soups",
            "category": "food_drink",
            "privacy": "protected",
        },
        headers=bearer(token),
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["endpoint_name"] == "v3_create_board"
    data = body["data"]
    assert data["name"] == "Summer Recipes"
    assert data["url"] == "/cook/summer-recipes/"
    assert data["description"] == "Cold soups"
    assert data["category"] == "food_drink"
    assert data["privacy"] == "protected"
    assert data["layout"] == "default"
    assert data["type"] == "board"
    assert data["pin_count"] == 0 and data["follower_count"] == 0
    assert data["owner"] == {"id": str(user.id)}
    assert data["created_at"] == "Mon, 02 Nov 2026 12:00:00 +0000"
    assert data["image_cover_url"] is None
    stored = await row(runtime, Board, int(data["id"]))
    assert stored.privacy == "protected" and stored.slug == "summer-recipes"
    assert (await row(runtime, User, user.id)).board_count == 1


async def test_create_board_bad_input(client: httpx.AsyncClient, factory: Factory, runtime: Runtime) -> None:
    user = await factory.user()
    token = await factory.token(user, "write_boards")
    cases = [
        ({}, "name", 1),
        ({"name": "   "}, "name", 96),
        ({"name": "x" * 181}, "name", 96),
        ({"name": "ok", "category": "cats"}, "category", 1),
        ({"name": "ok", "privacy": "hidden"}, "privacy", 1),
        ({"name": "ok", "layout": "grid"}, "layout", 1),
        ({"name": "ok", "initial_pins": "12,abc"}, "initial_pins", 1),
        ({"name": "ok", "description": "d" * 501}, "description", 1),
    ]
    for data, field, code in cases:
        r = await client.put("/v3/boards/", data=data, headers=bearer(token))
        assert r.status_code == 400, (data, r.text)
        body = r.json()
        assert body["code"] == code, (data, body)
        assert field in body["message"], (data, body)
    assert await count(runtime, Board) == 0
    assert (await row(runtime, User, user.id)).board_count == 0


async def test_duplicate_name_and_return_existing(
    client: httpx.AsyncClient, factory: Factory, runtime: Runtime
) -> None:
    user = await factory.user()
    token = await factory.token(user, "write_boards")
    first = await make_board(client, token, "Travel")
    r = await client.put("/v3/boards/", data={"name": "travel"}, headers=bearer(token))
    assert r.status_code == 400 and r.json()["code"] == 96
    again = await make_board(client, token, "Travel", return_existing="true")
    assert again["id"] == first["id"]
    assert await count(runtime, Board) == 1
    assert (await row(runtime, User, user.id)).board_count == 1


async def test_create_board_needs_write_boards(
    client: httpx.AsyncClient, factory: Factory, runtime: Runtime
) -> None:
    user = await factory.user()
    token = await factory.token(user, "read_boards")
    r = await client.put("/v3/boards/", data={"name": "x"}, headers=bearer(token))
    assert r.status_code == 401 and r.json()["code"] == 3
    assert "write_boards" in r.json()["message"]
    assert await count(runtime, Board) == 0


async def test_create_board_with_initial_pins(
    client: httpx.AsyncClient, factory: Factory, runtime: Runtime
) -> None:
    alice = await factory.user("alice")
    bob = await factory.user("bob")
    ta = await factory.token(alice, ALL)
    tb = await factory.token(bob, ALL)
    src = await make_board(client, ta, "Source")
    p1 = await make_pin(client, ta, src["id"])
    p2 = await make_pin(client, ta, src["id"])
    made = await make_board(client, tb, "Copies", initial_pins=f"{p1['id']},{p2['id']}")
    assert made["pin_count"] == 2
    r = await client.get(f"/v3/boards/{made['id']}/pins/", headers=bearer(tb))
    items = r.json()["data"]
    assert sorted(i["parent_pin"]["id"] for i in items) == sorted([p1["id"], p2["id"]])
    assert all(i["is_repin"] for i in items)
    assert (await row(runtime, Pin, int(p1["id"]))).repin_count == 1
    assert (await row(runtime, User, bob.id)).pin_count == 2


async def test_initial_pins_unknown_pin_rolls_back(
    client: httpx.AsyncClient, factory: Factory, runtime: Runtime
) -> None:
    user = await factory.user()
    token = await factory.token(user, ALL)
    r = await client.put("/v3/boards/", data={"name": "B", "initial_pins": "123456"}, headers=bearer(token))
    assert r.status_code == 404 and r.json()["code"] == 50
    assert await count(runtime, Board) == 0
    assert (await row(runtime, User, user.id)).board_count == 0


async def test_get_board_and_privacy(client: httpx.AsyncClient, factory: Factory, runtime: Runtime) -> None:
    owner = await factory.user("owner")
    other = await factory.user("other")
    t_owner = await factory.token(owner, ALL)
    t_owner_nosecret = await factory.token(owner, "read_organic,write_organic")
    t_other = await factory.token(other, ALL)
    public = await make_board(client, t_owner, "Open")
    secret = await make_board(client, t_owner, "Hidden", privacy="secret")
    protected = await make_board(client, t_owner, "Shh", privacy="protected")
    r = await client.get(f"/v3/boards/{public['id']}/", headers=bearer(t_other))
    assert r.status_code == 200 and r.json()["endpoint_name"] == "v3_get_board"
    assert r.json()["data"]["followed_by_me"] is False
    for board in (secret, protected):
        r = await client.get(f"/v3/boards/{board['id']}/", headers=bearer(t_other))
        assert r.status_code == 404 and r.json()["code"] == 40
    r = await client.get(f"/v3/boards/{secret['id']}/", headers=bearer(t_owner))
    assert r.status_code == 200 and r.json()["data"]["privacy"] == "secret"
    r = await client.get(f"/v3/boards/{secret['id']}/", headers=bearer(t_owner_nosecret))
    assert r.status_code == 404 and r.json()["code"] == 40
    r = await client.get(f"/v3/boards/{protected['id']}/", headers=bearer(t_owner_nosecret))
    assert r.status_code == 200
    r = await client.get("/v3/boards/owner/open/", headers=bearer(t_other))
    assert r.status_code == 404  # username/slug is not a path form served (slash splits the path)
    for ref in ("999999", "abc", "9999999999999999999", "²"):
        r = await client.get(f"/v3/boards/{ref}/", headers=bearer(t_other))
        assert r.status_code in (400, 404) and r.json()["code"] in (1, 40)
    t_noscope = await factory.token(other, "read_pins")
    r = await client.get(f"/v3/boards/{public['id']}/", headers=bearer(t_noscope))
    assert r.status_code == 401 and r.json()["code"] == 3


async def test_collaborator_sees_secret_board(
    client: httpx.AsyncClient, factory: Factory, runtime: Runtime
) -> None:
    owner = await factory.user()
    helper = await factory.user()
    board = await Rows(runtime).board(owner, "Team", privacy="secret", collaborators=(helper,))
    token = await factory.token(helper, ALL)
    r = await client.get(f"/v3/boards/{board.id}/", headers=bearer(token))
    assert r.status_code == 200
    data = r.json()["data"]
    assert data["collaborated_by_me"] is True and data["is_collaborative"] is True
    # a collaborator may pin onto it, but not change or delete the board itself
    await make_pin(client, token, str(board.id))
    r = await client.post(f"/v3/boards/{board.id}/", json={"name": "Mine"}, headers=bearer(token))
    assert r.status_code == 401 and r.json()["code"] == 7
    r = await client.delete(f"/v3/boards/{board.id}/", headers=bearer(token))
    assert r.status_code == 401 and r.json()["code"] == 7
    assert (await row(runtime, Board, board.id)).pin_count == 1


async def test_update_board(client: httpx.AsyncClient, factory: Factory, runtime: Runtime) -> None:
    user = await factory.user("eddie")
    token = await factory.token(user, ALL)
    board = await make_board(client, token, "Old")
    await make_board(client, token, "Taken")
    r = await client.post(
        f"/v3/boards/{board['id']}/",
        json={
            "name": "New Name",
            "description": "d",
            "privacy": "secret",
            "category": "art",
            "layout": "places",
        },
        headers=bearer(token),
    )
    assert r.status_code == 200, r.text
    data = r.json()["data"]
    assert r.json()["endpoint_name"] == "v3_update_board"
    assert (data["name"], data["url"], data["privacy"], data["category"], data["layout"]) == (
        "New Name",
        "/eddie/new-name/",
        "secret",
        "art",
        "places",
    )
    stored = await row(runtime, Board, int(board["id"]))
    assert stored.slug == "new-name" and stored.description == "d"
    r = await client.post(f"/v3/boards/{board['id']}/", json={"name": "taken"}, headers=bearer(token))
    assert r.status_code == 400 and r.json()["code"] == 96
    r = await client.post(f"/v3/boards/{board['id']}/", json={"privacy": "open"}, headers=bearer(token))
    assert r.status_code == 400 and "privacy" in r.json()["message"]
    other = await factory.user()
    t_other = await factory.token(other, ALL)
    r = await client.post(f"/v3/boards/{board['id']}/", json={"name": "Hijack"}, headers=bearer(t_other))
    assert r.status_code == 404 and r.json()["code"] == 40  # secret now: not even visible
    assert (await row(runtime, Board, int(board["id"]))).name == "New Name"


async def test_delete_board_leaves_nothing_behind(
    client: httpx.AsyncClient, factory: Factory, runtime: Runtime
) -> None:
    alice = await factory.user()
    bob = await factory.user()
    ta = await factory.token(alice, ALL)
    tb = await factory.token(bob, ALL)
    doomed = await make_board(client, ta, "Doomed")
    keep = await make_board(client, ta, "Keep")
    r = await client.put(f"/v3/board/{doomed['id']}/sections/", data={"title": "S"}, headers=bearer(ta))
    section_id = r.json()["data"]["id"]
    root = await make_pin(client, ta, keep["id"])
    mine = await make_pin(client, ta, doomed["id"], section=section_id)
    r = await client.post(
        f"/v3/partners/pins/{root['id']}/save/", data={"board_id": doomed["id"]}, headers=bearer(ta)
    )
    assert r.status_code == 200
    bob_board = await make_board(client, tb, "Bob")
    r = await client.post(
        f"/v3/partners/pins/{mine['id']}/save/", data={"board_id": bob_board["id"]}, headers=bearer(tb)
    )
    assert r.status_code == 200
    r = await client.put(f"/v3/boards/{doomed['id']}/follow/", headers=bearer(tb))
    assert r.status_code == 200
    assert (await row(runtime, Pin, int(root["id"]))).repin_count == 1
    assert (await row(runtime, User, alice.id)).pin_count == 3

    r = await client.delete(f"/v3/boards/{doomed['id']}/", headers=bearer(ta))
    assert r.status_code == 200, r.text
    assert r.json()["endpoint_name"] == "v3_delete_board" and r.json()["data"] is None
    doomed_id = int(doomed["id"])
    assert await row(runtime, Board, doomed_id) is None
    assert await count(runtime, Pin, Pin.board_id == doomed_id) == 0
    assert await count(runtime, BoardSection, BoardSection.board_id == doomed_id) == 0
    assert await count(runtime, BoardFollow, BoardFollow.board_id == doomed_id) == 0
    assert (await row(runtime, User, alice.id)).pin_count == 1
    assert (await row(runtime, User, alice.id)).board_count == 1
    assert (await row(runtime, Pin, int(root["id"]))).repin_count == 0
    # bob's repin of a deleted root keeps the shared aggregated data alive
    bob_pins = await client.get(f"/v3/boards/{bob_board['id']}/pins/", headers=bearer(tb))
    agg_id = int(bob_pins.json()["data"][0]["aggregated_pin_data"]["id"])
    assert await row(runtime, AggregatedPinData, agg_id) is not None
    assert await count(runtime, AggregatedPinData) == 2  # root on "keep" + the one bob shares
    r = await client.get(f"/v3/boards/{doomed['id']}/", headers=bearer(ta))
    assert r.status_code == 404 and r.json()["code"] == 40


async def test_delete_board_forbidden_and_scope(
    client: httpx.AsyncClient, factory: Factory, runtime: Runtime
) -> None:
    owner = await factory.user()
    other = await factory.user()
    t_owner = await factory.token(owner, ALL)
    board = await make_board(client, t_owner, "Mine")
    t_other = await factory.token(other, ALL)
    r = await client.delete(f"/v3/boards/{board['id']}/", headers=bearer(t_other))
    assert r.status_code == 401 and r.json()["code"] == 7
    t_read = await factory.token(owner, "read_boards")
    r = await client.delete(f"/v3/boards/{board['id']}/", headers=bearer(t_read))
    assert r.status_code == 401 and r.json()["code"] == 3
    assert await row(runtime, Board, int(board["id"])) is not None


async def test_follow_and_unfollow_board(
    client: httpx.AsyncClient, factory: Factory, runtime: Runtime
) -> None:
    owner = await factory.user()
    fan = await factory.user()
    t_owner = await factory.token(owner, ALL)
    t_fan = await factory.token(fan, ALL)
    board = await make_board(client, t_owner, "Popular")
    secret = await make_board(client, t_owner, "Private", privacy="secret")
    for _ in range(2):
        r = await client.put(f"/v3/boards/{board['id']}/follow/", headers=bearer(t_fan))
        assert r.status_code == 200 and r.json()["data"] is None
        assert r.json()["endpoint_name"] == "v3_follow_board"
    assert (await row(runtime, Board, int(board["id"]))).follower_count == 1
    r = await client.get(f"/v3/boards/{board['id']}/", headers=bearer(t_fan))
    assert r.json()["data"]["followed_by_me"] is True and r.json()["data"]["follower_count"] == 1
    for _ in range(2):
        r = await client.delete(f"/v3/boards/{board['id']}/follow/", headers=bearer(t_fan))
        assert r.status_code == 200 and r.json()["endpoint_name"] == "v3_unfollow_board"
    assert (await row(runtime, Board, int(board["id"]))).follower_count == 0
    assert await count(runtime, BoardFollow) == 0
    r = await client.put(f"/v3/boards/{board['id']}/follow/", headers=bearer(t_owner))
    assert r.status_code == 403 and r.json()["code"] == 42
    r = await client.put(f"/v3/boards/{secret['id']}/follow/", headers=bearer(t_fan))
    assert r.status_code == 404 and r.json()["code"] == 40
    t_nofollow = await factory.token(fan, "read_organic,write_boards")
    r = await client.put(f"/v3/boards/{board['id']}/follow/", headers=bearer(t_nofollow))
    assert r.status_code == 401 and "write_user_followees" in r.json()["message"]
    assert await count(runtime, BoardFollow) == 0


async def test_board_pins_paging_and_filters(
    client: httpx.AsyncClient, factory: Factory, runtime: Runtime
) -> None:
    user = await factory.user()
    token = await factory.token(user, ALL)
    board = await make_board(client, token, "Many")
    r = await client.put(f"/v3/board/{board['id']}/sections/", data={"title": "Sec"}, headers=bearer(token))
    section_id = r.json()["data"]["id"]
    made = [(await make_pin(client, token, board["id"]))["id"] for _ in range(5)]
    in_section = await make_pin(client, token, board["id"], section=section_id)
    seen: list[str] = []
    bookmark: str | None = None
    pages = 0
    while True:
        params: dict[str, Any] = {"page_size": 2}
        if bookmark:
            params["bookmark"] = bookmark
        r = await client.get(f"/v3/boards/{board['id']}/pins/", params=params, headers=bearer(token))
        assert r.status_code == 200, r.text
        body = r.json()
        assert body["endpoint_name"] == "v3_board_pins"
        seen += [p["id"] for p in body["data"]]
        pages += 1
        if "bookmark" not in body:
            break
        bookmark = body["bookmark"]
    assert seen == list(reversed(made)) and pages == 3
    r = await client.get(
        f"/v3/boards/{board['id']}/pins/", params={"filter_section_pins": "false"}, headers=bearer(token)
    )
    assert [p["id"] for p in r.json()["data"]] == [in_section["id"], *reversed(made)]
    assert len(r.json()["data"]) == 6
    r = await client.get(f"/v3/boards/{board['id']}/pins/", params={"page_size": 251}, headers=bearer(token))
    assert r.status_code == 400 and r.json()["code"] == 22
    r = await client.get(
        f"/v3/boards/{board['id']}/pins/", params={"bookmark": "forged.x"}, headers=bearer(token)
    )
    assert r.status_code == 404 and r.json()["code"] == 10
    r = await client.get(
        f"/v3/boards/{board['id']}/pins/", params={"filter_stories": "maybe"}, headers=bearer(token)
    )
    assert r.status_code == 400 and "filter_stories" in r.json()["message"]
    t_noscope = await factory.token(user, "read_boards")
    r = await client.get(f"/v3/boards/{board['id']}/pins/", headers=bearer(t_noscope))
    assert r.status_code == 401 and "read_pins" in r.json()["message"]


async def test_secret_board_pins_need_read_secret_pins(client: httpx.AsyncClient, factory: Factory) -> None:
    user = await factory.user()
    token = await factory.token(user, ALL)
    board = await make_board(client, token, "Secret", privacy="secret")
    await make_pin(client, token, board["id"])
    only_boards = await factory.token(user, "read_organic,read_secret_boards")
    r = await client.get(f"/v3/boards/{board['id']}/pins/", headers=bearer(only_boards))
    assert r.status_code == 404 and r.json()["code"] == 40
    r = await client.get(f"/v3/boards/{board['id']}/pins/", headers=bearer(token))
    assert r.status_code == 200 and len(r.json()["data"]) == 1
    stranger = await factory.user()
    r = await client.get(
        f"/v3/boards/{board['id']}/pins/", headers=bearer(await factory.token(stranger, ALL))
    )
    assert r.status_code == 404 and r.json()["code"] == 40


async def _all(client: httpx.AsyncClient, token: str, path: str, **params: Any) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    query: dict[str, Any] = {"page_size": 2, **params}
    while True:
        r = await client.get(path, params=query, headers=bearer(token))
        assert r.status_code == 200, r.text
        out += r.json()["data"]
        if "bookmark" not in r.json():
            return out
        query["bookmark"] = r.json()["bookmark"]


async def test_copy_a_board_to_another_user_through_the_api(
    client: httpx.AsyncClient, factory: Factory, runtime: Runtime
) -> None:
    """What the quickstart's copy_board does: read a board, its sections and pins; rebuild them."""
    alice = await factory.user("alice_src")
    bob = await factory.user("bob_copy")
    ta = await factory.token(alice, ALL)
    tb = await factory.token(bob, ALL)
    src = await make_board(client, ta, "Garden Ideas", description="Green", category="gardening")
    sections = {}
    for title in ("Herbs", "Trees"):
        r = await client.put(f"/v3/board/{src['id']}/sections/", data={"title": title}, headers=bearer(ta))
        sections[title] = r.json()["data"]["id"]
    for title, n in (("Herbs", 3), ("Trees", 1)):
        for i in range(n):
            await make_pin(client, ta, src["id"], section=sections[title], title=f"{title} {i}")
    for i in range(2):
        await make_pin(client, ta, src["id"], title=f"Loose {i}")

    # bob copies it, reading only through the API
    board = (await client.get(f"/v3/boards/{src['id']}/", headers=bearer(tb))).json()["data"]
    copy = await make_board(
        client, tb, board["name"], description=board["description"], category=board["category"]
    )
    for section in await _all(client, tb, f"/v3/board/{src['id']}/sections/"):
        r = await client.put(
            f"/v3/board/{copy['id']}/sections/", data={"title": section["title"]}, headers=bearer(tb)
        )
        new_section = r.json()["data"]["id"]
        for pin in await _all(client, tb, f"/v3/board/sections/{section['id']}/pins/"):
            r = await client.post(
                f"/v3/partners/pins/{pin['id']}/save/",
                data={"board_id": copy["id"], "board_section_id": new_section},
                headers=bearer(tb),
            )
            assert r.status_code == 200, r.text
    for pin in await _all(client, tb, f"/v3/boards/{src['id']}/pins/"):
        assert pin["board_section_id"] is None
        r = await client.post(
            f"/v3/partners/pins/{pin['id']}/save/", data={"board_id": copy["id"]}, headers=bearer(tb)
        )
        assert r.status_code == 200, r.text

    got = (await client.get(f"/v3/boards/{copy['id']}/", headers=bearer(tb))).json()["data"]
    assert (got["name"], got["description"], got["category"], got["pin_count"], got["section_count"]) == (
        "Garden Ideas",
        "Green",
        "gardening",
        6,
        2,
    )
    copied_sections = await _all(client, tb, f"/v3/board/{copy['id']}/sections/")
    assert [(s["title"], s["pin_count"]) for s in copied_sections] == [("Herbs", 3), ("Trees", 1)]
    herbs = await _all(client, tb, f"/v3/board/sections/{copied_sections[0]['id']}/pins/")
    assert sorted(p["title"] for p in herbs) == ["Herbs 0", "Herbs 1", "Herbs 2"]
    loose = await _all(client, tb, f"/v3/boards/{copy['id']}/pins/")
    assert sorted(p["title"] for p in loose) == ["Loose 0", "Loose 1"]
    assert all(p["is_repin"] for p in herbs + loose)
    assert (await row(runtime, User, bob.id)).pin_count == 6
    assert (await row(runtime, User, alice.id)).pin_count == 6
    async with runtime.sessions() as s:
        repins = (await s.scalars(select(Pin.repin_count).where(Pin.board_id == int(src["id"])))).all()
    assert sorted(repins) == [1] * 6


async def test_concurrent_follows_count_once(
    client: httpx.AsyncClient, factory: Factory, runtime: Runtime
) -> None:
    owner = await factory.user()
    board = await make_board(client, await factory.token(owner, ALL), "Hot")
    fans = [await factory.user() for _ in range(4)]
    tokens = [await factory.token(f, ALL) for f in fans]

    async def follow(token: str) -> int:
        r = await client.put(f"/v3/boards/{board['id']}/follow/", headers=bearer(token))
        return r.status_code

    statuses = await asyncio.gather(*(follow(t) for t in tokens * 3))
    assert statuses == [200] * 12
    assert (await row(runtime, Board, int(board["id"]))).follower_count == 4
    assert await count(runtime, BoardFollow, BoardFollow.board_id == int(board["id"])) == 4
