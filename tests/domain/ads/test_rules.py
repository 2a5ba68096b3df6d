from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from pinapi.domain.ads import rules, targeting
from pinapi.domain.errors import Invalid, ValidationFailed

NOW = datetime(2026, 11, 2, 12, tzinfo=UTC)
DAY = timedelta(days=1)


def test_every_objective_has_a_compat_row_with_known_values() -> None:
    assert set(rules.COMPAT) == set(rules.OBJECTIVES)
    for row in rules.COMPAT.values():
        assert set(row.billable_events) <= set(rules.BILLABLE_EVENTS) and row.billable_events
        assert set(row.bid_strategies) <= set(rules.BID_STRATEGIES) and row.bid_strategies
        assert set(row.creative_types) <= set(rules.CREATIVE_TYPES) and row.creative_types
    assert rules.COMPAT["VIDEO_VIEW"].billable_events == ("VIDEO_V_50_MRC",)


def test_creative_type_check_for_promotions() -> None:
    rules.check_creative_type("VIDEO_VIEW", "VIDEO")
    with pytest.raises(ValidationFailed) as err:
        rules.check_creative_type("VIDEO_VIEW", "REGULAR")
    assert err.value.field == "creative_type" and err.value.code == 15
    with pytest.raises(Invalid) as bad:
        rules.check_creative_type("AWARENESS", "GIF")
    assert bad.value.code == 1


def test_every_currency_and_country_has_minimums() -> None:
    for country in rules.countries().values():
        assert country["currency"] in rules.currencies()
        assert country["timezone"] in rules.timezones()
    for code in rules.currencies():
        m = rules.minimums(code)
        assert 0 < m.min_bid < m.daily_budget < m.lifetime_budget and m.min_bid < m.max_bid
    assert rules.minimums("USD") == rules.Minimums(1_000_000, 5_000_000, 20_000, 100_000_000)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [(None, None), ("", None), (1_793_620_800, NOW), ("1793620800", NOW), (1_793_620_800.0, NOW)],
)
def test_parse_time(raw: object, expected: datetime | None) -> None:
    assert rules.parse_time("start_time", raw) == expected


@pytest.mark.parametrize("raw", ["soon", True, 1.5, 10, 9_999_999_999_999])
def test_parse_time_refuses(raw: object) -> None:
    with pytest.raises(Invalid) as err:
        rules.parse_time("start_time", raw)
    assert err.value.field == "start_time"


def test_campaign_and_ad_group_checks() -> None:
    camp = rules.CampaignState("c", "AWARENESS", "ACTIVE", daily_spend_cap=10_000_000, end_time=NOW + 9 * DAY)
    rules.check_campaign(camp, currency="USD", now=NOW, changed={"end_time"})
    group = rules.AdGroupState("g", "ACTIVE", "IMPRESSION", budget=5_000_000, bid=100_000)
    rules.check_ad_group(group, campaign=camp, currency="USD", now=NOW, changed=set())
    group.budget = 11_000_000
    with pytest.raises(ValidationFailed) as err:
        rules.check_ad_group(group, campaign=camp, currency="USD", now=NOW, changed=set())
    assert err.value.field == "budget_in_micro_currency"
    # JPY minimums scale with the currency
    with pytest.raises(ValidationFailed):
        rules.check_campaign(
            rules.CampaignState("c", "AWARENESS", "ACTIVE", daily_spend_cap=10_000_000),
            currency="JPY",
            now=NOW,
            changed=set(),
        )


def test_targeting_spec_is_canonical_and_strict() -> None:
    spec = targeting.validate_spec('{"gender": ["male", "male"], "LOCATION": ["US", 807], "AGE_BUCKET": []}')
    assert spec == {"GENDER": ["male"], "LOCATION": ["US", "807"]}
    with pytest.raises(Invalid) as err:
        targeting.validate_spec({"AUDIENCE_INCLUDE": ["12"], "AUDIENCE_EXCLUDE": ["12"]}, audiences={"12"})
    assert err.value.field == "targeting_spec.AUDIENCE_EXCLUDE"
    assert targeting.validate_spec({"AUDIENCE_INCLUDE": ["12"]}, audiences={"12", "13"}) == {
        "AUDIENCE_INCLUDE": ["12"]
    }
    for kind in ("AUDIENCE_INCLUDE", "AUDIENCE_EXCLUDE"):
        with pytest.raises(Invalid) as err:  # no audience of the advertiser has this id
            targeting.validate_spec({kind: ["12"]})
        assert err.value.field == f"targeting_spec.{kind}" and "unknown value '12'" in err.value.message
    with pytest.raises(Invalid):
        targeting.validate_spec({"AUDIENCE_INCLUDE": ["abc"]}, audiences={"abc"})
    with pytest.raises(Invalid):
        targeting.validate_spec(["GENDER"])


def test_interest_tree_is_consistent() -> None:
    tree = targeting.interests()
    assert len(tree) == 305
    for node in tree.values():
        if node.parent_id is None:
            assert node.level == 1
        else:
            parent = tree[node.parent_id]
            assert node.id in parent.children and node.level == parent.level + 1
        assert len(node.id) == 12 and node.id.isdigit()
