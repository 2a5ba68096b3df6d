"""One simulation at a time: the engine's lease against a second ``simulate`` and the live
engine's ticks."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from pinapi.domain.clock import FixedClock
from pinapi.engine import lease
from pinapi.engine.runner import Simulator, simulate
from pinapi.jobs import engine as engine_jobs
from pinapi.jobs.worker import HANDLERS, Worker
from pinapi.runtime import Runtime
from pinapi.store.tables import DeliveryHour, EngineLease, Job
from tests.engine_db.test_jobs_cli import _engine_settings
from tests.engine_db.world import DAY0, POPULATION, SEED, build_world
from tests.factories import Factory


async def test_take_renew_give_back_and_expiry(runtime: Runtime) -> None:
    async with runtime.sessions() as s, s.begin():
        await lease.take(s, "first", now=lambda: 1_000)
        await lease.take(s, "first", now=lambda: 1_100)  # renewing is taking again
    async with runtime.sessions() as s, s.begin():
        with pytest.raises(lease.EngineBusy) as busy:
            await lease.take(s, "second", now=lambda: 1_200)
    assert busy.value.code == lease.BUSY_CODE and busy.value.http_status == 409
    assert (
        "first is simulating" in busy.value.message and f"{lease.TTL_SECONDS - 100} s" in busy.value.message
    )
    async with runtime.sessions() as s, s.begin():  # an expired lease is anyone's
        await lease.take(s, "second", now=lambda: 1_100 + lease.TTL_SECONDS)
    async with runtime.sessions() as s, s.begin():
        await lease.give_back(s, "first")  # not the holder any more: nothing changes
        assert await s.scalar(select(EngineLease.holder)) == "second"
        await lease.give_back(s, "second")
        assert (await s.execute(select(EngineLease.holder, EngineLease.expires_at))).one() == ("", 0)
        assert await s.scalar(select(func.count()).select_from(EngineLease)) == 1


async def test_a_second_simulation_is_refused_while_one_holds_the_engine(
    runtime: Runtime, factory: Factory
) -> None:
    await build_world(runtime, factory)
    await lease.hold(runtime.sessions, "another run")
    sim = Simulator(seed=SEED, population=POPULATION)
    with pytest.raises(lease.EngineBusy, match="another run is simulating"):
        await simulate(
            runtime.sessions, clock=runtime.clock, simulator=sim, start=DAY0, end=DAY0 + timedelta(hours=2)
        )
    async with runtime.sessions() as s:
        assert await s.scalar(select(func.count()).select_from(DeliveryHour)) == 0
    await lease.release(runtime.sessions, "another run")
    done = await simulate(
        runtime.sessions, clock=runtime.clock, simulator=sim, start=DAY0, end=DAY0 + timedelta(hours=2)
    )
    assert done.hours == 2
    async with runtime.sessions() as s:  # the run gave the lease back
        assert await s.scalar(select(EngineLease.holder)) == ""


async def test_live_ticks_wait_while_a_simulation_holds_the_engine(
    runtime: Runtime, factory: Factory, clock: FixedClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    await build_world(runtime, factory)
    _engine_settings(runtime, "live")
    monkeypatch.setattr(engine_jobs, "BUSY_RETRY_SECONDS", 0.0)
    await lease.hold(runtime.sessions, "a simulate run")
    async with runtime.sessions() as s, s.begin():
        assert await engine_jobs.start(s, clock=clock, settings=runtime.settings, services=runtime.extras)
    worker = Worker(sessions=runtime.sessions, clock=clock, handlers=HANDLERS, services=runtime.extras)
    ticks = select(Job.result).where(Job.kind == engine_jobs.KIND, Job.state == "done")
    for _ in range(20):  # the world's review jobs first, then one engine tick
        assert await worker.run_once()
        async with runtime.sessions() as s:
            if (await s.scalars(ticks)).all():
                break
    async with runtime.sessions() as s:
        results = (await s.scalars(ticks)).all()
        assert len(results) == 1 and "a simulate run is simulating" in results[0]["skipped"]
        assert await s.scalar(select(func.count()).select_from(DeliveryHour)) == 0
        queued = (
            select(func.count()).select_from(Job).where(Job.kind == engine_jobs.KIND, Job.state == "queued")
        )
        assert await s.scalar(queued) == 1
    await lease.release(runtime.sessions, "a simulate run")
    assert await worker.run_once()  # now the tick simulates, and frees the lease after
    async with runtime.sessions() as s:
        assert (await s.scalar(select(func.count()).select_from(DeliveryHour)) or 0) > 0
        assert await s.scalar(select(EngineLease.holder)) == ""
