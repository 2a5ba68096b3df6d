"""The engine as a worker job (live and fast) and the ``pinapi simulate`` command."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path

from sqlalchemy import func, select
from typer.testing import CliRunner, Result

from pinapi.cli import app as cli
from pinapi.domain.clock import FixedClock
from pinapi.jobs import engine as engine_jobs
from pinapi.jobs.worker import HANDLERS, Worker
from pinapi.runtime import Runtime
from pinapi.settings import Settings
from pinapi.store.tables import DeliveryHour, EngineCheckpoint, Job
from tests.conftest import START
from tests.engine_db.world import POPULATION, SEED, build_world
from tests.factories import Factory


def _engine_settings(runtime: Runtime, mode: str) -> None:
    s = runtime.settings
    s.engine = mode  # type: ignore[assignment]
    s.engine_seed = SEED
    s.engine_population = POPULATION
    s.engine_backfill_days = 1
    s.engine_fast_hours_per_second = 1000.0


async def _frontier(runtime: Runtime) -> object:
    async with runtime.sessions() as s:
        return await s.scalar(select(func.max(EngineCheckpoint.hour)))


async def test_live_engine_backfills_then_follows_the_clock(
    runtime: Runtime, factory: Factory, clock: FixedClock
) -> None:
    world = await build_world(runtime, factory)
    _engine_settings(runtime, "live")
    async with runtime.sessions() as s, s.begin():
        assert await engine_jobs.start(s, clock=clock, settings=runtime.settings, services=runtime.extras)
    async with runtime.sessions() as s, s.begin():  # a second start (another process) adds nothing
        assert not await engine_jobs.start(s, clock=clock, settings=runtime.settings, services=runtime.extras)
    worker = Worker(sessions=runtime.sessions, clock=clock, handlers=HANDLERS, services=runtime.extras)
    assert await worker.drain() == 2  # [11-01 12:00, 11-02 00:00) and [00:00, 12:00)
    assert await _frontier(runtime) == START
    async with runtime.sessions() as s:
        first = await s.scalar(select(func.min(DeliveryHour.hour)))
        assert first is not None and first >= START - timedelta(days=1)
        promoted = set((await s.scalars(select(DeliveryHour.pin_promotion_id).distinct())).all())
        assert promoted and promoted <= set(world.delivering.values())
        queued = (
            await s.scalars(select(Job).where(Job.kind == engine_jobs.KIND, Job.state == "queued"))
        ).all()
        assert [j.run_after for j in queued] == [START + timedelta(hours=1)]
        failed = await s.scalar(select(func.count()).select_from(Job).where(Job.state == "failed"))
        assert failed == 0
    clock.advance(timedelta(minutes=30))
    assert await worker.drain() == 0  # the hour is not over yet
    clock.advance(timedelta(minutes=30))
    assert await worker.drain() == 1
    assert await _frontier(runtime) == START + timedelta(hours=1)
    async with runtime.sessions() as s:  # hourly checkpoints give way; midnights, first and newest stay
        kept = (await s.scalars(select(EngineCheckpoint.hour).order_by(EngineCheckpoint.hour))).all()
        assert kept == [START - timedelta(days=1), START.replace(hour=0), START + timedelta(hours=1)]


async def test_fast_engine_moves_the_clock_hour_by_hour(runtime: Runtime, clock: FixedClock) -> None:
    _engine_settings(runtime, "fast")
    runtime.settings.engine_backfill_days = 0
    async with runtime.sessions() as s, s.begin():
        assert await engine_jobs.start(s, clock=clock, settings=runtime.settings, services=runtime.extras)
    worker = Worker(sessions=runtime.sessions, clock=clock, handlers=HANDLERS, services=runtime.extras)
    for step in (1, 2, 3):  # nothing to catch up: each tick moves the clock an hour and simulates it
        assert await worker.run_once()
        expected = START + timedelta(hours=step)
        assert clock.now() == expected
        assert await _frontier(runtime) == expected
    async with runtime.sessions() as s:
        done = (await s.scalars(select(Job.result).where(Job.state == "done").order_by(Job.run_after))).all()
        assert done[-1] == {
            "hours": 1,
            "frontier": (START + timedelta(hours=3)).isoformat(),
            "days_billed": 0,
        }
        queued = (await s.scalars(select(Job.run_after).where(Job.state == "queued"))).all()
        assert queued == [START + timedelta(hours=3)]


async def test_engine_off_queues_nothing(runtime: Runtime, clock: FixedClock) -> None:
    async with runtime.sessions() as s, s.begin():
        assert not await engine_jobs.start(s, clock=clock, settings=runtime.settings, services=runtime.extras)
        assert await s.scalar(select(func.count()).select_from(Job)) == 0


def _cli(data_dir: Path, *args: str) -> Result:
    env = {
        "PINAPI_DATA_DIR": str(data_dir),
        "PINAPI_DATABASE_URL": "",
        "PINAPI_SECRET_KEY": "",
        "PINAPI_REDIS_URL": "",
        "PINAPI_ENGINE_SEED": str(SEED),
        "COLUMNS": "200",
    }
    return CliRunner().invoke(cli, list(args), env=env)


async def test_simulate_command_on_a_fresh_data_dir(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, demo=False, worker=False, _env_file=None)
    from pinapi.store import migrate

    await migrate.upgrade_async(settings.resolved_database_url())
    runtime = Runtime.build(settings, clock=FixedClock(START))
    try:
        await build_world(runtime, Factory(runtime))
    finally:
        await runtime.close()

    args = ("simulate", "--from", "2026-10-30", "--to", "2026-10-30", "--population", str(POPULATION))
    result = await asyncio.to_thread(_cli, tmp_path, *args)
    assert result.exit_code == 0, result.output
    out = " ".join(result.output.split())
    assert "24 hours simulated from 2026-10-30T00:00:00+00:00" in out
    assert "Engine Adv" in out and "Inactive Adv" not in out
    assert "advertiser-days billed: 1" in out

    again = await asyncio.to_thread(_cli, tmp_path, *args)
    assert again.exit_code == 0 and "advertiser-days billed: 0" in " ".join(again.output.split())

    bad = await asyncio.to_thread(_cli, tmp_path, "simulate", "--from", "2026-10-30")
    assert bad.exit_code == 2 and "--from and --to go together" in bad.output
    reversed_range = await asyncio.to_thread(
        _cli, tmp_path, "simulate", "--from", "2026-10-31", "--to", "2026-10-30"
    )
    assert reversed_range.exit_code == 2 and "must not be before --from" in reversed_range.output
    not_a_date = await asyncio.to_thread(_cli, tmp_path, "simulate", "--from", "tomorrow", "--to", "x")
    assert not_a_date.exit_code == 2 and "must be dates YYYY-MM-DD" in not_a_date.output
    three = await asyncio.to_thread(_cli, tmp_path, "simulate", "--processes", "3")
    assert three.exit_code == 2 and "--processes must be 1 or 2" in three.output
