"""The demo dataset's ads core: two advertisers of the demo business, campaigns, ad groups.

The access area made ``Demo Advertiser (USD)`` (shared with ``analyst`` as ANALYST); this
adds a EUR advertiser in Berlin time shared the same way, and under both, campaigns of
several objectives and states with ad groups, all created through the domain functions so
they satisfy every rule. Pin promotions are added by the promotions area.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from pinapi.domain.access import sharing
from pinapi.domain.access.principal import Principal
from pinapi.domain.ads import ad_groups, advertisers, campaigns
from pinapi.runtime import Runtime
from pinapi.store.tables import Advertiser, User

DAY = 86_400
DOGS, PETS, RECIPES, WEDDINGS = "626534780268", "549690615211", "471824483761", "960959007372"


async def load(runtime: Runtime, session: AsyncSession) -> None:
    clock = runtime.clock
    demo = await session.scalar(select(User).where(User.username == "demo"))
    analyst = await session.scalar(select(User).where(User.username == "analyst"))
    if demo is None or analyst is None:
        return
    owner = Principal(user_id=demo.id, app_id=0, scopes=frozenset())
    usd = await session.scalar(
        select(Advertiser).where(Advertiser.owner_user_id == demo.id).order_by(Advertiser.id).limit(1)
    )
    if usd is None:
        usd = (
            await advertisers.create(
                session,
                clock=clock,
                principal=owner,
                name="Demo Advertiser (USD)",
                country="US",
                currency="USD",
                timezone="America/New_York",
                tos_id=1,
            )
        ).advertiser
    eur = (
        await advertisers.create(
            session,
            clock=clock,
            principal=owner,
            name="Demo Werbung (EUR)",
            country="DE",
            currency="EUR",
            timezone="Europe/Berlin",
            tos_id=1,
        )
    ).advertiser
    await sharing.share(session, clock=clock, advertiser_id=eur.id, user_id=analyst.id, role="ANALYST")
    now = int(clock.now().timestamp())

    async def campaign(adv: Advertiser, **values: Any) -> str:
        made = await campaigns.create(
            session, clock=clock, principal=owner, values={"advertiser_id": adv.id, **values}
        )
        return str(made.campaign.id)

    async def group(campaign_id: str, **values: Any) -> None:
        await ad_groups.create(
            session, clock=clock, principal=owner, values={"campaign_id": campaign_id, **values}
        )

    aware = await campaign(usd, name="Fall awareness", objective_type="AWARENESS", end_time=now + 60 * DAY)
    await group(
        aware,
        name="US pet owners (CPM)",
        budget=25_000_000,
        bid=3_000_000,
        end_time=now + 60 * DAY,
        lifetime_frequency_cap=8,
        targeting_spec={"LOCATION": ["US"], "INTEREST": [DOGS, PETS]},
    )
    traffic = await campaign(
        usd,
        name="Recipe traffic",
        objective_type="TRAFFIC",
        daily_spend_cap=80_000_000,
        tracking_urls={"click": ["https://track.example.com/c"]},
    )
    await group(
        traffic,
        name="West coast foodies",
        budget=40_000_000,
        bid=900_000,
        bid_strategy_type="MAX_BID",
        targeting_spec={
            "GEO": ["US-CA", "US-OR", "US-WA"],
            "INTEREST": [RECIPES],
            "AGE_BUCKET": ["25-34", "35-44"],
        },
    )
    await group(
        traffic,
        name="Mobile, automatic bid",
        budget=30_000_000,
        bid_strategy_type="AUTOMATIC_BID",
        targeting_spec={"APPTYPE": ["iphone", "android_mobile"], "LOCATION": ["807", "501"]},
        status="PAUSED",
    )
    video = await campaign(
        usd, name="Wedding video views", objective_type="VIDEO_VIEW", start_time=now + 7 * DAY
    )
    await group(
        video,
        name="Planners",
        budget=15_000_000,
        bid=60_000,
        start_time=now + 7 * DAY,
        targeting_spec={"INTEREST": [WEDDINGS], "GENDER": ["female", "unknown"]},
    )
    conv = await campaign(usd, name="Checkout push", objective_type="WEB_CONVERSION", status="PAUSED")
    await group(conv, name="Retargeting", budget=20_000_000, bid_strategy_type="AUTOMATIC_BID")
    catalog = await campaign(
        eur,
        name="Katalog Herbst",
        objective_type="CATALOG_SALES",
        lifetime_spend_cap=900_000_000,
        end_time=now + 45 * DAY,
    )
    await group(
        catalog,
        name="Deutschland, alle Produkte",
        budget_type="LIFETIME",
        budget=600_000_000,
        bid=400_000,
        targeting_spec={"LOCATION": ["DE"], "LOCALE": ["de"], "GEO": ["DE-BY", "DE-BE"]},
    )
    old = await campaign(eur, name="Sommer (archiviert)", objective_type="AWARENESS")
    await campaigns.update(
        session, clock=clock, principal=owner, campaign_id=int(old), values={"status": "ARCHIVED"}
    )
