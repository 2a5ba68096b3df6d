"""Benchmark the ads write and list paths, and a single ads GET against the hello baseline.

Reuses ``bench/users_me.py``'s machinery (server start, token, wrk/loadgen, hello-world):

1. ``POST /ads/v3/advertisers/{a}/pin_promotions/batch/`` with 1,000 items, ``--repeat``
   times; the server runs without its in-process worker (``PINAPI_WORKER=false``) so the
   review jobs the batch enqueues are timed separately by ``pinapi worker --once`` (its
   process start-up is measured by a first run on an empty queue and reported beside it);
2. 10,000 campaigns created through the campaigns batch endpoint (40 x 250) on a fresh
   advertiser, then ``GET /ads/v3/advertisers/{a}/campaigns/`` walked page by page with
   page_size 250 and 25: total time, per-page median, first and last page;
3. the single-object GETs ``/ads/v3/campaigns/{c}/``, ``/ads/v3/ad_groups/{g}/`` and
   ``/ads/v3/pin_promotions/{p}/`` (``--get`` picks some) under load beside the FastAPI
   hello-world (ratio, target 0.5), on a campaign with three ad groups and a promotion.

Every figure is the median of ``--repeat`` runs. Run it with ``make bench-ads``.
"""

from __future__ import annotations

import argparse
import http.client
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from users_me import (  # bench/ is not a package
    BIN,
    HOST,
    WRK_LUA,
    Result,
    check_get,
    free_port,
    load,
    mint_token,
    pick_tool,
    print_table,
    start_hello,
    start_pinapi,
    stop,
    wait_ready,
)

SCOPES = "read_organic,write_organic,read_ads,write_ads"
CAMPAIGNS = 10_000
PROMOTIONS = 1_000


class Api:
    """A keep-alive JSON client for the setup and timed calls (one connection, like a script)."""

    def __init__(self, port: int, token: str) -> None:
        self.conn = http.client.HTTPConnection(HOST, port, timeout=600)
        self.headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}

    def call(self, method: str, path: str, body: Any = None) -> Any:
        payload = None if body is None else json.dumps(body).encode()
        try:
            self.conn.request(method, path, body=payload, headers=self.headers)
            r = self.conn.getresponse()
        except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
            # the server closed the idle keep-alive connection (e.g. while the worker ran)
            self.conn.close()
            self.conn.request(method, path, body=payload, headers=self.headers)
            r = self.conn.getresponse()
        raw = r.read()
        if r.status != 200:
            raise SystemExit(f"{method} {path} answered {r.status}: {raw[:400]!r}")
        return json.loads(raw)


def worker_once(env: dict[str, str]) -> float:
    """Seconds one ``pinapi worker --once`` takes to drain the due jobs."""
    started = time.perf_counter()
    out = subprocess.run(
        [str(BIN / "pinapi"), "worker", "--once"], env=env, capture_output=True, text=True, timeout=900
    )
    if out.returncode != 0:
        raise SystemExit(f"pinapi worker --once failed: {out.stdout}{out.stderr}")
    return time.perf_counter() - started


