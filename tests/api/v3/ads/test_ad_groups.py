from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import httpx
import orjson
import pytest
from sqlalchemy import func, select

from pinapi.api.v3.ads.ad_groups import ad_group_bodies
from pinapi.domain.access.principal import Principal
from pinapi.domain.ads import ad_groups as domain_ad_groups
from pinapi.runtime import Runtime
from pinapi.store.tables import AdGroup
from pinapi.store.tables.facts import DeliveryHour
from tests.api.v3.ads.helpers import DAY, NOW, Account, account, failure, make_ad_group, make_campaign
from tests.factories import Factory, bearer

PETS = "549690615211"
DOGS = "626534780268"


async def _count(runtime: Runtime) -> int:
    async with runtime.sessions() as s:
        return int(await s.scalar(select(func.count()).select_from(AdGroup)) or 0)


async def _post(client: httpx.AsyncClient, acc: Account, body: dict[str, Any]) -> httpx.Response:
    return await client.post("/ads/v3/ad_groups/", json=body, headers=acc.headers)


async def test_create_ad_group_returns_and_stores_it(
    client: httpx.AsyncClient, factory: Factory, runtime: Runtime
) -> None:
    acc = await account(factory)
    camp = await make_campaign(client, acc, objective_type="AWARENESS", start_time=NOW - DAY)
    body = {
        "campaign_id": camp["id"],
        "name": "Dog lovers",
        "budget": 20_000_000,
        "bid": 2_000_000,
        "targeting_spec": {
            "GENDER": ["female"],
            "INTEREST": [DOGS, PETS],
            "LOCATION": ["US", "807"],
            "GEO": ["US-CA"],
        },
        "end_time": NOW + 10 * DAY,
        "lifetime_frequency_cap": 5,
        "pacing_delivery_type": "accelerated",
    }
    r = await _post(client, acc, body)
    assert r.status_code == 200, r.text
    out = r.json()
    assert out["endpoint_name"] == "ads_v3_create_ad_group_handler"
    g = out["data"]
    assert g["type"] == "adgroup" and g["name"] == "Dog lovers"
    assert g["campaign_id"] == camp["id"] and g["advertiser_id"] == str(acc.advertiser.id)
    assert g["billable_event"] == "IMPRESSION" and g["bid_strategy_type"] == "MAX_BID"
    assert g["budget_type"] == "DAILY" and g["budget_in_micro_currency"] == 20_000_000
    assert g["bid_in_micro_currency"] == 2_000_000
    assert g["campaign_objective_type"] == "AWARENESS"
    assert g["pacing_delivery_type"] == "ACCELERATED" and g["placement_group"] == "ALL"
    assert g["lifetime_frequency_cap"] == 5 and g["end_time"] == NOW + 10 * DAY and g["start_time"] is None
    assert g["targeting_spec"] == {
        "GENDER": ["female"],
        "INTEREST": [DOGS, PETS],
        "LOCATION": ["US", "807"],
        "GEO": ["US-CA"],
    }
    assert g["status"] == "ACTIVE" and g["summary_status"] == "RUNNING"
    assert g["pin_promotion_ids"] == [] and g["created_time"] == NOW
    got = await client.get(f"/ads/v3/ad_groups/{g['id']}/", headers=acc.headers)
    assert got.status_code == 200 and got.json()["data"] == g
    assert got.json()["endpoint_name"] == "ads_v3_get_ad_group_handler"
    assert await _count(runtime) == 1


async def test_video_view_bills_video_views(client: httpx.AsyncClient, factory: Factory) -> None:
    acc = await account(factory)
    camp = await make_campaign(client, acc, objective_type="VIDEO_VIEW")
    base = {"campaign_id": camp["id"], "name": "v", "budget": 10_000_000, "bid": 100_000}
    failure(await _post(client, acc, {**base, "billable_event": "CLICKTHROUGH"}), 400, 15, "billable_event")
    r = await _post(client, acc, base)
    assert r.status_code == 200 and r.json()["data"]["billable_event"] == "VIDEO_V_50_MRC"
    conv = await make_campaign(client, acc, objective_type="WEB_CONVERSION")
    r = await _post(client, acc, {"campaign_id": conv["id"], "name": "c", "budget": 10_000_000})
    assert r.status_code == 200, r.text
    assert r.json()["data"]["bid_strategy_type"] == "AUTOMATIC_BID"
    bad = {
        "campaign_id": conv["id"],
        "name": "c",
        "budget": 10_000_000,
        "bid_strategy_type": "MAX_BID",
        "bid": 10,
    }
    failure(await _post(client, acc, bad), 400, 15, "bid_strategy_type")


