"""Simulate a range of hours against the database: load, run, write, bill, checkpoint.

A range [start, end) is cut into chunks at UTC midnights; each chunk is ONE transaction that
deletes the chunk's old facts, writes the new ones (folded hour by hour, stored at the end),
stores the engine state at the chunk's end as a checkpoint and bills the advertiser-local
days the chunk closed. So an interrupted run leaves whole days, and a re-simulation of a
range replaces it exactly.

State between runs: ``engine_checkpoints`` holds the pickled ``EngineState`` at the start of
an hour (one per UTC midnight is kept, plus the earliest and the newest; a fresh run writes
one at its start too). A run starting at ``a`` restores the checkpoint at ``a``; when there
is none at ``a`` but an earlier one at ``c``, it starts at ``c`` instead (re-simulating
[c, a) gives the same facts for the same seed and set-up), and with none at all it starts
fresh.

Billing: a local day of an advertiser is billed once, through ``billing.record_spend_lines``
(credits first, a line per campaign), when a chunk ends at or after the day's end; the
amount is the day's spend in the engine's books (what its ``delivery_hours`` rows sum to)
and ``engine_billed_days`` remembers it, so re-simulating a billed day never bills it again
(its facts are replaced, its bill is not).

The numpy work of an hour runs in a worker thread, so a server's event loop keeps serving
requests while the engine runs.
"""

from __future__ import annotations

import asyncio
import pickle
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from pinapi.domain.ads import billing
from pinapi.domain.clock import Clock
from pinapi.engine import lease
from pinapi.engine.entities import Setup
from pinapi.engine.facts import HourResult
from pinapi.engine.folding import ORGANIC_HOURLY_DAYS, AdvertiserInfo, Folder, HourCounts, hour_horizon
from pinapi.engine.loader import ads_dimensions, load_setup
from pinapi.engine.pipeline import Chunk, Work, run_in_child
from pinapi.engine.population import Population, build_population
from pinapi.engine.simulate import Engine, EngineConfig
from pinapi.engine.state import CLOSING_DAYS, EngineState
from pinapi.engine.writer import delete_range, store
from pinapi.store.breakdowns import Pair
from pinapi.store.tables import EngineBilledDay, EngineCheckpoint

HOUR = timedelta(hours=1)
ProgressFn = Callable[[datetime, HourCounts], None]


def floor_hour(when: datetime) -> datetime:
    return when.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


@dataclass
class Summary:
    """What a run did: hours simulated and per-advertiser totals (for the CLI table)."""

    start: datetime | None = None
    end: datetime | None = None
    hours: int = 0
    delivery_rows: int = 0
    dimension_rows: int = 0
    conversions: int = 0
    days_billed: int = 0
    impressions: dict[int, int] = field(default_factory=dict)
    clicks: dict[int, int] = field(default_factory=dict)
    spend: dict[int, int] = field(default_factory=dict)

    def add(self, counts: HourCounts) -> None:
        self.hours += 1
        self.delivery_rows += counts.delivery_rows
        self.dimension_rows += counts.dimension_rows
        self.conversions += counts.conversions
        for target, source in (
            (self.impressions, counts.impressions),
            (self.clicks, counts.clicks),
            (self.spend, counts.spend),
        ):
            for k, v in (source or {}).items():
                target[k] = target.get(k, 0) + v


