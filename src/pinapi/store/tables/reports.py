"""Async delivery-metrics reports: the request, its progress and where its file lies.

The report file itself is kept out of the database, under the data dir (``file_key`` is its
name relative to the reports folder). ``params`` holds the request's parameters as they
arrived (merged query, form and JSON values), so the job re-reads them exactly as the
request was validated, against ``created_at``. ``token`` is what the client polls with; it
stops working at ``expires_at``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from pinapi.store.tables.base import Base, id_column


class AsyncReport(Base):
    __tablename__ = "async_reports"
    __table_args__ = (
        Index("ix_async_reports_token", "token", unique=True),
        Index("ix_async_reports_advertiser", "advertiser_id", "created_at"),
        Index("ix_async_reports_expires", "expires_at"),
    )

    id: Mapped[int] = id_column()
    token: Mapped[str] = mapped_column(String(64))
    advertiser_id: Mapped[int] = mapped_column(ForeignKey("advertisers.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    app_id: Mapped[int] = mapped_column(BigInteger)
    params: Mapped[dict[str, Any]] = mapped_column(JSON)
    report_format: Mapped[str] = mapped_column(String(8))
    status: Mapped[str] = mapped_column(String(16))  # QUEUED | RUNNING | FINISHED | FAILED
    job_id: Mapped[int | None] = mapped_column(BigInteger)
    file_key: Mapped[str | None] = mapped_column(String(300))
    row_count: Mapped[int | None] = mapped_column(Integer)
    error_code: Mapped[int | None] = mapped_column(Integer)  # the v3 code a failed report answers
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]
    expires_at: Mapped[datetime]
