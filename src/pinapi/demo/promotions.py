"""The demo dataset's pin promotions and billing, on top of the ads core area.

The demo business promotes its own pins in the USD and EUR ad groups: some already
approved, one rejected by the reviewer (its destination is a blocked domain), and one still
PENDING (its review job runs after ``PINAPI_REVIEW_DELAY_SECONDS``, so a fresh server shows
it pending for a while). It has redeemed a marketing offer, spent part of that credit
yesterday (one settled bill, paid by credit), and the EUR advertiser has an insertion order.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from pinapi.domain.access.principal import Principal
from pinapi.domain.ads import billing, offers, order_lines, pin_promotions
from pinapi.domain.ads.review import ReviewPolicy, run_review
from pinapi.runtime import Runtime
from pinapi.store.tables import AdGroup, Advertiser, Board, Campaign, Pin, PinPromotion, User


async def load(runtime: Runtime, session: AsyncSession) -> None:
    clock = runtime.clock
    demo = await session.scalar(select(User).where(User.username == "demo"))
    if demo is None:
        return
    owner = Principal(user_id=demo.id, app_id=0, scopes=frozenset())
    pins = list(
        (
            await session.scalars(
                select(Pin)
                .join(Board, Board.id == Pin.board_id)
                .where(Pin.owner_id == demo.id, Pin.is_video.is_(False), Board.privacy == "public")
                .order_by(Pin.id)
            )
        ).all()
    )
    rows = (
        await session.execute(
            select(AdGroup, Campaign, Advertiser)
            .join(Campaign, Campaign.id == AdGroup.campaign_id)
            .join(Advertiser, Advertiser.id == AdGroup.advertiser_id)
            .where(Advertiser.owner_user_id == demo.id, Campaign.status != "ARCHIVED")
            .order_by(AdGroup.id)
        )
    ).all()
    groups = {group.name: (group, campaign, advertiser) for group, campaign, advertiser in rows}
    if not pins:
        return
    blocked = runtime.settings.blocked_domains
    policy = ReviewPolicy(delay_seconds=runtime.settings.review_delay_seconds, blocked_domains=tuple(blocked))
    plan = [
        # (ad group, pin index, destination, decide now)
        ("US pet owners (CPM)", 0, "https://shop.example.com/pets?utm_source=pinterest", True),
        ("West coast foodies", 1, "https://recipes.example.com/fall", True),
        (
            "West coast foodies",
            2,
            f"https://www.{blocked[0]}/deal" if blocked else "ftp://files.example.com/",
            True,
        ),
        ("Mobile, automatic bid", 3, "https://recipes.example.com/app", False),
        ("Deutschland, alle Produkte", 4, "https://shop.example.de/herbst", True),
    ]
    for group_name, index, url, decide in plan:
        if group_name not in groups:
            continue
        pin = pins[index % len(pins)]
        view = await pin_promotions.create(
            session,
            clock=clock,
            principal=owner,
            policy=policy,
            ad_group_id=groups[group_name][0].id,
            pin_id=pin.id,
            values={"name": f"{pin.title} – promoted", "destination_url": url},
        )
        if decide:
            promotion: PinPromotion = view.promotion
            await run_review(
                session,
                clock=clock,
                payload={
                    "pin_promotion_id": promotion.id,
                    "version": promotion.review_version,
                    "blocked_domains": list(blocked),
                },
            )

    usd = next((a for _, _, a in rows if a.currency == "USD"), None)
    eur = next((a for _, _, a in rows if a.currency == "EUR"), None)
    if usd is not None:
        await billing.ensure_profile(session, clock=clock, advertiser_id=usd.id)
        await offers.redeem(
            session, clock=clock, principal=owner, advertiser_id=usd.id, offer_code="WELCOME100"
        )
        traffic = next((c for _, c, a in rows if a.id == usd.id and c.objective_type == "TRAFFIC"), None)
        day = clock.now().replace(hour=0, minute=0, second=0, microsecond=0) - timedelta(days=1)
        await billing.record_spend(
            session,
            clock=clock,
            advertiser_id=usd.id,
            amount_micro=12_500_000,
            period_start=day,
            period_end=day + timedelta(days=1),
            campaign_id=traffic.id if traffic else None,
        )
    if eur is not None:
        await billing.ensure_profile(session, clock=clock, advertiser_id=eur.id, billing_type="INVOICE")
        now = clock.now()
        await order_lines.create_order_line(
            session,
            clock=clock,
            advertiser_id=eur.id,
            name="Q4 Insertion Order",
            budget_micro=5_000_000_000,
            purchase_order_id="PO-2026-104",
            start_time=now - timedelta(days=30),
            end_time=now + timedelta(days=60),
        )
