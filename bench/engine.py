"""End-to-end benchmark of the delivery engine: what ``pinapi simulate`` does, timed.

One run = a fresh database (SQLite in a temporary data directory, the default install, or
``--database-url``), migrated; the advertiser book of ``engine_core.make_setup`` written into
the ads tables (advertisers, campaigns, ad groups, pins, approved pin promotions); then
``engine.runner.simulate`` over the 30 days that end at the clock: population, engine, fact
rows, checkpoints and billing, one transaction per UTC day, with the engine in a child
process as ``pinapi simulate`` runs it (``--processes 1`` keeps everything in one process).

Usage::

    python bench/engine.py                  # headline (30 days x 1,000 ad groups) + scaling grid
    python bench/engine.py --quick          # a small smoke run
    python bench/engine.py --plot           # also draw docs/engine_scaling.png (matplotlib)
    python bench/engine.py --database-url postgresql+asyncpg://postgres@127.0.0.1:5432/bench
    python bench/engine.py --against /tmp/base --repeat 2   # interleaved A/B against another tree

``--against DIR`` compares this tree with another checkout (say ``git worktree add /tmp/base
HEAD~1``): it alternates single headline runs of the two, each in a fresh interpreter whose
``PYTHONPATH`` picks that tree's ``src``, and prints every run and the medians. Interleaving
is what makes a comparison on a machine whose speed drifts by 10% within minutes.

The machine is shared, so every figure has its CPU seconds (this process's and the engine
child's time, which includes SQLite's work but not a PostgreSQL server's) beside the wall
time, and the load average when it was measured.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
from sqlalchemy import insert, text

sys.path.insert(0, str(Path(__file__).resolve().parent))

from engine_core import make_setup  # bench/ is not a package

from pinapi.domain.clock import FixedClock
from pinapi.engine.entities import Setup
from pinapi.engine.runner import Simulator, simulate
from pinapi.runtime import Runtime
from pinapi.settings import Settings
from pinapi.store import migrate as migrations
from pinapi.store.tables import AdGroup, Advertiser, Board, Campaign, Pin, PinPromotion, User

END = datetime(2026, 11, 1, tzinfo=UTC)
"""The clock of every run: each run simulates the days that end here."""
HERE = Path(__file__).resolve().parent
PLOT = HERE.parent / "docs" / "engine_scaling.png"
OWNER = 1


@dataclass
class Run:
    days: int
    groups: int
    promotions: int
    setup_s: float
    wall_s: float
    cpu_s: float
    delivery_rows: int
    dimension_rows: int
    conversions: int
    impressions: int


def _objective(event: str) -> str:
    return {"IMPRESSION": "AWARENESS", "CLICKTHROUGH": "TRAFFIC", "VIDEO_V_50_MRC": "VIDEO_VIEW"}[event]


async def write_setup(runtime: Runtime, setup: Setup, now: datetime) -> None:
    """The engine's inputs as ads rows, the way the ads API leaves them once reviewed."""
    created = now - timedelta(days=60)
    stamps = {"created_at": created, "updated_at": created}
    groups = {g.id: g for g in setup.ad_groups}
    campaign_of = {c.id: c for c in setup.campaigns}
    event_of_campaign = {g.campaign_id: g.billable_event for g in setup.ad_groups}
    async with runtime.sessions() as s, s.begin():
        await s.execute(
            insert(User),
            [
                {
                    "id": OWNER,
                    "username": "engine_bench",
                    "created_at": created,
                    "password_changed_at": created,
                }
            ],
        )
        await s.execute(
            insert(Board),
            [
                {
                    "id": OWNER,
                    "owner_id": OWNER,
                    "name": "Bench",
                    "slug": "bench",
                    "created_at": created,
                    "board_order_modified_at": created,
                }
            ],
        )
        await s.execute(
            insert(Pin),
            [
                {"id": p.id, "owner_id": OWNER, "board_id": OWNER, "is_video": p.video, "created_at": created}
                for p in [*setup.pins, *setup.organic_pins]
            ],
        )
        await s.execute(
            insert(Advertiser),
            [
                {
                    "id": a.id,
                    "name": f"Advertiser {a.id}",
                    "owner_user_id": OWNER,
                    "country": "US",
                    "currency": a.currency,
                    "timezone": a.time_zone,
                    "status": "ACTIVE",
                    **stamps,
                }
                for a in setup.advertisers
            ],
        )
        await s.execute(
            insert(Campaign),
            [
                {
                    "id": c.id,
                    "advertiser_id": c.advertiser_id,
                    "name": f"Campaign {c.id}",
                    "objective_type": _objective(event_of_campaign.get(c.id, "IMPRESSION")),
                    "status": "ACTIVE",
                    "daily_spend_cap": c.daily_spend_cap,
                    "status_updated_at": created,
                    **stamps,
                }
                for c in setup.campaigns
            ],
        )
        await s.execute(
            insert(AdGroup),
            [
                {
                    "id": g.id,
                    "advertiser_id": campaign_of[g.campaign_id].advertiser_id,
                    "campaign_id": g.campaign_id,
                    "name": f"Ad group {g.id}",
                    "status": "ACTIVE",
                    "budget_type": g.budget_type,
                    "budget_in_micro_currency": g.budget_in_micro_currency,
                    "bid_in_micro_currency": g.bid_in_micro_currency,
                    "bid_strategy_type": g.bid_strategy_type,
                    "billable_event": g.billable_event,
                    "pacing_delivery_type": g.pacing_delivery_type,
                    "placement_group": g.placement_group,
                    "lifetime_frequency_cap": g.lifetime_frequency_cap,
                    "targeting_spec": {k: list(v) for k, v in g.targeting_spec.items()},
                    "status_updated_at": created,
                    **stamps,
                }
                for g in setup.ad_groups
            ],
        )
        await s.execute(
            insert(PinPromotion),
            [
                {
                    "id": p.id,
                    "advertiser_id": campaign_of[groups[p.ad_group_id].campaign_id].advertiser_id,
                    "campaign_id": groups[p.ad_group_id].campaign_id,
                    "ad_group_id": p.ad_group_id,
                    "pin_id": p.pin_id,
                    "status": "ACTIVE",
                    "review_status": "APPROVED",
                    "creative_type": p.creative_type,
                    "destination_url": "https://shop.example.com/p",
                    "reviewed_at": created,
                    **stamps,
                }
                for p in setup.pin_promotions
            ],
        )


