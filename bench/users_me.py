"""Benchmark an authenticated pinapi GET against a bare FastAPI hello-world, side by side.

What it does, all on loopback and bounded in time:

1. makes a fresh temporary data dir (SQLite, demo dataset) and starts ``pinapi serve`` on a
   free port: uvicorn with uvloop and httptools, exactly as in production;
2. mints a real access token with ``pinapi token`` (bearer header on every request);
3. starts ``bench/hello.py`` under uvicorn with the same flags, in another process;
4. loads each server in turn from a SEPARATE process (``wrk`` with a Lua script for the
   percentiles, or ``bench/loadgen.py`` when wrk is missing): a warm-up, then a timed run;
5. repeats the pair ``--repeat`` times, prints every run and the medians, and the ratio
   pinapi/hello, which is the figure that survives a noisy or slower machine.

Servers are killed in a ``finally`` whatever happens. ``--url-path`` benches any other GET,
e.g. ``--url-path /v3/pins/123/``. Run it with ``make bench``.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
BIN = Path(sys.executable).parent
HOST = "127.0.0.1"
UVICORN_FLAGS = ["--loop", "uvloop", "--http", "httptools", "--no-access-log", "--log-level", "warning"]

WRK_LUA = """
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'BENCH_JSON {"requests":%d,"duration_us":%d,"p50_us":%d,"p99_us":%d,"max_us":%d,' ..
    '"non2xx":%d,"errors":%d}\\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    latency.max, e.status, e.connect + e.read + e.write + e.timeout))
end
"""

WRK_MISSING = (
    "wrk is not on PATH: falling back to the Python load generator (bench/loadgen.py), which "
    "may saturate before the server does.\n"
    "  Install wrk for trustworthy figures: `sudo apt-get install -y wrk` (Debian/Ubuntu), "
    "`brew install wrk` (macOS), or build it from https://github.com/wg/wrk."
)


@dataclass(frozen=True)
class Result:
    requests: int
    duration_us: int
    p50_us: int
    p99_us: int
    max_us: int
    non2xx: int
    errors: int
    cpu_seconds: float | None = None  # the server's own CPU time during the run

    @property
    def rps(self) -> float:
        return self.requests / (self.duration_us / 1_000_000) if self.duration_us else 0.0

    @property
    def cpu_us(self) -> float | None:
        """Server CPU microseconds per request: robust to other load on the machine."""
        if self.cpu_seconds is None or not self.requests:
            return None
        return self.cpu_seconds / self.requests * 1_000_000


def cpu_seconds(pid: int) -> float | None:
    """User + system CPU time of a process (Linux /proc), None where unavailable."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


