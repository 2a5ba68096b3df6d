from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from pinapi.api.v3.ads.campaigns import campaign_bodies
from pinapi.domain.access.principal import Principal
from pinapi.domain.ads import campaigns as domain_campaigns
from pinapi.runtime import Runtime
from pinapi.store.tables import Campaign
from pinapi.store.tables.facts import DeliveryHour
from tests.api.v3.ads.helpers import DAY, NOW, Account, account, failure, make_ad_group, make_campaign
from tests.factories import Factory, bearer


async def _count(runtime: Runtime) -> int:
    async with runtime.sessions() as s:
        return int(await s.scalar(select(func.count()).select_from(Campaign)) or 0)


async def test_create_campaign_returns_and_stores_it(client: httpx.AsyncClient, factory: Factory) -> None:
    acc = await account(factory)
    body = {
        "advertiser_id": str(acc.advertiser.id),
        "name": " Spring sale ",
        "objective_type": "TRAFFIC",
        "daily_spend_cap": 50_000_000,
        "lifetime_spend_cap": 500_000_000,
        "start_time": NOW + DAY,
        "end_time": NOW + 30 * DAY,
        "tracking_urls": {"impression": ["https://t.example/i"]},
    }
    r = await client.post("/ads/v3/campaigns/", json=body, headers=acc.headers)
    assert r.status_code == 200, r.text
    out = r.json()
    assert out["endpoint_name"] == "ads_v3_create_campaign_handler"
    data = out["data"]
    assert data["name"] == "Spring sale" and data["type"] == "campaign"
    assert data["advertiser_id"] == str(acc.advertiser.id)
    assert data["objective_type"] == "TRAFFIC"
    assert data["status"] == "ACTIVE" and data["entity_status"] == "ACTIVE"
    assert data["summary_status"] == "NOT_STARTED"
    assert data["daily_spend_cap"] == 50_000_000 and data["lifetime_spend_cap"] == 500_000_000
    assert data["start_time"] == NOW + DAY and data["end_time"] == NOW + 30 * DAY
    assert data["created_time"] == NOW and data["updated_time"] == NOW
    assert data["ad_group_ids"] == []
    assert data["tracking_urls"] == '{"impression":["https://t.example/i"]}'
    got = await client.get(f"/ads/v3/campaigns/{data['id']}/", headers=acc.headers)
    assert got.status_code == 200
    assert got.json()["data"] == data
    assert got.json()["endpoint_name"] == "ads_v3_get_campaign_handler"
    # ads rate-limit categories: reads count as READ (500/s), writes as WRITE (400/min)
    assert got.headers["x-userendpoint-ratelimit-limit"] == "500"
    bare = await client.get(f"/ads/v3/campaigns/{data['id']}", headers=acc.headers)
    assert bare.status_code == 200 and bare.json()["data"] == data
    assert r.headers["x-userendpoint-ratelimit-limit"] == "400"


async def test_create_campaign_accepts_a_form_body(client: httpx.AsyncClient, factory: Factory) -> None:
    acc = await account(factory)
    form = {"advertiser_id": str(acc.advertiser.id), "name": "Form", "objective_type": "video_view"}
    r = await client.post("/ads/v3/campaigns/", data=form, headers=acc.headers)
    assert r.status_code == 200, r.text
    assert r.json()["data"]["objective_type"] == "VIDEO_VIEW"
    assert r.json()["data"]["summary_status"] == "RUNNING"


