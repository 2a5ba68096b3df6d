"""Emulator controls under ``/pinapi/`` (not part of v3): the shared simulation clock.

They are open on purpose, like a local cloud emulator's controls, and switched off with
``PINAPI_CONTROLS=false`` for a deployment that must not let callers move time.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import Depends
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request

from pinapi.api.common.context import get_runtime, get_session
from pinapi.api.common.params import read_params
from pinapi.api.common.routing import router as make_router
from pinapi.domain.clock import SharedClock
from pinapi.domain.controls import clock as clock_controls
from pinapi.domain.errors import Invalid, NotFound

router = make_router(tags=["pinapi controls (not v3)"])


def _shared_clock(request: Request) -> SharedClock:
    runtime = get_runtime(request)
    if not runtime.settings.controls:
        raise NotFound("API method", code=11, message="API method not found.")
    if not isinstance(runtime.clock, SharedClock):
        raise Invalid("clock", "this instance runs on a host-managed clock")
    return runtime.clock


def _view(view: clock_controls.ClockView) -> dict[str, Any]:
    return {
        "now": view.now.isoformat(),
        "unix_time": view.now.timestamp(),
        "mode": view.mode,
        "offset_seconds": view.offset_seconds,
        "version": view.version,
    }


@router.get("/pinapi/clock/")
async def pinapi_get_clock(request: Request, session: AsyncSession = Depends(get_session)) -> dict[str, Any]:
    clock = _shared_clock(request)
    return _view(await clock_controls.refresh(session, clock))


@router.put("/pinapi/clock/")
async def pinapi_set_clock(request: Request, session: AsyncSession = Depends(get_session)) -> dict[str, Any]:
    """Body: ``mode`` (wall|frozen), ``advance_seconds``, ``time`` (ISO 8601 with zone)."""
    clock = _shared_clock(request)
    params = await read_params(request)
    raw_time = params.text("time")
    at: datetime | None = None
    if raw_time is not None:
        try:
            at = datetime.fromisoformat(raw_time.replace("Z", "+00:00"))
        except ValueError as exc:
            raise Invalid("time", "must be an ISO 8601 date-time with a zone") from exc
    advance = params.raw("advance_seconds")
    try:
        seconds = float(advance) if advance not in (None, "") else None
    except (TypeError, ValueError) as exc:
        raise Invalid("advance_seconds", "must be a number") from exc
    view = await clock_controls.change(
        session,
        clock,
        mode=params.choice("mode", ("wall", "frozen")),
        advance_seconds=seconds,
        set_time=at,
    )
    return _view(view)
