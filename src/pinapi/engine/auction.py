"""Second-price auctions for every ad slot of an hour, vectorised per segment-hour.

Each competitor's per-slot score is ``s * exp(G / lam)`` with ``s`` its expected value per
impression (CPM in USD: bid x predicted action rate, or the CPM bid) and ``G`` a standard
Gumbel draw, the slot-to-slot noise of real predicted rates. With weights ``w = s ** lam``
this gives the auction in closed form (the Gumbel-max trick):

* the winner of a slot is ad group g with probability ``share_g * w_g / D``, ``D`` the
  share-weighted sum over the competitors (``share`` = the targeting share of the segment);
* the winning score is Gumbel with location ``log D``, independent of who won, and the
  runner-up's score is Gumbel with location ``log(D - w_g)`` truncated below the winner's.

So a slot's winner and its second price are exact draws that never enumerate the
competitors. Winners are drawn by rejection from a per-stratum proposal (accepting with the
segment's share over the stratum's best share), with an exact fallback for the few slots
that keep missing. Pacing throttles enter as a participation factor on the weights. The
price is the larger of the runner-up's score and the country floor; an ad group pays
``bid * price / own score`` per billable event, never more than its bid.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from pinapi.engine.auction_kernels import (
    pick_padded,
    price_cells,
    rejection_round,
    settle,
    stratum_products,
)

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]

PRICE_BUCKETS = np.geomspace(0.05, 500.0, 49)
"""Edges of the clearing-price histogram, CPM in USD (48 log-spaced buckets)."""
_REJECTION_ROUNDS = 8
_FALLBACK_CHUNK = 2048
_GUIDE = 128
"""Entries per stratum of the proposal's search guide."""
_NO_TERMS = np.zeros(0, dtype=np.int64)
_NO_GATE = np.zeros((1, 1), dtype=np.bool_)


@dataclass(frozen=True, slots=True)
class Field:
    """One hour's competitors, per country k and placement p.

    Segments are grouped into STRATA (country x gender x age bucket, the attributes most
    targeting keys cut on). Winners are proposed per stratum, from the ad groups' weights times
    their best share in the stratum, and accepted with share / best share, which is exact;
    the field strength ``D`` used for prices is measured per stratum (member-weighted mean
    share), which keeps an hour's cost independent of segments x ad groups.
    """

    mask: npt.NDArray[np.float32]
    """(segments, ad groups) targeting shares."""
    segment_country: npt.NDArray[np.int16]
    segment_stratum: I64
    stratum_country: I64
    stratum_max: npt.NDArray[np.float32]
    """(strata, ad groups) the largest share over the stratum's segments."""
    stratum_mean: npt.NDArray[np.float32]
    """(strata, ad groups) the member-weighted mean share over the stratum's segments."""
    stratum_uniform: npt.NDArray[np.bool_]
    """(strata, ad groups) every segment of the stratum has the largest share: acceptance
    then needs no look at ``mask`` (a random read in a segments x ad groups matrix)."""
    group_weight: F64
    """(ad groups, countries, placements): throttled, eligibility-gated weights."""
    promo_group: I64
    """(promotions,) ad group index; promotions are sorted by it."""
    promo_cum: F64
    """(promotions, countries) cumulative promotion weights (floors applied, not throttled)."""
    group_cum_start: F64
    """(ad groups, countries) promo_cum value just before the group's first promotion."""
    group_promo_weight: F64
    """(ad groups, countries) sum of the group's promotion weights."""
    group_first: I64
    """(ad groups,) index of the group's first promotion."""
    group_count: I64
    promo_pad_cum: F64 | None
    """(ad groups, countries, most promotions per group) cumulative weights inside each group,
    when groups are small enough to pad (None: search ``promo_cum`` instead)."""
    floor_cpm: F64
    """(countries,) floor CPM in USD."""
    lam: float
    term_allowed: npt.NDArray[np.bool_] | None = None
    """(terms, ad groups) keyword gate for search slots."""

    def by_country(self, placement: int) -> F64:
        """(countries, ad groups) each ad group's weight in the placement."""
        return np.ascontiguousarray(self.group_weight[:, :, placement].T)

    def strength(self) -> F64:
        """(strata, placements) D: the summed weight of everyone competing there (per
        stratum, the member-weighted mean shares times the weights in its country)."""
        cols = [
            stratum_products(self.stratum_mean, self.by_country(p), self.stratum_country, 0)[1]
            for p in range(self.group_weight.shape[2])
        ]
        return np.stack(cols, axis=1)