async def test_create_campaign_bad_input(
    client: httpx.AsyncClient, factory: Factory, runtime: Runtime
) -> None:
    acc = await account(factory)
    adv = str(acc.advertiser.id)
    cases = [
        ({"advertiser_id": adv, "name": "x"}, 400, 1, "objective_type"),
        ({"advertiser_id": adv, "name": "x", "objective_type": "WEB_SESSIONS"}, 400, 1, "objective_type"),
        ({"name": "x", "objective_type": "AWARENESS"}, 400, 1, "advertiser_id"),
        ({"advertiser_id": adv, "name": "  ", "objective_type": "AWARENESS"}, 400, 1, "name"),
        (
            {"advertiser_id": adv, "name": "x", "objective_type": "AWARENESS", "lifetime_spend_cap": 10**9},
            400,
            15,
            "end_time",
        ),
        (
            {"advertiser_id": adv, "name": "x", "objective_type": "AWARENESS", "daily_spend_cap": 10},
            400,
            15,
            "daily_spend_cap",
        ),
        (
            {
                "advertiser_id": adv,
                "name": "x",
                "objective_type": "AWARENESS",
                "start_time": NOW + 5 * DAY,
                "end_time": NOW + DAY,
            },
            400,
            15,
            "end_time",
        ),
        (
            {"advertiser_id": adv, "name": "x", "objective_type": "AWARENESS", "end_time": NOW - DAY},
            400,
            15,
            "end_time",
        ),
        (
            {"advertiser_id": adv, "name": "x", "objective_type": "AWARENESS", "start_time": "soon"},
            400,
            1,
            "start_time",
        ),
        (
            {"advertiser_id": adv, "name": "x", "objective_type": "AWARENESS", "status": "ARCHIVED"},
            400,
            15,
            "status",
        ),
        (
            {
                "advertiser_id": adv,
                "name": "x",
                "objective_type": "AWARENESS",
                "tracking_urls": {"view": ["https://a"]},
            },
            400,
            1,
            "tracking_urls.view",
        ),
    ]
    for body, status, code, param in cases:
        r = await client.post("/ads/v3/campaigns/", json=body, headers=acc.headers)
        failure(r, status, code, param)
    assert await _count(runtime) == 0


async def test_create_campaign_needs_write_campaigns(client: httpx.AsyncClient, factory: Factory) -> None:
    acc = await account(factory, "read_campaigns,read_advertisers")
    r = await client.post(
        "/ads/v3/campaigns/",
        json={"advertiser_id": str(acc.advertiser.id), "name": "x", "objective_type": "AWARENESS"},
        headers=acc.headers,
    )
    body = failure(r, 401, 3)
    assert "write_campaigns" in body["message"]


async def test_campaigns_of_strangers_are_refused_or_not_found(
    client: httpx.AsyncClient, factory: Factory
) -> None:
    owner = await account(factory)
    stranger = await account(factory)
    made = await make_campaign(client, owner)
    r = await client.post(
        "/ads/v3/campaigns/",
        json={"advertiser_id": str(owner.advertiser.id), "name": "x", "objective_type": "AWARENESS"},
        headers=stranger.headers,
    )
    failure(r, 403, 1902)
    failure(await client.get(f"/ads/v3/campaigns/{made['id']}/", headers=stranger.headers), 404, 3001)
    r = await client.put(f"/ads/v3/campaigns/{made['id']}/", json={"name": "mine"}, headers=stranger.headers)
    failure(r, 404, 3001)
    failure(await client.get("/ads/v3/campaigns/123/", headers=owner.headers), 404, 3001)
    failure(await client.get("/ads/v3/campaigns/abc/", headers=owner.headers), 400, 1, "campaign")


async def test_update_campaign(client: httpx.AsyncClient, factory: Factory, runtime: Runtime) -> None:
    acc = await account(factory)
    made = await make_campaign(client, acc, objective_type="AWARENESS")
    r = await client.put(
        f"/ads/v3/campaigns/{made['id']}/", data={"name": "Renamed", "status": "PAUSED"}, headers=acc.headers
    )
    assert r.status_code == 200, r.text
    data = r.json()["data"]
    assert data["name"] == "Renamed" and data["status"] == "PAUSED" and data["summary_status"] == "PAUSED"
    assert r.json()["endpoint_name"] == "ads_v3_update_campaign_handler"
    async with runtime.sessions() as s:
        stored = await s.get(Campaign, int(made["id"]))
        assert stored is not None and stored.name == "Renamed" and stored.status == "PAUSED"


