"""The packed format of ``delivery_breakdowns.entries`` and its value codes.

Why packed: a promotion-hour's breakdowns are a few dozen (dimension value, metric) sums,
most of them zero. One row per dimension value costs a database row (five B-tree inserts)
per sum that is not even stored compactly; one value of fixed-size records per promotion-hour
costs one row, and readers decode thousands of them with one ``numpy.frombuffer``.

An entry is a ``RECORD``: the code of a (dimension type, value) pair, the index of a metric
in ``METRIC_COLUMNS`` and the summed amount. Only non-zero sums are stored; every dimension
type of a row partitions the same impressions, so the amounts of one type and metric add up
to the ``DeliveryHour`` row beside it.

Codes are a 32-bit hash of the pair, so every process (a live engine, a ``simulate`` run)
computes the same code without coordinating; ``delivery_dimension_values`` names them for
readers, and ``register`` refuses a hash collision instead of mixing two values.
"""

from __future__ import annotations

import pickle
import zlib
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, SupportsIndex

import numba
import numpy as np
import numpy.typing as npt
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from pinapi.store.tables.facts import METRIC_COLUMNS, DeliveryDimensionValue

RECORD = np.dtype([("code", "<u4"), ("metric", "u1"), ("amount", "<i4")])
"""9 bytes, unaligned: (value code, metric index, amount). Nearly every sum of a promotion's
hour or day fits 32 bits; one that does not is stored as several records of the same code
and metric, which readers add up like any others."""
_MAX = (1 << 31) - 1
I64 = npt.NDArray[np.int64]
Pair = tuple[str, str]


def value_code(dimension_type: str, value: str) -> int:
    return zlib.crc32(f"{dimension_type}\x1f{value}".encode())


