from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from pinapi.api.v3.ads.pin_promotions import promotion_body
from pinapi.domain.access.principal import Principal
from pinapi.domain.ads import pin_promotions as promotions
from pinapi.domain.clock import FixedClock
from pinapi.runtime import Runtime
from pinapi.store.tables import AdGroup, Advertiser, Campaign, Job, Pin, PinPromotion, User
from tests.api.v3.ads.builders import AdsBuilder
from tests.factories import Factory, bearer

WRITE = "read_pin_promotions,write_pin_promotions"


@dataclass
class World:
    owner: User
    advertiser: Advertiser
    campaign: Campaign
    ad_group: AdGroup
    pin: Pin
    token: str


@pytest.fixture
def ads(runtime: Runtime) -> AdsBuilder:
    return AdsBuilder(runtime)


@pytest.fixture
async def world(factory: Factory, ads: AdsBuilder) -> World:
    owner = await factory.user("owner", business=True)
    adv = await factory.advertiser(owner)
    campaign = await ads.campaign(adv)
    group = await ads.ad_group(campaign)
    board = await ads.board(owner)
    pin = await ads.pin(owner, board)
    token = await factory.token(owner, WRITE)
    return World(owner, adv, campaign, group, pin, token)


async def _count(runtime: Runtime) -> int:
    async with runtime.sessions() as s:
        return int(await s.scalar(select(func.count()).select_from(PinPromotion)) or 0)


