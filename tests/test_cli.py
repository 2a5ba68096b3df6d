"""The ``pinapi`` command against a fresh data dir, and an app built on the same dir."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
from sqlalchemy import select
from typer.testing import CliRunner, Result

from pinapi.app import create_app
from pinapi.cli import app as cli
from pinapi.domain.access import apps
from pinapi.runtime import Runtime
from pinapi.settings import Settings
from pinapi.store.tables import AdvertiserMember, AppRedirectUri, Token
from tests.factories import bearer


class Pinapi:
    """Runs CLI commands in a worker thread (the commands start their own event loop)."""

    def __init__(self, data_dir: Path) -> None:
        self.runner = CliRunner()
        self.env = {
            "PINAPI_DATA_DIR": str(data_dir),
            "PINAPI_DATABASE_URL": "",
            "PINAPI_SECRET_KEY": "",
            "PINAPI_REDIS_URL": "",
            "COLUMNS": "200",
        }

    async def __call__(self, *args: str) -> Result:
        def invoke() -> Result:
            return self.runner.invoke(cli, list(args), env=self.env)

        return await asyncio.to_thread(invoke)


def flat(result: Result) -> str:
    return " ".join(result.output.split())


def settings_for(data_dir: Path) -> Settings:
    return Settings(data_dir=data_dir, demo=False, worker=False, token_cache_seconds=0, _env_file=None)


@asynccontextmanager
async def served(data_dir: Path) -> AsyncIterator[httpx.AsyncClient]:
    application = create_app(settings_for(data_dir))
    async with application.router.lifespan_context(application):
        transport = httpx.ASGITransport(app=application)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            yield client


async def test_cli_account_administration(tmp_path: Path) -> None:
    pinapi = Pinapi(tmp_path)

    made = await pinapi(
        "apps",
        "create",
        "--name",
        "CLI App",
        "--redirect-uri",
        "http://localhost/cb",
        "--redirect-uri",
        "https://example.com/cb2",
    )
    assert made.exit_code == 0, made.output
    match = re.fullmatch(r"client_id=(\d+)\nclient_secret=([A-Za-z0-9_\-]{40,})\n", made.output)
    assert match, made.output
    client_id, secret = match.groups()

    alice = await pinapi(
        "users", "create", "--username", "alice", "--password", "first-pass-1", "--full-name", "Alice A"
    )
    assert alice.exit_code == 0 and re.fullmatch(r"user_id=\d+\n", alice.output), alice.output
    again = await pinapi("users", "create", "--username", "ALICE", "--password", "first-pass-1")
    assert again.exit_code == 2 and "User 'ALICE' already exists." in flat(again)
    bad_name = await pinapi("users", "create", "--username", "a b", "--password", "first-pass-1")
    assert bad_name.exit_code == 2 and "Invalid parameter 'username'" in flat(bad_name)
    bob = await pinapi("users", "create", "--username", "bob", "--password", "bobs-pass-1")
    assert bob.exit_code == 0

    minted = await pinapi("token", "--user", "alice", "--scopes", "read_users,read_ads", "--app", client_id)
    assert minted.exit_code == 0, minted.output
    token = minted.output.strip()
    assert re.fullmatch(r"pina_[A-Za-z0-9_\-]{40,}", token)
    refreshable = await pinapi("token", "--user", "alice", "--scopes", "read_users", "--refreshable")
    assert refreshable.exit_code == 0 and [line[:5] for line in refreshable.output.split()] == [
        "pina_",
        "pinr_",
    ]
    bogus = await pinapi("token", "--user", "alice", "--scopes", "read_users,bogus")
    assert bogus.exit_code == 2 and "unknown scope bogus" in flat(bogus)
    nobody = await pinapi("token", "--user", "nobody", "--scopes", "read_users")
    assert nobody.exit_code == 2 and "User not found." in flat(nobody)

    adv = await pinapi("advertisers", "create", "--owner", "alice", "--name", "Alice Shop")
    assert adv.exit_code == 0, adv.output
    advertiser_id = re.fullmatch(r"advertiser_id=(\d+)\n", adv.output)
    assert advertiser_id
    aid = advertiser_id.group(1)
    shared = await pinapi("advertisers", "share", "--advertiser", aid, "--user", "bob", "--role", "analyst")
    assert shared.exit_code == 0 and shared.output == f"shared advertiser {aid} with bob as ANALYST\n"
    boss = await pinapi("advertisers", "share", "--advertiser", aid, "--user", "bob", "--role", "BOSS")
    assert boss.exit_code == 2
    assert "Invalid parameter 'role': must be one of OWNER, ADMIN, ANALYST" in flat(boss)

    async with served(tmp_path) as client:
        r = await client.get("/v3/users/me/", headers=bearer(token))
        assert r.status_code == 200, r.text
        assert r.json()["data"]["username"] == "alice" and r.json()["data"]["full_name"] == "Alice A"
        rt: Runtime = client._transport.app.state.runtime  # type: ignore[attr-defined]
        async with rt.sessions() as s:
            assert set(await s.scalars(select(AppRedirectUri.uri))) == {
                "http://localhost/cb",
                "https://example.com/cb2",
            }
            assert await apps.authenticate_client(s, client_id=client_id, client_secret=secret) is not None
            members = list(await s.scalars(select(AdvertiserMember)))
            assert [(str(m.advertiser_id), m.role) for m in members] == [(aid, "ANALYST")]

        changed = await pinapi("users", "password", "--username", "alice", "--password", "second-pass-2")
        assert changed.exit_code == 0 and changed.output == "revoked_tokens=3\n"
        r = await client.get("/v3/users/me/", headers=bearer(token))
        assert r.status_code == 401 and r.json()["code"] == 2
        async with rt.sessions() as s:
            assert all(t.revoked_at is not None for t in await s.scalars(select(Token)))
        short = await pinapi("users", "password", "--username", "alice", "--password", "short")
        assert short.exit_code == 2 and "at least 8 characters" in flat(short)


def test_migrate_and_help(tmp_path: Path) -> None:
    runner = CliRunner()
    env = {"PINAPI_DATA_DIR": str(tmp_path), "PINAPI_DATABASE_URL": ""}
    r = runner.invoke(cli, ["migrate"], env=env)
    assert r.exit_code == 0 and "database is up to date" in r.output
    assert (tmp_path / "pinapi.db").exists()
    r = runner.invoke(cli, ["--help"])
    assert r.exit_code == 0
    for command in ("serve", "migrate", "worker", "apps", "users", "advertisers", "token"):
        assert command in r.output


def test_worker_once_drains_due_jobs(tmp_path: Path) -> None:
    runner = CliRunner()
    env = {"PINAPI_DATA_DIR": str(tmp_path), "PINAPI_DATABASE_URL": ""}
    r = runner.invoke(cli, ["worker", "--once"], env=env)
    assert r.exit_code == 0 and r.output == "ran 0 job(s)\n", r.output
