"""Compiled loops of the hourly simulation after the auction (numba): the slots' lift and
outcomes, budget clamps, and their roll-up into fact rows.

Why compiled: every one of an hour's 60,000 slots went through a few dozen numpy passes with
a temporary each (about a microsecond a slot in all). These loops take one pass. The random
draws stay in numpy, in the same order and sizes as before, so the facts are the same draw
for draw; each kernel is the numpy expression it replaces, element by element (integer sums,
the same float64 arithmetic), and ``nogil`` lets the fold thread run beside. The auction's
loops are in ``auction_kernels``.
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
def key_order(digits: I64, sizes: I64) -> I64:  # pragma: no cover - compiled; tested
    """A stable argsort of the keys whose digits are the rows of ``digits`` (most significant
    first, row d in ``range(sizes[d])``): one counting pass per digit from the last, O(n)
    where a comparison sort of the composed keys costs several times more."""
    n = digits.shape[1]
    order = np.arange(n)
    spare = np.empty(n, np.int64)
    for d in range(digits.shape[0] - 1, -1, -1):
        if sizes[d] <= 1:
            continue
        starts = np.zeros(sizes[d] + 1, np.int64)
        for i in range(n):
            starts[digits[d, i] + 1] += 1
        for b in range(sizes[d]):
            starts[b + 1] += starts[b]
        for j in range(n):
            i = order[j]
            b = digits[d, i]
            spare[starts[b]] = i
            starts[b] += 1
        order, spare = spare, order
    return order


@numba.njit(cache=True, nogil=True)
def group_sums(key: I64, order: I64, columns: I64, width: int) -> tuple[I64, I64]:  # pragma: no cover
    """(distinct keys in order, rows x ``width`` sums of ``columns`` (columns x slots) per key,
    row-major; columns past ``columns``' count stay 0 for the caller to fill). ``order`` is an
    argsort of ``key`` (numpy's sorts are faster than a compiled one). Slot by slot, all of
    a slot's columns at once: the rows are written in slot order, i.e. at random, and one
    visit per slot keeps a row's cache lines from being fetched again for every column."""
    n = key.size
    row = np.empty(n, np.int64)
    keys = np.empty(n, np.int64)
    distinct = 0
    previous = 0
    for j in range(n):
        k = key[order[j]]
        if j == 0 or k != previous:
            keys[distinct] = k
            distinct += 1
            previous = k
        row[order[j]] = distinct - 1
    sums = np.zeros((distinct, width), np.int64)
    for i in range(n):
        r = row[i]
        for c in range(columns.shape[0]):
            sums[r, c] += columns[c, i]
    return keys[:distinct].copy(), sums


@numba.njit(cache=True, nogil=True)
def slot_lift(
    rel: F64,
    segment: I64,
    promo: I64,
    placement: I64,
    has: Bools,
    cols: I64,
    quality: F64,
    placement_factor: F64,
    log_u: F64,
    log_step: float,
) -> F64:  # pragma: no cover - compiled; tested against its numpy form
    """Per slot, what multiplies the promotion's base rates: its quality x the interest fit x
    the feed position x the placement's factor. The fit is the square root of the largest
    ``rel[segment, c]`` over the pin's interest columns ``cols[promo]`` (padded with the
    zero column), clipped to 0.25-4 (1.0 when the pin has no interests); the position
    ``1 / (1 + 0.1 depth)`` with a geometric depth ``floor(log_u / log_step)`` (``log_u``
    from numpy's ``log1p``, whose vector form differs in the last bit from the scalar one)."""
    out = np.empty(promo.size, np.float64)
    for i in range(promo.size):
        p = promo[i]
        fit = 1.0
        if has[p]:
            fit = -np.inf
            for c in cols[p]:
                fit = max(fit, rel[segment[i], c])
        fit = np.sqrt(min(max(fit, 0.25), 4.0))
        depth = np.floor(log_u[i] / log_step)
        position = 1.0 / (1.0 + 0.1 * depth)
        out[i] = quality[p] * fit * position * placement_factor[placement[i]]
    return out


@numba.njit(cache=True, nogil=True)
def fill_outcomes(
    out: I64,
    promo: I64,
    lift: F64,
    u: F64,
    v: F64,
    beta: F64,
    closeup: F64,
    save: F64,
    click: F64,
    outbound_share: F64,
    is_video: Bools,
    video_seconds: F64,
    start_rate: float,
    in_view_rate: float,
) -> None:  # pragma: no cover - compiled; tested through outcomes.draw_outcomes
    """The per-slot arithmetic of ``outcomes.draw_outcomes`` into ``out``'s rows 0-16
    (``facts.OUTCOME_METRICS``): ``u`` 4 x slots uniforms (closeup, save, click, outbound), ``v``
    2 x video slots (start, in view), ``beta`` one draw per started video, in slot order."""
    j = 0  # video slots seen
    k = 0  # started videos seen
    for i in range(promo.size):
        p = promo[i]
        x = lift[i]
        ct = u[2, i] < min(max(click[p] * x, 0.0), 0.5)
        ob = ct and u[3, i] < outbound_share[p]
        cu = u[0, i] < min(max(closeup[p] * x, 0.0), 0.8)
        sv = u[1, i] < min(max(save[p] * x, 0.0), 0.5)
        start = False
        in_view = False
        frac = 0.0
        if is_video[p]:
            start = v[0, j] < start_rate
            in_view = start and v[1, j] < in_view_rate
            j += 1
            if start:
                frac = min(max(beta[k] * min(max(x, 0.5), 1.5), 0.0), 1.0)
                k += 1
        seconds = frac * video_seconds[p]
        ms = np.int64(np.floor(seconds * 1000))
        out[0, i] = 1
        out[1, i] = cu
        out[2, i] = sv
        out[3, i] = ct
        out[4, i] = ob
        out[5, i] = np.int64(cu) + np.int64(sv) + np.int64(ct)
        out[6, i] = start
        out[7, i] = start and seconds >= 2
        out[8, i] = start and seconds >= 10
        out[9, i] = in_view and seconds >= 2
        out[10, i] = start and frac >= 0.25
        out[11, i] = start and frac >= 0.5
        out[12, i] = start and frac >= 0.75
        out[13, i] = start and frac >= 0.95
        out[14, i] = start and frac >= 1.0
        out[15, i] = ms
        out[16, i] = ms if in_view else 0