def strata(
    mask: npt.NDArray[np.float32], stratum: I64, members: I64, n_strata: int
) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.float32], npt.NDArray[np.bool_]]:
    """(max share, member-weighted mean share, whether every segment has the max share) per
    stratum and ad group (once per run)."""
    order = np.argsort(stratum, kind="stable")
    st = stratum[order]
    starts = np.searchsorted(st, np.arange(n_strata))
    present = np.unique(st)
    mx = np.zeros((n_strata, mask.shape[1]), dtype=np.float32)
    mean = np.zeros((n_strata, mask.shape[1]), dtype=np.float32)
    uniform = np.zeros((n_strata, mask.shape[1]), dtype=np.bool_)
    if mask.shape[1] == 0 or order.size == 0:
        return mx, mean, uniform
    sorted_mask = mask[order]
    idx = starts[present]
    mx[present] = np.maximum.reduceat(sorted_mask, idx, axis=0)
    uniform[present] = np.minimum.reduceat(sorted_mask, idx, axis=0) == mx[present]
    weighted = sorted_mask * members[order][:, None].astype(np.float32)
    sums = np.add.reduceat(weighted, idx, axis=0)
    totals = np.add.reduceat(members[order], idx).astype(np.float32)
    mean[present] = sums / totals[:, None]
    return mx, mean, uniform


@dataclass(frozen=True, slots=True)
class SlotWins:
    promo: I64
    """Winning promotion index per slot, -1 when nobody could serve it."""
    group: I64
    price_ratio: F64
    """Charged fraction of the bid (second price / own score), in (0, 1]."""
    clearing_cpm: F64
    """Clearing price per slot, CPM in USD (0 for unfilled)."""


def run_auction(
    f: Field,
    strength: F64,
    segments: I64,
    placement: int,
    terms: I64 | None,
    rng: np.random.Generator,
) -> SlotWins:
    """Auction ``segments.size`` slots of one placement."""
    n = segments.size
    group = np.full(n, -1, dtype=np.int64)
    n_groups = f.group_weight.shape[0]
    st = f.segment_stratum[segments]
    by_country = f.by_country(placement)
    # The proposal: ad group weights times their best share in the stratum, cumulated over
    # the raveled (strata, ad groups) matrix; ``totals`` per stratum.
    flat, totals, guide = stratum_products(f.stratum_max, by_country, f.stratum_country, _GUIDE)
    # Visit slots stratum by stratum so the searches stay inside one row of ``flat`` (cache).
    by_stratum = radix_order(st)
    pending = by_stratum[totals[st[by_stratum]] > 0] if n_groups else np.zeros(0, dtype=np.int64)
    gated = terms is not None and f.term_allowed is not None
    gate_terms = terms if gated and terms is not None else _NO_TERMS
    allowed = f.term_allowed if gated and f.term_allowed is not None else _NO_GATE
    for _ in range(_REJECTION_ROUNDS):
        if pending.size == 0:
            break
        u = rng.random((2, pending.size))
        pending = rejection_round(
            pending,
            st,
            segments,
            u,
            flat,
            totals,
            guide,
            f.stratum_max,
            f.stratum_uniform,
            f.mask,
            gate_terms,
            allowed,
            group,
        )
    country = f.segment_country[segments].astype(np.int64)
    for c in range(0, pending.size, _FALLBACK_CHUNK):
        rows = pending[c : c + _FALLBACK_CHUNK]
        w = f.mask[segments[rows]].astype(np.float64) * by_country[country[rows]]
        if terms is not None and f.term_allowed is not None:
            w *= f.term_allowed[terms[rows]]
        rcum = np.cumsum(w, axis=1)
        rtotal = rcum[:, -1]
        target = rng.random(rows.size) * rtotal
        pick = np.minimum((rcum <= target[:, None]).sum(axis=1), w.shape[1] - 1)
        has = rtotal > 0
        group[rows[has]] = pick[has]
    return _settle(f, strength, st, country, placement, group, rng)


