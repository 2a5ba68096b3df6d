"""The hourly driver: traffic -> eligibility -> auctions -> caps -> outcomes -> facts.

``Engine.run(setup, state, start, end)`` yields one ``HourResult`` per UTC hour of
[start, end). Inputs are plain dataclasses (``entities.Setup``), the carried-over
``EngineState`` is updated in place, and every random draw of an hour comes from a generator
keyed by (seed, hour), so a range simulated in one call or in several consecutive calls (with
the state carried over) gives identical facts, and the same seed, setup and state give
byte-identical arrays.

Order of work in an hour, and why:
1. traffic (sessions and slots per segment and placement);
2. eligibility per ad group: statuses, schedule (the whole hour inside it), budget left and
   the hour's pacing allowance, at least one approved promotion;
3. one auction per slot (``auction.py``), sampled per segment-hour;
4. hard clamps in a random slot order: frequency caps per ad group and segment, then the ad
   group's hourly allowance, then the campaign's caps; a slot whose charge does not fit is
   not served (it stays unfilled rather than going to the runner-up);
5. outcomes, earned media, conversions, organic activity, aggregation into fact rows.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

import numpy as np
import numpy.typing as npt

from pinapi.engine.auction import Field, price_histogram, run_auction
from pinapi.engine.books import WINDOW_DAYS, Books, close_books, frequency_window, open_books, roll_days
from pinapi.engine.caps import clamp_budgets
from pinapi.engine.conversions import ConversionBatch, draw_conversions
from pinapi.engine.entities import Setup
from pinapi.engine.facts import (
    EARNED_METRICS,
    METRICS,
    PAID_METRICS,
    ClearingPrices,
    DeliveryFacts,
    HourResult,
    OrganicFacts,
)
from pinapi.engine.outcomes import EARNED_IMPRESSIONS_PER_SAVE, PLACEMENT_FACTOR, draw_outcomes
from pinapi.engine.pacing import (
    UNLIMITED,
    hour_allowance,
    throttle,
    update_rates,
)
from pinapi.engine.plan import Plan, compile_plan
from pinapi.engine.population import Population
from pinapi.engine.rng import generator
from pinapi.engine.slot_kernels import group_sums, key_order, slot_lift
from pinapi.engine.state import EngineState
from pinapi.engine.targeting import AudienceMatcher, HashedAudienceMatcher, KeywordMatcher
from pinapi.engine.traffic import TrafficModel, draw_terms, draw_traffic, local_hour_and_weekday, zone

I64 = npt.NDArray[np.int64]
F64 = npt.NDArray[np.float64]
Arr = npt.NDArray[Any]
STREAM_HOUR = 2
SEARCH = 1
_PAD_LIMIT = 32
_PAID = {name: i for i, name in enumerate(PAID_METRICS)}
_METRIC = {name: i for i, name in enumerate(METRICS)}
_SPEND = _PAID["SPEND_IN_MICRO_DOLLAR"]


@dataclass(frozen=True, slots=True)
class EngineConfig:
    seed: int = 0
    traffic: TrafficModel = field(default_factory=TrafficModel)
    sharpness: float = 3.0
    """lam of the auction: higher = less slot-to-slot noise, the top bidder wins more often."""
    organic_impressions_per_pin_day: float = 40.0


class Engine:
    def __init__(
        self,
        population: Population,
        config: EngineConfig | None = None,
        *,
        audiences: AudienceMatcher | None = None,
        keywords: KeywordMatcher | None = None,
    ) -> None:
        self.population = population
        self.config = config or EngineConfig()
        self.audiences = audiences or HashedAudienceMatcher(self.config.seed)
        self.keywords = keywords
        dims = population.dims
        self._floor = np.array([c.bid_floor_cpm_usd_micro / 1e6 for c in dims.countries], dtype=np.float64)
        overall = population.interest_share.T @ population.members / population.members.sum()
        rel = population.interest_share / np.maximum(overall, 1e-9)[None, :]
        # A trailing column of zeros stands for "no interest" in padded interest lists.
        self._rel_share_padded = np.concatenate([rel, np.zeros((rel.shape[0], 1))], axis=1)
        self._cached_plan: tuple[Setup, Plan] | None = None

    def plan(self, setup: Setup) -> Plan:
        return compile_plan(
            setup, self.population, seed=self.config.seed, audiences=self.audiences, keywords=self.keywords
        )

    def _plan_for(self, setup: Setup) -> Plan:
        """The compiled plan of ``setup``, kept while the same set-up object comes back (a run
        cut into daily chunks compiles it once; a set-up is not changed once handed over)."""
        cached = self._cached_plan
        if cached is not None and cached[0] is setup:
            return cached[1]
        plan = self.plan(setup)
        self._cached_plan = (setup, plan)
        return plan

    def run(self, setup: Setup, state: EngineState, start: datetime, end: datetime) -> Iterator[HourResult]:
        """Simulate the UTC hours from ``start`` (floored to the hour) up to ``end``, yielding
        each hour's facts. Spend books go back into ``state`` when the generator finishes or is
        closed, so stopping early leaves a state that continues from the last yielded hour."""
        plan = self._plan_for(setup)
        books = open_books(plan, state)
        hour = start.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
        try:
            while hour < end:
                yield self._hour(plan, state, books, hour)
                hour += timedelta(hours=1)
        finally:
            close_books(plan, state, books)

    # -- one hour -------------------------------------------------------------------------
    def _hour(self, plan: Plan, state: EngineState, books: Books, hour: datetime) -> HourResult:
        pop, cfg = self.population, self.config
        h = int(hour.timestamp()) // 3600
        rng = generator(cfg.seed, STREAM_HOUR, h)
        traffic = draw_traffic(cfg.traffic, pop, hour, rng)
        total_slots = int(traffic.slots.sum())
        local = [hour.astimezone(zone(t)) for t in plan.tzs]
        tz_date = [d.date().isoformat() for d in local]
        tz_hour = np.array([d.hour for d in local], dtype=np.int64)
        roll_days(plan, state, books, tz_date)

        G, K = plan.ag_id.size, len(pop.dims.countries)
        P = traffic.slots.shape[1]
        delivery = _empty_delivery()
        conv_new: ConversionBatch | None = None
        prices = ClearingPrices(np.zeros((K, P, 48), dtype=np.int64), np.zeros((K, P), dtype=np.int64))
        if G and plan.p_id.size:
            allowance, c_remaining, theta, eligible, bid = self._budgets(
                plan, books, hour, tz_hour, total_slots
            )
            fld, strength = self._field(plan, eligible, theta, bid)
            slots = self._auctions(plan, fld, strength, traffic.slots, rng)
            prices = ClearingPrices(
                *price_histogram(slots["clearing"], pop.country, slots["seg"], slots["plc"], K, P)
            )
            slots = _filter(slots, slots["promo"] >= 0)
            slots = self._frequency(plan, state, books, slots, h, rng)
            paid = self._outcomes(plan, slots, rng)
            charge = self._charges(plan, slots, paid, bid)
            pre = np.bincount(slots["grp"], weights=charge, minlength=G).astype(np.float64)
            keep = clamp_budgets(plan, slots, charge, allowance, c_remaining, rng)
            slots = _filter(slots, keep)
            paid = paid[:, keep]
            charge = paid[_SPEND]
            out = _rows(paid)
            self._book(plan, state, books, slots, out, charge, pre, theta, eligible, total_slots, h)
            delivery = self._aggregate(plan, slots, paid, rng)
            conv_new = self._conversions(plan, slots, out, h, rng)
        if conv_new is not None and len(conv_new):
            _schedule(state, conv_new)
        conversions = ConversionBatch.concat(state.pending.pop(h, []))
        order = np.lexsort((conversions.pin_promotion_id, conversions.time))
        conversions = conversions.take(order)
        organic = self._organic(plan, traffic.sessions, rng)
        return HourResult(hour, delivery, conversions, organic, prices, total_slots)

    def _budgets(
        self, plan: Plan, books: Books, hour: datetime, tz_hour: I64, total_slots: int
    ) -> tuple[I64, I64, F64, npt.NDArray[np.bool_], F64]:
        cfg = self.config.traffic
        t0 = hour.timestamp()
        c_rem = np.minimum(plan.c_daily_cap - books.c_today, plan.c_lifetime_cap - books.c_life)
        c_rem = np.maximum(c_rem, 0)
        has_budget = plan.ag_budget >= 0
        spent = np.where(plan.ag_lifetime, books.g_life, books.g_today)
        g_rem = np.where(has_budget, np.maximum(plan.ag_budget - spent, 0), UNLIMITED)
        hard = np.minimum(g_rem, c_rem[plan.ag_campaign])
        lh = tz_hour[plan.ag_tz]
        rest_share = np.array([cfg.remaining_share(int(x)) for x in range(24)])[lh]
        hour_factor = np.array([cfg.hour_share(int(x)) * 24 for x in range(24)])[lh]
        hours_left = np.maximum((np.minimum(plan.ag_end, t0 + 30 * 86400) - t0) / 3600, 1.0)
        target = np.where(
            plan.ag_lifetime, g_rem / hours_left * hour_factor, g_rem.astype(np.float64) * rest_share
        )
        cbo_daily = plan.c_daily_cap[plan.ag_campaign] < UNLIMITED
        camp_today = np.maximum(plan.c_daily_cap - books.c_today, 0)[plan.ag_campaign]
        cbo_target = camp_today * rest_share / np.maximum(plan.c_groups[plan.ag_campaign], 1)
        target = np.where(has_budget, target, np.where(cbo_daily, cbo_target, np.inf))
        allowance = hour_allowance(hard_remaining=hard, target=target, accelerated=plan.ag_accelerated)
        in_schedule = (plan.ag_start <= t0) & (t0 + 3600 <= plan.ag_end)
        eligible = plan.ag_static_ok & in_schedule & (allowance > 0)
        theta = throttle(
            target=target, rate_per_slot=books.g_rate, slots=total_slots, accelerated=plan.ag_accelerated
        )
        theta = np.where(np.isfinite(target), theta, 1.0)
        bid = self._bids(plan, books)
        eligible &= bid > 0
        return allowance, c_rem, theta, eligible, bid

    def _bids(self, plan: Plan, books: Books) -> F64:
        """Bid per billable event in the advertiser's micro-currency (CPM: per 1,000)."""
        reach_floor = np.where(plan.country_any, self._floor[None, :], 0.0).max(axis=1)
        reach_floor = np.where(reach_floor > 0, reach_floor, float(np.median(self._floor)))
        mean_pred = np.bincount(plan.p_group, weights=plan.p_pred, minlength=plan.ag_id.size) / np.maximum(
            np.bincount(plan.p_group, minlength=plan.ag_id.size), 1
        )
        per_event_usd = np.where(
            plan.ag_billable == 0, 1.5 * reach_floor, 1.5 * reach_floor / 1000 / np.maximum(mean_pred, 1e-6)
        )
        auto = per_event_usd * 1e6 / plan.ag_usd
        strategy = np.array(plan.ag_strategy)
        base = np.where((strategy == "AUTOMATIC_BID") | (plan.ag_bid <= 0), auto, plan.ag_bid)
        scaled = strategy != "MAX_BID"
        return np.floor(np.where(scaled, base * books.g_mult, base))

    def _field(self, plan: Plan, eligible: npt.NDArray[np.bool_], theta: F64, bid: F64) -> tuple[Field, F64]:
        pop = self.population
        K = len(pop.dims.countries)
        g = plan.p_group
        per_event_usd = bid[g] * plan.ag_usd[g] / 1e6
        cpm = np.where(plan.ag_billable[g] == 0, per_event_usd, per_event_usd * plan.p_pred * 1000)
        lam = self.config.sharpness
        w = np.where(cpm[:, None] >= self._floor[None, :], cpm[:, None] ** lam, 0.0) * eligible[g][:, None]
        G = plan.ag_id.size
        gpw = np.stack([np.bincount(g, weights=w[:, k], minlength=G) for k in range(K)], axis=1).astype(
            np.float64
        )
        cum = np.cumsum(w, axis=0)
        first = np.searchsorted(g, np.arange(G), side="left")
        start = np.where(first[:, None] > 0, cum[np.maximum(first - 1, 0)], 0.0)
        weight = gpw[:, :, None] * theta[:, None, None] * plan.ag_placement_ok[:, None, :]
        counts = np.bincount(g, minlength=G).astype(np.int64)
        widest = int(counts.max()) if G else 0
        pad = None
        if 0 < widest <= _PAD_LIMIT:
            pad = np.zeros((G, K, widest), dtype=np.float64)
            pad[g, :, np.arange(g.size) - first[g]] = w
            pad = np.cumsum(pad, axis=2)
        fld = Field(
            mask=plan.mask,
            segment_country=pop.country,
            segment_stratum=plan.segment_stratum,
            stratum_country=plan.stratum_country,
            stratum_max=plan.stratum_max,
            stratum_mean=plan.stratum_mean,
            stratum_uniform=plan.stratum_uniform,
            group_weight=weight,
            promo_group=g,
            promo_cum=cum,
            group_cum_start=start,
            group_promo_weight=gpw,
            group_first=first.astype(np.int64),
            group_count=counts,
            promo_pad_cum=pad,
            floor_cpm=self._floor,
            lam=lam,
            term_allowed=plan.term_allowed,
        )
        return fld, fld.strength()

    def _auctions(
        self, plan: Plan, fld: Field, strength: F64, slots: I64, rng: np.random.Generator
    ) -> dict[str, Arr]:
        parts: list[dict[str, Arr]] = []
        seg_ids = np.arange(slots.shape[0], dtype=np.int64)
        for p in range(slots.shape[1]):
            seg = np.repeat(seg_ids, slots[:, p])
            terms = draw_terms(self.population, seg, rng) if p == SEARCH and plan.terms else None
            wins = run_auction(fld, strength, seg, p, terms, rng)
            parts.append(
                {
                    "seg": seg,
                    "plc": np.full(seg.size, p, dtype=np.int64),
                    "term": terms if terms is not None else np.full(seg.size, -1, dtype=np.int64),
                    "promo": wins.promo,
                    "grp": wins.group,
                    "ratio": wins.price_ratio,
                    "clearing": wins.clearing_cpm,
                }
            )
        return {k: np.concatenate([part[k] for part in parts]) for k in parts[0]}

    def _frequency(
        self,
        plan: Plan,
        state: EngineState,
        books: Books,
        slots: dict[str, Arr],
        h: int,
        rng: np.random.Generator,
    ) -> dict[str, Arr]:
        """Drop impressions beyond ``cap x members`` per (capped ad group, segment, 31 days)."""
        grp = slots["grp"].astype(np.int64)
        capped = plan.ag_freq_cap[grp] > 0
        if not capped.any():
            return slots
        S = self.population.segments
        day = h // 24
        idx = np.flatnonzero(capped)
        perm = idx[rng.permutation(idx.size)]
        key = grp[perm] * S + slots["seg"][perm].astype(np.int64)
        order = np.argsort(key, kind="stable")
        perm, key = perm[order], key[order]
        uniq, first = np.unique(key, return_index=True)
        rank = np.arange(key.size) - np.repeat(first, np.diff(np.append(first, key.size)))
        allow = np.zeros(uniq.size, dtype=np.int64)
        gis = uniq // S
        bounds = np.flatnonzero(np.concatenate(([True], gis[1:] != gis[:-1], [True])))
        for a, b in zip(bounds[:-1].tolist(), bounds[1:].tolist(), strict=True):
            gi = int(gis[a])
            segs = uniq[a:b] % S
            used = frequency_window(books, state, int(plan.ag_id[gi]), day, S)[segs]
            allow[a:b] = plan.ag_freq_cap[gi] * self.population.members[segs] - used
        ok = rank < allow[np.searchsorted(uniq, key)]
        keep = np.ones(grp.size, dtype=bool)
        keep[perm[~ok]] = False
        return _filter(slots, keep)

    def _outcomes(self, plan: Plan, slots: dict[str, Arr], rng: np.random.Generator) -> I64:
        """The slots' paid metrics, one row per ``PAID_METRICS`` name (billable events and
        spend are filled by ``_charges``): one matrix, so the budget clamp filters it at once
        and the roll-up sums it in one pass."""
        p = slots["promo"].astype(np.int64)
        # Fit: how much more than average the segment likes the pin's best-liked interest;
        # feed position: geometric depth (p = 0.35), each step down costs 10% of the rates.
        lift = slot_lift(
            self._rel_share_padded,
            slots["seg"].astype(np.int64),
            p,
            slots["plc"].astype(np.int64),
            plan.p_has_interest,
            plan.p_interest_cols,
            plan.p_quality,
            PLACEMENT_FACTOR,
            np.log1p(-rng.random(p.size)),
            float(np.log(0.65)),
        )
        paid = np.empty((len(PAID_METRICS), p.size), dtype=np.int64)
        draw_outcomes(rng, p, plan.rates, lift, paid)
        return paid

    def _charges(self, plan: Plan, slots: dict[str, Arr], paid: I64, bid: F64) -> I64:
        """Fill the billable events and spend rows of ``paid``; returns the spend row."""
        g = slots["grp"].astype(np.int64)
        kind = plan.ag_billable[g]
        billable = np.where(
            kind == 0,
            1,
            np.where(kind == 1, paid[_PAID["CLICKTHROUGH_1"]], paid[_PAID["VIDEO_MRC_VIEWS_1"]]),
        ).astype(np.int64)
        per_event = np.where(kind == 0, bid[g] / 1000, bid[g])
        price = np.minimum(np.ceil(per_event * slots["ratio"].astype(np.float64)), np.floor(per_event))
        paid[_PAID["BILLABLE_EVENTS"]] = billable
        paid[_SPEND] = billable * price
        charge: I64 = paid[_SPEND]
        return charge

    def _book(
        self,
        plan: Plan,
        state: EngineState,
        books: Books,
        slots: dict[str, Arr],
        out: dict[str, I64],
        charge: I64,
        pre: F64,
        theta: F64,
        eligible: npt.NDArray[np.bool_],
        total_slots: int,
        h: int,
    ) -> None:
        G, C = plan.ag_id.size, plan.c_id.size
        g = slots["grp"].astype(np.int64)
        spend = np.bincount(g, weights=charge, minlength=G).astype(np.int64)
        books.g_today += spend
        books.g_life += spend
        books.g_today_billable += np.bincount(g, weights=out["BILLABLE_EVENTS"], minlength=G).astype(np.int64)
        c_spend = np.bincount(plan.ag_campaign, weights=spend, minlength=C).astype(np.int64)
        books.c_today += c_spend
        books.c_life += c_spend
        paced = np.flatnonzero(eligible & ~plan.ag_accelerated)
        books.g_rate[paced] = update_rates(books.g_rate[paced], pre[paced] / theta[paced], total_slots)
        capped = plan.ag_freq_cap[g] > 0
        if capped.any():
            S = self.population.segments
            key = g[capped] * S + slots["seg"][capped].astype(np.int64)
            uniq, counts = np.unique(key, return_counts=True)
            day = h // 24
            gis = uniq // S
            bounds = np.flatnonzero(np.concatenate(([True], gis[1:] != gis[:-1], [True])))
            for a, b in zip(bounds[:-1].tolist(), bounds[1:].tolist(), strict=True):
                gid = int(plan.ag_id[int(gis[a])])
                days = state.frequency.setdefault(gid, {})
                segs, add = uniq[a:b] % S, counts[a:b]
                window = frequency_window(books, state, gid, day, S)  # before today's counts grow
                days.setdefault(day, np.zeros(S, dtype=np.int64))[segs] += add
                window[segs] += add
                for d in [d for d in days if d <= day - WINDOW_DAYS]:
                    del days[d]

    def _aggregate(
        self, plan: Plan, slots: dict[str, Arr], paid: I64, rng: np.random.Generator
    ) -> DeliveryFacts:
        if paid.shape[1] == 0:
            return _empty_delivery()
        S, P = self.population.segments, 3
        p = slots["promo"].astype(np.int64)
        seg = slots["seg"].astype(np.int64)
        plc = slots["plc"].astype(np.int64)
        if plan.term_keyword is not None:
            term = slots["term"].astype(np.int64)
            kw = np.where(
                term >= 0, plan.term_keyword[np.maximum(term, 0), slots["grp"].astype(np.int64)], -1
            )
            kw_vals, kw_idx = np.unique(kw, return_inverse=True)
            kw_idx = kw_idx.reshape(-1)
        else:
            kw_vals, kw_idx = np.full(1, -1, dtype=np.int64), np.zeros(p.size, dtype=np.int64)
        key = ((p * S + seg) * P + plc) * kw_vals.size + kw_idx
        order = key_order(np.stack([p, seg, plc, kw_idx]), np.array([plan.p_id.size, S, P, kw_vals.size]))
        # One row per key, in key order: the paid sums in one compiled pass, earned media
        # drawn from each row's saves after it.
        uniq, table = group_sums(key, order, paid, len(METRICS))
        _earned(table, rng)
        rest, kwi = np.divmod(uniq, kw_vals.size)
        rest, plc = np.divmod(rest, P)
        promo, seg = np.divmod(rest, S)
        grp = plan.p_group[promo]
        return DeliveryFacts(
            pin_promotion_id=plan.p_id[promo],
            ad_group_id=plan.ag_id[grp],
            campaign_id=plan.c_id[plan.ag_campaign[grp]],
            advertiser_id=plan.advertiser_ids[plan.advertiser_of_group[grp]],
            segment=seg,
            placement=plc,
            keyword_id=kw_vals[kwi].astype(np.int64),
            metrics={m: table[:, i] for i, m in enumerate(METRICS)},
            table=table,
        )

    def _conversions(
        self,
        plan: Plan,
        slots: dict[str, Arr],
        out: dict[str, I64],
        h: int,
        rng: np.random.Generator,
    ) -> ConversionBatch:
        engaged = (out["ENGAGEMENT_1"] > 0).astype(np.int64)
        touch = np.where(out["OUTBOUND_CLICK_1"] > 0, 0, np.where(engaged > 0, 1, 2)).astype(np.int64)
        touch_time = h * 3600 + rng.integers(0, 3600, size=touch.size, dtype=np.int64)
        g = slots["grp"].astype(np.int64)
        idx, ev, t, value, qty = draw_conversions(
            rng, touch=touch, touch_time=touch_time, usd_rate=plan.ag_usd[g]
        )
        p = slots["promo"].astype(np.int64)[idx]
        gi = g[idx]
        return ConversionBatch(
            time=t,
            touch_time=touch_time[idx],
            event=ev,
            touch=touch[idx],
            value_micro=value,
            quantity=qty,
            pin_promotion_id=plan.p_id[p],
            ad_group_id=plan.ag_id[gi],
            campaign_id=plan.c_id[plan.ag_campaign[gi]],
            advertiser_id=plan.advertiser_ids[plan.advertiser_of_group[gi]],
            segment=slots["seg"].astype(np.int64)[idx],
        )

    def _organic(self, plan: Plan, sessions: I64, rng: np.random.Generator) -> OrganicFacts:
        """Organic pins draw from the same hour's traffic: their share of it follows quality."""
        if plan.o_id.size == 0:
            z = np.zeros(0, dtype=np.int64)
            return OrganicFacts(z, z, z, z, z, z)
        expected_day = self.population.size * self.config.traffic.sessions_per_pinner_day
        factor = float(sessions.sum()) / max(expected_day, 1.0)
        q = plan.o_quality
        imp = rng.poisson(self.config.organic_impressions_per_pin_day * q * factor).astype(np.int64)
        close = rng.binomial(imp, np.clip(0.025 * q, 0, 0.5)).astype(np.int64)
        save = rng.binomial(imp, np.clip(0.005 * q, 0, 0.5)).astype(np.int64)
        click = rng.binomial(imp, np.clip(0.004 * q, 0, 0.5)).astype(np.int64)
        outbound = rng.binomial(click, 0.75).astype(np.int64)
        seen = imp > 0
        return OrganicFacts(plan.o_id[seen], imp[seen], close[seen], save[seen], click[seen], outbound[seen])


