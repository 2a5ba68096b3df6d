"""What the engine carries from one simulated range to the next.

Spend per entity per local day and over the lifetime (budgets and caps), impressions per
frequency-capped ad group, segment and UTC day (rolling caps), the pacing estimates and bid
multipliers, and conversions that have been drawn but not yet happened. The caller persists
it (or rebuilds it from the fact rows); ``copy()`` gives an independent snapshot so a range
can be re-simulated from the same starting point.
"""

from __future__ import annotations

import copy as _copy
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import numpy as np
import numpy.typing as npt

from pinapi.engine.conversions import ConversionBatch

CLOSING_DAYS = 3
"""Local days that can close in a chunk end within this many UTC days before its end (chunks
are at most a day, a local day at most 25 hours)."""


@dataclass
class EngineState:
    ad_group_day_spend: dict[tuple[int, str], int] = field(default_factory=dict)
    """(ad group id, local ISO date) -> micro-currency charged that day."""
    ad_group_day_billable: dict[tuple[int, str], int] = field(default_factory=dict)
    campaign_day_spend: dict[tuple[int, str], int] = field(default_factory=dict)
    ad_group_lifetime_spend: dict[int, int] = field(default_factory=dict)
    campaign_lifetime_spend: dict[int, int] = field(default_factory=dict)
    frequency: dict[int, dict[int, npt.NDArray[np.int64]]] = field(default_factory=dict)
    """ad group id -> UTC day number -> impressions per segment that day (capped groups only)."""
    pacing_rate: dict[int, float] = field(default_factory=dict)
    bid_multiplier: dict[int, float] = field(default_factory=dict)
    multiplier_day: dict[int, str] = field(default_factory=dict)
    """The local date the multiplier was last adjusted for."""
    pending: dict[int, list[ConversionBatch]] = field(default_factory=dict)
    """Hour number (unix hours) -> conversions happening in that hour, not yet emitted."""
    _sparse_days: dict[tuple[int, int], Any] = field(default_factory=dict, repr=False, compare=False)
    """Sparse forms of frequency days before each group's newest one, from the last pickling:
    only the newest day still changes, so a month's checkpoints convert each day once."""

    def closing_spend(self, until: datetime) -> dict[tuple[int, str], int]:
        """The campaign spend of the local days that can close by ``until`` (billing needs no
        more, and this is all of the state the storing process reads)."""
        since = (until - timedelta(days=CLOSING_DAYS)).date().isoformat()
        return {k: v for k, v in self.campaign_day_spend.items() if k[1] >= since}

    def copy(self) -> EngineState:
        return _copy.deepcopy(self)

    # A checkpoint is pickled every simulated day; dense per-segment frequency counts (a few
    # hundred capped ad groups x 31 days x every segment) would make it hundreds of MB, while
    # a day of one ad group touches only a small share of the segments.
    def __getstate__(self) -> dict[str, Any]:
        out = dict(self.__dict__)
        cache = out.pop("_sparse_days", None) or {}
        kept: dict[tuple[int, int], Any] = {}
        frequency: dict[int, dict[int, Any]] = {}
        for gid, days in self.frequency.items():
            newest = max(days, default=None)
            packed = frequency[gid] = {}
            for day, counts in days.items():
                found = cache.get((gid, day)) if day != newest else None
                packed[day] = found if found is not None else _sparse(counts)
                if day != newest:
                    kept[(gid, day)] = packed[day]
        self._sparse_days = kept
        out["frequency"] = frequency
        # Each simulated hour files its conversions under many future hours: one batch per
        # hour instead of dozens (the same rows in the same order, which is all the engine
        # reads of them). Kept joined, so the next pickling joins only what came since
        # instead of every hour up to 60 days ahead again.
        for h, batches in self.pending.items():
            if len(batches) > 1:
                self.pending[h] = [ConversionBatch.concat(batches)]
        out["pending"] = self.pending
        return out

    def __setstate__(self, data: dict[str, Any]) -> None:
        data = dict(data)
        data["frequency"] = {
            gid: {day: _dense(packed) for day, packed in days.items()}
            for gid, days in data["frequency"].items()
        }
        self.__dict__.update(data)
        self._sparse_days = {}


def _sparse(counts: npt.NDArray[np.int64]) -> tuple[int, npt.NDArray[np.int32], npt.NDArray[np.int64]]:
    at = np.flatnonzero(counts)
    return counts.size, at.astype(np.int32), counts[at]


def _dense(packed: Any) -> npt.NDArray[np.int64]:
    if isinstance(packed, np.ndarray):  # a checkpoint pickled before counts were stored sparse
        return packed.astype(np.int64, copy=False)
    size, at, values = packed
    out = np.zeros(size, dtype=np.int64)
    out[at] = values
    return out
