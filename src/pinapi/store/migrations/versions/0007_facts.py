"""delivery engine facts: hourly delivery totals and dimension breakdowns, conversion
events, organic pin hours, clearing prices, engine checkpoints and billed days

Revision ID: 0007_facts
Revises: 0005_promotions
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007_facts"
down_revision: str | None = "0005_promotions"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "clearing_price_hours",
        sa.Column("hour", sa.DateTime(timezone=True), nullable=False),
        sa.Column("country", sa.String(length=2), nullable=False),
        sa.Column("placement", sa.String(length=10), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("auctions", sa.BigInteger(), nullable=False),
        sa.Column("sum_cpm_micro", sa.BigInteger(), nullable=False),
        sa.Column("histogram", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("hour", "country", "placement"),
    )
    op.create_index(
        "ix_clearing_price_hours_day", "clearing_price_hours", ["country", "placement", "day"], unique=False
    )

    op.create_table(
        "conversion_events",
        sa.Column("id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("source", sa.String(length=10), nullable=False),
        sa.Column("advertiser_id", sa.BigInteger(), nullable=False),
        sa.Column("campaign_id", sa.BigInteger(), nullable=True),
        sa.Column("ad_group_id", sa.BigInteger(), nullable=True),
        sa.Column("pin_promotion_id", sa.BigInteger(), nullable=True),
        sa.Column("event_type", sa.String(length=30), nullable=False),
        sa.Column("event_time", sa.DateTime(timezone=True), nullable=False),
        sa.Column("local_date", sa.Date(), nullable=False),
        sa.Column("touch_type", sa.String(length=20), nullable=True),
        sa.Column("touch_time", sa.DateTime(timezone=True), nullable=True),
        sa.Column("value_micro", sa.BigInteger(), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("country", sa.String(length=2), nullable=True),
        sa.Column("app_type", sa.String(length=20), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        "ix_conversion_events_ad_group_date", "conversion_events", ["ad_group_id", "local_date"], unique=False
    )
    op.create_index(
        "ix_conversion_events_advertiser_date",
        "conversion_events",
        ["advertiser_id", "local_date"],
        unique=False,
    )
    op.create_index(
        "ix_conversion_events_source_time", "conversion_events", ["source", "event_time"], unique=False
    )

    op.create_table(
        "delivery_dimension_hours",
        sa.Column("pin_promotion_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("hour", sa.DateTime(timezone=True), nullable=False),
        sa.Column("dimension_type", sa.String(length=20), nullable=False),
        sa.Column("dimension_value", sa.String(length=100), nullable=False),
        sa.Column("ad_group_id", sa.BigInteger(), nullable=False),
        sa.Column("campaign_id", sa.BigInteger(), nullable=False),
        sa.Column("advertiser_id", sa.BigInteger(), nullable=False),
        sa.Column("local_date", sa.Date(), nullable=False),
        sa.Column("impression_1", sa.BigInteger(), nullable=False),
        sa.Column("closeup_1", sa.BigInteger(), nullable=False),
        sa.Column("save_1", sa.BigInteger(), nullable=False),
        sa.Column("clickthrough_1", sa.BigInteger(), nullable=False),
        sa.Column("outbound_click_1", sa.BigInteger(), nullable=False),
        sa.Column("engagement_1", sa.BigInteger(), nullable=False),
        sa.Column("video_start_1", sa.BigInteger(), nullable=False),
        sa.Column("video_2s_view_1", sa.BigInteger(), nullable=False),
        sa.Column("video_10s_view_1", sa.BigInteger(), nullable=False),
        sa.Column("video_mrc_views_1", sa.BigInteger(), nullable=False),
        sa.Column("video_p25_combined_1", sa.BigInteger(), nullable=False),
        sa.Column("video_p50_combined_1", sa.BigInteger(), nullable=False),
        sa.Column("video_p75_combined_1", sa.BigInteger(), nullable=False),
        sa.Column("video_p95_combined_1", sa.BigInteger(), nullable=False),
        sa.Column("video_p100_combined_1", sa.BigInteger(), nullable=False),
        sa.Column("video_watch_time_ms_1", sa.BigInteger(), nullable=False),
        sa.Column("video_sum_v50_watchtime_in_millisecond_1", sa.BigInteger(), nullable=False),
        sa.Column("billable_events", sa.BigInteger(), nullable=False),
        sa.Column("spend_in_micro_dollar", sa.BigInteger(), nullable=False),
        sa.Column("impression_2", sa.BigInteger(), nullable=False),
        sa.Column("closeup_2", sa.BigInteger(), nullable=False),
        sa.Column("save_2", sa.BigInteger(), nullable=False),
        sa.Column("clickthrough_2", sa.BigInteger(), nullable=False),
        sa.Column("outbound_click_2", sa.BigInteger(), nullable=False),
        sa.Column("engagement_2", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("pin_promotion_id", "hour", "dimension_type", "dimension_value"),
    )
    op.create_index(
        "ix_delivery_dims_ad_group_date",
        "delivery_dimension_hours",
        ["ad_group_id", "dimension_type", "local_date"],
        unique=False,
    )
    op.create_index(
        "ix_delivery_dims_advertiser_date",
        "delivery_dimension_hours",
        ["advertiser_id", "dimension_type", "local_date"],
        unique=False,
    )
    op.create_index("ix_delivery_dims_hour", "delivery_dimension_hours", ["hour"], unique=False)

    op.create_table(
        "delivery_hours",
        sa.Column("pin_promotion_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("hour", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ad_group_id", sa.BigInteger(), nullable=False),
        sa.Column("campaign_id", sa.BigInteger(), nullable=False),
        sa.Column("advertiser_id", sa.BigInteger(), nullable=False),
        sa.Column("local_date", sa.Date(), nullable=False),
        sa.Column("impression_1", sa.BigInteger(), nullable=False),
        sa.Column("closeup_1", sa.BigInteger(), nullable=False),
        sa.Column("save_1", sa.BigInteger(), nullable=False),
        sa.Column("clickthrough_1", sa.BigInteger(), nullable=False),
        sa.Column("outbound_click_1", sa.BigInteger(), nullable=False),
        sa.Column("engagement_1", sa.BigInteger(), nullable=False),
        sa.Column("video_start_1", sa.BigInteger(), nullable=False),
        sa.Column("video_2s_view_1", sa.BigInteger(), nullable=False),
        sa.Column("video_10s_view_1", sa.BigInteger(), nullable=False),
        sa.Column("video_mrc_views_1", sa.BigInteger(), nullable=False),
        sa.Column("video_p25_combined_1", sa.BigInteger(), nullable=False),
        sa.Column("video_p50_combined_1", sa.BigInteger(), nullable=False),
        sa.Column("video_p75_combined_1", sa.BigInteger(), nullable=False),
        sa.Column("video_p95_combined_1", sa.BigInteger(), nullable=False),
        sa.Column("video_p100_combined_1", sa.BigInteger(), nullable=False),
        sa.Column("video_watch_time_ms_1", sa.BigInteger(), nullable=False),
        sa.Column("video_sum_v50_watchtime_in_millisecond_1", sa.BigInteger(), nullable=False),
        sa.Column("billable_events", sa.BigInteger(), nullable=False),
        sa.Column("spend_in_micro_dollar", sa.BigInteger(), nullable=False),
        sa.Column("impression_2", sa.BigInteger(), nullable=False),
        sa.Column("closeup_2", sa.BigInteger(), nullable=False),
        sa.Column("save_2", sa.BigInteger(), nullable=False),
        sa.Column("clickthrough_2", sa.BigInteger(), nullable=False),
        sa.Column("outbound_click_2", sa.BigInteger(), nullable=False),
        sa.Column("engagement_2", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("pin_promotion_id", "hour"),
    )
    op.create_index(
        "ix_delivery_hours_ad_group_date", "delivery_hours", ["ad_group_id", "local_date"], unique=False
    )
    op.create_index(
        "ix_delivery_hours_advertiser_date", "delivery_hours", ["advertiser_id", "local_date"], unique=False
    )
    op.create_index(
        "ix_delivery_hours_campaign_date", "delivery_hours", ["campaign_id", "local_date"], unique=False
    )
    op.create_index("ix_delivery_hours_hour", "delivery_hours", ["hour"], unique=False)

    op.create_table(
        "engine_billed_days",
        sa.Column("advertiser_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("local_date", sa.Date(), nullable=False),
        sa.Column("amount_micro", sa.BigInteger(), nullable=False),
        sa.Column("billed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("advertiser_id", "local_date"),
    )
    op.create_table(
        "engine_checkpoints",
        sa.Column("hour", sa.DateTime(timezone=True), nullable=False),
        sa.Column("seed", sa.BigInteger(), nullable=False),
        sa.Column("population", sa.BigInteger(), nullable=False),
        sa.Column("state", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("hour"),
    )
    op.create_table(
        "organic_pin_hours",
        sa.Column("pin_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("hour", sa.DateTime(timezone=True), nullable=False),
        sa.Column("impression", sa.BigInteger(), nullable=False),
        sa.Column("closeup", sa.BigInteger(), nullable=False),
        sa.Column("save", sa.BigInteger(), nullable=False),
        sa.Column("clickthrough", sa.BigInteger(), nullable=False),
        sa.Column("outbound_click", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("pin_id", "hour"),
    )
    op.create_index("ix_organic_pin_hours_hour", "organic_pin_hours", ["hour"], unique=False)


def downgrade() -> None:
    op.drop_table("organic_pin_hours")
    op.drop_table("engine_checkpoints")
    op.drop_table("engine_billed_days")
    op.drop_table("delivery_hours")
    op.drop_table("delivery_dimension_hours")
    op.drop_table("conversion_events")
    op.drop_table("clearing_price_hours")
