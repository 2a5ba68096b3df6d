"""The route class every v3 router uses: envelope, unit of work and failures in one place.

A route function returns plain data (a dict, a list, a pydantic model or a ``Page``); this
class wraps it in the v3 envelope named after the route (the v3 ``endpoint_name``), commits
the request's session once after success, and turns failures into envelopes itself, so an
error never passes through a half-committed transaction.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

from fastapi import APIRouter
from fastapi.routing import APIRoute
from starlette.requests import Request
from starlette.responses import Response

from pinapi.api.common.context import finish_session
from pinapi.api.common.envelope import JSONBody, Page, success_body
from pinapi.api.common.errors import domain_error_response, server_error_response
from pinapi.domain.errors import DomainError


def _envelope(endpoint: Callable[..., Awaitable[Any]], name: str) -> Callable[..., Awaitable[Response]]:
    @functools.wraps(endpoint)
    async def enveloped(*args: Any, **kwargs: Any) -> Response:
        result = await endpoint(*args, **kwargs)
        if isinstance(result, Response):
            return result
        if isinstance(result, Page):
            return JSONBody(success_body(result.items, endpoint_name=name, bookmark=result.bookmark))
        return JSONBody(success_body(result, endpoint_name=name))

    return enveloped


class V3Route(APIRoute):
    def __init__(self, path: str, endpoint: Callable[..., Any], **kwargs: Any) -> None:
        name = kwargs.get("name") or endpoint.__name__
        kwargs["name"] = name
        kwargs["response_model"] = None
        kwargs.setdefault("response_class", JSONBody)
        super().__init__(path, _envelope(endpoint, name), **kwargs)

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        inner = super().get_route_handler()

        async def handler(request: Request) -> Response:
            try:
                response = await inner(request)
                await finish_session(request, commit=True)
            except DomainError as exc:
                await finish_session(request, commit=False)
                return domain_error_response(request, exc)
            except Exception as exc:
                await finish_session(request, commit=False)
                if _is_framework_error(exc):
                    raise
                return server_error_response(request, exc)
            state = request.scope.get("state", {}).get("ratelimit")
            if state is not None:
                response.raw_headers.extend(state.headers())
            return response

        return handler


def _is_framework_error(exc: Exception) -> bool:
    from fastapi.exceptions import RequestValidationError
    from starlette.exceptions import HTTPException

    return isinstance(exc, (RequestValidationError, HTTPException))


def router(**kwargs: Any) -> APIRouter:
    return APIRouter(route_class=V3Route, **kwargs)