async def test_create_get_and_review_approves(
    client: httpx.AsyncClient, world: World, ads: AdsBuilder, runtime: Runtime
) -> None:
    r = await client.post(
        "/ads/v3/pin_promotions/",
        json={"ad_group_id": str(world.ad_group.id), "pin_id": str(world.pin.id), "name": "Shirt promo"},
        headers=bearer(world.token),
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["endpoint_name"] == "ads_v3_create_pin_promotion_handler"
    data = body["data"]
    assert data["type"] == "pinpromotion"
    assert data["ad_group_id"] == str(world.ad_group.id)
    assert data["campaign_id"] == str(world.campaign.id)
    assert data["advertiser_id"] == str(world.advertiser.id)
    assert data["pin_id"] == str(world.pin.id)
    assert data["name"] == "Shirt promo"
    assert data["status"] == "ACTIVE"
    assert data["review_status"] == "PENDING"
    assert data["summary_status"] == "PENDING"
    assert data["creative_type"] == "REGULAR"
    assert data["campaign_objective_type"] == "TRAFFIC"
    assert data["is_pin_deleted"] is False
    assert data["created_time"] == int(runtime.clock.now().timestamp())
    async with runtime.sessions() as s:
        jobs = (await s.scalars(select(Job).where(Job.kind == "ads.review_pin_promotion"))).all()
    assert len(jobs) == 1 and jobs[0].payload["pin_promotion_id"] == int(data["id"])

    assert await ads.drain() == 1
    r = await client.get(f"/ads/v3/pin_promotions/{data['id']}/", headers=bearer(world.token))
    assert r.status_code == 200
    got = r.json()["data"]
    assert got["review_status"] == "APPROVED" and got["summary_status"] == "APPROVED"
    assert got["rejected_reasons"] == [] and got["rejection_labels"] == []


async def test_review_waits_for_the_configured_delay(
    client: httpx.AsyncClient, world: World, ads: AdsBuilder, runtime: Runtime, clock: FixedClock
) -> None:
    runtime.settings.review_delay_seconds = 60
    r = await client.post(
        "/ads/v3/pin_promotions/",
        data={"ad_group_id": str(world.ad_group.id), "pin_id": str(world.pin.id)},
        headers=bearer(world.token),
    )
    assert r.status_code == 200, r.text
    assert r.json()["data"]["name"] == "Plaid shirt"  # defaults to the pin title
    assert await ads.drain() == 0
    clock.advance(timedelta(seconds=61))
    assert await ads.drain() == 1


async def test_create_bad_input(
    client: httpx.AsyncClient, world: World, factory: Factory, ads: AdsBuilder, runtime: Runtime
) -> None:
    base = {"ad_group_id": str(world.ad_group.id), "pin_id": str(world.pin.id)}
    cases = [
        ({"pin_id": str(world.pin.id)}, "ad_group_id", 1),
        ({**base, "pin_id": "abc"}, "pin_id", 1),
        ({**base, "pin_id": "123"}, "pin_id", 1),
        ({**base, "ad_group_id": "999"}, "ad_group_id", 1),
        ({**base, "status": "ARCHIVED"}, "status", 15),
        ({**base, "status": "RUNNING"}, "status", 1),
        ({**base, "creative_type": "VIDEO"}, "pin_id", 15),
        ({**base, "creative_type": "APP"}, "creative_type", 15),
        ({**base, "click_tracking_url": "ftp://x"}, "click_tracking_url", 1),
        ({**base, "tracking_urls": '{"nope": []}'}, "tracking_urls", 1),
        ({**base, "colour": "red"}, "colour", 1),
    ]
    for payload, field, code in cases:
        r = await client.post("/ads/v3/pin_promotions/", json=payload, headers=bearer(world.token))
        assert r.status_code == 400, (payload, r.text)
        body = r.json()
        assert body["code"] == code, (payload, body)
        assert f"'{field}'" in body["message"], (payload, body)
    # Someone else's pin cannot be promoted.
    other = await factory.user("other")
    pin = await ads.pin(other, await ads.board(other, "Theirs"))
    r = await client.post(
        "/ads/v3/pin_promotions/", json={**base, "pin_id": str(pin.id)}, headers=bearer(world.token)
    )
    assert r.status_code == 400 and "'pin_id'" in r.json()["message"]
    assert await _count(runtime) == 0


async def test_video_view_needs_a_video_pin(client: httpx.AsyncClient, world: World, ads: AdsBuilder) -> None:
    campaign = await ads.campaign(world.advertiser, "VIDEO_VIEW")
    group = await ads.ad_group(campaign)
    r = await client.post(
        "/ads/v3/pin_promotions/",
        json={"ad_group_id": str(group.id), "pin_id": str(world.pin.id)},
        headers=bearer(world.token),
    )
    assert r.status_code == 400
    assert r.json()["code"] == 15 and "'pin_id'" in r.json()["message"]
    video = await ads.pin(world.owner, await ads.board(world.owner, "Videos"), is_video=True)
    r = await client.post(
        "/ads/v3/pin_promotions/",
        json={"ad_group_id": str(group.id), "pin_id": str(video.id)},
        headers=bearer(world.token),
    )
    assert r.status_code == 200, r.text
    assert r.json()["data"]["creative_type"] == "VIDEO"


async def test_archived_parents_and_archived_is_terminal(
    client: httpx.AsyncClient, world: World, ads: AdsBuilder
) -> None:
    archived = await ads.ad_group(world.campaign, status="ARCHIVED")
    r = await client.post(
        "/ads/v3/pin_promotions/",
        json={"ad_group_id": str(archived.id), "pin_id": str(world.pin.id)},
        headers=bearer(world.token),
    )
    assert r.status_code == 400 and r.json()["code"] == 15
    r = await client.post(
        "/ads/v3/pin_promotions/",
        json={"ad_group_id": str(world.ad_group.id), "pin_id": str(world.pin.id)},
        headers=bearer(world.token),
    )
    pid = r.json()["data"]["id"]
    r = await client.put(
        f"/ads/v3/pin_promotions/{pid}/", data={"status": "ARCHIVED"}, headers=bearer(world.token)
    )
    assert r.status_code == 200 and r.json()["data"]["summary_status"] == "ARCHIVED"
    r = await client.put(
        f"/ads/v3/pin_promotions/{pid}/", data={"status": "ACTIVE"}, headers=bearer(world.token)
    )
    assert r.status_code == 400
    assert r.json()["code"] == 15 and "'status'" in r.json()["message"]


async def test_update_restarts_review_but_pausing_does_not(
    client: httpx.AsyncClient, world: World, ads: AdsBuilder, runtime: Runtime
) -> None:
    r = await client.post(
        "/ads/v3/pin_promotions/",
        json={"ad_group_id": str(world.ad_group.id), "pin_id": str(world.pin.id)},
        headers=bearer(world.token),
    )
    pid = r.json()["data"]["id"]
    await ads.drain()
    r = await client.put(
        f"/ads/v3/pin_promotions/{pid}/", json={"status": "PAUSED"}, headers=bearer(world.token)
    )
    assert r.status_code == 200
    data = r.json()["data"]
    assert data["status"] == "PAUSED" and data["review_status"] == "APPROVED"
    assert data["summary_status"] == "PAUSED"
    assert r.json()["endpoint_name"] == "ads_v3_update_pin_promotion_handler"
    r = await client.put(
        f"/ads/v3/pin_promotions/{pid}/",
        json={"destination_url": "mailto:someone@example.com"},
        headers=bearer(world.token),
    )
    assert r.status_code == 200
    assert r.json()["data"]["review_status"] == "PENDING"
    assert await ads.drain() == 1
    async with runtime.sessions() as s:
        row = await s.get(PinPromotion, int(pid))
        assert row is not None
        assert row.review_status == "REJECTED" and row.rejected_reasons == ["LANDING_PAGE_BROKEN"]
        assert row.review_version == 2
    r = await client.put(f"/ads/v3/pin_promotions/{pid}/", json={"pin_id": "1"}, headers=bearer(world.token))
    assert r.status_code == 400 and "'pin_id'" in r.json()["message"]


async def test_scopes_and_roles(
    client: httpx.AsyncClient, world: World, factory: Factory, runtime: Runtime
) -> None:
    r = await client.post(
        "/ads/v3/pin_promotions/",
        json={"ad_group_id": str(world.ad_group.id), "pin_id": str(world.pin.id)},
        headers=bearer(world.token),
    )
    pid = r.json()["data"]["id"]
    read_only = await factory.token(world.owner, "read_pin_promotions")
    r = await client.put(f"/ads/v3/pin_promotions/{pid}/", json={"name": "x"}, headers=bearer(read_only))
    assert r.status_code == 401 and r.json()["code"] == 3
    no_scope = await factory.token(world.owner, "read_campaigns")
    r = await client.get(f"/ads/v3/pin_promotions/{pid}/", headers=bearer(no_scope))
    assert r.status_code == 401 and r.json()["code"] == 3

    analyst = await factory.user("analyst")
    await factory.share(world.advertiser, analyst, "ANALYST")
    atoken = await factory.token(analyst, WRITE)
    r = await client.get(f"/ads/v3/pin_promotions/{pid}/", headers=bearer(atoken))
    assert r.status_code == 200
    r = await client.put(f"/ads/v3/pin_promotions/{pid}/", json={"name": "x"}, headers=bearer(atoken))
    assert r.status_code == 403 and r.json()["code"] == 1902
    r = await client.post(
        "/ads/v3/pin_promotions/",
        json={"ad_group_id": str(world.ad_group.id), "pin_id": str(world.pin.id)},
        headers=bearer(atoken),
    )
    assert r.status_code == 403 and r.json()["code"] == 1902

    finance = await factory.user("finance")
    await factory.share(world.advertiser, finance, "FINANCE_MANAGER")
    ftoken = await factory.token(finance, WRITE)
    r = await client.get(f"/ads/v3/pin_promotions/{pid}/", headers=bearer(ftoken))
    assert r.status_code == 403 and r.json()["code"] == 1902

    stranger = await factory.user("stranger")
    stoken = await factory.token(stranger, WRITE)
    r = await client.get(f"/ads/v3/pin_promotions/{pid}/", headers=bearer(stoken))
    assert r.status_code == 404 and r.json()["code"] == 3003
    async with runtime.sessions() as s:
        row = await s.get(PinPromotion, int(pid))
        assert row is not None and row.name == "Plaid shirt"


async def test_batch_create_reports_each_item(
    client: httpx.AsyncClient, world: World, factory: Factory, runtime: Runtime
) -> None:
    other = await factory.user("other2", business=True)
    other_adv = await factory.advertiser(other)
    items = [
        {"ad_group_id": str(world.ad_group.id), "pin_id": str(world.pin.id), "name": "one"},
        {"ad_group_id": str(world.ad_group.id), "pin_id": "42"},
        {"ad_group_id": str(world.ad_group.id), "pin_id": str(world.pin.id), "status": "PAUSED"},
        "not an object",
    ]
    url = f"/ads/v3/advertisers/{world.advertiser.id}/pin_promotions/batch/"
    r = await client.post(url, json=items, headers=bearer(world.token))
    assert r.status_code == 200, r.text
    results = r.json()["data"]
    assert r.json()["endpoint_name"] == "ads_v3_create_advertiser_pin_promotions_handler"
    assert [x["data"] is not None for x in results] == [True, False, True, False]
    assert results[0]["exceptions"] == [] and results[0]["data"]["name"] == "one"
    assert results[1]["exceptions"][0]["code"] == 1 and "'pin_id'" in results[1]["exceptions"][0]["message"]
    assert results[2]["data"]["status"] == "PAUSED"
    assert "'body'" in results[3]["exceptions"][0]["message"]
    assert await _count(runtime) == 2
    async with runtime.sessions() as s:
        assert await s.scalar(select(func.count()).select_from(Job)) == 2

    # The advertiser in the path decides: an ad group of another advertiser is refused per item.
    r = await client.post(
        f"/ads/v3/advertisers/{other_adv.id}/pin_promotions/batch/",
        json=items[:1],
        headers=bearer(world.token),
    )
    assert r.status_code == 403 and r.json()["code"] == 1902
    r = await client.post(url, json={"pin_promotions": []}, headers=bearer(world.token))
    assert r.status_code == 400 and "'pin_promotions'" in r.json()["message"]
    r = await client.post(url, json={"pin_promotions": "x"}, headers=bearer(world.token))
    assert r.status_code == 400


async def test_batch_update_all_or_nothing_per_item(
    client: httpx.AsyncClient, world: World, runtime: Runtime
) -> None:
    url = f"/ads/v3/advertisers/{world.advertiser.id}/pin_promotions/batch/"
    items = [{"ad_group_id": str(world.ad_group.id), "pin_id": str(world.pin.id)} for _ in range(2)]
    created = (await client.post(url, json=items, headers=bearer(world.token))).json()["data"]
    a, b = (x["data"]["id"] for x in created)
    r = await client.put(
        url,
        json=[
            {"id": a, "name": "renamed", "status": "PAUSED"},
            {"id": b, "name": "renamed too", "click_tracking_url": "not a url"},
            {"id": "77", "name": "ghost"},
            {"name": "no id"},
        ],
        headers=bearer(world.token),
    )
    assert r.status_code == 200, r.text
    results = r.json()["data"]
    assert results[0]["data"]["name"] == "renamed" and results[0]["data"]["status"] == "PAUSED"
    assert results[1]["data"] is None and "'click_tracking_url'" in results[1]["exceptions"][0]["message"]
    assert results[2]["exceptions"][0]["code"] == 3003
    assert "'id'" in results[3]["exceptions"][0]["message"]
    async with runtime.sessions() as s:
        row_b = await s.get(PinPromotion, int(b))
        assert row_b is not None and row_b.name == "Plaid shirt"  # nothing of item 2 was written


async def test_lists_page_by_bookmark(
    client: httpx.AsyncClient, world: World, ads: AdsBuilder, factory: Factory
) -> None:
    other_group = await ads.ad_group(world.campaign)
    url = f"/ads/v3/advertisers/{world.advertiser.id}/pin_promotions/batch/"
    items = [
        {"ad_group_id": str(world.ad_group.id), "pin_id": str(world.pin.id), "name": f"p{i}"}
        for i in range(3)
    ]
    items.append({"ad_group_id": str(other_group.id), "pin_id": str(world.pin.id), "name": "p3"})
    r = await client.post(url, json=items, headers=bearer(world.token))
    assert all(x["data"] for x in r.json()["data"])

    names: list[str] = []
    bookmark = None
    while True:
        q = f"?page_size=2&bookmark={bookmark}" if bookmark else "?page_size=2"
        r = await client.get(
            f"/ads/v3/campaigns/{world.campaign.id}/pin_promotions/{q}", headers=bearer(world.token)
        )
        assert r.status_code == 200, r.text
        names += [x["name"] for x in r.json()["data"]]
        bookmark = r.json().get("bookmark")
        if not bookmark:
            break
    assert names == ["p0", "p1", "p2", "p3"]
    r = await client.get(
        f"/ads/v3/ad_groups/{world.ad_group.id}/pin_promotions/", headers=bearer(world.token)
    )
    assert [x["name"] for x in r.json()["data"]] == ["p0", "p1", "p2"]
    assert "bookmark" not in r.json()
    r = await client.get(
        f"/ads/v3/ad_groups/{world.ad_group.id}/pin_promotions/?pin_promotion_status=PAUSED",
        headers=bearer(world.token),
    )
    assert r.json()["data"] == []
    r = await client.get(
        f"/ads/v3/ad_groups/{world.ad_group.id}/pin_promotions/?page_size=251", headers=bearer(world.token)
    )
    assert r.status_code == 400 and r.json()["code"] == 22
    r = await client.get(
        f"/ads/v3/ad_groups/{world.ad_group.id}/pin_promotions/?bookmark=forged", headers=bearer(world.token)
    )
    assert r.status_code == 404 and r.json()["code"] == 10
    stranger = await factory.token(await factory.user("nobody"), WRITE)
    r = await client.get(f"/ads/v3/campaigns/{world.campaign.id}/pin_promotions/", headers=bearer(stranger))
    assert r.status_code == 404 and r.json()["code"] == 3001
    r = await client.get("/ads/v3/ad_groups/12/pin_promotions/", headers=bearer(world.token))
    assert r.status_code == 404 and r.json()["code"] == 3002


async def test_review_rejects_through_the_worker(
    client: httpx.AsyncClient, world: World, ads: AdsBuilder, factory: Factory
) -> None:
    board = await ads.board(world.owner, "More")
    bad_pin = await ads.pin(
        world.owner, board, title="Casino deals", link="https://www.blocked.example/win", image_url=None
    )
    r = await client.post(
        "/ads/v3/pin_promotions/",
        json={"ad_group_id": str(world.ad_group.id), "pin_id": str(bad_pin.id)},
        headers=bearer(world.token),
    )
    assert r.status_code == 200, r.text
    pid = r.json()["data"]["id"]
    assert await ads.drain() == 1
    r = await client.get(f"/ads/v3/pin_promotions/{pid}/", headers=bearer(world.token))
    data = r.json()["data"]
    assert data["review_status"] == "REJECTED" and data["summary_status"] == "REJECTED"
    assert data["rejected_reasons"] == ["UNACCEPTABLE_BUSINESS", "PROHIBITED_PRODUCT", "IMAGE"]
    assert len(data["rejection_labels"]) == 3
    # Fixing the destination re-reviews: the remaining reasons stay.
    r = await client.put(
        f"/ads/v3/pin_promotions/{pid}/",
        json={"destination_url": "https://shop.example.com/", "name": "Deals"},
        headers=bearer(world.token),
    )
    assert r.json()["data"]["review_status"] == "PENDING" and r.json()["data"]["rejected_reasons"] == []
    await ads.drain()
    r = await client.get(f"/ads/v3/pin_promotions/{pid}/", headers=bearer(world.token))
    assert r.json()["data"]["rejected_reasons"] == ["PROHIBITED_PRODUCT", "IMAGE"]


async def test_every_route_checks_scope_and_role(
    client: httpx.AsyncClient, world: World, factory: Factory
) -> None:
    r = await client.post(
        "/ads/v3/pin_promotions/",
        json={"ad_group_id": str(world.ad_group.id), "pin_id": str(world.pin.id)},
        headers=bearer(world.token),
    )
    pid = r.json()["data"]["id"]
    batch = f"/ads/v3/advertisers/{world.advertiser.id}/pin_promotions/batch/"
    item = {"ad_group_id": str(world.ad_group.id), "pin_id": str(world.pin.id)}
    routes: list[tuple[str, str, object]] = [
        ("POST", "/ads/v3/pin_promotions/", item),
        ("GET", f"/ads/v3/pin_promotions/{pid}/", None),
        ("PUT", f"/ads/v3/pin_promotions/{pid}/", {"name": "x"}),
        ("POST", batch, [item]),
        ("PUT", batch, [{"id": pid, "name": "x"}]),
        ("GET", f"/ads/v3/campaigns/{world.campaign.id}/pin_promotions/", None),
        ("GET", f"/ads/v3/ad_groups/{world.ad_group.id}/pin_promotions/", None),
    ]
    wrong_scope = await factory.token(world.owner, "read_campaigns,write_campaigns")
    finance = await factory.user("pp_finance")
    await factory.share(world.advertiser, finance, "FINANCE_MANAGER")  # no PIN_PROMOTION_* action
    finance_token = await factory.token(finance, WRITE)
    for method, url, body in routes:
        r = await client.request(method, url, json=body, headers=bearer(wrong_scope))
        assert (r.status_code, r.json()["code"]) == (401, 3), (method, url)
        r = await client.request(method, url, json=body, headers=bearer(finance_token))
        assert (r.status_code, r.json()["code"]) == (403, 1902), (method, url, r.text)


async def test_promotions_under_an_archived_ad_group_are_final(
    client: httpx.AsyncClient, world: World, runtime: Runtime
) -> None:
    r = await client.post(
        "/ads/v3/pin_promotions/",
        json={"ad_group_id": str(world.ad_group.id), "pin_id": str(world.pin.id)},
        headers=bearer(world.token),
    )
    pid = r.json()["data"]["id"]
    async with runtime.sessions() as s, s.begin():
        group = await s.get(AdGroup, world.ad_group.id)
        assert group is not None
        group.status = "ARCHIVED"
    r = await client.get(f"/ads/v3/pin_promotions/{pid}/", headers=bearer(world.token))
    assert r.json()["data"]["summary_status"] == "ARCHIVED"
    r = await client.put(
        f"/ads/v3/pin_promotions/{pid}/", json={"status": "PAUSED"}, headers=bearer(world.token)
    )
    assert r.status_code == 400 and r.json()["code"] == 15
    async with runtime.sessions() as s:
        row = await s.get(PinPromotion, int(pid))
        assert row is not None and row.status == "ACTIVE"


async def test_get_is_one_read_with_the_session_paths_view(
    client: httpx.AsyncClient,
    world: World,
    factory: Factory,
    runtime: Runtime,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    r = await client.post(
        "/ads/v3/pin_promotions/",
        json={
            "ad_group_id": str(world.ad_group.id),
            "pin_id": str(world.pin.id),
            "tracking_urls": {"click": ["https://t.example/c"]},
            "destination_url": "https://shop.example/a",
        },
        headers=bearer(world.token),
    )
    assert r.status_code == 200, r.text
    pid = int(r.json()["data"]["id"])
    async with runtime.sessions() as s, s.begin():
        await s.delete(await s.get(Pin, world.pin.id))  # the promotion stays: is_pin_deleted
    principal = Principal(user_id=world.owner.id, app_id=0, scopes=frozenset({"read_pin_promotions"}))
    async with runtime.sessions() as s:
        expected = promotion_body(await promotions.get(s, principal=principal, promotion_id=pid))
    calls: list[object] = []
    first = runtime.reader.first_row

    async def counted(statement: Any, params: Any = None) -> Any:
        calls.append(statement)
        return await first(statement, params)

    monkeypatch.setattr(runtime.reader, "first_row", counted)  # ``first`` goes through it
    r = await client.get(f"/ads/v3/pin_promotions/{pid}/", headers=bearer(world.token))
    assert r.status_code == 200, r.text
    data = r.json()["data"]
    assert data == expected
    assert data["is_pin_deleted"] is True and data["destination_url"] == "https://shop.example/a"
    assert data["tracking_urls"] == '{"click":["https://t.example/c"]}'
    assert len(calls) == 1
    # Several roles add up; ids beyond 64 bits are simply not found.
    both = await factory.user("both")
    for role in ("AUDIENCE_MANAGER", "CAMPAIGN_MANAGER"):
        await factory.share(world.advertiser, both, role)
    r = await client.get(f"/ads/v3/pin_promotions/{pid}/", headers=bearer(await factory.token(both, WRITE)))
    assert r.status_code == 200 and r.json()["data"]["id"] == str(pid)
    r = await client.get("/ads/v3/pin_promotions/99999999999999999999/", headers=bearer(world.token))
    assert (r.status_code, r.json()["code"]) == (404, 3003)


async def test_repeated_gets_follow_the_promotion_and_its_parents(
    client: httpx.AsyncClient, world: World, runtime: Runtime
) -> None:
    # An unchanged row gives back the view and body built before; a change to the
    # promotion, a parent or its pin changes the row, so it shows on the next read.
    r = await client.post(
        "/ads/v3/pin_promotions/",
        json={"ad_group_id": str(world.ad_group.id), "pin_id": str(world.pin.id)},
        headers=bearer(world.token),
    )
    assert r.status_code == 200, r.text
    path = f"/ads/v3/pin_promotions/{r.json()['data']['id']}/"
    first = (await client.get(path, headers=bearer(world.token))).json()["data"]
    assert (await client.get(path, headers=bearer(world.token))).json()["data"] == first
    assert first["is_pin_deleted"] is False
    async with runtime.sessions() as s, s.begin():
        campaign = await s.get(Campaign, world.ad_group.campaign_id)
        assert campaign is not None
        campaign.status = "PAUSED"
        await s.delete(await s.get(Pin, world.pin.id))
    later = (await client.get(path, headers=bearer(world.token))).json()["data"]
    assert later["is_pin_deleted"] is True
    assert later["summary_status"] == "PAUSED" != first["summary_status"]
    assert {k: v for k, v in later.items() if k not in ("is_pin_deleted", "summary_status")} == {
        k: v for k, v in first.items() if k not in ("is_pin_deleted", "summary_status")
    }
