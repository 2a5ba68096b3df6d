"""The v4 synchronous delivery metrics routes v3-era clients call, in the v3 envelope: the same
rows as the v3 routes, per listed id, with and without the trailing slash."""

from __future__ import annotations

from operator import attrgetter
from typing import Any

import httpx
import pytest

from pinapi.runtime import Runtime
from tests.api.v3.ads.builders import AdsBuilder
from tests.api.v3.ads.helpers import Account, account, failure, make_ad_group, make_campaign
from tests.api.v4.delivered import METRICS, RANGE, SCOPES, Delivered, by_day, deliver, expected, with_ctr
from tests.factories import Factory, bearer


@pytest.fixture
async def d(runtime: Runtime, factory: Factory) -> Delivered:
    return await deliver(runtime, factory)


async def _rows(
    client: httpx.AsyncClient, path: str, headers: dict[str, str], name: str
) -> list[dict[str, Any]]:
    r = await client.get(path, headers=headers)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["status"] == "success" and body["code"] == 0 and body["endpoint_name"] == name, body
    rows: list[dict[str, Any]] = body["data"]
    return rows


async def test_advertiser_rows_match_the_v3_route_and_the_facts(
    client: httpx.AsyncClient, d: Delivered
) -> None:
    adv = d.advertiser_id
    query = f"{RANGE}&columns={METRICS},CTR&granularity=DAY"
    name = "get_advertiser_delivery_metrics_handler"
    bare = await _rows(client, f"/ads/v4/advertisers/{adv}/delivery_metrics?{query}", d.headers, name)
    slashed = await _rows(client, f"/ads/v4/advertisers/{adv}/delivery_metrics/?{query}", d.headers, name)
    v3 = await _rows(
        client,
        f"/ads/v3/advertisers/{adv}/delivery_metrics/?{query}",
        d.headers,
        "ads_v3_advertiser_delivery_metrics_handler",
    )
    want = with_ctr(
        expected(d.hours, id_field="ADVERTISER_ID", entity=lambda f: f.advertiser_id, bucket=by_day)
    )
    assert bare == slashed == v3 == [{**w, "CTR": pytest.approx(w["CTR"])} for w in want]


async def test_campaigns_ad_groups_and_ads_by_listed_ids(client: httpx.AsyncClient, d: Delivered) -> None:
    adv = d.advertiser_id
    campaigns = sorted({f.campaign_id for f in d.hours})
    groups = sorted(d.world.groups.values())
    ads = sorted(d.world.delivering.values())
    assert len(campaigns) == 2
    cases = [
        (
            "campaigns",
            "campaign_ids",
            campaigns,
            "CAMPAIGN_ID",
            "campaign_id",
            "get_campaign_delivery_metrics_handler",
        ),
        (
            "ad_groups",
            "ad_group_ids",
            groups,
            "AD_GROUP_ID",
            "ad_group_id",
            "get_ad_group_delivery_metrics_handler",
        ),
        ("ads", "ad_ids", ads, "AD_ID", "pin_promotion_id", "get_ad_delivery_metrics_handler"),
    ]
    for part, param, ids, id_field, column, name in cases:
        listed = ",".join(map(str, ids))
        for slash in ("", "/"):
            path = f"/ads/v4/advertisers/{adv}/{part}/delivery_metrics{slash}?{RANGE}&columns={METRICS}"
            rows = await _rows(client, f"{path}&{param}={listed}", d.headers, name)
            want = expected(d.hours, id_field=id_field, entity=attrgetter(column))
            assert [r[id_field] for r in rows] == [str(i) for i in ids]
            assert rows == want
        # one id, repeated keys, and a silent id (no delivery: no row)
        one = await _rows(
            client,
            f"/ads/v4/advertisers/{adv}/{part}/delivery_metrics?{RANGE}&columns={METRICS}&{param}={ids[0]}"
            f"&{param}={ids[0]}",
            d.headers,
            name,
        )
        assert one == [w for w in want if w[id_field] == str(ids[0])]
    silent = d.world.silent["paused"]
    path = f"/ads/v4/advertisers/{adv}/ads/delivery_metrics?{RANGE}&ad_ids={silent}"
    assert await _rows(client, path, d.headers, "get_ad_delivery_metrics_handler") == []


# ---- bad input and access ------------------------------------------------------------------