@numba.njit(cache=True, nogil=True)
def _pack(
    row: I64, codes: I64, metrics: I64, amounts: I64, n_rows: int
) -> tuple[npt.NDArray[np.uint8], I64]:  # pragma: no cover - compiled; its results are tested
    """``RECORD``s of the non-zero entries in order (an amount beyond 32 bits split into
    records that add up to it) and where each row ends; entries are ordered by row."""
    pieces = np.empty(row.size, np.int64)
    total = 0
    for i in range(row.size):
        size = abs(amounts[i])
        pieces[i] = max(1, -(-size // _MAX)) if size else 0
        total += pieces[i]
    out = np.empty(total * 9, np.uint8)
    ends = np.zeros(n_rows, np.int64)
    at = 0
    for i in range(row.size):
        n = pieces[i]
        if n == 0:
            continue
        size = abs(amounts[i])
        q, r = size // n, size % n
        sign = 1 if amounts[i] > 0 else -1
        code = codes[i]
        for j in range(n):
            bits = (sign * (q + (1 if j < r else 0))) & 0xFFFFFFFF
            for k in range(4):
                out[at + k] = (code >> (8 * k)) & 0xFF
                out[at + 5 + k] = (bits >> (8 * k)) & 0xFF
            out[at + 4] = metrics[i]
            at += 9
        ends[row[i]] = at
    for r in range(1, n_rows):  # rows without entries end where the one before did
        ends[r] = max(ends[r], ends[r - 1])
    return out, ends


def pack_records(
    row: I64, codes: I64, metrics: I64, amounts: I64, rows: int
) -> tuple[npt.NDArray[np.uint8], I64]:
    """The entries of ``rows`` rows as one buffer of ``RECORD`` bytes and each row's end:
    entry i belongs to row ``row[i]``. Entries need not be sorted (already sorted ones skip
    the sort); zero amounts are dropped. One compiled call without the interpreter lock."""
    if not bool(np.all(row[1:] >= row[:-1])):
        order = np.argsort(row, kind="stable")
        row, codes, metrics, amounts = row[order], codes[order], metrics[order], amounts[order]
    r, c, m, a = (np.ascontiguousarray(x, dtype=np.int64) for x in (row, codes, metrics, amounts))
    out: tuple[npt.NDArray[np.uint8], I64] = _pack(r, c, m, a, int(rows))
    return out


def pack(codes: npt.ArrayLike, metrics: npt.ArrayLike, amounts: npt.ArrayLike) -> bytes:
    """One row's entries (equal-length arrays; zero amounts are dropped)."""
    c = np.asarray(codes, dtype=np.int64)
    records, _ = pack_records(
        np.zeros(c.size, dtype=np.int64),
        c,
        np.asarray(metrics, dtype=np.int64),
        np.asarray(amounts, dtype=np.int64),
        1,
    )
    return records.tobytes()


@dataclass(frozen=True, slots=True)
class PackedRows:
    """Many rows' packed values as one buffer and where each ends: one object to hand to
    another process instead of one per row. The buffer is any bytes-like object (the packer's
    array, a spooled file's buffer): a chunk's tens of MB are not copied to make it ``bytes``."""

    buffer: bytes | bytearray | memoryview
    ends: I64

    def __len__(self) -> int:
        return int(self.ends.size)

    def values(self) -> list[memoryview]:
        """Each row's value, as views of the buffer (drivers take any bytes-like value)."""
        return list(self)

    def __iter__(self) -> Iterator[memoryview]:
        """The values one by one, made as they are taken: ``bulk_insert`` streams them to the
        driver, so the views of a chunk (GC-tracked objects) never pile up."""
        buf = memoryview(self.buffer)
        start = 0
        for end in self.ends.tolist():
            yield buf[start:end]
            start = end

    def __reduce_ex__(self, protocol: SupportsIndex) -> tuple[Any, ...]:
        # Protocol 5 can hand the buffer over out of band (no copy into the pickle stream).
        if int(protocol) >= 5:
            return (_packed_rows, (pickle.PickleBuffer(self.buffer), self.ends))
        return (_packed_rows, (bytes(self.buffer), self.ends))


def _packed_rows(buffer: Any, ends: I64) -> PackedRows:
    return PackedRows(buffer if isinstance(buffer, bytes | bytearray) else memoryview(buffer), ends)


def pack_rows(row: I64, codes: I64, metrics: I64, amounts: I64, rows: int) -> PackedRows:
    """``pack_records`` as a ``PackedRows``."""
    records, ends = pack_records(row, codes, metrics, amounts, rows)
    return PackedRows(records.data, ends)


def unpack(blobs: Sequence[bytes | bytearray | memoryview]) -> tuple[I64, I64, I64, I64]:
    """(row index, code, metric, amount) of every entry of ``blobs``, as int64 arrays."""
    sizes = np.fromiter((len(b) for b in blobs), dtype=np.int64, count=len(blobs))
    if sizes.size and np.any(sizes % RECORD.itemsize):
        raise ValueError("a breakdown value is not a whole number of records")
    rec = np.frombuffer(b"".join(blobs), dtype=RECORD)
    row = np.repeat(np.arange(len(blobs), dtype=np.int64), sizes // RECORD.itemsize)
    return (
        row,
        rec["code"].astype(np.int64),
        rec["metric"].astype(np.int64),
        rec["amount"].astype(np.int64),
    )


def metric_index(column: str) -> int:
    return METRIC_COLUMNS.index(column)


async def register(session: AsyncSession, pairs: Iterable[Pair], known: dict[int, Pair]) -> dict[int, Pair]:
    """Make sure every pair has its code row; ``known`` (code -> pair) is what the caller has
    already registered and is updated in place. Raises on a hash collision."""
    wanted: dict[int, Pair] = {}
    for pair in pairs:
        code = value_code(*pair)
        seen = known.get(code) or wanted.get(code)
        if seen is not None and seen != pair:
            raise RuntimeError(f"breakdown value codes collide: {seen} and {pair}")
        if seen is None:
            wanted[code] = pair
    if not wanted:
        return known
    stored = await names(session, wanted)
    for code, pair in stored.items():
        if wanted[code] != pair:
            raise RuntimeError(f"breakdown value codes collide: {pair} and {wanted[code]}")
    new = [
        DeliveryDimensionValue(code=c, dimension_type=p[0], dimension_value=p[1])
        for c, p in wanted.items()
        if c not in stored
    ]
    if new:
        session.add_all(new)
        await session.flush()
    known.update(wanted)
    return known


async def names(session: AsyncSession, codes: Iterable[int]) -> dict[int, Pair]:
    """code -> (dimension type, value) for the given codes that are registered."""
    wanted = sorted(set(int(c) for c in codes))
    out: dict[int, Pair] = {}
    t = DeliveryDimensionValue
    for i in range(0, len(wanted), 500):
        part = wanted[i : i + 500]
        for code, dt, dv in (
            await session.execute(select(t.code, t.dimension_type, t.dimension_value).where(t.code.in_(part)))
        ).all():
            out[int(code)] = (dt, dv)
    return out
