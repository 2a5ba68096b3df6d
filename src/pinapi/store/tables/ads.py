"""Ads core: campaigns and ad groups (advertisers live in ``access``).

Money columns are integer micro-currency of the advertiser's currency. Schedule columns are
UTC datetimes (the wire shows Unix seconds). ``summary_status`` is never stored: it is derived
from these statuses, the schedule and the clock (``domain/ads/status.py``).

``AdGroup.advertiser_id`` repeats the campaign's advertiser so that per-advertiser reads (the
delivery engine, reports, account-sharing checks) need no join; the domain keeps it equal to
the campaign's.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Boolean, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from pinapi.store.tables.base import Base, id_column


class Campaign(Base):
    __tablename__ = "campaigns"
    __table_args__ = (
        Index("ix_campaigns_advertiser", "advertiser_id", "id"),
        Index("ix_campaigns_advertiser_status", "advertiser_id", "status", "id"),
    )

    id: Mapped[int] = id_column()
    advertiser_id: Mapped[int] = mapped_column(ForeignKey("advertisers.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(255))
    objective_type: Mapped[str] = mapped_column(String(40))
    status: Mapped[str] = mapped_column(String(20), default="ACTIVE")  # ACTIVE | PAUSED | ARCHIVED
    managed_status: Mapped[str] = mapped_column(String(20), default="UNMANAGED")  # MANAGED | UNMANAGED
    daily_spend_cap: Mapped[int | None] = mapped_column(BigInteger)
    lifetime_spend_cap: Mapped[int | None] = mapped_column(BigInteger)
    start_time: Mapped[datetime | None]
    end_time: Mapped[datetime | None]
    order_line_id: Mapped[int | None] = mapped_column(BigInteger)
    billing_group: Mapped[str | None] = mapped_column(String(255))
    measurement_partner_campaign_id: Mapped[str | None] = mapped_column(String(64))
    product_filter: Mapped[str | None] = mapped_column(String(1000))
    tracking_urls: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    is_one_tap: Mapped[bool | None] = mapped_column(Boolean)
    entity_version: Mapped[str] = mapped_column(String(20), default="NEW_ENTITY_MODEL")
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    status_updated_at: Mapped[datetime]


class AdGroup(Base):
    __tablename__ = "ad_groups"
    __table_args__ = (
        Index("ix_ad_groups_campaign", "campaign_id", "id"),
        Index("ix_ad_groups_advertiser", "advertiser_id", "id"),
    )

    id: Mapped[int] = id_column()
    advertiser_id: Mapped[int] = mapped_column(ForeignKey("advertisers.id", ondelete="CASCADE"))
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(255))
    status: Mapped[str] = mapped_column(String(20), default="ACTIVE")
    budget_type: Mapped[str] = mapped_column(String(20), default="DAILY")  # DAILY | LIFETIME | CBO_ADGROUP
    budget_in_micro_currency: Mapped[int | None] = mapped_column(BigInteger)
    bid_in_micro_currency: Mapped[int | None] = mapped_column(BigInteger)
    bid_strategy_type: Mapped[str] = mapped_column(String(20), default="MAX_BID")
    billable_event: Mapped[str] = mapped_column(String(20))
    pacing_delivery_type: Mapped[str] = mapped_column(String(20), default="STANDARD")
    placement_group: Mapped[str] = mapped_column(String(20), default="ALL")
    conversion_learning_mode_type: Mapped[str | None] = mapped_column(String(20))
    auto_targeting_enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    lifetime_frequency_cap: Mapped[int | None] = mapped_column(Integer)
    start_time: Mapped[datetime | None]
    end_time: Mapped[datetime | None]
    targeting_spec: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    optimization_goal_metadata: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    tracking_urls: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    entity_version: Mapped[str] = mapped_column(String(20), default="NEW_ENTITY_MODEL")
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    status_updated_at: Mapped[datetime]
