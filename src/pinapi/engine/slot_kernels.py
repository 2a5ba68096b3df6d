"""Compiled loops of the hourly simulation (numba): the per-slot steps numpy did in passes.

Why compiled: an hour auctions some 60,000 slots, and in numpy every step of a rejection
round, a budget clamp or the roll-up of slots into fact rows is several passes over all of
them with a temporary each (about a microsecond a slot in all). These loops take one pass.
The random draws stay in numpy, in the same order and sizes as before, so the facts are the
same draw for draw; each kernel is the numpy expression it replaces, element by element
(integer sums, the same float64 arithmetic), and ``nogil`` lets the fold thread run beside.
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
def _search_right(a: F64, x: float) -> int:  # pragma: no cover - compiled; tested through callers
    """``np.searchsorted(a, x, side="right")``."""
    lo, hi = 0, a.size
    while lo < hi:
        mid = (lo + hi) >> 1
        if a[mid] <= x:
            lo = mid + 1
        else:
            hi = mid
    return lo


@numba.njit(cache=True, nogil=True)
def rejection_round(
    pending: I64,
    stratum: I64,
    segments: I64,
    u: F64,
    flat: F64,
    base: F64,
    totals: F64,
    stratum_max: F32,
    mask: F32,
    terms: I64,
    term_allowed: Bools,
    group: I64,
) -> I64:  # pragma: no cover - compiled; tested through run_auction
    """One round of the auction's proposal and acceptance for the ``pending`` slots (``u``:
    2 x pending uniforms): accepted slots get their ad group in ``group``; returns the slots
    still pending, in order. ``terms`` is empty when the placement has no search terms."""
    n_groups = stratum_max.shape[1]
    gated = terms.size > 0
    left = np.empty(pending.size, np.int64)
    k = 0
    for i in range(pending.size):
        slot = pending[i]
        s = stratum[slot]
        idx = _search_right(flat, base[s] + u[0, i] * totals[s])
        g = min(max(idx - s * n_groups, 0), n_groups - 1)
        ok = u[1, i] * np.float64(stratum_max[s, g]) < np.float64(mask[segments[slot], g])
        if ok and gated:
            ok = term_allowed[terms[slot], g]
        if ok:
            group[slot] = g
        else:
            left[k] = slot
            k += 1
    return left[:k]


@numba.njit(cache=True, nogil=True)
def prefix_within(groups: I64, charge: I64, limit: I64, order: I64) -> Bools:  # pragma: no cover
    """Per group and in ``order``, keep the slots whose running charge stays within ``limit``
    (charges are not negative, so once a group's sum passes its limit nothing after fits)."""
    running = np.zeros(limit.size, np.int64)
    keep = np.zeros(groups.size, np.bool_)
    for i in order:
        g = groups[i]
        running[g] += charge[i]
        keep[i] = running[g] <= limit[g]
    return keep


@numba.njit(cache=True, nogil=True)
def group_sums(key: I64, order: I64, columns: I64, width: int) -> tuple[I64, I64]:  # pragma: no cover
    """(distinct keys in order, rows x ``width`` sums of ``columns`` (columns x slots) per key,
    row-major; columns past ``columns``' count stay 0 for the caller to fill). ``order`` is an
    argsort of ``key`` (numpy's sorts are faster than a compiled one)."""
    n = key.size
    row = np.empty(n, np.int64)
    distinct = 0
    for j in range(n):
        if j == 0 or key[order[j]] != key[order[j - 1]]:
            distinct += 1
        row[order[j]] = distinct - 1
    keys = np.empty(distinct, np.int64)
    for j in range(n):
        keys[row[order[j]]] = key[order[j]]
    sums = np.zeros((distinct, width), np.int64)
    for c in range(columns.shape[0]):
        for i in range(n):
            v = columns[c, i]
            if v != 0:  # most actions are rare
                sums[row[i], c] += v
    return keys, sums


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
) -> tuple[F64, F64]:  # pragma: no cover - compiled; tested through run_auction
    """(charged fraction of the bid, clearing CPM) of the ``won`` slots (``auction._settle``
    says what the formulas are); ``weight`` is the placement's (ad groups x countries) slice,
    ``strength`` its (strata,) column and ``e`` 2 x won standard exponentials."""
    ratio = np.empty(won.size, np.float64)
    clearing = np.empty(won.size, np.float64)
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
        ratio[j] = min(max(max(second, floor[k] / own), 1e-6), 1.0)
        clearing[j] = max(second * own, floor[k])
    return ratio, clearing


@numba.njit(cache=True, nogil=True)
def pick_padded(
    pad: F64, group: I64, country: I64, u: F64, first: I64, count: I64
) -> I64:  # pragma: no cover - compiled; tested through run_auction
    """The promotion of each winning ad group from its padded cumulative weights (``pad``:
    ad groups x countries x widest group), in proportion to the weights."""
    out = np.empty(group.size, np.int64)
    width = pad.shape[2]
    for j in range(group.size):
        g, k = group[j], country[j]
        target = u[j] * pad[g, k, width - 1]
        pick = 0
        for w in range(width - 1):
            if pad[g, k, w] <= target:
                pick += 1
        out[j] = min(first[g] + pick, first[g] + count[g] - 1)
    return out


@numba.njit(cache=True, nogil=True)
def best_fit(
    rel: F64, segment: I64, promo: I64, has: Bools, cols: I64
) -> F64:  # pragma: no cover - compiled; tested through the engine's facts
    """Per slot, the largest ``rel[segment, c]`` over the promotion's interest columns
    ``cols[promo]`` (padded with the zero column), or 1.0 when the pin has no interests."""
    out = np.ones(promo.size, np.float64)
    for i in range(promo.size):
        p = promo[i]
        if has[p]:
            best = -np.inf
            for c in cols[p]:
                best = max(best, rel[segment[i], c])
            out[i] = best
    return out
