from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlalchemy import select

from pinapi.domain.access.principal import Principal
from pinapi.domain.ads import billing, offers, order_lines
from pinapi.domain.clock import FixedClock
from pinapi.domain.errors import Invalid
from pinapi.runtime import Runtime
from pinapi.store.tables import AdCredit, Advertiser, Bill, BillingProfile, Campaign
from tests.api.v3.ads.builders import AdsBuilder
from tests.factories import Factory, bearer

DAY1 = datetime(2026, 11, 1, tzinfo=UTC)
DAY2 = DAY1 + timedelta(days=1)
DAY3 = DAY2 + timedelta(days=1)


async def _redeem(runtime: Runtime, adv: Advertiser, code: str) -> AdCredit:
    async with runtime.sessions() as s, s.begin():
        return await offers.redeem(
            s,
            clock=runtime.clock,
            principal=Principal(user_id=adv.owner_user_id, app_id=0, scopes=frozenset()),
            advertiser_id=adv.id,
            offer_code=code,
        )


async def _spend(
    runtime: Runtime, adv: Advertiser, amount: int, start: datetime, campaign: int | None = None
) -> Bill:
    async with runtime.sessions() as s, s.begin():
        return await billing.record_spend(
            s,
            clock=runtime.clock,
            advertiser_id=adv.id,
            amount_micro=amount,
            period_start=start,
            period_end=start + timedelta(days=1),
            campaign_id=campaign,
        )


async def test_record_spend_applies_credit_first_then_settles(
    factory: Factory, runtime: Runtime, clock: FixedClock
) -> None:
    owner = await factory.user("payer")
    adv = await factory.advertiser(owner)
    campaign = await AdsBuilder(runtime).campaign(adv)
    holiday = await _redeem(runtime, adv, "HOLIDAY50")  # 50, expires in 60 days: used first
    welcome = await _redeem(runtime, adv, "welcome100")  # 100, expires in 90 days

    bill = await _spend(runtime, adv, 30_000_000, DAY1, campaign.id)
    assert bill.status == "COMPED"  # DAY1 ended before the clock's now, and credit paid it all
    assert (bill.spend_micro, bill.credit_micro) == (30_000_000, 30_000_000)
    # Fully covered by credit: nothing to charge.
    async with runtime.sessions() as s:
        stored = await s.get(Bill, bill.id)
        assert stored is not None and stored.status == "COMPED" and stored.charge_time is None
        assert stored.details == [
            {
                "campaignId": str(campaign.id),
                "campaignName": "TRAFFIC campaign",
                "spendInMicroCurrency": 30_000_000,
            }
        ]
        assert stored.discount_details == [
            {"creditId": str(holiday.id), "name": holiday.name, "type": 2, "spendInMicroCurrency": 30_000_000}
        ]

    # The open day: 150 of spend uses the 20 left of HOLIDAY50, then 100 of WELCOME100, charges 30.
    bill2 = await _spend(runtime, adv, 100_000_000, DAY2, campaign.id)
    bill2 = await _spend(runtime, adv, 50_000_000, DAY2, campaign.id)
    async with runtime.sessions() as s:
        b2 = await s.get(Bill, bill2.id)
        assert b2 is not None
        assert b2.status == "PENDING" and b2.spend_micro == 150_000_000 and b2.credit_micro == 120_000_000
        assert [(d["creditId"], d["spendInMicroCurrency"]) for d in b2.discount_details] == [
            (str(holiday.id), 20_000_000),
            (str(welcome.id), 100_000_000),
        ]
        assert b2.details[0]["spendInMicroCurrency"] == 150_000_000
        credits = {c.offer_code: c.remaining_micro for c in (await s.scalars(select(AdCredit))).all()}
        assert credits == {"HOLIDAY50": 0, "WELCOME100": 0}
    clock.advance(timedelta(days=1))
    async with runtime.sessions() as s, s.begin():
        assert await billing.settle_due(s, clock=clock, advertiser_id=adv.id) == 1
    async with runtime.sessions() as s:
        b2 = await s.get(Bill, bill2.id)
        assert b2 is not None and b2.status == "PAID" and b2.charge_time == clock.now()


