"""Column blocks: metric values computed a column at a time equal the per-row formula for
every catalogue metric, and the fast CSV path writes the same bytes as the cell-by-cell one."""

from __future__ import annotations

import csv
import io
import random
from contextlib import aclosing
from datetime import UTC, date, datetime, timedelta
from typing import Any

import orjson
import pytest
from sqlalchemy import insert

from pinapi.domain.reporting import catalog, exports
from pinapi.domain.reporting import query as core
from pinapi.domain.reporting.exports import parse_export
from pinapi.domain.reporting.query import ReportQuery
from pinapi.runtime import Runtime
from pinapi.store.tables import Advertiser, DeliveryHour, PinPromotion
from pinapi.store.tables.facts import METRIC_COLUMNS
from tests.api.v3.ads.builders import AdsBuilder
from tests.conftest import START
from tests.factories import Factory

NOW = datetime(2026, 11, 2, 12, tzinfo=UTC)


def _row_value(formula: catalog.Formula, bases: dict[str, int]) -> int | float:
    """The catalogue's rule for one row, written out plainly."""
    num = sum(bases[b] for b in formula.num)
    if formula.additive:
        return num
    if not formula.den:
        return num * formula.scale
    den = sum(bases[b] for b in formula.den)
    return num * formula.scale / den if den else 0.0


def _random_bases(rng: random.Random, names: tuple[str, ...], n: int) -> list[list[int]]:
    """One column per base; zeros are frequent so every rate meets a zero denominator."""
    return [[rng.choice((0, 0, 1, rng.randrange(10**12))) for _ in range(n)] for _ in names]


def test_columns_match_the_per_row_formula_for_every_metric() -> None:
    rng = random.Random(7)
    plan = core._Plan(tuple(catalog.CATALOG))
    n = 200
    bases = _random_bases(rng, plan.bases, n)
    got = plan.columns(bases, n)
    assert len(got) == len(catalog.CATALOG)
    for m, (name, column) in enumerate(zip(plan.metrics, got, strict=True)):
        formula = catalog.CATALOG[name].formula
        for i in range(n):
            want = _row_value(formula, {b: bases[k][i] for k, b in enumerate(plan.bases)})
            value = column[i]
            assert (value, type(value)) == (want, type(want)), (m, name, i)


def test_columns_of_a_metric_without_bases_and_of_repeated_sums() -> None:
    plan = core._Plan(("CTR", "CPC_IN_MICRO_DOLLAR", "CLICKTHROUGH_1", "SPEND_IN_MICRO_DOLLAR"))
    bases = {"impression_1": [10, 0, 4], "impression_2": [0, 0, 4], "clickthrough_1": [1, 0, 0]}
    bases["spend_in_micro_dollar"] = [5_000, 7, 0]
    columns = plan.columns([bases[b] for b in plan.bases], 3)
    rows = list(zip(*columns, strict=True))
    for row, i in zip(rows, range(3), strict=True):
        want = tuple(
            _row_value(catalog.CATALOG[m].formula, {b: bases[b][i] for b in plan.bases}) for m in plan.metrics
        )
        assert row == want
    assert rows[1][0] == 0.0 and rows[1][1] == 0.0  # zero denominators


def _block(rng: random.Random, plan: core._Plan, *, dated: bool, targeting: bool, n: int) -> core.Block:
    ids = sorted(rng.randrange(1, 1 << 62) for _ in range(n))
    first = date(2026, 10, 1)
    return core.Block(
        metrics=plan.metrics,
        entity_ids=ids,
        dates=[first + timedelta(days=rng.randrange(30)) for _ in ids] if dated else None,
        hours=None,
        targeting_types=["COUNTRY" for _ in ids] if targeting else None,
        targeting_values=[rng.choice(("US", "C,A", 'Q"X')) for _ in ids] if targeting else None,
        values=plan.columns(_random_bases(rng, plan.bases, n), n),
    )


def _spec(**values: Any) -> exports.ExportSpec:
    advertiser = Advertiser(id=1, timezone="UTC")
    base = {"start_date": "2026-10-01", "end_date": "2026-10-30", "report_format": "csv", "metrics": "ALL"}
    return parse_export({**base, **values}, advertiser=advertiser, now=NOW)


@pytest.mark.parametrize("granularity", ["DAY", "TOTAL"])
def test_fast_csv_is_byte_for_byte_the_cell_path(granularity: str) -> None:
    spec = _spec(level="PIN_PROMOTION", granularity=granularity)
    maker = exports._RowMaker(spec, {})
    block = _block(
        random.Random(3), core._Plan(spec.query.metrics), dated=granularity == "DAY", targeting=False, n=300
    )
    fast = maker.csv(block)
    assert fast == maker._csv_text(block)
    # And it reads back as the block: ids, ISO dates, then every metric in order.
    parsed = list(csv.reader(io.StringIO(fast.decode())))
    rows = block.rows()
    assert len(parsed) == len(rows)
    for line, row in zip(parsed, rows, strict=True):
        head = [str(row.entity_id)] + ([row.date.isoformat()] if row.date else [])
        assert line[: len(head)] == head
        assert [orjson.loads(cell) for cell in line[len(head) :]] == list(row.values.values())


