"""Build the engine's ``Setup`` from the ads tables.

Everything the engine decides on comes from the rows as they are now: entity statuses, the
promotion's review status, schedules, budgets and caps, targeting, bids, the advertiser's
time zone and currency. ``Advertiser.active`` is decided here: status ACTIVE and billing in
good standing (no bill left UNPAID; an advertiser without a billing profile gets the default
card profile lazily, as billing does, so it counts as in good standing).

Archived campaigns, ad groups and promotions are left out (they can never deliver); paused
ones are passed on so the engine's own eligibility rules stay the single place that decides.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from functools import cache
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from pinapi.domain.ads import targeting
from pinapi.engine import entities as e
from pinapi.engine.dimensions import Dimensions, default_dimensions
from pinapi.store.tables import AdGroup, Advertiser, Bill, Campaign, Pin, PinPromotion


@cache
def ads_dimensions() -> Dimensions:
    """The built-in world with the ads interest tree folded onto its top-level interests.

    Ad groups target (and pins carry) interests at any level of the tree the targeting
    resources serve, while the population carries only the top-level ones: every node maps
    to its level-1 ancestor, so a child interest reaches the pinners of its branch.
    """
    dims = default_dimensions()
    tree = targeting.interests()
    top = {i.id for i in dims.interests}
    parents: dict[str, str] = {}
    for node in tree.values():
        root = node
        while root.parent_id is not None and root.parent_id in tree:
            root = tree[root.parent_id]
        if root.id in top and node.id != root.id:
            parents[node.id] = root.id
    return dataclasses.replace(dims, interest_parents=parents)


def _spec(raw: Mapping[str, Any] | None) -> dict[str, Sequence[str]]:
    """The stored targeting spec as type -> list of string values (the engine's input)."""
    out: dict[str, Sequence[str]] = {}
    for key, values in (raw or {}).items():
        if isinstance(values, list | tuple):
            out[str(key)] = [str(v) for v in values]
        elif values is not None:
            out[str(key)] = [str(values)]
    return out


async def load_setup(session: AsyncSession, *, organic_pins: bool = True) -> e.Setup:
    """Read every advertiser, live campaign, ad group, promotion and pin into a ``Setup``."""
    unpaid = set(
        (await session.scalars(select(Bill.advertiser_id).where(Bill.status == "UNPAID").distinct())).all()
    )
    advertisers = [
        e.Advertiser(
            id=a.id,
            time_zone=a.timezone or "UTC",
            currency=a.currency,
            active=a.status == "ACTIVE" and a.id not in unpaid,
        )
        for a in (await session.scalars(select(Advertiser).order_by(Advertiser.id))).all()
    ]
    campaigns = [
        e.Campaign(
            id=c.id,
            advertiser_id=c.advertiser_id,
            status=c.status,
            objective_type=c.objective_type,
            start_time=c.start_time,
            end_time=c.end_time,
            daily_spend_cap=c.daily_spend_cap,
            lifetime_spend_cap=c.lifetime_spend_cap,
        )
        for c in (
            await session.scalars(select(Campaign).where(Campaign.status != "ARCHIVED").order_by(Campaign.id))
        ).all()
    ]
    ad_groups = [
        e.AdGroup(
            id=g.id,
            campaign_id=g.campaign_id,
            status=g.status,
            start_time=g.start_time,
            end_time=g.end_time,
            budget_type=g.budget_type,
            budget_in_micro_currency=g.budget_in_micro_currency,
            bid_in_micro_currency=g.bid_in_micro_currency,
            billable_event=g.billable_event,
            bid_strategy_type=g.bid_strategy_type,
            pacing_delivery_type=g.pacing_delivery_type,
            placement_group=g.placement_group,
            targeting_spec=_spec(g.targeting_spec),
            lifetime_frequency_cap=g.lifetime_frequency_cap,
        )
        for g in (
            await session.scalars(select(AdGroup).where(AdGroup.status != "ARCHIVED").order_by(AdGroup.id))
        ).all()
    ]
    promotions = [
        e.PinPromotion(
            id=p.id,
            ad_group_id=p.ad_group_id,
            pin_id=p.pin_id,
            status=p.status,
            review_status=p.review_status,
            creative_type=p.creative_type,
        )
        for p in (
            await session.scalars(
                select(PinPromotion).where(PinPromotion.status != "ARCHIVED").order_by(PinPromotion.id)
            )
        ).all()
    ]
    promoted = {p.pin_id for p in promotions}
    pin_rows = (await session.execute(select(Pin.id, Pin.is_video).order_by(Pin.id))).all()
    pins = [e.Pin(id=pid, video=bool(video)) for pid, video in pin_rows if pid in promoted]
    organic = [e.Pin(id=pid, video=bool(video)) for pid, video in pin_rows] if organic_pins else []
    return e.Setup(
        advertisers=advertisers,
        campaigns=campaigns,
        ad_groups=ad_groups,
        pin_promotions=promotions,
        pins=pins,
        organic_pins=organic,
    )
