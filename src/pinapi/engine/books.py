"""Spend books for one run: per-entity arrays mirroring the spend part of ``EngineState``.

Budgets are per day in the advertiser's time zone, so each ad group and campaign tracks its
current local date; at local midnight the finished day is filed into the state, the bid
strategies take their daily step, and the new day's spend (possibly from an earlier run of
the same day) is loaded. ``close_books`` writes everything back, so a later run continues
exactly where this one stopped.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from pinapi.engine.pacing import adjust_multiplier, initial_multiplier
from pinapi.engine.plan import Plan
from pinapi.engine.state import EngineState

I64 = npt.NDArray[np.int64]
F64 = npt.NDArray[np.float64]
WINDOW_DAYS = 31
"""Any 30 x 24 h window lies inside 31 UTC days, so capping 31 days holds every rolling 30."""


@dataclass
class Books:
    """Per-run arrays mirroring the spend part of ``EngineState``."""

    g_date: list[str]
    g_today: I64
    g_today_billable: I64
    g_life: I64
    g_mult: F64
    g_rate: F64
    c_date: list[str]
    c_today: I64
    c_life: I64
    freq_window: dict[int, tuple[int, I64]] = field(default_factory=dict)
    """Capped ad group id -> (UTC day, impressions per segment over the window ending that day)."""
    last_tz_date: list[str] = field(default_factory=list)


def frequency_window(books: Books, state: EngineState, gid: int, day: int, segments: int) -> I64:
    """Impressions per segment for ``gid`` over the ``WINDOW_DAYS`` UTC days ending at ``day``."""
    cached = books.freq_window.get(gid)
    if cached is not None and cached[0] == day:
        return cached[1]
    total = np.zeros(segments, dtype=np.int64)
    for d, counts in state.frequency.get(gid, {}).items():
        if day - WINDOW_DAYS < d <= day:
            total += counts
    books.freq_window[gid] = (day, total)
    return total


def open_books(plan: Plan, state: EngineState) -> Books:
    C = plan.c_id.size
    ids = plan.ag_id.tolist()
    g_date = [state.multiplier_day.get(i, "") for i in ids]
    return Books(
        g_date=g_date,
        g_today=np.array(
            [state.ad_group_day_spend.get((i, d), 0) for i, d in zip(ids, g_date, strict=True)],
            dtype=np.int64,
        ),
        g_today_billable=np.array(
            [state.ad_group_day_billable.get((i, d), 0) for i, d in zip(ids, g_date, strict=True)],
            dtype=np.int64,
        ),
        g_life=np.array([state.ad_group_lifetime_spend.get(i, 0) for i in ids], dtype=np.int64),
        g_mult=np.array(
            [
                state.bid_multiplier.get(i, initial_multiplier(s))
                for i, s in zip(ids, plan.ag_strategy, strict=True)
            ],
            dtype=np.float64,
        ),
        g_rate=np.array([state.pacing_rate.get(i, 0.0) for i in ids], dtype=np.float64),
        c_date=[""] * C,
        c_today=np.zeros(C, dtype=np.int64),
        c_life=np.array(
            [state.campaign_lifetime_spend.get(i, 0) for i in plan.c_id.tolist()], dtype=np.int64
        ),
    )


def _target_per_event(plan: Plan, gi: int) -> int | None:
    """TARGET_AVG's goal per billable event (a CPM target is per 1,000 impressions)."""
    per = plan.ag_bid[gi] / (1000 if plan.ag_billable[gi] == 0 else 1)
    return int(per) or None


def roll_days(plan: Plan, state: EngineState, books: Books, tz_date: list[str]) -> None:
    """At each advertiser's local midnight: file the finished day, adjust bids, reset."""
    if tz_date == books.last_tz_date:
        return
    books.last_tz_date = list(tz_date)
    for gi, tz in enumerate(plan.ag_tz.tolist()):
        today = tz_date[tz]
        old = books.g_date[gi]
        if old == today:
            continue
        gid = int(plan.ag_id[gi])
        if old:
            state.ad_group_day_spend[(gid, old)] = int(books.g_today[gi])
            state.ad_group_day_billable[(gid, old)] = int(books.g_today_billable[gi])
            budget = int(plan.ag_budget[gi]) if plan.ag_budget[gi] >= 0 else None
            books.g_mult[gi] = adjust_multiplier(
                plan.ag_strategy[gi],
                float(books.g_mult[gi]),
                spent=int(books.g_today[gi]),
                budget=budget,
                billable=int(books.g_today_billable[gi]),
                target=_target_per_event(plan, gi),
            )
        books.g_date[gi] = today
        books.g_today[gi] = state.ad_group_day_spend.get((gid, today), 0)
        books.g_today_billable[gi] = state.ad_group_day_billable.get((gid, today), 0)
    for ci, tz in enumerate(plan.c_tz.tolist()):
        today = tz_date[tz]
        old = books.c_date[ci]
        if old == today:
            continue
        cid = int(plan.c_id[ci])
        if old:
            state.campaign_day_spend[(cid, old)] = int(books.c_today[ci])
        books.c_date[ci] = today
        books.c_today[ci] = state.campaign_day_spend.get((cid, today), 0)


def close_books(plan: Plan, state: EngineState, books: Books) -> None:
    for gi, gid in enumerate(plan.ag_id.tolist()):
        d = books.g_date[gi]
        if d:
            state.ad_group_day_spend[(gid, d)] = int(books.g_today[gi])
            state.ad_group_day_billable[(gid, d)] = int(books.g_today_billable[gi])
            state.multiplier_day[gid] = d
        state.ad_group_lifetime_spend[gid] = int(books.g_life[gi])
        state.bid_multiplier[gid] = float(books.g_mult[gi])
        state.pacing_rate[gid] = float(books.g_rate[gi])
    for ci, cid in enumerate(plan.c_id.tolist()):
        if books.c_date[ci]:
            state.campaign_day_spend[(cid, books.c_date[ci])] = int(books.c_today[ci])
        state.campaign_lifetime_spend[cid] = int(books.c_life[ci])
