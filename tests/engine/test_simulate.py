"""Driver behaviour on hand-built set-ups: pacing, budgets, caps, determinism, organic."""

from __future__ import annotations

import pickle
from datetime import UTC, datetime, timedelta

import numpy as np

from pinapi.engine.conversions import ConversionBatch
from pinapi.engine.entities import AdGroup, Advertiser, Campaign, Keyword, Pin, PinPromotion, Setup
from pinapi.engine.simulate import local_day
from pinapi.engine.state import EngineState
from tests.engine.helpers import collect, engine, small_population

START = datetime(2026, 11, 2, 5, tzinfo=UTC)  # 00:00 in New York


def book(**group: object) -> Setup:
    base: dict[str, object] = {
        "id": 500,
        "campaign_id": 50,
        "budget_in_micro_currency": 5_000_000,
        "bid_in_micro_currency": 20_000_000,
        "targeting_spec": {"LOCATION": ["US"]},
    }
    base.update(group)
    return Setup(
        advertisers=[Advertiser(5, "America/New_York", "USD")],
        campaigns=[Campaign(50, 5)],
        ad_groups=[AdGroup(**base)],  # type: ignore[arg-type]
        pin_promotions=[PinPromotion(5000, 500, 9000), PinPromotion(5001, 500, 9001, creative_type="VIDEO")],
        pins=[Pin(9000, interests=("567051613189",)), Pin(9001, video=True)],
        organic_pins=[Pin(1), Pin(2), Pin(3)],
    )


def hourly_spend(setup: Setup, hours: int = 24, seed: int = 1) -> np.ndarray:
    out = collect(engine(seed), setup, EngineState(), START, START + timedelta(hours=hours))
    h = (out.hour - int(START.timestamp())) // 3600
    return np.bincount(h, weights=out.metrics["SPEND_IN_MICRO_DOLLAR"], minlength=hours).astype(np.int64)


def test_standard_pacing_spreads_the_daily_budget_and_never_exceeds_it() -> None:
    spend = hourly_spend(book())
    assert spend.sum() <= 5_000_000
    assert spend.sum() >= 4_500_000  # the budget is used
    assert spend[:12].sum() < 0.6 * spend.sum()  # spread: the evening keeps a good share
    assert (spend[18:] > 0).any()


def test_accelerated_spends_as_fast_as_traffic_allows() -> None:
    spend = hourly_spend(book(pacing_delivery_type="ACCELERATED"))
    assert 4_500_000 <= spend.sum() <= 5_000_000
    first = int(np.flatnonzero(np.cumsum(spend) >= 0.9 * spend.sum())[0])
    standard = hourly_spend(book())
    first_std = int(np.flatnonzero(np.cumsum(standard) >= 0.9 * standard.sum())[0])
    assert first < first_std


def test_lifetime_budget_and_campaign_caps_hold_across_days() -> None:
    setup = book(
        budget_type="LIFETIME", budget_in_micro_currency=7_000_000, end_time=START + timedelta(days=2)
    )
    setup = Setup(
        setup.advertisers,
        [Campaign(50, 5, daily_spend_cap=3_000_000, lifetime_spend_cap=6_000_000)],
        setup.ad_groups,
        setup.pin_promotions,
        setup.pins,
    )
    state = EngineState()
    out = collect(engine(), setup, state, START, START + timedelta(hours=48))
    spend = out.metrics["SPEND_IN_MICRO_DOLLAR"]
    assert int(spend.sum()) <= 6_000_000
    days = np.array(
        [local_day(datetime.fromtimestamp(int(t), UTC), "America/New_York").toordinal() for t in out.hour]
    )
    for d in np.unique(days):
        assert int(spend[days == d].sum()) <= 3_000_000
    assert state.campaign_lifetime_spend[50] == int(spend.sum())
    assert state.ad_group_lifetime_spend[500] == int(spend.sum())


def test_frequency_cap_limits_impressions_per_pinner() -> None:
    pop = small_population()
    setup = book(
        budget_in_micro_currency=None,
        lifetime_frequency_cap=1,
        targeting_spec={"LOCATION": ["GB"], "AGE_BUCKET": ["65+"]},
        pacing_delivery_type="ACCELERATED",
        bid_in_micro_currency=400_000_000,
    )
    out = collect(engine(), setup, EngineState(), START, START + timedelta(hours=72))
    per_seg = np.bincount(out.segment, weights=out.metrics["IMPRESSION_1"], minlength=pop.segments)
    assert per_seg.sum() > 0
    assert (per_seg <= pop.members).all()
    assert (per_seg == pop.members).any()  # the cap is what stopped delivery somewhere


