"""Targeting: which share of each segment an ad group's ``targeting_spec`` reaches.

The result is a float in [0, 1] per segment: 1 for a segment entirely inside the spec, 0 for
one outside it, and a fraction where only some members match (interests, audiences, the
"21+" age bucket). The auction accepts a slot of a segment for an ad group with exactly this
probability, so no impression ever reaches a segment whose share is 0.

Audience lists and keywords belong to other areas; they plug in through the
``AudienceMatcher`` and ``KeywordMatcher`` protocols. The defaults here are deterministic
stand-ins: hashed audience membership and literal keyword matching on query terms.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol
from zlib import crc32

import numpy as np
import numpy.typing as npt

from pinapi.engine.entities import Keyword
from pinapi.engine.population import Population
from pinapi.engine.rng import hash_unit

_PARTIAL_AGE = {"19+": 6 / 7, "20+": 5 / 7, "21+": 4 / 7}
"""Open-ended buckets cut into 18-24: the kept share of that bucket, ages assumed uniform."""
NEGATIVE_MATCH = frozenset({"EXACT_NEGATIVE", "PHRASE_NEGATIVE", "NEGATIVE"})


class AudienceMatcher(Protocol):
    def share(self, audience_ids: Sequence[str], population: Population) -> npt.NDArray[np.float64]:
        """Per segment, the fraction of members in at least one of the audiences."""
        ...


@dataclass(frozen=True, slots=True)
class HashedAudienceMatcher:
    """Stand-in until audiences are built: each audience is a seeded 0.5-5% slice of every
    segment, varying by segment, so include/exclude behave plausibly and deterministically."""

    seed: int = 0

    def share(self, audience_ids: Sequence[str], population: Population) -> npt.NDArray[np.float64]:
        outside = np.ones(population.segments, dtype=np.float64)
        seg_ids = np.arange(population.segments, dtype=np.int64)
        for raw in audience_ids:
            aid = int(raw) if str(raw).isdigit() else crc32(str(raw).encode())
            size = 0.005 + 0.045 * float(hash_unit(np.array([aid], dtype=np.int64), self.seed, 7)[0])
            local = size * 2 * hash_unit(seg_ids, self.seed, aid % (1 << 31))
            outside *= 1 - np.clip(local, 0, 1)
        return 1 - outside


@dataclass(frozen=True, slots=True)
class KeywordMatch:
    allowed: npt.NDArray[np.bool_]
    """(terms, ad groups): may the ad group serve on a search for the term?"""
    keyword_id: npt.NDArray[np.int64]
    """(terms, ad groups): the keyword that matched, -1 when the ad group has none."""


class KeywordMatcher(Protocol):
    def match(self, ad_group_ids: Sequence[int], terms: Sequence[str]) -> KeywordMatch: ...


def keyword_matches(keyword: Keyword, term: str) -> bool:
    """EXACT: the same words; PHRASE: the words in order; BROAD: all the words, any order."""
    words, query = keyword.value.lower().split(), term.lower().split()
    kind = keyword.match_type.replace("_NEGATIVE", "")
    if kind == "EXACT":
        return words == query
    if kind == "PHRASE":
        n = len(words)
        return any(query[i : i + n] == words for i in range(len(query) - n + 1))
    return set(words) <= set(query)


@dataclass(frozen=True, slots=True)
class StaticKeywordMatcher:
    """Keyword targeting from a fixed table: ad groups with positive keywords serve search only
    on terms one of them matches; negative keywords block the terms they match."""

    keywords: Mapping[int, Sequence[Keyword]]

    def match(self, ad_group_ids: Sequence[int], terms: Sequence[str]) -> KeywordMatch:
        allowed = np.ones((len(terms), len(ad_group_ids)), dtype=bool)
        kw_id = np.full((len(terms), len(ad_group_ids)), -1, dtype=np.int64)
        for g, gid in enumerate(ad_group_ids):
            kws = self.keywords.get(gid, ())
            positive = [k for k in kws if k.match_type not in NEGATIVE_MATCH]
            negative = [k for k in kws if k.match_type in NEGATIVE_MATCH]
            for t, term in enumerate(terms):
                if positive:
                    hit = next((k for k in positive if keyword_matches(k, term)), None)
                    allowed[t, g] = hit is not None
                    kw_id[t, g] = hit.id if hit is not None else -1
                if any(keyword_matches(k, term) for k in negative):
                    allowed[t, g] = False
                    kw_id[t, g] = -1
        return KeywordMatch(allowed=allowed, keyword_id=kw_id)


def _values(spec: Mapping[str, Sequence[str]], key: str) -> list[str]:
    for k, v in spec.items():
        if k.upper() == key:
            return [str(x) for x in v]
    return []


def _has(spec: Mapping[str, Sequence[str]], key: str) -> bool:
    return any(k.upper() == key and len(v) > 0 for k, v in spec.items())


def segment_share(
    population: Population, spec: Mapping[str, Sequence[str]], audiences: AudienceMatcher
) -> npt.NDArray[np.float64]:
    """The share of each segment's members inside ``spec`` (an empty key means "everyone")."""
    dims = population.dims
    share = np.ones(population.segments, dtype=np.float64)
    if _has(spec, "LOCATION") or _has(spec, "GEO"):
        places = set(_values(spec, "LOCATION")) | set(_values(spec, "GEO"))
        country_ok = np.array([c.code in places for c in dims.countries])
        region_share = np.array([1.0 if r != "" and r in places else 0.0 for r in population.regions])
        # A metro is a share of its region's pinners; metros of one region are disjoint.
        for metro in dims.metros:
            if metro.code in places:
                for r, code in enumerate(population.regions):
                    if code == metro.region and region_share[r] < 1.0:
                        region_share[r] = min(1.0, region_share[r] + metro.share)
        share *= np.where(country_ok[population.country], 1.0, region_share[population.region])
    if _has(spec, "AGE_BUCKET"):
        wanted = set(_values(spec, "AGE_BUCKET"))
        factor = np.zeros(len(dims.age_buckets))
        for i, a in enumerate(dims.age_buckets):
            if a.code in wanted:
                factor[i] = 1.0
            elif a.code == "18-24":
                factor[i] = max((_PARTIAL_AGE[w] for w in wanted if w in _PARTIAL_AGE), default=0.0)
            elif any(w in _PARTIAL_AGE for w in wanted):
                factor[i] = 1.0
        share *= factor[population.age]
    for key, table, index in (
        ("GENDER", dims.genders, population.gender),
        ("APPTYPE", dims.app_types, population.app_type),
    ):
        if _has(spec, key):
            wanted = {v.lower() for v in _values(spec, key)}
            share *= np.array([w.code in wanted for w in table])[index]
    if _has(spec, "LOCALE"):
        wanted = {v.split("-")[0].split("_")[0].lower() for v in _values(spec, "LOCALE")}
        share *= np.array([loc in wanted for loc in population.locales])[population.locale]
    if _has(spec, "INTEREST"):
        top = {i.id: n for n, i in enumerate(dims.interests)}
        cols = sorted(
            {top[v] for v in _values(spec, "INTEREST") if v in top}
            | {top[dims.interest_parents[v]] for v in _values(spec, "INTEREST")
               if v in dims.interest_parents and dims.interest_parents[v] in top}
        )  # fmt: skip
        outside = np.prod(1 - population.interest_share[:, cols], axis=1) if cols else 1.0
        share *= 1 - outside
    if _has(spec, "AUDIENCE_INCLUDE"):
        share *= audiences.share(_values(spec, "AUDIENCE_INCLUDE"), population)
    if _has(spec, "AUDIENCE_EXCLUDE"):
        share *= 1 - audiences.share(_values(spec, "AUDIENCE_EXCLUDE"), population)
    return np.clip(share, 0.0, 1.0)


def targeting_matrix(
    population: Population, specs: Sequence[Mapping[str, Sequence[str]]], audiences: AudienceMatcher
) -> npt.NDArray[np.float32]:
    """(segments, ad groups) reach shares; identical specs are computed once."""
    out = np.zeros((population.segments, len(specs)), dtype=np.float32)
    cache: dict[tuple[tuple[str, tuple[str, ...]], ...], npt.NDArray[np.float64]] = {}
    for g, spec in enumerate(specs):
        key = tuple(sorted((k.upper(), tuple(sorted(str(x) for x in v))) for k, v in spec.items()))
        if key not in cache:
            cache[key] = segment_share(population, spec, audiences)
        out[:, g] = cache[key]
    return out
