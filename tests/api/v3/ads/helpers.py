"""Shared setup for the ads core tests: an owner with an advertiser and a token."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx

from pinapi.store.tables import Advertiser, User
from tests.factories import Factory, bearer

ADS = "read_advertisers,write_advertisers,read_campaigns,write_campaigns"
DAY = 86_400
NOW = 1_793_620_800  # 2026-11-02 12:00 UTC, the fixture clock


@dataclass
class Account:
    user: User
    advertiser: Advertiser
    token: str

    @property
    def headers(self) -> dict[str, str]:
        return bearer(self.token)


async def account(factory: Factory, scopes: str = ADS, name: str = "Acme") -> Account:
    user = await factory.user(business=True)
    advertiser = await factory.advertiser(user, name)
    return Account(user, advertiser, await factory.token(user, scopes))


async def make_campaign(client: httpx.AsyncClient, acc: Account, **fields: Any) -> dict[str, Any]:
    body = {"advertiser_id": str(acc.advertiser.id), "name": "C", "objective_type": "AWARENESS", **fields}
    r = await client.post("/ads/v3/campaigns/", json=body, headers=acc.headers)
    assert r.status_code == 200, r.text
    data: dict[str, Any] = r.json()["data"]
    return data


async def make_ad_group(
    client: httpx.AsyncClient, acc: Account, campaign_id: str, **fields: Any
) -> dict[str, Any]:
    body = {
        "campaign_id": campaign_id,
        "name": "G",
        "budget_in_micro_currency": 10_000_000,
        "bid_in_micro_currency": 1_000_000,
        **fields,
    }
    r = await client.post("/ads/v3/ad_groups/", json=body, headers=acc.headers)
    assert r.status_code == 200, r.text
    data: dict[str, Any] = r.json()["data"]
    return data


def failure(r: httpx.Response, status: int, code: int, param: str | None = None) -> dict[str, Any]:
    assert r.status_code == status, r.text
    body: dict[str, Any] = r.json()
    assert body["status"] == "failure" and body["code"] == code, body
    if param is not None:
        assert body.get("param") == param, body
    return body
