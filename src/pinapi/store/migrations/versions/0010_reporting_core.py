"""reporting core: the touch's advertiser-local date and the touch-to-event lag on
conversion events, so reports by AD_EVENT and attribution windows read plain columns

Revision ID: 0010_reporting_core
Revises: 0007_facts
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from alembic import op

revision: str = "0010_reporting_core"
down_revision: str | None = "0007_facts"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_BATCH = 5000


def _utc(value: datetime | str) -> datetime:
    if isinstance(value, str):  # SQLite hands back text
        value = datetime.fromisoformat(value)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def upgrade() -> None:
    with op.batch_alter_table("conversion_events") as batch:
        batch.add_column(sa.Column("touch_local_date", sa.Date(), nullable=True))
        batch.add_column(sa.Column("touch_lag_s", sa.BigInteger(), nullable=True))
    op.create_index(
        "ix_conversion_events_advertiser_touch_date",
        "conversion_events",
        ["advertiser_id", "touch_local_date"],
        unique=False,
    )
    op.create_index(
        "ix_conversion_events_ad_group_touch_date",
        "conversion_events",
        ["ad_group_id", "touch_local_date"],
        unique=False,
    )
    # Events stored before this revision get both values from their touch time and their
    # advertiser's time zone.
    bind = op.get_bind()
    rows = bind.execute(
        sa.text(
            "SELECT e.id, e.event_time, e.touch_time, a.timezone FROM conversion_events e "
            "LEFT JOIN advertisers a ON a.id = e.advertiser_id WHERE e.touch_time IS NOT NULL"
        )
    ).all()
    zones: dict[str, ZoneInfo] = {}
    updates = []
    for id_, event_time, touch_time, tz in rows:
        zone = zones.get(tz or "UTC") or zones.setdefault(tz or "UTC", ZoneInfo(tz or "UTC"))
        touch = _utc(touch_time)
        updates.append(
            {
                "id": id_,
                "d": touch.astimezone(zone).date(),
                "lag": round((_utc(event_time) - touch).total_seconds()),
            }
        )
    stmt = sa.text("UPDATE conversion_events SET touch_local_date = :d, touch_lag_s = :lag WHERE id = :id")
    for i in range(0, len(updates), _BATCH):
        bind.execute(stmt, updates[i : i + _BATCH])


def downgrade() -> None:
    op.drop_index("ix_conversion_events_ad_group_touch_date", table_name="conversion_events")
    op.drop_index("ix_conversion_events_advertiser_touch_date", table_name="conversion_events")
    with op.batch_alter_table("conversion_events") as batch:
        batch.drop_column("touch_lag_s")
        batch.drop_column("touch_local_date")
