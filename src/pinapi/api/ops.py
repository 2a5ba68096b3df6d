"""Operational routes: liveness, readiness and the local API docs."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.openapi.docs import get_swagger_ui_html
from sqlalchemy import text
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from pinapi.api.common.context import get_runtime
from pinapi.api.common.envelope import JSONBody

router = APIRouter(tags=["ops"])


@router.get("/healthz", include_in_schema=False)
async def healthz() -> Response:
    return JSONBody({"status": "ok"})


@router.get("/readyz", include_in_schema=False)
async def readyz(request: Request) -> Response:
    runtime = get_runtime(request)
    try:
        async with runtime.engine.connect() as conn:
            await conn.execute(text("SELECT 1"))
    except Exception as exc:
        return JSONBody({"status": "unavailable", "database": type(exc).__name__}, status_code=503)
    return JSONBody({"status": "ok", "database": "ok"})


@router.get("/docs", include_in_schema=False)
async def docs() -> HTMLResponse:
    return get_swagger_ui_html(
        openapi_url="/openapi.json",
        title="pinapi — Pinterest Marketing API v3",
        swagger_js_url="/docs/static/swagger-ui-bundle.js",
        swagger_css_url="/docs/static/swagger-ui.css",
        swagger_favicon_url="/docs/static/favicon-32x32.png",
    )
