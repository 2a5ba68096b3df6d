"""Compiled loops of the auction (numba): proposal, rejection rounds, second price, prices.

Why compiled: an hour auctions some 60,000 slots, and in numpy every step of a rejection
round is several passes over all of them with a temporary each, and the proposal a gather,
a product, a cumsum and row sums over a strata x ad groups matrix per placement. These loops
take one pass. The random draws stay in numpy (``auction.py``), in the same order and sizes
as before, so the facts are the same draw for draw; each kernel is the numpy expression it
replaces, element by element (the same float64 arithmetic, numpy's own summation order where
it sums), and ``nogil`` lets the fold thread run beside.
"""

from __future__ import annotations

import numba
import numpy as np
import numpy.typing as npt

I64 = npt.NDArray[np.int64]
F64 = npt.NDArray[np.float64]
F32 = npt.NDArray[np.float32]
Bools = npt.NDArray[np.bool_]


@numba.njit(cache=True, nogil=True)
def _block_sum(a: F64, lo: int, n: int) -> float:  # pragma: no cover - compiled; tested
    """numpy's sum of up to 128 values: sequential below 8, else eight partial sums."""
    res = 0.0
    if n < 8:
        for i in range(n):
            res += a[lo + i]
        return res
    r0, r1, r2, r3 = a[lo], a[lo + 1], a[lo + 2], a[lo + 3]
    r4, r5, r6, r7 = a[lo + 4], a[lo + 5], a[lo + 6], a[lo + 7]
    i = 8
    while i < n - (n % 8):
        r0 += a[lo + i]
        r1 += a[lo + i + 1]
        r2 += a[lo + i + 2]
        r3 += a[lo + i + 3]
        r4 += a[lo + i + 4]
        r5 += a[lo + i + 5]
        r6 += a[lo + i + 6]
        r7 += a[lo + i + 7]
        i += 8
    res = float(((r0 + r1) + (r2 + r3)) + ((r4 + r5) + (r6 + r7)))
    while i < n:
        res += a[lo + i]
        i += 1
    return res


@numba.njit(cache=True, nogil=True)
def pairwise_sum(a: F64, lo: int, n: int) -> float:  # pragma: no cover - compiled; tested
    """``a[lo:lo + n].sum()`` exactly as numpy adds (pairwise: blocks of up to 128 summed by
    ``_block_sum``, larger runs split in halves cut at a multiple of 8), so compiled row sums
    equal numpy's bit for bit. The halving runs on an explicit stack (numba's on-disk cache
    does not take recursive functions)."""
    if n <= 128:
        return _block_sum(a, lo, n)
    todo = np.empty((128, 3), np.int64)  # (start, length, children done)
    done = np.empty(128, np.float64)
    top, n_done = 1, 0
    todo[0, 0], todo[0, 1], todo[0, 2] = lo, n, 0
    while top > 0:
        top -= 1
        start, length, joined = todo[top, 0], todo[top, 1], todo[top, 2]
        if length <= 128:
            done[n_done] = _block_sum(a, start, length)
            n_done += 1
        elif joined:
            done[n_done - 2] = done[n_done - 2] + done[n_done - 1]
            n_done -= 1
        else:
            half = length // 2
            half -= half % 8
            todo[top, 0], todo[top, 1], todo[top, 2] = start, length, 1
            todo[top + 1, 0], todo[top + 1, 1], todo[top + 1, 2] = start + half, length - half, 0
            todo[top + 2, 0], todo[top + 2, 1], todo[top + 2, 2] = start, half, 0
            top += 3
    total: float = done[0]
    return total


@numba.njit(cache=True, nogil=True)
def stratum_products(
    share: F32, by_country: F64, stratum_country: I64, guide_size: int
) -> tuple[F64, F64, I64]:  # pragma: no cover - compiled; tested through its numpy form
    """Per stratum s and ad group g, ``share[s, g] * by_country[stratum_country[s], g]``:
    (the products' running sum over the raveled (strata, ad groups) matrix, each stratum's
    sum, a search guide) when ``guide_size`` > 0, else only the sums. One pass instead of
    numpy's gather, product, cumsum and row sums over a strata x ad groups matrix.

    ``guide[s, j]`` is the first ad group whose running sum passes the stratum's
    ``j / guide_size`` point: a search for the point ``u`` of the way starts at
    ``guide[s, int(u * guide_size)]`` and walks a step or two (``guided_search``)."""
    n_strata, n_groups = share.shape
    cumulative = guide_size > 0
    flat = np.empty(n_strata * n_groups if cumulative else 0, np.float64)
    guide = np.empty((n_strata if cumulative else 0, guide_size), np.int64)
    totals = np.empty(n_strata, np.float64)
    row = np.empty(n_groups, np.float64)
    running = 0.0
    for s in range(n_strata):
        k = stratum_country[s]
        for g in range(n_groups):
            row[g] = np.float64(share[s, g]) * by_country[k, g]
        totals[s] = pairwise_sum(row, 0, n_groups)
        if cumulative:
            start = running
            base = s * n_groups
            for g in range(n_groups):
                running += row[g]
                flat[base + g] = running
            g = 0
            for j in range(guide_size):
                point = start + (j / guide_size) * totals[s]
                while g < n_groups and flat[base + g] <= point:
                    g += 1
                guide[s, j] = g
    return flat, totals, guide


@numba.njit(cache=True, nogil=True)
def guided_search(flat: F64, lo: int, n: int, x: float, hint: int) -> int:  # pragma: no cover
    """``np.searchsorted(flat[lo:lo + n], x, side="right")`` (so ``n`` when no value passes
    ``x``) from a guess ``hint``: walks back while the value before passes ``x``, then on
    while the value does not; the answer does not depend on the guess, only the steps."""
    i = lo + hint
    while i > lo and flat[i - 1] > x:
        i -= 1
    end = lo + n
    while i < end and flat[i] <= x:
        i += 1
    return i - lo


