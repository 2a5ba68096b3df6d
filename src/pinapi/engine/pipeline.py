"""A long simulation on two cores: the engine and the fold in a child process, storing here.

Why: simulating a month at benchmark size is about half numpy (traffic, auctions, folding
hours into rows) and half database work (inserting the rows, billing, checkpoints). In one
process the two take turns on the interpreter lock; split across processes they overlap,
and the month costs about the larger half instead of the sum.

The child gets everything it needs up front (seed, population size, the set-up, the state
to start from, the chunks and whether each is hourly) and sends back, in order, one
``Chunk`` per chunk: its hours' counts, its folded rows and the state pickled as it is at
the chunk's end. One message per chunk and nothing in between; a reader thread here takes
them as they come, up to ``AHEAD`` chunks ahead of the storing, so the two overlap and
memory stays bounded. The facts are the same as a run in one process: the same engine and
fold code, the same state, in the same order.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import os
import pickle
import queue
import shutil
import sys
import tempfile
import threading
import traceback
from collections.abc import AsyncGenerator, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from multiprocessing.connection import Connection
from typing import Any

import numpy as np

from pinapi.engine.entities import Setup
from pinapi.engine.folding import AdvertiserInfo, FoldedChunk, Folder, HourCounts
from pinapi.engine.loader import ads_dimensions
from pinapi.engine.population import build_population
from pinapi.engine.simulate import Engine, EngineConfig
from pinapi.engine.state import EngineState


@dataclass(frozen=True, slots=True)
class Work:
    """What the child simulates."""

    seed: int
    population: int
    setup: Setup
    state: EngineState
    chunks: list[tuple[datetime, datetime, bool, bool]]
    """(start, end, hourly, organic hourly) of each chunk, in order."""
    advertisers: Mapping[int, AdvertiserInfo]
    spool: str = ""
    """A directory for the chunks' large buffers (``_send``): ``run_in_child`` makes it and
    removes it at the end."""


@dataclass(frozen=True, slots=True)
class Hour:
    hour: datetime
    counts: HourCounts


@dataclass(frozen=True, slots=True)
class Chunk:
    start: datetime
    end: datetime
    hours: list[Hour]
    folded: FoldedChunk
    state: bytes
    """The pickled ``EngineState`` at ``end`` (for the checkpoint: stored, not read here)."""
    campaign_day_spend: dict[tuple[int, str], int]
    """``EngineState.closing_spend(end)``: what billing needs of the state."""


@dataclass(frozen=True, slots=True)
class Spooled:
    """A message whose large buffers wait in a file: ``pickle.loads(head, buffers=...)`` with
    the file's ``sizes`` bytes, in order, gives it back."""

    head: bytes
    path: str
    sizes: list[int]


def _send(conn: Connection, message: Any, spool: str) -> None:
    """Send ``message``, its out-of-band buffers (numpy arrays, packed breakdowns: up to ~100
    MB a chunk) through a file. Through the pipe, the reader thread would need the parent's
    interpreter lock for every pipe-full (a few milliseconds each while the storing holds
    it), which held the child up for most of a second per hourly chunk; a file is read in
    one call that lets go of the lock."""
    buffers: list[pickle.PickleBuffer] = []
    head = pickle.dumps(message, protocol=5, buffer_callback=buffers.append)
    fd, path = tempfile.mkstemp(dir=spool, suffix=".chunk")
    with os.fdopen(fd, "wb") as out:
        for buffer in buffers:
            out.write(buffer.raw())
    conn.send(Spooled(head, path, [buffer.raw().nbytes for buffer in buffers]))


def _load(message: Spooled) -> Any:
    with open(message.path, "rb", buffering=0) as spooled:
        # Uninitialised: a bytearray's zero fill costs as much as the read (~100 MB a chunk).
        buffers = [np.empty(size, dtype=np.uint8) for size in message.sizes]
        for buffer in buffers:
            if spooled.readinto(buffer.data) != buffer.size:
                raise EOFError("a spooled chunk ended early")
    os.unlink(message.path)
    return pickle.loads(message.head, buffers=buffers)


