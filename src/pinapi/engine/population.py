"""A seeded synthetic population of pinners, aggregated into segments.

Individual pinners are drawn once (country, region, locale, age bucket, gender, app type and a
set of top-level interests) and then folded into SEGMENTS: the unique attribute combinations
with their member counts and, per interest, the share of members who hold it. Everything
downstream (traffic, targeting, auctions) works on segment x hour arrays, so the cost of a
simulated hour does not depend on the number of pinners.

Interests are drawn independently per pinner given (age bucket, gender), which are part of
the segment key, so within a segment the share of members holding any of a set of interests
is exactly ``1 - prod(1 - share_i)`` in expectation; targeting relies on that.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from pinapi.engine.dimensions import Dimensions, Weighted
from pinapi.engine.rng import generator

_STREAM_POPULATION = 1
_CHUNK = 262_144
_MEAN_INTERESTS = 3.0
_PRIOR = 20.0


@dataclass(frozen=True, slots=True)
class Population:
    """Segments of the population; index arrays point into the tables below."""

    dims: Dimensions
    size: int
    regions: tuple[str, ...]
    """Global region table; ``""`` stands for "no region known" in a country without regions."""
    locales: tuple[str, ...]
    country: npt.NDArray[np.int16]
    region: npt.NDArray[np.int32]
    locale: npt.NDArray[np.int16]
    age: npt.NDArray[np.int8]
    gender: npt.NDArray[np.int8]
    app_type: npt.NDArray[np.int8]
    members: npt.NDArray[np.int64]
    interest_share: npt.NDArray[np.float64]
    """(segments, interests): estimated fraction of the segment's members holding each interest
    (the members' own share, shrunk toward the country x age x gender pool for small segments)."""

    @property
    def segments(self) -> int:
        return int(self.members.shape[0])

    def attributes(self) -> dict[str, npt.NDArray[np.int64]]:
        """Per-segment attribute indices, keyed like ``facts.SEGMENT_KEYS``."""
        return {
            "country": self.country.astype(np.int64),
            "region": self.region.astype(np.int64),
            "locale": self.locale.astype(np.int64),
            "age": self.age.astype(np.int64),
            "gender": self.gender.astype(np.int64),
            "app_type": self.app_type.astype(np.int64),
        }

    def codes(self, segment: npt.NDArray[np.int64]) -> dict[str, list[str]]:
        """The targeting values of the given segments (country, region, age bucket, ...)."""
        d = self.dims
        return {
            "country": [d.countries[i].code for i in self.country[segment].tolist()],
            "region": [self.regions[i] for i in self.region[segment].tolist()],
            "locale": [self.locales[i] for i in self.locale[segment].tolist()],
            "age": [d.age_buckets[i].code for i in self.age[segment].tolist()],
            "gender": [d.genders[i].code for i in self.gender[segment].tolist()],
            "app_type": [d.app_types[i].code for i in self.app_type[segment].tolist()],
        }

    def country_blocks(self) -> list[tuple[int, int]]:
        """Segments are sorted by country first: [start, stop) of each country's rows."""
        bounds = np.searchsorted(self.country, np.arange(len(self.dims.countries) + 1))
        return [(int(bounds[k]), int(bounds[k + 1])) for k in range(len(self.dims.countries))]


def _probs(items: tuple[Weighted, ...]) -> npt.NDArray[np.float64]:
    w = np.array([i.weight for i in items], dtype=np.float64)
    out: npt.NDArray[np.float64] = w / w.sum()
    return out


def build_population(dims: Dimensions, size: int = 1_000_000, seed: int = 0) -> Population:
    """Draw ``size`` pinners from ``dims`` and aggregate them into segments."""
    if size <= 0:
        raise ValueError("population size must be positive")
    if len(dims.interests) > 63:
        raise ValueError("at most 63 top-level interests")
    rng = generator(seed, _STREAM_POPULATION)
    regions: list[str] = []
    locales: list[str] = []
    locale_index: dict[str, int] = {}
    country = rng.choice(len(dims.countries), size=size, p=_probs(tuple(
        Weighted(c.code, c.weight) for c in dims.countries)))  # fmt: skip
    region = np.zeros(size, dtype=np.int64)
    locale = np.zeros(size, dtype=np.int64)
    for k, c in enumerate(dims.countries):
        rows = np.flatnonzero(country == k)
        choices = c.regions or (Weighted("", 1.0),)
        offset = len(regions)
        regions.extend(r.code for r in choices)
        region[rows] = offset + rng.choice(len(choices), size=rows.size, p=_probs(choices))
        loc_choices = c.locales or (Weighted("en", 1.0),)
        ids = np.array([locale_index.setdefault(lc.code, len(locale_index)) for lc in loc_choices])
        locale[rows] = ids[rng.choice(len(loc_choices), size=rows.size, p=_probs(loc_choices))]
    locales = sorted(locale_index, key=locale_index.__getitem__)
    age = rng.choice(len(dims.age_buckets), size=size, p=_probs(dims.age_buckets))
    gender = rng.choice(len(dims.genders), size=size, p=_probs(dims.genders))
    app = rng.choice(len(dims.app_types), size=size, p=_probs(dims.app_types))

    n_age, n_gender, n_app = len(dims.age_buckets), len(dims.genders), len(dims.app_types)
    n_loc, n_reg = max(len(locales), 1), max(len(regions), 1)
    key = ((((country * n_reg + region) * n_loc + locale) * n_age + age) * n_gender + gender) * n_app + app
    keys, seg, members = np.unique(key, return_inverse=True, return_counts=True)

    counts = _interest_shares(dims, rng, age, gender, seg, keys.size)

    rest = keys
    rest, app_s = np.divmod(rest, n_app)
    rest, gender_s = np.divmod(rest, n_gender)
    rest, age_s = np.divmod(rest, n_age)
    rest, locale_s = np.divmod(rest, n_loc)
    country_s, region_s = np.divmod(rest, n_reg)
    # Small segments estimate their interest shares badly (3 members give 0, 1/3, 2/3 or 1):
    # shrink each toward its (country, age, gender) pool with _PRIOR pseudo-members.
    pool = (country_s * n_age + age_s) * n_gender + gender_s
    pool_members = np.bincount(pool, weights=members)
    pooled = (
        np.stack([np.bincount(pool, weights=counts[:, i]) for i in range(counts.shape[1])], axis=1)
        / np.maximum(pool_members, 1)[:, None]
    )
    shares = (counts + _PRIOR * pooled[pool]) / (members + _PRIOR)[:, None]
    return Population(
        dims=dims,
        size=size,
        regions=tuple(regions),
        locales=tuple(locales),
        country=country_s.astype(np.int16),
        region=region_s.astype(np.int32),
        locale=locale_s.astype(np.int16),
        age=age_s.astype(np.int8),
        gender=gender_s.astype(np.int8),
        app_type=app_s.astype(np.int8),
        members=members.astype(np.int64),
        interest_share=shares,
    )


def _interest_shares(
    dims: Dimensions,
    rng: np.random.Generator,
    age: npt.NDArray[np.int64],
    gender: npt.NDArray[np.int64],
    seg: npt.NDArray[np.int64],
    n_segments: int,
) -> npt.NDArray[np.float64]:
    """Per segment, how many members hold each interest (drawn per pinner, in chunks)."""
    weights = np.array([i.weight for i in dims.interests], dtype=np.float64)
    base = weights * _MEAN_INTERESTS / weights.sum()
    # Demographic tilt: each (age, gender) pair likes each interest a bit more or less.
    tilt = np.exp(0.6 * rng.standard_normal((len(dims.age_buckets), len(dims.genders), weights.size)))
    prob = np.clip(base[None, None, :] * tilt, 0.0, 0.9)
    counts = np.zeros((n_segments, weights.size), dtype=np.float64)
    for start in range(0, age.size, _CHUNK):
        stop = min(start + _CHUNK, age.size)
        p = prob[age[start:stop], gender[start:stop]]
        held = rng.random(p.shape) < p
        for i in range(weights.size):
            counts[:, i] += np.bincount(seg[start:stop], weights=held[:, i], minlength=n_segments)
    return counts