class Simulator:
    """One engine configuration (seed, population) and its cached population."""

    def __init__(self, *, seed: int, population: int, cache: dict[str, object] | None = None) -> None:
        self.seed = seed
        self.population_size = population
        self._cache = cache if cache is not None else {}

    def population(self) -> Population:
        """Built once per process and configuration (about 1.4 s for a million pinners)."""
        key = f"engine.population:{self.population_size}:{self.seed}"
        found = self._cache.get(key)
        if isinstance(found, Population):
            return found
        pop = build_population(ads_dimensions(), self.population_size, seed=self.seed)
        self._cache[key] = pop
        return pop

    async def _engine(self) -> Engine:
        key = f"engine.engine:{self.population_size}:{self.seed}"
        found = self._cache.get(key)
        if isinstance(found, Engine):
            return found
        pop = await asyncio.to_thread(self.population)
        engine = Engine(pop, EngineConfig(seed=self.seed))
        self._cache[key] = engine
        return engine

    async def restore(self, session: AsyncSession, start: datetime) -> tuple[datetime, EngineState]:
        """The hour to start from and the state there (see the module docstring)."""
        start = floor_hour(start)
        row = await session.scalar(
            select(EngineCheckpoint)
            .where(EngineCheckpoint.hour <= start)
            .order_by(EngineCheckpoint.hour.desc())
        )
        if row is None:
            return start, EngineState()
        state = pickle.loads(row.state)
        assert isinstance(state, EngineState)
        return row.hour, state

    async def frontier(self, session: AsyncSession) -> datetime | None:
        """The end of the latest simulated chunk (the latest checkpoint), if any."""
        return await session.scalar(select(func.max(EngineCheckpoint.hour)))

    async def run_chunk(
        self,
        session: AsyncSession,
        *,
        clock: Clock,
        setup: Setup,
        state: EngineState,
        start: datetime,
        end: datetime,
        summary: Summary,
        progress: ProgressFn | None = None,
    ) -> None:
        """Simulate [start, end) in the caller's transaction: replace facts, checkpoint at
        ``end``, bill the days closed by ``end``. ``state`` moves on to ``end``."""
        engine = await self._engine()
        folder = Folder(engine.population, advertiser_infos(setup))
        if await session.get(EngineCheckpoint, start) is None:  # a fresh start: keep it too
            await self.checkpoint(session, clock=clock, hour=start, state=state)
        await delete_range(session, start=start, end=end)
        hourly, organic_hourly = granularity(end, clock.now(), setup)
        folder.begin(start, end, hourly=hourly, organic_hourly=organic_hourly)
        gen = engine.run(setup, state, start, end)
        # The next hour is computed in one thread while this one is folded and stored (numpy
        # and SQLite release the GIL for most of their work); only results cross over.
        pending: asyncio.Future[HourResult | None] | None = None
        try:
            pending = asyncio.ensure_future(asyncio.to_thread(next, gen, None))
            while True:
                result = await pending
                pending = None
                if result is None:
                    break
                pending = asyncio.ensure_future(asyncio.to_thread(next, gen, None))
                counts = await asyncio.to_thread(folder.add, result)
                summary.add(counts)
                if progress is not None:
                    progress(result.hour, counts)
        finally:
            if pending is not None:  # an error while storing: let the running hour finish first
                await asyncio.wait([pending])
                if not pending.cancelled():
                    pending.exception()  # retrieved: the storing error is the one that propagates
            close = getattr(gen, "close", None)  # a generator: closing it books the spend
            if callable(close):
                close()
        rows = await store(session, folder.finish(), {})
        await self._close_chunk(
            session,
            clock=clock,
            setup=setup,
            state=state,
            spend=state.closing_spend(end),
            start=start,
            end=end,
            rows=rows,
            summary=summary,
        )

    async def store_chunk(
        self,
        session: AsyncSession,
        *,
        clock: Clock,
        setup: Setup,
        chunk: Chunk,
        registered: dict[int, Pair],
        summary: Summary,
    ) -> None:
        """``run_chunk``'s database half for a chunk simulated elsewhere (``pipeline``)."""
        await delete_range(session, start=chunk.start, end=chunk.end)
        rows = await store(session, chunk.folded, registered)
        await self._close_chunk(
            session,
            clock=clock,
            setup=setup,
            state=chunk.state,
            spend=chunk.campaign_day_spend,
            start=chunk.start,
            end=chunk.end,
            rows=rows,
            summary=summary,
        )

    async def _close_chunk(
        self,
        session: AsyncSession,
        *,
        clock: Clock,
        setup: Setup,
        state: EngineState | bytes,
        spend: Mapping[tuple[int, str], int],
        start: datetime,
        end: datetime,
        rows: tuple[int, int],
        summary: Summary,
    ) -> None:
        """Checkpoint ``state`` (or the state already pickled) at ``end``, bill the days closed
        by ``end`` from ``spend`` (the state's campaign spend per local day) and count the
        chunk's stored (totals, breakdown) ``rows``."""
        summary.delivery_rows += rows[0]
        summary.dimension_rows += rows[1]
        await self.checkpoint(session, clock=clock, hour=end, state=state)
        summary.days_billed += await bill_closed_days(
            session, clock=clock, setup=setup, spend=spend, until=end
        )
        summary.start = summary.start or start
        summary.end = end

    async def checkpoint(
        self, session: AsyncSession, *, clock: Clock, hour: datetime, state: EngineState | bytes
    ) -> None:
        await session.execute(delete(EngineCheckpoint).where(EngineCheckpoint.hour == hour))
        session.add(
            EngineCheckpoint(
                hour=hour,
                seed=self.seed,
                population=self.population_size,
                state=state if isinstance(state, bytes) else pickle.dumps(state, protocol=5),
                created_at=clock.now(),
            )
        )
        # Keep one checkpoint per UTC midnight, the earliest and the newest: the live engine
        # writes one an hour, and a re-simulation from another hour starts at the one before.
        earliest = await session.scalar(select(func.min(EngineCheckpoint.hour)))
        older = (
            await session.scalars(
                select(EngineCheckpoint.hour).where(
                    EngineCheckpoint.hour < hour, EngineCheckpoint.hour >= hour - timedelta(days=2)
                )
            )
        ).all()
        stale = [h for h in older if h != earliest and h != datetime.combine(h.date(), time(0), UTC)]
        if stale:
            await session.execute(delete(EngineCheckpoint).where(EngineCheckpoint.hour.in_(stale)))
        await session.flush()


