"""The auction draws winners in proportion to weight and charges second prices."""

from __future__ import annotations

import numpy as np

from pinapi.engine.auction import Field, run_auction, strata
from pinapi.engine.rng import generator


def field(weights: list[float], mask_rows: list[list[float]], floor: float = 0.0) -> Field:
    mask = np.array(mask_rows, dtype=np.float32)
    n_seg, n_g = mask.shape
    stratum = np.zeros(n_seg, dtype=np.int64)
    mx, mean, uniform = strata(mask, stratum, np.full(n_seg, 100, dtype=np.int64), 1)
    w = np.array(weights, dtype=np.float64)
    # one promotion per ad group, one country, one placement
    return Field(
        mask=mask,
        segment_country=np.zeros(n_seg, dtype=np.int16),
        segment_stratum=stratum,
        stratum_country=np.zeros(1, dtype=np.int64),
        stratum_max=mx,
        stratum_mean=mean,
        stratum_uniform=uniform,
        group_weight=w.reshape(n_g, 1, 1),
        promo_group=np.arange(n_g, dtype=np.int64),
        promo_cum=np.cumsum(w).reshape(n_g, 1),
        group_cum_start=np.concatenate(([0.0], np.cumsum(w)[:-1])).reshape(n_g, 1),
        group_promo_weight=w.reshape(n_g, 1),
        group_first=np.arange(n_g, dtype=np.int64),
        group_count=np.ones(n_g, dtype=np.int64),
        promo_pad_cum=w.reshape(n_g, 1, 1),
        floor_cpm=np.array([floor]),
        lam=3.0,
    )


def test_winners_follow_weights_and_targeting() -> None:
    f = field([1.0, 3.0, 6.0], [[1, 1, 1], [1, 1, 0]])
    seg = np.array([0] * 20_000 + [1] * 20_000, dtype=np.int64)
    wins = run_auction(f, f.strength(), seg, 0, None, generator(1, 1))
    share0 = np.bincount(wins.group[:20_000], minlength=3) / 20_000
    share1 = np.bincount(wins.group[20_000:], minlength=3) / 20_000
    assert np.allclose(share0, [0.1, 0.3, 0.6], atol=0.015)
    assert share1[2] == 0  # never outside the targeting
    # Groups 0 and 1 reach both segments alike: accepted without a look at the mask.
    assert f.stratum_uniform.tolist() == [[True, True, False]]
    assert np.allclose(share1[:2], [0.25, 0.75], atol=0.015)
    assert (wins.price_ratio > 0).all() and (wins.price_ratio <= 1).all()


def test_partial_shares_thin_acceptance_exactly() -> None:
    f = field([1.0, 1.0], [[0.2, 1.0]])
    wins = run_auction(f, f.strength(), np.zeros(30_000, dtype=np.int64), 0, None, generator(2, 1))
    share = np.bincount(wins.group, minlength=2) / 30_000
    assert np.allclose(share, [0.2 / 1.2, 1 / 1.2], atol=0.015)


def test_lone_bidder_pays_the_floor() -> None:
    f = field([5.0**3], [[1]], floor=2.0)
    wins = run_auction(f, f.strength(), np.zeros(1000, dtype=np.int64), 0, None, generator(3, 1))
    assert (wins.clearing_cpm == 2.0).all()
    assert (wins.price_ratio <= 1).all()


def test_no_eligible_competitor_leaves_slots_unfilled() -> None:
    f = field([1.0], [[0.0]])
    wins = run_auction(f, f.strength(), np.zeros(50, dtype=np.int64), 0, None, generator(4, 1))
    assert (wins.group == -1).all() and (wins.promo == -1).all()


def test_keyword_gate_blocks_unmatched_terms() -> None:
    f = field([1.0, 1.0], [[1, 1]])
    gate = np.array([[True, False], [True, True]])
    f = Field(**{**{k: getattr(f, k) for k in f.__dataclass_fields__}, "term_allowed": gate})
    terms = np.zeros(5000, dtype=np.int64)
    wins = run_auction(f, f.strength(), np.zeros(5000, dtype=np.int64), 0, terms, generator(5, 1))
    assert (wins.group == 0).all()
