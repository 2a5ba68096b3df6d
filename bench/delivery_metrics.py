"""Benchmark the synchronous delivery metrics of one ad group: 30 days at DAY granularity.

The figure to meet is a p99 under 100 ms. What it does, all on loopback and bounded in time:

1. makes a fresh temporary data dir and starts ``pinapi serve`` (SQLite, or PostgreSQL with
   ``--database-url``; demo dataset; no engine), with the ads rate limits raised so the run
   measures the route, not 429s;
2. creates an advertiser, a campaign and ``--ad-groups`` ad groups of ``--promotions`` pin
   promotions each through the API, with a real token from ``pinapi token``;
3. writes hourly fact rows (``delivery_hours``, what the engine writes: one row per pin
   promotion and UTC hour) for every promotion over the 30 closed advertiser-local days before
   the server's today, in bulk, straight into the database;
4. asks once for the first ad group's 30 DAY rows and checks them against the sums of the
   rows it wrote, so a wrong or empty answer is never timed;
5. loads ``GET /ads/v3/ad_groups/{id}/delivery_metrics/?granularity=DAY…`` from a SEPARATE
   process (``wrk``, or ``bench/loadgen.py`` when wrk is missing) at each concurrency of
   ``--connections``, ``--repeat`` runs each after a warm-up, and prints p50/p99 per run and
   the medians.

Servers are stopped and the data dir removed in a ``finally`` whatever happens. The machine's
other load moves the figures: the server's CPU time per request is printed beside them.
"""

from __future__ import annotations

import argparse
import asyncio
import http.client
import json
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import urllib.request
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import insert, text

sys.path.insert(0, str(Path(__file__).resolve().parent))

from users_me import (  # bench/ is not a package
    HOST,
    WRK_LUA,
    Result,
    check_get,
    free_port,
    load,
    mint_token,
    pick_tool,
    start_pinapi,
    stop,
    wait_ready,
)

from pinapi.store.db import is_sqlite, make_engine
from pinapi.store.tables import DeliveryHour
from pinapi.store.tables.facts import METRIC_COLUMNS

SCOPES = "read_organic,read_ads,write_ads"
DAYS = 30
METRICS = (
    "IMPRESSION_1,CLICKTHROUGH_1,OUTBOUND_CLICK_1,SPEND_IN_MICRO_DOLLAR,CTR,CPC_IN_MICRO_DOLLAR,CPM_IN_DOLLAR"
)
TARGET_P99_MS = 100.0
CHUNK = 5_000


class Api:
    """A keep-alive JSON client for the set-up calls."""

    def __init__(self, port: int, token: str) -> None:
        self.conn = http.client.HTTPConnection(HOST, port, timeout=120)
        self.headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}

    def call(self, method: str, path: str, body: Any = None) -> Any:
        payload = None if body is None else json.dumps(body).encode()
        self.conn.request(method, path, body=payload, headers=self.headers)
        r = self.conn.getresponse()
        raw = r.read()
        if r.status != 200:
            raise SystemExit(f"{method} {path} answered {r.status}: {raw[:400]!r}")
        return json.loads(raw)


def build_tree(api: Api, ad_groups: int, promotions: int) -> tuple[dict[str, Any], dict[str, list[str]]]:
    """An advertiser with one campaign and its ad groups of pin promotions: {group: [promotion]}."""
    adv = api.call("POST", "/ads/v3/advertisers/", {"name": "Bench metrics", "timezone": "America/New_York"})
    adv_id = adv["data"]["id"]
    camp = api.call(
        "POST",
        "/ads/v3/campaigns/",
        {"advertiser_id": adv_id, "name": "Bench", "objective_type": "AWARENESS"},
    )["data"]["id"]
    pins = api.call("GET", "/v3/users/me/pins/?page_size=25")["data"]
    if not pins:
        raise SystemExit("the demo user has no pins to promote")
    tree: dict[str, list[str]] = {}
    for g in range(ad_groups):
        group = api.call(
            "POST",
            "/ads/v3/ad_groups/",
            {
                "campaign_id": camp,
                "name": f"Bench group {g}",
                "budget_in_micro_currency": 100_000_000,
                "bid_in_micro_currency": 2_000_000,
            },
        )["data"]["id"]
        items = [
            {
                "ad_group_id": group,
                "pin_id": pins[n % len(pins)]["id"],
                "name": f"promo {g}-{n}",
                "destination_url": f"https://shop.example.com/p/{g}/{n}",
            }
            for n in range(promotions)
        ]
        results = api.call("POST", f"/ads/v3/advertisers/{adv_id}/pin_promotions/batch/", items)["data"]
        if any(r["exceptions"] for r in results):
            raise SystemExit(f"pin promotions batch failed: {results[0]}")
        tree[group] = [r["data"]["id"] for r in results]
    return {"id": adv_id, "campaign_id": camp, "timezone": adv["data"]["timezone"]}, tree


