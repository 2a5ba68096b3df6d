"""Property tests: the engine's hard guarantees on random advertiser set-ups."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime, timedelta

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pinapi.engine.entities import AdGroup, Advertiser, Campaign, Keyword, Pin, PinPromotion, Setup
from pinapi.engine.facts import rollup
from pinapi.engine.simulate import local_day
from pinapi.engine.state import EngineState
from pinapi.engine.targeting import HashedAudienceMatcher, segment_share
from tests.engine.helpers import Collected, collect, engine, small_population

START = datetime(2026, 11, 1, 6, tzinfo=UTC)
HOURS = 40
TZS = ("UTC", "America/New_York", "Europe/Berlin", "Asia/Tokyo", "America/Los_Angeles")
CURRENCIES = ("USD", "EUR", "GBP", "JPY")
SPEC_POOL = {
    "LOCATION": ["US", "DE", "GB", "FR", "BR", "JP"],
    "GEO": ["US-CA", "US-TX", "GB-SCT", "DE-BY"],
    "GENDER": ["female", "male", "unknown"],
    "AGE_BUCKET": ["18-24", "21+", "25-34", "35-44", "65+"],
    "APPTYPE": ["iphone", "web", "android_mobile"],
    "LOCALE": ["en", "de", "es"],
    "INTEREST": ["567051613189", "283555907584", "823457644284"],
    "AUDIENCE_INCLUDE": ["111", "222"],
    "AUDIENCE_EXCLUDE": ["333"],
}


def moment(offset_hours: int | None) -> datetime | None:
    return (
        None
        if offset_hours is None
        else START + timedelta(hours=offset_hours, minutes=30 * (offset_hours % 2))
    )


specs = st.dictionaries(st.sampled_from(sorted(SPEC_POOL)), st.integers(0, 10), max_size=3).map(
    lambda d: {
        k: SPEC_POOL[k][v % len(SPEC_POOL[k]) : v % len(SPEC_POOL[k]) + 1 + v % 2] for k, v in d.items()
    }
)
starts = st.one_of(st.none(), st.none(), st.integers(-5, HOURS // 2))
ends = st.one_of(st.none(), st.none(), st.integers(HOURS // 3, HOURS + 5))
mostly_active = st.sampled_from(["ACTIVE"] * 5 + ["PAUSED", "ARCHIVED"])


@st.composite
def setups(draw: st.DrawFn) -> Setup:
    advertisers = [
        Advertiser(
            1 + i,
            draw(st.sampled_from(TZS)),
            draw(st.sampled_from(CURRENCIES)),
            draw(st.sampled_from([True] * 5 + [False])),
        )
        for i in range(draw(st.integers(1, 2)))
    ]
    campaigns = []
    for c in range(draw(st.integers(1, 3))):
        campaigns.append(
            Campaign(
                id=100 + c,
                advertiser_id=draw(st.sampled_from([a.id for a in advertisers])),
                status=draw(mostly_active),
                start_time=moment(draw(starts)),
                end_time=moment(draw(ends)),
                daily_spend_cap=draw(st.one_of(st.none(), st.integers(1, 40).map(lambda x: x * 250_000))),
                lifetime_spend_cap=draw(st.one_of(st.none(), st.integers(1, 60).map(lambda x: x * 500_000))),
            )
        )
    groups, promos, pins = [], [], []
    keywords: dict[int, list[Keyword]] = {}
    for g in range(draw(st.integers(1, 5))):
        event = draw(st.sampled_from(["IMPRESSION", "CLICKTHROUGH", "VIDEO_V_50_MRC"]))
        gid = 1000 + g
        groups.append(
            AdGroup(
                id=gid,
                campaign_id=draw(st.sampled_from([c.id for c in campaigns])),
                status=draw(mostly_active),
                start_time=moment(draw(starts)),
                end_time=moment(draw(ends)),
                budget_type=draw(st.sampled_from(["DAILY", "DAILY", "LIFETIME", "CBO_ADGROUP"])),
                budget_in_micro_currency=draw(
                    st.one_of(st.none(), st.integers(1, 50).map(lambda x: x * 200_000))
                ),
                bid_in_micro_currency=draw(
                    st.sampled_from(
                        {
                            "IMPRESSION": [3_000_000, 20_000_000],
                            "CLICKTHROUGH": [400_000, 3_000_000],
                            "VIDEO_V_50_MRC": [20_000, 200_000],
                        }[event]
                    )
                ),
                billable_event=event,
                bid_strategy_type=draw(
                    st.sampled_from(["MAX_BID", "MAX_BID", "AUTOMATIC_BID", "TARGET_AVG"])
                ),
                pacing_delivery_type=draw(st.sampled_from(["STANDARD", "ACCELERATED"])),
                placement_group=draw(st.sampled_from(["ALL", "ALL", "BROWSE", "SEARCH", "OTHER"])),
                targeting_spec=draw(specs),
                lifetime_frequency_cap=draw(st.one_of(st.none(), st.integers(1, 3))),
            )
        )
        if draw(st.booleans()) and draw(st.booleans()):
            value = draw(st.sampled_from(["beauty", "home decor ideas", "food"]))
            keywords[gid] = [Keyword(50_000 + g, value, draw(st.sampled_from(["BROAD", "PHRASE", "EXACT"])))]
        for j in range(draw(st.integers(1, 2))):
            pid = 10_000 + g * 10 + j
            promos.append(
                PinPromotion(
                    id=pid,
                    ad_group_id=gid,
                    pin_id=pid + 7,
                    status=draw(st.sampled_from(["ACTIVE"] * 5 + ["PAUSED"])),
                    review_status=draw(st.sampled_from(["APPROVED"] * 5 + ["PENDING", "REJECTED"])),
                    creative_type="VIDEO"
                    if event == "VIDEO_V_50_MRC"
                    else draw(st.sampled_from(["REGULAR", "VIDEO"])),
                )
            )
            pins.append(Pin(pid + 7, interests=("567051613189",) if j else ()))
    return Setup(advertisers, campaigns, groups, promos, pins, [Pin(77), Pin(78)], keywords)


def run(setup: Setup) -> tuple[Collected, EngineState]:
    state = EngineState()
    return collect(engine(seed=3), setup, state, START, START + timedelta(hours=HOURS)), state


SETTINGS = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(setups())
def test_invariants_hold(setup: Setup) -> None:
    out, state = run(setup)
    pop = small_population()
    groups = {g.id: g for g in setup.ad_groups}
    camps = {c.id: c for c in setup.campaigns}
    advs = {a.id: a for a in setup.advertisers}
    promos = {p.id: p for p in setup.pin_promotions}
    spend = out.metrics["SPEND_IN_MICRO_DOLLAR"]
    imps = out.metrics["IMPRESSION_1"]
    assert (imps >= 1).all() and (spend >= 0).all()

    # No delivery for paused/archived/pending/rejected entities or inactive advertisers.
    for pid in np.unique(out.promo).tolist():
        p = promos[pid]
        g = groups[p.ad_group_id]
        c = camps[g.campaign_id]
        assert p.status == "ACTIVE" and p.review_status == "APPROVED"
        assert g.status == "ACTIVE" and c.status == "ACTIVE" and advs[c.advertiser_id].active

    day_spend: dict[tuple[int, str], int] = defaultdict(int)
    camp_day: dict[tuple[int, str], int] = defaultdict(int)
    life: dict[int, int] = defaultdict(int)
    camp_life: dict[int, int] = defaultdict(int)
    for i in range(out.hour.size):
        g = groups[int(out.group[i])]
        c = camps[g.campaign_id]
        hour = datetime.fromtimestamp(int(out.hour[i]), UTC)
        # Schedules: the whole hour lies inside the ad group's and the campaign's.
        for start, end in ((g.start_time, g.end_time), (c.start_time, c.end_time)):
            assert start is None or start <= hour
            assert end is None or hour + timedelta(hours=1) <= end
        day = local_day(hour, advs[c.advertiser_id].time_zone).isoformat()
        day_spend[(g.id, day)] += int(spend[i])
        camp_day[(c.id, day)] += int(spend[i])
        life[g.id] += int(spend[i])
        camp_life[c.id] += int(spend[i])
        # Placement groups.
        assert g.placement_group == "ALL" or int(out.placement[i]) == ("BROWSE", "SEARCH", "OTHER").index(
            g.placement_group
        )
        # Keywords only on search and only matched ones for keyword-targeted ad groups.
        if setup.keywords.get(g.id) and int(out.placement[i]) == 1:
            assert int(out.keyword[i]) == setup.keywords[g.id][0].id
        if int(out.placement[i]) != 1:
            assert int(out.keyword[i]) == -1

    # Budgets and caps, per advertiser day and lifetime.
    for (gid, day), s in day_spend.items():
        g = groups[gid]
        if g.budget_in_micro_currency is not None and g.budget_type == "DAILY":
            assert s <= g.budget_in_micro_currency
        assert state.ad_group_day_spend[(gid, day)] == s
    for gid, s in life.items():
        g = groups[gid]
        if g.budget_in_micro_currency is not None and g.budget_type == "LIFETIME":
            assert s <= g.budget_in_micro_currency
        assert state.ad_group_lifetime_spend[gid] == s
    for (cid, day), s in camp_day.items():
        cap = camps[cid].daily_spend_cap
        assert cap is None or s <= cap
        assert state.campaign_day_spend[(cid, day)] == s
    for cid, s in camp_life.items():
        cap = camps[cid].lifetime_spend_cap
        assert cap is None or s <= cap

    # Charges never above the bid for MAX_BID ad groups.
    for gid in np.unique(out.group).tolist():
        g = groups[gid]
        sel = out.group == gid
        if g.bid_strategy_type == "MAX_BID":
            assert g.bid_in_micro_currency is not None
            if g.billable_event == "IMPRESSION":
                assert int(spend[sel].sum()) * 1000 <= g.bid_in_micro_currency * int(imps[sel].sum())
            else:
                billable = int(out.metrics["BILLABLE_EVENTS"][sel].sum())
                assert int(spend[sel].sum()) <= g.bid_in_micro_currency * billable

    # Targeting: no impression in a segment outside the spec.
    audiences = HashedAudienceMatcher(3)
    for gid in np.unique(out.group).tolist():
        share = segment_share(pop, groups[gid].targeting_spec, audiences)
        assert (share[out.segment[out.group == gid]] > 0).all()

    # Frequency caps (the whole run lies inside one 30-day window).
    for gid in np.unique(out.group).tolist():
        g = groups[gid]
        if g.lifetime_frequency_cap and g.billable_event == "IMPRESSION":
            sel = out.group == gid
            per_seg = np.bincount(out.segment[sel], weights=imps[sel], minlength=pop.segments)
            assert (per_seg <= g.lifetime_frequency_cap * pop.members).all()

    # Metric consistency inside each row.
    m = out.metrics
    assert (m["ENGAGEMENT_1"] == m["CLOSEUP_1"] + m["SAVE_1"] + m["CLICKTHROUGH_1"]).all()
    assert (m["OUTBOUND_CLICK_1"] <= m["CLICKTHROUGH_1"]).all()
    assert (m["VIDEO_START_1"] >= m["VIDEO_2S_VIEW_1"]).all()
    assert (m["VIDEO_2S_VIEW_1"] >= m["VIDEO_MRC_VIEWS_1"]).all()
    assert (m["VIDEO_2S_VIEW_1"] >= m["VIDEO_10S_VIEW_1"]).all()
    for a, b in (("P25", "P50"), ("P50", "P75"), ("P75", "P95"), ("P95", "P100")):
        assert (m[f"VIDEO_{a}_COMBINED_1"] >= m[f"VIDEO_{b}_COMBINED_1"]).all()
    assert (m["VIDEO_START_1"] <= imps).all()

    # Conversions: after their touch, for delivered promotions, inside the simulated hours.
    cv = out.conversions
    assert (cv.time > cv.touch_time).all()
    assert (cv.time < int((START + timedelta(hours=HOURS)).timestamp())).all()
    assert set(cv.pin_promotion_id.tolist()) <= set(out.promo.tolist())


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(setups())
def test_levels_sum_exactly(setup: Setup) -> None:
    out, _ = run(setup)
    if out.hour.size == 0:
        return
    pop = small_population()
    from pinapi.engine.facts import DeliveryFacts

    facts = DeliveryFacts(
        out.promo,
        out.group,
        out.campaign,
        out.advertiser,
        out.segment,
        out.placement,
        out.keyword,
        out.metrics,
    )
    attrs = pop.attributes()
    keys_p, by_promo = rollup(facts, ("pin_promotion_id", "ad_group_id"), attrs)
    keys_g, by_group = rollup(facts, ("ad_group_id",), attrs)
    keys_c, by_camp = rollup(facts, ("campaign_id",), attrs)
    keys_cc, by_country = rollup(facts, ("ad_group_id", "country"), attrs)
    _, total = rollup(facts, (), attrs)
    groups = {g.id: g.campaign_id for g in setup.ad_groups}
    for name in by_promo:
        for i, gid in enumerate(keys_g["ad_group_id"].tolist()):
            assert by_promo[name][keys_p["ad_group_id"] == gid].sum() == by_group[name][i]
            assert by_country[name][keys_cc["ad_group_id"] == gid].sum() == by_group[name][i]
        for i, cid in enumerate(keys_c["campaign_id"].tolist()):
            children = [j for j, gid in enumerate(keys_g["ad_group_id"].tolist()) if groups[gid] == cid]
            assert by_group[name][children].sum() == by_camp[name][i]
        assert by_camp[name].sum() == total[name][0] == out.metrics[name].sum()


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(setups(), st.integers(1, 12))
def test_same_seed_same_bytes_and_split_runs_agree(setup: Setup, cut: int) -> None:
    whole, _ = run(setup)
    again, _ = run(setup)
    assert whole.raw == again.raw
    state = EngineState()
    first = collect(engine(seed=3), setup, state, START, START + timedelta(hours=cut))
    rest = collect(engine(seed=3), setup, state, START + timedelta(hours=cut), START + timedelta(hours=HOURS))
    assert first.raw + rest.raw == whole.raw
