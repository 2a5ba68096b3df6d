"""Per-request access to the runtime and the request's unit of work.

One database session per request, opened on first use; the route wrapper in
``routing.py`` commits it once after the handler succeeds and rolls it back on any failure,
so a request never leaves half-written data.
"""

from __future__ import annotations

from typing import cast

from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request

from pinapi.runtime import Runtime
from pinapi.store.db import read_only

_RUNTIME = "pinapi.runtime"


def get_runtime(request: Request) -> Runtime:
    # Kept in the request's scope after the first look-up: a route asks several times (auth,
    # rate limit, handler), and ``app.state`` is an attribute chain with a ``__getattr__``.
    scope = request.scope
    runtime = scope.get(_RUNTIME)
    if runtime is None:
        runtime = scope[_RUNTIME] = request.app.state.runtime
    return cast(Runtime, runtime)


async def get_session(request: Request) -> AsyncSession:
    state = request.scope.setdefault("state", {})
    session = state.get("session")
    if session is None:
        session = get_runtime(request).sessions()
        state["session"] = session
        if request.method in ("GET", "HEAD"):
            # Reads need no write lock (SQLite); other methods start IMMEDIATE by default.
            await read_only(session)
    return cast(AsyncSession, session)


async def finish_session(request: Request, *, commit: bool) -> None:
    session = request.scope.get("state", {}).pop("session", None)
    if session is None:
        return
    try:
        if commit:
            await session.commit()
        else:
            await session.rollback()
    finally:
        await session.close()
