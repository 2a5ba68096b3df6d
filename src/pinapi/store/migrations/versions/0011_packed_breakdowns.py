"""packed breakdowns: one delivery_breakdowns row (packed entries) per delivery_hours row
replaces one delivery_dimension_hours row per dimension value

Breakdowns of earlier simulations are dropped; ``pinapi simulate`` over the same range
writes them again (the facts are a function of the seed, fixtures and clock).

Revision ID: 0011_packed_breakdowns
Revises: 0010_reporting_core
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011_packed_breakdowns"
down_revision: str | None = "0010_reporting_core"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.drop_index("ix_delivery_dims_hour", table_name="delivery_dimension_hours")
    op.drop_index("ix_delivery_dims_advertiser_date", table_name="delivery_dimension_hours")
    op.drop_index("ix_delivery_dims_ad_group_date", table_name="delivery_dimension_hours")
    op.drop_table("delivery_dimension_hours")
    op.create_table(
        "delivery_breakdowns",
        sa.Column("pin_promotion_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("hour", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ad_group_id", sa.BigInteger(), nullable=False),
        sa.Column("campaign_id", sa.BigInteger(), nullable=False),
        sa.Column("advertiser_id", sa.BigInteger(), nullable=False),
        sa.Column("local_date", sa.Date(), nullable=False),
        sa.Column("entries", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("pin_promotion_id", "hour"),
    )
    op.create_index(
        "ix_delivery_breakdowns_ad_group_date",
        "delivery_breakdowns",
        ["ad_group_id", "local_date"],
        unique=False,
    )
    op.create_index(
        "ix_delivery_breakdowns_campaign_date",
        "delivery_breakdowns",
        ["campaign_id", "local_date"],
        unique=False,
    )
    op.create_index(
        "ix_delivery_breakdowns_advertiser_date",
        "delivery_breakdowns",
        ["advertiser_id", "local_date"],
        unique=False,
    )
    op.create_index("ix_delivery_breakdowns_hour", "delivery_breakdowns", ["hour"], unique=False)
    op.create_table(
        "delivery_dimension_values",
        sa.Column("code", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("dimension_type", sa.String(length=20), nullable=False),
        sa.Column("dimension_value", sa.String(length=100), nullable=False),
        sa.PrimaryKeyConstraint("code"),
        sa.UniqueConstraint("dimension_type", "dimension_value"),
    )


def downgrade() -> None:
    op.drop_table("delivery_dimension_values")
    op.drop_index("ix_delivery_breakdowns_hour", table_name="delivery_breakdowns")
    op.drop_index("ix_delivery_breakdowns_advertiser_date", table_name="delivery_breakdowns")
    op.drop_index("ix_delivery_breakdowns_campaign_date", table_name="delivery_breakdowns")
    op.drop_index("ix_delivery_breakdowns_ad_group_date", table_name="delivery_breakdowns")
    op.drop_table("delivery_breakdowns")
    metrics = [
        sa.Column(name, sa.BigInteger(), nullable=False)
        for name in [
            "impression_1",
            "closeup_1",
            "save_1",
            "clickthrough_1",
            "outbound_click_1",
            "engagement_1",
            "video_start_1",
            "video_2s_view_1",
            "video_10s_view_1",
            "video_mrc_views_1",
            "video_p25_combined_1",
            "video_p50_combined_1",
            "video_p75_combined_1",
            "video_p95_combined_1",
            "video_p100_combined_1",
            "video_watch_time_ms_1",
            "video_sum_v50_watchtime_in_millisecond_1",
            "billable_events",
            "spend_in_micro_dollar",
            "impression_2",
            "closeup_2",
            "save_2",
            "clickthrough_2",
            "outbound_click_2",
            "engagement_2",
        ]
    ]
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
        *metrics,
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