def _cpu() -> float:
    """CPU seconds of this process and its finished children (the engine's child process)."""
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


async def one_run(database_url: str | None, days: int, groups: int, pinners: int, processes: int = 2) -> Run:
    """A fresh database, the set-up, ``days`` simulated; times exclude only migrating."""
    tmp = Path(tempfile.mkdtemp(prefix="pinapi-engine-bench-"))
    try:
        settings = Settings(data_dir=tmp, database_url=database_url or "")
        url = settings.resolved_database_url()
        if database_url:
            await _reset(url)
        await migrations.upgrade_async(url)
        clock = FixedClock(END)
        runtime = Runtime.build(settings, clock=clock)
        try:
            wall, cpu = time.perf_counter(), _cpu()
            setup = make_setup(groups, 5)
            await write_setup(runtime, setup, END)
            setup_s = time.perf_counter() - wall
            summary = await simulate(
                runtime.sessions,
                clock=clock,
                simulator=Simulator(seed=1, population=pinners, cache={}),
                start=END - timedelta(days=days),
                end=END,
                processes=processes,
            )
            return Run(
                days=days,
                groups=groups,
                promotions=len(setup.pin_promotions),
                setup_s=setup_s,
                wall_s=time.perf_counter() - wall,
                cpu_s=_cpu() - cpu,
                delivery_rows=summary.delivery_rows,
                dimension_rows=summary.dimension_rows,
                conversions=summary.conversions,
                impressions=sum(summary.impressions.values()),
            )
        finally:
            await runtime.close()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


async def _reset(url: str) -> None:
    """Empty a PostgreSQL bench database (its public schema) before a run."""
    from sqlalchemy.ext.asyncio import create_async_engine

    engine = create_async_engine(url)
    try:
        async with engine.begin() as conn:
            await conn.execute(text("DROP SCHEMA public CASCADE"))
            await conn.execute(text("CREATE SCHEMA public"))
    finally:
        await engine.dispose()


def _row(r: Run) -> str:
    rows = r.delivery_rows + r.dimension_rows
    return (
        f"| {r.days} | {r.groups:,} | {r.promotions:,} | {r.impressions:,} | {rows:,} | {r.conversions:,} "
        f"| {r.wall_s:.1f} | {r.cpu_s:.1f} | {r.cpu_s / r.days:.2f} |"
    )


def plot(day_runs: list[Run], group_runs: list[Run], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 4))
    for ax, runs, key, label in (
        (left, day_runs, "days", "simulated days (1,000 ad groups)"),
        (right, group_runs, "groups", "ad groups (5 promotions each)"),
    ):
        xs = [getattr(r, key) for r in runs]
        ax.plot(xs, [r.cpu_s for r in runs], "o-", label="CPU s")
        ax.plot(xs, [r.wall_s for r in runs], "s--", label="wall s")
        ax.set_xlabel(label)
        ax.set_ylabel("seconds, end to end")
        ax.set_xlim(left=0)
        ax.set_ylim(bottom=0)
        ax.grid(alpha=0.3)
        ax.legend()
    fixed = group_runs[0].days if group_runs else 0
    left.set_title("cost vs days")
    right.set_title(f"cost vs ad groups ({fixed} days)")
    fig.suptitle("pinapi simulate: 1,000,000 pinners, set-up + engine + fact rows")
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def yardstick() -> str:
    """CPU seconds of two fixed workloads, printed beside the figures: this VM's speed has
    moved by 2x between sessions (the same commit took 60 s one day and 125 s the next), and
    these tell a slow machine from a slower build. ``loop``: 10 M interpreted additions;
    ``sort``: numpy sorting 5 M random floats five times."""
    t = time.process_time()
    total = 0
    for i in range(10_000_000):
        total += i
    loop = time.process_time() - t
    values = np.random.default_rng(0).random(5_000_000)
    t = time.process_time()
    for _ in range(5):
        np.sort(values)
    return f"yardstick: loop {loop:.2f} s, sort {time.process_time() - t:.2f} s CPU"


