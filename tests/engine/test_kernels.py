"""The fold's compiled sums against plain Python on random fact rows."""

from __future__ import annotations

from collections import defaultdict

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from pinapi.engine.kernels import gather_ranges, merge_by_key, pair_sums
from pinapi.engine.rollup import Entries


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
def test_merge_by_key_adds_entries_of_the_same_key_value_and_metric(n: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    keys = rng.choice(1 << 20, 4, replace=False)  # sparse row keys: numbered by the kernel
    row, value, metric = keys[rng.integers(0, 4, n)], rng.integers(0, 5, n), rng.integers(0, 3, n)
    amount = rng.integers(-3, 6, n)
    got = merge_by_key(row, value, metric, amount, 3)
    expected: dict[tuple[int, int, int], int] = defaultdict(int)
    for i in range(n):
        expected[(int(row[i]), int(value[i]), int(metric[i]))] += int(amount[i])
    want = sorted((*k, v) for k, v in expected.items() if v != 0)
    assert list(zip(*(a.tolist() for a in got), strict=True)) == want


@settings(max_examples=30, deadline=None)
@given(parts=st.integers(1, 6), limit=st.integers(1, 40), seed=st.integers(0, 2**32 - 1))
def test_entries_merge_like_one_merge_of_every_part(parts: int, limit: int, seed: int) -> None:
    """Growing, compacting early (a small limit) and reuse after a merge change nothing."""
    rng = np.random.default_rng(seed)
    entries = Entries(limit=limit)
    for _ in range(2):  # the second round reuses the buffers of the first
        added = []
        for _ in range(parts):
            n = int(rng.integers(0, 30))
            part = tuple(rng.integers(lo, hi, n) for lo, hi in ((0, 9), (0, 4), (0, 3), (1, 5)))
            entries.add(*part)
            added.append(part)
        key, value, metric, amount = (np.concatenate([p[i] for p in added]) for i in range(4))
        want = merge_by_key(key, value, metric, amount, 32)
        got = entries.merge()
        assert [a.tolist() for a in got] == [a.tolist() for a in want]
        assert entries.rows == 0


def test_gather_ranges_moves_each_range_in_order() -> None:
    src = np.frombuffer(b"aaBBBcdddd", dtype=np.uint8)
    starts, ends = np.array([0, 2, 5, 6]), np.array([2, 5, 6, 10])
    got = gather_ranges(src, starts, ends, np.array([3, 0, 2, 1]))
    assert got.tobytes() == b"ddddaacBBB"
    assert gather_ranges(src, starts, ends, np.zeros(0, dtype=np.int64)).tobytes() == b""