async def test_record_spend_by_billing_type_and_bad_input(factory: Factory, runtime: Runtime) -> None:
    owner = await factory.user("invoiced")
    adv = await factory.advertiser(owner)
    async with runtime.sessions() as s, s.begin():
        profile = await billing.ensure_profile(
            s, clock=runtime.clock, advertiser_id=adv.id, billing_type="INVOICE"
        )
        again = await billing.ensure_profile(s, clock=runtime.clock, advertiser_id=adv.id)
        assert again.id == profile.id and again.billing_type == "INVOICE"
    bill = await _spend(runtime, adv, 5_000_000, DAY1)
    assert bill.status == "INVOICED" and bill.credit_micro == 0
    async with runtime.sessions() as s:
        for kwargs, field in (
            ({"amount_micro": -1, "period_start": DAY1, "period_end": DAY2}, "amount_micro"),
            ({"amount_micro": 1, "period_start": DAY2, "period_end": DAY1}, "period_end"),
            ({"amount_micro": 1, "period_start": DAY1, "period_end": DAY3}, "period_end"),
        ):
            with pytest.raises(Invalid) as err:
                await billing.record_spend(s, clock=runtime.clock, advertiser_id=adv.id, **kwargs)  # type: ignore[arg-type]
            assert err.value.field == field
        with pytest.raises(Invalid):
            await billing.ensure_profile(s, clock=runtime.clock, advertiser_id=adv.id, billing_type="CASH")


async def test_billing_data(client: httpx.AsyncClient, factory: Factory, runtime: Runtime) -> None:
    owner = await factory.user("bd_owner")
    adv = await factory.advertiser(owner)
    token = await factory.token(owner, "read_advertisers")
    await _redeem(runtime, adv, "WELCOME100")
    bill = await _spend(runtime, adv, 10_000_000, DAY1)
    r = await client.get(f"/ads/v3/advertisers/{adv.id}/billing_data/", headers=bearer(token))
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["endpoint_name"] == "ads_v3_get_billing_data_handler"
    data = body["data"]
    async with runtime.sessions() as s:
        profile = await s.scalar(select(BillingProfile).where(BillingProfile.advertiser_id == adv.id))
    assert profile is not None
    assert data == {
        "id": str(profile.id),
        "advertiserId": str(adv.id),
        "billingType": "CREDIT_CARD",
        "cardNumber": "xxxxxxxxxxxx4242",
        "billingIds": {},
        "billingGroups": {},
        "currency": "USD",
        "creditBalanceInMicroCurrency": 90_000_000,
        "billIds": [str(bill.id)],
    }
    finance = await factory.user("bd_finance")
    await factory.share(adv, finance, "FINANCE_MANAGER")
    r = await client.get(
        f"/ads/v3/advertisers/{adv.id}/billing_data/",
        headers=bearer(await factory.token(finance, "read_advertisers")),
    )
    assert r.status_code == 200
    analyst = await factory.user("bd_analyst")
    await factory.share(adv, analyst, "ANALYST")
    r = await client.get(
        f"/ads/v3/advertisers/{adv.id}/billing_data/",
        headers=bearer(await factory.token(analyst, "read_advertisers")),
    )
    assert r.status_code == 403 and r.json()["code"] == 1902
    r = await client.get(
        f"/ads/v3/advertisers/{adv.id}/billing_data/",
        headers=bearer(await factory.token(owner, "read_campaigns")),
    )
    assert r.status_code == 401 and r.json()["code"] == 3
    r = await client.get("/ads/v3/advertisers/abc/billing_data/", headers=bearer(token))
    assert r.status_code == 400 and "'advertiser'" in r.json()["message"]