def _settle(
    f: Field, strength: F64, st: I64, country: I64, placement: int, group: I64, rng: np.random.Generator
) -> SlotWins:
    """Pick the promotion inside each winning ad group and draw the second price.

    With E1, E2 standard exponentials, the winner's Gumbel score is ``log D - log E1`` and the
    truncated runner-up's is ``log(D - w) - log(E2 + E1 (D - w) / D)``; in score space the
    ratio of second to first price is ``(r E1 / (E2 + r E1)) ** (1 / lam)`` with
    ``r = (D - w) / D``, and the winner's own score is ``(D / E1) ** (1 / lam)``.
    """
    n = st.size
    promo = np.full(n, -1, dtype=np.int64)
    ratio = np.zeros(n, dtype=np.float64)
    clearing = np.zeros(n, dtype=np.float64)
    won = np.flatnonzero(group >= 0)
    if won.size == 0:
        return SlotWins(promo, group, ratio, clearing)
    u = rng.random(won.size)
    if f.promo_pad_cum is not None:
        pick_padded(f.promo_pad_cum, group, country, won, u, f.group_first, f.group_count, promo)
    else:
        promo[won] = _pick_promotions(f, group[won], country[won], u)
    e = rng.standard_exponential((2, won.size))
    settle(
        st,
        group,
        country,
        won,
        f.stratum_mean,
        np.ascontiguousarray(f.group_weight[:, :, placement]),
        np.ascontiguousarray(strength[:, placement]),
        f.floor_cpm,
        float(f.lam),
        e,
        ratio,
        clearing,
    )
    return SlotWins(promo, group, ratio, clearing)


def _pick_promotions(f: Field, g: I64, k: I64, u: F64) -> I64:
    """The promotion of each winning ad group, in proportion to its weight in the country
    (groups too large to pad: ``auction_kernels.pick_padded`` does the padded case)."""
    first, last = f.group_first[g], f.group_first[g] + f.group_count[g] - 1
    target = f.group_cum_start[g, k] + u * f.group_promo_weight[g, k]
    flat = f.promo_cum.T.ravel()  # country-major, so each country's run is sorted
    n_promos = f.promo_group.size
    p = np.empty(g.size, dtype=np.int64)
    order = radix_order(k)
    bounds = np.searchsorted(k[order], np.arange(f.promo_cum.shape[1] + 1))
    for kk in np.flatnonzero(np.diff(bounds)):
        sel = order[bounds[kk] : bounds[kk + 1]]
        p[sel] = np.searchsorted(flat[kk * n_promos : (kk + 1) * n_promos], target[sel], side="right")
    out: I64 = np.clip(p, first, last)
    return out


def radix_order(keys: I64) -> I64:
    """A stable argsort; small non-negative keys go through numpy's O(n) radix sort."""
    if keys.size and int(keys.max()) < 65536:
        out: I64 = np.argsort(keys.astype(np.uint16), kind="stable").astype(np.int64)
        return out
    return np.argsort(keys, kind="stable").astype(np.int64)


def price_histogram(
    clearing: F64,
    segment_country: npt.NDArray[np.int16],
    segments: I64,
    placement: I64,
    n_countries: int,
    n_placements: int,
) -> tuple[I64, I64]:
    """(countries, placements, buckets) counts and (countries, placements) sums in USD micro
    CPM of the filled slots' clearing prices."""
    counts, sums = price_cells(
        clearing, segment_country, segments, placement, PRICE_BUCKETS, n_countries, n_placements
    )
    return (
        counts.reshape(n_countries, n_placements, PRICE_BUCKETS.size - 1),
        sums.astype(np.int64).reshape(n_countries, n_placements),
    )
