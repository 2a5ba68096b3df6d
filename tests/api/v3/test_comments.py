"""Aggregated pin data comments, comment replies, and pinapi's comment extension."""

from __future__ import annotations

import httpx

from pinapi.runtime import Runtime
from pinapi.store.tables import AggregatedPinData, Comment, Pin
from tests.api.v3.organic_rows import Rows
from tests.factories import Factory, bearer


async def test_comments_are_shared_by_every_repin(
    client: httpx.AsyncClient, factory: Factory, runtime: Runtime
) -> None:
    owner = await factory.user("chef")
    fan = await factory.user("fan")
    rows = Rows(runtime)
    root = await rows.pin(owner, await rows.board(owner, "Food"), "Soup")
    repin = await rows.pin(fan, await rows.board(fan, "Saved"), "Soup", parent=root)
    assert repin.aggregated_pin_data_id == root.aggregated_pin_data_id
    agg = root.aggregated_pin_data_id

    fan_token = await factory.token(fan, "read_pins,write_pins")
    r = await client.post(
        f"/pinapi/v3/aggregated_pin_data/{agg}/comments/",
        data={"text": "  Looks great!  "},
        headers=bearer(fan_token),
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["endpoint_name"] == "pinapi_create_aggregated_comment"
    first = body["data"]
    assert first["text"] == "Looks great!" and first["type"] == "aggregatedcomment"
    assert first["user"]["username"] == "fan"
    assert first["aggregated_pin_data"] == {"id": str(agg)}
    assert first["parent_comment"] is None
    assert first["created_at"] == "Mon, 02 Nov 2026 12:00:00 +0000"

    owner_token = await factory.token(owner, "read_pins,write_pins")
    r = await client.post(
        f"/pinapi/v3/aggregated_pin_data/{agg}/comments/",
        json={"text": "Thanks!", "parent_comment_id": first["id"]},
        headers=bearer(owner_token),
    )
    assert r.status_code == 200, r.text
    reply = r.json()["data"]
    assert reply["parent_comment"] == {"id": first["id"]}
    r = await client.post(
        f"/pinapi/v3/aggregated_pin_data/{agg}/comments/",
        data={"text": "Second"},
        headers=bearer(owner_token),
    )
    second = r.json()["data"]

    # Counters: the aggregated data and every pin sharing it count all comments.
    assert (await rows.get(AggregatedPinData, agg)).comment_count == 3
    assert (await rows.get(Pin, root.id)).comment_count == 3
    assert (await rows.get(Pin, repin.id)).comment_count == 3
    assert (await rows.get(Comment, int(first["id"]))).reply_count == 1

    r = await client.get(f"/v3/aggregated_pin_data/{agg}/comments/", headers=bearer(fan_token))
    assert r.status_code == 200, r.text
    assert r.json()["endpoint_name"] == "v3_get_aggregated_pin_data_comments"
    listed = r.json()["data"]
    assert [c["id"] for c in listed] == [second["id"], first["id"]]
    assert listed[1]["reply_count"] == 1

    r = await client.get(f"/v3/aggregated_comments/{first['id']}/replies/", headers=bearer(fan_token))
    assert r.status_code == 200, r.text
    assert r.json()["endpoint_name"] == "v3_get_aggregated_comment_replies"
    assert [c["id"] for c in r.json()["data"]] == [reply["id"]]
    assert r.json()["data"][0]["user"]["username"] == "chef"


async def test_comment_lists_page(client: httpx.AsyncClient, factory: Factory, runtime: Runtime) -> None:
    owner = await factory.user("talker")
    rows = Rows(runtime)
    pin = await rows.pin(owner, await rows.board(owner, "Talk"), "Chat")
    top = await rows.comment(owner, pin, "top")
    replies = [str((await rows.comment(owner, pin, f"r{i}", parent=top)).id) for i in range(5)]
    token = await factory.token(owner, "read_pins")
    got: list[str] = []
    params: dict[str, str] = {"page_size": "2"}
    for _ in range(4):
        r = await client.get(
            f"/v3/aggregated_comments/{top.id}/replies/", params=params, headers=bearer(token)
        )
        assert r.status_code == 200, r.text
        got += [c["id"] for c in r.json()["data"]]
        if "bookmark" not in r.json():
            break
        params["bookmark"] = r.json()["bookmark"]
    assert got == replies
    # That bookmark is for the replies list, not for the comments list.
    r = await client.get(
        f"/v3/aggregated_pin_data/{pin.aggregated_pin_data_id}/comments/",
        params=params,
        headers=bearer(token),
    )
    assert r.status_code == 404 and r.json()["code"] == 10


async def test_comments_of_a_secret_pin_are_not_found_for_others(
    client: httpx.AsyncClient, factory: Factory, runtime: Runtime
) -> None:
    owner = await factory.user("private")
    rows = Rows(runtime)
    pin = await rows.pin(owner, await rows.board(owner, "Hidden", privacy="secret"), "mine")
    comment = await rows.comment(owner, pin, "note to self")
    agg = pin.aggregated_pin_data_id
    other = await factory.user("other")
    token = await factory.token(other, "read_pins,read_secret_pins,write_pins")
    r = await client.get(f"/v3/aggregated_pin_data/{agg}/comments/", headers=bearer(token))
    assert r.status_code == 404 and r.json()["code"] == 880
    r = await client.get(f"/v3/aggregated_comments/{comment.id}/replies/", headers=bearer(token))
    assert r.status_code == 404 and r.json()["code"] == 883
    r = await client.post(
        f"/pinapi/v3/aggregated_pin_data/{agg}/comments/", data={"text": "hi"}, headers=bearer(token)
    )
    assert r.status_code == 404 and r.json()["code"] == 880
    assert (await rows.get(AggregatedPinData, agg)).comment_count == 0

    # The owner sees them only with read_secret_pins.
    without = await factory.token(owner, "read_pins")
    r = await client.get(f"/v3/aggregated_pin_data/{agg}/comments/", headers=bearer(without))
    assert r.status_code == 404 and r.json()["code"] == 880
    with_secret = await factory.token(owner, "read_pins,read_secret_pins")
    r = await client.get(f"/v3/aggregated_pin_data/{agg}/comments/", headers=bearer(with_secret))
    assert [c["id"] for c in r.json()["data"]] == [str(comment.id)]


async def test_comment_bad_input(client: httpx.AsyncClient, factory: Factory, runtime: Runtime) -> None:
    owner = await factory.user("strict")
    rows = Rows(runtime)
    pin = await rows.pin(owner, await rows.board(owner, "B"), "p")
    other_pin = await rows.pin(owner, await rows.board(owner, "C"), "q")
    top = await rows.comment(owner, pin, "top")
    reply = await rows.comment(owner, pin, "reply", parent=top)
    elsewhere = await rows.comment(owner, other_pin, "elsewhere")
    agg = pin.aggregated_pin_data_id
    token = await factory.token(owner, "read_pins,write_pins")
    url = f"/pinapi/v3/aggregated_pin_data/{agg}/comments/"
    cases: list[tuple[dict[str, str], int, str]] = [
        ({}, 1, "text"),
        ({"text": "   "}, 1, "text"),
        ({"text": "x" * 501}, 121, "text"),
        ({"text": "ok", "parent_comment_id": "abc"}, 1, "parent_comment_id"),
        ({"text": "ok", "parent_comment_id": str(elsewhere.id)}, 1, "parent_comment_id"),
        ({"text": "ok", "parent_comment_id": str(reply.id)}, 1, "parent_comment_id"),
    ]
    for data, code, field in cases:
        r = await client.post(url, data=data, headers=bearer(token))
        assert r.json()["code"] == code, (data, r.text)
        assert r.json()["param"] == field
    assert (await rows.get(AggregatedPinData, agg)).comment_count == 0
    r = await client.post(
        f"/pinapi/v3/aggregated_pin_data/{agg}/comments/",
        data={"text": "ok", "parent_comment_id": "999"},
        headers=bearer(token),
    )
    assert r.status_code == 404 and r.json()["code"] == 883

    r = await client.get("/v3/aggregated_pin_data/notanid/comments/", headers=bearer(token))
    assert r.status_code == 400 and r.json()["param"] == "aggregated_pin_data"
    r = await client.get("/v3/aggregated_pin_data/12345/comments/", headers=bearer(token))
    assert r.status_code == 404 and r.json()["code"] == 880
    r = await client.get("/v3/aggregated_comments/12345/replies/", headers=bearer(token))
    assert r.status_code == 404 and r.json()["code"] == 883
    r = await client.get(f"/v3/aggregated_comments/{top.id}/replies/?page_size=500", headers=bearer(token))
    assert r.status_code == 400 and r.json()["code"] == 22


async def test_comments_need_scopes(client: httpx.AsyncClient, factory: Factory, runtime: Runtime) -> None:
    owner = await factory.user("scoped")
    rows = Rows(runtime)
    pin = await rows.pin(owner, await rows.board(owner, "B"), "p")
    top = await rows.comment(owner, pin, "top")
    agg = pin.aggregated_pin_data_id
    token = await factory.token(owner, "read_users")
    for path in (f"/v3/aggregated_pin_data/{agg}/comments/", f"/v3/aggregated_comments/{top.id}/replies/"):
        r = await client.get(path, headers=bearer(token))
        assert r.status_code == 401 and r.json()["code"] == 3 and "read_pins" in r.json()["message"]
    r = await client.post(
        f"/pinapi/v3/aggregated_pin_data/{agg}/comments/", data={"text": "x"}, headers=bearer(token)
    )
    assert r.status_code == 401 and r.json()["code"] == 3 and "write_pins" in r.json()["message"]
    assert (await rows.get(AggregatedPinData, agg)).comment_count == 0
