from __future__ import annotations

import asyncio

import httpx

from pinapi.runtime import Runtime
from pinapi.store.tables import User, UserFollow
from tests.api.v3.organic_rows import Rows
from tests.factories import Factory, bearer


async def _user(rt: Runtime, user: User) -> User:
    return await Rows(rt).get(User, user.id)


async def test_follow_and_unfollow_move_both_counters(
    client: httpx.AsyncClient, factory: Factory, runtime: Runtime
) -> None:
    me = await factory.user("fan")
    star = await factory.user("star")
    token = await factory.token(me, "write_user_followees,read_user_followers")
    r = await client.put(f"/v3/users/{star.username}/follow/", headers=bearer(token))
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["endpoint_name"] == "v3_follow_user_method"
    assert body["data"]["id"] == str(star.id)
    assert body["data"]["username"] == "star" and body["data"]["type"] == "user"
    assert (await _user(runtime, star)).follower_count == 1
    assert (await _user(runtime, me)).following_count == 1
    follow = await Rows(runtime).get(UserFollow, (me.id, star.id))
    assert follow.explicit is True

    # Following again changes nothing.
    r = await client.put(f"/v3/users/{star.id}/follow/", headers=bearer(token))
    assert r.status_code == 200
    assert (await _user(runtime, star)).follower_count == 1

    r = await client.delete(f"/v3/users/{star.id}/follow/", headers=bearer(token))
    assert r.status_code == 200, r.text
    assert r.json()["endpoint_name"] == "v3_unfollow_user_method"
    assert r.json()["data"] is None
    assert (await _user(runtime, star)).follower_count == 0
    assert (await _user(runtime, me)).following_count == 0
    # Unfollowing again is a no-op, counters never go negative.
    r = await client.delete(f"/v3/users/{star.id}/follow/", headers=bearer(token))
    assert r.status_code == 200
    assert (await _user(runtime, star)).follower_count == 0


async def test_follow_self_is_code_32(client: httpx.AsyncClient, factory: Factory, runtime: Runtime) -> None:
    me = await factory.user("narcissus")
    token = await factory.token(me, "write_user_followees")
    r = await client.put("/v3/users/me/follow/", headers=bearer(token))
    assert r.status_code == 403
    assert r.json()["code"] == 32
    assert (await _user(runtime, me)).follower_count == 0


async def test_follow_unknown_user_is_code_30(client: httpx.AsyncClient, factory: Factory) -> None:
    me = await factory.user()
    token = await factory.token(me, "write_user_followees")
    r = await client.put("/v3/users/nobody_here/follow/", headers=bearer(token))
    assert r.status_code == 404
    assert r.json()["code"] == 30


async def test_follow_bad_auto_follow_names_field(client: httpx.AsyncClient, factory: Factory) -> None:
    me = await factory.user()
    other = await factory.user()
    token = await factory.token(me, "write_user_followees")
    r = await client.put(
        f"/v3/users/{other.id}/follow/", data={"auto_follow": "maybe"}, headers=bearer(token)
    )
    assert r.status_code == 400
    assert r.json()["code"] == 1 and r.json()["param"] == "auto_follow"


async def test_follow_needs_write_user_followees(
    client: httpx.AsyncClient, factory: Factory, runtime: Runtime
) -> None:
    me = await factory.user()
    other = await factory.user()
    token = await factory.token(me, "read_organic")
    r = await client.put(f"/v3/users/{other.id}/follow/", headers=bearer(token))
    assert r.status_code == 401
    assert r.json()["code"] == 3 and "write_user_followees" in r.json()["message"]
    r = await client.delete(f"/v3/users/{other.id}/follow/", headers=bearer(token))
    assert r.status_code == 401
    assert (await _user(runtime, other)).follower_count == 0


async def test_concurrent_follows_keep_counters_exact(
    client: httpx.AsyncClient, factory: Factory, runtime: Runtime
) -> None:
    star = await factory.user("popular")
    fans = [await factory.user() for _ in range(8)]
    tokens = [await factory.token(f, "write_user_followees") for f in fans]
    # Every fan follows twice at once: 16 racing requests, 8 real follows.
    calls = [client.put(f"/v3/users/{star.id}/follow/", headers=bearer(t)) for t in tokens * 2]
    results = await asyncio.gather(*calls)
    assert [r.status_code for r in results] == [200] * 16
    assert (await _user(runtime, star)).follower_count == 8
    for f in fans:
        assert (await _user(runtime, f)).following_count == 1
    calls = [client.delete(f"/v3/users/{star.id}/follow/", headers=bearer(t)) for t in tokens * 2]
    results = await asyncio.gather(*calls)
    assert [r.status_code for r in results] == [200] * 16
    assert (await _user(runtime, star)).follower_count == 0


