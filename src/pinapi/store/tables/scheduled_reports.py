"""Scheduled reports, their executions, and batch advertiser-entity jobs.

A ``ScheduledReport`` keeps the report definition (level, columns, windows, filters) and its
calendar (days of the week, days of the month, months). ``scheduled_through`` is the last
advertiser-local day the scheduler has already considered, so each pass looks only at the
days after it. A ``ScheduledReportExecution`` is one run for one local day; the unique
``(schedule_id, run_date)`` pair makes a second run of the same day impossible even when
two workers race. ``BatchEntitiesJob`` tracks one request for the file of every entity of
an advertiser; ``batch_id`` is the public id (``<advertiser>-<unix seconds>-<id>``). Its
``status`` is final (SUCCEEDED, FAILED) once the job settles; before, the job's own state
tells QUEUED from PROCESSING.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from pinapi.store.tables.base import Base, id_column


class ScheduledReport(Base):
    __tablename__ = "scheduled_reports"
    __table_args__ = (
        Index("ix_scheduled_reports_advertiser", "advertiser_id", "id"),
        Index("ix_scheduled_reports_status", "status", "id"),
    )

    id: Mapped[int] = id_column()
    advertiser_id: Mapped[int] = mapped_column(ForeignKey("advertisers.id", ondelete="CASCADE"))
    user_id: Mapped[int]
    client_id: Mapped[int]
    status: Mapped[str] = mapped_column(String(10), default="ACTIVE")  # ACTIVE | INACTIVE
    report_level: Mapped[str] = mapped_column(String(40))
    columns: Mapped[list[str]] = mapped_column(JSON, default=list)
    granularity: Mapped[str] = mapped_column(String(10), default="DAY")
    report_format: Mapped[str] = mapped_column(String(4), default="csv")
    data_source: Mapped[str] = mapped_column(String(10), default="OFFLINE")
    days_of_the_week: Mapped[list[int]] = mapped_column(JSON, default=list)
    days_of_the_month: Mapped[list[int]] = mapped_column(JSON, default=list)
    months_of_the_year: Mapped[list[int]] = mapped_column(JSON, default=list)
    start_days_in_past: Mapped[int] = mapped_column(Integer)
    end_days_in_past: Mapped[int] = mapped_column(Integer)
    click_window_days: Mapped[int] = mapped_column(Integer, default=30)
    engagement_window_days: Mapped[int] = mapped_column(Integer, default=30)
    view_window_days: Mapped[int] = mapped_column(Integer, default=1)
    conversion_report_time_type: Mapped[str] = mapped_column(String(20), default="AD_EVENT")
    filters_json: Mapped[str | None] = mapped_column(Text)
    entity_fields: Mapped[list[str]] = mapped_column(JSON, default=list)
    email_list: Mapped[list[str]] = mapped_column(JSON, default=list)
    expiration_date: Mapped[datetime | None]
    scheduled_through: Mapped[date | None]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class ScheduledReportExecution(Base):
    __tablename__ = "scheduled_report_executions"
    __table_args__ = (
        UniqueConstraint("schedule_id", "run_date", name="uq_scheduled_report_executions_day"),
        Index("ix_scheduled_report_executions_advertiser", "advertiser_id", "id"),
    )

    id: Mapped[int] = id_column()
    schedule_id: Mapped[int] = mapped_column(ForeignKey("scheduled_reports.id", ondelete="CASCADE"))
    advertiser_id: Mapped[int] = mapped_column(ForeignKey("advertisers.id", ondelete="CASCADE"))
    user_id: Mapped[int]
    client_id: Mapped[int]
    run_date: Mapped[date]  # the advertiser-local day the run belongs to
    start_date: Mapped[date]
    end_date: Mapped[date]
    execution_status: Mapped[str] = mapped_column(String(20))  # SUCCESS | INTERNAL_ERROR | …
    report_key: Mapped[str | None] = mapped_column(String(300))
    row_count: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(Text)
    report_time: Mapped[datetime]


class BatchEntitiesJob(Base):
    __tablename__ = "batch_entities_jobs"
    __table_args__ = (
        UniqueConstraint("batch_id", name="uq_batch_entities_jobs_batch"),
        Index("ix_batch_entities_jobs_advertiser", "advertiser_id", "id"),
    )

    id: Mapped[int] = id_column()
    batch_id: Mapped[str] = mapped_column(String(80))
    advertiser_id: Mapped[int] = mapped_column(ForeignKey("advertisers.id", ondelete="CASCADE"))
    user_id: Mapped[int]
    client_id: Mapped[int]
    entity_types: Mapped[list[str]] = mapped_column(JSON, default=list)
    job_id: Mapped[int | None]  # the queue job that builds the file (its state shows PROCESSING)
    status: Mapped[str] = mapped_column(String(12), default="QUEUED")
    report_key: Mapped[str | None] = mapped_column(String(300))
    counts: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]
    finished_at: Mapped[datetime | None]
