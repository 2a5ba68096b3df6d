"""A small advertiser set-up for the engine tests, built through the ads domain functions.

It mixes what must deliver with what must not: approved active promotions, a pending one, a
rejected one (its destination is on a blocked domain), a paused one, one under a paused ad
group, an ad group whose schedule starts on the second simulated day, a CPC ad group
targeting the US, and an advertiser that is not ACTIVE. Entities are created with the clock
set a day before the simulated range (schedules in the past are refused), then it goes back.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import update

from pinapi.domain.access.principal import Principal
from pinapi.domain.ads import ad_groups, advertisers, campaigns, pin_promotions
from pinapi.domain.ads.review import ReviewPolicy
from pinapi.domain.clock import FixedClock
from pinapi.jobs import review  # noqa: F401  (registers the reviewer handler)
from pinapi.jobs.worker import HANDLERS, Worker
from pinapi.runtime import Runtime
from pinapi.store.tables import Advertiser
from tests.api.v3.ads.builders import AdsBuilder
from tests.factories import Factory

DAY0 = datetime(2026, 10, 30, tzinfo=UTC)
DAY_BUDGET = 20_000_000
SEED = 7
POPULATION = 20_000
REVIEW_NOW = ReviewPolicy(delay_seconds=0, blocked_domains=("blocked.example",))
REVIEW_NEVER = ReviewPolicy(delay_seconds=10**9, blocked_domains=("blocked.example",))


@dataclass
class World:
    advertiser: Advertiser
    other: Advertiser
    delivering: dict[str, int]
    silent: dict[str, int]
    scheduled_group: int
    scheduled_from: datetime
    groups: dict[str, int]


async def build_world(runtime: Runtime, factory: Factory) -> World:
    clock = runtime.clock
    assert isinstance(clock, FixedClock)
    back_to = clock.now()
    clock.set(DAY0 - timedelta(days=1))
    ads = AdsBuilder(runtime)
    owner = await factory.user("engineowner", business=True)
    me = Principal(user_id=owner.id, app_id=0, scopes=frozenset())
    board = await ads.board(owner)
    pins = [await ads.pin(owner, board, title=f"Pin {i}") for i in range(4)]
    later_from = DAY0 + timedelta(days=1, hours=6)

    async with runtime.sessions() as s, s.begin():

        async def advertiser(name: str) -> Advertiser:
            made = await advertisers.create(
                s,
                clock=clock,
                principal=me,
                name=name,
                country="US",
                currency="USD",
                timezone="America/New_York",
                tos_id=1,
            )
            return made.advertiser

        async def campaign(adv: Advertiser, objective: str) -> int:
            values = {"advertiser_id": adv.id, "name": f"{objective} campaign", "objective_type": objective}
            return (await campaigns.create(s, clock=clock, principal=me, values=values)).campaign.id

        async def group(campaign_id: int, name: str, **values: Any) -> int:
            fields = {
                "campaign_id": campaign_id,
                "name": name,
                "budget": DAY_BUDGET,
                "bid": 8_000_000,
                **values,
            }
            return (await ad_groups.create(s, clock=clock, principal=me, values=fields)).ad_group.id

        async def promote(group_id: int, pin: int, policy: ReviewPolicy = REVIEW_NOW, **values: Any) -> int:
            fields = {"destination_url": "https://shop.example.com/p", **values}
            view = await pin_promotions.create(
                s, clock=clock, principal=me, policy=policy, ad_group_id=group_id, pin_id=pin, values=fields
            )
            return view.promotion.id

        adv = await advertiser("Engine Adv")
        other = await advertiser("Inactive Adv")
        awareness = await campaign(adv, "AWARENESS")
        traffic = await campaign(adv, "TRAFFIC")
        main = await group(awareness, "Main")
        paused_group = await group(awareness, "Paused", status="PAUSED")
        later = await group(awareness, "Later", start_time=int(later_from.timestamp()))
        cpc = await group(traffic, "CPC", bid=2_000_000, targeting_spec={"LOCATION": ["US"]})
        elsewhere = await group(await campaign(other, "AWARENESS"), "Elsewhere")
        delivering = {
            "main": await promote(main, pins[0].id),
            "later": await promote(later, pins[1].id),
            "cpc": await promote(cpc, pins[2].id),
        }
        silent = {
            "pending": await promote(main, pins[1].id, REVIEW_NEVER),
            "rejected": await promote(main, pins[2].id, destination_url="https://blocked.example/x"),
            "paused": await promote(main, pins[3].id, status="PAUSED"),
            "paused_group": await promote(paused_group, pins[0].id),
            "inactive_advertiser": await promote(elsewhere, pins[0].id),
        }
        await s.execute(update(Advertiser).where(Advertiser.id == other.id).values(status="DISABLED"))
    worker = Worker(sessions=runtime.sessions, clock=clock, handlers=HANDLERS)
    await worker.drain()  # the reviewer decides every promotion but the pending one
    clock.set(back_to)
    return World(
        advertiser=adv,
        other=other,
        delivering=delivering,
        silent=silent,
        scheduled_group=later,
        scheduled_from=later_from,
        groups={"main": main, "later": later, "cpc": cpc},
    )
