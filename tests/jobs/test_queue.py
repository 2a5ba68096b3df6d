"""The durable job queue: enqueue, claim, settle, retry with back-off, leases, dedupe."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

from sqlalchemy import func, select

from pinapi.domain.clock import FixedClock
from pinapi.jobs import queue
from pinapi.jobs.worker import Handler, JobContext, Worker
from pinapi.runtime import Runtime
from pinapi.store.tables import Job


async def _enqueue(rt: Runtime, clock: FixedClock, kind: str = "test.echo", **kw: Any) -> int:
    async with rt.sessions() as s, s.begin():
        job = await queue.enqueue(s, clock=clock, kind=kind, **kw)
        return job.id


async def _job(rt: Runtime, job_id: int) -> Job:
    async with rt.sessions() as s:
        job = await queue.get(s, job_id)
        assert job is not None
        return job


async def _count(rt: Runtime) -> int:
    async with rt.sessions() as s:
        return int(await s.scalar(select(func.count()).select_from(Job)) or 0)


async def echo(ctx: JobContext) -> dict[str, Any]:
    return {"echo": ctx.job.payload, "attempt": ctx.job.attempts}


def worker(rt: Runtime, clock: FixedClock, handlers: dict[str, Handler], lease: float = 60.0) -> Worker:
    return Worker(sessions=rt.sessions, clock=clock, lease_seconds=lease, handlers=handlers)


async def test_enqueue_claim_complete(runtime: Runtime, clock: FixedClock) -> None:
    job_id = await _enqueue(runtime, clock, payload={"n": 1})
    job = await _job(runtime, job_id)
    assert (job.state, job.attempts, job.max_attempts, job.run_after) == ("queued", 0, 5, clock.now())
    async with runtime.sessions() as s, s.begin():
        claimed = await queue.claim(s, clock=clock, worker_id="w1", lease_seconds=30)
        assert claimed is not None and claimed.id == job_id
        assert await queue.claim(s, clock=clock, worker_id="w2", lease_seconds=30) is None
    job = await _job(runtime, job_id)
    assert (job.state, job.attempts, job.locked_by) == ("running", 1, "w1")
    assert job.locked_until == clock.now() + timedelta(seconds=30)
    clock.advance(timedelta(seconds=5))
    async with runtime.sessions() as s, s.begin():
        await queue.complete(s, clock=clock, job_id=job_id, result={"ok": True})
    job = await _job(runtime, job_id)
    assert (job.state, job.result, job.error, job.locked_until) == ("done", {"ok": True}, None, None)
    assert job.finished_at == clock.now()


async def test_worker_runs_due_jobs_only(runtime: Runtime, clock: FixedClock) -> None:
    w = worker(runtime, clock, {"test.echo": echo})
    later = await _enqueue(
        runtime, clock, payload={"at": "later"}, run_after=clock.now() + timedelta(hours=1)
    )
    now = await _enqueue(runtime, clock, payload={"at": "now"})
    assert await w.drain() == 1
    assert (await _job(runtime, now)).result == {"echo": {"at": "now"}, "attempt": 1}
    assert (await _job(runtime, later)).state == "queued"
    clock.advance(timedelta(hours=1))
    assert await w.run_once() is True
    assert await w.run_once() is False
    assert (await _job(runtime, later)).state == "done"


async def test_enqueue_rolls_back_with_its_transaction(runtime: Runtime, clock: FixedClock) -> None:
    async with runtime.sessions() as s:
        await queue.enqueue(s, clock=clock, kind="test.echo")
        await s.rollback()
    assert await _count(runtime) == 0


async def test_each_job_is_claimed_by_exactly_one_of_many_workers(
    runtime: Runtime, clock: FixedClock
) -> None:
    runs: list[tuple[int, str]] = []

    async def record(ctx: JobContext) -> dict[str, Any]:
        await asyncio.sleep(0)
        runs.append((ctx.job.id, ctx.job.locked_by or ""))
        return {"by": ctx.job.locked_by}

    ids = [await _enqueue(runtime, clock, payload={"i": i}) for i in range(24)]
    workers = [worker(runtime, clock, {"test.echo": record}) for _ in range(4)]
    counts = await asyncio.gather(*(w.drain() for w in workers))
    assert sum(counts) == len(ids)
    assert sorted(job_id for job_id, _ in runs) == sorted(ids)
    async with runtime.sessions() as s:
        jobs = list(await s.scalars(select(Job)))
    assert {j.state for j in jobs} == {"done"} and {j.attempts for j in jobs} == {1}
    by_job = dict(runs)
    assert all(j.result == {"by": by_job[j.id]} for j in jobs)
    assert {w.worker_id for w in workers} >= {by for _, by in runs}


async def test_failure_retries_with_backoff_then_gives_up(runtime: Runtime, clock: FixedClock) -> None:
    async def broken(ctx: JobContext) -> dict[str, Any]:
        raise ValueError(f"broken on attempt {ctx.job.attempts}")

    w = worker(runtime, clock, {"test.broken": broken})
    job_id = await _enqueue(runtime, clock, kind="test.broken", max_attempts=3)
    for attempt, delay in ((1, 2), (2, 4)):
        assert await w.run_once() is True
        job = await _job(runtime, job_id)
        assert (job.state, job.attempts, job.locked_by, job.locked_until) == ("queued", attempt, None, None)
        assert job.error == f"ValueError: broken on attempt {attempt}"
        assert job.run_after == clock.now() + timedelta(seconds=delay)
        assert queue.BACKOFF_BASE_SECONDS * 2 ** (attempt - 1) == delay
        clock.advance(timedelta(seconds=delay) - timedelta(milliseconds=1))
        assert await w.run_once() is False  # not due yet
        clock.advance(timedelta(milliseconds=1))
    assert await w.run_once() is True
    job = await _job(runtime, job_id)
    assert (job.state, job.attempts, job.finished_at) == ("failed", 3, clock.now())
    assert job.error == "ValueError: broken on attempt 3"
    clock.advance(timedelta(days=1))
    assert await w.run_once() is False


async def test_backoff_is_capped(runtime: Runtime, clock: FixedClock) -> None:
    job_id = await _enqueue(runtime, clock, kind="test.broken", max_attempts=50)
    async with runtime.sessions() as s, s.begin():
        job = await s.get(Job, job_id)
        assert job is not None
        job.attempts = 20
        await queue.fail(s, clock=clock, job=job, error="x")
    job = await _job(runtime, job_id)
    assert job.run_after == clock.now() + timedelta(seconds=queue.BACKOFF_MAX_SECONDS)


async def test_unknown_kind_fails_like_a_handler_error(runtime: Runtime, clock: FixedClock) -> None:
    job_id = await _enqueue(runtime, clock, kind="test.nobody", max_attempts=1)
    assert await worker(runtime, clock, {}).run_once() is True
    job = await _job(runtime, job_id)
    assert job.state == "failed"
    assert job.error == "LookupError: no handler for job kind 'test.nobody'"


async def test_handler_effects_roll_back_with_a_failure(runtime: Runtime, clock: FixedClock) -> None:
    async def half_done(ctx: JobContext) -> dict[str, Any]:
        await queue.enqueue(ctx.session, clock=ctx.clock, kind="test.follow_up")
        raise RuntimeError("after writing")

    job_id = await _enqueue(runtime, clock, kind="test.half", max_attempts=1)
    await worker(runtime, clock, {"test.half": half_done}).run_once()
    assert (await _job(runtime, job_id)).state == "failed"
    assert await _count(runtime) == 1  # the follow-up job was rolled back


async def test_expired_lease_is_reclaimed(runtime: Runtime, clock: FixedClock) -> None:
    job_id = await _enqueue(runtime, clock)
    async with runtime.sessions() as s, s.begin():
        assert await queue.claim(s, clock=clock, worker_id="dead", lease_seconds=10) is not None
    w = worker(runtime, clock, {"test.echo": echo})
    clock.advance(timedelta(seconds=10))
    assert await w.run_once() is False  # the lease runs until locked_until, inclusive
    clock.advance(timedelta(seconds=1))
    assert await w.run_once() is True
    job = await _job(runtime, job_id)
    assert (job.state, job.attempts) == ("done", 2)
    assert job.result == {"echo": {}, "attempt": 2}
    assert job.locked_by == w.worker_id


async def test_dedupe_key_gives_one_job(runtime: Runtime, clock: FixedClock) -> None:
    first = await _enqueue(runtime, clock, dedupe_key="report:42")
    second = await _enqueue(runtime, clock, dedupe_key="report:42", payload={"ignored": True})
    assert first == second and await _count(runtime) == 1
    async with runtime.sessions() as s, s.begin():
        a = await queue.enqueue(s, clock=clock, kind="k", dedupe_key="same-tx")
        b = await queue.enqueue(s, clock=clock, kind="k", dedupe_key="same-tx")
        assert a.id == b.id
    other = await _enqueue(runtime, clock, dedupe_key="report:43")
    assert other != first and await _count(runtime) == 3


async def test_dedupe_key_race_between_transactions(runtime: Runtime, clock: FixedClock) -> None:
    """Two transactions enqueue the same key at once: the later one gets the earlier's job."""
    async with runtime.sessions() as a:
        job_a = await queue.enqueue(a, clock=clock, kind="k", dedupe_key="race")  # flushed, uncommitted

        async def contender() -> int:
            async with runtime.sessions() as b, b.begin():
                return (await queue.enqueue(b, clock=clock, kind="k", dedupe_key="race")).id

        task = asyncio.create_task(contender())
        await asyncio.sleep(0.3)  # let the contender block on the uncommitted row
        await a.commit()
        assert await asyncio.wait_for(task, 30) == job_a.id
    assert await _count(runtime) == 1


