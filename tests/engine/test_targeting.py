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
