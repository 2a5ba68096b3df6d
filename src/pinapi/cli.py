"""The ``pinapi`` command: serve, migrate, worker, and account administration."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Annotated, TypeVar

import typer
from rich.console import Console
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from pinapi.domain.access import advertisers, apps, sharing, tokens, users
from pinapi.domain.access import scopes as scope_lib
from pinapi.domain.access.roles import ROLES
from pinapi.domain.clock import SharedClock
from pinapi.domain.controls import clock as clock_controls
from pinapi.domain.errors import DomainError, Invalid
from pinapi.runtime import Runtime
from pinapi.settings import Settings
from pinapi.store import migrate as migrations

app = typer.Typer(help="pinapi: a Pinterest Marketing API v3 server.", no_args_is_help=True)
apps_cli = typer.Typer(help="OAuth client applications.", no_args_is_help=True)
users_cli = typer.Typer(help="Pinner accounts.", no_args_is_help=True)
adv_cli = typer.Typer(help="Advertisers and account sharing.", no_args_is_help=True)
app.add_typer(apps_cli, name="apps")
app.add_typer(users_cli, name="users")
app.add_typer(adv_cli, name="advertisers")
console = Console()
T = TypeVar("T")


@contextlib.asynccontextmanager
async def _runtime() -> AsyncIterator[Runtime]:
    """A runtime on the configured database, migrated first, its shared clock loaded."""
    settings = Settings()
    await migrations.upgrade_async(settings.resolved_database_url())
    runtime = Runtime.build(settings)
    try:
        if isinstance(runtime.clock, SharedClock):
            async with runtime.sessions() as session:
                await clock_controls.refresh(session, runtime.clock)
        yield runtime
    finally:
        await runtime.close()


def _run(work: Callable[[Runtime, AsyncSession], Awaitable[T]]) -> T:
    """Run one unit of work against the configured database, migrated first."""

    async def main() -> T:
        async with _runtime() as runtime, runtime.sessions() as session, session.begin():
            return await work(runtime, session)

    try:
        return asyncio.run(main())
    except DomainError as exc:
        console.print(f"[red]error:[/red] {exc.message}")
        raise typer.Exit(2) from exc


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Address to bind.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to bind.")] = 8000,
    workers: Annotated[int, typer.Option(help="API processes (PostgreSQL recommended above 1).")] = 1,
    demo: Annotated[bool, typer.Option(help="Load the demo dataset on an empty database.")] = True,
) -> None:
    """Run the API server (migrating the database and starting an in-process jobs worker)."""
    import os

    import uvicorn

    os.environ.setdefault("PINAPI_HOST", host)
    os.environ.setdefault("PINAPI_PORT", str(port))
    os.environ["PINAPI_DEMO"] = "true" if demo else "false"
    # With the demo dataset the delivery engine runs too (first start: the last 30 days).
    os.environ.setdefault("PINAPI_ENGINE", "live" if demo else "off")
    settings = Settings()
    migrations.upgrade(settings.resolved_database_url())
    uvicorn.run(
        "pinapi.asgi:app",
        host=host,
        port=port,
        workers=workers,
        log_level=settings.log_level,
        access_log=False,
        loop="uvloop",
        http="httptools",
    )


@app.command()
def migrate() -> None:
    """Apply database migrations and exit."""
    url = Settings().resolved_database_url()
    migrations.upgrade(url)
    console.print("database is up to date")


@app.command()
def worker(once: Annotated[bool, typer.Option(help="Drain due jobs, then exit.")] = False) -> None:
    """Run a jobs worker process beside the API."""
    from pinapi.jobs import (
        maintenance,  # noqa: F401
        reports,  # noqa: F401
        review,  # noqa: F401
        scheduled_reports,  # noqa: F401
    )
    from pinapi.jobs.worker import Worker

    async def main() -> None:
        settings = Settings()
        await migrations.upgrade_async(settings.resolved_database_url())
        runtime = Runtime.build(settings)
        w = Worker(
            sessions=runtime.sessions,
            clock=runtime.clock,
            lease_seconds=settings.job_lease_seconds,
            poll_seconds=settings.worker_poll_seconds,
            services=runtime.extras,
        )
        try:
            if once:
                n = await w.drain()
                console.print(f"ran {n} job(s)")
            else:
                await w.run_forever(asyncio.Event())
        finally:
            await runtime.close()

    asyncio.run(main())


@app.command()
def simulate(
    days: Annotated[int, typer.Option(help="Simulate the N days that end at the current clock hour.")] = 30,
    date_from: Annotated[str, typer.Option("--from", help="First UTC date (YYYY-MM-DD) instead.")] = "",
    date_to: Annotated[str, typer.Option("--to", help="Last UTC date, inclusive (with --from).")] = "",
    seed: Annotated[int | None, typer.Option(help="Engine seed (default PINAPI_ENGINE_SEED).")] = None,
    population: Annotated[
        int | None, typer.Option(help="Pinners (default PINAPI_ENGINE_POPULATION).")
    ] = None,
    processes: Annotated[
        int, typer.Option(help="2: the engine runs in a child process while this one stores.")
    ] = 2,
) -> None:
    """Run the delivery engine over a range of hours, replacing that range's facts."""
    from datetime import UTC, date, datetime, time, timedelta

    from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn
    from rich.table import Table

    from pinapi.engine.runner import Simulator, floor_hour
    from pinapi.engine.runner import simulate as run_range
    from pinapi.store.tables import Advertiser

    if bool(date_from) != bool(date_to):
        console.print("[red]error:[/red] --from and --to go together")
        raise typer.Exit(2)
    if days <= 0:
        console.print("[red]error:[/red] --days must be positive")
        raise typer.Exit(2)
    if processes not in (1, 2):
        console.print("[red]error:[/red] --processes must be 1 or 2")
        raise typer.Exit(2)

    async def main() -> None:
        async with _runtime() as runtime:
            settings = runtime.settings
            if date_from:
                try:
                    first, last = date.fromisoformat(date_from), date.fromisoformat(date_to)
                except ValueError as exc:
                    raise Invalid("from", "--from and --to must be dates YYYY-MM-DD") from exc
                if last < first:
                    raise Invalid("to", "must not be before --from")
                start = datetime.combine(first, time(0), UTC)
                end = datetime.combine(last + timedelta(days=1), time(0), UTC)
            else:
                end = floor_hour(runtime.clock.now())
                start = end - timedelta(days=days)
            sim = Simulator(
                seed=settings.engine_seed if seed is None else seed,
                population=settings.engine_population if population is None else population,
                cache=runtime.extras,
            )
            hours = int((end - start) / timedelta(hours=1))
            with Progress(
                TextColumn("[bold]simulating"),
                BarColumn(),
                TextColumn("{task.completed}/{task.total} h"),
                TextColumn("{task.description}"),
                TimeRemainingColumn(),
                console=console,
            ) as bar:
                task = bar.add_task("", total=hours)

                def step(hour: datetime, _: object) -> None:
                    bar.update(task, advance=1, description=hour.strftime("%Y-%m-%d %H:00"))

                summary = await run_range(
                    runtime.sessions,
                    clock=runtime.clock,
                    simulator=sim,
                    start=start,
                    end=end,
                    progress=step,
                    processes=processes,
                )
            async with runtime.sessions() as session:
                rows = (
                    await session.execute(select(Advertiser.id, Advertiser.name, Advertiser.currency))
                ).all()
            table = Table(
                title=f"{summary.hours} hours simulated from {(summary.start or start).isoformat()}"
            )
            for col in ("advertiser", "name", "impressions", "clicks", "spend"):
                table.add_column(
                    col, justify="right" if col in ("impressions", "clicks", "spend") else "left"
                )
            for adv_id, name, currency in rows:
                if adv_id not in summary.impressions:
                    continue
                table.add_row(
                    str(adv_id),
                    name,
                    f"{summary.impressions[adv_id]:,}",
                    f"{summary.clicks.get(adv_id, 0):,}",
                    f"{summary.spend.get(adv_id, 0) / 1e6:,.2f} {currency}",
                )
            console.print(table)
            console.print(
                f"fact rows: {summary.delivery_rows:,} totals, {summary.dimension_rows:,} breakdowns; "
                f"conversions: {summary.conversions:,}; advertiser-days billed: {summary.days_billed}"
            )

    try:
        asyncio.run(main())
    except DomainError as exc:
        console.print(f"[red]error:[/red] {exc.message}")
        raise typer.Exit(2) from exc