def granularity(end: datetime, now: datetime, setup: Setup) -> tuple[bool, bool]:
    """(delivery rows hourly, organic rows hourly) for a chunk ending at ``end``."""
    zones = [a.time_zone for a in setup.advertisers]
    return end > hour_horizon(now, zones), end > now - timedelta(days=ORGANIC_HOURLY_DAYS)


def advertiser_infos(setup: Setup) -> dict[int, AdvertiserInfo]:
    return {a.id: AdvertiserInfo(a.time_zone, a.currency) for a in setup.advertisers}


def chunks(start: datetime, end: datetime) -> list[tuple[datetime, datetime]]:
    """[start, end) cut at UTC midnights."""
    out: list[tuple[datetime, datetime]] = []
    a = floor_hour(start)
    while a < end:
        midnight = datetime.combine(a.date() + timedelta(days=1), time(0), UTC)
        b = min(midnight, end)
        out.append((a, b))
        a = b
    return out


def _day_bounds(day: date, tz: ZoneInfo) -> tuple[datetime, datetime]:
    start = datetime.combine(day, time(0), tz).astimezone(UTC)
    end = datetime.combine(day + timedelta(days=1), time(0), tz).astimezone(UTC)
    return start, end


async def bill_closed_days(
    session: AsyncSession,
    *,
    clock: Clock,
    setup: Setup,
    spend: Mapping[tuple[int, str], int],
    until: datetime,
) -> int:
    """Bill each advertiser-local day that ended by ``until`` and was not billed yet, from
    ``spend``: (campaign id, local ISO date) -> micro-currency, as ``EngineState`` keeps it."""
    zones = {a.id: ZoneInfo(a.time_zone) for a in setup.advertisers}
    billed = {
        (a, d)
        for a, d in (
            await session.execute(
                select(EngineBilledDay.advertiser_id, EngineBilledDay.local_date).where(
                    EngineBilledDay.local_date >= (until - timedelta(days=4)).date()
                )
            )
        ).all()
    }
    # The spend of a campaign's local day is in the engine's books (the same charges the fact
    # rows sum). Only days that can have closed in this chunk: chunks are at most a day and
    # a local day at most 25 hours, so they end in the three days before ``until``.
    advertiser_of = {c.id: c.advertiser_id for c in setup.campaigns}
    since = (until - timedelta(days=CLOSING_DAYS)).date().isoformat()
    per_day: dict[tuple[int, date], list[tuple[int, int]]] = {}
    for (campaign, iso), amount in sorted(spend.items()):
        adv = advertiser_of.get(campaign)
        if adv is not None and iso >= since and amount > 0:
            per_day.setdefault((adv, date.fromisoformat(iso)), []).append((campaign, amount))
    periods: list[billing.Period] = []
    closed: list[tuple[int, date, int]] = []
    for (adv, day), lines in per_day.items():
        tz = zones.get(adv)
        if tz is None or (adv, day) in billed:
            continue
        period_start, period_end = _day_bounds(day, tz)
        if period_end > until:
            continue
        periods.append(billing.Period(adv, period_start, period_end, lines))
        closed.append((adv, day, sum(amount for _, amount in lines if amount > 0)))
    await billing.record_spend_periods(session, clock=clock, periods=periods)
    session.add_all(
        EngineBilledDay(advertiser_id=adv, local_date=day, amount_micro=total, billed_at=clock.now())
        for adv, day, total in closed
    )
    await session.flush()
    return len(periods)


