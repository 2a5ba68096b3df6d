"""Time-ordered 63-bit ids, unique across processes without coordination.

Layout (most significant first): 41 bits of milliseconds since 2020-01-01 UTC, 10 bits of
node id, 12 bits of per-millisecond sequence.

The node id is the process id plus a hash of the host name, modulo 1024 (recomputed after
``fork``). Processes alive together on one host have distinct pids, and processes started
together (API workers, ``pinapi worker``) have nearby ones, so their node ids differ for
certain rather than with the 1-in-1024-per-pair odds a random draw would give (and two
processes sharing a node id collide on the first id of every millisecond). Across hosts the
hostname hash spreads nodes; the store's primary keys catch what remains.
"""

from __future__ import annotations

import os
import socket
import threading
import time
import zlib

EPOCH_MS = 1_577_836_800_000  # 2020-01-01T00:00:00Z
_NODE_BITS = 10
_SEQ_BITS = 12
_NODE_MASK = (1 << _NODE_BITS) - 1
_SEQ_MASK = (1 << _SEQ_BITS) - 1


def process_node() -> int:
    return (os.getpid() + zlib.crc32(socket.gethostname().encode())) & _NODE_MASK


class IdGenerator:
    def __init__(self, node: int | None = None) -> None:
        self._lock = threading.Lock()
        self._pid = os.getpid()
        self._fixed = node is not None
        self._node = (node if node is not None else process_node()) & _NODE_MASK
        self._last_ms = 0
        self._seq = 0

    @property
    def node(self) -> int:
        return self._node

    def next_id(self) -> int:
        with self._lock:
            if os.getpid() != self._pid:  # forked: the child takes its own node id
                self._pid = os.getpid()
                if not self._fixed:
                    self._node = process_node()
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
