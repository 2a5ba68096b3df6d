"""One place that decides how every failure looks on the wire.

Domain errors carry their v3 code; the HTTP status comes from the v3 response-code table.
Router misses become code 11 (unknown route) or 5 (wrong method), FastAPI's own parameter
validation becomes code 1 naming the field, and anything unexpected becomes code 12 with the
request id logged and no internals in the body.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from pinapi.api.common.codes import http_status
from pinapi.api.common.envelope import JSONBody, failure_body
from pinapi.domain.errors import DomainError, Invalid, RateLimited

log = logging.getLogger("pinapi.errors")


def endpoint_name(request: Request) -> str:
    route = request.scope.get("route")
    return str(getattr(route, "name", None) or "unknown")


def _rate_headers(request: Request) -> dict[str, str]:
    state = request.scope.get("state", {}).get("ratelimit")
    if state is None:
        return {}
    return {k.decode(): v.decode() for k, v in state.headers()}


def domain_error_response(request: Request, exc: DomainError) -> Response:
    status = http_status(exc.code, exc.http_status)
    extra: dict[str, Any] = {}
    if isinstance(exc, Invalid):
        extra["param"] = exc.field
    headers = _rate_headers(request)
    if isinstance(exc, RateLimited):
        headers["retry-after"] = str(exc.reset_seconds)
    body = failure_body(code=exc.code, message=exc.message, endpoint_name=endpoint_name(request), extra=extra)
    return JSONBody(body, status_code=status, headers=headers)


def server_error_response(request: Request, exc: BaseException) -> Response:
    rid = request.scope.get("state", {}).get("rid", "-")
    log.error("unhandled error rid=%s path=%s", rid, request.url.path, exc_info=exc)
    body = failure_body(
        code=12,
        message="Something went wrong on our end. Sorry about that.",
        endpoint_name=endpoint_name(request),
        extra={"request_id": rid},
    )
    return JSONBody(body, status_code=500)


async def _http_exception(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    if exc.status_code == 405:
        body = failure_body(code=5, message="Method not allowed", endpoint_name=endpoint_name(request))
        return JSONBody(body, status_code=405, headers=dict(exc.headers or {}))
    if exc.status_code == 404:
        body = failure_body(code=11, message="API method not found.", endpoint_name="unknown")
        return JSONBody(body, status_code=404)
    body = failure_body(code=1, message=str(exc.detail), endpoint_name=endpoint_name(request))
    return JSONBody(body, status_code=exc.status_code)


async def _validation(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    first = exc.errors()[0] if exc.errors() else {"loc": ("body",), "msg": "invalid"}
    loc = [str(p) for p in first.get("loc", ()) if p not in ("query", "path", "body", "header", "form")]
    field = ".".join(loc) or "body"
    return domain_error_response(request, Invalid(field, str(first.get("msg", "invalid"))))


async def _domain(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, DomainError)
    return domain_error_response(request, exc)


async def _unexpected(request: Request, exc: Exception) -> Response:
    # Starlette calls this handler from its outermost middleware, outside ``RequestEdge``, so
    # the response would otherwise leave without its ``x-pinterest-rid`` header.
    response = server_error_response(request, exc)
    rid = request.scope.get("state", {}).get("rid")
    if rid:
        response.headers["x-pinterest-rid"] = rid
    return response


def install(app: FastAPI) -> None:
    app.add_exception_handler(HTTPException, _http_exception)
    app.add_exception_handler(RequestValidationError, _validation)
    app.add_exception_handler(DomainError, _domain)
    app.add_exception_handler(Exception, _unexpected)
