"""Compiled loops of the fold (numba).

Why compiled: an hour's breakdowns are sums over every fact row x every dimension x every
non-zero metric. In numpy that is one pass over all of them per metric (25 passes over a
few hundred thousand entries an hour, plus the temporaries), most of a month's fold time;
one compiled pass touches each non-zero value once. Both kernels index (row, value) pairs
through a dense lookup table, since rows and values of a chunk are small integers, and
return their sums ordered by (row, value, metric) with zero sums left out, which is the
order ``store.breakdowns.pack_rows`` packs without sorting. Metrics come row-major (fact
rows x metrics), so a row's metrics are one cache line.

``cache=True`` keeps the machine code beside this module, so only the first process after
an install compiles (about a second).
"""

from __future__ import annotations

import numba
import numpy as np
import numpy.typing as npt

I64 = npt.NDArray[np.int64]


@numba.njit(cache=True, nogil=True)
def _number(lut: I64) -> I64:  # pragma: no cover - compiled; its results are tested
    """Number the marked (0) cells of ``lut`` in index order, in place; returns the cell of
    each number (so numbers follow (row, value) order)."""
    pairs = 0
    for p in range(lut.size):
        if lut[p] == 0:
            lut[p] = pairs
            pairs += 1
    pair_of = np.empty(pairs, np.int64)
    for p in range(lut.size):
        if lut[p] >= 0:
            pair_of[lut[p]] = p
    return pair_of


@numba.njit(cache=True, nogil=True)
def _entries(acc: I64, pair_of: I64, nv: int) -> tuple[I64, I64, I64, I64]:  # pragma: no cover
    """The non-zero cells of ``acc`` (pairs x metrics) as (row, value, metric, amount)."""
    pairs, width = acc.shape
    count = 0
    for s in range(pairs):
        for m in range(width):
            if acc[s, m] != 0:
                count += 1
    out_row = np.empty(count, np.int64)
    out_value = np.empty(count, np.int64)
    out_metric = np.empty(count, np.int64)
    out_amount = np.empty(count, np.int64)
    k = 0
    for s in range(pairs):
        for m in range(width):
            if acc[s, m] != 0:
                out_row[k] = pair_of[s] // nv
                out_value[k] = pair_of[s] % nv
                out_metric[k] = m
                out_amount[k] = acc[s, m]
                k += 1
    return out_row, out_value, out_metric, out_amount


@numba.njit(cache=True, nogil=True)
def _sums(
    row: I64, values: I64, metrics: I64, n_rows: int, nv: int
) -> tuple[I64, I64, I64, I64, I64]:  # pragma: no cover - compiled; its results are tested
    n, width = metrics.shape
    dims = values.shape[0]
    space = n_rows * nv
    lut = np.full(space, -1, np.int64)
    for r in range(n):
        base = row[r] * nv
        for d in range(dims):
            lut[base + values[d, r]] = 0
    pair_of = _number(lut)
    acc = np.zeros((pair_of.size, width), np.int64)
    totals = np.zeros((n_rows, width), np.int64)
    slots = np.empty(dims, np.int64)
    for r in range(n):
        base = row[r] * nv
        for d in range(dims):
            slots[d] = lut[base + values[d, r]]
        for m in range(width):
            x = metrics[r, m]
            if x != 0:
                totals[row[r], m] += x
                for d in range(dims):
                    acc[slots[d], m] += x
    out_row, out_value, out_metric, out_amount = _entries(acc, pair_of, nv)
    return out_row, out_value, out_metric, out_amount, totals


