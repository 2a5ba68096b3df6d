"""Compile a ``Setup`` into the static arrays the hourly loop works on.

Everything that does not change from hour to hour is computed once per run: entity index
maps, schedules as unix seconds, the targeting matrix, per-promotion rates and quality, the
keyword gate for search terms, and which entities can never deliver (wrong status, not
approved, no promotion), so an hour only does arithmetic on arrays.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import numpy as np
import numpy.typing as npt

from pinapi.engine.auction import strata
from pinapi.engine.dimensions import PLACEMENTS
from pinapi.engine.entities import BILLABLE_EVENTS, VIDEO_CREATIVES, Pin, Setup
from pinapi.engine.outcomes import PromotionRates, predicted_rate, quality_from_unit, rates_of
from pinapi.engine.pacing import UNLIMITED
from pinapi.engine.population import Population
from pinapi.engine.rng import hash_unit
from pinapi.engine.targeting import AudienceMatcher, KeywordMatcher, StaticKeywordMatcher, targeting_matrix
from pinapi.engine.traffic import query_vocabulary

I64 = npt.NDArray[np.int64]
F64 = npt.NDArray[np.float64]
B = npt.NDArray[np.bool_]

_PLACEMENT_OK = {
    "ALL": (True, True, True),
    "BROWSE": (True, False, False),
    "SEARCH": (False, True, False),
    "OTHER": (False, False, True),
}
SALT_QUALITY, SALT_VIDEO = 11, 12


def _ts(t: datetime | None, default: float) -> float:
    return default if t is None else t.timestamp()


@dataclass(frozen=True, slots=True)
class Plan:
    tzs: tuple[str, ...]
    # ad groups (G)
    ag_id: I64
    ag_campaign: I64
    ag_tz: I64
    ag_usd: F64
    ag_static_ok: B
    ag_start: F64
    ag_end: F64
    ag_budget: I64
    """-1 when the ad group has no budget of its own (CBO_ADGROUP or none)."""
    ag_lifetime: B
    ag_bid: F64
    ag_billable: I64
    ag_strategy: tuple[str, ...]
    ag_accelerated: B
    ag_placement_ok: B
    ag_freq_cap: I64
    mask: npt.NDArray[np.float32]
    country_any: B
    segment_stratum: I64
    stratum_country: I64
    stratum_max: npt.NDArray[np.float32]
    stratum_mean: npt.NDArray[np.float32]
    stratum_uniform: B
    # campaigns (C)
    c_id: I64
    c_tz: I64
    c_daily_cap: I64
    c_lifetime_cap: I64
    c_groups: I64
    # promotions (Pn), sorted by ad group
    p_id: I64
    p_group: I64
    p_pred: F64
    rates: PromotionRates
    """Per promotion: base action rates and video facts."""
    p_quality: F64
    p_interest: F64
    """(Pn, interests) 1 for the pin's top-level interests."""
    p_has_interest: B
    p_interest_cols: I64
    """(Pn, up to 3) the pin's top-level interest columns, padded with the "none" column."""
    # keywords
    terms: tuple[str, ...]
    term_allowed: B | None
    term_keyword: I64 | None
    # organic
    o_id: I64
    o_quality: F64
    advertiser_of_group: I64
    advertiser_ids: I64


def _pin_traits(pins: dict[int, Pin], ids: I64, seed: int) -> tuple[F64, B, F64]:
    hashed = quality_from_unit(hash_unit(ids, seed, SALT_QUALITY))
    given = [pins[i].quality if i in pins else None for i in ids.tolist()]
    quality = np.array([q if g is None else g for g, q in zip(given, hashed, strict=True)], dtype=np.float64)
    video = np.array([i in pins and pins[i].video for i in ids.tolist()], dtype=bool)
    seconds = 6 + 54 * hash_unit(ids, seed, SALT_VIDEO)
    return quality, video, seconds


def _interest_cols(p_interest: F64, width: int = 3) -> I64:
    n, n_interests = p_interest.shape
    out = np.full((n, width), n_interests, dtype=np.int64)
    for row in range(n):
        cols = np.flatnonzero(p_interest[row])[:width]
        out[row, : cols.size] = cols
    return out


