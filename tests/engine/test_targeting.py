from __future__ import annotations

import numpy as np

from pinapi.engine.entities import Keyword
from pinapi.engine.targeting import (
    HashedAudienceMatcher,
    StaticKeywordMatcher,
    keyword_matches,
    segment_share,
    targeting_matrix,
)
from tests.engine.helpers import small_population

AUD = HashedAudienceMatcher(1)


def codes() -> dict[str, np.ndarray]:
    pop = small_population()
    return {k: np.array(v) for k, v in pop.codes(np.arange(pop.segments)).items()}


def test_empty_spec_reaches_everyone() -> None:
    assert (segment_share(small_population(), {}, AUD) == 1).all()


def test_location_geo_gender_app_and_locale_cut_exactly() -> None:
    c = codes()
    pop = small_population()
    share = segment_share(pop, {"LOCATION": ["DE"], "GEO": ["US-CA"]}, AUD)
    assert ((share > 0) == ((c["country"] == "DE") | (c["region"] == "US-CA"))).all()
    share = segment_share(pop, {"GENDER": ["female"], "APPTYPE": ["iphone", "ipad"], "LOCALE": ["es"]}, AUD)
    expected = (c["gender"] == "female") & np.isin(c["app_type"], ["iphone", "ipad"]) & (c["locale"] == "es")
    assert ((share == 1) == expected).all() and ((share == 0) == ~expected).all()


def test_age_21_plus_keeps_part_of_18_24() -> None:
    c = codes()
    share = segment_share(small_population(), {"AGE_BUCKET": ["21+"]}, AUD)
    assert np.allclose(share[c["age"] == "18-24"], 4 / 7)
    assert (share[c["age"] != "18-24"] == 1).all()


def test_interest_share_is_the_union_of_member_shares() -> None:
    pop = small_population()
    ids = [pop.dims.interests[3].id, pop.dims.interests[12].id]
    share = segment_share(pop, {"INTEREST": ids}, AUD)
    s = pop.interest_share
    assert np.allclose(share, 1 - (1 - s[:, 3]) * (1 - s[:, 12]))
    assert (segment_share(pop, {"INTEREST": ["999"]}, AUD) == 0).all()  # unknown interest: nobody


def test_audiences_include_and_exclude() -> None:
    pop = small_population()
    inc = segment_share(pop, {"AUDIENCE_INCLUDE": ["12345"]}, AUD)
    exc = segment_share(pop, {"AUDIENCE_EXCLUDE": ["12345"]}, AUD)
    assert np.allclose(inc + exc, 1)
    assert 0 < inc.mean() < 0.1


def test_matrix_matches_single_shares() -> None:
    pop = small_population()
    specs = [{"LOCATION": ["US"]}, {}, {"LOCATION": ["US"]}]
    m = targeting_matrix(pop, specs, AUD)
    assert m.shape == (pop.segments, 3)
    assert np.array_equal(m[:, 0], m[:, 2])


def test_keyword_match_types() -> None:
    assert keyword_matches(Keyword(1, "home decor", "EXACT"), "home decor")
    assert not keyword_matches(Keyword(1, "home decor", "EXACT"), "home decor ideas")
    assert keyword_matches(Keyword(1, "home decor", "PHRASE"), "best home decor")
    assert not keyword_matches(Keyword(1, "decor home", "PHRASE"), "best home decor")
    assert keyword_matches(Keyword(1, "decor home", "BROAD"), "best home decor")
    km = StaticKeywordMatcher(
        {7: [Keyword(70, "decor", "BROAD"), Keyword(71, "best home decor", "EXACT_NEGATIVE")]}
    )
    match = km.match([7, 8], ["home decor", "best home decor", "food"])
    assert match.allowed.tolist() == [[True, True], [False, True], [False, True]]
    assert match.keyword_id.tolist() == [[70, -1], [-1, -1], [-1, -1]]


def test_us_metros_reach_their_share_of_their_state() -> None:
    c = codes()
    pop = small_population()
    share = segment_share(pop, {"LOCATION": ["803"]}, AUD)  # Los Angeles
    assert ((share > 0) == (c["region"] == "US-CA")).all()
    assert np.allclose(share[c["region"] == "US-CA"], 0.46)
    both = segment_share(pop, {"LOCATION": ["803", "807"]}, AUD)  # + San Francisco
    assert np.allclose(both[c["region"] == "US-CA"], 0.46 + 0.17)
    # A metro beside its own country or region adds nothing to them; beside another it adds.
    assert (segment_share(pop, {"LOCATION": ["US", "803"]}, AUD) == (c["country"] == "US")).all()
    mixed = segment_share(pop, {"LOCATION": ["602"], "GEO": ["US-CA"]}, AUD)  # Chicago + California
    assert (mixed[c["region"] == "US-CA"] == 1).all()
    assert np.allclose(mixed[c["region"] == "US-IL"], 0.75)
    assert (mixed[~np.isin(c["region"], ["US-CA", "US-IL"])] == 0).all()


def test_every_listed_location_reaches_someone() -> None:
    """Each metro the ads resources serve maps to a region the population has."""
    from pinapi.domain.ads.targeting import values_of

    pop = small_population()
    for country in values_of("LOCATION"):
        for metro in country["metros"]:
            share = segment_share(pop, {"LOCATION": [metro["code"]]}, AUD)
            assert share.max() > 0, metro
            assert share.max() < 1, metro  # a part of a state, not all of it
