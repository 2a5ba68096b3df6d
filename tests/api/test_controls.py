"""The shared simulation clock: controls API, persistence across processes' views."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from pinapi.app import create_app
from pinapi.domain.clock import SharedClock
from pinapi.domain.controls import clock as clock_controls
from pinapi.runtime import Runtime
from pinapi.settings import Settings


@pytest.fixture
async def shared(settings: Settings) -> AsyncIterator[tuple[Runtime, httpx.AsyncClient]]:
    if settings.database_url.startswith("postgresql"):
        from tests.conftest import _truncate

        await _truncate(settings.database_url)
    rt = Runtime.build(settings)
    assert isinstance(rt.clock, SharedClock)
    app: Any = create_app(runtime=rt, migrate=False, demo=False)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
            yield rt, c
    await rt.close()


async def test_clock_runs_with_wall_time_by_default(shared: tuple[Runtime, httpx.AsyncClient]) -> None:
    _, client = shared
    r = await client.get("/pinapi/clock")
    assert r.status_code == 200
    data = r.json()["data"]
    assert data["mode"] == "wall" and data["offset_seconds"] == 0.0
    assert r.json()["endpoint_name"] == "pinapi_get_clock"


async def test_freeze_advance_and_resume(shared: tuple[Runtime, httpx.AsyncClient]) -> None:
    rt, client = shared
    r = await client.put("/pinapi/clock/", json={"time": "2026-03-01T10:00:00Z", "mode": "frozen"})
    assert r.status_code == 200, r.text
    assert r.json()["data"]["now"] == "2026-03-01T10:00:00+00:00"
    assert rt.clock.now() == datetime(2026, 3, 1, 10, tzinfo=UTC)
    r = await client.put("/pinapi/clock/", data={"advance_seconds": "86400"})
    assert r.json()["data"]["now"] == "2026-03-02T10:00:00+00:00"
    r = await client.put("/pinapi/clock/", json={"mode": "wall"})
    assert r.json()["data"]["mode"] == "wall"
    now = rt.clock.now()
    assert datetime(2026, 3, 2, 10, tzinfo=UTC) <= now < datetime(2026, 3, 2, 10, 1, tzinfo=UTC)


async def test_another_process_sees_the_change(shared: tuple[Runtime, httpx.AsyncClient]) -> None:
    rt, client = shared
    await client.put("/pinapi/clock/", json={"time": "2027-01-01T00:00:00+00:00", "mode": "frozen"})
    other = SharedClock()
    async with rt.sessions() as session:
        view = await clock_controls.refresh(session, other)
    assert view.now == datetime(2027, 1, 1, tzinfo=UTC)
    assert other.now() == datetime(2027, 1, 1, tzinfo=UTC)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"mode": "sideways"}, "mode"),
        ({"advance_seconds": "soon"}, "advance_seconds"),
        ({"advance_seconds": -5}, "advance_seconds"),
        ({"time": "yesterday"}, "time"),
        ({"time": "2026-01-01T00:00:00"}, "time"),
    ],
)
async def test_bad_clock_input_names_the_field(
    shared: tuple[Runtime, httpx.AsyncClient], body: dict[str, Any], field: str
) -> None:
    _, client = shared
    r = await client.put("/pinapi/clock/", json=body)
    assert r.status_code == 400
    assert r.json()["code"] == 1
    assert r.json()["param"] == field


async def test_controls_can_be_switched_off(settings: Settings) -> None:
    off = settings.model_copy(update={"controls": False})
    rt = Runtime.build(off)
    app: Any = create_app(runtime=rt, migrate=False, demo=False)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
            r = await c.get("/pinapi/clock/")
    await rt.close()
    assert r.status_code == 404 and r.json()["code"] == 11
