"""Sums of the engine's fact rows by packed keys, for the fold (``folding.py``).

Everything here is numpy over whole hours or chunks; keys are int64 (see ``folding``'s key
layout) and metrics a (metrics x rows) int64 matrix, so a month at benchmark size folds in
seconds instead of the minutes a per-row reduction in Python would take.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from pinapi.engine.facts import METRICS
from pinapi.engine.kernels import merge_by_key

I64 = npt.NDArray[np.int64]
COMPACT_ROWS = 400_000
MERGE_ENTRIES = 12_000_000
"""Per-day chunks merge their entries at the end (a day is about 8 M at 5,000 promotions)."""
VALUE_BITS = 16
METRIC_BITS = 5


def runs(*cols: I64) -> I64:
    """Start of each run of equal consecutive keys."""
    n = cols[0].size
    change = np.zeros(n, dtype=bool)
    if n:
        change[0] = True
    for c in cols:
        change[1:] |= c[1:] != c[:-1]
    out: I64 = np.flatnonzero(change)
    return out


def nonzero_columns(metrics: I64) -> list[I64]:
    """Per metric, the columns where it is not 0 (most actions are rare: sums skip the zeros)."""
    return [np.flatnonzero(row) for row in metrics]


def sum_by(
    keys: I64, metrics: I64, nonzero: list[I64] | None = None, order: I64 | None = None
) -> tuple[I64, I64]:
    """Sum the columns of ``metrics`` (metrics x rows) that share a key; keys come back sorted.

    ``order``, when given, is an argsort of ``keys`` the caller got more cheaply."""
    n = keys.size
    if order is None:
        order = np.argsort(keys)
    sorted_keys = keys[order]
    change = np.empty(n, dtype=bool)
    change[:1] = True
    np.not_equal(sorted_keys[1:], sorted_keys[:-1], out=change[1:])
    group = np.empty(n, dtype=np.int64)
    group[order] = np.cumsum(change) - 1
    starts = np.flatnonzero(change)
    u = starts.size
    nz = nonzero if nonzero is not None else nonzero_columns(metrics)
    out = np.zeros((metrics.shape[0], u), dtype=np.int64)
    for m, idx in enumerate(nz):
        if idx.size:
            out[m] = np.bincount(group[idx], weights=metrics[m, idx], minlength=u)
    return sorted_keys[starts], out


@dataclass
class Buffer:
    """Reduced rows of the chunk so far: packed keys and a (metrics, rows) matrix.

    Rows of different hours of an hourly chunk never share a key, so merging is only worth
    its sort once the buffer has doubled since the last one (a fixed threshold would sort the
    whole, ever larger buffer again on every hour)."""

    keys: list[I64] = field(default_factory=list)
    metrics: list[I64] = field(default_factory=list)
    rows: int = 0
    limit: int = COMPACT_ROWS

    def add(self, keys: I64, metrics: I64) -> None:
        self.keys.append(keys)
        self.metrics.append(metrics)
        self.rows += keys.size
        if self.rows > self.limit and len(self.keys) > 1:
            self.compact()

    def compact(self) -> tuple[I64, I64]:
        if not self.keys:
            return np.zeros(0, dtype=np.int64), np.zeros((len(METRICS), 0), dtype=np.int64)
        keys, metrics = sum_by(np.concatenate(self.keys), np.concatenate(self.metrics, axis=1))
        self.keys, self.metrics, self.rows = [keys], [metrics], keys.size
        self.limit = max(COMPACT_ROWS, 2 * keys.size)
        return keys, metrics


@dataclass
class Entries:
    """Breakdown entries of a per-day chunk so far: (row key, value index, metric, amount).

    The hours of a day repeat (row, value, metric) cells; they are merged at the end, or
    sooner if the buffer grows past ``MERGE_ENTRIES``. Entries go into arrays that grow by
    doubling and are kept from one chunk to the next (``clear``), so an hour's entries cost
    one copy and the merge is one compiled call on them, without the interpreter lock.
    (Hourly chunks pack each hour as it comes and need no buffer.)"""

    columns: list[I64] = field(default_factory=lambda: [np.zeros(0, dtype=np.int64) for _ in range(4)])
    rows: int = 0
    limit: int = MERGE_ENTRIES

    def add(self, key: I64, value: I64, metric: I64, amount: I64) -> None:
        n = key.size
        need = self.rows + n
        if need > self.columns[0].size:
            size = max(need, 2 * self.columns[0].size, 1 << 20)
            grown = [np.empty(size, dtype=np.int64) for _ in range(4)]
            for old, new in zip(self.columns, grown, strict=True):
                new[: self.rows] = old[: self.rows]
            self.columns = grown
        for column, part in zip(self.columns, (key, value, metric, amount), strict=True):
            column[self.rows : need] = part
        self.rows = need
        if self.rows > self.limit:
            self._compact()

    def merge(self) -> tuple[I64, I64, I64, I64]:
        """Every entry so far, summed per (row key, value, metric) and ordered so; the buffer
        is left empty."""
        key, value, metric, amount = (c[: self.rows] for c in self.columns)
        merged = merge_by_key(key, value, metric, amount, 1 << METRIC_BITS)
        self.clear()
        return merged

    def _compact(self) -> None:
        merged = self.merge()
        self.limit = max(MERGE_ENTRIES, 2 * merged[0].size)
        self.add(*merged)

    def clear(self) -> None:
        self.rows = 0