async def test_followers_and_following_lists_page_with_bookmarks(
    client: httpx.AsyncClient, factory: Factory
) -> None:
    star = await factory.user("celeb")
    fans = [await factory.user(f"fan{i}") for i in range(5)]
    for f in fans:
        t = await factory.token(f, "write_user_followees")
        assert (await client.put(f"/v3/users/{star.id}/follow/", headers=bearer(t))).status_code == 200
    token = await factory.token(star, "read_user_followers")
    seen: list[str] = []
    url = f"/v3/users/{star.id}/followers/"
    pages = 0
    params: dict[str, str] = {"page_size": "2"}
    while True:
        r = await client.get(url, params=params, headers=bearer(token))
        assert r.status_code == 200, r.text
        body = r.json()
        assert body["endpoint_name"] == "v3_get_user_followers_handler"
        seen += [u["username"] for u in body["data"]]
        pages += 1
        if "bookmark" not in body:
            break
        params = {"page_size": "2", "bookmark": body["bookmark"]}
    assert pages == 3
    assert seen == [f"fan{i}" for i in reversed(range(5))]

    fan_token = await factory.token(fans[0], "read_user_followers")
    r = await client.get("/v3/users/me/following/", headers=bearer(fan_token))
    assert r.status_code == 200
    assert r.json()["endpoint_name"] == "v3_get_user_following_handler"
    assert [u["id"] for u in r.json()["data"]] == [str(star.id)]
    assert "bookmark" not in r.json()


async def test_following_feed_types_and_implicit_board_follows(
    client: httpx.AsyncClient, factory: Factory, runtime: Runtime
) -> None:
    me = await factory.user("watcher")
    shop = await factory.user("shop", business=True)
    friend = await factory.user("friend")
    crafter = await factory.user("crafter")
    token = await factory.token(me, "write_user_followees,read_user_followers")
    for u in (shop, friend):
        assert (await client.put(f"/v3/users/{u.id}/follow/", headers=bearer(token))).status_code == 200
    rows = Rows(runtime)
    board = await rows.board(crafter, "Knitting")
    await rows.follow_board(me, board)
    # A fan for friend, so RANKED puts friend first.
    other = await factory.user()
    ot = await factory.token(other, "write_user_followees")
    assert (await client.put(f"/v3/users/{friend.id}/follow/", headers=bearer(ot))).status_code == 200

    async def names(**params: str) -> list[str]:
        r = await client.get("/v3/users/me/following/", params=params, headers=bearer(token))
        assert r.status_code == 200, r.text
        return [u["username"] for u in r.json()["data"]]

    assert await names() == ["crafter", "friend", "shop"]
    assert await names(explicit_following="true") == ["friend", "shop"]
    assert await names(feed_type="CREATOR_ONLY") == ["shop"]
    assert await names(feed_type="RANKED", explicit_following="true") == ["friend", "shop"]

    r = await client.get("/v3/users/me/following/", params={"feed_type": "BEST"}, headers=bearer(token))
    assert r.status_code == 400
    assert r.json()["code"] == 1 and r.json()["param"] == "feed_type"


async def test_follow_lists_need_read_user_followers(client: httpx.AsyncClient, factory: Factory) -> None:
    me = await factory.user()
    token = await factory.token(me, "read_users,read_boards")
    for path in ("followers", "following", "boards/following"):
        r = await client.get(f"/v3/users/me/{path}/", headers=bearer(token))
        assert r.status_code == 401
        assert r.json()["code"] == 3 and "read_user_followers" in r.json()["message"]


async def test_follow_list_bad_paging(client: httpx.AsyncClient, factory: Factory) -> None:
    me = await factory.user()
    token = await factory.token(me, "read_user_followers")
    r = await client.get("/v3/users/me/followers/?page_size=251", headers=bearer(token))
    assert r.status_code == 400 and r.json()["code"] == 22
    r = await client.get("/v3/users/me/followers/?bookmark=forged.bookmark", headers=bearer(token))
    assert r.status_code == 404 and r.json()["code"] == 10


async def test_boards_following_explicit_and_implicit(
    client: httpx.AsyncClient, factory: Factory, runtime: Runtime
) -> None:
    me = await factory.user("reader")
    alice = await factory.user("alice")
    bob = await factory.user("bob")
    rows = Rows(runtime)
    cakes = await rows.board(alice, "Cakes")
    await rows.board(alice, "Hidden", privacy="secret")
    bikes = await rows.board(bob, "Bikes")
    await rows.follow_board(me, cakes)
    token = await factory.token(me, "write_user_followees,read_user_followers")
    assert (await client.put(f"/v3/users/{bob.id}/follow/", headers=bearer(token))).status_code == 200

    r = await client.get("/v3/users/me/boards/following/", headers=bearer(token))
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["endpoint_name"] == "v3_get_boards_following_handler"
    assert [b["id"] for b in body["data"]] == [str(bikes.id), str(cakes.id)]
    cake = body["data"][1]
    assert cake["followed_by_me"] is True and cake["type"] == "board" and cake["name"] == "Cakes"
    assert body["data"][0]["followed_by_me"] is False

    r = await client.get("/v3/users/me/boards/following/?explicit_following=true", headers=bearer(token))
    assert [b["id"] for b in r.json()["data"]] == [str(cakes.id)]
