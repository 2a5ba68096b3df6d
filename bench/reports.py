"""Benchmark an async report against the bare SQL aggregation it rests on.

The issue's figure: an async report of 5,000 pin promotions x 30 days at DAY granularity
(150,000 rows, CSV) takes at most 2 x the time of the same aggregation run as one bare SQL
query over the fact table, both measured in the same run on the same database.

* Setup: one advertiser with 10 campaigns, 100 ad groups and 5,000 pin promotions, and
  ``delivery_hours`` rows for 30 closed days, bulk-inserted through the driver (SQLite
  ``executemany`` of plain tuples, PostgreSQL ``COPY``) with the secondary indexes built
  after the load. ``--hours-per-day`` sets how many hourly rows each promotion has per day:
  24 (the default) is the engine's real shape, 3.6M rows; 1 (at 12:00 UTC) makes the
  aggregation cheap, so the report's own per-row work weighs most. Both sides read the same
  table, so the comparison holds at any setting; the figure printed says which one was used.
* Report: ``POST /ads/v3/reports/async/{a}/delivery_metrics/`` (level PIN_PROMOTION,
  granularity DAY, the default metrics, CSV) through the ASGI app in-process, the jobs
  worker drained in-process, then the poll that answers FINISHED: request to file on disk.
* Bare query: ``SELECT pin_promotion_id, local_date, SUM(<each base the default metrics
  need>) … GROUP BY pin_promotion_id, local_date`` with every row fetched to Python as Core
  rows (no ORM processing), the cheapest way the application could read it.

Each side runs ``--repeat`` times, interleaved; the medians and their ratio are printed, for
wall time and for the process's CPU time (SQLite runs in this process's driver thread), the
latter steadier on a machine other work shares.
Usage: ``python bench/reports.py [--database-url URL] [--hours-per-day N] [--repeat N]``.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from itertools import islice
from pathlib import Path
from typing import Any, cast

import httpx
from sqlalchemy import Table, func, insert, select
from sqlalchemy.ext.asyncio import AsyncConnection

from pinapi.app import create_app
from pinapi.domain.access import advertisers, apps, tokens, users
from pinapi.domain.access import scopes as scope_lib
from pinapi.domain.clock import FixedClock
from pinapi.domain.reporting import catalog
from pinapi.jobs import reports as report_jobs  # noqa: F401  (registers the report writer)
from pinapi.jobs.worker import HANDLERS, Worker
from pinapi.runtime import Runtime
from pinapi.settings import Settings
from pinapi.store.migrate import upgrade_async
from pinapi.store.tables import AdGroup, Campaign, DeliveryHour, PinPromotion
from pinapi.store.tables.facts import METRIC_COLUMNS

NOW = datetime(2026, 11, 2, 12, tzinfo=UTC)
LAST_DAY = date(2026, 11, 1)  # closed at NOW
CHUNK = 10_000
SEED_BATCH = 100_000


async def _seed(rt: Runtime, *, promotions: int, days: int, hours_per_day: int) -> tuple[int, str, int]:
    """An advertiser with its entities and fact rows; returns (advertiser id, token, fact rows)."""
    clock = rt.clock
    async with rt.sessions() as s, s.begin():
        owner = await users.create_user(
            s, clock=clock, username="bench", password="bench-password-1", full_name="Bench", is_business=True
        )
        adv = await advertisers.create_advertiser(s, clock=clock, owner_user_id=owner.id, name="Bench")
        app = await apps.create_app(
            s, clock=clock, instance_key=rt.instance_key, name="Bench", redirect_uris=["http://localhost/cb"]
        )
        wanted = scope_lib.parse("read_advertisers")
        await tokens.record_grant(s, clock=clock, user_id=owner.id, app_id=app.app.id, scopes=wanted)
        issued = await tokens.issue(
            s, clock=clock, user_id=owner.id, app_id=app.app.id, scopes=wanted, refreshable=False
        )
    now = clock.now()
    stamps = {"created_at": now, "updated_at": now, "status_updated_at": now}
    n_campaigns, n_groups = 10, 100
    campaigns = [
        {"id": 1_000 + c, "advertiser_id": adv.id, "name": f"C{c}", "objective_type": "AWARENESS", **stamps}
        for c in range(n_campaigns)
    ]
    groups = [
        {
            "id": 10_000 + g,
            "advertiser_id": adv.id,
            "campaign_id": 1_000 + g % n_campaigns,
            "name": f"G{g}",
            "billable_event": "IMPRESSION",
            **stamps,
        }
        for g in range(n_groups)
    ]
    promos: list[dict[str, Any]] = [
        {
            "id": 100_000 + p,
            "advertiser_id": adv.id,
            "campaign_id": 1_000 + (p % n_groups) % n_campaigns,
            "ad_group_id": 10_000 + p % n_groups,
            "pin_id": p + 1,
            "name": f"P{p}",
            "review_status": "APPROVED",
            "created_at": now,
            "updated_at": now,
        }
        for p in range(promotions)
    ]
    first = LAST_DAY - timedelta(days=days - 1)
    async with rt.sessions() as s, s.begin():
        await s.execute(insert(Campaign), campaigns)
        await s.execute(insert(AdGroup), groups)
        for i in range(0, len(promos), CHUNK):
            await s.execute(insert(PinPromotion), promos[i : i + CHUNK])
        conn = await s.connection()
        facts = await _seed_facts(conn, adv.id, promos, first=first, days=days, hours_per_day=hours_per_day)
    return adv.id, issued.access_token, facts


FACT_COLUMNS = (
    "pin_promotion_id",
    "hour",
    "ad_group_id",
    "campaign_id",
    "advertiser_id",
    "local_date",
    *METRIC_COLUMNS,
)


def _same(value: Any) -> Any:
    return value


def _fact_rows(
    advertiser_id: int,
    promos: list[dict[str, Any]],
    *,
    first: date,
    days: int,
    hours_per_day: int,
    dialect: Any,
) -> Iterator[tuple[Any, ...]]:
    """Every fact row as a plain tuple in ``FACT_COLUMNS`` order, its hour and date already in
    the driver's form (the table types' own bind processors, applied once per value)."""
    table = DeliveryHour.__table__
    hour_bind: Callable[[Any], Any] = table.c.hour.type.dialect_impl(dialect).bind_processor(dialect) or _same
    date_bind: Callable[[Any], Any] = (
        table.c.local_date.type.dialect_impl(dialect).bind_processor(dialect) or _same
    )
    at = {c: i for i, c in enumerate(METRIC_COLUMNS)}
    i_imp, i_click, i_out = at["impression_1"], at["clickthrough_1"], at["outbound_click_1"]
    i_save, i_close, i_eng = at["save_1"], at["closeup_1"], at["engagement_1"]
    i_spend, i_imp2 = at["spend_in_micro_dollar"], at["impression_2"]
    zeros = [0] * len(METRIC_COLUMNS)
    stamps = []
    for d in range(days):
        day = first + timedelta(days=d)
        for h in range(hours_per_day):
            hour = datetime(day.year, day.month, day.day, (12 + h) % 24, tzinfo=UTC)
            stamps.append((d, h, hour, hour_bind(hour), date_bind(day)))
    stamps.sort(key=lambda s: s[2])  # primary key order within a promotion
    for p in promos:
        head = (p["ad_group_id"], p["campaign_id"], advertiser_id)
        for d, h, _, hour, local in stamps:
            k = p["id"] + d * 7 + h
            values = zeros.copy()
            impressions = 100 + k % 900
            values[i_imp] = impressions
            values[i_click] = k % 17
            values[i_out] = k % 11
            values[i_save] = k % 5
            values[i_close] = k % 23
            values[i_eng] = k % 17 + k % 5 + k % 23
            values[i_spend] = impressions * 4_000
            values[i_imp2] = k % 13
            yield (p["id"], hour, *head, local, *values)


async def _seed_facts(
    conn: AsyncConnection,
    advertiser_id: int,
    promos: list[dict[str, Any]],
    *,
    first: date,
    days: int,
    hours_per_day: int,
) -> int:
    """Bulk-insert the fact rows through the driver itself (SQLite ``executemany``, PostgreSQL
    ``COPY``): the engine's real shape is millions of rows, too many for ORM-style inserts."""
    raw = await conn.get_raw_connection()
    driver: Any = raw.driver_connection
    rows = _fact_rows(
        advertiser_id, promos, first=first, days=days, hours_per_day=hours_per_day, dialect=conn.dialect
    )
    # The secondary indexes are built once at the end (a sort) instead of row by row; the
    # rows come promotion by promotion, so the primary key only ever appends.
    indexes = sorted(cast(Table, DeliveryHour.__table__).indexes, key=lambda i: str(i.name))
    for index in indexes:
        await conn.run_sync(index.drop)
    facts = 0
    while batch := list(islice(rows, SEED_BATCH)):
        if conn.dialect.name == "postgresql":
            await driver.copy_records_to_table("delivery_hours", records=batch, columns=FACT_COLUMNS)
        else:
            marks = ", ".join("?" * len(FACT_COLUMNS))
            sql = f"INSERT INTO delivery_hours ({', '.join(FACT_COLUMNS)}) VALUES ({marks})"
            await driver.executemany(sql, batch)
        facts += len(batch)
    for index in indexes:
        await conn.run_sync(index.create)
    return facts


