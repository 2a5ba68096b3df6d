"""Plain inputs of a simulation: the ads entities as the engine needs them.

The caller (the jobs worker, ``pinapi simulate``) reads the ads tables and builds these; the
engine never sees ORM rows. Field names and enum values follow the v3 objects.
Money is integer micro-currency of the advertiser; times are aware UTC datetimes.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

VIDEO_CREATIVES = frozenset({"VIDEO", "MAX_VIDEO", "NATIVE_VIDEO", "APP_VIDEO", "CINEMATIC"})
BILLABLE_EVENTS = ("IMPRESSION", "CLICKTHROUGH", "VIDEO_V_50_MRC")


@dataclass(frozen=True, slots=True)
class Advertiser:
    id: int
    time_zone: str = "UTC"
    currency: str = "USD"
    active: bool = True
    """Status ACTIVE and billing in good standing (the caller decides both)."""


@dataclass(frozen=True, slots=True)
class Campaign:
    id: int
    advertiser_id: int
    status: str = "ACTIVE"
    objective_type: str = "AWARENESS"
    start_time: datetime | None = None
    end_time: datetime | None = None
    daily_spend_cap: int | None = None
    lifetime_spend_cap: int | None = None


@dataclass(frozen=True, slots=True)
class AdGroup:
    id: int
    campaign_id: int
    status: str = "ACTIVE"
    start_time: datetime | None = None
    end_time: datetime | None = None
    budget_type: str = "DAILY"
    budget_in_micro_currency: int | None = None
    bid_in_micro_currency: int | None = None
    """Per billable event; for IMPRESSION it is per 1,000 impressions (a CPM)."""
    billable_event: str = "IMPRESSION"
    bid_strategy_type: str = "MAX_BID"
    pacing_delivery_type: str = "STANDARD"
    placement_group: str = "ALL"
    targeting_spec: Mapping[str, Sequence[str]] = field(default_factory=dict)
    lifetime_frequency_cap: int | None = None
    """Impressions per pinner in any rolling 30 days; only enforced for IMPRESSION billing."""


@dataclass(frozen=True, slots=True)
class PinPromotion:
    id: int
    ad_group_id: int
    pin_id: int
    status: str = "ACTIVE"
    review_status: str = "APPROVED"
    creative_type: str = "REGULAR"


@dataclass(frozen=True, slots=True)
class Pin:
    """A pin's traits the outcome model needs; promoted and organic pins alike."""

    id: int
    interests: tuple[str, ...] = ()
    """Interest ids (top-level or children) the pin is about; empty = general content."""
    quality: float | None = None
    """Relative quality (1.0 = average); None draws a seeded value from the pin id."""
    video: bool = False


@dataclass(frozen=True, slots=True)
class Setup:
    """Everything the engine simulates for one range of hours."""

    advertisers: Sequence[Advertiser] = ()
    campaigns: Sequence[Campaign] = ()
    ad_groups: Sequence[AdGroup] = ()
    pin_promotions: Sequence[PinPromotion] = ()
    pins: Sequence[Pin] = ()
    """Pins of the promotions (missing ones get default traits)."""
    organic_pins: Sequence[Pin] = ()
    keywords: Mapping[int, Sequence[Keyword]] = field(default_factory=dict)
    """Keywords per ad group id (negative match types exclude)."""


@dataclass(frozen=True, slots=True)
class Keyword:
    id: int
    value: str
    match_type: str = "BROAD"
