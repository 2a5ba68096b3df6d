from __future__ import annotations

import httpx
from sqlalchemy import select

from pinapi.domain.access import roles as role_lib
from pinapi.runtime import Runtime
from pinapi.store.tables import Advertiser
from tests.api.v3.ads.helpers import ADS, DAY, NOW, account, failure, make_campaign
from tests.factories import Factory, bearer


async def test_create_advertiser(client: httpx.AsyncClient, factory: Factory, runtime: Runtime) -> None:
    user = await factory.user(business=True)
    h = bearer(await factory.token(user, ADS))
    r = await client.post(
        "/ads/v3/advertisers/", data={"name": "Maison", "country": "fr", "tos_id": "7"}, headers=h
    )
    assert r.status_code == 200, r.text
    out = r.json()
    assert out["endpoint_name"] == "ads_v3_create_advertiser_handler"
    d = out["data"]
    assert (d["name"], d["country"], d["currency"], d["timezone"]) == ("Maison", "FR", "EUR", "Europe/Paris")
    assert d["owner_user_id"] == str(user.id) and d["type"] == "advertiser" and d["status"] == "ACTIVE"
    assert d["roles"] == ["OWNER"] and d["actions"] == sorted(role_lib.actions_for(["OWNER"]))
    assert d["created_time"] == NOW and d["campaign_ids"] == []
    async with runtime.sessions() as s:
        stored = await s.get(Advertiser, int(d["id"]))
        assert stored is not None and stored.tos_id == 7 and stored.owner_user_id == user.id


async def test_create_advertiser_bad_input_and_scope(
    client: httpx.AsyncClient, factory: Factory, runtime: Runtime
) -> None:
    user = await factory.user()
    h = bearer(await factory.token(user, ADS))
    failure(await client.post("/ads/v3/advertisers/", json={"country": "US"}, headers=h), 400, 1, "name")
    failure(
        await client.post("/ads/v3/advertisers/", json={"name": "a", "country": "XX"}, headers=h),
        400,
        1,
        "country",
    )
    failure(
        await client.post("/ads/v3/advertisers/", json={"name": "a", "currency": "DOGE"}, headers=h),
        400,
        1,
        "currency",
    )
    failure(
        await client.post("/ads/v3/advertisers/", json={"name": "a", "timezone": "Mars/Base"}, headers=h),
        400,
        1,
        "timezone",
    )
    failure(
        await client.post("/ads/v3/advertisers/", json={"name": "a", "tos_id": "x"}, headers=h),
        400,
        1,
        "tos_id",
    )
    reader = bearer(await factory.token(user, "read_advertisers"))
    failure(await client.post("/ads/v3/advertisers/", json={"name": "a"}, headers=reader), 401, 3)
    async with runtime.sessions() as s:
        assert (await s.scalars(select(Advertiser))).all() == []


async def test_list_advertisers_owned_and_shared(client: httpx.AsyncClient, factory: Factory) -> None:
    owner = await account(factory, name="Own 1")
    own2 = await factory.advertiser(owner.user, "Own 2")
    other = await account(factory, name="Theirs")
    await factory.share(other.advertiser, owner.user, "ANALYST")
    url = "/ads/v3/advertisers/"
    r = await client.get(url, headers=owner.headers)
    assert r.status_code == 200
    assert r.json()["endpoint_name"] == "ads_v3_get_advertisers_handler"
    assert [a["id"] for a in r.json()["data"]] == [str(owner.advertiser.id), str(own2.id)]
    r = await client.get(url, params={"include_acl": "true", "page_size": 2}, headers=owner.headers)
    page1 = r.json()
    assert [a["name"] for a in page1["data"]] == ["Own 1", "Own 2"]
    r = await client.get(
        url,
        params={"include_acl": "true", "page_size": 2, "bookmark": page1["bookmark"]},
        headers=owner.headers,
    )
    page2 = r.json()
    assert "bookmark" not in page2
    (shared,) = page2["data"]
    assert shared["name"] == "Theirs" and shared["roles"] == ["ANALYST"]
    assert shared["actions"] == sorted(role_lib.actions_for(["ANALYST"]))
    assert "CAMPAIGN_CREATE" not in shared["actions"]
    r = await client.get(
        url, params={"include_acl": "true", "owner_user_id": str(other.user.id)}, headers=owner.headers
    )
    assert [a["name"] for a in r.json()["data"]] == ["Theirs"]
    failure(
        await client.get(url, params={"owner_user_id": "bob"}, headers=owner.headers), 400, 1, "owner_user_id"
    )
    failure(
        await client.get(url, params={"include_acl": "maybe"}, headers=owner.headers), 400, 1, "include_acl"
    )
    failure(await client.get(url, headers=bearer(await factory.token(owner.user, "read_campaigns"))), 401, 3)


