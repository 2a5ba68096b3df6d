from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
from sqlalchemy import select

from pinapi.domain.clock import FixedClock
from pinapi.runtime import Runtime
from pinapi.store.tables import AdCredit, Advertiser
from tests.factories import Factory, bearer


def _url(adv: Advertiser, code: str) -> str:
    return f"/ads/v3/advertisers/{adv.id}/marketing_offers/{code}/redeem/"


async def _credits(runtime: Runtime) -> list[tuple[str, int]]:
    async with runtime.sessions() as s:
        rows = (await s.scalars(select(AdCredit).order_by(AdCredit.id))).all()
    return [(c.offer_code, c.remaining_micro) for c in rows]


async def test_redeem_gives_credit_once(
    client: httpx.AsyncClient, factory: Factory, runtime: Runtime, clock: FixedClock
) -> None:
    owner = await factory.user("offer_owner")
    adv = await factory.advertiser(owner)
    token = await factory.token(owner, "write_advertisers")
    r = await client.post(_url(adv, "welcome100"), headers=bearer(token))
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["endpoint_name"] == "ads_v3_redeem_marketing_offer_handler"
    data = body["data"]
    assert data["offer_code"] == "WELCOME100" and data["status"] == "REDEEMED"
    assert data["currency"] == "USD" and data["credit_in_micro_currency"] == 100_000_000
    assert data["expiration_time"] == int((clock.now() + timedelta(days=90)).timestamp())
    assert await _credits(runtime) == [("WELCOME100", 100_000_000)]

    r = await client.post(_url(adv, "WELCOME100"), headers=bearer(token))
    assert r.status_code == 400 and r.json()["code"] == 15
    assert "already redeemed" in r.json()["message"] and "'offer_code'" in r.json()["message"]
    assert await _credits(runtime) == [("WELCOME100", 100_000_000)]


async def test_unknown_expired_and_country_bound_codes(
    client: httpx.AsyncClient, factory: Factory, runtime: Runtime, clock: FixedClock
) -> None:
    owner = await factory.user("offer_owner2")
    adv = await factory.advertiser(owner)
    token = await factory.token(owner, "write_advertisers")
    r = await client.post(_url(adv, "NOSUCHCODE"), headers=bearer(token))
    assert r.status_code == 404 and r.json()["code"] == 3006
    r = await client.post(_url(adv, "SUMMER2025"), headers=bearer(token))
    assert r.status_code == 400 and r.json()["code"] == 15 and "expired on 2025-09-30" in r.json()["message"]
    r = await client.post(_url(adv, "UKSTART25"), headers=bearer(token))
    assert r.status_code == 400 and "only for advertisers in GB" in r.json()["message"]
    clock.set(datetime(2026, 10, 1, tzinfo=UTC))
    r = await client.post(_url(adv, "HOLIDAY50"), headers=bearer(token))
    assert r.status_code == 400 and "not redeemable before 2026-11-01" in r.json()["message"]
    assert await _credits(runtime) == []


async def test_redeem_needs_scope_and_role(
    client: httpx.AsyncClient, factory: Factory, runtime: Runtime
) -> None:
    owner = await factory.user("offer_owner3")
    adv = await factory.advertiser(owner)
    r = await client.post(
        _url(adv, "WELCOME100"), headers=bearer(await factory.token(owner, "read_advertisers"))
    )
    assert r.status_code == 401 and r.json()["code"] == 3
    for role in ("ANALYST", "CAMPAIGN_MANAGER"):
        user = await factory.user(f"offer_{role.lower()}")
        await factory.share(adv, user, role)
        r = await client.post(
            _url(adv, "WELCOME100"), headers=bearer(await factory.token(user, "write_advertisers"))
        )
        assert r.status_code == 403 and r.json()["code"] == 1902, role
    finance = await factory.user("offer_finance")
    await factory.share(adv, finance, "FINANCE_MANAGER")
    r = await client.post(
        _url(adv, "WELCOME100"), headers=bearer(await factory.token(finance, "write_advertisers"))
    )
    assert r.status_code == 200
    stranger = await factory.user("offer_stranger")
    r = await client.post(
        _url(adv, "HOLIDAY50"), headers=bearer(await factory.token(stranger, "write_advertisers"))
    )
    assert r.status_code == 403 and r.json()["code"] == 1902
    r = await client.post(
        "/ads/v3/advertisers/x/marketing_offers/WELCOME100/redeem/",
        headers=bearer(await factory.token(owner, "write_advertisers")),
    )
    assert r.status_code == 400 and "'advertiser'" in r.json()["message"]
    assert await _credits(runtime) == [("WELCOME100", 100_000_000)]