async def test_a_worker_that_lost_its_lease_commits_nothing(runtime: Runtime, clock: FixedClock) -> None:
    async def slow(ctx: JobContext) -> dict[str, Any]:
        # The handler outlives its lease, and another worker reclaims the job meanwhile.
        clock.advance(timedelta(seconds=61))
        async with runtime.sessions() as s, s.begin():
            stolen = await queue.claim(s, clock=clock, worker_id="thief", lease_seconds=3600)
            assert stolen is not None and stolen.id == ctx.job.id
        await queue.enqueue(ctx.session, clock=ctx.clock, kind="test.side_effect")
        if ctx.job.payload.get("fail"):
            raise RuntimeError("failed late")
        return {"by": "slow"}

    w = worker(runtime, clock, {"test.slow": slow}, lease=60)
    for payload in ({}, {"fail": True}):
        job_id = await _enqueue(runtime, clock, kind="test.slow", payload=payload)
        assert await w.run_once() is True
        job = await _job(runtime, job_id)
        # Still the thief's: neither a late "done" nor a late failure overwrote its lease.
        assert (job.state, job.locked_by, job.attempts, job.result, job.error) == (
            "running",
            "thief",
            2,
            None,
            None,
        )
    assert await _count(runtime) == 2  # the two jobs; both side effects were rolled back


