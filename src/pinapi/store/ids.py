"""Time-ordered 63-bit ids, unique across processes without coordination.

Layout (most significant first): 41 bits of milliseconds since 2020-01-01 UTC, 10 bits of
node id, 12 bits of per-millisecond sequence. The node id is drawn from the OS random source
once per process (and again after ``fork``), so concurrent API and worker processes produce
disjoint ids with overwhelming probability; the store's primary keys catch the rest.
"""

from __future__ import annotations

import os
import threading
import time

EPOCH_MS = 1_577_836_800_000  # 2020-01-01T00:00:00Z
_NODE_BITS = 10
_SEQ_BITS = 12
_SEQ_MASK = (1 << _SEQ_BITS) - 1


class IdGenerator:
    def __init__(self, node: int | None = None) -> None:
        self._lock = threading.Lock()
        self._pid = os.getpid()
        self._node = (node if node is not None else int.from_bytes(os.urandom(2), "big")) & (
            (1 << _NODE_BITS) - 1
        )
        self._last_ms = 0
        self._seq = 0

    def next_id(self) -> int:
        with self._lock:
            if os.getpid() != self._pid:  # forked: take a fresh node id
                self._pid = os.getpid()
                self._node = int.from_bytes(os.urandom(2), "big") & ((1 << _NODE_BITS) - 1)
            now = int(time.time() * 1000) - EPOCH_MS
            if now <= self._last_ms:
                now = self._last_ms
                self._seq = (self._seq + 1) & _SEQ_MASK
                if self._seq == 0:  # sequence exhausted: borrow the next millisecond
                    now += 1
            else:
                self._seq = 0
            self._last_ms = now
            return (now << (_NODE_BITS + _SEQ_BITS)) | (self._node << _SEQ_BITS) | self._seq


_default = IdGenerator()


def new_id() -> int:
    return _default.next_id()
