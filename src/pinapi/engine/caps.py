"""Hard clamps applied after the auction: spend may never pass an allowance.

Slots are taken in a random order; per group (ad group, then campaign) only the prefix whose
running charge fits the limit is kept, so the kept charge never exceeds the limit and a slot
that does not fit is simply not served.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

from pinapi.engine.auction import radix_order
from pinapi.engine.plan import Plan

I64 = npt.NDArray[np.int64]
Arr = npt.NDArray[Any]


def prefix_within(groups: I64, charge: I64, limit: I64, order: I64) -> npt.NDArray[np.bool_]:
    """Keep, per group and in ``order``, the slots whose running charge stays within ``limit``."""
    o = order[radix_order(groups[order])]
    gs, cs = groups[o], charge[o]
    run = np.cumsum(cs)
    starts = np.searchsorted(gs, gs, side="left")
    before = np.where(starts > 0, run[np.maximum(starts - 1, 0)], 0)
    within = (run - before) <= limit[gs]
    keep = np.zeros(groups.size, dtype=bool)
    keep[o[within]] = True
    return keep


def clamp_budgets(
    plan: Plan,
    slots: dict[str, Arr],
    charge: I64,
    allowance: I64,
    c_remaining: I64,
    rng: np.random.Generator,
) -> npt.NDArray[np.bool_]:
    """Hard budget clamp: ad group hourly allowance first, then the campaign's caps."""
    g = slots["grp"].astype(np.int64)
    order = rng.permutation(g.size)
    keep = prefix_within(g, charge, allowance, order)
    c = plan.ag_campaign[g]
    kept_order = order[keep[order]]
    keep_c = prefix_within(c, charge, c_remaining, kept_order)
    return keep & keep_c