@numba.njit(cache=True, nogil=True)
def rejection_round(
    pending: I64,
    stratum: I64,
    segments: I64,
    u: F64,
    flat: F64,
    totals: F64,
    guide: I64,
    stratum_max: F32,
    uniform: Bools,
    mask: F32,
    terms: I64,
    term_allowed: Bools,
    group: I64,
) -> I64:  # pragma: no cover - compiled; tested through run_auction
    """One round of the auction's proposal and acceptance for the ``pending`` slots (``u``:
    2 x pending uniforms; ``flat``, ``totals`` and ``guide`` from ``stratum_products``):
    accepted slots get their ad group in ``group``; returns the slots still pending, in
    order. ``terms`` is empty when the placement has no search terms. Where the stratum's
    segments all share the largest share (``uniform``) the segment's share is that one, so
    it is taken from the stratum's row instead of ``mask``."""
    n_groups = stratum_max.shape[1]
    n_guide = guide.shape[1]
    gated = terms.size > 0
    left = np.empty(pending.size, np.int64)
    k = 0
    for i in range(pending.size):
        slot = pending[i]
        s = stratum[slot]
        lo = s * n_groups
        start = flat[lo - 1] if s > 0 else 0.0  # the running sum before the stratum's row
        hint = guide[s, min(int(u[0, i] * n_guide), n_guide - 1)]
        g = min(guided_search(flat, lo, n_groups, start + u[0, i] * totals[s], hint), n_groups - 1)
        top = np.float64(stratum_max[s, g])
        share = top if uniform[s, g] else np.float64(mask[segments[slot], g])
        ok = u[1, i] * top < share
        if ok and gated:
            ok = term_allowed[terms[slot], g]
        if ok:
            group[slot] = g
        else:
            left[k] = slot
            k += 1
    return left[:k]


@numba.njit(cache=True, nogil=True, error_model="numpy")  # x / 0 is inf, as in numpy
def settle(
    stratum: I64,
    group: I64,
    country: I64,
    won: I64,
    mean: F32,
    weight: F64,
    strength: F64,
    floor: F64,
    lam: float,
    e: F64,
    ratio: F64,
    clearing: F64,
) -> None:  # pragma: no cover - compiled; tested through run_auction
    """The charged fraction of the bid and the clearing CPM of the ``won`` slots, into
    ``ratio`` and ``clearing`` at those slots (``auction._settle`` says what the formulas
    are); ``weight`` is the placement's (ad groups x countries) slice, ``strength`` its
    (strata,) column and ``e`` 2 x won standard exponentials."""
    cube = lam == 3.0
    for j in range(won.size):
        i = won[j]
        g, k = group[i], country[i]
        w_own = np.float64(mean[stratum[i], g]) * weight[g, k]
        d = max(max(strength[stratum[i]], w_own), 1e-300)
        r = min(max((d - w_own) / d, 0.0), 1.0)
        if not r > 1e-9:
            r = 0.0
        x_own = d / e[0, j]
        x_second = r * e[0, j] / (e[1, j] + r * e[0, j])
        own = np.cbrt(x_own) if cube else x_own ** (1.0 / lam)
        second = np.cbrt(x_second) if cube else x_second ** (1.0 / lam)
        ratio[i] = min(max(max(second, floor[k] / own), 1e-6), 1.0)
        clearing[i] = max(second * own, floor[k])


@numba.njit(cache=True, nogil=True)
def pick_padded(
    pad: F64, group: I64, country: I64, won: I64, u: F64, first: I64, count: I64, out: I64
) -> None:  # pragma: no cover - compiled; tested through run_auction
    """The promotion of each ``won`` slot's ad group, in proportion to the weights, into
    ``out`` at those slots, from the groups' padded cumulative weights (``pad``: ad groups x
    countries x widest group); ``u``: one uniform per won slot."""
    width = pad.shape[2]
    for j in range(won.size):
        i = won[j]
        g, k = group[i], country[i]
        target = u[j] * pad[g, k, width - 1]
        pick = 0
        for w in range(width - 1):
            if pad[g, k, w] <= target:
                pick += 1
        out[i] = min(first[g] + pick, first[g] + count[g] - 1)


@numba.njit(cache=True, nogil=True)
def price_cells(
    clearing: F64,
    segment_country: npt.NDArray[np.int16],
    segments: I64,
    placement: I64,
    edges: F64,
    n_countries: int,
    n_placements: int,
) -> tuple[I64, F64]:  # pragma: no cover - compiled; tested through its numpy form
    """The clearing-price histogram of the filled slots (``clearing > 0``): counts per
    (country, placement, bucket) raveled, bucket ``searchsorted(edges, price) - 1`` clipped
    to the buckets, and per (country, placement) the sum of ``round(price * 1e6)`` added in
    slot order, as ``np.bincount`` adds its weights."""
    nb = edges.size - 1
    counts = np.zeros(n_countries * n_placements * nb, np.int64)
    sums = np.zeros(n_countries * n_placements, np.float64)
    for i in range(clearing.size):
        x = clearing[i]
        if x > 0:
            lo, hi = 0, edges.size  # searchsorted, side="left"
            while lo < hi:
                mid = (lo + hi) >> 1
                if edges[mid] < x:
                    lo = mid + 1
                else:
                    hi = mid
            bucket = min(max(lo - 1, 0), nb - 1)
            cell = np.int64(segment_country[segments[i]]) * n_placements + placement[i]
            counts[cell * nb + bucket] += 1
            sums[cell] += np.rint(x * 1e6)
    return counts, sums
