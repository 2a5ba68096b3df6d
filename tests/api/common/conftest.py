"""Helpers for the cross-cutting wire tests: apps built with extra settings or test routes."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from typing import Any

import httpx
import pytest
from fastapi import APIRouter

from pinapi.app import create_app
from pinapi.domain.clock import FixedClock
from pinapi.runtime import Runtime
from pinapi.settings import Settings

MakeClient = Callable[..., Awaitable[httpx.AsyncClient]]


@pytest.fixture
async def make_client(runtime: Runtime, settings: Settings, clock: FixedClock) -> AsyncIterator[MakeClient]:
    """Build extra app instances on the test database: other settings, extra (test-only) routes.

    The ``runtime`` fixture is required first so the database is clean and the factory's
    tokens (same database, same secret key) work against every app built here.
    """
    stack = contextlib.AsyncExitStack()

    async def build(
        *, routers: Sequence[APIRouter] = (), raise_app_exceptions: bool = True, **overrides: Any
    ) -> httpx.AsyncClient:
        rt = runtime
        if overrides:
            rt = Runtime.build(settings.model_copy(update=overrides), clock=clock)
            stack.push_async_callback(rt.close)
            stack.push_async_callback(rt.limiter.reset)
        application = create_app(runtime=rt, migrate=False, demo=False)
        for r in routers:
            application.include_router(r)
        await stack.enter_async_context(application.router.lifespan_context(application))
        transport = httpx.ASGITransport(app=application, raise_app_exceptions=raise_app_exceptions)
        return await stack.enter_async_context(
            httpx.AsyncClient(transport=transport, base_url="http://testserver")
        )

    try:
        yield build
    finally:
        await stack.aclose()
