"""GET /v3/search/user_pins/{user}/ and /v3/search/{user}/boards/: database full-text ranking."""

from __future__ import annotations

from typing import Any

import httpx

from pinapi.runtime import Runtime
from tests.api.v3.organic_rows import Rows
from tests.factories import Factory, bearer


def _ids(r: httpx.Response) -> list[str]:
    assert r.status_code == 200, r.text
    return [x["id"] for x in r.json()["data"]]


async def test_pin_search_ranks_better_matches_first(
    client: httpx.AsyncClient, factory: Factory, runtime: Runtime
) -> None:
    owner = await factory.user("baker")
    rows = Rows(runtime)
    board = await rows.board(owner, "Kitchen")
    weak = await rows.pin(owner, board, "Garden party", description="with a chocolate fountain")
    strong = await rows.pin(owner, board, "Chocolate cake", description="the best chocolate cake recipe")
    middle = await rows.pin(owner, board, "Lemon cake", description="fluffy sponge cake")
    await rows.pin(owner, board, "Bicycle repair", description="fix a flat tyre")
    token = await factory.token(owner, "read_users")
    r = await client.get(
        "/v3/search/user_pins/me/", params={"query": "chocolate cake"}, headers=bearer(token)
    )
    assert r.json()["endpoint_name"] == "v3_search_pins_by_user"
    assert _ids(r) == [str(strong.id), str(middle.id), str(weak.id)]
    # Stemming: "cakes" finds "cake".
    r = await client.get("/v3/search/user_pins/me/", params={"query": "cakes"}, headers=bearer(token))
    assert set(_ids(r)) == {str(strong.id), str(middle.id)}
    # FTS operators in the query are plain words, never syntax errors.
    r = await client.get(
        "/v3/search/user_pins/me/", params={"query": 'tyre" OR NEAR(* -'}, headers=bearer(token)
    )
    assert r.status_code == 200, r.text


async def test_pin_search_pages_through_the_ranking(
    client: httpx.AsyncClient, factory: Factory, runtime: Runtime
) -> None:
    owner = await factory.user("gardener")
    rows = Rows(runtime)
    board = await rows.board(owner, "Plants")
    made = [str((await rows.pin(owner, board, f"tomato seedling {i}")).id) for i in range(5)]
    await rows.pin(owner, board, "cucumber")
    token = await factory.token(owner, "read_users")
    got: list[str] = []
    params: dict[str, Any] = {"query": "tomato", "page_size": 2}
    for _ in range(4):
        r = await client.get("/v3/search/user_pins/me/", params=params, headers=bearer(token))
        got += _ids(r)
        if "bookmark" not in r.json():
            break
        params["bookmark"] = r.json()["bookmark"]
    assert sorted(got) == sorted(made) and len(got) == 5
    # The bookmark is tied to the query.
    r = await client.get(
        "/v3/search/user_pins/me/", params={**params, "query": "seedling"}, headers=bearer(token)
    )
    assert r.status_code == 404 and r.json()["code"] == 10


async def test_pin_search_respects_privacy_and_board_filter(
    client: httpx.AsyncClient, factory: Factory, runtime: Runtime
) -> None:
    owner = await factory.user("hider")
    rows = Rows(runtime)
    open_board = await rows.board(owner, "Open")
    other_board = await rows.board(owner, "Other")
    secret = await rows.board(owner, "Secret", privacy="secret")
    protected = await rows.board(owner, "Protected", privacy="protected")
    a = await rows.pin(owner, open_board, "vintage lamp")
    b = await rows.pin(owner, other_board, "vintage chair")
    s = await rows.pin(owner, secret, "vintage ring")
    await rows.pin(owner, protected, "vintage coat")
    own = await factory.token(owner, "read_users,read_secret_pins")
    q = {"query": "vintage"}
    assert set(_ids(await client.get("/v3/search/user_pins/me/", params=q, headers=bearer(own)))) == {
        str(a.id),
        str(b.id),
        str(s.id),
    }
    only = {**q, "board": str(other_board.id)}
    assert _ids(await client.get("/v3/search/user_pins/me/", params=only, headers=bearer(own))) == [str(b.id)]

    no_secret = await factory.token(owner, "read_users")
    got = _ids(await client.get("/v3/search/user_pins/me/", params=q, headers=bearer(no_secret)))
    assert set(got) == {str(a.id), str(b.id)}

    stranger = await factory.user("stranger")
    st = await factory.token(stranger, "read_users,read_secret_pins")
    got = _ids(await client.get(f"/v3/search/user_pins/{owner.id}/", params=q, headers=bearer(st)))
    assert set(got) == {str(a.id), str(b.id)}