def _earned(table: I64, rng: np.random.Generator) -> None:
    """Earned media of the rows of ``table`` (rows x ``METRICS``), from their paid saves.

    Drawn only where they can be non-zero: numpy's Poisson and binomial draws return 0
    without using the generator for a zero mean or zero trials, so the draws, and the
    facts, are those of drawing every row, for about 1% of the work."""
    col = {name: table[:, _METRIC[name]] for name in EARNED_METRICS}
    rows = np.flatnonzero(table[:, _METRIC["SAVE_1"]])
    imp = rng.poisson(table[rows, _METRIC["SAVE_1"]] * EARNED_IMPRESSIONS_PER_SAVE).astype(np.int64)
    col["IMPRESSION_2"][rows] = imp
    seen, n = rows[imp > 0], imp[imp > 0]
    close = rng.binomial(n, 0.02).astype(np.int64)
    save = rng.binomial(n, 0.004).astype(np.int64)
    click = rng.binomial(n, 0.003).astype(np.int64)
    col["CLOSEUP_2"][seen] = close
    col["SAVE_2"][seen] = save
    col["CLICKTHROUGH_2"][seen] = click
    col["ENGAGEMENT_2"][seen] = close + save + click
    clicked = click > 0
    col["OUTBOUND_CLICK_2"][seen[clicked]] = rng.binomial(click[clicked], 0.75).astype(np.int64)


def _rows(paid: I64) -> dict[str, I64]:
    return {name: paid[i] for i, name in enumerate(PAID_METRICS)}


def _filter(slots: dict[str, Arr], keep: npt.NDArray[np.bool_]) -> dict[str, Arr]:
    return {k: v[keep] for k, v in slots.items()}


def _schedule(state: EngineState, batch: ConversionBatch) -> None:
    hours = batch.time // 3600
    order = np.argsort(hours, kind="stable")
    hs = hours[order]
    uniq, first = np.unique(hs, return_index=True)
    bounds = np.append(first, hs.size)
    for i, hr in enumerate(uniq.tolist()):
        state.pending.setdefault(int(hr), []).append(batch.take(order[bounds[i] : bounds[i + 1]]))


def _empty_delivery() -> DeliveryFacts:
    z = np.zeros(0, dtype=np.int64)
    return DeliveryFacts(z, z, z, z, z, z, z, {m: z for m in METRICS})


def local_day(hour: datetime, time_zone: str) -> date:
    """The advertiser's report day an hour belongs to."""
    return hour.astimezone(zone(time_zone)).date()


__all__ = ["Engine", "EngineConfig", "local_day", "local_hour_and_weekday"]
