"""Property: random valid and invalid create/update sequences never leave a broken object.

Each operation runs in its own transaction through the domain functions the routes call; a
refused operation must roll back completely. After the sequence, every stored campaign and
ad group is checked against the rules, written out here independently of ``rules.py``.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from pinapi.domain.access.principal import Principal
from pinapi.domain.ads import ad_groups, campaigns, targeting
from pinapi.domain.clock import FixedClock
from pinapi.domain.errors import DomainError
from pinapi.runtime import Runtime
from pinapi.store.tables import AdGroup, Advertiser, Campaign
from tests.conftest import START
from tests.factories import Factory

NOW = int(START.timestamp())
DAY = 86_400
USD_MIN_DAILY, USD_MIN_LIFETIME, USD_MIN_BID = 1_000_000, 5_000_000, 20_000
PROPERTY = settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
BILLS = {
    "AWARENESS": {"IMPRESSION"},
    "TRAFFIC": {"CLICKTHROUGH"},
    "VIDEO_VIEW": {"VIDEO_V_50_MRC"},
    "WEB_CONVERSION": {"IMPRESSION"},
}

VALID_GROUP = {"budget": 15_000_000, "bid": 2_000_000}
times = st.sampled_from([None, NOW - DAY, NOW + DAY, NOW + 3 * DAY, NOW + 10 * DAY, NOW + 30 * DAY])
campaign_fields = st.fixed_dictionaries(
    {},
    optional={
        "name": st.sampled_from(["camp", "", "x" * 300]),
        "objective_type": st.sampled_from(["AWARENESS", "TRAFFIC", "VIDEO_VIEW", "WEB_CONVERSION", "BAD"]),
        "status": st.sampled_from(["ACTIVE", "PAUSED", "ARCHIVED", "NOPE"]),
        "daily_spend_cap": st.sampled_from([None, 10, 2_000_000, 20_000_000, 100_000_000]),
        "lifetime_spend_cap": st.sampled_from([None, 10, 50_000_000, 500_000_000]),
        "start_time": times,
        "end_time": times,
    },
)
ad_group_fields = st.fixed_dictionaries(
    {},
    optional={
        "name": st.sampled_from(["grp", ""]),
        "status": st.sampled_from(["ACTIVE", "PAUSED", "ARCHIVED"]),
        "budget_type": st.sampled_from(["DAILY", "LIFETIME", "CBO_ADGROUP", "WEEKLY"]),
        "budget": st.sampled_from([None, 100, 3_000_000, 15_000_000, 60_000_000]),
        "bid": st.sampled_from([None, 5, 500_000, 2_000_000, 50_000_000]),
        "bid_strategy_type": st.sampled_from(["AUTOMATIC_BID", "MAX_BID", "TARGET_AVG"]),
        "billable_event": st.sampled_from(["CLICKTHROUGH", "IMPRESSION", "VIDEO_V_50_MRC"]),
        "lifetime_frequency_cap": st.sampled_from([None, 3]),
        "start_time": times,
        "end_time": times,
        "targeting_spec": st.sampled_from(
            [{}, {"GENDER": ["male"]}, {"GENDER": ["robot"]}, {"LOCATION": ["US", "501"]}, {"FOO": ["x"]}]
        ),
    },
)
operations = st.lists(
    st.one_of(
        st.tuples(st.just("create_campaign"), st.integers(0, 0), campaign_fields),
        st.tuples(st.just("update_campaign"), st.integers(0, 4), campaign_fields),
        st.tuples(st.just("create_ad_group"), st.integers(0, 4), ad_group_fields),
        st.tuples(st.just("update_ad_group"), st.integers(0, 6), ad_group_fields),
        st.tuples(st.just("tick"), st.integers(1, 4), st.just({})),
    ),
    min_size=4,
    max_size=18,
)


async def _owner(runtime: Runtime) -> tuple[Principal, int]:
    cached = runtime.extras.get("ads_property_owner")
    if cached is None:
        factory = Factory(runtime)
        user = await factory.user(business=True)
        adv = await factory.advertiser(user, "Prop")
        cached = runtime.extras["ads_property_owner"] = (Principal(user.id, 0, frozenset()), adv.id)
    assert isinstance(cached, tuple)
    return cached


async def _apply(
    runtime: Runtime, principal: Principal, advertiser_id: int, op: tuple[str, int, dict[str, Any]]
) -> None:
    kind, index, fields = op
    clock = runtime.clock
    assert isinstance(clock, FixedClock)
    if kind == "tick":
        clock.advance(timedelta(days=index))
        return
    async with runtime.sessions() as s:
        camp_ids = list(
            await s.scalars(
                select(Campaign.id).where(Campaign.advertiser_id == advertiser_id).order_by(Campaign.id)
            )
        )
        group_ids = list(
            await s.scalars(
                select(AdGroup.id).where(AdGroup.advertiser_id == advertiser_id).order_by(AdGroup.id)
            )
        )
    try:
        async with runtime.sessions() as s, s.begin():
            if kind == "create_campaign":
                values = {
                    "advertiser_id": advertiser_id,
                    "name": "camp",
                    "objective_type": "AWARENESS",
                    **fields,
                }
                await campaigns.create(s, clock=clock, principal=principal, values=values)
            elif kind == "update_campaign" and camp_ids:
                cid = camp_ids[index % len(camp_ids)]
                await campaigns.update(s, clock=clock, principal=principal, campaign_id=cid, values=fields)
            elif kind == "create_ad_group" and camp_ids:
                values = {
                    "campaign_id": camp_ids[index % len(camp_ids)],
                    "name": "g",
                    **VALID_GROUP,
                    **fields,
                }
                await ad_groups.create(s, clock=clock, principal=principal, values=values)
            elif kind == "update_ad_group" and group_ids:
                gid = group_ids[index % len(group_ids)]
                await ad_groups.update(s, clock=clock, principal=principal, ad_group_id=gid, values=fields)
    except DomainError:
        pass


def _check_campaign(c: Campaign) -> None:
    assert c.objective_type in BILLS and c.status in ("ACTIVE", "PAUSED", "ARCHIVED")
    assert c.name and len(c.name) <= 255
    if c.daily_spend_cap is not None:
        assert c.daily_spend_cap >= USD_MIN_DAILY
    if c.lifetime_spend_cap is not None:
        assert c.lifetime_spend_cap >= USD_MIN_LIFETIME and c.end_time is not None
        if c.daily_spend_cap is not None:
            assert c.daily_spend_cap <= c.lifetime_spend_cap
    if c.start_time and c.end_time:
        assert c.start_time < c.end_time


def _check_ad_group(g: AdGroup, c: Campaign) -> None:
    assert g.advertiser_id == c.advertiser_id
    assert g.billable_event in BILLS[c.objective_type]
    if g.budget_type == "CBO_ADGROUP":
        assert g.budget_in_micro_currency is None
        assert c.daily_spend_cap is not None or c.lifetime_spend_cap is not None
    else:
        budget = g.budget_in_micro_currency
        assert budget is not None
        if g.budget_type == "DAILY":
            assert budget >= USD_MIN_DAILY
            assert c.daily_spend_cap is None or budget <= c.daily_spend_cap
        else:
            assert g.budget_type == "LIFETIME" and budget >= USD_MIN_LIFETIME
            assert g.end_time is not None or c.end_time is not None
        assert c.lifetime_spend_cap is None or budget <= c.lifetime_spend_cap
    if g.bid_strategy_type == "AUTOMATIC_BID":
        assert g.bid_in_micro_currency is None
    else:
        assert g.bid_in_micro_currency is not None and g.bid_in_micro_currency >= USD_MIN_BID
    if g.lifetime_frequency_cap is not None:
        assert g.billable_event == "IMPRESSION" and g.end_time is not None
    if g.start_time and g.end_time:
        assert g.start_time < g.end_time
    if c.start_time and g.start_time:
        assert g.start_time >= c.start_time
    if c.end_time and g.end_time:
        assert g.end_time <= c.end_time
    for kind, values in (g.targeting_spec or {}).items():
        assert set(values) <= targeting.allowed_values(kind)


@PROPERTY
@given(ops=operations)
async def test_sequences_never_break_the_rules(
    runtime: Runtime, ops: list[tuple[str, int, dict[str, Any]]]
) -> None:
    principal, advertiser_id = await _owner(runtime)
    clock = runtime.clock
    assert isinstance(clock, FixedClock)
    clock.set(START)
    archived: set[int] = set()
    for op in ops:
        await _apply(runtime, principal, advertiser_id, op)
        async with runtime.sessions() as s:
            rows = await s.execute(
                select(Campaign.id, Campaign.status).where(Campaign.advertiser_id == advertiser_id)
            )
            group_rows = await s.execute(
                select(AdGroup.id, AdGroup.status).where(AdGroup.advertiser_id == advertiser_id)
            )
            for row_id, row_status in [*rows, *group_rows]:
                if row_id in archived:
                    assert row_status == "ARCHIVED"
                elif row_status == "ARCHIVED":
                    archived.add(row_id)
    async with runtime.sessions() as s:
        assert (await s.get(Advertiser, advertiser_id)) is not None
        camps = {
            c.id: c for c in await s.scalars(select(Campaign).where(Campaign.advertiser_id == advertiser_id))
        }
        for c in camps.values():
            _check_campaign(c)
        groups = list(await s.scalars(select(AdGroup).where(AdGroup.advertiser_id == advertiser_id)))
        event(f"ad groups stored so far: {min(len(groups), 5)}+" if groups else "no ad groups yet")
        for g in groups:
            parent = camps[g.campaign_id]
            if g.status != "ARCHIVED" and parent.status != "ARCHIVED":
                _check_ad_group(g, parent)
