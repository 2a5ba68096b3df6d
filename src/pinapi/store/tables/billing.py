"""Money owed and prepaid: billing profiles, bills, order lines, ad credits and previews.

Amounts are integer micro-currency of the advertiser's currency. A ``Bill`` covers one
billing period of one advertiser; ``record_spend`` (domain/ads/billing.py) adds spend to it,
drawing first on ``AdCredit`` rows (marketing offers) and charging only the rest.
``AdCredit`` is unique per advertiser and offer code: an offer is redeemed at most once.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from pinapi.store.tables.base import Base, id_column


class BillingProfile(Base):
    __tablename__ = "billing_profiles"

    id: Mapped[int] = id_column()
    advertiser_id: Mapped[int] = mapped_column(ForeignKey("advertisers.id", ondelete="CASCADE"), unique=True)
    billing_type: Mapped[str] = mapped_column(String(20))  # CREDIT_CARD | INVOICE | PREPAID | …
    card_number: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[datetime]


class Bill(Base):
    __tablename__ = "bills"
    __table_args__ = (
        UniqueConstraint("advertiser_id", "start_time", name="uq_bills_period"),
        Index("ix_bills_advertiser", "advertiser_id", "id"),
    )

    id: Mapped[int] = id_column()
    advertiser_id: Mapped[int] = mapped_column(ForeignKey("advertisers.id", ondelete="CASCADE"))
    billing_profile_id: Mapped[int] = mapped_column(ForeignKey("billing_profiles.id", ondelete="CASCADE"))
    currency: Mapped[str] = mapped_column(String(3))
    status: Mapped[str] = mapped_column(String(32))
    start_time: Mapped[datetime]
    end_time: Mapped[datetime]
    spend_micro: Mapped[int] = mapped_column(BigInteger, default=0)  # gross spend of the period
    credit_micro: Mapped[int] = mapped_column(BigInteger, default=0)  # paid by ad credits
    tax_micro: Mapped[int] = mapped_column(BigInteger, default=0)
    details: Mapped[list[Any]] = mapped_column(JSON, default=list)  # per campaign spend
    discount_details: Mapped[list[Any]] = mapped_column(JSON, default=list)  # per credit used
    charge_time: Mapped[datetime | None]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class OrderLine(Base):
    __tablename__ = "order_lines"
    __table_args__ = (Index("ix_order_lines_advertiser", "advertiser_id", "id"),)

    id: Mapped[int] = id_column()
    advertiser_id: Mapped[int] = mapped_column(ForeignKey("advertisers.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(255))
    budget_micro: Mapped[int] = mapped_column(BigInteger, default=0)
    paid_budget_micro: Mapped[int] = mapped_column(BigInteger, default=0)
    paid_type: Mapped[str] = mapped_column(String(20), default="PAID")  # BONUS | MAKE_GOOD | PAID | TEST
    purchase_order_id: Mapped[str | None] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(20), default="ACTIVE")  # ACTIVE | DELETED | PAUSED
    start_time: Mapped[datetime | None]
    end_time: Mapped[datetime | None]
    created_at: Mapped[datetime]


class AdCredit(Base):
    """Ad credit from a redeemed marketing offer; ``remaining_micro`` shrinks as spend uses it."""

    __tablename__ = "ad_credits"
    __table_args__ = (
        UniqueConstraint("advertiser_id", "offer_code", name="uq_ad_credits_offer"),
        Index("ix_ad_credits_advertiser", "advertiser_id", "id"),
    )

    id: Mapped[int] = id_column()
    advertiser_id: Mapped[int] = mapped_column(ForeignKey("advertisers.id", ondelete="CASCADE"))
    offer_code: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(255))
    currency: Mapped[str] = mapped_column(String(3))
    amount_micro: Mapped[int] = mapped_column(BigInteger)
    remaining_micro: Mapped[int] = mapped_column(BigInteger)
    expires_at: Mapped[datetime | None]
    created_at: Mapped[datetime]


class Preview(Base):
    """An ad preview page served by pinapi at ``/ad-preview/{key}/`` until ``expires_at``."""

    __tablename__ = "ad_previews"

    id: Mapped[int] = id_column()
    key: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    pin_id: Mapped[int | None] = mapped_column(BigInteger)
    title: Mapped[str] = mapped_column(String(255), default="")
    image_path: Mapped[str | None] = mapped_column(String(500))  # under the data dir
    image_url: Mapped[str | None] = mapped_column(String(2000))  # when the pin's image is remote
    media_type: Mapped[str] = mapped_column(String(40), default="image/png")
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    expires_at: Mapped[datetime]
    created_at: Mapped[datetime]