async def test_get_advertiser_and_me(client: httpx.AsyncClient, factory: Factory) -> None:
    acc = await account(factory, name="Mine")
    camp = await make_campaign(client, acc)
    stranger = await account(factory)
    r = await client.get(f"/ads/v3/advertisers/{acc.advertiser.id}/", headers=acc.headers)
    assert r.status_code == 200
    d = r.json()["data"]
    assert d["name"] == "Mine" and d["campaign_ids"] == [camp["id"]]
    assert r.json()["endpoint_name"] == "ads_v3_get_advertiser_handler"
    me = await client.get("/ads/v3/advertisers/me/", headers=acc.headers)
    assert me.status_code == 200 and me.json()["data"]["id"] == str(acc.advertiser.id)
    assert me.json()["endpoint_name"] == "ads_v3_get_advertiser_me_handler"
    failure(
        await client.get(f"/ads/v3/advertisers/{acc.advertiser.id}/", headers=stranger.headers), 403, 1902
    )
    failure(await client.get("/ads/v3/advertisers/12345/", headers=acc.headers), 403, 1902)
    failure(await client.get("/ads/v3/advertisers/x1/", headers=acc.headers), 400, 1, "advertiser")
    nobody = await factory.user()
    failure(
        await client.get("/ads/v3/advertisers/me/", headers=bearer(await factory.token(nobody, ADS))),
        404,
        1000,
    )
    failure(
        await client.get("/ads/v3/advertisers/me/", headers=bearer(await factory.token(nobody, "read_pins"))),
        401,
        3,
    )


async def test_advertiser_campaigns_filter_page_and_summary(
    client: httpx.AsyncClient, factory: Factory
) -> None:
    acc = await account(factory)
    running = await make_campaign(client, acc, name="run")
    paused = await make_campaign(client, acc, name="pause", status="PAUSED")
    future = await make_campaign(client, acc, name="future", start_time=NOW + DAY)
    archived = await make_campaign(client, acc, name="arch")
    await client.put(f"/ads/v3/campaigns/{archived['id']}/", json={"status": "ARCHIVED"}, headers=acc.headers)
    url = f"/ads/v3/advertisers/{acc.advertiser.id}/campaigns/"
    r = await client.get(
        url,
        params={"campaign_status": "ALL", "managed_status": "UNMANAGED", "page_size": 3},
        headers=acc.headers,
    )
    assert r.status_code == 200, r.text
    first = r.json()
    assert first["endpoint_name"] == "ads_v3_get_advertiser_campaigns_handler"
    assert [c["id"] for c in first["data"]] == [running["id"], paused["id"], future["id"]]
    r = await client.get(
        url,
        params={
            "page_size": 3,
            "campaign_status": "ALL",
            "managed_status": "UNMANAGED",
            "bookmark": first["bookmark"],
        },
        headers=acc.headers,
    )
    assert [c["id"] for c in r.json()["data"]] == [archived["id"]]
    r = await client.get(url, params={"campaign_status": "paused"}, headers=acc.headers)
    assert [c["name"] for c in r.json()["data"]] == ["pause"]
    r = await client.get(url, params={"managed_status": "MANAGED"}, headers=acc.headers)
    assert r.json()["data"] == []
    # a bookmark from another filter is refused
    failure(
        await client.get(
            url, params={"campaign_status": "PAUSED", "bookmark": first["bookmark"]}, headers=acc.headers
        ),
        404,
        10,
    )
    failure(
        await client.get(url, params={"campaign_status": "GONE"}, headers=acc.headers),
        400,
        1,
        "campaign_status",
    )
    s = await client.get(f"{url}summary/", headers=acc.headers)
    assert s.status_code == 200
    assert s.json()["endpoint_name"] == "ads_v3_get_advertiser_campaigns_summary_handler"
    assert s.json()["data"] == {
        "ADVERTISER_DISABLED": 0,
        "ARCHIVED": 1,
        "COMPLETED": 0,
        "NOT_STARTED": 1,
        "PAUSED": 1,
        "RUNNING": 1,
    }
    stranger = await account(factory)
    failure(await client.get(url, headers=stranger.headers), 403, 1902)
    failure(await client.get(f"{url}summary/", headers=stranger.headers), 403, 1902)
    reader = bearer(await factory.token(acc.user, "read_advertisers"))
    failure(await client.get(url, headers=reader), 401, 3)
    failure(await client.get(f"{url}summary/", headers=reader), 401, 3)