def pair_sums(
    row: I64, values: I64, metrics: I64, n_rows: int, nv: int
) -> tuple[tuple[I64, I64, I64, I64], I64]:
    """Sums per (row, value, metric) of the fact rows, and per row: fact row r belongs to
    ``row[r]`` (< ``n_rows``) and has value ``values[d, r]`` (< ``nv``) in each dimension d;
    ``metrics`` is (fact rows x metrics). Returns ((row, value, metric, amount), totals):
    non-zero amounts only, ordered by (row, value, metric), and the (rows x metrics) totals."""
    a, b, c, d, totals = _sums(
        np.ascontiguousarray(row, dtype=np.int64),
        np.ascontiguousarray(values, dtype=np.int64),
        np.ascontiguousarray(metrics, dtype=np.int64),
        int(n_rows),
        int(nv),
    )
    return (a, b, c, d), totals


@numba.njit(cache=True, nogil=True)
def _merge(
    row: I64, value: I64, metric: I64, amount: I64, n_rows: int, nv: int, width: int
) -> tuple[I64, I64, I64, I64]:  # pragma: no cover - compiled; its results are tested
    n = row.size
    space = n_rows * nv
    lut = np.full(space, -1, np.int64)
    for i in range(n):
        lut[row[i] * nv + value[i]] = 0
    pair_of = _number(lut)
    acc = np.zeros((pair_of.size, width), np.int64)
    for i in range(n):
        acc[lut[row[i] * nv + value[i]], metric[i]] += amount[i]
    return _entries(acc, pair_of, nv)


@numba.njit(cache=True, nogil=True)
def _merge_by_key(
    key: I64, value: I64, metric: I64, amount: I64, width: int
) -> tuple[I64, I64, I64, I64]:  # pragma: no cover - compiled; its results are tested
    n = key.size
    if n == 0:
        z = np.zeros(0, np.int64)
        return z, z, z, z
    kmax = 0
    vmax = 0
    for i in range(n):
        kmax = max(kmax, key[i])
        vmax = max(vmax, value[i])
    lut = np.full(kmax + 1, -1, np.int64)
    for i in range(n):
        lut[key[i]] = 0
    keys = _number(lut)  # the distinct keys, ascending; lut: key -> its number
    row = np.empty(n, np.int64)
    for i in range(n):
        row[i] = lut[key[i]]
    r, v, m, total = _merge(row, value, metric, amount, keys.size, vmax + 1, width)
    out_key = np.empty(r.size, np.int64)
    for i in range(r.size):
        out_key[i] = keys[r[i]]
    return out_key, v, m, total


def merge_by_key(key: I64, value: I64, metric: I64, amount: I64, width: int) -> tuple[I64, I64, I64, I64]:
    """Sums of entries sharing (key, value, metric), ordered so, without zero sums; keys are
    small non-negative row keys, numbered through a lookup table in the same pass.
    One call does all of it without the interpreter lock, so a day's merge (millions of
    entries) runs beside the engine."""
    out: tuple[I64, I64, I64, I64] = _merge_by_key(
        np.ascontiguousarray(key, dtype=np.int64),
        np.ascontiguousarray(value, dtype=np.int64),
        np.ascontiguousarray(metric, dtype=np.int64),
        np.ascontiguousarray(amount, dtype=np.int64),
        int(width),
    )
    return out


@numba.njit(cache=True, nogil=True)
def _gather(
    src: npt.NDArray[np.uint8], starts: I64, ends: I64, order: I64
) -> npt.NDArray[np.uint8]:  # pragma: no cover
    total = 0
    for i in order:
        total += ends[i] - starts[i]
    out = np.empty(total, np.uint8)
    at = 0
    for i in order:
        n = ends[i] - starts[i]
        out[at : at + n] = src[starts[i] : ends[i]]
        at += n
    return out


def gather_ranges(src: npt.NDArray[np.uint8], starts: I64, ends: I64, order: I64) -> npt.NDArray[np.uint8]:
    """The byte ranges ``src[starts[i]:ends[i]]`` for ``i`` in ``order``, one after another:
    an hourly chunk's packed breakdowns, put in the order of its rows in one copy instead of
    a bytes object per row."""
    out: npt.NDArray[np.uint8] = _gather(
        src, starts.astype(np.int64), ends.astype(np.int64), order.astype(np.int64)
    )
    return out
