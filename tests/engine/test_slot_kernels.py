"""The hourly simulation's compiled loops against the numpy expressions they replace."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from pinapi.engine.auction import PRICE_BUCKETS, price_histogram
from pinapi.engine.auction_kernels import guided_search, pairwise_sum, stratum_products
from pinapi.engine.slot_kernels import group_sums, key_order, prefix_within


@settings(max_examples=60, deadline=None)
@given(n=st.integers(0, 80), groups=st.integers(1, 6), seed=st.integers(0, 2**32 - 1))
def test_prefix_within_keeps_the_running_sums_within_the_limit(n: int, groups: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    g, charge = rng.integers(0, groups, n), rng.integers(0, 5, n)
    limit, order = rng.integers(0, 12, groups), rng.permutation(n)
    keep = prefix_within(g, charge, limit, order)
    # The sort-and-cumsum form: per group in ``order``, the running charge within the limit.
    o = order[np.argsort(g[order], kind="stable")]
    run = np.cumsum(charge[o])
    starts = np.searchsorted(g[o], g[o], side="left")
    before = np.where(starts > 0, run[np.maximum(starts - 1, 0)], 0)
    want = np.zeros(n, dtype=bool)
    want[o[(run - before) <= limit[g[o]]]] = True
    assert keep.tolist() == want.tolist()


@settings(max_examples=60, deadline=None)
@given(n=st.integers(0, 80), width=st.integers(3, 6), seed=st.integers(0, 2**32 - 1))
def test_group_sums_are_the_sums_per_key_in_key_order(n: int, width: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    key = rng.choice(1 << 40, 5)[rng.integers(0, 5, n)]
    columns = rng.integers(0, 4, (2, n)) * (rng.random((2, n)) < 0.5)
    keys, sums = group_sums(key, np.argsort(key), columns, width)
    uniq, inv = np.unique(key, return_inverse=True)
    assert keys.tolist() == uniq.tolist()
    want = np.zeros((uniq.size, width), dtype=np.int64)
    for c in range(2):
        np.add.at(want[:, c], inv.reshape(-1), columns[c])
    assert sums.tolist() == want.tolist()


@settings(max_examples=60, deadline=None)
@given(n=st.integers(0, 3000), seed=st.integers(0, 2**32 - 1))
def test_pairwise_sum_adds_as_numpy_does(n: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    values = rng.random(n + 5) * rng.choice([1e-3, 1.0, 1e9], n + 5)
    # Bit for bit, including the halving above 128 values (a sequential sum differs).
    assert pairwise_sum(values, 5, n) == values[5:].sum()
    rows = values[5:].reshape(1, -1)
    assert pairwise_sum(values, 5, n) == rows.sum(axis=1)[0]


@settings(max_examples=40, deadline=None)
@given(strata=st.integers(1, 8), groups=st.integers(1, 300), seed=st.integers(0, 2**32 - 1))
def test_stratum_products_are_the_gathered_products_their_cumsum_and_row_sums(
    strata: int, groups: int, seed: int
) -> None:
    rng = np.random.default_rng(seed)
    share = (rng.random((strata, groups)) * (rng.random((strata, groups)) < 0.7)).astype(np.float32)
    by_country = rng.random((3, groups)) * 10
    country = rng.integers(0, 3, strata)
    product = share * by_country[country]
    flat, totals, guide = stratum_products(share, by_country, country, 4)
    assert flat.tolist() == np.cumsum(product.ravel()).tolist()
    assert totals.tolist() == product.sum(axis=1).tolist()
    assert guide.shape == (strata, 4)
    none, same, no_guide = stratum_products(share, by_country, country, 0)
    assert none.size == 0 and no_guide.size == 0 and same.tolist() == totals.tolist()


@settings(max_examples=40, deadline=None)
@given(n=st.integers(0, 400), seed=st.integers(0, 2**32 - 1))
def test_price_histogram_counts_buckets_and_sums_rounded_micro_prices(n: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    clearing = np.where(rng.random(n) < 0.2, 0.0, np.exp(rng.normal(1.0, 2.5, n)))
    clearing[: min(n, 2)] = PRICE_BUCKETS[:2][: min(n, 2)]  # prices on an edge
    segment_country = rng.integers(0, 4, 50).astype(np.int16)
    segments, placement = rng.integers(0, 50, n), rng.integers(0, 3, n)
    counts, sums = price_histogram(clearing, segment_country, segments, placement, 4, 3)
    # The numpy form.
    filled = clearing > 0
    bucket = np.clip(np.searchsorted(PRICE_BUCKETS, clearing[filled]) - 1, 0, PRICE_BUCKETS.size - 2)
    cell = segment_country[segments].astype(np.int64)[filled] * 3 + placement[filled]
    nb = PRICE_BUCKETS.size - 1
    want_counts = np.bincount(cell * nb + bucket, minlength=4 * 3 * nb).reshape(4, 3, nb)
    want_sums = np.bincount(cell, weights=np.round(clearing[filled] * 1e6), minlength=12).astype(np.int64)
    assert counts.tolist() == want_counts.tolist()
    assert sums.tolist() == want_sums.reshape(4, 3).tolist()


@settings(max_examples=60, deadline=None)
@given(n=st.integers(0, 300), seed=st.integers(0, 2**32 - 1))
def test_key_order_is_a_stable_argsort_of_the_composed_keys(n: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    sizes = np.array([int(rng.integers(1, 9)), int(rng.integers(1, 40)), 3, int(rng.integers(1, 3))])
    digits = np.stack([rng.integers(0, s, n) for s in sizes])
    key = np.zeros(n, dtype=np.int64)
    for d, size in zip(digits, sizes, strict=True):
        key = key * size + d
    assert key_order(digits, sizes).tolist() == np.argsort(key, kind="stable").tolist()


@settings(max_examples=60, deadline=None)
@given(n=st.integers(1, 300), guide=st.integers(1, 64), seed=st.integers(0, 2**32 - 1))
def test_guided_search_finds_what_searchsorted_finds_from_any_guide(n: int, guide: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    share = (rng.random((3, n)) * (rng.random((3, n)) < 0.5)).astype(np.float32)
    flat, totals, table = stratum_products(share, rng.random((1, n)), np.zeros(3, dtype=np.int64), guide)
    assert table.shape == (3, guide)
    for s in range(3):
        start = flat[s * n - 1] if s else 0.0
        for u in [*rng.random(20), 0.0, 1 - 2**-53]:
            x = start + u * totals[s]
            want = np.searchsorted(flat[s * n : (s + 1) * n], x, side="right")
            hint = table[s, min(int(u * guide), guide - 1)]
            assert guided_search(flat, s * n, n, x, hint) == want
            assert guided_search(flat, s * n, n, x, int(rng.integers(0, n + 1))) == want
