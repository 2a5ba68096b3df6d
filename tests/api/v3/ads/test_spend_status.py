"""Summary statuses read the spend the delivery engine recorded: used-up budgets complete."""

from __future__ import annotations

from datetime import date, timedelta

import httpx

from pinapi.runtime import Runtime
from pinapi.store.tables.facts import DeliveryHour
from tests.api.v3.ads.helpers import DAY, NOW, account, make_ad_group, make_campaign
from tests.factories import Factory


async def _spend(runtime: Runtime, campaign: dict[str, str], ad_group: dict[str, str], micro: int) -> None:
    async with runtime.sessions() as s, s.begin():
        s.add(
            DeliveryHour(
                pin_promotion_id=1,
                hour=runtime.clock.now() - timedelta(hours=3),
                ad_group_id=int(ad_group["id"]),
                campaign_id=int(campaign["id"]),
                advertiser_id=int(campaign["advertiser_id"]),
                local_date=date(2026, 11, 2),
                spend_in_micro_dollar=micro,
            )
        )


async def test_lifetime_cap_used_up_completes_the_campaign(
    client: httpx.AsyncClient, factory: Factory, runtime: Runtime
) -> None:
    acc = await account(factory)
    campaign = await make_campaign(client, acc, lifetime_spend_cap=100_000_000, end_time=NOW + 30 * DAY)
    group = await make_ad_group(client, acc, campaign["id"], end_time=NOW + 10 * DAY)
    assert campaign["summary_status"] == "RUNNING"
    await _spend(runtime, campaign, group, 60_000_000)
    r = await client.get(f"/ads/v3/campaigns/{campaign['id']}/", headers=acc.headers)
    assert r.json()["data"]["summary_status"] == "RUNNING"
    await _spend_more(runtime, campaign, group)
    r = await client.get(f"/ads/v3/campaigns/{campaign['id']}/", headers=acc.headers)
    assert r.json()["data"]["summary_status"] == "COMPLETED"
    r = await client.get(f"/ads/v3/ad_groups/{group['id']}/", headers=acc.headers)
    assert r.json()["data"]["summary_status"] == "COMPLETED"
    r = await client.get(f"/ads/v3/advertisers/{acc.advertiser.id}/campaigns/summary/", headers=acc.headers)
    assert r.json()["data"]["COMPLETED"] == 1
    assert r.json()["data"]["RUNNING"] == 0


async def _spend_more(runtime: Runtime, campaign: dict[str, str], group: dict[str, str]) -> None:
    async with runtime.sessions() as s, s.begin():
        s.add(
            DeliveryHour(
                pin_promotion_id=1,
                hour=runtime.clock.now() - timedelta(hours=2),
                ad_group_id=int(group["id"]),
                campaign_id=int(campaign["id"]),
                advertiser_id=int(campaign["advertiser_id"]),
                local_date=date(2026, 11, 2),
                spend_in_micro_dollar=40_000_000,
            )
        )


async def test_lifetime_ad_group_budget_used_up_completes_the_group(
    client: httpx.AsyncClient, factory: Factory, runtime: Runtime
) -> None:
    acc = await account(factory)
    campaign = await make_campaign(client, acc)
    group = await make_ad_group(
        client,
        acc,
        campaign["id"],
        budget_type="LIFETIME",
        budget_in_micro_currency=50_000_000,
        end_time=NOW + 5 * DAY,
    )
    await _spend(runtime, campaign, group, 50_000_000)
    r = await client.get(f"/ads/v3/ad_groups/{group['id']}/", headers=acc.headers)
    assert r.json()["data"]["summary_status"] == "COMPLETED"
    r = await client.get(f"/ads/v3/campaigns/{campaign['id']}/", headers=acc.headers)
    assert r.json()["data"]["summary_status"] == "RUNNING"