async def test_update_campaign_rules(client: httpx.AsyncClient, factory: Factory) -> None:
    acc = await account(factory)
    made = await make_campaign(
        client, acc, start_time=NOW + DAY, end_time=NOW + 20 * DAY, daily_spend_cap=50_000_000
    )
    cid = made["id"]
    await make_ad_group(client, acc, cid, budget_in_micro_currency=40_000_000, start_time=NOW + 2 * DAY)
    put = f"/ads/v3/campaigns/{cid}/"
    failure(
        await client.put(put, json={"objective_type": "TRAFFIC"}, headers=acc.headers),
        400,
        15,
        "objective_type",
    )
    failure(
        await client.put(put, json={"daily_spend_cap": 30_000_000}, headers=acc.headers),
        400,
        15,
        "daily_spend_cap",
    )
    failure(
        await client.put(put, json={"start_time": NOW + 3 * DAY}, headers=acc.headers), 400, 15, "start_time"
    )
    failure(await client.put(put, json={"end_time": NOW + 2 * DAY}, headers=acc.headers), 400, 15, "end_time")
    failure(await client.put(put, json={"status": "DELETED"}, headers=acc.headers), 400, 1, "status")
    r = await client.put(put, json={"status": "ARCHIVED"}, headers=acc.headers)
    assert r.status_code == 200 and r.json()["data"]["summary_status"] == "ARCHIVED"
    failure(await client.put(put, json={"status": "ACTIVE"}, headers=acc.headers), 400, 15, "status")
    failure(await client.put(put, json={"name": "again"}, headers=acc.headers), 400, 15, "status")
    got = await client.get(put, headers=acc.headers)
    assert got.json()["data"]["status"] == "ARCHIVED" and got.json()["data"]["daily_spend_cap"] == 50_000_000


async def test_campaign_ad_groups_are_paged(client: httpx.AsyncClient, factory: Factory) -> None:
    acc = await account(factory)
    made = await make_campaign(client, acc)
    ids = [(await make_ad_group(client, acc, made["id"], name=f"G{i}"))["id"] for i in range(3)]
    url = f"/ads/v3/campaigns/{made['id']}/ad_groups/"
    r = await client.get(url, params={"page_size": 2}, headers=acc.headers)
    assert r.status_code == 200
    first = r.json()
    assert first["endpoint_name"] == "ads_v3_get_campaign_ad_groups_handler"
    assert [g["id"] for g in first["data"]] == ids[:2]
    r2 = await client.get(url, params={"page_size": 2, "bookmark": first["bookmark"]}, headers=acc.headers)
    assert [g["id"] for g in r2.json()["data"]] == ids[2:]
    assert "bookmark" not in r2.json()
    got = await client.get(f"/ads/v3/campaigns/{made['id']}/", headers=acc.headers)
    assert got.json()["data"]["ad_group_ids"] == ids
    failure(await client.get(url, params={"bookmark": "forged.x"}, headers=acc.headers), 404, 10)
    failure(await client.get(url, params={"page_size": 251}, headers=acc.headers), 400, 22)
    reader = await factory.token(acc.user, "read_advertisers")
    failure(await client.get(url, headers=bearer(reader)), 401, 3)


async def test_batch_create_reports_each_item(
    client: httpx.AsyncClient, factory: Factory, runtime: Runtime
) -> None:
    acc = await account(factory)
    items = [
        {"name": "ok 1", "objective_type": "AWARENESS"},
        {"name": "bad", "objective_type": "NOPE"},
        {"name": "ok 2", "objective_type": "TRAFFIC", "daily_spend_cap": 5_000_000},
        {"name": "bad cap", "objective_type": "TRAFFIC", "lifetime_spend_cap": 10**9},
    ]
    url = f"/ads/v3/advertisers/{acc.advertiser.id}/campaigns/batch/"
    r = await client.post(url, json=items, headers=acc.headers)
    assert r.status_code == 200, r.text
    out = r.json()
    assert out["endpoint_name"] == "ads_v3_create_advertiser_campaigns_batch_handler"
    results = out["data"]
    assert [x["data"]["name"] if x["data"] else None for x in results] == ["ok 1", None, "ok 2", None]
    assert results[0]["exceptions"] == []
    assert results[1]["exceptions"] == [
        {"code": 1, "message": results[1]["exceptions"][0]["message"], "param": "objective_type"}
    ]
    assert results[3]["exceptions"][0]["code"] == 15 and results[3]["exceptions"][0]["param"] == "end_time"
    assert await _count(runtime) == 2
    # batch update: one good, one unknown id, one breaking a rule
    ok_id, other_id = results[0]["data"]["id"], results[2]["data"]["id"]
    upd = [
        {"id": ok_id, "name": "renamed"},
        {"id": "999", "name": "ghost"},
        {"id": other_id, "name": "half", "objective_type": "AWARENESS"},
    ]
    r = await client.put(url, json={"campaigns": upd}, headers=acc.headers)
    assert r.status_code == 200, r.text
    res = r.json()["data"]
    assert res[0]["data"]["name"] == "renamed"
    assert res[1]["exceptions"][0]["code"] == 3001
    assert res[2]["exceptions"][0]["param"] == "objective_type"
    async with runtime.sessions() as s:
        untouched = await s.get(Campaign, int(other_id))
        assert untouched is not None and untouched.name == "ok 2"