@apps_cli.command("create")
def apps_create(
    name: Annotated[str, typer.Option(help="App name shown on the consent page.")],
    redirect_uri: Annotated[list[str], typer.Option(help="A registered redirect URI (repeatable).")],
) -> None:
    """Register an OAuth app; prints its client id and secret (shown only once)."""

    async def work(rt: Runtime, s: AsyncSession) -> apps.CreatedApp:
        return await apps.create_app(
            s, clock=rt.clock, instance_key=rt.instance_key, name=name, redirect_uris=redirect_uri
        )

    created = _run(work)
    typer.echo(f"client_id={created.app.id}")
    typer.echo(f"client_secret={created.secret}")


@users_cli.command("create")
def users_create(
    username: Annotated[str, typer.Option()],
    password: Annotated[str, typer.Option()],
    full_name: Annotated[str, typer.Option()] = "",
    business: Annotated[bool, typer.Option(help="A business account.")] = False,
) -> None:
    """Create a pinner account."""

    async def work(rt: Runtime, s: AsyncSession) -> int:
        u = await users.create_user(
            s, clock=rt.clock, username=username, password=password, full_name=full_name, is_business=business
        )
        return u.id

    typer.echo(f"user_id={_run(work)}")


@users_cli.command("password")
def users_password(
    username: Annotated[str, typer.Option()], password: Annotated[str, typer.Option()]
) -> None:
    """Change a password (revokes every token of the user)."""

    async def work(rt: Runtime, s: AsyncSession) -> int:
        u = await users.get_by_username(s, username)
        return await users.change_password(s, clock=rt.clock, user=u, password=password)

    typer.echo(f"revoked_tokens={_run(work)}")


