"""Benchmark of the engine core (no database): 30 days x 1,000 ad groups x 5,000 promotions.

Usage: ``python bench/engine_core.py [--quick]``. Prints the time of the headline run and a
table showing how the cost grows with simulated days and with the number of ad groups.
The issue's target is under 60 s for the headline run including the database part; the
core aims well below that (see ``docs/engine.md`` for measured figures).
"""

from __future__ import annotations

import argparse
import time
from datetime import UTC, datetime, timedelta

import numpy as np

from pinapi.engine.dimensions import default_dimensions
from pinapi.engine.entities import AdGroup, Advertiser, Campaign, Pin, PinPromotion, Setup
from pinapi.engine.population import Population, build_population
from pinapi.engine.simulate import Engine, EngineConfig
from pinapi.engine.state import EngineState

START = datetime(2026, 10, 1, tzinfo=UTC)
CURRENCY_TZ = (
    ("USD", "America/New_York"),
    ("USD", "America/Los_Angeles"),
    ("GBP", "Europe/London"),
    ("EUR", "Europe/Berlin"),
    ("BRL", "America/Sao_Paulo"),
)


def make_setup(n_groups: int, promos_per_group: int, seed: int = 7) -> Setup:
    """A mixed advertiser book: CPM/CPC/CPV, standard/accelerated, varied targeting."""
    rng = np.random.default_rng(seed)
    dims = default_dimensions()
    countries = [c.code for c in dims.countries]
    interests = [i.id for i in dims.interests]
    n_adv = max(1, n_groups // 20)
    advertisers = [Advertiser(1 + a, CURRENCY_TZ[a % 5][1], CURRENCY_TZ[a % 5][0]) for a in range(n_adv)]
    campaigns = [
        Campaign(10_000 + c, 1 + c % n_adv, daily_spend_cap=int(rng.integers(200, 2000)) * 1_000_000)
        for c in range(max(1, n_groups // 4))
    ]
    groups, promos, pins = [], [], []
    for g in range(n_groups):
        event = ("IMPRESSION", "CLICKTHROUGH", "VIDEO_V_50_MRC")[g % 3]
        where = rng.choice(countries, size=int(rng.integers(1, 4)), replace=False)
        spec: dict[str, list[str]] = {"LOCATION": [str(c) for c in where]}
        if g % 2:
            spec["INTEREST"] = [
                str(i) for i in rng.choice(interests, size=int(rng.integers(1, 4)), replace=False)
            ]
        if g % 5 == 0:
            spec["GENDER"] = ["female"]
        if g % 7 == 0:
            spec["AGE_BUCKET"] = ["25-34", "35-44"]
        bid = {"IMPRESSION": 6_000_000, "CLICKTHROUGH": 1_200_000, "VIDEO_V_50_MRC": 40_000}[event]
        groups.append(
            AdGroup(
                id=100_000 + g,
                campaign_id=10_000 + g % len(campaigns),
                budget_in_micro_currency=int(rng.integers(20, 300)) * 1_000_000,
                bid_in_micro_currency=int(bid * rng.uniform(0.5, 2.0)),
                billable_event=event,
                bid_strategy_type="AUTOMATIC_BID" if g % 11 == 0 else "MAX_BID",
                pacing_delivery_type="ACCELERATED" if g % 9 == 0 else "STANDARD",
                targeting_spec=spec,
                lifetime_frequency_cap=3 if event == "IMPRESSION" and g % 4 == 0 else None,
            )
        )
        for j in range(promos_per_group):
            pid = 1_000_000 + g * promos_per_group + j
            video = event == "VIDEO_V_50_MRC"
            creative = "VIDEO" if video else "REGULAR"
            promos.append(PinPromotion(pid, 100_000 + g, pid + 5_000_000, creative_type=creative))
            pins.append(Pin(pid + 5_000_000, interests=tuple(spec.get("INTEREST", ())), video=video))
    organic = [Pin(9_000_000 + i) for i in range(500)]
    return Setup(advertisers, campaigns, groups, promos, pins, organic)


def simulate(pop: Population, setup: Setup, days: int) -> tuple[float, float, int, int]:
    """(wall seconds, CPU seconds, fact rows, impressions); CPU time is the fairer figure on
    a shared machine."""
    engine = Engine(pop, EngineConfig(seed=1))
    state = EngineState()
    t, c = time.perf_counter(), time.process_time()
    rows = impressions = 0
    for result in engine.run(setup, state, START, START + timedelta(days=days)):
        rows += len(result.delivery)
        impressions += int(result.delivery.metrics["IMPRESSION_1"].sum())
    return time.perf_counter() - t, time.process_time() - c, rows, impressions


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="smaller grid for a smoke run")
    parser.add_argument("--pinners", type=int, default=1_000_000)
    args = parser.parse_args()
    t = time.perf_counter()
    pop = build_population(default_dimensions(), args.pinners, seed=1)
    took = time.perf_counter() - t
    print(f"population: {args.pinners:,} pinners -> {pop.segments:,} segments in {took:.1f} s")
    headline_days = 3 if args.quick else 30
    wall, cpu, rows, imps = simulate(pop, make_setup(1000, 5), headline_days)
    print(f"headline: {headline_days} days x 1,000 ad groups x 5,000 promotions: {wall:.1f} s wall, "
          f"{cpu:.1f} s CPU ({rows:,} fact rows, {imps:,} impressions)")  # fmt: skip
    print()
    print("| days | ad groups | promotions | fact rows | wall s | CPU s | CPU s per simulated day |")
    print("| ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    grid = [(1, 1000), (2, 1000), (4, 1000), (2, 250), (2, 500), (2, 2000)]
    if not args.quick:
        grid = [(2, 1000), (4, 1000), (8, 1000), (4, 250), (4, 500), (4, 2000), (4, 4000)]
    for days, groups in grid:
        w, c, rows, _ = simulate(pop, make_setup(groups, 5), days)
        print(f"| {days} | {groups:,} | {groups * 5:,} | {rows:,} | {w:.1f} | {c:.1f} | {c / days:.2f} |")


if __name__ == "__main__":
    main()