def compare(other: Path, repeat: int, days: int, groups: int, pinners: int) -> None:
    """Interleaved single runs of ``other``'s tree and this one (see the module docstring)."""
    trees = {"other": other.resolve() / "src", "this": HERE.parent / "src"}
    for tree in trees.values():
        if not (tree / "pinapi").is_dir():
            raise SystemExit(f"no pinapi package under {tree}")
    times: dict[str, list[Run]] = {name: [] for name in trees}
    for i in range(repeat):
        for name, tree in trees.items():
            env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tree), str(HERE)])}
            done = subprocess.run(
                [sys.executable, __file__, "--single", f"{days},{groups},{pinners}"],
                env=env,
                check=True,
                capture_output=True,
                text=True,
            )
            run = Run(**json.loads(done.stdout.strip().splitlines()[-1]))
            times[name].append(run)
            print(f"run {i + 1} {name:5}: {run.wall_s:.1f} s wall, {run.cpu_s:.1f} s CPU", flush=True)
    for name, runs in times.items():
        wall = statistics.median(r.wall_s for r in runs)
        cpu = statistics.median(r.cpu_s for r in runs)
        print(f"median {name:5}: {wall:.1f} s wall, {cpu:.1f} s CPU ({trees[name]})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, for a smoke run")
    parser.add_argument("--pinners", type=int, default=1_000_000)
    parser.add_argument("--processes", type=int, default=2, help="1: the engine in this process")
    parser.add_argument("--database-url", default=None, help="an EMPTY database (its schema is dropped)")
    parser.add_argument("--no-headline", action="store_true", help="only the scaling grid")
    parser.add_argument("--plot", action="store_true", help=f"draw {PLOT.relative_to(HERE.parent)}")
    parser.add_argument("--against", type=Path, help="another checkout: interleaved headline runs of both")
    parser.add_argument("--repeat", type=int, default=2, help="runs of each tree with --against")
    parser.add_argument("--single", help=argparse.SUPPRESS)  # DAYS,GROUPS,PINNERS: one run as JSON
    args = parser.parse_args()
    if args.single:
        days, groups, pinners = (int(x) for x in args.single.split(","))
        single = asyncio.run(one_run(args.database_url, days, groups, pinners, args.processes))
        print(json.dumps(dataclasses.asdict(single)))
        return
    if args.against:
        days, groups = (3, 200) if args.quick else (30, 1000)
        print(yardstick())
        compare(args.against, args.repeat, days, groups, args.pinners)
        print(yardstick())
        return

    def run(days: int, groups: int) -> Run:
        return asyncio.run(one_run(args.database_url, days, groups, args.pinners, args.processes))

    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}; {os.cpu_count()} CPUs")
    print(f"database: {args.database_url or 'SQLite in a temporary data directory'}")
    print(yardstick())
    header = (
        "| days | ad groups | promotions | impressions | fact rows (totals + breakdowns) | conversions "
        "| wall s | CPU s | CPU s per day |\n| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
    )
    if not args.no_headline:
        days, groups = (3, 200) if args.quick else (30, 1000)
        r = run(days, groups)
        print(
            f"headline: {days} days x {groups:,} ad groups x {r.promotions:,} promotions: "
            f"{r.wall_s:.1f} s wall, {r.cpu_s:.1f} s CPU (set-up {r.setup_s:.1f} s); "
            f"{r.delivery_rows:,} total rows, {r.dimension_rows:,} breakdown rows, "
            f"{r.conversions:,} conversions, {r.impressions:,} impressions; "
            f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}"
        )
        print()
    day_grid = [1, 2, 3] if args.quick else [1, 2, 4, 8]
    group_grid = [50, 100, 200] if args.quick else [250, 500, 1000, 2000]
    print(header)
    day_runs = [run(d, 200 if args.quick else 1000) for d in day_grid]
    for r in day_runs:
        print(_row(r))
    fixed = 2
    group_runs = [run(fixed, g) for g in group_grid]
    for r in group_runs:
        print(_row(r))
    print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}; {yardstick()}")
    if args.plot:
        plot(day_runs, group_runs, PLOT)
        print(f"plot: {PLOT}")


if __name__ == "__main__":
    main()