async def test_bill_receipt(client: httpx.AsyncClient, factory: Factory, runtime: Runtime) -> None:
    owner = await factory.user("br_owner")
    adv = await factory.advertiser(owner)
    other = await factory.advertiser(owner, "Other")
    campaign = await AdsBuilder(runtime).campaign(adv)
    await _redeem(runtime, adv, "HOLIDAY50")
    bill = await _spend(runtime, adv, 80_000_000, DAY1, campaign.id)
    analyst = await factory.user("br_analyst")
    await factory.share(adv, analyst, "ANALYST")
    token = await factory.token(analyst, "read_advertisers")  # BILL_READ is an ANALYST action
    r = await client.get(f"/ads/v3/advertisers/{adv.id}/bill_receipts/{bill.id}/", headers=bearer(token))
    assert r.status_code == 200, r.text
    data = r.json()["data"]
    assert r.json()["endpoint_name"] == "ads_v3_get_bill_receipt_handler"
    assert data["id"] == str(bill.id) and data["advertiserId"] == str(adv.id)
    assert data["status"] == "PAID"
    assert data["spendInMicroCurrency"] == 80_000_000 and data["spendInMicroDollar"] == 80_000_000
    assert data["creditInMicroCurrency"] == 50_000_000 and data["amountDueInMicroCurrency"] == 30_000_000
    assert data["startTime"] == int(DAY1.timestamp()) and data["endTime"] == int(DAY2.timestamp())
    assert data["chargeTime"] == int(runtime.clock.now().timestamp())
    assert data["currency"] == "USD" and data["discountDetails"][0]["type"] == 2
    assert data["details"][0]["campaignId"] == str(campaign.id)

    owner_token = await factory.token(owner, "read_advertisers")
    r = await client.get(
        f"/ads/v3/advertisers/{other.id}/bill_receipts/{bill.id}/", headers=bearer(owner_token)
    )
    assert r.status_code == 404 and r.json()["code"] == 3005
    r = await client.get(f"/ads/v3/advertisers/{adv.id}/bill_receipts/x1/", headers=bearer(owner_token))
    assert r.status_code == 400 and "'bill'" in r.json()["message"]
    audience = await factory.user("br_audience")
    await factory.share(adv, audience, "AUDIENCE_MANAGER")
    r = await client.get(
        f"/ads/v3/advertisers/{adv.id}/bill_receipts/{bill.id}/",
        headers=bearer(await factory.token(audience, "read_advertisers")),
    )
    assert r.status_code == 403 and r.json()["code"] == 1902
    r = await client.get(
        f"/ads/v3/advertisers/{adv.id}/bill_receipts/{bill.id}/",
        headers=bearer(await factory.token(owner, "read_pins")),
    )
    assert r.status_code == 401 and r.json()["code"] == 3


