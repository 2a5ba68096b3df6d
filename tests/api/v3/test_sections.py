"""Board sections through the API: create, list, their pins, delete."""

from __future__ import annotations

from typing import Any

import httpx
from sqlalchemy import update

from pinapi.runtime import Runtime
from pinapi.store.tables import Board, BoardSection, Pin
from tests.api.v3.test_boards import ALL, count, make_board, make_pin, row
from tests.factories import Factory, bearer


async def make_section(
    client: httpx.AsyncClient, token: str, board_id: str, title: str, **extra: Any
) -> dict[str, Any]:
    r = await client.put(
        f"/v3/board/{board_id}/sections/", data={"title": title, **extra}, headers=bearer(token)
    )
    assert r.status_code == 200, r.text
    data: dict[str, Any] = r.json()["data"]
    return data


async def test_create_section(client: httpx.AsyncClient, factory: Factory, runtime: Runtime) -> None:
    user = await factory.user()
    token = await factory.token(user, ALL)
    board = await make_board(client, token, "Kitchen")
    loose = await make_pin(client, token, board["id"])
    r = await client.put(
        f"/v3/board/{board['id']}/sections/",
        data={"title": "  Soups ", "initial_pins": loose["id"]},
        headers=bearer(token),
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["endpoint_name"] == "v3_create_section"
    data = body["data"]
    assert data["title"] == "Soups" and data["type"] == "board_section"
    assert data["board"] == {"id": board["id"]} and data["pin_count"] == 1
    stored = await row(runtime, BoardSection, int(data["id"]))
    assert stored.title == "Soups" and stored.pin_count == 1
    assert (await row(runtime, Pin, int(loose["id"]))).section_id == int(data["id"])
    assert (await row(runtime, Board, int(board["id"]))).section_count == 1
    got = await client.get(f"/v3/boards/{board['id']}/", headers=bearer(token))
    assert got.json()["data"]["section_count"] == 1


async def test_create_section_bad_input(
    client: httpx.AsyncClient, factory: Factory, runtime: Runtime
) -> None:
    user = await factory.user()
    token = await factory.token(user, ALL)
    board = await make_board(client, token, "B")
    other = await make_board(client, token, "Other")
    elsewhere = await make_pin(client, token, other["id"])
    await make_section(client, token, board["id"], "Taken")
    cases = [
        ({}, "title", 1),
        ({"title": "   "}, "title", 1),
        ({"title": "t" * 181}, "title", 1),
        ({"title": "TAKEN"}, "A section with that name already exists.", 2035),
        ({"title": "New", "initial_pins": "x"}, "initial_pins", 1),
        ({"title": "New", "initial_pins": elsewhere["id"]}, "initial_pins", 1),
    ]
    for data, needle, code in cases:
        r = await client.put(f"/v3/board/{board['id']}/sections/", data=data, headers=bearer(token))
        assert r.status_code == 400, (data, r.text)
        assert r.json()["code"] == code and needle in r.json()["message"], (data, r.text)
    assert await count(runtime, BoardSection) == 1
    assert (await row(runtime, Board, int(board["id"]))).section_count == 1
    r = await client.put("/v3/board/999/sections/", data={"title": "x"}, headers=bearer(token))
    assert r.status_code == 404 and r.json()["code"] == 40


async def test_section_limit_is_500(client: httpx.AsyncClient, factory: Factory, runtime: Runtime) -> None:
    user = await factory.user()
    token = await factory.token(user, ALL)
    board = await make_board(client, token, "Full")
    await make_section(client, token, board["id"], "One")
    async with runtime.sessions() as s, s.begin():
        await s.execute(update(Board).where(Board.id == int(board["id"])).values(section_count=500))
    r = await client.put(
        f"/v3/board/{board['id']}/sections/", data={"title": "Too many"}, headers=bearer(token)
    )
    assert r.status_code == 400
    assert r.json()["code"] == 2034 and r.json()["message"] == "Only up to 500 sections on a board"
    assert await count(runtime, BoardSection) == 1
    assert (await row(runtime, Board, int(board["id"]))).section_count == 500


async def test_create_section_forbidden(
    client: httpx.AsyncClient, factory: Factory, runtime: Runtime
) -> None:
    owner = await factory.user()
    t_owner = await factory.token(owner, ALL)
    public = await make_board(client, t_owner, "Public")
    secret = await make_board(client, t_owner, "Secret", privacy="secret")
    stranger = await factory.user()
    t_stranger = await factory.token(stranger, ALL)
    r = await client.put(
        f"/v3/board/{public['id']}/sections/", data={"title": "x"}, headers=bearer(t_stranger)
    )
    assert r.status_code == 401 and r.json()["code"] == 7
    r = await client.put(
        f"/v3/board/{secret['id']}/sections/", data={"title": "x"}, headers=bearer(t_stranger)
    )
    assert r.status_code == 404 and r.json()["code"] == 40
    t_read = await factory.token(owner, "read_organic")
    r = await client.put(f"/v3/board/{public['id']}/sections/", data={"title": "x"}, headers=bearer(t_read))
    assert r.status_code == 401 and r.json()["code"] == 3 and "write_boards" in r.json()["message"]
    assert await count(runtime, BoardSection) == 0


async def test_list_sections_paged(client: httpx.AsyncClient, factory: Factory) -> None:
    owner = await factory.user()
    token = await factory.token(owner, ALL)
    board = await make_board(client, token, "Sections")
    made = [(await make_section(client, token, board["id"], f"S{i}"))["id"] for i in range(5)]
    r = await client.get(f"/v3/board/{board['id']}/sections/", params={"page_size": 3}, headers=bearer(token))
    assert r.status_code == 200 and r.json()["endpoint_name"] == "v3_get_board_sections"
    first = r.json()
    assert [s["id"] for s in first["data"]] == made[:3]
    r = await client.get(
        f"/v3/board/{board['id']}/sections/",
        params={"page_size": 3, "bookmark": first["bookmark"]},
        headers=bearer(token),
    )
    assert [s["id"] for s in r.json()["data"]] == made[3:] and "bookmark" not in r.json()
    r = await client.get(
        f"/v3/board/{board['id']}/sections/",
        params={"bookmark": first["bookmark"] + "x"},
        headers=bearer(token),
    )
    assert r.status_code == 404 and r.json()["code"] == 10
    secret = await make_board(client, token, "Secret", privacy="secret")
    stranger = await factory.user()
    r = await client.get(
        f"/v3/board/{secret['id']}/sections/", headers=bearer(await factory.token(stranger, ALL))
    )
    assert r.status_code == 404 and r.json()["code"] == 40
    r = await client.get(
        f"/v3/board/{board['id']}/sections/", headers=bearer(await factory.token(owner, "read_pins"))
    )
    assert r.status_code == 401 and "read_boards" in r.json()["message"]


async def test_section_pins(client: httpx.AsyncClient, factory: Factory) -> None:
    owner = await factory.user()
    token = await factory.token(owner, ALL)
    board = await make_board(client, token, "B")
    section = await make_section(client, token, board["id"], "In")
    inside = [(await make_pin(client, token, board["id"], section=section["id"]))["id"] for _ in range(3)]
    await make_pin(client, token, board["id"])
    r = await client.get(
        f"/v3/board/sections/{section['id']}/pins/", params={"page_size": 2}, headers=bearer(token)
    )
    assert r.status_code == 200 and r.json()["endpoint_name"] == "v3_get_board_section_pins"
    page = r.json()
    assert [p["id"] for p in page["data"]] == inside[::-1][:2]
    assert all(p["board_section_id"] == section["id"] for p in page["data"])
    r = await client.get(
        f"/v3/board/sections/{section['id']}/pins/",
        params={"bookmark": page["bookmark"]},
        headers=bearer(token),
    )
    assert [p["id"] for p in r.json()["data"]] == [inside[0]]
    for bad in ("123", "abc"):
        r = await client.get(f"/v3/board/sections/{bad}/pins/", headers=bearer(token))
        assert r.status_code == 404 and r.json()["code"] == 2031
    r = await client.get(
        f"/v3/board/sections/{section['id']}/pins/", params={"page_size": "0"}, headers=bearer(token)
    )
    assert r.status_code == 400 and "page_size" in r.json()["message"]
    secret = await make_board(client, token, "Secret", privacy="secret")
    hidden = await make_section(client, token, secret["id"], "Hidden")
    stranger = await factory.user()
    r = await client.get(
        f"/v3/board/sections/{hidden['id']}/pins/", headers=bearer(await factory.token(stranger, ALL))
    )
    assert r.status_code == 404 and r.json()["code"] == 2031


async def test_delete_section_keeps_pins(
    client: httpx.AsyncClient, factory: Factory, runtime: Runtime
) -> None:
    owner = await factory.user()
    token = await factory.token(owner, ALL)
    board = await make_board(client, token, "B")
    section = await make_section(client, token, board["id"], "Gone soon")
    pins = [(await make_pin(client, token, board["id"], section=section["id"]))["id"] for _ in range(2)]
    stranger = await factory.user()
    r = await client.delete(
        f"/v3/board/sections/{section['id']}/", headers=bearer(await factory.token(stranger, ALL))
    )
    assert r.status_code == 401 and r.json()["code"] == 7
    r = await client.delete(
        f"/v3/board/sections/{section['id']}/", headers=bearer(await factory.token(owner, "read_boards"))
    )
    assert r.status_code == 401 and r.json()["code"] == 3
    r = await client.delete(f"/v3/board/sections/{section['id']}/", headers=bearer(token))
    assert r.status_code == 200, r.text
    assert r.json()["endpoint_name"] == "v3_delete_board_section" and r.json()["data"] == []
    assert await row(runtime, BoardSection, int(section["id"])) is None
    for pin_id in pins:
        pin = await row(runtime, Pin, int(pin_id))
        assert pin.board_id == int(board["id"]) and pin.section_id is None
    stored = await row(runtime, Board, int(board["id"]))
    assert stored.pin_count == 2 and stored.section_count == 0
    r = await client.get(f"/v3/boards/{board['id']}/pins/", headers=bearer(token))
    assert sorted(p["id"] for p in r.json()["data"]) == sorted(pins)
    r = await client.delete(f"/v3/board/sections/{section['id']}/", headers=bearer(token))
    assert r.status_code == 404 and r.json()["code"] == 2031
    # the title is free again
    await make_section(client, token, board["id"], "Gone soon")
