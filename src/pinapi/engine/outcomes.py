"""What a pinner does with an ad impression: per-slot draws from calibrated rates.

Rates per impression depend on the creative type, the pin's seeded quality, how well the
pin's interests fit the segment, and the slot's position in the feed. Base rates sit inside
the published industry ranges listed in ``docs/engine.md`` (outbound CTR 0.2-0.5%, save rate
0.3-0.8%, closeup rate 2-5%). Video views are derived from one drawn watch time per start,
so 2 s <= MRC <= start and the quartiles nest by construction.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from pinapi.engine.entities import VIDEO_CREATIVES
from pinapi.engine.slot_kernels import fill_outcomes

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]


@dataclass(frozen=True, slots=True)
class Rates:
    closeup: float
    save: float
    click: float
    """Pin clicks (CLICKTHROUGH); outbound clicks are a share of them."""
    outbound_share: float = 0.75


CREATIVE_RATES: dict[str, Rates] = {
    "REGULAR": Rates(0.030, 0.0050, 0.0045),
    "SHOPPING": Rates(0.025, 0.0035, 0.0060),
    "SHOP_THE_PIN": Rates(0.028, 0.0040, 0.0055),
    "COMMERCE": Rates(0.025, 0.0035, 0.0060),
    "CAROUSEL": Rates(0.040, 0.0055, 0.0050),
    "COLLECTION": Rates(0.035, 0.0045, 0.0055),
    "BOARD": Rates(0.030, 0.0060, 0.0030),
    "APP": Rates(0.020, 0.0020, 0.0050, 0.9),
    "VIDEO": Rates(0.022, 0.0040, 0.0030),
    "MAX_VIDEO": Rates(0.020, 0.0035, 0.0028),
    "NATIVE_VIDEO": Rates(0.022, 0.0040, 0.0030),
    "APP_VIDEO": Rates(0.018, 0.0020, 0.0040, 0.9),
    "CINEMATIC": Rates(0.025, 0.0040, 0.0035),
    "SEARCH_PROMINENCE": Rates(0.030, 0.0045, 0.0060),
    "SEARCH_PROMINENCE_CAROUSEL": Rates(0.035, 0.0050, 0.0060),
    "THIRD_PARTY": Rates(0.020, 0.0030, 0.0040),
}
DEFAULT_RATES = CREATIVE_RATES["REGULAR"]
PLACEMENT_FACTOR = np.array([1.0, 1.35, 0.85])
"""BROWSE, SEARCH, OTHER: search intent lifts actions, related pins are browsed more lightly."""
VIDEO_START_RATE = 0.92
VIDEO_IN_VIEW_RATE = 0.85
"""Share of video plays with at least half the player on screen (the MRC condition)."""
EARNED_IMPRESSIONS_PER_SAVE = 4.0
"""A saved promoted pin reappears organically on the saver's boards and followers' feeds."""


def rates_of(creative: str) -> Rates:
    return CREATIVE_RATES.get(creative, DEFAULT_RATES)


def predicted_rate(billable_event: str, creative: str, quality: float) -> float:
    """The action rate the auction multiplies a CPC/CPV bid by (expected, before fit)."""
    if billable_event == "CLICKTHROUGH":
        return rates_of(creative).click * quality
    if billable_event == "VIDEO_V_50_MRC":
        return VIDEO_START_RATE * VIDEO_IN_VIEW_RATE * 0.6 * quality if creative in VIDEO_CREATIVES else 0.0
    return 1.0


def quality_from_unit(u: F64) -> F64:
    """Map uniform draws to a lognormal-ish quality with median 1 (0.4 .. 2.5)."""
    return np.asarray(
        np.exp(0.45 * np.sqrt(2) * _erfinv(2 * np.clip(u, 1e-9, 1 - 1e-9) - 1)), dtype=np.float64
    )


def _erfinv(y: F64) -> F64:
    """Winitzki's approximation; good to ~1e-3, enough for a quality score."""
    a = 0.147
    ln = np.log(1 - y * y)
    t = 2 / (np.pi * a) + ln / 2
    return np.asarray(np.sign(y) * np.sqrt(np.sqrt(t * t - ln / a) - t), dtype=np.float64)


@dataclass(frozen=True, slots=True)
class PromotionRates:
    """Per promotion: base action rates, and the video facts the watch times come from."""

    closeup: F64
    save: F64
    click: F64
    outbound_share: F64
    is_video: npt.NDArray[np.bool_]
    video_seconds: F64


def draw_outcomes(rng: np.random.Generator, promo: I64, rates: PromotionRates, lift: F64, out: I64) -> None:
    """Bernoulli draws per slot (``promo``: the slot's promotion) into the first rows of
    ``out`` (metrics x slots), one per ``facts.OUTCOME_METRICS`` name in that order; ``lift``
    combines quality, fit, position and placement.

    Per slot: a closeup, a save and a pin click each with its rate x lift (clipped), an
    outbound click as a share of pin clicks; for video promotions a start (92%), in view for
    MRC (85% of starts), and one watched fraction per start, Beta(0.5, 1.1) scaled by the
    lift (many short glances, a tail of full views), from which the 2 s / 10 s / MRC views,
    the quartiles and the watch times follow, so they nest by construction. The uniforms come
    from numpy in one block per kind; the per-slot arithmetic is one compiled pass."""
    n = promo.size
    u = rng.random((4, n))
    videos = np.flatnonzero(rates.is_video[promo])
    v = rng.random((2, videos.size))
    beta = rng.beta(0.5, 1.1, size=int(np.count_nonzero(v[0] < VIDEO_START_RATE)))
    fill_outcomes(
        out,
        promo,
        lift,
        u,
        v,
        beta,
        rates.closeup,
        rates.save,
        rates.click,
        rates.outbound_share,
        rates.is_video,
        rates.video_seconds,
        VIDEO_START_RATE,
        VIDEO_IN_VIEW_RATE,
    )
