"""A small HTTP/1.1 keep-alive load generator, the fallback when ``wrk`` is not installed.

Run as its own process (``users_me.py`` starts it) so the load never shares an event loop or
a GIL with the server. It opens ``--connections`` sockets to a loopback URL, sends one GET at
a time on each for ``--duration`` seconds, and prints one ``BENCH_JSON`` line with the same
fields the wrk Lua script reports. Python is slower than wrk, so at high rates the generator
itself can be the bottleneck: prefer wrk for figures you publish.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from urllib.parse import urlsplit


class Totals:
    def __init__(self) -> None:
        self.latencies_us: list[int] = []
        self.non2xx = 0
        self.errors = 0


async def _read_response(reader: asyncio.StreamReader) -> int:
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head[9:12])
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value.strip())
    if length:
        await reader.readexactly(length)
    return status


async def _connection(host: str, port: int, request: bytes, stop_at: float, totals: Totals) -> None:
    reader, writer = await asyncio.open_connection(host, port)
    try:
        while time.monotonic() < stop_at:
            started = time.perf_counter_ns()
            writer.write(request)
            status = await _read_response(reader)
            totals.latencies_us.append((time.perf_counter_ns() - started) // 1000)
            if not 200 <= status < 300:
                totals.non2xx += 1
    except (OSError, asyncio.IncompleteReadError):
        totals.errors += 1
    finally:
        writer.close()


def _percentile(sorted_values: list[int], pct: float) -> int:
    if not sorted_values:
        return 0
    index = min(len(sorted_values) - 1, round(pct / 100 * (len(sorted_values) - 1)))
    return sorted_values[index]


async def run(url: str, connections: int, duration: float, headers: list[str]) -> dict[str, int]:
    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    if host not in ("127.0.0.1", "localhost", "::1"):
        raise SystemExit("loadgen only targets loopback addresses")
    target = parts.path + (f"?{parts.query}" if parts.query else "")
    lines = [f"GET {target} HTTP/1.1", f"Host: {parts.netloc}", *headers, "", ""]
    request = "\r\n".join(lines).encode()
    totals = Totals()
    started = time.monotonic()
    stop_at = started + duration
    await asyncio.gather(*(_connection(host, port, request, stop_at, totals) for _ in range(connections)))
    elapsed = time.monotonic() - started
    lat = sorted(totals.latencies_us)
    return {
        "requests": len(lat),
        "duration_us": int(elapsed * 1_000_000),
        "p50_us": _percentile(lat, 50),
        "p99_us": _percentile(lat, 99),
        "max_us": lat[-1] if lat else 0,
        "non2xx": totals.non2xx,
        "errors": totals.errors,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("url")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--duration", type=float, default=10.0)
    parser.add_argument("--header", action="append", default=[])
    args = parser.parse_args()
    import uvloop

    result = uvloop.run(run(args.url, args.connections, args.duration, args.header))
    print("BENCH_JSON " + json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
