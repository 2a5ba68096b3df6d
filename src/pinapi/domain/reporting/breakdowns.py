"""Targeting rows of reports: the packed ``delivery_breakdowns`` summed per key and value.

A promotion-hour's breakdowns are one packed value (``store.breakdowns``), which no database
can group by, so the targeting levels cannot aggregate in SQL as the others do. Instead the
matching rows come back with their report keys (the entity, and the hour or local date), all
their entries are decoded at once and summed with numpy per (key, value code); Python only
numbers the keys of the rows and builds the result groups, which are as many as the report's
rows, never one per entry.

A group exists wherever an entry of its key and value exists, whatever metric it holds: the
writer stores only non-zero sums, and every value it stores had impressions, so a group
whose asked-for metrics sum to 0 is still a row of the report (as it was when breakdowns
were rows of their own).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from sqlalchemy import ColumnElement, select
from sqlalchemy.ext.asyncio import AsyncSession

from pinapi.store.breakdowns import Pair, metric_index, names, unpack
from pinapi.store.tables import DeliveryBreakdown
from pinapi.store.tables.facts import METRIC_COLUMNS


async def breakdown_sums(
    session: AsyncSession,
    keys: Sequence[Any],
    where: Sequence[ColumnElement[bool]],
    cols: Sequence[str],
    types: Sequence[str] | None = None,
) -> list[tuple[Any, ...]]:
    """``(*keys, dimension type, dimension value, *sums)`` for every group of the
    ``DeliveryBreakdown`` rows matching ``where``, grouped by the ``keys`` columns (of
    ``DeliveryBreakdown``) and the dimension value.

    The sums are those of the metric columns ``cols``, in their order; ``types`` keeps only
    those dimension types (``None``: all). The rows come in no particular order."""
    n_keys = len(keys)
    conn = await session.connection()
    rows = (await conn.execute(select(*keys, DeliveryBreakdown.entries).where(*where))).all()
    if not rows:
        return []

    # Rows sharing their keys form one key group; numbering them is the only per-row work.
    key_ids: dict[tuple[Any, ...], int] = {}
    row_key = np.fromiter(
        (key_ids.setdefault(tuple(r[:n_keys]), len(key_ids)) for r in rows), dtype=np.int64, count=len(rows)
    )
    entry_row, code, metric, amount = unpack([r[n_keys] for r in rows])
    del rows
    if not code.size:
        return []

    codes, code_ix = np.unique(code, return_inverse=True)
    code_list = codes.tolist()
    known = await names(session, code_list)
    missing = [c for c in code_list if c not in known]
    if missing:
        raise RuntimeError(f"breakdown value codes without a name: {missing[:10]}")
    pairs: list[Pair] = [known[c] for c in code_list]
    if types is not None:
        wanted = set(types)
        keep_code = np.fromiter((p[0] in wanted for p in pairs), dtype=bool, count=len(pairs))
        keep = keep_code[code_ix]
        entry_row, code_ix, metric, amount = entry_row[keep], code_ix[keep], metric[keep], amount[keep]
        if not code_ix.size:
            return []

    # A cell is (key group, value); every entry makes its cell exist, the asked-for metrics sum.
    cells, cell_ix = np.unique(row_key[entry_row] * len(codes) + code_ix, return_inverse=True)
    asked = [metric_index(c) for c in cols]
    distinct = list(dict.fromkeys(asked))
    slot = np.full(len(METRIC_COLUMNS), -1, dtype=np.int64)
    slot[distinct] = np.arange(len(distinct), dtype=np.int64)
    entry_slot = slot[metric]
    summed = entry_slot >= 0
    sums = np.zeros(cells.size * len(distinct), dtype=np.int64)
    np.add.at(sums, cell_ix[summed] * len(distinct) + entry_slot[summed], amount[summed])
    values = sums.reshape(cells.size, len(distinct))[:, [distinct.index(m) for m in asked]].tolist()

    key_list = list(key_ids)
    out: list[tuple[Any, ...]] = []
    for cell, sums_of_cell in zip(cells.tolist(), values, strict=True):
        key, value = divmod(cell, len(codes))
        out.append((*key_list[key], *pairs[value], *sums_of_cell))
    return out
