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

import numpy as np
import numpy.typing as npt

from pinapi.engine.conversions import ConversionBatch


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

    def copy(self) -> EngineState:
        return _copy.deepcopy(self)
