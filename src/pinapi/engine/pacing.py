"""Pacing and bid strategies: how much an ad group may spend this hour, and what it bids.

STANDARD spreads what is left of today's budget (the advertiser's day) over the rest of the
day in proportion to the expected traffic, with a little slack so a quiet hour does not
strand money; a LIFETIME budget is first cut into an even daily share of the days left.
ACCELERATED may spend everything that is left. Either way the allowance is a HARD clamp:
after the auction the engine keeps only the slots whose cumulative charge fits in it, so
spend never exceeds the ad group's budget, the campaign's caps or the hour's allowance.

A throttle (participation probability) keeps STANDARD ad groups from winning their whole
hourly allowance in the first minutes: it compares the allowance with the spend the ad group
would reach at full participation, estimated from past hours (an exponential average of
spend per offered slot).

Bid strategies (daily, at the advertiser's local midnight):
* MAX_BID: the bid as given.
* AUTOMATIC_BID: start at twice the floor-equivalent bid; if yesterday spent under 80% of
  the daily budget raise the multiplier 15%, if it spent it all lower it 5% (0.2x..5x).
* TARGET_AVG: the bid is the target average cost times a multiplier (start 1.3x), moved by
  target/achieved average cost each day (x0.8..x1.25 per day, 0.5x..3x overall), so the
  second-price average cost converges on the target.
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

UNLIMITED = 1 << 62
STANDARD_SLACK = 1.25
EWMA_ALPHA = 0.3
MIN_THROTTLE = 0.02


def hour_target(
    *,
    remaining_today: npt.NDArray[np.int64],
    remaining_share: npt.NDArray[np.float64],
) -> npt.NDArray[np.float64]:
    """The spend STANDARD pacing aims at this hour (share of the rest of the day's traffic)."""
    return remaining_today.astype(np.float64) * remaining_share


def hour_allowance(
    *,
    hard_remaining: npt.NDArray[np.int64],
    target: npt.NDArray[np.float64],
    accelerated: npt.NDArray[np.bool_],
) -> npt.NDArray[np.int64]:
    """The most the ad group may be charged this hour (never above ``hard_remaining``)."""
    paced = np.ceil(np.minimum(target * STANDARD_SLACK, float(UNLIMITED))).astype(np.int64)
    return np.where(accelerated, hard_remaining, np.minimum(paced, hard_remaining))


def throttle(
    *,
    target: npt.NDArray[np.float64],
    rate_per_slot: npt.NDArray[np.float64],
    slots: int,
    accelerated: npt.NDArray[np.bool_],
) -> npt.NDArray[np.float64]:
    """Participation probability; 1 when accelerated, unbudgeted or not yet estimated."""
    full = rate_per_slot * slots
    with np.errstate(divide="ignore", invalid="ignore"):
        p = np.where(full > 0, target / full, 1.0)
    p = np.clip(np.nan_to_num(p, nan=1.0, posinf=1.0), MIN_THROTTLE, 1.0)
    return np.where(accelerated | (rate_per_slot <= 0), 1.0, p)


def update_rates(
    old: npt.NDArray[np.float64], spend_full: npt.NDArray[np.float64], slots: int
) -> npt.NDArray[np.float64]:
    """EWMA of unthrottled spend per offered slot (the first observation is taken as is)."""
    if slots <= 0:
        return old
    obs = spend_full / slots
    out: npt.NDArray[np.float64] = np.where(old <= 0, obs, (1 - EWMA_ALPHA) * old + EWMA_ALPHA * obs)
    return out


def adjust_multiplier(
    strategy: str, multiplier: float, *, spent: int, budget: int | None, billable: int, target: int | None
) -> float:
    """One day's bid-multiplier update for AUTOMATIC_BID and TARGET_AVG (see module doc)."""
    if strategy == "AUTOMATIC_BID":
        if budget is None or budget <= 0:
            return multiplier
        if spent < 0.8 * budget:
            multiplier *= 1.15
        elif spent >= 0.98 * budget:
            multiplier *= 0.95
        return min(max(multiplier, 0.2), 5.0)
    if strategy == "TARGET_AVG":
        if billable <= 0 or not target:
            return min(multiplier * 1.1, 3.0)
        avg = spent / billable
        step = min(max(target / avg, 0.8), 1.25) if avg > 0 else 1.25
        return min(max(multiplier * step, 0.5), 3.0)
    return multiplier


def initial_multiplier(strategy: str) -> float:
    return 1.3 if strategy == "TARGET_AVG" else 1.0


def ceil_div(a: int, b: int) -> int:
    return -(-a // b) if b else 0


def days_left(seconds_to_end: float) -> int:
    return max(1, math.ceil(seconds_to_end / 86400))
