from __future__ import annotations

from zoneinfo import ZoneInfo

import numpy as np

from pinapi.engine.dimensions import AGE_BUCKETS, APP_TYPES, GENDERS, default_dimensions
from pinapi.engine.population import build_population
from pinapi.engine.rng import generator, hash_unit
from pinapi.engine.traffic import TrafficModel, draw_terms, draw_traffic, query_vocabulary
from tests.engine.helpers import small_population


def test_default_dimensions_use_real_codes_and_zones() -> None:
    dims = default_dimensions()
    for c in dims.countries:
        ZoneInfo(c.time_zone)
        assert all(r.code.startswith(c.code + "-") for r in c.regions)
    assert tuple(a.code for a in dims.age_buckets) == AGE_BUCKETS
    assert tuple(g.code for g in dims.genders) == GENDERS
    assert tuple(a.code for a in dims.app_types) == APP_TYPES


def test_population_is_deterministic_and_aggregates_every_pinner() -> None:
    a = build_population(default_dimensions(), 20_000, seed=9)
    b = build_population(default_dimensions(), 20_000, seed=9)
    c = build_population(default_dimensions(), 20_000, seed=10)
    assert int(a.members.sum()) == 20_000
    for name in ("country", "region", "locale", "age", "gender", "app_type", "members", "interest_share"):
        assert getattr(a, name).tobytes() == getattr(b, name).tobytes()
    assert (
        a.members.tobytes() != c.members.tobytes() or a.interest_share.tobytes() != c.interest_share.tobytes()
    )
    keys = np.stack([a.country, a.region, a.locale, a.age, a.gender, a.app_type], axis=1)
    assert np.unique(keys, axis=0).shape[0] == a.segments  # segments are unique combinations
    assert (a.interest_share >= 0).all() and (a.interest_share <= 1).all()
    assert (np.diff(a.country) >= 0).all()  # sorted by country, for the per-country blocks
    codes = a.codes(np.arange(3))
    assert codes["country"][0] in {c.code for c in a.dims.countries}


def test_traffic_follows_local_time() -> None:
    pop = small_population()
    model = TrafficModel()
    from datetime import UTC, datetime

    us = pop.country == 0
    jp = np.array([pop.dims.countries[k].code == "JP" for k in pop.country.tolist()])
    # 01:00 UTC is evening in New York (20:00) and 10:00 in Tokyo.
    t = draw_traffic(model, pop, datetime(2026, 11, 3, 1, tzinfo=UTC), generator(1, 1))
    night = draw_traffic(model, pop, datetime(2026, 11, 3, 9, tzinfo=UTC), generator(1, 1))
    assert t.sessions[us].sum() > 3 * night.sessions[us].sum()  # 20:00 vs 04:00 in New York
    assert night.sessions[jp].sum() > 0
    assert t.slots.shape == (pop.segments, 3)


def test_search_terms_come_from_the_segments_interests() -> None:
    pop = small_population()
    vocab = query_vocabulary(pop)
    terms = draw_terms(pop, np.arange(pop.segments, dtype=np.int64), generator(1, 2))
    assert terms.min() >= 0 and terms.max() < len(vocab)
    assert vocab[0] == pop.dims.interests[0].name.lower()


def test_hash_unit_is_order_independent() -> None:
    ids = np.array([5, 9, 11], dtype=np.int64)
    assert hash_unit(ids, 1, 2)[1] == hash_unit(ids[::-1], 1, 2)[1]
    assert (hash_unit(ids, 1, 2) != hash_unit(ids, 1, 3)).all()
