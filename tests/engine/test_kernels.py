"""The fold's compiled sums against plain Python on random fact rows."""

from __future__ import annotations

from collections import defaultdict

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from pinapi.engine.kernels import merge_sums, pair_sums


def _reference(row: np.ndarray, values: np.ndarray, metrics: np.ndarray) -> list[tuple[int, int, int, int]]:
    sums: dict[tuple[int, int, int], int] = defaultdict(int)
    for r in range(row.size):
        for d in range(values.shape[0]):
            for m in range(metrics.shape[0]):
                sums[(int(row[r]), int(values[d, r]), m)] += int(metrics[m, r])
    return sorted((k[0], k[1], k[2], v) for k, v in sums.items() if v != 0)


@settings(max_examples=60, deadline=None)
@given(
    n=st.integers(0, 60),
    n_rows=st.integers(1, 7),
    nv=st.integers(1, 9),
    dims=st.integers(1, 4),
    width=st.integers(1, 5),
    seed=st.integers(0, 2**32 - 1),
)
def test_pair_sums_are_the_sums_per_row_value_and_metric(
    n: int, n_rows: int, nv: int, dims: int, width: int, seed: int
) -> None:
    rng = np.random.default_rng(seed)
    row = rng.integers(0, n_rows, n)
    values = rng.integers(0, nv, (dims, n))
    metrics = rng.integers(-2, 4, (width, n)) * (rng.random((width, n)) < 0.5)
    got, totals = pair_sums(row, values, metrics.T, n_rows, nv)
    assert list(zip(*(a.tolist() for a in got), strict=True)) == _reference(row, values, metrics)
    want = np.zeros((n_rows, width), dtype=np.int64)
    np.add.at(want, row, metrics.T)
    assert totals.tolist() == want.tolist()


@settings(max_examples=60, deadline=None)
@given(n=st.integers(0, 80), seed=st.integers(0, 2**32 - 1))
def test_merge_sums_adds_entries_of_the_same_row_value_and_metric(n: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    row, value, metric = rng.integers(0, 4, n), rng.integers(0, 5, n), rng.integers(0, 3, n)
    amount = rng.integers(-3, 6, n)
    got = merge_sums(row, value, metric, amount, 4, 5, 3)
    expected: dict[tuple[int, int, int], int] = defaultdict(int)
    for i in range(n):
        expected[(int(row[i]), int(value[i]), int(metric[i]))] += int(amount[i])
    want = sorted((*k, v) for k, v in expected.items() if v != 0)
    assert list(zip(*(a.tolist() for a in got), strict=True)) == want