async def test_batch_bad_input_and_access(client: httpx.AsyncClient, factory: Factory) -> None:
    acc = await account(factory)
    stranger = await account(factory)
    url = f"/ads/v3/advertisers/{acc.advertiser.id}/campaigns/batch/"
    failure(await client.post(url, json={"campaigns": "nope"}, headers=acc.headers), 400, 1, "campaigns")
    failure(await client.post(url, json=[], headers=acc.headers), 400, 1, "campaigns")
    failure(await client.post(url, json=[{"id": 1}] * 251, headers=acc.headers), 400, 1, "campaigns")
    item = [{"name": "x", "objective_type": "AWARENESS"}]
    failure(await client.post(url, json=item, headers=stranger.headers), 403, 1902)
    reader = await factory.token(acc.user, "read_campaigns")
    failure(await client.post(url, json=item, headers=bearer(reader)), 401, 3)


async def _spent(
    runtime: Runtime, campaign: dict[str, Any], group: dict[str, Any], micro: int, hours: int
) -> None:
    async with runtime.sessions() as s, s.begin():
        s.add(
            DeliveryHour(
                pin_promotion_id=1,
                hour=runtime.clock.now() - timedelta(hours=hours),
                ad_group_id=int(group["id"]),
                campaign_id=int(campaign["id"]),
                advertiser_id=int(campaign["advertiser_id"]),
                local_date=date(2026, 11, 2),
                spend_in_micro_dollar=micro,
            )
        )


def _counting(runtime: Runtime, monkeypatch: pytest.MonkeyPatch) -> list[object]:
    """Records every statement the runtime's reader runs from now on."""
    calls: list[object] = []
    first = runtime.reader.first_row

    async def counted(statement: Any, params: Any = None) -> Any:
        calls.append(statement)
        return await first(statement, params)

    monkeypatch.setattr(runtime.reader, "first_row", counted)  # ``first`` goes through it
    return calls


