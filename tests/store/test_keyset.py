"""Keyset pagination properties (hypothesis): every row once, in order, also under inserts.

The walk goes through real bookmarks (encode after each page, decode before the next), as
an API route does, over the ``users`` table ordered by a non-unique column plus the id.
"""

from __future__ import annotations

import itertools
import random
import re
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, select

from pinapi.runtime import Runtime
from pinapi.store.keyset import KeysetPage, fetch_page
from pinapi.store.tables import User

CTX = "test:users:by_pin_count"
URL_SAFE = re.compile(r"^[A-Za-z0-9_\-.]+$")
STAMP = datetime(2026, 1, 1, tzinfo=UTC)
SEED_ROWS = 40
Key = tuple[int, int]
PROPERTY = settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def _row(pin_count: int, user_id: int, prefix: str) -> User:
    return User(
        id=user_id,
        username=f"{prefix}{user_id}",
        pin_count=pin_count,
        created_at=STAMP,
        password_changed_at=STAMP,
    )


async def _seed(rt: Runtime) -> list[Key]:
    rng = random.Random(7)
    ids = rng.sample(range(1, 1_000_000), SEED_ROWS)
    keys = [(i % 5, uid) for i, uid in enumerate(ids)]
    async with rt.sessions() as s, s.begin():
        s.add_all(_row(pc, uid, "seed") for pc, uid in keys)
    return keys


async def _all_keys(rt: Runtime) -> set[Key]:
    async with rt.sessions() as s:
        rows = await s.execute(select(User.pin_count, User.id))
        return {(int(pc), int(uid)) for pc, uid in rows}


async def _walk(
    rt: Runtime,
    sizes: list[int],
    descending: bool,
    between: Callable[[int, Key], Awaitable[None]] | None = None,
) -> list[Key]:
    """Fetch pages until no bookmark comes back; ``between`` runs after each non-final page."""
    seen: list[Key] = []
    raw: str | None = None
    n = 0
    while True:
        after: list[Any] | None = rt.bookmarks.decode(raw, CTX) if raw else None
        async with rt.sessions() as s:
            page: KeysetPage[User] = await fetch_page(
                s,
                select(User),
                order=[User.__table__.c.pin_count, User.__table__.c.id],
                after=after,
                limit=sizes[n % len(sizes)],
                descending=descending,
                key_of=lambda u: [u.pin_count, u.id],
            )
        assert len(page.rows) <= sizes[n % len(sizes)]
        seen += [(u.pin_count, u.id) for u in page.rows]
        if page.next_key is None:
            return seen
        assert page.next_key == list(seen[-1])
        raw = rt.bookmarks.encode(CTX, page.next_key)
        assert URL_SAFE.match(raw)
        if between is not None:
            await between(n, seen[-1])
        n += 1


def _ordered(keys: list[Key], descending: bool) -> bool:
    pairs = itertools.pairwise(keys)
    return all((a > b) if descending else (a < b) for a, b in pairs)


sizes_st = st.lists(st.integers(1, 12), min_size=1, max_size=6)


async def _seeded(rt: Runtime) -> list[Key]:
    """Seed once per test (the runtime fixture, and so the database, lives for the whole test)."""
    keys = rt.extras.get("keyset_seed")
    if keys is None:
        keys = rt.extras["keyset_seed"] = await _seed(rt)
    assert isinstance(keys, list)
    return keys


@PROPERTY
@given(sizes=sizes_st, descending=st.booleans())
async def test_walk_yields_every_row_once_in_order(
    runtime: Runtime, sizes: list[int], descending: bool
) -> None:
    original = await _seeded(runtime)
    seen = await _walk(runtime, sizes, descending)
    assert seen == sorted(original, reverse=descending)


@PROPERTY
@given(
    sizes=sizes_st,
    descending=st.booleans(),
    batches=st.lists(
        st.lists(st.tuples(st.integers(0, 4), st.integers(1, 1_000_000)), max_size=3), max_size=8
    ),
)
async def test_walk_while_rows_are_inserted(
    runtime: Runtime, sizes: list[int], descending: bool, batches: list[list[Key]]
) -> None:
    await _seeded(runtime)
    before = await _all_keys(runtime)
    inserted: dict[Key, Key] = {}  # row key -> cursor at the time it was inserted
    taken = {uid for _, uid in before}

    async def insert(n: int, cursor: Key) -> None:
        if n >= len(batches):
            return
        fresh = []
        for pc, uid in batches[n]:
            if uid in taken:
                continue
            taken.add(uid)
            fresh.append((pc, uid))
            inserted[(pc, uid)] = cursor
        if fresh:
            async with runtime.sessions() as s, s.begin():
                s.add_all(_row(pc, uid, "ins") for pc, uid in fresh)

    try:
        seen = await _walk(runtime, sizes, descending, insert)
    finally:
        async with runtime.sessions() as s, s.begin():
            await s.execute(delete(User).where(User.username.like("ins%")))
    assert len(seen) == len(set(seen)), "a row was served twice"
    assert _ordered(seen, descending)
    # Every original row exactly once; an inserted row iff it sorts after the cursor.
    expected = set(before) | {
        key for key, cursor in inserted.items() if (key < cursor if descending else key > cursor)
    }
    assert set(seen) == expected


async def test_datetime_keys_survive_the_bookmark(runtime: Runtime) -> None:
    """Ordering on a datetime column: its key goes through JSON and must compare as a time."""
    times = [datetime(2026, 1, d, 12, 30, tzinfo=UTC) for d in (3, 1, 2)]
    async with runtime.sessions() as s, s.begin():
        s.add_all(
            User(id=10 + i, username=f"timed{i}", created_at=times[i % 3], password_changed_at=STAMP)
            for i in range(7)
        )
    expected = sorted((times[i % 3], 10 + i) for i in range(7))
    for descending in (False, True):
        seen: list[tuple[datetime, int]] = []
        raw: str | None = None
        while True:
            after = runtime.bookmarks.decode(raw, CTX) if raw else None
            async with runtime.sessions() as s:
                page: KeysetPage[User] = await fetch_page(
                    s,
                    select(User),
                    order=[User.__table__.c.created_at, User.__table__.c.id],
                    after=after,
                    limit=2,
                    descending=descending,
                    key_of=lambda u: [u.created_at, u.id],
                )
            seen += [(u.created_at, u.id) for u in page.rows]
            if page.next_key is None:
                break
            raw = runtime.bookmarks.encode(CTX, page.next_key)
        assert seen == sorted(expected, reverse=descending)
