"""Async delivery-metrics reports (contract 5.2): request, poll, and the job that writes them.

A request is validated in full when it arrives (a bad one never gets a token), stored with
its parameters and answered with a token; a job in the worker writes the file. Polling
answers IN_PROGRESS until the file exists, then FINISHED with a signed link valid for an
hour. A token works for ``TOKEN_TTL`` after the request, only for the user who asked and on
the advertiser it was asked for; anything else answers 1104, as an unknown token does.
"""

from __future__ import annotations

import secrets
import shutil
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from pinapi.domain.access import sharing
from pinapi.domain.access.principal import Principal
from pinapi.domain.clock import Clock
from pinapi.domain.errors import DomainError, Invalid
from pinapi.domain.reporting import exports
from pinapi.jobs import queue
from pinapi.store.tables import Advertiser, AsyncReport, Job

REPORT_KIND = "reports.delivery_metrics"
ACTION = "AD_ANALYTICS_READ"
TOKEN_TTL = timedelta(days=7)
"""How long a token (and its file) lives after the request."""
URL_TTL = timedelta(hours=1)
"""How long a download link works after the poll that gave it (contract 5.2)."""
MAX_ATTEMPTS = 3
PURGE_BATCH = 100
_DROPPED_PARAMS = frozenset({"access_token", "__body__"})


class ReportTokenInvalid(DomainError):
    code = 1104
    http_status = 400
    default_message = "The token you provided is not valid or has expired."


class ReportFailed(DomainError):
    code = 1120
    http_status = 500
    default_message = "Reporting job failure."


@dataclass(frozen=True, slots=True)
class ReportStatus:
    """What a poll answers: IN_PROGRESS, or FINISHED with the file's key."""

    report_status: str
    file_key: str | None = None


def _absolute(path: Path) -> str:
    return str(path.resolve())


def _stored_params(values: dict[str, Any]) -> dict[str, Any]:
    """The request's parameters as JSON, without credentials (tokens never reach the table)."""
    kept = {k: v for k, v in values.items() if k not in _DROPPED_PARAMS}
    return dict(orjson.loads(orjson.dumps(kept, default=str)))


async def create(
    session: AsyncSession,
    *,
    clock: Clock,
    principal: Principal,
    advertiser_id: int,
    values: dict[str, Any],
    data_dir: Path,
) -> AsyncReport:
    """Validate the request, store it and queue its job (both commit with the request)."""
    advertiser, _ = await sharing.require_action(
        session, principal=principal, advertiser_id=advertiser_id, action=ACTION
    )
    assert principal.user_id is not None  # require_action refuses calls without a user
    now = clock.now()
    spec = exports.parse_export(values, advertiser=advertiser, now=now)
    await purge_expired(session, clock=clock, advertiser_id=advertiser.id, data_dir=data_dir)
    report = AsyncReport(
        token=secrets.token_urlsafe(24),
        advertiser_id=advertiser.id,
        user_id=principal.user_id,
        app_id=principal.app_id,
        params=_stored_params(values),
        report_format=spec.report_format,
        status="QUEUED",
        created_at=now,
        expires_at=now + TOKEN_TTL,
    )
    session.add(report)
    await session.flush()
    # The data dir travels with the job: the worker writes where this instance serves from.
    job = await queue.enqueue(
        session,
        clock=clock,
        kind=REPORT_KIND,
        payload={"report_id": report.id, "data_dir": _absolute(data_dir)},
        max_attempts=MAX_ATTEMPTS,
    )
    report.job_id = job.id
    return report


async def status(
    session: AsyncSession, *, clock: Clock, principal: Principal, advertiser_id: int, token: str
) -> ReportStatus:
    """The poll: IN_PROGRESS or FINISHED; 1104 for a token that is not the caller's, 1120
    for a failed job, 1124 for a report that turned out too large."""
    await sharing.require_action(session, principal=principal, advertiser_id=advertiser_id, action=ACTION)
    report = await session.scalar(select(AsyncReport).where(AsyncReport.token == token))
    if (
        report is None
        or report.advertiser_id != advertiser_id
        or report.user_id != principal.user_id
        or report.expires_at <= clock.now()
    ):
        raise ReportTokenInvalid()
    if report.status == "FINISHED" and report.file_key is not None:
        return ReportStatus("FINISHED", report.file_key)
    if report.status == "FAILED":
        raise _failure(report.error_code, report.error)
    job = await session.get(Job, report.job_id) if report.job_id is not None else None
    if job is not None and job.state == "failed":
        raise ReportFailed()
    return ReportStatus("IN_PROGRESS")


def _failure(code: int | None, message: str | None) -> DomainError:
    if code == exports.ReportTooLarge.code:
        return exports.ReportTooLarge(message)
    return ReportFailed(message)


def file_key(report: AsyncReport) -> str:
    return f"async/{report.id}/{exports.file_name(report.report_format)}"


async def run(session: AsyncSession, *, clock: Clock, report_id: int, data_dir: Path) -> dict[str, Any]:
    """Write one report's file (the job's body). A report that is too large, or whose stored
    request no longer parses, is marked FAILED for its poll; other errors propagate, so
    the job is retried and, past its attempts, the poll answers 1120."""
    report = await session.get(AsyncReport, report_id)
    if report is None or report.status in ("FINISHED", "FAILED"):
        return {"skipped": "no such pending report"}
    advertiser = await session.get(Advertiser, report.advertiser_id)
    if advertiser is None:
        return {"skipped": "advertiser is gone"}
    now = clock.now()
    report.started_at = now
    key = file_key(report)
    try:
        # Read as the request was validated (against its own time); run against the clock now.
        spec = exports.parse_export(report.params, advertiser=advertiser, now=report.created_at)
        rows = await exports.write_export(session, spec, path=exports.report_path(data_dir, key), now=now)
    except (exports.ReportTooLarge, Invalid) as exc:
        report.status = "FAILED"
        report.error_code = exc.code if isinstance(exc, exports.ReportTooLarge) else ReportFailed.code
        report.error = exc.message
        report.finished_at = clock.now()
        return {"report_id": report.id, "failed": exc.message}
    report.status = "FINISHED"
    report.file_key = key
    report.row_count = rows
    report.finished_at = clock.now()
    return {"report_id": report.id, "rows": rows}


async def purge_expired(session: AsyncSession, *, clock: Clock, advertiser_id: int, data_dir: Path) -> int:
    """Drop an advertiser's expired reports and their files (a bounded batch per call)."""
    expired = (
        await session.scalars(
            select(AsyncReport)
            .where(AsyncReport.advertiser_id == advertiser_id, AsyncReport.expires_at <= clock.now())
            .order_by(AsyncReport.expires_at)
            .limit(PURGE_BATCH)
        )
    ).all()
    for report in expired:
        if report.file_key is not None:
            shutil.rmtree(exports.report_path(data_dir, report.file_key).parent, ignore_errors=True)
        await session.delete(report)
    return len(expired)