def test_same_seed_gives_identical_bytes_and_split_runs_match() -> None:
    setup = book(budget_in_micro_currency=20_000_000)
    end = START + timedelta(hours=30)
    a = collect(engine(7), setup, EngineState(), START, end)
    b = collect(engine(7), setup, EngineState(), START, end)
    assert a.raw == b.raw
    c = collect(engine(8), setup, EngineState(), START, end)
    assert c.raw != a.raw
    state = EngineState()
    first = collect(engine(7), setup, state, START, START + timedelta(hours=13))
    second = collect(engine(7), setup, state, START + timedelta(hours=13), end)
    assert first.raw + second.raw == a.raw


def test_paused_and_unapproved_deliver_nothing_but_organic_continues() -> None:
    setup = book()
    paused = Setup(
        setup.advertisers,
        setup.campaigns,
        [
            AdGroup(
                500, 50, status="PAUSED", budget_in_micro_currency=5_000_000, bid_in_micro_currency=20_000_000
            )
        ],
        setup.pin_promotions,
        setup.pins,
        setup.organic_pins,
    )
    out = collect(engine(), paused, EngineState(), START, START + timedelta(hours=6))
    assert out.hour.size == 0
    assert set(out.organic_pins.tolist()) == {1, 2, 3}
    assert int(out.organic_impressions.sum()) > 0
    pending = Setup(
        setup.advertisers,
        setup.campaigns,
        setup.ad_groups,
        [
            PinPromotion(5000, 500, 9000, review_status="PENDING"),
            PinPromotion(5001, 500, 9001, status="PAUSED"),
        ],
        setup.pins,
    )
    assert collect(engine(), pending, EngineState(), START, START + timedelta(hours=6)).hour.size == 0


def test_keyword_targeting_serves_search_only_on_matching_terms() -> None:
    setup = book(placement_group="SEARCH", budget_in_micro_currency=None)
    setup = Setup(
        setup.advertisers,
        setup.campaigns,
        setup.ad_groups,
        setup.pin_promotions,
        setup.pins,
        keywords={500: [Keyword(42, "beauty", "BROAD"), Keyword(43, "best beauty", "EXACT_NEGATIVE")]},
    )
    out = collect(engine(), setup, EngineState(), START, START + timedelta(hours=12))
    assert out.hour.size > 0
    assert (out.placement == 1).all()
    assert (out.keyword == 42).all()


