"""The engine's output for one simulated hour: fact arrays, not rows.

``DeliveryFacts`` has one row per (pin promotion, segment, placement, keyword) that received
at least one impression; the segment expands into the targeting dimensions (country, region,
age bucket, gender, app type, locale). Metric columns are integers, so any roll-up (ad group,
campaign, advertiser, day) is an exact sum of its children.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import numpy as np
import numpy.typing as npt

from pinapi.engine.conversions import ConversionBatch

I64 = npt.NDArray[np.int64]

OUTCOME_METRICS = (
    "IMPRESSION_1", "CLOSEUP_1", "SAVE_1", "CLICKTHROUGH_1", "OUTBOUND_CLICK_1", "ENGAGEMENT_1",
    "VIDEO_START_1", "VIDEO_2S_VIEW_1", "VIDEO_10S_VIEW_1", "VIDEO_MRC_VIEWS_1",
    "VIDEO_P25_COMBINED_1", "VIDEO_P50_COMBINED_1", "VIDEO_P75_COMBINED_1", "VIDEO_P95_COMBINED_1",
    "VIDEO_P100_COMBINED_1", "VIDEO_WATCH_TIME_MS_1", "VIDEO_SUM_V50_WATCHTIME_IN_MILLISECOND_1",
)  # fmt: skip
"""What a pinner does with a paid impression, in the order ``outcomes.draw_outcomes`` fills them."""
PAID_METRICS = (*OUTCOME_METRICS, "BILLABLE_EVENTS", "SPEND_IN_MICRO_DOLLAR")
EARNED_METRICS = ("IMPRESSION_2", "CLOSEUP_2", "SAVE_2", "CLICKTHROUGH_2", "OUTBOUND_CLICK_2", "ENGAGEMENT_2")
METRICS = PAID_METRICS + EARNED_METRICS
"""``SPEND_IN_MICRO_DOLLAR`` is in the advertiser's micro-currency, as in v3 reports."""


@dataclass(frozen=True, slots=True)
class DeliveryFacts:
    """Rows come grouped by promotion and, within it, by segment (the writer sums runs)."""

    pin_promotion_id: I64
    ad_group_id: I64
    campaign_id: I64
    advertiser_id: I64
    segment: I64
    placement: I64
    """Index into ``dimensions.PLACEMENTS``."""
    keyword_id: I64
    """The matched keyword of a search slot, -1 when none."""
    metrics: dict[str, I64]
    table: I64 | None = None
    """The metrics as one (rows x ``METRICS``) row-major matrix, when the engine made them so
    (``metrics`` then holds its columns); the fold reads a row's metrics as one cache line."""

    def __len__(self) -> int:
        return int(self.segment.size)


@dataclass(frozen=True, slots=True)
class OrganicFacts:
    pin_id: I64
    impression: I64
    closeup: I64
    save: I64
    clickthrough: I64
    outbound_click: I64


@dataclass(frozen=True, slots=True)
class ClearingPrices:
    """Auction clearing prices of the hour, for bid floors and bid guidance."""

    counts: I64
    """(countries, placements, buckets), buckets per ``auction.PRICE_BUCKETS`` (CPM USD)."""
    sum_cpm_micro: I64
    """(countries, placements) sum of clearing CPMs in USD micro."""


@dataclass(frozen=True, slots=True)
class HourResult:
    hour: datetime
    delivery: DeliveryFacts
    conversions: ConversionBatch
    """Conversion events whose time falls in this hour."""
    organic: OrganicFacts
    prices: ClearingPrices
    slots_offered: int


SEGMENT_KEYS = ("country", "region", "locale", "age", "gender", "app_type")
ENTITY_KEYS = ("pin_promotion_id", "ad_group_id", "campaign_id", "advertiser_id", "placement", "keyword_id")


def rollup(
    facts: DeliveryFacts, by: tuple[str, ...], segment_attributes: dict[str, I64]
) -> tuple[dict[str, I64], dict[str, I64]]:
    """Sum the metrics over every column not in ``by`` (entity keys or segment attributes).

    ``segment_attributes`` maps each name in ``SEGMENT_KEYS`` to a per-segment index array
    (``Population.attributes()``). Sums are integer, so any roll-up equals the sum of the
    finer roll-ups it contains; this is how the caller trims rows it does not need to store.
    """
    cols: list[I64] = []
    for name in by:
        if name in ENTITY_KEYS:
            cols.append(getattr(facts, name))
        elif name in SEGMENT_KEYS:
            cols.append(segment_attributes[name][facts.segment].astype(np.int64))
        else:
            raise ValueError(f"unknown roll-up key {name}")
    n = len(facts)
    if not cols:
        return {}, {m: np.array([int(v.sum())], dtype=np.int64) for m, v in facts.metrics.items()}
    if n == 0:
        z = np.zeros(0, dtype=np.int64)
        return {k: z for k in by}, {m: z for m in facts.metrics}
    table = np.stack(cols, axis=1)
    uniq, inv = np.unique(table, axis=0, return_inverse=True)
    inv = inv.reshape(-1)
    metrics = {
        m: np.bincount(inv, weights=v, minlength=uniq.shape[0]).astype(np.int64)
        for m, v in facts.metrics.items()
    }
    return {k: uniq[:, i] for i, k in enumerate(by)}, metrics
