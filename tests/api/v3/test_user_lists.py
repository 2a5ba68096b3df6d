"""GET /v3/users/{user}/pins/, /boards/feed/ and /businesses/."""

from __future__ import annotations

from typing import Any

import httpx

from pinapi.runtime import Runtime
from pinapi.store.tables import Board, User
from tests.api.common.test_client_auth import now_ms, signed_query
from tests.api.v3.organic_rows import Rows
from tests.factories import Factory, bearer


async def _get(client: httpx.AsyncClient, token: str, path: str, **params: Any) -> dict[str, Any]:
    r = await client.get(path, params=params, headers=bearer(token))
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


# --- /pins/ ------------------------------------------------------------------------------


async def _pinner(runtime: Runtime, factory: Factory) -> tuple[User, dict[str, Board], dict[str, str]]:
    owner = await factory.user("maker")
    stranger = await factory.user("stranger")
    rows = Rows(runtime)
    boards = {
        "public": await rows.board(owner, "Open"),
        "protected": await rows.board(owner, "Unlisted", privacy="protected"),
        "secret": await rows.board(owner, "Diary", privacy="secret"),
    }
    pins: dict[str, str] = {}
    for kind, board in boards.items():
        pins[kind] = str((await rows.pin(owner, board, f"{kind} pin")).id)
    source = await rows.pin(stranger, await rows.board(stranger, "Theirs"), "their pin")
    pins["repin"] = str((await rows.pin(owner, boards["public"], "saved", parent=source)).id)
    return owner, boards, pins


async def test_user_pins_newest_first_with_filters(
    client: httpx.AsyncClient, factory: Factory, runtime: Runtime
) -> None:
    owner, _boards, pins = await _pinner(runtime, factory)
    token = await factory.token(owner, "read_users")
    body = await _get(client, token, "/v3/users/me/pins/")
    assert body["endpoint_name"] == "v3_get_pins_handler"
    assert [p["id"] for p in body["data"]] == [pins["repin"], pins["public"]]
    first = body["data"][0]
    assert first["type"] == "pin" and first["is_repin"] is True and first["title"] == "saved"
    assert first["pinned_to_board"]["name"] == "Open"
    assert "bookmark" not in body

    body = await _get(client, token, "/v3/users/me/pins/", pin_filter="exclude_repins")
    assert [p["id"] for p in body["data"]] == [pins["public"]]
    body = await _get(client, token, "/v3/users/me/pins/", pin_filter="exclude_native")
    assert [p["id"] for p in body["data"]] == [pins["repin"]]
    body = await _get(client, token, "/v3/users/me/pins/", include_protected_pins="true")
    assert [p["id"] for p in body["data"]] == [pins["repin"], pins["protected"], pins["public"]]


async def test_user_pins_secret_needs_scope_and_membership(
    client: httpx.AsyncClient, factory: Factory, runtime: Runtime
) -> None:
    owner, _boards, pins = await _pinner(runtime, factory)
    with_secret = await factory.token(owner, "read_users,read_secret_pins")
    body = await _get(client, with_secret, "/v3/users/me/pins/", include_protected_pins="true")
    assert [p["id"] for p in body["data"]] == [
        pins["repin"],
        pins["secret"],
        pins["protected"],
        pins["public"],
    ]

    # Another user sees neither protected nor secret pins, whatever they ask.
    other = await factory.user("nosy")
    token = await factory.token(other, "read_users,read_secret_pins")
    body = await _get(client, token, f"/v3/users/{owner.id}/pins/", include_protected_pins="true")
    assert [p["id"] for p in body["data"]] == [pins["repin"], pins["public"]]


async def test_user_pins_pages_with_bookmarks(
    client: httpx.AsyncClient, factory: Factory, runtime: Runtime
) -> None:
    owner = await factory.user("prolific")
    rows = Rows(runtime)
    board = await rows.board(owner, "Many")
    made = [str((await rows.pin(owner, board, f"p{i}")).id) for i in range(5)]
    token = await factory.token(owner, "read_users")
    got: list[str] = []
    params: dict[str, str] = {"page_size": "2"}
    while True:
        body = await _get(client, token, "/v3/users/me/pins/", **params)
        assert len(body["data"]) <= 2
        got += [p["id"] for p in body["data"]]
        if "bookmark" not in body:
            break
        params["bookmark"] = body["bookmark"]
    assert got == list(reversed(made))
    # The bookmark belongs to that list: with another filter it is code 10.
    r = await client.get(
        "/v3/users/me/pins/",
        params={
            "bookmark": body.get("bookmark") or _bookmark_of(runtime, owner),
            "pin_filter": "exclude_repins",
        },
        headers=bearer(token),
    )
    assert r.status_code == 404 and r.json()["code"] == 10


