"""scheduled reports, their executions, and batch advertiser-entity jobs

Revision ID: 0009_scheduled_reports
Revises: 0001
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009_scheduled_reports"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "scheduled_reports",
        sa.Column("id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("advertiser_id", sa.BigInteger(), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("client_id", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("report_level", sa.String(length=40), nullable=False),
        sa.Column("columns", sa.JSON(), nullable=False),
        sa.Column("granularity", sa.String(length=10), nullable=False),
        sa.Column("report_format", sa.String(length=4), nullable=False),
        sa.Column("data_source", sa.String(length=10), nullable=False),
        sa.Column("days_of_the_week", sa.JSON(), nullable=False),
        sa.Column("days_of_the_month", sa.JSON(), nullable=False),
        sa.Column("months_of_the_year", sa.JSON(), nullable=False),
        sa.Column("start_days_in_past", sa.Integer(), nullable=False),
        sa.Column("end_days_in_past", sa.Integer(), nullable=False),
        sa.Column("click_window_days", sa.Integer(), nullable=False),
        sa.Column("engagement_window_days", sa.Integer(), nullable=False),
        sa.Column("view_window_days", sa.Integer(), nullable=False),
        sa.Column("conversion_report_time_type", sa.String(length=20), nullable=False),
        sa.Column("filters_json", sa.Text(), nullable=True),
        sa.Column("entity_fields", sa.JSON(), nullable=False),
        sa.Column("email_list", sa.JSON(), nullable=False),
        sa.Column("expiration_date", sa.DateTime(timezone=True), nullable=True),
        sa.Column("scheduled_through", sa.Date(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["advertiser_id"], ["advertisers.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        "ix_scheduled_reports_advertiser", "scheduled_reports", ["advertiser_id", "id"], unique=False
    )
    op.create_index("ix_scheduled_reports_status", "scheduled_reports", ["status", "id"], unique=False)

    op.create_table(
        "scheduled_report_executions",
        sa.Column("id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("schedule_id", sa.BigInteger(), nullable=False),
        sa.Column("advertiser_id", sa.BigInteger(), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("client_id", sa.BigInteger(), nullable=False),
        sa.Column("run_date", sa.Date(), nullable=False),
        sa.Column("start_date", sa.Date(), nullable=False),
        sa.Column("end_date", sa.Date(), nullable=False),
        sa.Column("execution_status", sa.String(length=20), nullable=False),
        sa.Column("report_key", sa.String(length=300), nullable=True),
        sa.Column("row_count", sa.Integer(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("report_time", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["advertiser_id"], ["advertisers.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["schedule_id"], ["scheduled_reports.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("schedule_id", "run_date", name="uq_scheduled_report_executions_day"),
    )
    op.create_index(
        "ix_scheduled_report_executions_advertiser",
        "scheduled_report_executions",
        ["advertiser_id", "id"],
        unique=False,
    )

    op.create_table(
        "batch_entities_jobs",
        sa.Column("id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("batch_id", sa.String(length=80), nullable=False),
        sa.Column("advertiser_id", sa.BigInteger(), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("client_id", sa.BigInteger(), nullable=False),
        sa.Column("entity_types", sa.JSON(), nullable=False),
        sa.Column("job_id", sa.BigInteger(), nullable=True),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("report_key", sa.String(length=300), nullable=True),
        sa.Column("counts", sa.JSON(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["advertiser_id"], ["advertisers.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("batch_id", name="uq_batch_entities_jobs_batch"),
    )
    op.create_index(
        "ix_batch_entities_jobs_advertiser", "batch_entities_jobs", ["advertiser_id", "id"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_batch_entities_jobs_advertiser", table_name="batch_entities_jobs")
    op.drop_table("batch_entities_jobs")
    op.drop_index("ix_scheduled_report_executions_advertiser", table_name="scheduled_report_executions")
    op.drop_table("scheduled_report_executions")
    op.drop_index("ix_scheduled_reports_status", table_name="scheduled_reports")
    op.drop_index("ix_scheduled_reports_advertiser", table_name="scheduled_reports")
    op.drop_table("scheduled_reports")
