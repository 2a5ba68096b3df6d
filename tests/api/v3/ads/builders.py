"""Ads test data for the pin promotion, billing and preview tests: boards, pins, campaigns
and ad groups written straight to the store (the ads A factories cover the rules)."""

from __future__ import annotations

from typing import Any

from pinapi.jobs import review  # noqa: F401  (registers the reviewer handler)
from pinapi.jobs.worker import HANDLERS, Worker
from pinapi.runtime import Runtime
from pinapi.store.tables import AdGroup, Advertiser, Board, Campaign, Pin, User

OBJECTIVE_EVENT = {"VIDEO_VIEW": "VIDEO_V_50_MRC", "AWARENESS": "IMPRESSION"}


class AdsBuilder:
    def __init__(self, runtime: Runtime) -> None:
        self.rt = runtime
        self.rt.settings.review_delay_seconds = 0
        self.rt.settings.blocked_domains = ["blocked.example"]

    async def board(self, owner: User, name: str = "Ads board", privacy: str = "public") -> Board:
        now = self.rt.clock.now()
        async with self.rt.sessions() as s, s.begin():
            board = Board(
                owner_id=owner.id,
                name=name,
                slug=name.lower().replace(" ", "-"),
                privacy=privacy,
                created_at=now,
                board_order_modified_at=now,
            )
            s.add(board)
        return board

    async def pin(self, owner: User, board: Board, **fields: Any) -> Pin:
        values: dict[str, Any] = {
            "title": "Plaid shirt",
            "description": "A warm plaid shirt",
            "link": "https://shop.example.com/plaid",
            "image_url": "https://img.example.com/plaid.jpg",
        }
        values.update(fields)
        async with self.rt.sessions() as s, s.begin():
            pin = Pin(owner_id=owner.id, board_id=board.id, created_at=self.rt.clock.now(), **values)
            s.add(pin)
        return pin

    async def campaign(
        self, advertiser: Advertiser, objective: str = "TRAFFIC", status: str = "ACTIVE"
    ) -> Campaign:
        now = self.rt.clock.now()
        async with self.rt.sessions() as s, s.begin():
            campaign = Campaign(
                advertiser_id=advertiser.id,
                name=f"{objective} campaign",
                objective_type=objective,
                status=status,
                created_at=now,
                updated_at=now,
                status_updated_at=now,
            )
            s.add(campaign)
        return campaign

    async def ad_group(self, campaign: Campaign, status: str = "ACTIVE") -> AdGroup:
        now = self.rt.clock.now()
        async with self.rt.sessions() as s, s.begin():
            group = AdGroup(
                advertiser_id=campaign.advertiser_id,
                campaign_id=campaign.id,
                name="Ad group",
                status=status,
                billable_event=OBJECTIVE_EVENT.get(campaign.objective_type, "CLICKTHROUGH"),
                created_at=now,
                updated_at=now,
                status_updated_at=now,
            )
            s.add(group)
        return group

    async def drain(self) -> int:
        worker = Worker(sessions=self.rt.sessions, clock=self.rt.clock, handlers=HANDLERS)
        return await worker.drain()