async def test_pin_search_sees_renamed_and_deleted_pins(
    client: httpx.AsyncClient, factory: Factory, runtime: Runtime
) -> None:
    """The index follows writes (SQLite triggers, PostgreSQL generated column)."""
    from sqlalchemy import delete, update

    from pinapi.store.tables import Pin

    owner = await factory.user("editor")
    rows = Rows(runtime)
    board = await rows.board(owner, "Drafts")
    pin = await rows.pin(owner, board, "first draft")
    gone = await rows.pin(owner, board, "draft to delete")
    async with runtime.sessions() as s, s.begin():
        await s.execute(update(Pin).where(Pin.id == pin.id).values(title="final version"))
        await s.execute(delete(Pin).where(Pin.id == gone.id))
    token = await factory.token(owner, "read_users")
    assert (
        _ids(await client.get("/v3/search/user_pins/me/", params={"query": "draft"}, headers=bearer(token)))
        == []
    )
    r = await client.get("/v3/search/user_pins/me/", params={"query": "final"}, headers=bearer(token))
    assert _ids(r) == [str(pin.id)]


async def test_board_search_ranks_and_hides_secret_boards(
    client: httpx.AsyncClient, factory: Factory, runtime: Runtime
) -> None:
    owner = await factory.user("traveller")
    rows = Rows(runtime)
    best = await rows.board(owner, "Japan travel", description="travel plans for Japan")
    good = await rows.board(owner, "Travel gear", description="bags")
    await rows.board(owner, "Recipes", description="food")
    secret = await rows.board(owner, "Secret travel", privacy="secret")
    await rows.board(owner, "Archived travel", archived=True)
    token = await factory.token(owner, "read_users")
    r = await client.get("/v3/search/me/boards/", params={"query": "japan travel"}, headers=bearer(token))
    assert r.json()["endpoint_name"] == "v3_search_boards_by_user"
    assert _ids(r) == [str(best.id), str(good.id)]
    assert r.json()["data"][0]["name"] == "Japan travel"

    with_secret = await factory.token(owner, "read_users,read_secret_boards")
    r = await client.get("/v3/search/me/boards/", params={"query": "travel"}, headers=bearer(with_secret))
    assert set(_ids(r)) == {str(best.id), str(good.id), str(secret.id)}

    other = await factory.user("outsider")
    ot = await factory.token(other, "read_users,read_secret_boards")
    r = await client.get(
        f"/v3/search/{owner.username}/boards/", params={"query": "travel"}, headers=bearer(ot)
    )
    assert set(_ids(r)) == {str(best.id), str(good.id)}


async def test_search_bad_input(client: httpx.AsyncClient, factory: Factory) -> None:
    me = await factory.user()
    token = await factory.token(me, "read_users")
    cases: list[tuple[str, dict[str, str], str]] = [
        ("/v3/search/user_pins/me/", {}, "query"),
        ("/v3/search/user_pins/me/", {"query": "  !!! "}, "query"),
        ("/v3/search/user_pins/me/", {"query": "x", "board": "abc"}, "board"),
        ("/v3/search/user_pins/me/", {"query": "x", "richtype": "podcast"}, "richtype"),
        ("/v3/search/user_pins/me/", {"query": "x", "topic_based": "often"}, "topic_based"),
        ("/v3/search/me/boards/", {}, "query"),
        ("/v3/search/me/boards/", {"query": "x", "page_size": "0"}, "page_size"),
    ]
    for path, params, field in cases:
        r = await client.get(path, params=params, headers=bearer(token))
        assert r.status_code == 400, (path, params)
        assert r.json()["code"] == 1 and r.json()["param"] == field
    r = await client.get("/v3/search/nobody_known/boards/", params={"query": "x"}, headers=bearer(token))
    assert r.status_code == 404 and r.json()["code"] == 30


async def test_search_needs_read_users(client: httpx.AsyncClient, factory: Factory) -> None:
    me = await factory.user()
    token = await factory.token(me, "read_pins,read_boards")
    for path in ("/v3/search/user_pins/me/", "/v3/search/me/boards/"):
        r = await client.get(path, params={"query": "x"}, headers=bearer(token))
        assert r.status_code == 401
        assert r.json()["code"] == 3 and "read_users" in r.json()["message"]
