"""Pin promotions: a pin shown as an ad inside an ad group.

``advertiser_id`` and ``campaign_id`` repeat the ad group's, so per-advertiser and
per-campaign lists seek an index without joins; the domain keeps them equal to the ad
group's. ``pin_id`` is deliberately not a foreign key: deleting the organic pin leaves the
promotion (v3 then shows ``is_pin_deleted: true``). ``review_version`` counts edits, so a
review job queued for an older version of the creative is ignored.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Boolean, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from pinapi.store.tables.base import Base, id_column


class PinPromotion(Base):
    __tablename__ = "pin_promotions"
    __table_args__ = (
        Index("ix_pin_promotions_ad_group", "ad_group_id", "id"),
        Index("ix_pin_promotions_campaign", "campaign_id", "id"),
        Index("ix_pin_promotions_advertiser", "advertiser_id", "id"),
    )

    id: Mapped[int] = id_column()
    advertiser_id: Mapped[int] = mapped_column(ForeignKey("advertisers.id", ondelete="CASCADE"))
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"))
    ad_group_id: Mapped[int] = mapped_column(ForeignKey("ad_groups.id", ondelete="CASCADE"))
    pin_id: Mapped[int] = mapped_column(BigInteger)
    name: Mapped[str] = mapped_column(String(255), default="")
    status: Mapped[str] = mapped_column(String(20), default="ACTIVE")  # ACTIVE | PAUSED | ARCHIVED
    review_status: Mapped[str] = mapped_column(String(20), default="PENDING")
    review_version: Mapped[int] = mapped_column(Integer, default=1)
    rejected_reasons: Mapped[list[str]] = mapped_column(JSON, default=list)
    rejection_labels: Mapped[list[str]] = mapped_column(JSON, default=list)
    creative_type: Mapped[str] = mapped_column(String(40), default="REGULAR")
    destination_url: Mapped[str | None] = mapped_column(String(2000))
    click_tracking_url: Mapped[str | None] = mapped_column(String(2000))
    view_tracking_url: Mapped[str | None] = mapped_column(String(2000))
    android_deep_link: Mapped[str | None] = mapped_column(String(2000))
    ios_deep_link: Mapped[str | None] = mapped_column(String(2000))
    carousel_android_deep_links: Mapped[list[str] | None] = mapped_column(JSON)
    carousel_ios_deep_links: Mapped[list[str] | None] = mapped_column(JSON)
    carousel_destination_urls: Mapped[list[str] | None] = mapped_column(JSON)
    collection_items_destination_url_template: Mapped[str | None] = mapped_column(Text)
    tracking_urls: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    is_removable: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    reviewed_at: Mapped[datetime | None]
