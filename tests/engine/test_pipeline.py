"""The engine in a child process: results in order, failures raised here with the child's
traceback, and the child gone when the caller stops early."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from pinapi.engine.entities import AdGroup, Advertiser, Campaign, Pin, PinPromotion, Setup
from pinapi.engine.folding import AdvertiserInfo
from pinapi.engine.pipeline import ChildFailed, Chunk, Hour, Work, run_in_child
from pinapi.engine.state import EngineState

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
        chunks.append((at, at + timedelta(hours=n), True))
        at += timedelta(hours=n)
    return Work(
        seed=3,
        population=population,
        setup=setup,
        state=EngineState(),
        chunks=chunks,
        advertisers={5: AdvertiserInfo("America/New_York", "USD")},
    )


async def test_hours_then_their_chunk_in_order() -> None:
    kinds = [
        (type(m).__name__, m.hour if isinstance(m, Hour) else m.start)
        async for m in run_in_child(_work(20_000))
    ]
    assert kinds == [
        *[("Hour", START + timedelta(hours=h)) for h in range(3)],
        ("Chunk", START),
        *[("Hour", START + timedelta(hours=h)) for h in (3, 4)],
        ("Chunk", START + timedelta(hours=3)),
    ]


async def test_a_failure_in_the_child_is_raised_with_its_traceback() -> None:
    with pytest.raises(ChildFailed, match="population size must be positive"):
        async for _ in run_in_child(_work(0)):
            pass


async def test_stopping_early_stops_the_child() -> None:
    stream = run_in_child(_work(20_000, hours=(2, 2, 2)))
    first = await anext(stream)
    assert isinstance(first, Hour)
    await stream.aclose()  # the child is terminated and reaped, nothing is left running
    chunk_seen = [m async for m in run_in_child(_work(20_000, hours=(1,))) if isinstance(m, Chunk)]
    assert len(chunk_seen) == 1 and chunk_seen[0].folded.totals["pin_promotion_id"]
