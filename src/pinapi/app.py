"""Build the ASGI application: routes, middleware, error mapping, and its lifespan.

The lifespan migrates the database, loads the demo dataset when asked, and runs an
in-process jobs worker unless ``PINAPI_WORKER=false`` (separate ``pinapi worker`` processes
can then do the work).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

from fastapi import FastAPI
from starlette.staticfiles import StaticFiles
from swagger_ui_bundle import swagger_ui_path

from pinapi import __version__
from pinapi.api import controls, files, images, ops, report_files
from pinapi.api.common import errors
from pinapi.api.common.middleware import RequestEdge, framework_telemetry
from pinapi.api.common.routing import hot_first
from pinapi.api.oauth import ROUTERS as OAUTH_ROUTERS
from pinapi.api.v3 import ROUTERS as V3_ROUTERS
from pinapi.api.v3 import pins, users
from pinapi.api.v3.ads import ad_groups, campaigns, pin_promotions
from pinapi.domain.clock import SharedClock
from pinapi.domain.controls import clock as clock_controls
from pinapi.jobs import (
    maintenance,  # noqa: F401  (registers its handlers)
    reports,  # noqa: F401  (registers the async report writer)
    review,  # noqa: F401  (registers the ads reviewer)
    scheduled_reports,  # noqa: F401  (registers the scheduled report and batch entities jobs)
)
from pinapi.jobs.engine import start as start_engine
from pinapi.jobs.worker import Worker
from pinapi.runtime import Runtime
from pinapi.settings import Settings
from pinapi.store.migrate import upgrade_async

# The single-object reads clients call most, tried first (``hot_first`` keeps every match).
HOT_ROUTERS = (users.router, pins.router, campaigns.router, ad_groups.router, pin_promotions.router)


def create_app(
    settings: Settings | None = None,
    *,
    runtime: Runtime | None = None,
    migrate: bool = True,
    demo: bool | None = None,
) -> FastAPI:
    settings = runtime.settings if runtime else (settings or Settings())
    load_demo = settings.demo if demo is None else demo

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        rt = runtime or Runtime.build(settings)
        app.state.runtime = rt
        if migrate:
            await upgrade_async(settings.resolved_database_url())
        stop = asyncio.Event()
        background: list[asyncio.Task[None]] = []
        if isinstance(rt.clock, SharedClock):
            async with rt.sessions() as session:
                await clock_controls.refresh(session, rt.clock)
            background.append(
                asyncio.create_task(
                    clock_controls.follow(rt.sessions, rt.clock, stop, settings.clock_refresh_seconds)
                )
            )
        if load_demo:
            from pinapi.demo import load_demo_dataset

            await load_demo_dataset(rt)
        if settings.engine != "off":
            async with rt.sessions() as session, session.begin():
                await start_engine(session, clock=rt.clock, settings=settings, services=rt.extras)
        if settings.worker:
            rt.extras.setdefault("data_dir", settings.data_dir)  # where periodic jobs write files
            worker = Worker(
                sessions=rt.sessions,
                clock=rt.clock,
                lease_seconds=settings.job_lease_seconds,
                poll_seconds=settings.worker_poll_seconds,
                services=rt.extras,
            )
            background.append(asyncio.create_task(worker.run_forever(stop)))
        try:
            yield
        finally:
            stop.set()
            for task in background:
                await task
            if runtime is None:
                await rt.close()

    app = FastAPI(
        title="pinapi — Pinterest Marketing API v3",
        version=__version__,
        docs_url=None,
        redoc_url=None,
        lifespan=lifespan,
        redirect_slashes=False,
        telemetry=framework_telemetry(),
    )
    errors.install(app)
    routers = [ops.router, files.router, report_files.router, images.router, controls.router]
    for r in [*hot_first(V3_ROUTERS, hot=HOT_ROUTERS), *OAUTH_ROUTERS, *routers]:
        if r in HOT_ROUTERS:
            # The hot routers' routes join the app's own list, in the same place: an included
            # router is matched twice per request (once as a router, once for its route), a
            # route of the app once. Same order, same matches, same OpenAPI; but the app's
            # ``dependency_overrides`` do not reach these routes (they serve without FastAPI's
            # dependency solver anyway, see ``V3Route``).
            app.router.routes.extend(r.routes)
        else:
            app.include_router(r)
    app.mount("/docs/static", StaticFiles(directory=swagger_ui_path), name="docs-static")
    app.add_middleware(RequestEdge)
    return app