def bench_promotions(api: Api, env: dict[str, str], repeat: int) -> None:
    adv = api.call("POST", "/ads/v3/advertisers/", {"name": "Bench promotions"})["data"]["id"]
    camp = api.call(
        "POST", "/ads/v3/campaigns/", {"advertiser_id": adv, "name": "Bench", "objective_type": "AWARENESS"}
    )["data"]["id"]
    group = api.call(
        "POST",
        "/ads/v3/ad_groups/",
        {
            "campaign_id": camp,
            "name": "Bench group",
            "budget_in_micro_currency": 10_000_000,
            "bid_in_micro_currency": 1_000_000,
        },
    )["data"]["id"]
    pins = api.call("GET", "/v3/users/me/pins/?page_size=25")["data"]
    if not pins:
        raise SystemExit("the demo user has no pins to promote")
    startup = statistics.median(worker_once(env) for _ in range(2))  # empty queue: start-up only
    batch_s: list[float] = []
    review_s: list[float] = []
    for i in range(repeat):
        items = [
            {
                "ad_group_id": group,
                "pin_id": pins[n % len(pins)]["id"],
                "name": f"promo {i}-{n}",
                "destination_url": f"https://shop.example.com/p/{i}/{n}",
            }
            for n in range(PROMOTIONS)
        ]
        started = time.perf_counter()
        results = api.call("POST", f"/ads/v3/advertisers/{adv}/pin_promotions/batch/", items)["data"]
        batch_s.append(time.perf_counter() - started)
        failed = [r for r in results if r["exceptions"]]
        if len(results) != PROMOTIONS or failed:
            raise SystemExit(f"batch: {len(results)} results, {len(failed)} failed: {failed[:1]}")
        review_s.append(worker_once(env))
        print(f"  run {i + 1}: batch of {PROMOTIONS} {batch_s[-1]:.2f} s, review jobs {review_s[-1]:.2f} s")
    print(
        f"pin promotions batch ({PROMOTIONS} items): median {statistics.median(batch_s):.2f} s "
        f"(runs {', '.join(f'{x:.2f}' for x in batch_s)})"
    )
    print(
        f"review jobs for {PROMOTIONS}: median {statistics.median(review_s):.2f} s incl. worker start-up "
        f"{startup:.2f} s (runs {', '.join(f'{x:.2f}' for x in review_s)})"
    )


