"""The packed breakdown format: what goes in comes out summed the same, however it is cut."""

from __future__ import annotations

from collections import Counter

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from pinapi.store.breakdowns import RECORD, pack, pack_records, pack_rows, unpack


def _sums(blob: bytes | memoryview) -> Counter[tuple[int, int]]:
    _, code, metric, amount = unpack([blob])
    out: Counter[tuple[int, int]] = Counter()
    for c, m, a in zip(code.tolist(), metric.tolist(), amount.tolist(), strict=True):
        out[(c, m)] += a
    return out


def test_records_are_nine_bytes_and_zero_amounts_are_not_stored() -> None:
    assert RECORD.itemsize == 9
    assert pack([1, 2], [0, 1], [0, 0]) == b""
    assert len(pack([1, 2], [0, 1], [5, 0])) == 9


def test_amounts_beyond_32_bits_are_split_into_records_that_add_up() -> None:
    big, negative = 2**40 + 7, -(2**33) - 1
    blob = pack([5, 7, 8], [0, 2, 3], [3, big, negative])
    _, _, _, amount = unpack([blob])
    assert amount.size > 3 and int(np.abs(amount).max()) < 2**31
    assert _sums(blob) == Counter({(5, 0): 3, (7, 2): big, (8, 3): negative})


@settings(max_examples=50, deadline=None)
@given(
    entries=st.lists(
        st.tuples(
            st.integers(0, 4),
            st.integers(0, 2**32 - 1),
            st.integers(0, 24),
            st.one_of(st.integers(-(2**35), 2**35), st.integers(-5, 5)),
        ),
        max_size=40,
    )
)
def test_pack_rows_cuts_any_order_into_rows_with_the_same_sums(
    entries: list[tuple[int, int, int, int]],
) -> None:
    rows = 5
    row, code, metric, amount = (np.array([e[i] for e in entries], dtype=np.int64) for i in range(4))
    blobs = pack_rows(row, code, metric, amount, rows).values()
    assert len(blobs) == rows
    for r in range(rows):
        want: Counter[tuple[int, int]] = Counter()
        for e_row, e_code, e_metric, e_amount in entries:
            if e_row == r and e_amount:
                want[(e_code, e_metric)] += e_amount
        got = _sums(blobs[r])
        assert {k: v for k, v in got.items() if v} == {k: v for k, v in want.items() if v}
    row_of, _, _, _ = unpack(blobs)
    assert row_of.tolist() == sorted(row_of.tolist())


def _reference(row: np.ndarray, codes: np.ndarray, metrics: np.ndarray, amounts: np.ndarray) -> bytes:
    """The record layout spelled out in numpy: non-zero entries in order, an amount beyond
    32 bits split into near-equal records of the same code and metric."""
    out = []
    for r, c, m, a in zip(row.tolist(), codes.tolist(), metrics.tolist(), amounts.tolist(), strict=True):
        if a:
            n = max(1, -(-abs(a) // ((1 << 31) - 1)))
            q, rem = divmod(abs(a), n)
            out += [(r, c, m, (1 if a > 0 else -1) * (q + (j < rem))) for j in range(n)]
    rec = np.empty(len(out), dtype=RECORD)
    rec["code"] = [o[1] for o in out]
    rec["metric"] = [o[2] for o in out]
    rec["amount"] = [o[3] for o in out]
    return rec.tobytes()


@settings(max_examples=60, deadline=None)
@given(n=st.integers(0, 40), rows=st.integers(1, 6), seed=st.integers(0, 2**32 - 1))
def test_packed_records_follow_the_record_layout(n: int, rows: int, seed: int) -> None:
    """Byte for byte, including amounts split beyond 32 bits and rows without entries."""
    rng = np.random.default_rng(seed)
    row = rng.integers(0, rows, n)
    metric = rng.integers(0, 25, n)
    amount = rng.integers(-5, 6, n) * rng.choice([1, 1, 1 << 31, 1 << 33, 3 << 40], n)
    codes = rng.integers(0, 1 << 32, n)
    buffer, ends = pack_records(row, codes, metric, amount, rows)
    order = np.argsort(row, kind="stable")
    assert buffer.tobytes() == _reference(row[order], codes[order], metric[order], amount[order])
    per_row = [len(_reference(*(a[row == r] for a in (row, codes, metric, amount)))) for r in range(rows)]
    assert ends.tolist() == np.cumsum(per_row).tolist()