SPOOL_ROOM = 2 << 30
"""Free space ``/dev/shm`` needs to be used: ``AHEAD`` chunks waiting plus one being written,
up to ~100 MB each, with room to spare (containers often give it only 64 MB)."""


def spool_root(shm: str = "/dev/shm") -> str | None:
    """Where to spool: memory-backed ``shm`` where there is one with ``SPOOL_ROOM`` free, else
    the temp dir (None)."""
    try:
        if not os.access(shm, os.W_OK):
            return None
        stats = os.statvfs(shm)
    except OSError:
        return None
    return shm if stats.f_bavail * stats.f_frsize >= SPOOL_ROOM else None


def _child(conn: Connection, work: Work) -> None:
    """The child process: simulate and fold every chunk, sending the results in order."""
    try:
        population = build_population(ads_dimensions(), work.population, seed=work.seed)
        engine = Engine(population, EngineConfig(seed=work.seed))
        folder = Folder(population, work.advertisers)
        state = work.state
        # The fold of an hour (numpy and a compiled kernel, which let go of the interpreter
        # lock) runs in a second thread while the engine simulates the next hour, and so do
        # the end of a chunk (merging, packing) and handing it over while the engine starts
        # the next one. One fold thread runs its jobs in order, so the folder sees a chunk's
        # hours, its end, then the next chunk's hours.
        with ThreadPoolExecutor(1, thread_name_prefix="pinapi-fold", initializer=_yield_to_engine) as fold:
            previous: Future[None] | None = None
            for start, end, hourly, organic_hourly in work.chunks:
                fold.submit(folder.begin, start, end, hourly=hourly, organic_hourly=organic_hourly)
                folding = [
                    (r.hour, fold.submit(folder.add, r)) for r in engine.run(work.setup, state, start, end)
                ]
                pickled = pickle.dumps(state, protocol=5)  # before the next chunk moves it on
                spend = state.closing_spend(end)
                if previous is not None:
                    previous.result()  # a failure there stops the run here
                previous = fold.submit(
                    _hand_over, conn, folder, start, end, folding, pickled, spend, work.spool
                )
            if previous is not None:
                previous.result()
    except BaseException:  # every failure goes to the parent, which raises it
        with contextlib.suppress(OSError):  # OSError: the parent stopped listening
            conn.send(("error", traceback.format_exc()))
    finally:
        conn.close()


FOLD_NICENESS = 10
"""How much lower the fold thread's priority is than the engine thread's (Linux schedules
threads, not processes)."""


def _yield_to_engine() -> None:
    """Lower the calling (fold) thread's priority. In the old days of a month the engine
    thread is the run's critical path and the fold has slack (its queue is empty at every
    chunk's end), but the scheduler shared the cores evenly between them and the storing:
    30-day runs 44.3 s against 45.4 s (medians of five interleaved runs each). Where threads
    have no priorities of their own the call fails and nothing changes."""
    with contextlib.suppress(OSError, AttributeError):
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), FOLD_NICENESS)


def _hand_over(
    conn: Connection,
    folder: Folder,
    start: datetime,
    end: datetime,
    folding: list[tuple[datetime, Future[HourCounts]]],
    state: bytes,
    spend: dict[tuple[int, str], int],
    spool: str,
) -> None:
    hours = [Hour(hour, done.result()) for hour, done in folding]
    _send(conn, Chunk(start, end, hours, folder.finish(), state, spend), spool)


def serve(argv: list[str]) -> None:
    """The child's entry (``serve([_, IN_FD, OUT_FD])``): read the work from one pipe,
    answer on the other."""
    inbox = Connection(int(argv[1]), writable=False)
    work = inbox.recv()
    inbox.close()
    _child(Connection(int(argv[2]), readable=False), work)


