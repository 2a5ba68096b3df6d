"""Sessions and ad slots per segment and hour.

Pinners open sessions following a daily curve in their country's local time and a weekly
pattern; each session offers ad slots in three placement groups (home feed/browse, search,
related pins/other). Counts are Poisson draws per segment, never per pinner. Search slots
carry a query term drawn from the segment's interests, for keyword targeting.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from zoneinfo import ZoneInfo

import numpy as np
import numpy.typing as npt

from pinapi.engine.dimensions import PLACEMENTS
from pinapi.engine.population import Population

# Share of a day's sessions per local hour (0-23): quiet nights, a lunch bump and an evening
# peak, the usual shape of mobile social traffic.
HOURLY_CURVE = (
    1.6, 1.0, 0.6, 0.4, 0.4, 0.6, 1.4, 2.8, 3.8, 4.0, 4.2, 4.6,
    5.2, 5.0, 4.6, 4.5, 4.7, 5.2, 6.0, 6.8, 7.4, 7.4, 5.6, 3.2,
)  # fmt: skip
# Monday .. Sunday; Pinterest use leans to Sunday evenings and stays flat through the week.
WEEKDAY_FACTOR = (1.0, 0.98, 0.98, 0.97, 0.93, 1.02, 1.12)
QUERY_VARIANTS = ("{}", "{} ideas", "best {}")


@cache
def zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def local_hour_and_weekday(hour: datetime, time_zone: str) -> tuple[int, int]:
    local = hour.astimezone(zone(time_zone))
    return local.hour, local.weekday()


@dataclass(frozen=True, slots=True)
class TrafficModel:
    sessions_per_pinner_day: float = 0.3
    slots_per_session: tuple[float, float, float] = (3.0, 0.8, 1.2)
    """Ad slots per session for BROWSE, SEARCH and OTHER (related pins)."""
    hourly_curve: tuple[float, ...] = HOURLY_CURVE
    weekday_factor: tuple[float, ...] = WEEKDAY_FACTOR

    def hour_share(self, local_hour: int) -> float:
        return self.hourly_curve[local_hour] / sum(self.hourly_curve)

    def remaining_share(self, local_hour: int) -> float:
        """Fraction of the rest of the local day's traffic that falls in ``local_hour``."""
        rest = sum(self.hourly_curve[local_hour:])
        return self.hourly_curve[local_hour] / rest


@dataclass(frozen=True, slots=True)
class HourTraffic:
    sessions: npt.NDArray[np.int64]
    """(segments,) sessions started this hour."""
    slots: npt.NDArray[np.int64]
    """(segments, placements) ad slots offered this hour."""
    country_local_hour: npt.NDArray[np.int64]


def country_factors(model: TrafficModel, population: Population, hour: datetime) -> npt.NDArray[np.float64]:
    """Expected sessions per pinner in this UTC hour, per country (local curve x weekday)."""
    mean_week = sum(model.weekday_factor) / len(model.weekday_factor)
    out = np.empty(len(population.dims.countries), dtype=np.float64)
    for k, c in enumerate(population.dims.countries):
        lh, wd = local_hour_and_weekday(hour, c.time_zone)
        out[k] = model.sessions_per_pinner_day * model.hour_share(lh) * model.weekday_factor[wd] / mean_week
    return out


def draw_traffic(
    model: TrafficModel, population: Population, hour: datetime, rng: np.random.Generator
) -> HourTraffic:
    assert hour.tzinfo is not None and hour.utcoffset() == UTC.utcoffset(None)
    factors = country_factors(model, population, hour)
    expected = population.members * factors[population.country]
    sessions = rng.poisson(expected)
    per_session = np.array(model.slots_per_session, dtype=np.float64)
    slots = rng.poisson(sessions[:, None] * per_session[None, :])
    local = np.array([local_hour_and_weekday(hour, c.time_zone)[0] for c in population.dims.countries])
    assert slots.shape[1] == len(PLACEMENTS)
    return HourTraffic(
        sessions=sessions.astype(np.int64), slots=slots.astype(np.int64), country_local_hour=local
    )


def query_vocabulary(population: Population) -> tuple[str, ...]:
    """Search terms: each top-level interest in a few phrasings; term t is about interest t // V."""
    return tuple(
        variant.format(i.name.lower()) for i in population.dims.interests for variant in QUERY_VARIANTS
    )


def draw_terms(
    population: Population, segments: npt.NDArray[np.int64], rng: np.random.Generator
) -> npt.NDArray[np.int64]:
    """A query term per search slot: an interest the segment holds, then a phrasing."""
    if segments.size == 0:
        return np.zeros(0, dtype=np.int64)
    share = population.interest_share[segments]
    cum = np.cumsum(share, axis=1)
    target = rng.random(segments.size) * cum[:, -1]
    interest = (cum < target[:, None]).sum(axis=1)
    interest = np.minimum(interest, share.shape[1] - 1)
    variant = rng.integers(0, len(QUERY_VARIANTS), size=segments.size)
    out: npt.NDArray[np.int64] = (interest * len(QUERY_VARIANTS) + variant).astype(np.int64)
    return out
