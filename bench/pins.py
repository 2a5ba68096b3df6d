"""Organic benchmark figures: ``GET /v3/pins/{pin}/`` against hello, and deep board pages.

The organic issue's two targets, measured on one fresh server:

1. ``GET /v3/pins/{pin}/`` at least 0.5 x the req/s of a bare FastAPI hello-world on the same
   server stack: the exact machinery of ``bench/users_me.py`` (same servers, same wrk runs,
   servers alternating, ``--repeat`` pairs, medians and per-run ratios);
2. the 400th page of a 10,000-pin board costs no more than 1.2 x the first page: the
   bookmarks are walked once from page 1 to page 400 (``page_size=25``), then page 1 and
   page 400 are fetched alternately ``--page-reps`` times each over one keep-alive
   connection, ``--repeat`` rounds; per round the median latency of each and their ratio.

Setup: a fresh data dir with the demo dataset (``pinapi serve`` loads it), then a public
board of the demo user with ``--pins`` pins: the first made by ``pins.create_pin`` (a real
stored image), the rest bulk-inserted as copies of it with their own ids and aggregated pin
data, counters moved to match, in one transaction. Run it with ``make bench-organic``.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import io
import shutil
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
from PIL import Image as PILImage
from sqlalchemy import insert, select, update
from users_me import build_parser, compare, mint_token, pick_tool, print_table, server_env, servers

from pinapi.domain.access.principal import Principal
from pinapi.domain.organic import boards as board_lib
from pinapi.domain.organic import pins as pin_lib
from pinapi.runtime import Runtime
from pinapi.settings import Settings
from pinapi.store.ids import new_id
from pinapi.store.tables import AggregatedPinData, Board, Pin, User

PAGE_SIZE = 25
INSERT_CHUNK = 1000


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = build_parser(__doc__)
    p.add_argument("--pins", type=int, default=10_000, help="pins on the bench board")
    p.add_argument("--page", type=int, default=400, help="the deep page compared with page 1")
    p.add_argument("--page-reps", type=int, default=200, help="timed fetches of each page per round")
    p.set_defaults(url_path="")  # the pin's path is only known once it exists
    return p.parse_args(argv)


def png() -> str:
    out = io.BytesIO()
    PILImage.new("RGB", (800, 1000), (10, 120, 200)).save(out, format="PNG")
    return base64.b64encode(out.getvalue()).decode()


async def seed(env: dict[str, str], *, username: str, count: int) -> tuple[int, int]:
    """A public board of ``username`` holding ``count`` pins; returns (board id, first pin id)."""
    settings = Settings(
        data_dir=Path(env["PINAPI_DATA_DIR"]),
        database_url=env.get("PINAPI_DATABASE_URL", ""),
        demo=False,
        worker=False,
    )
    runtime = Runtime.build(settings)
    try:
        now = runtime.clock.now()
        async with runtime.sessions() as s, s.begin():
            user_id = await s.scalar(select(User.id).where(User.username == username))
            if user_id is None:
                raise SystemExit(f"no user {username!r} in the demo dataset")
            who = Principal(user_id=user_id, app_id=0, scopes=frozenset({"write_boards", "write_pins"}))
            board, _ = await board_lib.create_board(
                s,
                now=now,
                principal=who,
                fields=board_lib.BoardFields(name=f"Bench {count} pins", privacy="public"),
                initial_pins=[],
            )
            first = await pin_lib.create_pin(
                s,
                now=now,
                principal=who,
                fetcher=pin_lib.Fetcher(data_dir=settings.data_dir, allow=[]),
                board_id=board.id,
                section_id=None,
                fields=pin_lib.PinFields(title="Bench pin", description="One of many", link="https://e.com/"),
                image=pin_lib.ImageInput(base64=png()),
            )
            await s.flush()
            template = {a.key: getattr(first.pin, a.key) for a in Pin.__mapper__.column_attrs}
            for start in range(1, count, INSERT_CHUNK):
                pins: list[dict[str, Any]] = []
                aggs: list[dict[str, Any]] = []
                for _ in range(start, min(start + INSERT_CHUNK, count)):
                    pin_id, agg_id = new_id(), new_id()
                    pins.append({**template, "id": pin_id, "aggregated_pin_data_id": agg_id})
                    aggs.append(
                        {
                            "id": agg_id,
                            "root_pin_id": pin_id,
                            "comment_count": 0,
                            "save_count": 0,
                            "created_at": now,
                        }
                    )
                await s.execute(insert(AggregatedPinData), aggs)
                await s.execute(insert(Pin), pins)
            more = count - 1
            await s.execute(
                update(Board).where(Board.id == board.id).values(pin_count=Board.pin_count + more)
            )
            await s.execute(update(User).where(User.id == user_id).values(pin_count=User.pin_count + more))
            return board.id, first.pin.id
    finally:
        await runtime.close()


def page_ratio(
    base: str, headers: dict[str, str], board_id: int, *, page: int, reps: int, rounds: int
) -> None:
    """Walk the bookmarks to ``page``, then time page 1 against it (see the module)."""
    path = f"/v3/boards/{board_id}/pins/"
    with httpx.Client(base_url=base, headers=headers, timeout=30) as client:

        def fetch(bookmark: str | None) -> dict[str, Any]:
            params = {"page_size": str(PAGE_SIZE), **({"bookmark": bookmark} if bookmark else {})}
            r = client.get(path, params=params)
            if r.status_code != 200:
                raise SystemExit(f"GET {path} answered {r.status_code}: {r.text[:300]}")
            body: dict[str, Any] = r.json()
            return body

        bookmark: str | None = None
        started = time.perf_counter()
        for n in range(1, page):
            bookmark = fetch(bookmark).get("bookmark")
            if not bookmark:
                raise SystemExit(f"the board has only {n} pages of {PAGE_SIZE}")
        deep = fetch(bookmark)
        last = "present" if deep.get("bookmark") else "absent (last page)"
        print(
            f"walked {page} pages in {time.perf_counter() - started:.1f} s; page {page} has "
            f"{len(deep['data'])} pins, bookmark {last}"
        )
        ratios: list[float] = []
        firsts: list[float] = []
        deeps: list[float] = []
        print(f"\n{'round':>5} {'page 1 median ms':>17} {f'page {page} median ms':>19} {'ratio':>7}")
        for rnd in range(1, rounds + 1):
            for _ in range(max(5, reps // 10)):  # warm-up, untimed
                fetch(None)
                fetch(bookmark)
            one: list[float] = []
            far: list[float] = []
            for _ in range(reps):
                for key, out in ((None, one), (bookmark, far)):
                    t0 = time.perf_counter()
                    fetch(key)
                    out.append(time.perf_counter() - t0)
            m1, m2 = statistics.median(one) * 1000, statistics.median(far) * 1000
            firsts.append(m1)
            deeps.append(m2)
            ratios.append(m2 / m1)
            print(f"{rnd:>5} {m1:>17.2f} {m2:>19.2f} {m2 / m1:>7.2f}")
        print(
            f"{'median':>5} {statistics.median(firsts):>17.2f} {statistics.median(deeps):>19.2f} "
            f"{statistics.median(ratios):>7.2f}  (page {page} / page 1, target <= 1.2)"
        )


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    use_wrk = pick_tool(args.tool)
    if args.pins < args.page * PAGE_SIZE:
        raise SystemExit(f"--pins {args.pins} is fewer than {args.page} pages of {PAGE_SIZE}")
    tmp = Path(tempfile.mkdtemp(prefix="pinapi-bench-"))
    try:
        with servers(tmp, server_env(args)) as srv:
            started = time.perf_counter()
            board_id, pin_id = asyncio.run(seed(srv.env, username=args.user, count=args.pins))
            print(f"seeded board {board_id} with {args.pins} pins in {time.perf_counter() - started:.1f} s")
            headers = {"Authorization": f"Bearer {mint_token(srv.env, args.user, args.scopes)}"}
            url_path = args.url_path or f"/v3/pins/{pin_id}/"
            print_table(compare(srv, url_path, headers, args, use_wrk=use_wrk), url_path)
            print(f"\nboard pages: page 1 vs page {args.page}, {args.page_reps} fetches each per round")
            page_ratio(
                srv.pin_base, headers, board_id, page=args.page, reps=args.page_reps, rounds=args.repeat
            )
    finally:
        if args.keep:
            print(f"kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