async def test_order_lines(client: httpx.AsyncClient, factory: Factory, runtime: Runtime) -> None:
    owner = await factory.user("ol_owner")
    adv = await factory.advertiser(owner)
    campaign = await AdsBuilder(runtime).campaign(adv)
    async with runtime.sessions() as s, s.begin():
        lines = [
            await order_lines.create_order_line(
                s,
                clock=runtime.clock,
                advertiser_id=adv.id,
                name=f"IO {i}",
                budget_micro=1_000_000_000,
                purchase_order_id=f"PO{i}",
                start_time=DAY1,
                end_time=DAY3,
            )
            for i in range(3)
        ]
        row = await s.get(Campaign, campaign.id)
        assert row is not None
        row.order_line_id = lines[0].id
        with pytest.raises(Invalid):
            await order_lines.create_order_line(
                s, clock=runtime.clock, advertiser_id=adv.id, name="x", budget_micro=0
            )
    token = await factory.token(owner, "read_advertisers")
    r = await client.get(f"/ads/v3/order_lines/{lines[0].id}/", headers=bearer(token))
    assert r.status_code == 200, r.text
    assert r.json()["endpoint_name"] == "ads_v3_get_order_line_handler"
    assert r.json()["data"] == {
        "id": str(lines[0].id),
        "type": "orderline",
        "advertiser_id": str(adv.id),
        "name": "IO 0",
        "budget": 1_000_000_000,
        "paid_budget": 1_000_000_000,
        "paid_type": "PAID",
        "purchase_order_id": "PO0",
        "status": "ACTIVE",
        "campaign_ids": [str(campaign.id)],
        "start_time": int(DAY1.timestamp()),
        "end_time": int(DAY3.timestamp()),
    }
    r = await client.get(f"/ads/v3/advertisers/{adv.id}/order_lines/?page_size=2", headers=bearer(token))
    assert [x["name"] for x in r.json()["data"]] == ["IO 0", "IO 1"]
    r = await client.get(
        f"/ads/v3/advertisers/{adv.id}/order_lines/?page_size=2&bookmark={r.json()['bookmark']}",
        headers=bearer(token),
    )
    assert [x["name"] for x in r.json()["data"]] == ["IO 2"] and "bookmark" not in r.json()
    r = await client.get(f"/ads/v3/advertisers/{adv.id}/order_lines/?page_size=0", headers=bearer(token))
    assert r.status_code == 400 and "'page_size'" in r.json()["message"]
    analyst = await factory.user("ol_analyst")
    await factory.share(adv, analyst, "ANALYST")  # ANALYST lacks ORDER_LINE_READ
    atoken = await factory.token(analyst, "read_advertisers")
    r = await client.get(f"/ads/v3/order_lines/{lines[0].id}/", headers=bearer(atoken))
    assert r.status_code == 403 and r.json()["code"] == 1902
    r = await client.get(f"/ads/v3/advertisers/{adv.id}/order_lines/", headers=bearer(atoken))
    assert r.status_code == 403 and r.json()["code"] == 1902
    stranger = await factory.token(await factory.user("ol_stranger"), "read_advertisers")
    r = await client.get(f"/ads/v3/order_lines/{lines[0].id}/", headers=bearer(stranger))
    assert r.status_code == 404 and r.json()["code"] == 3004
    r = await client.get(
        f"/ads/v3/order_lines/{lines[0].id}/", headers=bearer(await factory.token(owner, "read_users"))
    )
    assert r.status_code == 401 and r.json()["code"] == 3


async def test_campaign_order_line_must_be_the_advertisers_own(
    client: httpx.AsyncClient, factory: Factory, runtime: Runtime
) -> None:
    owner = await factory.user("ol_campaigns")
    adv = await factory.advertiser(owner)
    other = await factory.advertiser(owner)
    async with runtime.sessions() as s, s.begin():
        mine, theirs, gone = [
            await order_lines.create_order_line(
                s, clock=runtime.clock, advertiser_id=a.id, name=f"IO {i}", budget_micro=10**9
            )
            for i, a in enumerate((adv, other, adv))
        ]
        gone.status = "DELETED"
    headers = bearer(await factory.token(owner, "read_campaigns,write_campaigns"))
    body = {"advertiser_id": str(adv.id), "name": "With IO", "objective_type": "AWARENESS"}
    for line in (theirs.id, gone.id, 12345):
        r = await client.post(
            "/ads/v3/campaigns/", json={**body, "order_line_id": str(line)}, headers=headers
        )
        assert r.status_code == 400 and r.json()["code"] == 15, r.text
        assert "order_line_id" in r.json()["message"]
    r = await client.post("/ads/v3/campaigns/", json={**body, "order_line_id": str(mine.id)}, headers=headers)
    assert r.status_code == 200 and r.json()["data"]["order_line_id"] == str(mine.id)
    cid = r.json()["data"]["id"]
    r = await client.put(f"/ads/v3/campaigns/{cid}/", json={"order_line_id": str(theirs.id)}, headers=headers)
    assert r.status_code == 400 and "order_line_id" in r.json()["message"]
    r = await client.get(f"/ads/v3/campaigns/{cid}/", headers=headers)
    assert r.json()["data"]["order_line_id"] == str(mine.id)
