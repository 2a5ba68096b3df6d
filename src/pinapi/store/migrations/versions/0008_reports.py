"""async delivery-metrics reports: token, request parameters, progress and file key

Revision ID: 0008_reports
Revises: 0001
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008_reports"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "async_reports",
        sa.Column("id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("token", sa.String(length=64), nullable=False),
        sa.Column("advertiser_id", sa.BigInteger(), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("app_id", sa.BigInteger(), nullable=False),
        sa.Column("params", sa.JSON(), nullable=False),
        sa.Column("report_format", sa.String(length=8), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("job_id", sa.BigInteger(), nullable=True),
        sa.Column("file_key", sa.String(length=300), nullable=True),
        sa.Column("row_count", sa.Integer(), nullable=True),
        sa.Column("error_code", sa.Integer(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["advertiser_id"], ["advertisers.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("async_reports", schema=None) as batch_op:
        batch_op.create_index("ix_async_reports_advertiser", ["advertiser_id", "created_at"], unique=False)
        batch_op.create_index("ix_async_reports_expires", ["expires_at"], unique=False)
        batch_op.create_index("ix_async_reports_token", ["token"], unique=True)


def downgrade() -> None:
    with op.batch_alter_table("async_reports", schema=None) as batch_op:
        batch_op.drop_index("ix_async_reports_token")
        batch_op.drop_index("ix_async_reports_expires")
        batch_op.drop_index("ix_async_reports_advertiser")

    op.drop_table("async_reports")