def fact_rows(
    advertiser: dict[str, Any], tree: dict[str, list[str]], first: date, last: date
) -> list[dict[str, Any]]:
    """One delivery_hours row per promotion and UTC hour of the local days [first, last]."""
    zone = ZoneInfo(advertiser["timezone"] or "UTC")
    start = datetime.combine(first, datetime.min.time(), tzinfo=zone).astimezone(UTC)
    end = datetime.combine(last + timedelta(days=1), datetime.min.time(), tzinfo=zone).astimezone(UTC)
    hours: list[tuple[datetime, date]] = []
    at = start
    while at < end:
        hours.append((at, at.astimezone(zone).date()))
        at += timedelta(hours=1)
    rng = random.Random(7)
    rows: list[dict[str, Any]] = []
    for group, promos in tree.items():
        for promo in promos:
            for hour, local_date in hours:
                imps = rng.randint(20, 400)
                clicks = int(imps * rng.uniform(0.005, 0.03))
                row: dict[str, Any] = dict.fromkeys(METRIC_COLUMNS, 0)
                row.update(
                    pin_promotion_id=int(promo),
                    hour=hour,
                    ad_group_id=int(group),
                    campaign_id=int(advertiser["campaign_id"]),
                    advertiser_id=int(advertiser["id"]),
                    local_date=local_date,
                    impression_1=imps,
                    closeup_1=int(imps * 0.02),
                    save_1=int(imps * 0.005),
                    clickthrough_1=clicks,
                    outbound_click_1=clicks // 2,
                    engagement_1=clicks + int(imps * 0.025),
                    billable_events=imps,
                    spend_in_micro_dollar=imps * 5_000,
                )
                rows.append(row)
    return rows


async def insert_facts(url: str, rows: list[dict[str, Any]]) -> None:
    """Insert the rows in bulk. On PostgreSQL the table is then analyzed, as autovacuum would
    have done while the engine wrote 30 days of facts; SQLite keeps no statistics unless told
    to, and a pinapi server never tells it, so none are made there either."""
    engine = make_engine(url)
    try:
        async with engine.begin() as conn:
            for i in range(0, len(rows), CHUNK):
                await conn.execute(insert(DeliveryHour), rows[i : i + CHUNK])
            if not is_sqlite(url):
                await conn.execute(text("ANALYZE delivery_hours"))
    finally:
        await engine.dispose()


def check_answer(body: bytes, rows: list[dict[str, Any]], group: str) -> None:
    data = json.loads(body)["data"]
    want: dict[str, int] = {}
    for r in rows:
        if str(r["ad_group_id"]) == group:
            day = r["local_date"].isoformat()
            want[day] = want.get(day, 0) + r["impression_1"]
    got = {row["DATE"]: row["IMPRESSION_1"] for row in data}
    if got != want or len(data) != DAYS:
        raise SystemExit(f"wrong answer: {len(data)} rows; got {got}, expected {want}")