def test_conversions_follow_clicks_and_wait_for_their_hour() -> None:
    setup = book(budget_in_micro_currency=None, bid_in_micro_currency=30_000_000)
    state = EngineState()
    out = collect(engine(), setup, state, START, START + timedelta(hours=24))
    cv = out.conversions
    assert len(cv) > 0
    assert (cv.time >= cv.touch_time).all()
    assert (cv.time < int((START + timedelta(hours=24)).timestamp())).all()
    assert state.pending, "later conversions wait in the state"
    later = min(state.pending)
    more = collect(engine(), setup, state, START + timedelta(hours=24), START + timedelta(hours=25))
    assert later >= int((START + timedelta(hours=24)).timestamp()) // 3600
    assert (more.conversions.time // 3600 == (int(START.timestamp()) // 3600) + 24).all()
    assert set(np.unique(cv.event).tolist()) <= set(range(6))
    assert (cv.value_micro[cv.event < 4] == 0).all()
    assert (cv.value_micro[cv.event >= 4] > 0).all()


def test_outcome_rates_sit_in_the_documented_ranges() -> None:
    setup = book(budget_in_micro_currency=None, billable_event="IMPRESSION")
    out = collect(engine(), setup, EngineState(), START, START + timedelta(hours=24))
    m = {k: int(v.sum()) for k, v in out.metrics.items()}
    imps = m["IMPRESSION_1"]
    assert imps > 10_000
    assert 0.001 <= m["OUTBOUND_CLICK_1"] / imps <= 0.01
    assert 0.001 <= m["SAVE_1"] / imps <= 0.012
    assert 0.01 <= m["CLOSEUP_1"] / imps <= 0.06
    assert m["IMPRESSION_2"] > 0  # saves of promoted pins earn organic reach
    assert m["VIDEO_START_1"] > 0 and m["VIDEO_MRC_VIEWS_1"] > 0


def test_clearing_prices_are_recorded_per_country_and_placement() -> None:
    setup = book(budget_in_micro_currency=None)
    results = list(engine().run(setup, EngineState(), START, START + timedelta(hours=3)))
    for r in results:
        delivered = int(r.delivery.metrics["IMPRESSION_1"].sum())
        us = [c.code for c in small_population().dims.countries].index("US")
        assert int(r.prices.counts.sum()) == int(r.prices.counts[us].sum()) >= delivered > 0
        assert r.prices.sum_cpm_micro[us].sum() >= 2_000_000 * int(r.prices.counts[us].sum())  # US floor
        assert r.slots_offered >= delivered


def test_target_avg_bids_up_while_its_average_cost_is_under_target() -> None:
    # Alone in the US auction, a $6 CPM target pays far less: it may bid more for volume.
    setup = book(
        bid_strategy_type="TARGET_AVG", bid_in_micro_currency=6_000_000, budget_in_micro_currency=None
    )
    state = EngineState()
    collect(engine(), setup, state, START, START + timedelta(hours=72))
    spend = sum(v for (gid, _), v in state.ad_group_day_spend.items() if gid == 500)
    billable = sum(v for (gid, _), v in state.ad_group_day_billable.items() if gid == 500)
    assert billable > 0 and spend / billable < 6_000  # average CPM under the $6 target
    assert state.bid_multiplier[500] == 1.3 * 1.25 * 1.25  # two local midnights, +25% each


def test_automatic_bid_raises_its_bid_while_underspending() -> None:
    setup = book(
        bid_strategy_type="AUTOMATIC_BID", bid_in_micro_currency=None, budget_in_micro_currency=10**12
    )
    state = EngineState()
    collect(engine(), setup, state, START, START + timedelta(hours=50))
    assert state.bid_multiplier[500] > 1.0


def test_a_us_metro_delivers_only_to_its_state() -> None:
    pop = small_population()
    out = collect(
        engine(),
        book(targeting_spec={"LOCATION": ["501"]}),
        EngineState(),
        START,
        START + timedelta(hours=12),
    )
    assert out.metrics["IMPRESSION_1"].sum() > 0  # New York City reaches people
    regions = np.array(pop.regions)[pop.region[out.segment]]
    assert set(regions.tolist()) == {"US-NY"}


def test_a_state_pickled_along_the_way_pickles_like_one_pickled_once() -> None:
    """Frequency days kept sparse between picklings give the same checkpoint bytes, and the
    state unpickled from one goes on like the original."""
    setup = book(budget_in_micro_currency=None, lifetime_frequency_cap=2, targeting_spec={"LOCATION": ["GB"]})
    along, once = EngineState(), EngineState()
    for day in range(3):
        a, b = START + timedelta(days=day), START + timedelta(days=day + 1)
        collect(engine(3), setup, along, a, b)
        collect(engine(3), setup, once, a, b)
        checkpoint = pickle.dumps(along, protocol=5)
    assert checkpoint == pickle.dumps(once, protocol=5)
    assert any(len(days) > 1 for days in once.frequency.values())
    restored = pickle.loads(checkpoint)
    end = START + timedelta(days=4)
    assert collect(engine(3), setup, restored, START + timedelta(days=3), end).raw == (
        collect(engine(3), setup, once, START + timedelta(days=3), end).raw
    )


def test_pickling_joins_an_hours_pending_conversions_once_and_keeps_them_joined() -> None:
    """Each simulated hour files conversions under many future hours; a checkpoint stores one
    batch per hour, and the state keeps it so (the same rows in the same order), so the next
    checkpoint does not join them again and its bytes are those of a state never pickled."""

    def batch(first: int, n: int) -> ConversionBatch:
        col = np.arange(first, first + n, dtype=np.int64)
        return ConversionBatch(*(col + i for i in range(len(ConversionBatch.__dataclass_fields__))))

    def state() -> EngineState:
        s = EngineState()
        s.pending = {10: [batch(0, 3), batch(100, 2), batch(200, 1)], 11: [batch(300, 4)], 12: []}
        return s

    along, fresh = state(), state()
    pickle.dumps(along, protocol=5)
    assert [len(b) for b in along.pending.values()] == [1, 1, 0]
    joined = along.pending[10][0]
    assert joined.time.tolist() == [0, 1, 2, 100, 101, 200]
    along.pending[10].append(batch(400, 2))  # the next hour files more under hour 10
    fresh.pending[10].append(batch(400, 2))
    assert pickle.dumps(along, protocol=5) == pickle.dumps(fresh, protocol=5)
    restored = pickle.loads(pickle.dumps(along, protocol=5))
    assert restored.pending[10][0].time.tolist() == [0, 1, 2, 100, 101, 200, 400, 401]
    assert ConversionBatch.concat(restored.pending[11]).segment.tolist() == batch(300, 4).segment.tolist()