async def test_create_ad_group_rules(client: httpx.AsyncClient, factory: Factory, runtime: Runtime) -> None:
    acc = await account(factory)
    camp = await make_campaign(
        client, acc, objective_type="AWARENESS", daily_spend_cap=30_000_000, start_time=NOW + DAY
    )
    traffic = await make_campaign(client, acc, objective_type="TRAFFIC")
    base = {"campaign_id": camp["id"], "name": "g", "budget": 10_000_000, "bid": 1_000_000}
    cases: list[tuple[dict[str, Any], int, int, str]] = [
        ({**base, "campaign_id": None}, 400, 1, "campaign_id"),
        ({**base, "name": ""}, 400, 1, "name"),
        ({**base, "budget": 10}, 400, 15, "budget_in_micro_currency"),
        ({**base, "budget": 40_000_000}, 400, 15, "budget_in_micro_currency"),
        ({**base, "budget": "lots"}, 400, 1, "budget_in_micro_currency"),
        ({**base, "budget_type": "LIFETIME", "budget": 50_000_000}, 400, 15, "end_time"),
        ({**base, "budget_type": "WEEKLY"}, 400, 1, "budget_type"),
        ({**base, "bid_strategy_type": "AUTOMATIC_BID"}, 400, 15, "bid_in_micro_currency"),
        ({**base, "bid": None}, 400, 15, "bid_in_micro_currency"),
        ({**base, "bid": 20_000_000}, 400, 15, "bid_in_micro_currency"),
        ({**base, "bid": 1}, 400, 15, "bid_in_micro_currency"),
        ({**base, "lifetime_frequency_cap": 3}, 400, 15, "lifetime_frequency_cap"),
        ({**base, "start_time": NOW}, 400, 15, "start_time"),
        ({**base, "start_time": NOW + 5 * DAY, "end_time": NOW + 4 * DAY}, 400, 15, "end_time"),
        ({**base, "targeting_spec": {"HOBBY": ["x"]}}, 400, 1, "targeting_spec.HOBBY"),
        ({**base, "targeting_spec": {"GENDER": ["robot"]}}, 400, 1, "targeting_spec.GENDER"),
        ({**base, "targeting_spec": {"INTEREST": ["1"]}}, 400, 1, "targeting_spec.INTEREST"),
        ({**base, "targeting_spec": {"LOCATION": ["US-CA"]}}, 400, 1, "targeting_spec.LOCATION"),
        (
            {**base, "targeting_spec": {"AUDIENCE_INCLUDE": ["12345"]}},
            400,
            1,
            "targeting_spec.AUDIENCE_INCLUDE",
        ),
        ({**base, "targeting_spec": "{not json"}, 400, 1, "targeting_spec"),
        (
            {**base, "budget_type": "CBO_ADGROUP", "campaign_id": traffic["id"], "budget": None},
            400,
            15,
            "budget_type",
        ),
        ({**base, "campaign_id": traffic["id"], "billable_event": "IMPRESSION"}, 400, 15, "billable_event"),
        (
            {**base, "campaign_id": traffic["id"], "lifetime_frequency_cap": 2, "end_time": NOW + DAY},
            400,
            15,
            "lifetime_frequency_cap",
        ),
        ({**base, "advertiser_id": "42"}, 400, 15, "advertiser_id"),
    ]
    for body, status, code, param in cases:
        failure(await _post(client, acc, body), status, code, param)
    assert await _count(runtime) == 0
    # the same rules let valid variants through
    ok = {**base, "budget_type": "LIFETIME", "budget": 30_000_000, "end_time": NOW + 9 * DAY}
    assert (await _post(client, acc, ok)).status_code == 200
    cbo = {"campaign_id": camp["id"], "name": "cbo", "budget_type": "CBO_ADGROUP", "bid": 1_000_000}
    assert (await _post(client, acc, cbo)).status_code == 200
    assert await _count(runtime) == 2


