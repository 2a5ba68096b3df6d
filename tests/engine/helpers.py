"""Shared set-ups for the engine tests: a small population and a run collector."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import cache

import numpy as np
import numpy.typing as npt

from pinapi.engine.conversions import ConversionBatch
from pinapi.engine.dimensions import default_dimensions
from pinapi.engine.entities import Setup
from pinapi.engine.facts import METRICS
from pinapi.engine.population import Population, build_population
from pinapi.engine.simulate import Engine, EngineConfig
from pinapi.engine.state import EngineState
from pinapi.engine.targeting import KeywordMatcher

I64 = npt.NDArray[np.int64]


@cache
def small_population() -> Population:
    return build_population(default_dimensions(), 30_000, seed=5)


@dataclass
class Collected:
    hour: I64
    """Unix seconds of each fact row's hour."""
    promo: I64
    group: I64
    campaign: I64
    advertiser: I64
    segment: I64
    placement: I64
    keyword: I64
    metrics: dict[str, I64]
    conversions: ConversionBatch
    organic_pins: I64
    organic_impressions: I64
    raw: list[bytes]


def collect(engine: Engine, setup: Setup, state: EngineState, start: datetime, end: datetime) -> Collected:
    parts = []
    convs = []
    raw: list[bytes] = []
    org_p, org_i = [], []
    for r in engine.run(setup, state, start, end):
        d = r.delivery
        parts.append((np.full(len(d), int(r.hour.timestamp()), dtype=np.int64), d))
        convs.append(r.conversions)
        org_p.append(r.organic.pin_id)
        org_i.append(r.organic.impression)
        raw.append(
            b"".join(
                [
                    d.pin_promotion_id.tobytes(),
                    d.segment.tobytes(),
                    d.placement.tobytes(),
                    d.keyword_id.tobytes(),
                ]
                + [d.metrics[m].tobytes() for m in METRICS]
                + [getattr(r.conversions, f).tobytes() for f in ConversionBatch.__dataclass_fields__]
                + [r.organic.pin_id.tobytes(), r.organic.impression.tobytes(), r.prices.counts.tobytes()]
            )
        )

    def cat(get: str) -> I64:
        return np.concatenate([getattr(d, get) for _, d in parts]) if parts else np.zeros(0, dtype=np.int64)

    return Collected(
        hour=np.concatenate([h for h, _ in parts]) if parts else np.zeros(0, dtype=np.int64),
        promo=cat("pin_promotion_id"),
        group=cat("ad_group_id"),
        campaign=cat("campaign_id"),
        advertiser=cat("advertiser_id"),
        segment=cat("segment"),
        placement=cat("placement"),
        keyword=cat("keyword_id"),
        metrics={m: np.concatenate([d.metrics[m] for _, d in parts]) for m in METRICS},
        conversions=ConversionBatch.concat(convs),
        organic_pins=np.concatenate(org_p) if org_p else np.zeros(0, dtype=np.int64),
        organic_impressions=np.concatenate(org_i) if org_i else np.zeros(0, dtype=np.int64),
        raw=raw,
    )


def engine(seed: int = 1, keywords: KeywordMatcher | None = None) -> Engine:
    return Engine(small_population(), EngineConfig(seed=seed), keywords=keywords)