class ChildFailed(RuntimeError):
    """The engine's child process failed; the message holds its traceback."""


CHILD_MALLOC = {"MALLOC_MMAP_THRESHOLD_": str(256 << 20), "MALLOC_TRIM_THRESHOLD_": str(512 << 20)}
"""glibc's malloc settings for the child (other C libraries ignore them): the engine
allocates and frees arrays of a few MB hundreds of times a simulated hour, and by default
each comes from a fresh ``mmap`` whose pages the kernel zeroes again on first touch (a tenth
of the child's time went to that); below 256 MB they now come from the heap, and up to
512 MB of freed heap is kept for the next hour instead of being handed back."""

AHEAD = 4
"""Chunks the child may finish before this process stores them: recent days are hourly and
cost the storing more than the simulating, old days the other way round, so a few chunks of
slack let each side work through its heavy stretch while the other catches up."""


def _read(receiver: Connection, count: int, inbox: queue.Queue[Any], stop: threading.Event) -> None:
    """Move the child's messages into ``inbox`` as they arrive (a thread of its own, so the
    child never waits for the storing while the inbox has room)."""

    def put(item: Any) -> bool:
        while not stop.is_set():
            try:
                inbox.put(item, timeout=0.2)
                return True
            except queue.Full:
                continue
        return False

    try:
        for _ in range(count):
            message = receiver.recv()
            if isinstance(message, Spooled):
                message = _load(message)
            if not put(message) or isinstance(message, tuple):
                return
    except BaseException as exc:  # EOF: the child died; anything else: unreadable message
        put(exc)


async def run_in_child(work: Work) -> AsyncGenerator[Chunk, None]:
    """The child's chunks in order; the child is stopped when the caller stops early.

    The child is a fresh interpreter calling ``serve`` (not ``multiprocessing``'s spawn, which
    re-imports the parent's main script and so depends on how the parent was started); the
    work and the results travel as pickles over two pipes (the results' large buffers
    through files in a spool directory, ``_send``), and a reader thread keeps up to ``AHEAD``
    chunks waiting here."""
    spool = tempfile.mkdtemp(prefix="pinapi-engine-", dir=spool_root())
    work = dataclasses.replace(work, spool=spool)
    work_r, work_w = os.pipe()
    out_r, out_w = os.pipe()
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        "import sys; from pinapi.engine.pipeline import serve; serve(sys.argv)",
        str(work_r),
        str(out_w),
        pass_fds=(work_r, out_w),
        stdin=asyncio.subprocess.DEVNULL,
        env={**os.environ, **CHILD_MALLOC},
    )
    os.close(work_r)
    os.close(out_w)
    receiver = Connection(out_r, writable=False)
    inbox: queue.Queue[Any] = queue.Queue(maxsize=AHEAD)
    stop = threading.Event()
    reader = threading.Thread(
        target=_read, args=(receiver, len(work.chunks), inbox, stop), name="pinapi-engine-reader", daemon=True
    )
    try:
        outbox = Connection(work_w, readable=False)
        try:
            await asyncio.to_thread(outbox.send, work)
        finally:
            outbox.close()
        reader.start()
        for _ in work.chunks:
            message: Any = await asyncio.to_thread(inbox.get)
            if isinstance(message, EOFError):
                code = await process.wait()
                raise ChildFailed(f"the engine process ended early (exit code {code})") from None
            if isinstance(message, BaseException):
                raise ChildFailed(f"reading the engine process's results failed: {message!r}") from message
            if isinstance(message, tuple):
                raise ChildFailed(f"the engine process failed:\n{message[1]}")
            yield message
    finally:
        stop.set()
        if process.returncode is None:
            process.terminate()
        await process.wait()  # the child gone, the reader's recv ends too
        if reader.is_alive():
            await asyncio.to_thread(reader.join)
        receiver.close()
        shutil.rmtree(spool, ignore_errors=True)