async def _bare(rt: Runtime, advertiser_id: int, first: date) -> tuple[float, float, int]:
    """The report's aggregation as one SQL query, every row fetched."""
    bases = [b for b in catalog.bases_of(catalog.DEFAULT_METRICS) if ":" not in b]
    t = DeliveryHour
    stmt = (
        select(t.pin_promotion_id, t.local_date, *(func.sum(getattr(t, b)) for b in bases))
        .where(t.advertiser_id == advertiser_id, t.local_date >= first, t.local_date <= LAST_DAY)
        .group_by(t.pin_promotion_id, t.local_date)
    )
    began, cpu = time.perf_counter(), time.process_time()
    async with rt.sessions() as s:
        conn = await s.connection()  # Core rows, as the report reads them
        rows = (await conn.execute(stmt)).all()
    return time.perf_counter() - began, time.process_time() - cpu, len(rows)


async def _report(
    client: httpx.AsyncClient, rt: Runtime, advertiser_id: int, token: str, first: date
) -> tuple[float, float, int]:
    """POST, the worker's run, and the poll that answers FINISHED: (wall s, CPU s, bytes)."""
    path = f"/ads/v3/reports/async/{advertiser_id}/delivery_metrics/"
    headers = {"Authorization": f"Bearer {token}"}
    params = {
        "level": "PIN_PROMOTION",
        "granularity": "DAY",
        "start_date": first.isoformat(),
        "end_date": LAST_DAY.isoformat(),
        "report_format": "csv",
    }
    worker = Worker(sessions=rt.sessions, clock=rt.clock, handlers=HANDLERS)
    began, cpu = time.perf_counter(), time.process_time()
    r = await client.post(path, params=params, headers=headers)
    r.raise_for_status()
    report_token = r.json()["data"]["token"]
    await worker.drain()
    r = await client.get(path, params={"token": report_token}, headers=headers)
    r.raise_for_status()
    data = r.json()["data"]
    elapsed, cpu = time.perf_counter() - began, time.process_time() - cpu
    if data.get("report_status") != "FINISHED":
        raise SystemExit(f"report did not finish: {data}")
    got = await client.get(data["url"])
    got.raise_for_status()
    return elapsed, cpu, len(got.content)


