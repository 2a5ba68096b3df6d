"""The worker loop: claim a job, run its handler, settle it, repeat.

Handlers are registered by kind. A handler runs in its own transaction together with the
job's completion, so its effects and the "done" mark commit (or roll back) as one.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets
import time
import traceback
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from pinapi.domain.clock import Clock
from pinapi.jobs import queue
from pinapi.store.tables import Job

log = logging.getLogger("pinapi.jobs")
PERIODIC_CHECK_SECONDS = 60.0


@dataclass(frozen=True)
class JobContext:
    session: AsyncSession
    clock: Clock
    job: Job
    services: dict[str, object]


Handler = Callable[[JobContext], Awaitable[dict[str, Any] | None]]
HANDLERS: dict[str, Handler] = {}
# Job kinds that run on a period (seconds); workers enqueue them with a dedupe key per
# period, so however many workers run, each period gets one job.
PERIODIC: dict[str, float] = {}


def handler(kind: str, *, every_seconds: float | None = None) -> Callable[[Handler], Handler]:
    def register(fn: Handler) -> Handler:
        HANDLERS[kind] = fn
        if every_seconds:
            PERIODIC[kind] = every_seconds
        return fn

    return register


class Worker:
    def __init__(
        self,
        *,
        sessions: Callable[[], AsyncSession],
        clock: Clock,
        lease_seconds: float = 300.0,
        poll_seconds: float = 0.5,
        handlers: dict[str, Handler] | None = None,
        services: dict[str, object] | None = None,
    ) -> None:
        self.sessions = sessions
        self.clock = clock
        self.lease_seconds = lease_seconds
        self.poll_seconds = poll_seconds
        self.handlers = handlers if handlers is not None else HANDLERS
        self.services = services or {}
        self.worker_id = f"{os.uname().nodename}:{os.getpid()}:{secrets.token_hex(3)}"

    async def run_once(self) -> bool:
        """Run at most one job; returns whether one was found."""
        async with self.sessions() as session:
            job = await queue.claim(
                session, clock=self.clock, worker_id=self.worker_id, lease_seconds=self.lease_seconds
            )
            await session.commit()
        if job is None:
            return False
        fn = self.handlers.get(job.kind)
        try:
            if fn is None:
                raise LookupError(f"no handler for job kind {job.kind!r}")
            async with self.sessions() as session:
                attached = await session.merge(job, load=False)
                result = await fn(
                    JobContext(session=session, clock=self.clock, job=attached, services=self.services)
                )
                settled = await queue.complete(
                    session, clock=self.clock, job_id=job.id, result=result, worker_id=self.worker_id
                )
                if not settled:  # the lease ran out and another worker took the job over
                    await session.rollback()
                    log.warning("job %s (%s) lost its lease; its work was rolled back", job.id, job.kind)
                    return True
                await session.commit()
        except Exception as exc:
            log.warning("job %s (%s) failed: %s", job.id, job.kind, exc)
            detail = "".join(traceback.format_exception_only(type(exc), exc)).strip()
            async with self.sessions() as session:
                await queue.fail(
                    session, clock=self.clock, job=job, error=detail[:2000], worker_id=self.worker_id
                )
                await session.commit()
        return True

    async def drain(self, max_jobs: int = 10_000) -> int:
        """Run due jobs until none is left (tests and ``pinapi worker --once``)."""
        done = 0
        while done < max_jobs and await self.run_once():
            done += 1
        return done

    async def schedule_periodic(self) -> int:
        """Enqueue the current period's job of every periodic kind this worker handles."""
        now = self.clock.now().timestamp()
        added = 0
        async with self.sessions() as session:
            for kind, every in PERIODIC.items():
                if kind not in self.handlers:
                    continue
                bucket = int(now // every)
                await queue.enqueue(
                    session, clock=self.clock, kind=kind, dedupe_key=f"periodic:{kind}:{bucket}"
                )
                added += 1
            await session.commit()
        return added

    async def run_forever(self, stop: asyncio.Event) -> None:
        next_schedule = 0.0
        while not stop.is_set():
            try:
                if time.monotonic() >= next_schedule:
                    await self.schedule_periodic()
                    next_schedule = time.monotonic() + PERIODIC_CHECK_SECONDS
                worked = await self.run_once()
            except Exception:  # keep the loop alive through transient database errors
                log.exception("worker loop error")
                worked = False
            if not worked:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), timeout=self.poll_seconds)
