"""What the delivery engine writes and reporting reads: hourly fact rows and their keepers.

* ``DeliveryHour``: one row per pin promotion and UTC hour with every metric (the totals);
  ``DeliveryBreakdown``: beside each of them, the same metrics broken down by every
  targeting dimension (COUNTRY, REGION, LOCALE, AGE_BUCKET, GENDER, APPTYPE, PLACEMENT,
  KEYWORD), packed into one value; the sums of any one dimension equal the totals row.
  Both carry the ad group, campaign and advertiser ids and the advertiser-local date of the
  hour, so "one ad group over 30 days by day" and "an advertiser over a date range" each read
  one index range without joins.
* ``ConversionEvent``: conversion events, from the engine or (later) real tag events, with
  their attribution data (touch type and time) so any click/engagement/view window can be
  applied when reading.
* ``OrganicPinHour``: organic activity per pin and UTC hour (per pin and UTC day, at its
  midnight, for days the engine stores per day; organic reads sum whole UTC days).
* ``ClearingPriceHour``: the auction clearing-price histogram per country x placement x hour
  (a day is the sum of its 24 rows), for bid floors and bid guidance.
* ``EngineCheckpoint``: the engine state at the start of an hour, so re-simulating [a, b)
  restores the state at a; ``EngineBilledDay``: what was billed per advertiser-local day, so
  re-simulation never bills twice.

Metric columns are named after the engine's metric names (lower case) and are all integers.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Date, Index, Integer, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from pinapi.store.tables.base import Base


def _metric() -> Mapped[int]:
    return mapped_column(BigInteger, default=0, nullable=False)


class _DeliveryMetrics:
    """The engine's integer metric columns, shared by both delivery fact tables."""

    impression_1: Mapped[int] = _metric()
    closeup_1: Mapped[int] = _metric()
    save_1: Mapped[int] = _metric()
    clickthrough_1: Mapped[int] = _metric()
    outbound_click_1: Mapped[int] = _metric()
    engagement_1: Mapped[int] = _metric()
    video_start_1: Mapped[int] = _metric()
    video_2s_view_1: Mapped[int] = _metric()
    video_10s_view_1: Mapped[int] = _metric()
    video_mrc_views_1: Mapped[int] = _metric()
    video_p25_combined_1: Mapped[int] = _metric()
    video_p50_combined_1: Mapped[int] = _metric()
    video_p75_combined_1: Mapped[int] = _metric()
    video_p95_combined_1: Mapped[int] = _metric()
    video_p100_combined_1: Mapped[int] = _metric()
    video_watch_time_ms_1: Mapped[int] = _metric()
    video_sum_v50_watchtime_in_millisecond_1: Mapped[int] = _metric()
    billable_events: Mapped[int] = _metric()
    spend_in_micro_dollar: Mapped[int] = _metric()
    impression_2: Mapped[int] = _metric()
    closeup_2: Mapped[int] = _metric()
    save_2: Mapped[int] = _metric()
    clickthrough_2: Mapped[int] = _metric()
    outbound_click_2: Mapped[int] = _metric()
    engagement_2: Mapped[int] = _metric()


METRIC_COLUMNS = tuple(_DeliveryMetrics.__annotations__)
"""Column names of the delivery metrics: ``engine.facts.METRICS`` in lower case, same order."""


class DeliveryHour(_DeliveryMetrics, Base):
    __tablename__ = "delivery_hours"
    __table_args__ = (
        Index("ix_delivery_hours_ad_group_date", "ad_group_id", "local_date"),
        Index("ix_delivery_hours_campaign_date", "campaign_id", "local_date"),
        Index("ix_delivery_hours_advertiser_date", "advertiser_id", "local_date"),
        Index("ix_delivery_hours_hour", "hour"),
    )

    pin_promotion_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    hour: Mapped[datetime] = mapped_column(primary_key=True)
    ad_group_id: Mapped[int] = mapped_column(BigInteger)
    campaign_id: Mapped[int] = mapped_column(BigInteger)
    advertiser_id: Mapped[int] = mapped_column(BigInteger)
    local_date: Mapped[date] = mapped_column(Date)


class DeliveryBreakdown(Base):
    """The targeting breakdowns of one ``DeliveryHour`` row, packed into one value.

    A promotion-hour holds a few dozen (dimension value, metric) sums; stored one row per
    dimension value they were most of a month's simulation (15 M rows for 5,000 promotions),
    packed they are one row per ``DeliveryHour`` row. ``entries`` is read and written only
    through ``store.breakdowns``; the id and date columns are the same as ``DeliveryHour``'s
    so reports filter both tables alike.
    """

    __tablename__ = "delivery_breakdowns"
    __table_args__ = (
        Index("ix_delivery_breakdowns_ad_group_date", "ad_group_id", "local_date"),
        Index("ix_delivery_breakdowns_campaign_date", "campaign_id", "local_date"),
        Index("ix_delivery_breakdowns_advertiser_date", "advertiser_id", "local_date"),
        Index("ix_delivery_breakdowns_hour", "hour"),
    )

    pin_promotion_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    hour: Mapped[datetime] = mapped_column(primary_key=True)
    ad_group_id: Mapped[int] = mapped_column(BigInteger)
    campaign_id: Mapped[int] = mapped_column(BigInteger)
    advertiser_id: Mapped[int] = mapped_column(BigInteger)
    local_date: Mapped[date] = mapped_column(Date)
    entries: Mapped[bytes] = mapped_column(LargeBinary)
    """(value code, metric, amount) records, see ``store.breakdowns.RECORD``."""


