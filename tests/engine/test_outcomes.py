"""Per-slot outcome draws against the numpy expressions the compiled pass replaced."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from pinapi.engine.facts import METRICS, OUTCOME_METRICS
from pinapi.engine.outcomes import (
    PLACEMENT_FACTOR,
    VIDEO_IN_VIEW_RATE,
    VIDEO_START_RATE,
    PromotionRates,
    draw_outcomes,
)
from pinapi.engine.simulate import _earned
from pinapi.engine.slot_kernels import slot_lift


def _numpy_outcomes(
    rng: np.random.Generator, promo: np.ndarray, r: PromotionRates, lift: np.ndarray
) -> np.ndarray:
    n = promo.size
    u = rng.random((4, n))
    ct = u[2] < np.clip(r.click[promo] * lift, 0, 0.5)
    ob = ct & (u[3] < r.outbound_share[promo])
    cu = u[0] < np.clip(r.closeup[promo] * lift, 0, 0.8)
    sv = u[1] < np.clip(r.save[promo] * lift, 0, 0.5)
    videos = np.flatnonzero(r.is_video[promo])
    v = rng.random((2, videos.size))
    start = np.zeros(n, dtype=bool)
    start[videos] = v[0] < VIDEO_START_RATE
    in_view = np.zeros(n, dtype=bool)
    in_view[videos] = start[videos] & (v[1] < VIDEO_IN_VIEW_RATE)
    frac = np.zeros(n)
    started = np.flatnonzero(start)
    frac[started] = np.clip(rng.beta(0.5, 1.1, size=started.size) * np.clip(lift[started], 0.5, 1.5), 0, 1)
    seconds = frac * r.video_seconds[promo]
    ms = np.floor(seconds * 1000).astype(np.int64)
    return np.stack(
        [
            np.ones(n, dtype=np.int64),
            cu,
            sv,
            ct,
            ob,
            cu.astype(np.int64) + sv + ct,
            start,
            start & (seconds >= 2),
            start & (seconds >= 10),
            in_view & (seconds >= 2),
            start & (frac >= 0.25),
            start & (frac >= 0.5),
            start & (frac >= 0.75),
            start & (frac >= 0.95),
            start & (frac >= 1.0),
            ms,
            np.where(in_view, ms, 0),
        ]
    ).astype(np.int64)


@settings(max_examples=40, deadline=None)
@given(n=st.integers(0, 500), promos=st.integers(1, 12), seed=st.integers(0, 2**32 - 1))
def test_draw_outcomes_equals_the_numpy_draws(n: int, promos: int, seed: int) -> None:
    setup = np.random.default_rng(seed)
    rates = PromotionRates(
        closeup=setup.random(promos) * 0.5,
        save=setup.random(promos) * 0.3,
        click=setup.random(promos) * 0.3,
        outbound_share=setup.random(promos),
        is_video=setup.random(promos) < 0.5,
        video_seconds=setup.choice([0.0, 6.0, 15.0, 60.0], promos),
    )
    promo = setup.integers(0, promos, n)
    lift = setup.random(n) * 3
    out = np.full((len(OUTCOME_METRICS) + 2, n), -7, dtype=np.int64)
    draw_outcomes(np.random.default_rng(seed + 1), promo, rates, lift, out)
    want = _numpy_outcomes(np.random.default_rng(seed + 1), promo, rates, lift)
    assert out[: len(OUTCOME_METRICS)].tolist() == want.tolist()
    assert (out[len(OUTCOME_METRICS) :] == -7).all()  # billable events and spend are the caller's


@settings(max_examples=40, deadline=None)
@given(rows=st.integers(0, 300), seed=st.integers(0, 2**32 - 1))
def test_earned_media_drawn_for_saved_rows_only_equal_drawing_every_row(rows: int, seed: int) -> None:
    data = np.random.default_rng(seed)
    table = np.zeros((rows, len(METRICS)), dtype=np.int64)
    save = METRICS.index("SAVE_1")
    table[:, save] = data.integers(0, 4, rows) * (data.random(rows) < 0.2)
    _earned(table, np.random.default_rng(seed))
    rng = np.random.default_rng(seed)
    imp = rng.poisson(table[:, save] * 4.0)
    close, saves, click = (rng.binomial(imp, p) for p in (0.02, 0.004, 0.003))
    want = {
        "IMPRESSION_2": imp,
        "CLOSEUP_2": close,
        "SAVE_2": saves,
        "CLICKTHROUGH_2": click,
        "OUTBOUND_CLICK_2": rng.binomial(click, 0.75),
        "ENGAGEMENT_2": close + saves + click,
    }
    for name, values in want.items():
        assert table[:, METRICS.index(name)].tolist() == values.tolist(), name


@settings(max_examples=40, deadline=None)
@given(n=st.integers(0, 300), promos=st.integers(1, 10), seed=st.integers(0, 2**32 - 1))
def test_slot_lift_is_quality_fit_position_and_placement(n: int, promos: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    rel = np.concatenate([rng.random((20, 6)) * 5, np.zeros((20, 1))], axis=1)  # last: "none"
    cols = rng.integers(0, 7, (promos, 3))
    has = rng.random(promos) < 0.6
    quality = rng.random(promos) * 2
    seg, promo, plc = rng.integers(0, 20, n), rng.integers(0, promos, n), rng.integers(0, 3, n)
    log_u = np.log1p(-rng.random(n))
    got = slot_lift(rel, seg, promo, plc, has, cols, quality, PLACEMENT_FACTOR, log_u, float(np.log(0.65)))
    # The numpy form.
    best = np.where(has[promo], rel[seg[:, None], cols[promo]].max(axis=1) if n else np.zeros(0), 1.0)
    fit = np.sqrt(np.clip(best, 0.25, 4.0))
    position = 1.0 / (1.0 + 0.1 * np.floor(log_u / np.log(0.65)))
    assert got.tolist() == (quality[promo] * fit * position * PLACEMENT_FACTOR[plc]).tolist()