def test_text_csv_quotes_targeting_values() -> None:
    spec = _spec(level="PIN_PROMOTION_TARGETING", granularity="DAY", metrics="IMPRESSION_1,CTR")
    maker = exports._RowMaker(spec, {})
    block = _block(random.Random(5), core._Plan(spec.query.metrics), dated=True, targeting=True, n=50)
    parsed = list(csv.reader(io.StringIO(maker.csv(block).decode())))
    assert [line[3] for line in parsed] == list(block.targeting_values or ())
    assert [int(line[0]) for line in parsed] == list(block.entity_ids)


def test_empty_block_writes_nothing() -> None:
    spec = _spec(level="PIN_PROMOTION", granularity="DAY")
    plan = core._Plan(spec.query.metrics)
    block = core.Block(plan.metrics, [], [], None, None, None, plan.columns([[] for _ in plan.bases], 0))
    assert exports._RowMaker(spec, {}).csv(block) == b""
    assert block.rows() == []


# --- over the database ----------------------------------------------------------------------


async def _facts(
    runtime: Runtime, factory: Factory, promotions: int, days: int
) -> tuple[Advertiser, list[int]]:
    """Promotions with one fact hour per local day, written straight into the table."""
    owner = await factory.user(business=True)
    adv = await factory.advertiser(owner, "Blocks")
    ads = AdsBuilder(runtime)
    group = await ads.ad_group(await ads.campaign(adv))
    now = runtime.clock.now()
    async with runtime.sessions() as s, s.begin():
        promos = [
            PinPromotion(
                advertiser_id=adv.id,
                campaign_id=group.campaign_id,
                ad_group_id=group.id,
                pin_id=1,
                name=f"P{i}",
                review_status="APPROVED",
                created_at=now,
                updated_at=now,
            )
            for i in range(promotions)
        ]
        s.add_all(promos)
    facts: list[dict[str, Any]] = []
    for p_i, promo in enumerate(promos):
        for d_i in range(days):
            day = DAY_ONE + timedelta(days=d_i)
            values = dict.fromkeys(METRIC_COLUMNS, 0)
            values.update(
                impression_1=10 * p_i + d_i, clickthrough_1=(p_i + d_i) % 3, spend_in_micro_dollar=p_i * 997
            )
            facts.append(
                {
                    **values,
                    "pin_promotion_id": promo.id,
                    "ad_group_id": group.id,
                    "campaign_id": group.campaign_id,
                    "advertiser_id": adv.id,
                    "hour": datetime(day.year, day.month, day.day, 12, tzinfo=UTC),
                    "local_date": day,
                }
            )
    async with runtime.sessions() as s, s.begin():
        await s.execute(insert(DeliveryHour), facts)
    return adv, [p.id for p in promos]


DAY_ONE = date(2026, 10, 25)


@pytest.mark.parametrize("granularity", ["DAY", "TOTAL", "WEEK"])
async def test_blocks_in_batches_are_the_rows_of_run(
    runtime: Runtime, factory: Factory, monkeypatch: pytest.MonkeyPatch, granularity: str
) -> None:
    adv, ids = await _facts(runtime, factory, promotions=7, days=5)
    q = ReportQuery(
        advertiser_id=adv.id,
        level="PIN_PROMOTION",
        start_date=DAY_ONE,
        end_date=DAY_ONE + timedelta(days=4),
        granularity=granularity,
        metrics=("IMPRESSION_1", "CTR", "CPM_IN_MICRO_DOLLAR"),
    )
    monkeypatch.setattr(core, "_CHUNK", 4)  # several batches, the last one short
    async with runtime.sessions() as s:
        blocks = [b async for b in core.stream_blocks(s, q, now=START)]
        rows = await core.run(s, q, now=START)
    assert [len(b) for b in blocks][:-1] == [4] * (len(blocks) - 1) and 0 < len(blocks[-1]) <= 4
    assert [r for b in blocks for r in b.rows()] == rows
    per_entity = {"DAY": 5, "TOTAL": 1, "WEEK": 2}[granularity]  # Oct 25 is a Sunday
    assert [r.entity_id for r in rows] == [i for i in sorted(ids) for _ in range(per_entity)]
    assert rows == sorted(rows, key=lambda r: (r.entity_id, r.date or date.min))
    first = [r for r in rows if r.entity_id == min(ids)]
    assert sum(int(r.values["IMPRESSION_1"]) for r in first) == sum(range(5))


async def test_a_report_stopped_early_leaves_the_session_usable(
    runtime: Runtime, factory: Factory, monkeypatch: pytest.MonkeyPatch
) -> None:
    adv, _ = await _facts(runtime, factory, promotions=6, days=3)
    q = ReportQuery(
        advertiser_id=adv.id,
        level="PIN_PROMOTION",
        start_date=DAY_ONE,
        end_date=DAY_ONE + timedelta(days=2),
        granularity="DAY",
        metrics=("IMPRESSION_1",),
    )
    monkeypatch.setattr(core, "_CHUNK", 2)
    async with runtime.sessions() as s:
        async with aclosing(core.stream_blocks(s, q, now=START)) as blocks:
            async for block in blocks:
                assert len(block) == 2
                break
        assert len(await core.run(s, q, now=START)) == 18
