"""Enqueue, claim and settle jobs.

A job is claimed by exactly one worker across processes: on PostgreSQL the claim is
``SELECT … FOR UPDATE SKIP LOCKED`` inside the claiming transaction; on SQLite, whose writers
are serialised, an ``UPDATE … WHERE state='queued'`` guarded by the row's previous state does
the same. A claim is a lease: a worker that dies leaves the job to be reclaimed once the
lease passes. Failures are retried with exponential back-off up to ``max_attempts``.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from pinapi.domain.clock import Clock
from pinapi.store.ids import new_id
from pinapi.store.tables import Job

BACKOFF_BASE_SECONDS = 2.0
BACKOFF_MAX_SECONDS = 600.0


async def enqueue(
    session: AsyncSession,
    *,
    clock: Clock,
    kind: str,
    payload: dict[str, Any] | None = None,
    run_after: datetime | None = None,
    max_attempts: int = 5,
    dedupe_key: str | None = None,
) -> Job:
    """Add a job in the caller's transaction; it runs only if that transaction commits.

    With a ``dedupe_key``, an existing job of that key is returned instead of a new one. The
    insert is ``ON CONFLICT DO NOTHING`` rather than a savepoint: a concurrent enqueue of the
    same key then waits and yields to the winner without aborting the caller's transaction
    (and pysqlite would turn a savepoint opened first in a transaction into a commit).
    """
    now = clock.now()
    values: dict[str, Any] = {
        "kind": kind,
        "payload": payload or {},
        "state": "queued",
        "attempts": 0,
        "max_attempts": max_attempts,
        "run_after": run_after or now,
        "dedupe_key": dedupe_key,
        "created_at": now,
    }
    if dedupe_key is None:
        job = Job(**values)
        session.add(job)
        await session.flush()
        return job
    by_key = select(Job).where(Job.dedupe_key == dedupe_key)
    existing = await session.scalar(by_key)
    if existing is not None:
        return existing
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    await session.execute(
        insert(Job).values(id=new_id(), **values).on_conflict_do_nothing(index_elements=[Job.dedupe_key])
    )
    found = await session.scalar(by_key)
    assert found is not None  # inserted now, or committed by the concurrent winner
    return found


async def claim(session: AsyncSession, *, clock: Clock, worker_id: str, lease_seconds: float) -> Job | None:
    """Take the oldest runnable job (queued and due, or running with an expired lease)."""
    now = clock.now()
    due = or_(
        (Job.state == "queued") & (Job.run_after <= now),
        (Job.state == "running") & (Job.locked_until < now),
    )
    stmt = select(Job).where(due).order_by(Job.run_after, Job.id).limit(1)
    if session.bind is not None and session.bind.dialect.name == "postgresql":
        stmt = stmt.with_for_update(skip_locked=True)
    job = await session.scalar(stmt)
    if job is None:
        return None
    result = await session.execute(
        update(Job)
        .where(Job.id == job.id, Job.state == job.state, Job.attempts == job.attempts)
        .values(
            state="running",
            locked_by=worker_id,
            locked_until=now + timedelta(seconds=lease_seconds),
            attempts=Job.attempts + 1,
        )
        .execution_options(synchronize_session=False)
    )
    if getattr(result, "rowcount", 0) != 1:
        return None  # another worker took it between our read and our write
    await session.refresh(job)
    return job


async def complete(
    session: AsyncSession,
    *,
    clock: Clock,
    job_id: int,
    result: dict[str, Any] | None,
    worker_id: str | None = None,
) -> bool:
    """Mark the job done; with ``worker_id``, only while that worker still holds its lease.

    Returns False when the lease was lost (it expired and another worker reclaimed the job):
    the caller must then roll back, so the job's effects commit exactly once.
    """
    stmt = update(Job).where(Job.id == job_id)
    if worker_id is not None:
        stmt = stmt.where(Job.state == "running", Job.locked_by == worker_id)
    done = await session.execute(
        stmt.values(state="done", result=result, error=None, finished_at=clock.now(), locked_until=None)
    )
    return getattr(done, "rowcount", 0) == 1


async def fail(
    session: AsyncSession, *, clock: Clock, job: Job, error: str, worker_id: str | None = None
) -> bool:
    """Record a failure: retry later with back-off, or give up after ``max_attempts``.

    With ``worker_id``, only while that worker still holds the lease (else returns False and
    leaves the job to the worker that reclaimed it).
    """
    now = clock.now()
    if job.attempts >= job.max_attempts:
        values: dict[str, Any] = {"state": "failed", "error": error, "finished_at": now, "locked_until": None}
    else:
        delay = min(BACKOFF_MAX_SECONDS, BACKOFF_BASE_SECONDS * 2 ** (job.attempts - 1))
        values = {
            "state": "queued",
            "error": error,
            "run_after": now + timedelta(seconds=delay),
            "locked_by": None,
            "locked_until": None,
        }
    stmt = update(Job).where(Job.id == job.id)
    if worker_id is not None:
        stmt = stmt.where(Job.state == "running", Job.locked_by == worker_id)
    failed = await session.execute(stmt.values(**values))
    return getattr(failed, "rowcount", 0) == 1


async def get(session: AsyncSession, job_id: int) -> Job | None:
    return await session.get(Job, job_id)