@app.command()
def token(
    user: Annotated[str, typer.Option(help="Username the token acts for.")],
    scopes: Annotated[str, typer.Option(help="Comma-separated scopes (composites allowed).")],
    app_id: Annotated[int | None, typer.Option("--app", help="Client id; default: the first app.")] = None,
    refreshable: Annotated[bool, typer.Option(help="Also issue a refresh token.")] = False,
) -> None:
    """Print a working access token (for scripts and tests)."""

    async def work(rt: Runtime, s: AsyncSession) -> tokens.IssuedTokens:
        try:
            wanted = scope_lib.parse(scopes)
        except scope_lib.UnknownScope as exc:
            raise Invalid("scopes", f"unknown scope {exc.scope}") from exc
        u = await users.get_by_username(s, user)
        target = await apps.get_app(s, app_id) if app_id else await apps.first_app(s)
        if target is None:
            raise Invalid("app", "no such app; create one with `pinapi apps create`")
        await tokens.record_grant(s, clock=rt.clock, user_id=u.id, app_id=target.id, scopes=wanted)
        return await tokens.issue(
            s, clock=rt.clock, user_id=u.id, app_id=target.id, scopes=wanted, refreshable=refreshable
        )

    issued = _run(work)
    typer.echo(issued.access_token)
    if issued.refresh_token:
        typer.echo(issued.refresh_token)


@app.command()
def clock(
    freeze: Annotated[bool, typer.Option(help="Stop the shared clock.")] = False,
    resume: Annotated[bool, typer.Option(help="Let it run with wall time again.")] = False,
    advance: Annotated[float, typer.Option(help="Move it forward by this many seconds.")] = 0.0,
    at: Annotated[str, typer.Option("--set", help="Set it to an ISO 8601 time with zone.")] = "",
) -> None:
    """Show or move the simulation clock every process of this instance shares."""
    from datetime import datetime

    if freeze and resume:
        console.print("[red]error:[/red] --freeze and --resume exclude each other")
        raise typer.Exit(2)

    async def work(rt: Runtime, s: AsyncSession) -> clock_controls.ClockView:
        assert isinstance(rt.clock, SharedClock)
        if not (freeze or resume or advance or at):
            return await clock_controls.refresh(s, rt.clock)
        try:
            when = datetime.fromisoformat(at.replace("Z", "+00:00")) if at else None
        except ValueError as exc:
            raise Invalid("set", "must be an ISO 8601 date-time with a zone") from exc
        mode = "frozen" if freeze else "wall" if resume else None
        return await clock_controls.change(
            s, rt.clock, mode=mode, advance_seconds=advance or None, set_time=when
        )

    view = _run(work)
    typer.echo(f"now={view.now.isoformat()} mode={view.mode} offset_seconds={view.offset_seconds:.3f}")


@adv_cli.command("create")
def advertisers_create(
    owner: Annotated[str, typer.Option(help="Owner username.")],
    name: Annotated[str, typer.Option()],
    country: Annotated[str, typer.Option()] = "US",
    currency: Annotated[str, typer.Option()] = "USD",
) -> None:
    """Create an advertiser owned by a user."""

    async def work(rt: Runtime, s: AsyncSession) -> int:
        u = await users.get_by_username(s, owner)
        a = await advertisers.create_advertiser(
            s, clock=rt.clock, owner_user_id=u.id, name=name, country=country, currency=currency
        )
        return a.id

    typer.echo(f"advertiser_id={_run(work)}")


@adv_cli.command("share")
def advertisers_share(
    advertiser: Annotated[int, typer.Option(help="Advertiser id.")],
    user: Annotated[str, typer.Option(help="Username to share with.")],
    role: Annotated[str, typer.Option(help=f"One of {', '.join(ROLES)}.")],
) -> None:
    """Grant a user a role on an advertiser (account sharing)."""

    async def work(rt: Runtime, s: AsyncSession) -> None:
        u = await users.get_by_username(s, user)
        await sharing.share(s, clock=rt.clock, advertiser_id=advertiser, user_id=u.id, role=role.upper())

    _run(work)
    typer.echo(f"shared advertiser {advertiser} with {user} as {role.upper()}")


def main() -> None:
    app()