async def test_a_claim_in_flight_is_skipped_not_shared(
    runtime: Runtime, clock: FixedClock, backend: str
) -> None:
    """While one worker's claim is uncommitted, another gets a different job or none.

    PostgreSQL skips the locked row at once (``FOR UPDATE SKIP LOCKED``) and hands out the
    next job; SQLite serialises writers, so the second claim waits, then finds its pick taken.
    """
    first = await _enqueue(runtime, clock, payload={"i": 1})
    second = await _enqueue(runtime, clock, payload={"i": 2})
    async with runtime.sessions() as a:
        held = await queue.claim(a, clock=clock, worker_id="a", lease_seconds=60)
        assert held is not None and held.id == first

        async def other() -> int | None:
            async with runtime.sessions() as b, b.begin():
                job = await queue.claim(b, clock=clock, worker_id="b", lease_seconds=60)
                return None if job is None else job.id

        task = asyncio.create_task(other())
        if backend == "postgresql":  # answered while the first claim is still uncommitted
            assert await asyncio.wait_for(asyncio.shield(task), 10) == second
        else:
            await asyncio.sleep(0.3)
        await a.commit()
        got = await asyncio.wait_for(task, 30)
    assert got in (None, second)
    assert (await _job(runtime, first)).locked_by == "a"
