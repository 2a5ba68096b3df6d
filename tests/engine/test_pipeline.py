"""The engine in a child process: results in order, failures raised here with the child's
traceback, and the child gone when the caller stops early."""

from __future__ import annotations

import os
import pickle
import tempfile
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest

from pinapi.engine import pipeline
from pinapi.engine.entities import AdGroup, Advertiser, Campaign, Pin, PinPromotion, Setup
from pinapi.engine.folding import AdvertiserInfo
from pinapi.engine.pipeline import ChildFailed, Work, run_in_child, spool_root
from pinapi.engine.state import EngineState
from pinapi.store.breakdowns import PackedRows, pack_rows

START = datetime(2026, 11, 2, 0, tzinfo=UTC)


def _work(population: int, hours: tuple[int, ...] = (3, 2)) -> Work:
    setup = Setup(
        advertisers=[Advertiser(5, "America/New_York", "USD")],
        campaigns=[Campaign(50, 5)],
        ad_groups=[
            AdGroup(
                id=500,
                campaign_id=50,
                budget_in_micro_currency=50_000_000,
                bid_in_micro_currency=20_000_000,
                targeting_spec={"LOCATION": ["US"]},
            )
        ],
        pin_promotions=[PinPromotion(5000, 500, 9000)],
        pins=[Pin(9000)],
        organic_pins=[Pin(1)],
    )
    chunks, at = [], START
    for n in hours:
        chunks.append((at, at + timedelta(hours=n), True, True))
        at += timedelta(hours=n)
    return Work(
        seed=3,
        population=population,
        setup=setup,
        state=EngineState(),
        chunks=chunks,
        advertisers={5: AdvertiserInfo("America/New_York", "USD")},
    )


async def test_chunks_in_order_with_their_hours() -> None:
    got = [(m.start, m.end, [h.hour for h in m.hours]) async for m in run_in_child(_work(20_000))]
    at = [START + timedelta(hours=h) for h in range(6)]
    assert got == [(at[0], at[3], at[0:3]), (at[3], at[5], at[3:5])]


async def test_a_failure_in_the_child_is_raised_with_its_traceback() -> None:
    with pytest.raises(ChildFailed, match="population size must be positive"):
        async for _ in run_in_child(_work(0)):
            pass


async def test_stopping_early_stops_the_child() -> None:
    stream = run_in_child(_work(20_000, hours=(2, 2, 2)))
    first = await anext(stream)
    assert first.folded.totals["pin_promotion_id"].size > 0
    await stream.aclose()  # the child is terminated and reaped, nothing is left running
    assert len([m async for m in run_in_child(_work(20_000, hours=(1,)))]) == 1


def _spools() -> set[str]:
    root = spool_root() or tempfile.gettempdir()
    return {name for name in os.listdir(root) if name.startswith("pinapi-engine-")}


async def test_chunks_cross_whole_and_leave_no_spool_behind() -> None:
    """Arrays and packed breakdowns come back equal through the spool files, which are gone
    once the run ends, also when the caller stops early."""
    before = _spools()
    got = [m async for m in run_in_child(_work(20_000))]
    blobs = got[0].folded.breakdowns["entries"]
    assert isinstance(blobs, PackedRows) and len(blobs) == got[0].folded.totals["pin_promotion_id"].size
    assert b"".join(blobs.values()) == blobs.buffer and blobs.buffer
    stream = run_in_child(_work(20_000, hours=(2, 2, 2)))
    await anext(stream)
    await stream.aclose()
    assert _spools() == before


def test_packed_rows_pickle_out_of_band_and_in_band() -> None:
    rows = pack_rows(np.array([0, 0, 1]), np.array([7, 8, 9]), np.array([0, 1, 0]), np.array([5, 6, 7]), 2)
    buffers: list[pickle.PickleBuffer] = []
    head = pickle.dumps(rows, protocol=5, buffer_callback=buffers.append)
    assert len(buffers) >= 1 and len(head) < len(rows.buffer) + 200
    back = pickle.loads(head, buffers=[bytearray(b.raw()) for b in buffers])
    assert back.values() == rows.values() and back.buffer == rows.buffer
    assert pickle.loads(pickle.dumps(rows, protocol=4)).values() == rows.values()


def test_the_spool_goes_to_shared_memory_only_with_room(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert spool_root(str(tmp_path / "missing")) is None
    room = os.statvfs(tmp_path)
    free = room.f_bavail * room.f_frsize
    monkeypatch.setattr(pipeline, "SPOOL_ROOM", free + (1 << 40))
    assert spool_root(str(tmp_path)) is None  # a 64 MB /dev/shm in a container, say
    monkeypatch.setattr(pipeline, "SPOOL_ROOM", 1)
    assert spool_root(str(tmp_path)) == str(tmp_path)


def test_the_fold_thread_yields_to_the_engine_thread() -> None:
    seen: dict[str, int] = {}

    def fold() -> None:
        tid = threading.get_native_id()
        seen["before"] = os.getpriority(os.PRIO_PROCESS, tid)
        pipeline._yield_to_engine()
        seen["after"] = os.getpriority(os.PRIO_PROCESS, tid)

    mine = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
    worker = threading.Thread(target=fold)
    worker.start()
    worker.join()
    assert seen["after"] == min(seen["before"] + pipeline.FOLD_NICENESS, 19)
    # Only the calling thread: this one (the engine's, in the child) keeps its priority.
    assert os.getpriority(os.PRIO_PROCESS, threading.get_native_id()) == mine
