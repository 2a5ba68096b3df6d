"""Every role (and no role) over every ads-core route on an advertiser shared with the caller.

The expected table is written out from the v3 "Roles and Actions" guide, not derived from
``roles.json``, so a wrong matrix file fails here. One test per role walks all the routes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from tests.api.v3.ads.helpers import ADS, account, make_ad_group, make_campaign
from tests.factories import Factory, bearer


@dataclass(frozen=True)
class Route:
    key: str
    method: str
    path: str  # {adv}, {c}, {g} filled in per test
    body: Any = None
    # the answer when the caller holds no role at all: objects are hidden, accounts refuse
    hidden: tuple[int, int] = (403, 1902)


ROUTES = [
    Route("advertiser_get", "GET", "/ads/v3/advertisers/{adv}/"),
    Route("campaigns_list", "GET", "/ads/v3/advertisers/{adv}/campaigns/"),
    Route("campaigns_summary", "GET", "/ads/v3/advertisers/{adv}/campaigns/summary/"),
    Route("campaign_get", "GET", "/ads/v3/campaigns/{c}/", hidden=(404, 3001)),
    Route("campaign_ad_groups", "GET", "/ads/v3/campaigns/{c}/ad_groups/", hidden=(404, 3001)),
    Route("ad_group_get", "GET", "/ads/v3/ad_groups/{g}/", hidden=(404, 3002)),
    Route(
        "campaign_create",
        "POST",
        "/ads/v3/campaigns/",
        {"advertiser_id": "{adv}", "name": "n", "objective_type": "AWARENESS"},
    ),
    Route("campaign_update", "PUT", "/ads/v3/campaigns/{c}/", {"name": "renamed"}, hidden=(404, 3001)),
    Route(
        "batch_create",
        "POST",
        "/ads/v3/advertisers/{adv}/campaigns/batch/",
        [{"name": "b", "objective_type": "TRAFFIC"}],
    ),
    Route("batch_update", "PUT", "/ads/v3/advertisers/{adv}/campaigns/batch/", [{"id": "{c}", "name": "bu"}]),
    Route(
        "ad_group_create",
        "POST",
        "/ads/v3/ad_groups/",
        {"campaign_id": "{c}", "name": "g2", "budget": 10_000_000, "bid": 1_000_000},
        hidden=(404, 3001),
    ),
    Route("ad_group_update", "PUT", "/ads/v3/ad_groups/{g}/", {"name": "g-renamed"}, hidden=(404, 3002)),
]
READS = {
    "advertiser_get",
    "campaigns_list",
    "campaigns_summary",
    "campaign_get",
    "campaign_ad_groups",
    "ad_group_get",
}
EVERYTHING = {r.key for r in ROUTES}
EXPECTED: dict[str | None, set[str]] = {
    "OWNER": EVERYTHING,
    "ADMIN": EVERYTHING,
    "CAMPAIGN_MANAGER": EVERYTHING,
    "ANALYST": READS,
    "AUDIENCE_MANAGER": {"advertiser_get"},
    "FINANCE_MANAGER": {"advertiser_get"},
    "CATALOGS_MANAGER": {"advertiser_get"},
    None: set(),
}


def _fill(value: Any, ids: dict[str, str]) -> Any:
    if isinstance(value, str):
        for k, v in ids.items():
            value = value.replace("{" + k + "}", v)
        return value
    if isinstance(value, list):
        return [_fill(v, ids) for v in value]
    if isinstance(value, dict):
        return {k: _fill(v, ids) for k, v in value.items()}
    return value


@pytest.mark.parametrize("role", list(EXPECTED))
async def test_role_matrix(client: httpx.AsyncClient, factory: Factory, role: str | None) -> None:
    owner = await account(factory)
    camp = await make_campaign(client, owner)
    group = await make_ad_group(client, owner, camp["id"])
    ids = {"adv": str(owner.advertiser.id), "c": camp["id"], "g": group["id"]}
    if role == "OWNER":
        headers = owner.headers
    else:
        member = await factory.user()
        if role is not None:
            await factory.share(owner.advertiser, member, role)
        headers = bearer(await factory.token(member, ADS))
    seen: dict[str, tuple[int, int]] = {}
    for route in ROUTES:
        r = await client.request(
            route.method, _fill(route.path, ids), json=_fill(route.body, ids), headers=headers
        )
        seen[route.key] = (r.status_code, r.json()["code"])
        if r.status_code == 200 and route.key.startswith("batch"):
            assert all(item["exceptions"] == [] for item in r.json()["data"]), r.text
    expected = {
        route.key: (200, 0)
        if route.key in EXPECTED[role]
        else (route.hidden if role is None else (403, 1902))
        for route in ROUTES
    }
    assert seen == expected
    # the account list shows the shared advertiser exactly when a role is held
    listed = await client.get("/ads/v3/advertisers/", params={"include_acl": "true"}, headers=headers)
    names = [a["id"] for a in listed.json()["data"]]
    assert (ids["adv"] in names) is (role is not None)


SCOPED = [
    ("GET", "/ads/v3/advertisers/", None, "read_advertisers"),
    ("GET", "/ads/v3/advertisers/me/", None, "read_advertisers"),
    ("POST", "/ads/v3/advertisers/", {"name": "n"}, "write_advertisers"),
    ("GET", "/ads/v3/advertisers/{adv}/", None, "read_advertisers"),
    *[
        (r.method, r.path, r.body, "read_campaigns" if r.method == "GET" else "write_campaigns")
        for r in ROUTES[1:]
    ],
    ("GET", "/ads/v3/resources/advertiser/countries/", None, "read_advertisers"),
    ("GET", "/ads/v3/resources/targeting/types/", None, "read_advertisers"),
    ("GET", "/ads/v3/resources/targeting/interests/549690615211/", None, "read_advertisers"),
    ("GET", "/ads/v3/resources/targeting/GENDER/", None, "read_advertisers"),
    ("GET", "/ads/v3/resources/delivery_metrics/", None, "read_advertisers"),
]


async def test_every_route_needs_its_scope(client: httpx.AsyncClient, factory: Factory) -> None:
    """A token holding every ads scope but the route's own is refused with code 3 naming it."""
    owner = await account(factory)
    camp = await make_campaign(client, owner)
    group = await make_ad_group(client, owner, camp["id"])
    ids = {"adv": str(owner.advertiser.id), "c": camp["id"], "g": group["id"]}
    tokens: dict[str, dict[str, str]] = {}
    for method, path, body, scope in SCOPED:
        if scope not in tokens:
            rest = ",".join(s for s in ADS.split(",") if s != scope)
            tokens[scope] = bearer(await factory.token(owner.user, rest))
        r = await client.request(method, _fill(path, ids), json=_fill(body, ids), headers=tokens[scope])
        assert (r.status_code, r.json()["code"]) == (401, 3), (method, path, r.text)
        assert scope in r.json()["message"]