Timing = list[tuple[float, float]]


def _figures(bare_times: Timing, report_times: Timing, *, rows: int, size: int) -> None:
    """Medians of (wall, CPU) seconds of both sides, and the ratios."""
    bare = [statistics.median(t[k] for t in bare_times) for k in (0, 1)]
    report = [statistics.median(t[k] for t in report_times) for k in (0, 1)]
    n = len(bare_times)
    print(f"bare SQL aggregation: {bare[0]:.3f} s wall, {bare[1]:.3f} s CPU, medians of {n} ({rows:,} rows)")
    print(f"async report (CSV):   {report[0]:.3f} s wall, {report[1]:.3f} s CPU, medians of {n} ({size:,} B)")
    wall, cpu = report[0] / bare[0], report[1] / bare[1]
    print(f"ratio: {wall:.2f} x wall, {cpu:.2f} x CPU (target at most 2.00 x)")


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default="", help="PostgreSQL URL (default: SQLite in a temp dir)")
    parser.add_argument("--promotions", type=int, default=5_000)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--hours-per-day", type=int, default=24)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="pinapi-bench-reports-") as tmp:
        settings = Settings(
            data_dir=Path(tmp),
            database_url=args.database_url,
            secret_key="bench-secret",
            demo=False,
            worker=False,
            public_url="http://bench",
            _env_file=None,
        )
        url = settings.resolved_database_url()
        await upgrade_async(url)
        rt = Runtime.build(settings, clock=FixedClock(NOW))
        app = create_app(runtime=rt, migrate=False, demo=False)
        try:
            began = time.perf_counter()
            adv, token, facts = await _seed(
                rt, promotions=args.promotions, days=args.days, hours_per_day=args.hours_per_day
            )
            shape = f"{args.promotions:,} promotions x {args.days} days x {args.hours_per_day} h/day"
            took = time.perf_counter() - began
            print(f"backend: {url.split(':')[0]}; {facts:,} fact rows ({shape}) seeded in {took:.1f} s")
            first = LAST_DAY - timedelta(days=args.days - 1)
            bare_times: Timing = []
            report_times: Timing = []
            rows = size = 0
            async with app.router.lifespan_context(app):
                transport = httpx.ASGITransport(app=app)
                async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
                    for _ in range(args.repeat):
                        wall, cpu, rows = await _bare(rt, adv, first)
                        bare_times.append((wall, cpu))
                        wall, cpu, size = await _report(client, rt, adv, token, first)
                        report_times.append((wall, cpu))
            _figures(bare_times, report_times, rows=rows, size=size)
        finally:
            await rt.close()


if __name__ == "__main__":
    asyncio.run(main())