class DeliveryDimensionValue(Base):
    """The (dimension type, value) behind each code of the packed breakdowns."""

    __tablename__ = "delivery_dimension_values"
    __table_args__ = (UniqueConstraint("dimension_type", "dimension_value"),)

    code: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    dimension_type: Mapped[str] = mapped_column(String(20))
    dimension_value: Mapped[str] = mapped_column(String(100))
    """The targeting value (country code, region code, age bucket, ...); KEYWORD values are
    keyword ids, or "" for impressions that matched no keyword."""


class ConversionEvent(Base):
    __tablename__ = "conversion_events"
    __table_args__ = (
        Index("ix_conversion_events_advertiser_date", "advertiser_id", "local_date"),
        Index("ix_conversion_events_ad_group_date", "ad_group_id", "local_date"),
        Index("ix_conversion_events_source_time", "source", "event_time"),
        Index("ix_conversion_events_advertiser_touch_date", "advertiser_id", "touch_local_date"),
        Index("ix_conversion_events_ad_group_touch_date", "ad_group_id", "touch_local_date"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    source: Mapped[str] = mapped_column(String(10))  # ENGINE | TAG
    advertiser_id: Mapped[int] = mapped_column(BigInteger)
    campaign_id: Mapped[int | None] = mapped_column(BigInteger)
    ad_group_id: Mapped[int | None] = mapped_column(BigInteger)
    pin_promotion_id: Mapped[int | None] = mapped_column(BigInteger)
    event_type: Mapped[str] = mapped_column(String(30))
    event_time: Mapped[datetime]
    local_date: Mapped[date] = mapped_column(Date)
    """The advertiser-local date of ``event_time``."""
    touch_type: Mapped[str | None] = mapped_column(String(20))  # CLICK | ENGAGEMENT | VIEW
    touch_time: Mapped[datetime | None]
    touch_local_date: Mapped[date | None] = mapped_column(Date)
    """The advertiser-local date of ``touch_time`` (reports by AD_EVENT bucket on it)."""
    touch_lag_s: Mapped[int | None] = mapped_column(BigInteger)
    """Seconds from the touch to the event (attribution windows compare against it)."""
    value_micro: Mapped[int] = mapped_column(BigInteger, default=0)
    quantity: Mapped[int] = mapped_column(Integer, default=1)
    currency: Mapped[str] = mapped_column(String(3))
    country: Mapped[str | None] = mapped_column(String(2))
    app_type: Mapped[str | None] = mapped_column(String(20))


class OrganicPinHour(Base):
    __tablename__ = "organic_pin_hours"
    __table_args__ = (Index("ix_organic_pin_hours_hour", "hour"),)

    pin_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    hour: Mapped[datetime] = mapped_column(primary_key=True)
    impression: Mapped[int] = _metric()
    closeup: Mapped[int] = _metric()
    save: Mapped[int] = _metric()
    clickthrough: Mapped[int] = _metric()
    outbound_click: Mapped[int] = _metric()


class ClearingPriceHour(Base):
    __tablename__ = "clearing_price_hours"
    __table_args__ = (Index("ix_clearing_price_hours_day", "country", "placement", "day"),)

    hour: Mapped[datetime] = mapped_column(primary_key=True)
    country: Mapped[str] = mapped_column(String(2), primary_key=True)
    placement: Mapped[str] = mapped_column(String(10), primary_key=True)
    day: Mapped[date] = mapped_column(Date)
    """UTC date of ``hour``: a day's histogram is the sum of its rows."""
    auctions: Mapped[int] = _metric()
    sum_cpm_micro: Mapped[int] = _metric()
    """Sum of clearing CPMs in USD micro (mean = sum / auctions)."""
    histogram: Mapped[list[Any]] = mapped_column(JSON)
    """Counts per bucket of ``engine.auction.PRICE_BUCKETS`` (CPM USD, bucket i = [b_i, b_i+1))."""


class EngineCheckpoint(Base):
    __tablename__ = "engine_checkpoints"

    hour: Mapped[datetime] = mapped_column(primary_key=True)
    """The state is the one at the START of this hour."""
    seed: Mapped[int] = mapped_column(BigInteger)
    population: Mapped[int] = mapped_column(BigInteger)
    state: Mapped[bytes] = mapped_column(LargeBinary)
    """The pickled ``engine.state.EngineState``."""
    created_at: Mapped[datetime]


class EngineBilledDay(Base):
    __tablename__ = "engine_billed_days"

    advertiser_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    local_date: Mapped[date] = mapped_column(Date, primary_key=True)
    amount_micro: Mapped[int] = mapped_column(BigInteger)
    billed_at: Mapped[datetime]


class EngineLease(Base):
    """Who is simulating: one row per lease name, taken by ``engine.lease``."""

    __tablename__ = "engine_leases"

    name: Mapped[str] = mapped_column(String(20), primary_key=True)
    holder: Mapped[str] = mapped_column(String(100), default="")
    """Empty when free."""
    expires_at: Mapped[int] = mapped_column(BigInteger, default=0)
    """Unix seconds of wall time (not the simulation clock, which may stand still)."""