def _bookmark_of(runtime: Runtime, owner: User) -> str:
    return runtime.bookmarks.encode(f"user:{owner.id}:pins:None:False", [-1])


async def test_user_pins_bad_input(client: httpx.AsyncClient, factory: Factory) -> None:
    me = await factory.user()
    token = await factory.token(me, "read_users")
    cases = {
        "pin_filter": {"pin_filter": "exclude_everything"},
        "include_protected_pins": {"include_protected_pins": "sometimes"},
        "page_size": {"page_size": "abc"},
    }
    for field, params in cases.items():
        r = await client.get("/v3/users/me/pins/", params=params, headers=bearer(token))
        assert r.status_code == 400, field
        assert r.json()["code"] == 1 and r.json()["param"] == field
    r = await client.get("/v3/users/me/pins/", params={"page_size": "300"}, headers=bearer(token))
    assert r.status_code == 400 and r.json()["code"] == 22
    r = await client.get("/v3/users/ghost_user/pins/", headers=bearer(token))
    assert r.status_code == 404 and r.json()["code"] == 30


async def test_user_pins_need_read_users(client: httpx.AsyncClient, factory: Factory) -> None:
    me = await factory.user()
    token = await factory.token(me, "read_pins")
    r = await client.get("/v3/users/me/pins/", headers=bearer(token))
    assert r.status_code == 401
    assert r.json()["code"] == 3 and "read_users" in r.json()["message"]


async def test_user_pins_by_signed_client_are_public_only(
    client: httpx.AsyncClient, factory: Factory, runtime: Runtime
) -> None:
    owner, _boards, pins = await _pinner(runtime, factory)
    app = await factory.app()
    path = f"/v3/users/{owner.username}/pins/"
    extra = {"include_protected_pins": "true"}
    r = await client.get(path, params=signed_query(app, path, timestamp=now_ms(), extra=extra))
    assert r.status_code == 200, r.text
    data = r.json()["data"]
    assert [p["id"] for p in data] == [pins["repin"], pins["public"]]
    assert "board" not in data[0] and "pinned_to_board" not in data[0] and "owner" not in data[0]
    # A bad signature is refused; "me" means nothing without a user.
    bad = {**signed_query(app, path, timestamp=now_ms()), "oauth_signature": "00"}
    assert (await client.get(path, params=bad)).json()["code"] == 2
    me_path = "/v3/users/me/pins/"
    r = await client.get(me_path, params=signed_query(app, me_path, timestamp=now_ms()))
    assert r.status_code == 400 and r.json()["param"] == "user"


# --- /boards/feed/ -----------------------------------------------------------------------


async def _board_owner(runtime: Runtime, factory: Factory) -> tuple[User, User, dict[str, Board]]:
    owner = await factory.user("curator")
    friend = await factory.user("friend")
    rows = Rows(runtime)
    b = {
        "zebra": await rows.board(owner, "Zebra"),
        "apple": await rows.board(owner, "apple"),
        "mango": await rows.board(owner, "Mango", privacy="secret"),
        "kiwi": await rows.board(owner, "Kiwi", privacy="protected"),
        "old": await rows.board(owner, "Old stuff", archived=True),
        "group": await rows.board(friend, "Group", collaborators=(owner,)),
    }
    await rows.pin(owner, b["zebra"], "z")
    await rows.pin(owner, b["apple"], "a")
    await rows.pin(owner, b["zebra"], "z2")
    return owner, friend, b


def _ids(body: dict[str, Any]) -> list[str]:
    return [x["id"] for x in body["data"]]


async def test_boards_feed_sorts(client: httpx.AsyncClient, factory: Factory, runtime: Runtime) -> None:
    owner, _friend, b = await _board_owner(runtime, factory)
    token = await factory.token(owner, "read_users")
    path = "/v3/users/me/boards/feed/"
    ids = {k: str(v.id) for k, v in b.items()}
    body = await _get(client, token, path)
    assert body["endpoint_name"] == "v3_user_profile_boards_feed"
    # Default (custom = newest): own public and protected boards plus the group board.
    assert _ids(body) == [ids["group"], ids["kiwi"], ids["apple"], ids["zebra"]]
    group = body["data"][0]
    assert group["is_collaborative"] is True and group["collaborated_by_me"] is True
    assert group["url"] == "/friend/group/" and group["type"] == "board"
    assert group["image_thumbnail_url"] is None  # an empty board has no cover
    zebra = next(x for x in body["data"] if x["id"] == ids["zebra"])
    assert zebra["image_thumbnail_url"] == "http://example.com/image.png"
    assert _ids(await _get(client, token, path, sort="oldest")) == [
        ids["zebra"],
        ids["apple"],
        ids["kiwi"],
        ids["group"],
    ]
    assert _ids(await _get(client, token, path, sort="alphabetical")) == [
        ids["apple"],
        ids["group"],
        ids["kiwi"],
        ids["zebra"],
    ]
    # zebra got the last pin, then apple; empty boards follow, newest first.
    assert _ids(await _get(client, token, path, sort="last_pinned_to")) == [
        ids["zebra"],
        ids["apple"],
        ids["group"],
        ids["kiwi"],
    ]
    assert _ids(await _get(client, token, path, sort="group_boards_at_top")) == [
        ids["group"],
        ids["kiwi"],
        ids["apple"],
        ids["zebra"],
    ]