@pytest.fixture
async def tree(
    client: httpx.AsyncClient, factory: Factory, runtime: Runtime
) -> tuple[Account, dict[str, str]]:
    owner = await account(factory, SCOPES + ",write_campaigns,write_pin_promotions")
    camp = await make_campaign(client, owner)
    group = await make_ad_group(client, owner, camp["id"])
    ads = AdsBuilder(runtime)
    pin = await ads.pin(owner.user, await ads.board(owner.user))
    r = await client.post(
        "/ads/v3/pin_promotions/",
        json={
            "ad_group_id": group["id"],
            "pin_id": str(pin.id),
            "destination_url": "https://shop.example.com/",
        },
        headers=owner.headers,
    )
    assert r.status_code == 200, r.text
    ids = {"adv": str(owner.advertiser.id), "c": camp["id"], "g": group["id"], "pp": r.json()["data"]["id"]}
    return owner, ids


def _routes(ids: dict[str, str]) -> dict[str, str]:
    base = f"/ads/v4/advertisers/{ids['adv']}"
    return {
        "read_advertisers": f"{base}/delivery_metrics?{RANGE}",
        "read_campaigns": f"{base}/campaigns/delivery_metrics?{RANGE}&campaign_ids={ids['c']}",
        "read_campaigns ": f"{base}/ad_groups/delivery_metrics?{RANGE}&ad_group_ids={ids['g']}",
        "read_pin_promotions": f"{base}/ads/delivery_metrics?{RANGE}&ad_ids={ids['pp']}",
    }


async def test_id_lists_are_required_numeric_and_the_advertisers_own(
    client: httpx.AsyncClient, factory: Factory, tree: tuple[Account, dict[str, str]]
) -> None:
    owner, ids = tree
    other = await account(factory, SCOPES + ",write_campaigns", name="Other")
    foreign_campaign = await make_campaign(client, other)
    foreign_group = await make_ad_group(client, other, foreign_campaign["id"])
    base = f"/ads/v4/advertisers/{ids['adv']}"
    for part, param, own, foreign in (
        ("campaigns", "campaign_ids", ids["c"], foreign_campaign["id"]),
        ("ad_groups", "ad_group_ids", ids["g"], foreign_group["id"]),
        ("ads", "ad_ids", ids["pp"], "123"),
    ):
        path = f"{base}/{part}/delivery_metrics?{RANGE}"
        body = failure(await client.get(path, headers=owner.headers), 400, 1, param)
        assert "required" in body["message"]
        failure(await client.get(f"{path}&{param}=abc", headers=owner.headers), 400, 1, param)
        body = failure(
            await client.get(f"{path}&{param}={own},{foreign}", headers=owner.headers), 400, 1, param
        )
        assert foreign in body["message"]
        many = ",".join(str(i) for i in range(1, 252))
        failure(await client.get(f"{path}&{param}={many}", headers=owner.headers), 400, 1, param)
    # the report parameters are read as on v3, naming the field
    failure(await client.get(f"{base}/delivery_metrics?start_date=2026-10-01", headers=owner.headers), 400, 1,
            "end_date")  # fmt: skip
    failure(await client.get(f"{base}/delivery_metrics?{RANGE}&columns=NOPE", headers=owner.headers), 400, 1,
            "columns")  # fmt: skip
    r = await client.get(f"{base}/delivery_metrics?{RANGE}&granularity=DAILY", headers=owner.headers)
    failure(r, 400, 1, "granularity")


@pytest.mark.parametrize(
    "role", ["ADMIN", "ANALYST", "CAMPAIGN_MANAGER", "FINANCE_MANAGER", "AUDIENCE_MANAGER", None]
)
async def test_roles_need_ad_analytics_read(
    client: httpx.AsyncClient, factory: Factory, tree: tuple[Account, dict[str, str]], role: str | None
) -> None:
    owner, ids = tree
    member = await factory.user()
    if role is not None:
        await factory.share(owner.advertiser, member, role)
    headers = bearer(await factory.token(member, SCOPES))
    for path in _routes(ids).values():
        r = await client.get(path, headers=headers)
        if role in ("ADMIN", "ANALYST", "CAMPAIGN_MANAGER"):
            assert r.status_code == 200 and r.json()["data"] == [], r.text
        else:
            failure(r, 403, 1902)


async def test_each_route_needs_its_read_scope(
    client: httpx.AsyncClient, factory: Factory, tree: tuple[Account, dict[str, str]]
) -> None:
    owner, ids = tree
    for scope, path in _routes(ids).items():
        scope = scope.strip()
        others = ",".join(s for s in SCOPES.split(",") if s != scope)
        body = failure(
            await client.get(path, headers=bearer(await factory.token(owner.user, others))), 401, 3
        )
        assert scope in body["message"]
        r = await client.get(path, headers=bearer(await factory.token(owner.user, scope)))
        assert r.status_code == 200, r.text
        assert r.headers["x-userendpoint-ratelimit-limit"] == "1000"