def compile_plan(
    setup: Setup,
    population: Population,
    *,
    seed: int,
    audiences: AudienceMatcher,
    keywords: KeywordMatcher | None,
) -> Plan:
    dims = population.dims
    advs = {a.id: a for a in setup.advertisers}
    camps = {c.id: c for c in setup.campaigns}
    groups = [
        g for g in setup.ad_groups if g.campaign_id in camps and camps[g.campaign_id].advertiser_id in advs
    ]
    tzs = tuple(sorted({a.time_zone for a in advs.values()}))
    tz_index = {t: i for i, t in enumerate(tzs)}
    camp_list = [c for c in setup.campaigns if c.advertiser_id in advs]
    c_index = {c.id: i for i, c in enumerate(camp_list)}
    g_index = {g.id: i for i, g in enumerate(groups)}
    adv_ids = sorted(advs)
    adv_index = {a: i for i, a in enumerate(adv_ids)}

    def camp_of(g: int) -> tuple[int, int]:
        c = camps[groups[g].campaign_id]
        return c_index[c.id], adv_index[c.advertiser_id]

    ag_campaign = np.array([camp_of(g)[0] for g in range(len(groups))], dtype=np.int64)
    ag_adv = np.array([camp_of(g)[1] for g in range(len(groups))], dtype=np.int64)
    adv_of = [advs[camps[g.campaign_id].advertiser_id] for g in groups]

    promos = [
        p for p in setup.pin_promotions
        if p.ad_group_id in g_index and p.status == "ACTIVE" and p.review_status == "APPROVED"
    ]  # fmt: skip
    promos.sort(key=lambda p: (g_index[p.ad_group_id], p.id))
    p_group = np.array([g_index[p.ad_group_id] for p in promos], dtype=np.int64)
    has_promo = np.bincount(p_group, minlength=len(groups)) > 0

    static_ok = (
        np.array(
            [
                g.status == "ACTIVE" and camps[g.campaign_id].status == "ACTIVE" and a.active
                for g, a in zip(groups, adv_of, strict=True)
            ],
            dtype=bool,
        )
        & has_promo
    )
    billable = np.array([BILLABLE_EVENTS.index(g.billable_event) if g.billable_event in BILLABLE_EVENTS else 0
                         for g in groups], dtype=np.int64)  # fmt: skip
    freq = np.array(
        [g.lifetime_frequency_cap or 0 if g.billable_event == "IMPRESSION" else 0 for g in groups],
        dtype=np.int64,
    )
    mask = targeting_matrix(population, [g.targeting_spec for g in groups], audiences)
    blocks = population.country_blocks()
    country_any = np.zeros((len(groups), len(dims.countries)), dtype=bool)
    for k, (a, b) in enumerate(blocks):
        if b > a and len(groups):
            country_any[:, k] = mask[a:b].max(axis=0) > 0

    n_age, n_gender = len(dims.age_buckets), len(dims.genders)
    seg_stratum = (
        population.country.astype(np.int64) * n_gender + population.gender
    ) * n_age + population.age
    n_strata = len(dims.countries) * n_gender * n_age
    st_max, st_mean, st_uniform = strata(mask, seg_stratum, population.members, n_strata)
    pins = {p.id: p for p in setup.pins}
    p_pin = np.array([p.pin_id for p in promos], dtype=np.int64)
    quality, video_pin, seconds = _pin_traits(pins, p_pin, seed)
    creative = [p.creative_type for p in promos]
    p_video = np.array([c in VIDEO_CREATIVES for c in creative], dtype=bool) | video_pin
    rates = [rates_of(c) for c in creative]
    top = {i.id: n for n, i in enumerate(dims.interests)}
    p_interest = np.zeros((len(promos), len(dims.interests)), dtype=np.float64)
    for row, p in enumerate(promos):
        for iid in pins[p.pin_id].interests if p.pin_id in pins else ():
            col = top.get(iid, top.get(dims.interest_parents.get(iid, ""), -1))
            if col >= 0:
                p_interest[row, col] = 1.0
    events = [BILLABLE_EVENTS[billable[g]] for g in p_group.tolist()]
    pred = np.array(
        [predicted_rate(e, c, q) for e, c, q in zip(events, creative, quality, strict=True)], dtype=np.float64
    )

    terms: tuple[str, ...] = ()
    allowed = kw_ids = None
    matcher = keywords if keywords is not None else StaticKeywordMatcher(setup.keywords)
    if setup.keywords or keywords is not None:
        terms = query_vocabulary(population)
        km = matcher.match([g.id for g in groups], terms)
        allowed, kw_ids = km.allowed, km.keyword_id

    organic_ids = np.array([p.id for p in setup.organic_pins], dtype=np.int64)
    o_quality, _, _ = _pin_traits({p.id: p for p in setup.organic_pins}, organic_ids, seed)
    return Plan(
        tzs=tzs,
        ag_id=np.array([g.id for g in groups], dtype=np.int64),
        ag_campaign=ag_campaign,
        ag_tz=np.array([tz_index[a.time_zone] for a in adv_of], dtype=np.int64),
        ag_usd=np.array([dims.usd_rate(a.currency) for a in adv_of], dtype=np.float64),
        ag_static_ok=static_ok,
        ag_start=np.array(
            [max(_ts(g.start_time, -np.inf), _ts(camps[g.campaign_id].start_time, -np.inf)) for g in groups],
            dtype=np.float64,
        ),
        ag_end=np.array(
            [min(_ts(g.end_time, np.inf), _ts(camps[g.campaign_id].end_time, np.inf)) for g in groups],
            dtype=np.float64,
        ),
        ag_budget=np.array(
            [
                g.budget_in_micro_currency
                if g.budget_in_micro_currency is not None and g.budget_type != "CBO_ADGROUP"
                else -1
                for g in groups
            ],
            dtype=np.int64,
        ),
        ag_lifetime=np.array([g.budget_type == "LIFETIME" for g in groups], dtype=bool),
        ag_bid=np.array([float(g.bid_in_micro_currency or 0) for g in groups], dtype=np.float64),
        ag_billable=billable,
        ag_strategy=tuple(g.bid_strategy_type for g in groups),
        ag_accelerated=np.array([g.pacing_delivery_type == "ACCELERATED" for g in groups], dtype=bool),
        ag_placement_ok=np.array(
            [_PLACEMENT_OK.get(g.placement_group, _PLACEMENT_OK["ALL"]) for g in groups], dtype=bool
        ).reshape(len(groups), len(PLACEMENTS)),
        ag_freq_cap=freq,
        mask=mask,
        country_any=country_any,
        segment_stratum=seg_stratum,
        stratum_country=np.arange(n_strata, dtype=np.int64) // (n_gender * n_age),
        stratum_max=st_max,
        stratum_mean=st_mean,
        stratum_uniform=st_uniform,
        c_id=np.array([c.id for c in camp_list], dtype=np.int64),
        c_tz=np.array([tz_index[advs[c.advertiser_id].time_zone] for c in camp_list], dtype=np.int64),
        c_daily_cap=np.array(
            [c.daily_spend_cap if c.daily_spend_cap is not None else UNLIMITED for c in camp_list],
            dtype=np.int64,
        ),
        c_lifetime_cap=np.array(
            [c.lifetime_spend_cap if c.lifetime_spend_cap is not None else UNLIMITED for c in camp_list],
            dtype=np.int64,
        ),
        c_groups=np.bincount(ag_campaign[static_ok], minlength=len(camp_list)).astype(np.int64),
        p_id=np.array([p.id for p in promos], dtype=np.int64),
        p_group=p_group,
        p_pred=pred,
        rates=PromotionRates(
            closeup=np.array([r.closeup for r in rates], dtype=np.float64),
            save=np.array([r.save for r in rates], dtype=np.float64),
            click=np.array([r.click for r in rates], dtype=np.float64),
            outbound_share=np.array([r.outbound_share for r in rates], dtype=np.float64),
            is_video=p_video,
            video_seconds=seconds,
        ),
        p_quality=quality,
        p_interest=p_interest,
        p_has_interest=p_interest.sum(axis=1) > 0,
        p_interest_cols=_interest_cols(p_interest),
        terms=terms,
        term_allowed=allowed,
        term_keyword=kw_ids,
        o_id=organic_ids,
        o_quality=o_quality,
        advertiser_of_group=ag_adv,
        advertiser_ids=np.array(adv_ids, dtype=np.int64),
    )
