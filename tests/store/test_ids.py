"""Ids: time-ordered, unique and increasing in a process, disjoint across processes."""

from __future__ import annotations

import itertools
import multiprocessing
import os
import time

import pytest

from pinapi.store import ids
from pinapi.store.ids import EPOCH_MS, IdGenerator, new_id

N = 20_000


def _parts(value: int) -> tuple[int, int, int]:
    return value >> 22, (value >> 12) & 0x3FF, value & 0xFFF


def _generate(count: int) -> tuple[int, list[int]]:
    """Run in a spawned process: its pid and ids from the module-level generator."""
    return os.getpid(), [new_id() for _ in range(count)]


def test_unique_and_increasing_in_one_process() -> None:
    before = int(time.time() * 1000) - EPOCH_MS
    values = [new_id() for _ in range(N)]
    after = int(time.time() * 1000) - EPOCH_MS
    assert all(a < b for a, b in itertools.pairwise(values))
    assert all(0 < v < 2**63 for v in values)
    ms, node, _ = _parts(values[0])
    assert before <= ms <= after + N // 4096 + 1
    assert node == ids.process_node()
    assert len(str(values[0])) >= 17  # decimal strings like the v3 samples' 18-digit ids


def test_sequence_exhaustion_borrows_the_next_millisecond(monkeypatch: pytest.MonkeyPatch) -> None:
    frozen = (EPOCH_MS + 1_000_000) / 1000
    monkeypatch.setattr("pinapi.store.ids.time.time", lambda: frozen)
    gen = IdGenerator(node=7)
    values = [gen.next_id() for _ in range(3 * 4096)]
    assert len(set(values)) == len(values)
    assert all(a < b for a, b in itertools.pairwise(values))
    assert {_parts(v)[1] for v in values} == {7}
    assert [_parts(v)[0] for v in values[::4096]] == [1_000_000, 1_000_001, 1_000_002]


def test_clock_going_back_keeps_ids_increasing(monkeypatch: pytest.MonkeyPatch) -> None:
    now = [(EPOCH_MS + 5_000) / 1000]
    monkeypatch.setattr("pinapi.store.ids.time.time", lambda: now[0])
    gen = IdGenerator(node=1)
    first = gen.next_id()
    now[0] -= 2.0  # NTP stepped the clock back two seconds
    second = gen.next_id()
    assert second > first and _parts(second)[0] == _parts(first)[0]


def test_fork_takes_a_new_node(monkeypatch: pytest.MonkeyPatch) -> None:
    gen = IdGenerator()
    parent_node = _parts(gen.next_id())[1]
    real = os.getpid()
    monkeypatch.setattr("pinapi.store.ids.os.getpid", lambda: real + 1)
    child_node = _parts(gen.next_id())[1]
    assert child_node == (parent_node + 1) % 1024 == ids.process_node()
    fixed = IdGenerator(node=3)
    assert _parts(fixed.next_id())[1] == 3


def test_unique_across_processes() -> None:
    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(3) as pool:
        results = pool.map(_generate, [N] * 3)
    pids = {pid for pid, _ in results}
    assert len(pids) == 3
    seen: set[int] = set()
    for _, values in results:
        assert all(a < b for a, b in itertools.pairwise(values))
        assert seen.isdisjoint(values)
        seen.update(values)
    assert len({_parts(values[0])[1] for _, values in results}) == 3