async def test_boards_feed_filters_and_grouping(
    client: httpx.AsyncClient, factory: Factory, runtime: Runtime
) -> None:
    owner, _friend, b = await _board_owner(runtime, factory)
    ids = {k: str(v.id) for k, v in b.items()}
    token = await factory.token(owner, "read_users,read_secret_boards")
    path = "/v3/users/me/boards/feed/"
    everything = await _get(client, token, path, include_archived="true", sort="oldest")
    assert _ids(everything) == [ids[k] for k in ("zebra", "apple", "mango", "kiwi", "old", "group")]
    assert _ids(await _get(client, token, path, privacy_filter="secret")) == [ids["mango"]]
    assert _ids(await _get(client, token, path, privacy_filter="protected")) == [ids["kiwi"]]
    assert _ids(await _get(client, token, path, privacy_filter="public", sort="oldest")) == [
        ids["zebra"],
        ids["apple"],
        ids["group"],
    ]
    assert _ids(await _get(client, token, path, collaborative_only="true")) == [ids["group"]]
    assert _ids(await _get(client, token, path, include_empty="false", sort="oldest")) == [
        ids["zebra"],
        ids["apple"],
    ]
    grouped = await _get(client, token, path, group_by="visibility", include_archived="true", sort="oldest")
    assert _ids(grouped) == [ids[k] for k in ("zebra", "apple", "group", "mango", "kiwi", "old")]


async def test_boards_feed_pages_alphabetically(
    client: httpx.AsyncClient, factory: Factory, runtime: Runtime
) -> None:
    owner = await factory.user("alpha")
    rows = Rows(runtime)
    names = ["delta", "Alpha", "charlie", "Echo", "bravo"]
    for n in names:
        await rows.board(owner, n)
    token = await factory.token(owner, "read_users")
    got: list[str] = []
    params: dict[str, str] = {"sort": "alphabetical", "page_size": "2"}
    for _ in range(5):
        body = await _get(client, token, "/v3/users/me/boards/feed/", **params)
        got += [x["name"] for x in body["data"]]
        if "bookmark" not in body:
            break
        params["bookmark"] = body["bookmark"]
    assert got == ["Alpha", "bravo", "charlie", "delta", "Echo"]
    # A bookmark cut for alphabetical order is not valid for another sort.
    bookmark = runtime.bookmarks.encode(f"user:{owner.id}:boards:x", ["a", 1])
    r = await client.get(
        "/v3/users/me/boards/feed/", params={"sort": "newest", "bookmark": bookmark}, headers=bearer(token)
    )
    assert r.status_code == 404 and r.json()["code"] == 10


async def test_boards_feed_hides_private_boards_from_others(
    client: httpx.AsyncClient, factory: Factory, runtime: Runtime
) -> None:
    owner, _friend, b = await _board_owner(runtime, factory)
    ids = {k: str(v.id) for k, v in b.items()}
    other = await factory.user("peeker")
    token = await factory.token(other, "read_users,read_secret_boards")
    path = f"/v3/users/{owner.id}/boards/feed/"
    assert _ids(await _get(client, token, path, sort="oldest")) == [ids["zebra"], ids["apple"], ids["group"]]
    assert _ids(await _get(client, token, path, privacy_filter="secret")) == []
    assert _ids(await _get(client, token, path, privacy_filter="protected")) == []


async def test_boards_feed_secret_needs_scope(
    client: httpx.AsyncClient, factory: Factory, runtime: Runtime
) -> None:
    owner, _friend, _b = await _board_owner(runtime, factory)
    token = await factory.token(owner, "read_users")
    body = await _get(client, token, "/v3/users/me/boards/feed/", privacy_filter="secret")
    assert body["data"] == []


