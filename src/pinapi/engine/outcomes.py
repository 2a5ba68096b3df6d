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
class SlotOutcomes:
    """Per delivered slot, the paid (``_1``) actions."""

    closeup: I64
    save: I64
    clickthrough: I64
    outbound_click: I64
    video_start: I64
    video_2s_view: I64
    video_10s_view: I64
    video_mrc_view: I64
    video_p25: I64
    video_p50: I64
    video_p75: I64
    video_p95: I64
    video_p100: I64
    watch_time_ms: I64
    v50_watch_time_ms: I64


def draw_outcomes(
    rng: np.random.Generator,
    *,
    closeup: F64,
    save: F64,
    click: F64,
    outbound_share: F64,
    lift: F64,
    is_video: npt.NDArray[np.bool_],
    video_seconds: F64,
) -> SlotOutcomes:
    """Bernoulli draws per slot; ``lift`` combines quality, fit, position and placement."""
    n = lift.size
    u = rng.random((4, n))
    ct = u[2] < np.clip(click * lift, 0, 0.5)
    ob = ct & (u[3] < outbound_share)
    cu = u[0] < np.clip(closeup * lift, 0, 0.8)
    sv = u[1] < np.clip(save * lift, 0, 0.5)
    videos = np.flatnonzero(is_video)
    v = rng.random((2, videos.size))
    start = np.zeros(n, dtype=bool)
    start[videos] = v[0] < VIDEO_START_RATE
    in_view = np.zeros(n, dtype=bool)
    in_view[videos] = start[videos] & (v[1] < VIDEO_IN_VIEW_RATE)
    # Watched fraction: many short glances, a tail of full views (a Beta(0.5, 1.1) shape).
    frac = np.zeros(n, dtype=np.float64)
    started = np.flatnonzero(start)
    frac[started] = np.clip(
        rng.beta(0.5, 1.1, size=started.size) * np.clip(lift[started], 0.5, 1.5), 0.0, 1.0
    )
    seconds = frac * video_seconds
    ms = np.floor(seconds * 1000).astype(np.int64)

    def i(x: npt.NDArray[np.bool_]) -> I64:
        return x.astype(np.int64)

    return SlotOutcomes(
        closeup=i(cu),
        save=i(sv),
        clickthrough=i(ct),
        outbound_click=i(ob),
        video_start=i(start),
        video_2s_view=i(start & (seconds >= 2)),
        video_10s_view=i(start & (seconds >= 10)),
        video_mrc_view=i(in_view & (seconds >= 2)),
        video_p25=i(start & (frac >= 0.25)),
        video_p50=i(start & (frac >= 0.5)),
        video_p75=i(start & (frac >= 0.75)),
        video_p95=i(start & (frac >= 0.95)),
        video_p100=i(start & (frac >= 1.0)),
        watch_time_ms=ms,
        v50_watch_time_ms=np.where(in_view, ms, 0),
    )
