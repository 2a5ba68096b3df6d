"""The delivery engine in the jobs worker: ``PINAPI_ENGINE=live`` or ``fast``.

One ``engine.tick`` job at a time simulates at most one UTC day (one chunk of
``engine/runner.py``) in the job's own transaction, then queues the next tick:

* first start (nothing simulated yet): the ``engine_backfill_days`` (30) days that end at the
  current clock hour are simulated, a day per tick, so "the last 30 days" has data;
* ``live``: once caught up, the next tick is due when the clock completes the next hour;
* ``fast``: once caught up, each tick moves the shared clock on by one hour and simulates
  it, at most ``engine_fast_hours_per_second`` hours per wall second.

The numpy work runs in a worker thread (see the runner), so requests keep being served. A
tick that finds another engine tick queued ends without queueing one, so parallel starts
(several API processes) collapse into one chain. A tick holds the engine's lease
(``engine.lease``) for its chunk; while a ``pinapi simulate`` run holds it, ticks wait.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from pinapi.domain.clock import Clock, SharedClock
from pinapi.domain.controls import clock as clock_controls
from pinapi.engine import lease
from pinapi.engine.loader import load_setup
from pinapi.engine.runner import HOUR, Simulator, Summary, chunks, floor_hour
from pinapi.jobs import queue
from pinapi.jobs.worker import JobContext, handler
from pinapi.settings import Settings
from pinapi.store.tables import Job

KIND = "engine.tick"
BUSY_RETRY_SECONDS = 5.0
SERVICE = "engine"


@dataclass
class EngineService:
    mode: str
    simulator: Simulator
    backfill_days: int
    fast_hours_per_second: float


def service_for(settings: Settings, services: dict[str, object]) -> EngineService:
    """The process's engine service, built once from the settings and kept in ``services``."""
    found = services.get(SERVICE)
    if isinstance(found, EngineService):
        return found
    made = EngineService(
        mode=settings.engine,
        simulator=Simulator(seed=settings.engine_seed, population=settings.engine_population, cache=services),
        backfill_days=settings.engine_backfill_days,
        fast_hours_per_second=settings.engine_fast_hours_per_second,
    )
    services[SERVICE] = made
    return made


async def _others_queued(session: AsyncSession, job_id: int | None) -> bool:
    stmt = select(func.count()).select_from(Job).where(Job.kind == KIND, Job.state == "queued")
    if job_id is not None:
        stmt = stmt.where(Job.id != job_id)
    return bool(await session.scalar(stmt))


async def start(
    session: AsyncSession, *, clock: Clock, settings: Settings, services: dict[str, object]
) -> bool:
    """Queue the first tick (server start); False when the engine is off or already going."""
    if settings.engine == "off":
        return False
    service_for(settings, services)
    if await _others_queued(session, None):
        return False
    running = await session.scalar(
        select(func.count()).select_from(Job).where(Job.kind == KIND, Job.state == "running")
    )
    if running:
        return False
    await queue.enqueue(session, clock=clock, kind=KIND, payload={})
    return True


async def _advance_clock(session: AsyncSession, clock: Clock) -> None:
    if isinstance(clock, SharedClock):
        await clock_controls.change(session, clock, advance_seconds=HOUR.total_seconds())
        return
    advance = getattr(clock, "advance", None)
    if callable(advance):
        advance(HOUR)


async def tick(
    session: AsyncSession, *, clock: Clock, service: EngineService, job_id: int | None
) -> dict[str, Any]:
    """Simulate the next chunk (or, caught up, wait or move the clock); queue the next tick."""
    began = time.monotonic()
    if await _others_queued(session, job_id):
        return {"skipped": "another engine tick is queued"}
    sim = service.simulator
    frontier = await sim.frontier(session)
    target = floor_hour(clock.now())
    if frontier is None:
        frontier = target - timedelta(days=service.backfill_days)
    if frontier >= target and service.mode == "fast":
        await _advance_clock(session, clock)
        target = floor_hour(clock.now())
    summary = Summary()
    if frontier < target:
        holder = lease.holder_name("the live engine")
        try:
            await lease.take(session, holder)
        except lease.EngineBusy as busy:
            # A ``pinapi simulate`` run has the engine: try again in a while (wall time, as
            # the shared clock may stand still meanwhile).
            await asyncio.sleep(BUSY_RETRY_SECONDS)
            await queue.enqueue(session, clock=clock, kind=KIND, payload={}, run_after=clock.now())
            return {"skipped": busy.message}
        start, state = await sim.restore(session, frontier)
        setup = await load_setup(session)
        for a, b in chunks(start, target)[:1]:
            await sim.run_chunk(
                session, clock=clock, setup=setup, state=state, start=a, end=b, summary=summary
            )
        await lease.give_back(session, holder)
        frontier = summary.end or frontier
    if frontier < target:
        due = clock.now()
    elif service.mode == "fast":
        await asyncio.sleep(
            max(0.0, summary.hours / service.fast_hours_per_second - (time.monotonic() - began))
        )
        due = clock.now()
    else:
        due = frontier + HOUR
    await queue.enqueue(session, clock=clock, kind=KIND, payload={}, run_after=due)
    return {"hours": summary.hours, "frontier": frontier.isoformat(), "days_billed": summary.days_billed}


@handler(KIND)
async def engine_tick(ctx: JobContext) -> dict[str, Any]:
    service = ctx.services.get(SERVICE)
    if not isinstance(service, EngineService):
        service = service_for(Settings(), ctx.services)
    if service.mode == "off":
        return {"skipped": "engine is off"}
    return await tick(ctx.session, clock=ctx.clock, service=service, job_id=ctx.job.id)