def bench_campaign_pages(api: Api, repeat: int) -> str:
    adv = api.call("POST", "/ads/v3/advertisers/", {"name": "Bench campaigns"})["data"]["id"]
    started = time.perf_counter()
    first_id = ""
    for b in range(CAMPAIGNS // 250):
        items = [{"name": f"c{b}-{n}", "objective_type": "TRAFFIC"} for n in range(250)]
        results = api.call("POST", f"/ads/v3/advertisers/{adv}/campaigns/batch/", items)["data"]
        if any(r["exceptions"] for r in results):
            raise SystemExit(f"campaign batch failed: {results[0]}")
        first_id = first_id or results[0]["data"]["id"]
    print(f"created {CAMPAIGNS} campaigns in {time.perf_counter() - started:.1f} s (40 batches of 250)")
    for size in (250, 25):
        totals: list[float] = []
        medians: list[float] = []
        firsts: list[float] = []
        lasts: list[float] = []
        for _ in range(repeat):
            pages: list[float] = []
            seen = 0
            bookmark = ""
            t0 = time.perf_counter()
            while True:
                path = f"/ads/v3/advertisers/{adv}/campaigns/?page_size={size}"
                if bookmark:
                    path += f"&bookmark={bookmark}"
                p0 = time.perf_counter()
                body = api.call("GET", path)
                pages.append(time.perf_counter() - p0)
                seen += len(body["data"])
                bookmark = body.get("bookmark") or ""
                if not bookmark:
                    break
            totals.append(time.perf_counter() - t0)
            if seen != CAMPAIGNS:
                raise SystemExit(f"walked {seen} campaigns, expected {CAMPAIGNS}")
            medians.append(statistics.median(pages))
            firsts.append(pages[0])
            lasts.append(pages[-1])
        print(
            f"campaign list page_size {size} ({len(pages)} pages): total {statistics.median(totals):.2f} s, "
            f"per page median {statistics.median(medians) * 1000:.1f} ms, first "
            f"{statistics.median(firsts) * 1000:.1f} ms, last {statistics.median(lasts) * 1000:.1f} ms"
        )
    return first_id


def single_objects(api: Api) -> dict[str, str]:
    """A campaign with three ad groups, the first with a pin promotion: the GET targets."""
    adv = api.call("GET", "/ads/v3/advertisers/")["data"][0]["id"]
    camp = api.call(
        "POST",
        "/ads/v3/campaigns/",
        {"advertiser_id": adv, "name": "Bench get", "objective_type": "AWARENESS"},
    )["data"]["id"]
    groups = [
        api.call(
            "POST",
            "/ads/v3/ad_groups/",
            {
                "campaign_id": camp,
                "name": f"Bench get {n}",
                "budget_in_micro_currency": 10_000_000,
                "bid_in_micro_currency": 1_000_000,
            },
        )["data"]["id"]
        for n in range(3)
    ]
    pin = api.call("GET", "/v3/users/me/pins/?page_size=1")["data"][0]["id"]
    promotion = api.call("POST", "/ads/v3/pin_promotions/", {"ad_group_id": groups[0], "pin_id": pin})["data"]
    return {
        "campaign": f"/ads/v3/campaigns/{camp}/",
        "ad_group": f"/ads/v3/ad_groups/{groups[0]}/",
        "pin_promotion": f"/ads/v3/pin_promotions/{promotion['id']}/",
    }


def bench_single_get(
    args: argparse.Namespace,
    url_path: str,
    pin_port: int,
    hello_port: int,
    token: str,
    pids: tuple[int, int],
    tmp: Path,
) -> None:
    use_wrk = pick_tool(args.tool)
    lua: Path | None = None
    if use_wrk:
        lua = tmp / "report.lua"
        lua.write_text(WRK_LUA)
    headers = {"Authorization": f"Bearer {token}"}
    targets = {
        "pinapi " + url_path: (f"http://{HOST}:{pin_port}{url_path}", headers, pids[0]),
        "fastapi hello": (f"http://{HOST}:{hello_port}/hello", {}, pids[1]),
    }
    for url, hdrs, _ in targets.values():
        check_get(url, hdrs)
    runs: dict[str, list[Result]] = {name: [] for name in targets}
    for i in range(args.repeat):
        for name, (url, hdrs, pid) in targets.items():
            result = None
            for seconds in (args.warmup, args.duration):
                result = load(
                    url,
                    seconds=seconds,
                    connections=args.connections,
                    threads=2,
                    headers=hdrs,
                    lua=lua,
                    server_pid=pid,
                )
            assert result is not None
            runs[name].append(result)
            print(f"  run {i + 1} {name}: {result.rps:.0f} req/s, p99 {result.p99_us / 1000:.2f} ms")
    print_table(runs, url_path)


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--duration", type=float, default=10.0)
    p.add_argument("--warmup", type=float, default=2.0)
    p.add_argument("--connections", type=int, default=32)
    p.add_argument("--database-url", default="", help="PostgreSQL URL instead of a temp SQLite file")
    p.add_argument("--tool", choices=["auto", "wrk", "python"], default="auto")
    p.add_argument("--skip", action="append", default=[], choices=["promotions", "campaigns", "get"])
    p.add_argument(
        "--get",
        action="append",
        choices=["campaign", "ad_group", "pin_promotion"],
        help="single GETs to load (repeatable; default all three)",
    )
    args = p.parse_args(argv)
    tmp = Path(tempfile.mkdtemp(prefix="pinapi-bench-ads-"))
    pin_proc: subprocess.Popen[bytes] | None = None
    hello_proc: subprocess.Popen[bytes] | None = None
    try:
        pin_port, hello_port = free_port(), free_port()
        extra = {
            "PINAPI_WORKER": "false",
            "PINAPI_REVIEW_DELAY_SECONDS": "0",
            "PINAPI_LIMIT_ADS_WRITE_PER_MINUTE": "1000000",
            "PINAPI_LIMIT_ADS_READ_HIGH_PER_MINUTE": "100000000",
        }
        if args.database_url:
            extra["PINAPI_DATABASE_URL"] = args.database_url
        pin_proc, env = start_pinapi(tmp, pin_port, extra)
        hello_proc = start_hello(tmp, hello_port)
        wait_ready(f"http://{HOST}:{pin_port}/readyz", pin_proc)
        wait_ready(f"http://{HOST}:{hello_port}/hello", hello_proc)
        token = mint_token(env, "demo", SCOPES)
        api = Api(pin_port, token)
        if "promotions" not in args.skip:
            bench_promotions(api, env, args.repeat)
        if "campaigns" not in args.skip:
            bench_campaign_pages(api, args.repeat)
        if "get" not in args.skip:
            paths = single_objects(api)
            for kind in args.get or list(paths):
                bench_single_get(
                    args, paths[kind], pin_port, hello_port, token, (pin_proc.pid, hello_proc.pid), tmp
                )
    finally:
        stop(pin_proc)
        stop(hello_proc)
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
