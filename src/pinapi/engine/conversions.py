"""Conversions: pinners who clicked, engaged with or only saw an ad act later on the site.

Every delivered slot is one touch: CLICK if it led to an outbound click, ENGAGEMENT if the
pinner closed up, saved or clicked the pin, VIEW otherwise. A touch converts at most once,
into one event type, with a delay drawn per event (a page visit follows a click within
minutes, a checkout takes hours to weeks), capped at 60 days, the longest attribution window.

The engine does not decide attribution windows: each event carries its touch type and touch
time, so a report asked for click/engagement/view windows of 30/30/1 days (or any of
0/1/7/14/30/60) counts the events with ``time - touch_time`` inside the window of their
touch type (``attributed``). Events due after the simulated range wait in the engine state
and come out in the hour they happen, like real tag events would.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

I64 = npt.NDArray[np.int64]

EVENTS = ("PAGE_VISIT", "VIEW_CATEGORY", "SIGNUP", "LEAD", "ADD_TO_CART", "CHECKOUT")
TOUCHES = ("CLICK", "ENGAGEMENT", "VIEW")
WINDOW_DAYS = (0, 1, 7, 14, 30, 60)
DEFAULT_WINDOWS = {"CLICK": 30, "ENGAGEMENT": 30, "VIEW": 1}
MAX_DELAY_S = 60 * 86400

# Probability per touch of each event (rows: CLICK, ENGAGEMENT, VIEW). Click rows follow
# common e-commerce funnels (about half of clicks land as a tracked page visit, 1-3% buy).
_PROB = np.array(
    [
        [0.50, 0.10, 0.015, 0.010, 0.050, 0.020],
        [0.060, 0.012, 0.002, 0.0015, 0.006, 0.0025],
        [0.0015, 0.0003, 0.00005, 0.00004, 0.0003, 0.00012],
    ]
)
# Median delay in hours and log-spread per event; clicks arrive 20x sooner than the median.
_DELAY_MEDIAN_H = np.array([6.0, 8.0, 24.0, 24.0, 18.0, 40.0])
_DELAY_SIGMA = np.array([1.2, 1.2, 1.4, 1.4, 1.3, 1.4])
_VALUE_MEDIAN_USD = np.array([0.0, 0.0, 0.0, 0.0, 40.0, 45.0])


@dataclass(frozen=True, slots=True)
class ConversionBatch:
    """Conversion events, column-wise; ids are entity ids, money in advertiser micro-currency."""

    time: I64
    touch_time: I64
    event: I64
    touch: I64
    value_micro: I64
    quantity: I64
    pin_promotion_id: I64
    ad_group_id: I64
    campaign_id: I64
    advertiser_id: I64
    segment: I64

    def __len__(self) -> int:
        return int(self.time.size)

    def take(self, index: npt.NDArray[np.int64] | npt.NDArray[np.bool_]) -> ConversionBatch:
        return ConversionBatch(**{k: getattr(self, k)[index] for k in self.__dataclass_fields__})

    @staticmethod
    def concat(parts: list[ConversionBatch]) -> ConversionBatch:
        if not parts:
            return empty_batch()
        return ConversionBatch(
            **{
                k: np.concatenate([getattr(p, k) for p in parts])
                for k in ConversionBatch.__dataclass_fields__
            }
        )


def empty_batch() -> ConversionBatch:
    z = np.zeros(0, dtype=np.int64)
    return ConversionBatch(z, z, z, z, z, z, z, z, z, z, z)


def attributed(batch: ConversionBatch, windows: dict[str, int] | None = None) -> npt.NDArray[np.bool_]:
    """Which events fall inside the window of their touch type (days; 0 = same day)."""
    w = {**DEFAULT_WINDOWS, **(windows or {})}
    limit = np.array([max(w[t], 0) * 86400 for t in TOUCHES], dtype=np.int64)
    lag = batch.time - batch.touch_time
    same_day = (batch.time // 86400) == (batch.touch_time // 86400)
    days = limit[batch.touch]
    return np.where(days == 0, same_day, lag <= days)


def draw_conversions(
    rng: np.random.Generator,
    *,
    touch: I64,
    touch_time: I64,
    usd_rate: npt.NDArray[np.float64],
) -> tuple[I64, I64, I64, I64, I64]:
    """(slot index, event, time, value_micro, quantity) for the touches that convert."""
    n = touch.size
    if n == 0:
        z = np.zeros(0, dtype=np.int64)
        return z, z, z, z, z
    cum = np.cumsum(_PROB, axis=1)
    u = rng.random(n)
    idx = np.flatnonzero(u < cum[touch, -1])  # most touches (views) do not convert: skip them early
    rows = cum[touch[idx]]
    ev = np.zeros(idx.size, dtype=np.int64)
    for j in range(len(EVENTS) - 1):
        ev += u[idx] >= rows[:, j]
    m = idx.size
    speed = np.where(touch[idx] == 0, 1 / 20, 1.0)
    hours = _DELAY_MEDIAN_H[ev] * speed * np.exp(_DELAY_SIGMA[ev] * rng.standard_normal(m))
    delay = np.minimum(np.round(hours * 3600), MAX_DELAY_S).astype(np.int64) + 1
    usd = _VALUE_MEDIAN_USD[ev] * np.exp(0.8 * rng.standard_normal(m))
    value = np.round(usd / usd_rate[idx] * 1e6).astype(np.int64)
    qty = np.where(_VALUE_MEDIAN_USD[ev] > 0, 1 + rng.poisson(0.4, size=m), 1).astype(np.int64)
    return idx.astype(np.int64), ev, touch_time[idx] + delay, value, qty
