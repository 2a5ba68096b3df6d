"""Hard clamps applied after the auction: spend may never pass an allowance.

Slots are taken in a random order; per group (ad group, then campaign) only the prefix whose
running charge fits the limit is kept, so the kept charge never exceeds the limit and a slot
that does not fit is simply not served.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

from pinapi.engine.plan import Plan
from pinapi.engine.slot_kernels import prefix_within

I64 = npt.NDArray[np.int64]
Arr = npt.NDArray[Any]


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