def clean_env(data_dir: Path, port: int, extra: dict[str, str]) -> dict[str, str]:
    """The environment for pinapi: no PINAPI_* from the caller's shell leaks into the bench."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PINAPI_")}
    env.update(
        PINAPI_DATA_DIR=str(data_dir),
        PINAPI_HOST=HOST,
        PINAPI_PORT=str(port),
        PINAPI_LOG_LEVEL="warning",
        # A 10 s run at a few thousand req/s would exceed the default organic hourly limit and
        # measure 429s; the limiter still counts every request (its cost is unchanged).
        PINAPI_LIMIT_ORGANIC_PER_HOUR="1000000000",
        PINAPI_LIMIT_ADS_READ_PER_SECOND="1000000",
        # `pinapi serve` with the demo starts the delivery engine's 30-day backfill, a core's
        # worth of CPU for the first half minute: the benches time routes, not the engine
        # (`bench/engine.py` does), so it stays off unless `--env PINAPI_ENGINE=live` asks.
        PINAPI_ENGINE="off",
    )
    env.update(extra)
    return env


def wait_ready(url: str, proc: subprocess.Popen[bytes], timeout: float = 90.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"server exited early with code {proc.returncode} (url {url})")
        try:
            with urllib.request.urlopen(url, timeout=2) as r:
                if r.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.2)
    raise SystemExit(f"server not ready after {timeout:.0f} s: {url}")


def check_get(url: str, headers: dict[str, str]) -> None:
    """One request before loading: a bench of error responses would be meaningless."""
    req = urllib.request.Request(url, headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=5) as r:
            body = r.read()
    except urllib.error.HTTPError as exc:
        raise SystemExit(f"GET {url} answered {exc.code}: {exc.read()[:300]!r}") from exc
    print(f"  check GET {url} -> 200, {len(body)} bytes")


def stop(proc: subprocess.Popen[bytes] | None) -> None:
    """Stop a server we started: SIGTERM to its process group, then SIGKILL."""
    if proc is None or proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=10)
    except (ProcessLookupError, subprocess.TimeoutExpired):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=5)


def load(
    url: str,
    *,
    seconds: float,
    connections: int,
    threads: int,
    headers: dict[str, str],
    lua: Path | None,
    server_pid: int,
) -> Result:
    """One load run from a separate process; ``lua`` None means the Python load generator."""
    if lua is not None:
        cmd = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{max(1, round(seconds))}s", "-s", str(lua)]
        for name, value in headers.items():
            cmd += ["-H", f"{name}: {value}"]
        cmd.append(url)
    else:
        cmd = [sys.executable, str(HERE / "loadgen.py"), url, f"--connections={connections}"]
        cmd.append(f"--duration={seconds}")
        for name, value in headers.items():
            cmd.append(f"--header={name}: {value}")
    cpu_before = cpu_seconds(server_pid)
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=seconds + 60, check=False)
    cpu_after = cpu_seconds(server_pid)
    cpu = None if cpu_before is None or cpu_after is None else cpu_after - cpu_before
    for line in out.stdout.splitlines():
        if line.startswith("BENCH_JSON "):
            return Result(**json.loads(line.removeprefix("BENCH_JSON ")), cpu_seconds=cpu)
    raise SystemExit(f"load generator failed ({out.returncode}): {out.stdout}\n{out.stderr}")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    return build_parser(__doc__).parse_args(argv)


def build_parser(description: str | None) -> argparse.ArgumentParser:
    """The options every pinapi-vs-hello bench shares (``bench/pins.py`` adds its own)."""
    p = argparse.ArgumentParser(description=description, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--url-path", default="/v3/users/me/", help="the pinapi GET to bench")
    p.add_argument("--duration", type=float, default=10.0, help="seconds of timed load per run")
    p.add_argument("--warmup", type=float, default=2.0, help="seconds of untimed load before each run")
    p.add_argument("--connections", type=int, default=32)
    p.add_argument("--threads", type=int, default=2, help="wrk threads")
    p.add_argument("--repeat", type=int, default=3, help="pairs of runs; medians are reported")
    p.add_argument("--user", default="demo", help="demo username the token acts for")
    p.add_argument("--scopes", default="read_organic,read_secret,read_ads", help="token scopes")
    p.add_argument("--database-url", default="", help="PostgreSQL URL instead of a temp SQLite file")
    p.add_argument("--tool", choices=["auto", "wrk", "python"], default="auto")
    p.add_argument(
        "--env",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="extra PINAPI_* setting for the server",
    )
    p.add_argument("--keep", action="store_true", help="keep the temp data dir and print its path")
    return p


def pick_tool(choice: str) -> bool:
    """True for wrk; prints how to get it when it is missing."""
    have = shutil.which("wrk") is not None
    if choice == "wrk" and not have:
        raise SystemExit(WRK_MISSING)
    if choice == "auto" and not have:
        print(WRK_MISSING)
    return have and choice != "python"


def _fmt_cpu(value: float | None) -> str:
    return "-" if value is None else f"{value:.0f}"


def print_table(runs: dict[str, list[Result]], url_path: str) -> None:
    print()
    head = f"{'server':<34} {'run':>4} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'cpu us/req':>11}"
    print(f"{head} {'non-2xx':>8} {'errors':>7}")
    for name, results in runs.items():
        for i, r in enumerate(results, 1):
            print(
                f"{name:<34} {i:>4} {r.rps:>9.0f} {r.p50_us / 1000:>8.2f} {r.p99_us / 1000:>8.2f} "
                f"{_fmt_cpu(r.cpu_us):>11} {r.non2xx:>8} {r.errors:>7}"
            )
    print()
    print(f"{'median of runs':<34} {'':>4} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'cpu us/req':>11}")
    for name, results in runs.items():
        rps = statistics.median(r.rps for r in results)
        p50 = statistics.median(r.p50_us for r in results) / 1000
        p99 = statistics.median(r.p99_us for r in results) / 1000
        cpus = [r.cpu_us for r in results if r.cpu_us is not None]
        cpu = statistics.median(cpus) if cpus else None
        print(f"{name:<34} {'':>4} {rps:>9.0f} {p50:>8.2f} {p99:>8.2f} {_fmt_cpu(cpu):>11}")
    pin, hello = runs["pinapi " + url_path], runs["fastapi hello"]
    ratios = [p.rps / h.rps for p, h in zip(pin, hello, strict=True) if h.rps]
    print()
    print(
        f"ratio pinapi/hello req/s: median {statistics.median(ratios):.2f} "
        f"(per run: {', '.join(f'{x:.2f}' for x in ratios)})"
    )
    cpu_ratios = [h.cpu_us / p.cpu_us for p, h in zip(pin, hello, strict=True) if p.cpu_us and h.cpu_us]
    if cpu_ratios:
        # hello's CPU per request over pinapi's: the req/s ratio a machine with a core free
        # for each server would show; it moves far less with other load than req/s does.
        print(
            f"ratio hello/pinapi server CPU per request: median {statistics.median(cpu_ratios):.2f} "
            f"(per run: {', '.join(f'{x:.2f}' for x in cpu_ratios)})"
        )
    if any(r.non2xx or r.errors for rs in runs.values() for r in rs):
        print("WARNING: some responses were not 2xx or failed: the figures above are not valid")


@dataclass
class Servers:
    """pinapi and the hello app, both running: what a bench needs to reach and measure them."""

    tmp: Path
    env: dict[str, str]  # pinapi's environment (for ``pinapi token`` and other CLI calls)
    pin_port: int
    hello_port: int
    pin_proc: subprocess.Popen[bytes]
    hello_proc: subprocess.Popen[bytes]

    @property
    def pin_base(self) -> str:
        return f"http://{HOST}:{self.pin_port}"


def server_env(args: argparse.Namespace) -> dict[str, str]:
    """The PINAPI_* settings asked for on the command line (``--database-url``, ``--env``)."""
    extra = {"PINAPI_DATABASE_URL": args.database_url} if args.database_url else {}
    for item in args.env:
        name, sep, value = item.partition("=")
        if not sep or not name.startswith("PINAPI_"):
            raise SystemExit(f"--env wants PINAPI_NAME=VALUE, got {item!r}")
        extra[name] = value
    return extra


def start_pinapi(
    tmp: Path, port: int, extra: dict[str, str]
) -> tuple[subprocess.Popen[bytes], dict[str, str]]:
    """``pinapi serve`` on ``port`` over a fresh data dir under ``tmp`` (log in
    ``tmp/pinapi.log``); returns the process (not yet ready: ``wait_ready``) and its env."""
    env = clean_env(tmp / "data", port, extra)
    print(f"starting pinapi on {HOST}:{port} (data dir {tmp / 'data'})")
    proc = subprocess.Popen(
        [str(BIN / "pinapi"), "serve", "--host", HOST, "--port", str(port)],
        env=env,
        stdout=(tmp / "pinapi.log").open("wb"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    return proc, env


def start_hello(tmp: Path, port: int) -> subprocess.Popen[bytes]:
    """The FastAPI hello-world baseline on ``port`` (log in ``tmp/hello.log``)."""
    print(f"starting FastAPI hello-world on {HOST}:{port}")
    hello_cmd = [sys.executable, "-m", "uvicorn", "hello:app", "--app-dir", str(HERE)]
    return subprocess.Popen(
        [*hello_cmd, "--host", HOST, "--port", str(port), *UVICORN_FLAGS],
        stdout=(tmp / "hello.log").open("wb"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


@contextlib.contextmanager
def servers(tmp: Path, extra: dict[str, str]) -> Iterator[Servers]:
    """Start pinapi (fresh data dir under ``tmp``, demo dataset) and hello; stop both after."""
    pin_proc: subprocess.Popen[bytes] | None = None
    hello_proc: subprocess.Popen[bytes] | None = None
    try:
        pin_port, hello_port = free_port(), free_port()
        pin_proc, env = start_pinapi(tmp, pin_port, extra)
        hello_proc = start_hello(tmp, hello_port)
        wait_ready(f"http://{HOST}:{pin_port}/readyz", pin_proc)
        wait_ready(f"http://{HOST}:{hello_port}/hello", hello_proc)
        yield Servers(tmp, env, pin_port, hello_port, pin_proc, hello_proc)
    finally:
        stop(pin_proc)
        stop(hello_proc)


def mint_token(env: dict[str, str], user: str, scopes: str) -> str:
    """A real access token from ``pinapi token``."""
    minted = subprocess.run(
        [str(BIN / "pinapi"), "token", "--user", user, "--scopes", scopes],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    if minted.returncode != 0 or not minted.stdout.strip():
        raise SystemExit(f"pinapi token failed: {minted.stdout}{minted.stderr}")
    return minted.stdout.split()[0]


def compare(
    srv: Servers, url_path: str, headers: dict[str, str], args: argparse.Namespace, *, use_wrk: bool
) -> dict[str, list[Result]]:
    """Load pinapi's ``url_path`` and hello in turn, ``args.repeat`` pairs; every run's result."""
    targets = {
        "pinapi " + url_path: (f"{srv.pin_base}{url_path}", headers, srv.pin_proc.pid),
        "fastapi hello": (f"http://{HOST}:{srv.hello_port}/hello", {}, srv.hello_proc.pid),
    }
    for url, hdrs, _ in targets.values():
        check_get(url, hdrs)
    lua: Path | None = None
    if use_wrk:
        lua = srv.tmp / "report.lua"
        lua.write_text(WRK_LUA)
    tool = "wrk" if use_wrk else "bench/loadgen.py"
    print(
        f"load: {tool}, {args.connections} connections, {args.warmup:g} s warm-up + "
        f"{args.duration:g} s per run, {args.repeat} run(s) per server, servers alternating"
    )
    runs: dict[str, list[Result]] = {name: [] for name in targets}
    for i in range(args.repeat):
        for name, (url, hdrs, pid) in targets.items():
            for seconds in (args.warmup, args.duration):
                if seconds <= 0:
                    continue
                result = load(
                    url,
                    seconds=seconds,
                    connections=args.connections,
                    threads=args.threads,
                    headers=hdrs,
                    lua=lua,
                    server_pid=pid,
                )
            runs[name].append(result)
            print(f"  run {i + 1} {name}: {result.rps:.0f} req/s, p99 {result.p99_us / 1000:.2f} ms")
    return runs


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    if not args.url_path.startswith("/"):
        raise SystemExit("--url-path must start with /")
    use_wrk = pick_tool(args.tool)
    tmp = Path(tempfile.mkdtemp(prefix="pinapi-bench-"))
    try:
        with servers(tmp, server_env(args)) as srv:
            headers = {"Authorization": f"Bearer {mint_token(srv.env, args.user, args.scopes)}"}
            print_table(compare(srv, args.url_path, headers, args, use_wrk=use_wrk), args.url_path)
    finally:
        if args.keep:
            print(f"kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