async def simulate(
    sessions: Callable[[], AsyncSession],
    *,
    clock: Clock,
    simulator: Simulator,
    start: datetime,
    end: datetime,
    progress: ProgressFn | None = None,
    processes: int = 1,
) -> Summary:
    """Simulate [start, end): one transaction per UTC day (see the module docstring).

    ``processes=2`` simulates in a child process while this one stores (``pipeline``): the
    same facts, about half the time for ranges of several days. The engine's lease is held
    throughout (``lease``): ``EngineBusy`` when another simulation has it."""
    end = floor_hour(end)
    holder = lease.holder_name("a simulate run")
    await lease.hold(sessions, holder)
    try:
        async with sessions() as session:
            begin, state = await simulator.restore(session, start)
            setup = await load_setup(session)
            await session.rollback()
        summary = Summary()
        parts = chunks(begin, end)
        if processes > 1 and len(parts) > 1:
            await _simulate_in_child(
                sessions,
                clock=clock,
                simulator=simulator,
                setup=setup,
                state=state,
                parts=parts,
                summary=summary,
                progress=progress,
                holder=holder,
            )
            return summary
        for a, b in parts:
            async with sessions() as session, session.begin():
                await lease.take(session, holder)
                await simulator.run_chunk(
                    session,
                    clock=clock,
                    setup=setup,
                    state=state,
                    start=a,
                    end=b,
                    summary=summary,
                    progress=progress,
                )
        return summary
    finally:
        await lease.release(sessions, holder)


async def _simulate_in_child(
    sessions: Callable[[], AsyncSession],
    *,
    clock: Clock,
    simulator: Simulator,
    setup: Setup,
    state: EngineState,
    parts: list[tuple[datetime, datetime]],
    summary: Summary,
    progress: ProgressFn | None,
    holder: str,
) -> None:
    now = clock.now()
    work = Work(
        seed=simulator.seed,
        population=simulator.population_size,
        setup=setup,
        state=state,
        chunks=[(a, b, *granularity(b, now, setup)) for a, b in parts],
        advertisers=advertiser_infos(setup),
    )
    async with sessions() as session, session.begin():  # a fresh start keeps its state too
        if await session.get(EngineCheckpoint, parts[0][0]) is None:
            await simulator.checkpoint(session, clock=clock, hour=parts[0][0], state=state)
    registered: dict[int, Pair] = {}
    async for message in run_in_child(work):
        for hour in message.hours:
            summary.add(hour.counts)
            if progress is not None:
                progress(hour.hour, hour.counts)
        async with sessions() as session, session.begin():
            await lease.take(session, holder)  # renewed chunk by chunk
            await simulator.store_chunk(
                session, clock=clock, setup=setup, chunk=message, registered=registered, summary=summary
            )
