"""The route class every v3 router uses: envelope, unit of work and failures in one place.

A route function returns plain data (a dict, a list, a pydantic model or a ``Page``); this
class wraps it in the v3 envelope named after the route (the v3 ``endpoint_name``), commits
the request's session once after success, and turns failures into envelopes itself, so an
error never passes through a half-committed transaction.
"""

from __future__ import annotations

import functools
import inspect
import re
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter
from fastapi import routing as fastapi_routing
from fastapi.dependencies.models import Dependant
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
        route = _effective_route(self)
        plan = _direct_plan(route.dependant, route.body_field, route.dependency_overrides_provider)
        call = inner if plan is None else plan.bind(inner)

        async def handler(request: Request) -> Response:
            try:
                response = await call(request)
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


def _effective_route(route: APIRoute) -> Any:
    """The route as included (its dependant may carry the include's dependencies).

    FastAPI builds an included route's handler with the inclusion context set in a context
    variable (``APIRoute.get_route_handler`` reads it the same way).
    """
    var = getattr(fastapi_routing, "_effective_route_context_var", None)
    context = var.get() if var is not None else None
    if context is not None and getattr(context, "original_route", None) is route:
        return context
    return route


@dataclass(frozen=True, slots=True)
class _DirectPlan:
    """How to call an endpoint without FastAPI's dependency solver (see ``_direct_plan``).

    Routes of the v3 wire declare their auth as ``Depends(access(...))`` and often the
    request's session; both are async functions of the request alone, and the path
    parameters are plain strings. Resolving those directly gives the same values in the
    same order as the solver, at a fraction of its per-request cost (it reads the body,
    walks the dependency graph, validates each parameter through pydantic and keeps
    telemetry records), which on the hottest routes was a fifth of the CPU per request.
    """

    call: Callable[..., Awaitable[Response]]
    request_name: str | None
    path_names: tuple[str, ...]
    # (the endpoint's parameter or None, the callable, its request parameter or None, cached)
    dependencies: tuple[tuple[str | None, Callable[..., Awaitable[Any]], str | None, bool], ...]
    overrides: Any  # who may hold ``dependency_overrides`` (the app), or None

    def bind(
        self, solved: Callable[[Request], Coroutine[Any, Any, Response]]
    ) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        async def direct(request: Request) -> Response:
            if self.overrides is not None and getattr(self.overrides, "dependency_overrides", None):
                return await solved(request)  # a test swapped a dependency: let FastAPI apply it
            values: dict[str, Any] = {}
            cache: dict[Callable[..., Awaitable[Any]], Any] = {}
            for name, dep, request_name, cached in self.dependencies:
                if cached and dep in cache:
                    value = cache[dep]
                elif request_name is None:
                    value = cache[dep] = await dep()
                else:
                    value = cache[dep] = await dep(**{request_name: request})
                if name is not None:
                    values[name] = value
            params = request.path_params
            for name in self.path_names:
                values[name] = params[name]
            if self.request_name is not None:
                values[self.request_name] = request
            return await self.call(**values)

        return direct


def _request_only(dependant: Dependant) -> bool:
    """True when the dependant takes nothing but the request (or nothing at all)."""
    return not (
        dependant.query_params
        or dependant.header_params
        or dependant.cookie_params
        or dependant.body_params
        or dependant.websocket_param_name
        or dependant.http_connection_param_name
        or dependant.response_param_name
        or dependant.background_tasks_param_name
        or dependant.security_scopes_param_name
    )


def _direct_plan(dependant: Dependant, body_field: Any, overrides: Any) -> _DirectPlan | None:
    """A plan for endpoints whose inputs are only the request, plain ``str`` path parameters
    and async request-only dependencies; None (FastAPI solves it) for anything else."""
    if body_field is not None or dependant.call is None or not _request_only(dependant):
        return None
    if not inspect.iscoroutinefunction(dependant.call):
        return None
    path_names = []
    for field in dependant.path_params:
        info = field.field_info
        if info.annotation is not str or info.metadata or field.alias != field.name:
            return None  # conversions and constraints are pydantic's to apply
        path_names.append(field.name)
    deps = []
    for sub in dependant.dependencies:
        call = sub.call
        if (
            call is None
            or sub.dependencies
            or sub.path_params
            or not _request_only(sub)
            or not inspect.iscoroutinefunction(call)
            or sub.scope not in (None, "function")
        ):
            return None
        deps.append((sub.name, call, sub.request_param_name, sub.use_cache))
    return _DirectPlan(
        dependant.call, dependant.request_param_name, tuple(path_names), tuple(deps), overrides
    )


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

    _search_cache: tuple[tuple[str, ...] | None, Callable[[str], object] | None] = (None, None)

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        prefixes = self._static_prefixes()
        if prefixes is not None:
            # One compiled search for all the prefixes: the application asks every router
            # before the matching one, so this runs a dozen times a request.
            known, search = self._search_cache
            if known is not prefixes or search is None:
                search = re.compile("|".join(re.escape(p) for p in prefixes)).search
                self._search_cache = (prefixes, search)
            if search(scope.get("path", "")) is None:
                return Match.NONE, {}
        return super().matches(scope)


def _segments(route: Any) -> tuple[str | None, ...] | None:
    """A route's path as its literal segments (None where a parameter stands), or None
    when the route could match paths of any shape (a mount, a ``:path`` parameter, a
    segment mixing text and a parameter, an included router)."""
    path = getattr(route, "path", None)
    if not isinstance(route, APIRoute) or not isinstance(path, str):
        return None
    out: list[str | None] = []
    for part in path.split("/"):
        if "{" not in part:
            out.append(part)
        elif part.startswith("{") and part.endswith("}") and part.count("{") == 1 and ":" not in part:
            out.append(None)
        else:
            return None
    return tuple(out)


def _may_overlap(a: Any, b: Any) -> bool:
    """Whether some request path could match both routes, whatever their methods (a 405
    answer names the methods of the first route whose path matches, so order matters
    between routes of different methods too)."""
    sa, sb = _segments(a), _segments(b)
    if sa is None or sb is None:
        return True
    if len(sa) != len(sb):
        return False
    return all(x is None or y is None or x == y for x, y in zip(sa, sb, strict=True))


def hot_first(routers: Sequence[APIRouter], hot: Sequence[APIRouter]) -> list[APIRouter]:
    """``routers`` with those in ``hot`` moved to the front, in ``hot``'s order, wherever
    that cannot change which route serves a request.

    The application tries its routers in order, and each router it passes over costs a
    few microseconds of FastAPI's bookkeeping even when rejected at once (see
    ``V3Router``): the single-object reads of the ads API sat behind fifteen routers. A
    router only moves ahead of routers none of whose routes could match a path one of its
    routes matches, so the first matching route (and a 405's allowed methods) stays the
    same for every request; a router that cannot move keeps its place.
    """
    order = list(routers)
    placed = 0
    for router in hot:
        if router not in order:
            continue
        at = order.index(router)
        if at < placed:
            continue
        theirs = [route for other in order[placed:at] for route in other.routes]
        if any(_may_overlap(mine, other) for other in theirs for mine in router.routes):
            continue
        order.insert(placed, order.pop(at))
        placed += 1
    return order


def router(**kwargs: Any) -> APIRouter:
    return V3Router(route_class=V3Route, **kwargs)