async def test_get_campaign_is_one_read_with_the_session_paths_body(
    client: httpx.AsyncClient, factory: Factory, runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    acc = await account(factory)
    made = await make_campaign(
        client,
        acc,
        lifetime_spend_cap=100_000_000,
        end_time=NOW + 30 * DAY,
        tracking_urls={"click": ["https://t.example/c"]},
    )
    groups = [await make_ad_group(client, acc, made["id"]) for _ in range(3)]
    await _spent(runtime, made, groups[0], 60_000_000, 3)
    await _spent(runtime, made, groups[2], 40_000_000, 2)  # the cap is used up: COMPLETED
    # The session path (``load`` and the list shapes) is what the single read must match.
    async with runtime.sessions() as s:
        loaded = await domain_campaigns.load(
            s, principal=_principal(acc), campaign_id=int(made["id"]), action="CAMPAIGN_READ"
        )
        expected = (await campaign_bodies(s, [loaded.campaign], loaded.advertiser, runtime.clock.now()))[0]
    calls = _counting(runtime, monkeypatch)
    r = await client.get(f"/ads/v3/campaigns/{made['id']}/", headers=acc.headers)
    assert r.status_code == 200, r.text
    data = r.json()["data"]
    assert data == expected
    assert data["summary_status"] == "COMPLETED"
    assert data["ad_group_ids"] == [g["id"] for g in sorted(groups, key=lambda g: int(g["id"]))]
    assert data["tracking_urls"] == '{"click":["https://t.example/c"]}'
    assert len(calls) == 1


def _principal(acc: Account) -> Principal:
    return Principal(user_id=acc.user.id, app_id=0, scopes=frozenset({"read_campaigns"}))


async def test_get_campaign_roles_through_the_single_read(
    client: httpx.AsyncClient, factory: Factory
) -> None:
    owner = await account(factory)
    made = await make_campaign(client, owner)
    path = f"/ads/v3/campaigns/{made['id']}/"
    # Several shared roles add up: one that may read is enough.
    reader = await factory.user()
    for role in ("FINANCE_MANAGER", "ANALYST"):
        await factory.share(owner.advertiser, reader, role)
    r = await client.get(path, headers=bearer(await factory.token(reader, "read_campaigns")))
    assert r.status_code == 200 and r.json()["data"]["id"] == made["id"]
    # Roles that may not read the campaign: refused, naming the action.
    finance = await factory.user()
    for role in ("FINANCE_MANAGER", "AUDIENCE_MANAGER"):
        await factory.share(owner.advertiser, finance, role)
    r = await client.get(path, headers=bearer(await factory.token(finance, "read_campaigns")))
    body = failure(r, 403, 1902)
    assert "CAMPAIGN_READ" in body["message"]
    # A role on another advertiser shows nothing of this one.
    other = await account(factory)
    outsider = await factory.user()
    await factory.share(other.advertiser, outsider, "ADMIN")
    r = await client.get(path, headers=bearer(await factory.token(outsider, "read_campaigns")))
    failure(r, 404, 3001)
    # The scope is checked before anything is read.
    r = await client.get(path, headers=bearer(await factory.token(owner.user, "read_advertisers")))
    assert (r.status_code, r.json()["code"]) == (401, 3)


async def test_get_campaign_repeated_reads_follow_the_store_and_the_clock(
    client: httpx.AsyncClient, factory: Factory, runtime: Runtime, clock: Any
) -> None:
    # The second read of an unchanged campaign reuses what the first one built (the reader
    # row is equal), yet every change in the store and the clock shows at once.
    acc = await account(factory)
    made = await make_campaign(client, acc, end_time=NOW + DAY)
    path = f"/ads/v3/campaigns/{made['id']}/"
    first = (await client.get(path, headers=acc.headers)).json()["data"]
    again = (await client.get(path, headers=acc.headers)).json()["data"]
    assert first == again == made
    r = await client.put(path, json={"name": "Renamed"}, headers=acc.headers)
    assert r.status_code == 200, r.text
    renamed = (await client.get(path, headers=acc.headers)).json()["data"]
    assert renamed["name"] == "Renamed" and renamed == r.json()["data"]
    group = await make_ad_group(client, acc, made["id"])
    assert (await client.get(path, headers=acc.headers)).json()["data"]["ad_group_ids"] == [group["id"]]
    # Nothing stored changes when the end time passes: the summary status still does.
    assert renamed["summary_status"] == "RUNNING"
    clock.advance(timedelta(days=2))
    ended = (await client.get(path, headers=acc.headers)).json()["data"]
    assert ended["summary_status"] == "COMPLETED"
    assert {k: v for k, v in ended.items() if k not in ("summary_status", "ad_group_ids")} == {
        k: v for k, v in renamed.items() if k not in ("summary_status", "ad_group_ids")
    }
    # Every caller's roles are its own (they are part of the row read), and checked on every read.
    reader = await factory.user()
    await factory.share(acc.advertiser, reader, "FINANCE_MANAGER")
    refused = await client.get(path, headers=bearer(await factory.token(reader, "read_campaigns")))
    assert "CAMPAIGN_READ" in failure(refused, 403, 1902)["message"]