async def test_boards_feed_bad_input_and_scope(client: httpx.AsyncClient, factory: Factory) -> None:
    me = await factory.user()
    token = await factory.token(me, "read_users")
    cases = {
        "sort": "random",
        "privacy_filter": "friends",
        "group_by": "colour",
        "collaborative_only": "perhaps",
        "include_archived": "2",
        "include_empty": "x",
        "filter_stories": "y",
    }
    for field, value in cases.items():
        r = await client.get("/v3/users/me/boards/feed/", params={field: value}, headers=bearer(token))
        assert r.status_code == 400, field
        assert r.json()["code"] == 1 and r.json()["param"] == field
    no_scope = await factory.token(me, "read_boards")
    r = await client.get("/v3/users/me/boards/feed/", headers=bearer(no_scope))
    assert r.status_code == 401 and r.json()["code"] == 3


# --- /businesses/ ------------------------------------------------------------------------


async def test_businesses_lists_own_and_shared_business_accounts(
    client: httpx.AsyncClient, factory: Factory
) -> None:
    me = await factory.user("worker", business=True)
    boss = await factory.user("bigshop", business=True)
    personal = await factory.user("personal")
    await factory.share(await factory.advertiser(boss), me, "ANALYST")
    await factory.share(await factory.advertiser(personal), me, "ANALYST")
    token = await factory.token(me, "read_users")
    body = await _get(client, token, "/v3/users/me/businesses/")
    assert body["endpoint_name"] == "v3_get_user_businesses_handler"
    assert [u["username"] for u in body["data"]] == ["worker", "bigshop"]
    assert body["data"][0]["is_partner"] is True

    plain = await factory.token(personal, "read_users")
    assert (await _get(client, plain, "/v3/users/me/businesses/"))["data"] == []


async def test_businesses_of_someone_else_is_refused(client: httpx.AsyncClient, factory: Factory) -> None:
    me = await factory.user()
    other = await factory.user("otherbiz", business=True)
    token = await factory.token(me, "read_users")
    r = await client.get(f"/v3/users/{other.id}/businesses/", headers=bearer(token))
    assert r.status_code == 401 and r.json()["code"] == 7
    no_scope = await factory.token(me, "read_pins")
    r = await client.get("/v3/users/me/businesses/", headers=bearer(no_scope))
    assert r.status_code == 401 and r.json()["code"] == 3
    r = await client.get("/v3/users/nobody_at_all/businesses/", headers=bearer(token))
    assert r.status_code == 404 and r.json()["code"] == 30


# --- the demo dataset --------------------------------------------------------------------


async def test_demo_dataset_has_organic_profiles(
    client: httpx.AsyncClient, factory: Factory, runtime: Runtime
) -> None:
    from sqlalchemy import func, select

    from pinapi.demo import load_demo_dataset
    from pinapi.store.tables import AggregatedPinData, Comment, Image, Pin

    assert await load_demo_dataset(runtime) is True
    async with runtime.sessions() as s:
        maria = await s.scalar(select(User).where(User.username == "maria_bakes"))
        assert maria is not None
        pinner = await s.scalar(select(User).where(User.username == "pinner"))
        assert pinner is not None
        assert (maria.follower_count, maria.following_count) == (3, 2)
        assert (pinner.follower_count, pinner.following_count) == (2, 3)
        assert maria.board_count == 4 and maria.pin_count == 11
        assert await s.scalar(select(func.count()).select_from(Image)) == 24
        assert await s.scalar(select(func.count()).where(Pin.is_repin.is_(True))) == 5
        assert await s.scalar(select(func.count()).select_from(Comment)) == 8
        cake = await s.scalar(select(Pin).where(Pin.title == "Chocolate layer cake", Pin.is_repin.is_(False)))
        assert cake is not None and cake.repin_count == 1 and cake.comment_count == 4
        agg = await s.get(AggregatedPinData, cake.aggregated_pin_data_id)
        assert agg is not None and agg.comment_count == 4

    token = await factory.token(pinner, "read_organic")
    feed = await _get(client, token, "/v3/users/maria_bakes/boards/feed/", sort="alphabetical")
    assert [b["name"] for b in feed["data"]] == ["Baking", "Weeknight Dinners"]
    assert all(b["image_thumbnail_url"].startswith("http://testserver/media/images/") for b in feed["data"])
    pins = await _get(client, token, "/v3/users/me/pins/")
    assert len(pins["data"]) == 3 and all(p["is_repin"] for p in pins["data"])
    assert pins["data"][0]["image_large_url"].startswith("http://testserver/media/images/")
    # Loading again is a no-op.
    assert await load_demo_dataset(runtime) is False
