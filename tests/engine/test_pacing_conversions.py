from __future__ import annotations

import numpy as np

from pinapi.engine.conversions import TOUCHES, ConversionBatch, attributed, draw_conversions
from pinapi.engine.pacing import UNLIMITED, adjust_multiplier, hour_allowance, throttle


def test_allowance_never_exceeds_what_is_left() -> None:
    hard = np.array([100, 100, 0, UNLIMITED], dtype=np.int64)
    target = np.array([500.0, 10.0, 50.0, np.inf])
    acc = np.array([False, False, False, False])
    assert hour_allowance(hard_remaining=hard, target=target, accelerated=acc).tolist() == [
        100,
        13,
        0,
        UNLIMITED,
    ]
    assert hour_allowance(hard_remaining=hard, target=target, accelerated=~acc).tolist() == [
        100,
        100,
        0,
        UNLIMITED,
    ]


def test_throttle_slows_standard_only() -> None:
    p = throttle(
        target=np.array([10.0, 10.0, 10.0]),
        rate_per_slot=np.array([1.0, 0.0, 1.0]),
        slots=100,
        accelerated=np.array([False, False, True]),
    )
    assert p.tolist() == [0.1, 1.0, 1.0]


def test_bid_strategies_move_toward_their_goal() -> None:
    assert adjust_multiplier("AUTOMATIC_BID", 1.0, spent=10, budget=100, billable=5, target=None) > 1.0
    assert adjust_multiplier("AUTOMATIC_BID", 1.0, spent=100, budget=100, billable=5, target=None) < 1.0
    assert adjust_multiplier("TARGET_AVG", 1.0, spent=1000, billable=10, budget=None, target=50) < 1.0
    assert adjust_multiplier("TARGET_AVG", 1.0, spent=1000, billable=10, budget=None, target=200) > 1.0
    assert adjust_multiplier("MAX_BID", 1.0, spent=1, billable=1, budget=1, target=1) == 1.0


def batch(time: list[int], touch_time: list[int], touch: list[int]) -> ConversionBatch:
    n = len(time)
    z = np.zeros(n, dtype=np.int64)
    return ConversionBatch(
        np.array(time, dtype=np.int64), np.array(touch_time, dtype=np.int64), z,
        np.array(touch, dtype=np.int64), z, z, z, z, z, z, z,
    )  # fmt: skip


def test_attribution_windows_per_touch_type() -> None:
    day = 86400
    b = batch([2 * day, 3 * day, day + 10, 10 * day], [0, 0, day, 0], [2, 0, 2, 1])
    assert attributed(b).tolist() == [False, True, True, True]
    assert attributed(b, {"VIEW": 7, "ENGAGEMENT": 7}).tolist() == [True, True, True, False]
    assert attributed(b, {"VIEW": 0}).tolist() == [False, True, True, True]
    assert TOUCHES == ("CLICK", "ENGAGEMENT", "VIEW")


def test_clicks_convert_more_and_sooner_than_views() -> None:
    rng = np.random.default_rng(1)
    n = 200_000
    touch = np.repeat(np.array([0, 2], dtype=np.int64), n)
    t0 = np.zeros(2 * n, dtype=np.int64)
    idx, _event, t, value, qty = draw_conversions(rng, touch=touch, touch_time=t0, usd_rate=np.ones(2 * n))
    clicks, views = idx < n, idx >= n
    assert clicks.sum() > 50 * views.sum() > 0
    assert np.median(t[clicks]) < np.median(t[views])
    assert (t > 0).all() and (t <= 60 * 86400 + 1).all()
    assert (qty >= 1).all() and (value >= 0).all()