async def test_targeting_spec_as_form_json_string(client: httpx.AsyncClient, factory: Factory) -> None:
    acc = await account(factory)
    camp = await make_campaign(client, acc)
    form = {
        "campaign_id": camp["id"],
        "name": "form",
        "budget": "10000000",
        "bid": "1000000",
        "targeting_spec": orjson.dumps(
            {"AGE_BUCKET": ["25-34"], "APPTYPE": ["iphone"], "LOCALE": ["de"]}
        ).decode(),
    }
    r = await client.post("/ads/v3/ad_groups/", data=form, headers=acc.headers)
    assert r.status_code == 200, r.text
    assert r.json()["data"]["targeting_spec"] == {
        "AGE_BUCKET": ["25-34"],
        "APPTYPE": ["iphone"],
        "LOCALE": ["de"],
    }


async def test_ad_groups_of_strangers_and_scopes(client: httpx.AsyncClient, factory: Factory) -> None:
    acc = await account(factory)
    stranger = await account(factory)
    camp = await make_campaign(client, acc)
    g = await make_ad_group(client, acc, camp["id"])
    body = {"campaign_id": camp["id"], "name": "x", "budget": 10_000_000, "bid": 1_000_000}
    failure(await _post(client, stranger, body), 404, 3001)
    failure(await client.get(f"/ads/v3/ad_groups/{g['id']}/", headers=stranger.headers), 404, 3002)
    failure(
        await client.put(f"/ads/v3/ad_groups/{g['id']}/", json={"name": "y"}, headers=stranger.headers),
        404,
        3002,
    )
    failure(await client.get("/ads/v3/ad_groups/77/", headers=acc.headers), 404, 3002)
    reader = bearer(await factory.token(acc.user, "read_campaigns"))
    failure(await client.post("/ads/v3/ad_groups/", json=body, headers=reader), 401, 3)
    failure(await client.put(f"/ads/v3/ad_groups/{g['id']}/", json={"name": "y"}, headers=reader), 401, 3)
    other = bearer(await factory.token(acc.user, "read_advertisers"))
    failure(await client.get(f"/ads/v3/ad_groups/{g['id']}/", headers=other), 401, 3)


async def test_update_ad_group(client: httpx.AsyncClient, factory: Factory, runtime: Runtime) -> None:
    acc = await account(factory)
    camp = await make_campaign(client, acc, end_time=NOW + 10 * DAY)
    other = await make_campaign(client, acc)
    g = await make_ad_group(client, acc, camp["id"])
    url = f"/ads/v3/ad_groups/{g['id']}/"
    r = await client.put(
        url,
        data={"name": "new", "status": "PAUSED", "budget_in_micro_currency": "12000000"},
        headers=acc.headers,
    )
    assert r.status_code == 200, r.text
    d = r.json()["data"]
    assert (d["name"], d["status"], d["summary_status"], d["budget_in_micro_currency"]) == (
        "new",
        "PAUSED",
        "PAUSED",
        12_000_000,
    )
    assert r.json()["endpoint_name"] == "ads_v3_update_ad_group_handler"
    failure(
        await client.put(url, json={"campaign_id": other["id"]}, headers=acc.headers), 400, 15, "campaign_id"
    )
    failure(
        await client.put(url, json={"end_time": NOW + 11 * DAY}, headers=acc.headers), 400, 15, "end_time"
    )
    failure(
        await client.put(url, json={"bid": 13_000_000}, headers=acc.headers), 400, 15, "bid_in_micro_currency"
    )
    failure(
        await client.put(url, json={"targeting_spec": {"APPTYPE": ["fax"]}}, headers=acc.headers),
        400,
        1,
        "targeting_spec.APPTYPE",
    )
    assert (await client.put(url, json={"status": "ARCHIVED"}, headers=acc.headers)).status_code == 200
    failure(await client.put(url, json={"status": "ACTIVE"}, headers=acc.headers), 400, 15, "status")
    async with runtime.sessions() as s:
        stored = await s.get(AdGroup, int(g["id"]))
        assert stored is not None
        assert (stored.status, stored.name, stored.budget_in_micro_currency) == (
            "ARCHIVED",
            "new",
            12_000_000,
        )
        assert stored.targeting_spec == {}


