"""Two independent ``pinapi serve`` processes side by side, each on its own data dir."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from pathlib import Path

import httpx

from pinapi.domain.access import apps, tokens, users
from pinapi.runtime import Runtime
from pinapi.settings import Settings
from pinapi.store import migrate

START_TIMEOUT = 45.0  # generous: CI machines may be busy; an idle one starts in ~2 s


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def env_for(data_dir: Path) -> dict[str, str]:
    return {
        "PINAPI_DATA_DIR": str(data_dir),
        "PINAPI_DATABASE_URL": "",
        "PINAPI_SECRET_KEY": "",
        "PINAPI_REDIS_URL": "",
    }


async def _mint(data_dir: Path) -> str:
    """Migrate the instance's database and mint a token for a new user, in one go."""
    settings = Settings(data_dir=data_dir, demo=False, worker=False, _env_file=None)
    await migrate.upgrade_async(settings.resolved_database_url())
    rt = Runtime.build(settings)
    try:
        async with rt.sessions() as s, s.begin():
            made = await apps.create_app(
                s,
                clock=rt.clock,
                instance_key=rt.instance_key,
                name="App",
                redirect_uris=["http://localhost/cb"],
            )
            user = await users.create_user(s, clock=rt.clock, username="alice", password="alice-pass-1")
            issued = await tokens.issue(
                s,
                clock=rt.clock,
                user_id=user.id,
                app_id=made.app.id,
                scopes=["read_users"],
                refreshable=False,
            )
            return issued.access_token
    finally:
        await rt.close()


def mint_tokens(*data_dirs: Path) -> list[str]:
    async def main() -> list[str]:
        # One after the other: Alembic keeps its migration context in module globals.
        return [await _mint(d) for d in data_dirs]

    return asyncio.run(main())


def pinapi_command() -> list[str]:
    script = Path(sys.executable).with_name("pinapi")
    if script.exists():
        return [str(script)]
    return [sys.executable, "-c", "from pinapi.cli import main; main()"]


@contextmanager
def serve(data_dir: Path, port: int, log: Path) -> Iterator[subprocess.Popen[bytes]]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PINAPI_")}
    env.update(env_for(data_dir))
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [*pinapi_command(), "serve", "--host", "127.0.0.1", "--port", str(port), "--no-demo"],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
        try:
            yield proc
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=10)


def wait_healthy(base: str, proc: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        assert proc.poll() is None, f"server exited early:\n{log.read_text()}"
        try:
            if httpx.get(f"{base}/healthz", timeout=1.0).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise AssertionError(f"{base} did not become healthy in {START_TIMEOUT}s:\n{log.read_text()}")


def test_two_instances_are_independent(tmp_path: Path) -> None:
    dir_a, dir_b = tmp_path / "a", tmp_path / "b"
    token_a, token_b = mint_tokens(dir_a, dir_b)
    port_a, port_b = free_port(), free_port()
    assert port_a != port_b
    with ExitStack() as stack:
        proc_a = stack.enter_context(serve(dir_a, port_a, tmp_path / "a.log"))
        proc_b = stack.enter_context(serve(dir_b, port_b, tmp_path / "b.log"))
        base_a, base_b = f"http://127.0.0.1:{port_a}", f"http://127.0.0.1:{port_b}"
        wait_healthy(base_a, proc_a, tmp_path / "a.log")
        wait_healthy(base_b, proc_b, tmp_path / "b.log")
        with httpx.Client(timeout=5.0) as http:
            for base in (base_a, base_b):
                assert http.get(f"{base}/healthz").json() == {"status": "ok"}
                assert http.get(f"{base}/readyz").json() == {"status": "ok", "database": "ok"}
            for base, own, foreign in ((base_a, token_a, token_b), (base_b, token_b, token_a)):
                r = http.get(f"{base}/v3/users/me/", headers={"Authorization": f"Bearer {own}"})
                assert r.status_code == 200 and r.json()["data"]["username"] == "alice"
                assert r.headers["x-pinterest-rid"]
                r = http.get(f"{base}/v3/users/me", headers={"Authorization": f"Bearer {foreign}"})
                assert r.status_code == 401 and r.json()["code"] == 2
            a_id = http.get(f"{base_a}/v3/users/me/", headers={"Authorization": f"Bearer {token_a}"})
            b_id = http.get(f"{base_b}/v3/users/me/", headers={"Authorization": f"Bearer {token_b}"})
            assert a_id.json()["data"]["id"] != b_id.json()["data"]["id"]
    assert proc_a.returncode is not None and proc_b.returncode is not None
    assert (dir_a / "pinapi.db").exists() and (dir_b / "pinapi.db").exists()
    assert (dir_a / "secret.key").read_text() != (dir_b / "secret.key").read_text()


def test_processes_starting_together_agree_on_the_instance_key(tmp_path: Path) -> None:
    """Fresh data dir, several starters at once (``serve --workers N``): one key for all.

    Threads stand in for processes: the race is on the file system, not in memory.
    """
    barrier = threading.Barrier(8)

    def start() -> str:
        barrier.wait()
        return Settings(data_dir=tmp_path, _env_file=None).resolved_secret_key()

    with ThreadPoolExecutor(8) as pool:
        keys = list(pool.map(lambda _: start(), range(8)))
    assert len(set(keys)) == 1 and len(keys[0]) >= 40
    assert (tmp_path / "secret.key").read_text().strip() == keys[0]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["secret.key"]
