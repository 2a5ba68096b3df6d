"""The hourly simulation's compiled loops against the numpy expressions they replace."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from pinapi.engine.slot_kernels import group_sums, prefix_within


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