async def test_no_ad_groups_under_archived_campaigns(client: httpx.AsyncClient, factory: Factory) -> None:
    acc = await account(factory)
    camp = await make_campaign(client, acc)
    g = await make_ad_group(client, acc, camp["id"])
    assert (
        await client.put(f"/ads/v3/campaigns/{camp['id']}/", json={"status": "ARCHIVED"}, headers=acc.headers)
    ).status_code == 200
    body = {"campaign_id": camp["id"], "name": "x", "budget": 10_000_000, "bid": 1_000_000}
    failure(await _post(client, acc, body), 400, 15, "campaign_id")
    failure(
        await client.put(f"/ads/v3/ad_groups/{g['id']}/", json={"name": "z"}, headers=acc.headers),
        400,
        15,
        "status",
    )
    got = await client.get(f"/ads/v3/ad_groups/{g['id']}/", headers=acc.headers)
    assert got.json()["data"]["summary_status"] == "ARCHIVED" and got.json()["data"]["status"] == "ACTIVE"


async def test_get_ad_group_is_one_read_with_the_session_paths_body(
    client: httpx.AsyncClient, factory: Factory, runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    acc = await account(factory)
    camp = await make_campaign(client, acc, lifetime_spend_cap=100_000_000, end_time=NOW + 30 * DAY)
    group = await make_ad_group(
        client,
        acc,
        camp["id"],
        budget_type="LIFETIME",
        end_time=NOW + 20 * DAY,
        targeting_spec={"LOCATION": ["US"]},
    )
    sibling = await make_ad_group(client, acc, camp["id"])
    async with runtime.sessions() as s, s.begin():
        for n, (gid, micro) in enumerate(((group["id"], 30_000_000), (sibling["id"], 20_000_000))):
            s.add(
                DeliveryHour(
                    pin_promotion_id=n + 1,
                    hour=runtime.clock.now() - timedelta(hours=2),
                    ad_group_id=int(gid),
                    campaign_id=int(camp["id"]),
                    advertiser_id=acc.advertiser.id,
                    local_date=date(2026, 11, 2),
                    spend_in_micro_dollar=micro,
                )
            )
    principal = Principal(user_id=acc.user.id, app_id=0, scopes=frozenset({"read_campaigns"}))
    async with runtime.sessions() as s:
        loaded = await domain_ad_groups.load(
            s, principal=principal, ad_group_id=int(group["id"]), action="AD_GROUP_READ"
        )
        expected = (
            await ad_group_bodies(
                s, [loaded.ad_group], loaded.campaign, loaded.advertiser, runtime.clock.now()
            )
        )[0]
    calls: list[object] = []
    first = runtime.reader.first_row

    async def counted(statement: Any, params: Any = None) -> Any:
        calls.append(statement)
        return await first(statement, params)

    monkeypatch.setattr(runtime.reader, "first_row", counted)  # ``first`` goes through it
    r = await client.get(f"/ads/v3/ad_groups/{group['id']}/", headers=acc.headers)
    assert r.status_code == 200, r.text
    assert r.json()["data"] == expected
    assert r.json()["data"]["targeting_spec"] == {"LOCATION": ["US"]}
    assert len(calls) == 1


async def test_get_ad_group_roles_through_the_single_read(
    client: httpx.AsyncClient, factory: Factory
) -> None:
    owner = await account(factory)
    camp = await make_campaign(client, owner)
    group = await make_ad_group(client, owner, camp["id"])
    path = f"/ads/v3/ad_groups/{group['id']}/"
    manager = await factory.user()
    for role in ("CATALOGS_MANAGER", "CAMPAIGN_MANAGER"):
        await factory.share(owner.advertiser, manager, role)
    r = await client.get(path, headers=bearer(await factory.token(manager, "read_campaigns")))
    assert r.status_code == 200 and r.json()["data"]["id"] == group["id"]
    audience = await factory.user()
    await factory.share(owner.advertiser, audience, "AUDIENCE_MANAGER")
    body = failure(
        await client.get(path, headers=bearer(await factory.token(audience, "read_campaigns"))), 403, 1902
    )
    assert "AD_GROUP_READ" in body["message"]
    stranger = await account(factory)
    failure(await client.get(path, headers=stranger.headers), 404, 3002)
    failure(await client.get("/ads/v3/ad_groups/9223372036854775807/", headers=owner.headers), 404, 3002)
    failure(await client.get("/ads/v3/ad_groups/x1/", headers=owner.headers), 400, 1, "ad_group")