def report(runs: dict[int, list[Result]], cpu_note: bool) -> None:
    print()
    print(
        f"{'connections':>11} {'run':>4} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8} "
        f"{'cpu us/req':>11}"
    )
    for conns, results in runs.items():
        for i, r in enumerate(results, 1):
            cpu = "-" if r.cpu_us is None else f"{r.cpu_us:.0f}"
            print(
                f"{conns:>11} {i:>4} {r.rps:>9.0f} {r.p50_us / 1000:>8.2f} {r.p99_us / 1000:>8.2f} "
                f"{r.max_us / 1000:>8.2f} {cpu:>11}"
            )
    print()
    print(
        f"{'connections':>11} {'median':>4} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8}   "
        f"p99 < {TARGET_P99_MS:.0f} ms"
    )
    for conns, results in runs.items():
        p99 = statistics.median(r.p99_us for r in results) / 1000
        print(
            f"{conns:>11} {'':>6} {statistics.median(r.rps for r in results):>9.0f} "
            f"{statistics.median(r.p50_us for r in results) / 1000:>8.2f} {p99:>8.2f}   "
            f"{'yes' if p99 < TARGET_P99_MS else 'NO'}"
        )
    if any(r.non2xx or r.errors for rs in runs.values() for r in rs):
        print("WARNING: some responses were not 2xx or failed: the figures above are not valid")
    if cpu_note:
        print("(cpu us/req: the server's own CPU time per request, steadier than latency on a busy machine)")


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--ad-groups", type=int, default=10, help="ad groups under the campaign (facts for all)")
    p.add_argument("--promotions", type=int, default=20, help="pin promotions per ad group")
    p.add_argument("--connections", default="1,8,32", help="comma list of concurrencies to load with")
    p.add_argument("--duration", type=float, default=10.0, help="seconds of timed load per run")
    p.add_argument("--warmup", type=float, default=2.0)
    p.add_argument("--repeat", type=int, default=3, help="runs per concurrency; medians are reported")
    p.add_argument("--database-url", default="", help="PostgreSQL URL instead of a temp SQLite file")
    p.add_argument("--tool", choices=["auto", "wrk", "python"], default="auto")
    p.add_argument("--keep", action="store_true", help="keep the temp data dir and print its path")
    args = p.parse_args(argv)
    concurrencies = [int(c) for c in args.connections.split(",") if c.strip()]
    use_wrk = pick_tool(args.tool)
    tmp = Path(tempfile.mkdtemp(prefix="pinapi-bench-metrics-"))
    proc: subprocess.Popen[bytes] | None = None
    try:
        port = free_port()
        extra = {
            "PINAPI_WORKER": "false",
            "PINAPI_ENGINE": "off",
            "PINAPI_LIMIT_ADS_WRITE_PER_MINUTE": "1000000",
            "PINAPI_LIMIT_ADS_METRICS_PER_MINUTE": "100000000",
        }
        if args.database_url:
            extra["PINAPI_DATABASE_URL"] = args.database_url
        proc, env = start_pinapi(tmp, port, extra)
        wait_ready(f"http://{HOST}:{port}/readyz", proc)
        token = mint_token(env, "demo", SCOPES)
        api = Api(port, token)
        advertiser, tree = build_tree(api, args.ad_groups, args.promotions)
        now = datetime.fromisoformat(api.call("GET", "/pinapi/clock/")["data"]["now"])
        today = now.astimezone(ZoneInfo(advertiser["timezone"] or "UTC")).date()
        last = today - timedelta(days=2)  # closed books whatever the hour
        first = last - timedelta(days=DAYS - 1)
        rows = fact_rows(advertiser, tree, first, last)
        url = args.database_url or f"sqlite+aiosqlite:///{(tmp / 'data' / 'pinapi.db').resolve()}"
        asyncio.run(insert_facts(url, rows))
        group = next(iter(tree))
        print(
            f"facts: {len(rows):,} delivery_hours rows ({len(tree)} ad groups x {args.promotions} "
            f"promotions x {DAYS} days x 24 h); the timed ad group has {len(rows) // len(tree):,}"
        )
        path = (
            f"/ads/v3/ad_groups/{group}/delivery_metrics/?start_date={first}&end_date={last}"
            f"&granularity=DAY&metrics={METRICS}"
        )
        url_full = f"http://{HOST}:{port}{path}"
        headers = {"Authorization": f"Bearer {token}"}
        check_get(url_full, headers)
        api.conn.close()
        with urllib.request.urlopen(urllib.request.Request(url_full, headers=headers), timeout=30) as r:
            check_answer(r.read(), rows, group)
        lua: Path | None = None
        if use_wrk:
            lua = tmp / "report.lua"
            lua.write_text(WRK_LUA)
        tool = "wrk" if use_wrk else "bench/loadgen.py"
        print(f"GET {path}")
        print(
            f"load: {tool}, {args.warmup:g} s warm-up + {args.duration:g} s per run, "
            f"{args.repeat} run(s) each"
        )
        runs: dict[int, list[Result]] = {c: [] for c in concurrencies}
        for conns in concurrencies:
            for i in range(args.repeat):
                result: Result | None = None
                for seconds in (args.warmup, args.duration):
                    if seconds <= 0:
                        continue
                    result = load(
                        url_full,
                        seconds=seconds,
                        connections=conns,
                        threads=min(2, conns),
                        headers=headers,
                        lua=lua,
                        server_pid=proc.pid,
                    )
                assert result is not None
                runs[conns].append(result)
                print(
                    f"  {conns} conn run {i + 1}: {result.rps:.0f} req/s, p50 {result.p50_us / 1000:.2f} ms, "
                    f"p99 {result.p99_us / 1000:.2f} ms"
                )
        report(runs, cpu_note=any(r.cpu_us is not None for rs in runs.values() for r in rs))
    finally:
        stop(proc)
        if args.keep:
            print(f"kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
