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
from starlette.routing import Match
from starlette.types import Scope

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
            finally:
                # Uploads parsed by ``read_params`` (not by FastAPI) are ours to close.
                await request.close()
            state = request.scope.get("state", {}).get("ratelimit")
            if state is not None:
                response.raw_headers.extend(state.headers())
            return response

        return handler


def _is_framework_error(exc: Exception) -> bool:
    from fastapi.exceptions import RequestValidationError
    from starlette.exceptions import HTTPException

    return isinstance(exc, (RequestValidationError, HTTPException))


class V3Router(APIRouter):
    """An APIRouter that rejects, in one pass over its literal path prefixes, a request
    none of its routes can match.

    The application tries its routers in order and FastAPI matches each route's regular
    expression in turn, so without this a request for a route of the last router pays for
    a failed match against every route before it (about 3 us each: a quarter of a
    millisecond with 80 routes). A route's path can only match a request path that
    contains the route's literal text before its first parameter, so rejecting a router
    when no such prefix occurs in the path never loses a match (nor a 405 partial match).
    """

    _prefix_cache: tuple[int, tuple[str, ...] | None] = (-1, None)

    def _static_prefixes(self) -> tuple[str, ...] | None:
        """The routes' literal prefixes; None when some route could match anything."""
        count, prefixes = self._prefix_cache
        if count == len(self.routes):
            return prefixes
        found: set[str] = set()
        result: tuple[str, ...] | None = None
        for route in self.routes:
            path = getattr(route, "path", None)
            if not isinstance(route, APIRoute) or not isinstance(path, str):
                break
            head = path.split("{", 1)[0]
            if not head.strip("/"):
                break
            found.add(head)
        else:
            # Shortest first, and drop prefixes another one already covers.
            ordered = sorted(found, key=len)
            result = tuple(p for i, p in enumerate(ordered) if not any(q in p for q in ordered[:i]))
        self._prefix_cache = (len(self.routes), result)
        return result

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        prefixes = self._static_prefixes()
        if prefixes is not None:
            path = scope.get("path", "")
            if not any(prefix in path for prefix in prefixes):
                return Match.NONE, {}
        return super().matches(scope)


def router(**kwargs: Any) -> APIRouter:
    return V3Router(route_class=V3Route, **kwargs)
