"""Authentication, scopes and rate limits as one route dependency.

``access("read_users")`` resolves the caller from ``Authorization: Bearer`` or
``?access_token=`` (verified tokens come from an in-process cache, so the hot path does no
database round trip), counts the call against the caller's rate-limit category, then checks
the route's scopes. Routes that allow client authorization accept a signed request instead of
a token and receive a principal without a user.
"""

from __future__ import annotations

import asyncio
import functools
import time
from collections.abc import Awaitable, Callable

from starlette.requests import Request

from pinapi.api.common.context import get_runtime
from pinapi.api.common.ratelimit import Category
from pinapi.domain.access import apps, signing, tokens
from pinapi.domain.access.principal import Principal
from pinapi.domain.errors import AuthenticationFailed, AuthorizationFailed, RateLimited
from pinapi.runtime import Runtime
from pinapi.store.db import read_only


def bearer_token(request: Request) -> str | None:
    header = request.headers.get("authorization")
    if header:
        scheme, _, value = header.partition(" ")
        if scheme.lower() == "bearer" and value.strip() and value.strip() != "0":
            return value.strip()
    token = request.query_params.get("access_token")
    return token or None


def default_category(request: Request) -> Category:
    # The raw scope, not ``request.url``: building a URL object costs more than this check.
    if request.scope["path"].startswith("/ads/"):
        return Category.READ if request.scope["method"] == "GET" else Category.WRITE
    return Category.ORGANIC


async def authenticate(request: Request, *, allow_client: bool = False) -> Principal:
    runtime = get_runtime(request)
    raw = bearer_token(request)
    if raw is None:
        if allow_client and "oauth_signature" in request.query_params:
            return await _verify_signature(request)
        raise AuthorizationFailed("Authorization failed: no access token was sent.")
    cached = runtime.token_cache.get(raw)
    if cached is not None:
        return cached
    pending = runtime.token_checks.get(raw)
    if pending is None:
        # One lookup per token however many requests miss the cache at once: when a busy
        # token's cache entry expires, every in-flight request of that client misses it
        # together, and 32 parallel lookups would stall them all (the p99 of the bench).
        pending = asyncio.ensure_future(_verify_token(runtime, raw))
        runtime.token_checks[raw] = pending
        pending.add_done_callback(functools.partial(_forget_check, runtime.token_checks, raw))
    return await asyncio.shield(pending)


async def _verify_token(runtime: Runtime, raw: str) -> Principal:
    async with runtime.sessions() as session:
        await read_only(session)
        principal = await tokens.verify(session, clock=runtime.clock, raw=raw)
    runtime.token_cache.put(raw, principal)
    return principal


def _forget_check(
    checks: dict[str, asyncio.Future[Principal]], raw: str, done: asyncio.Future[Principal]
) -> None:
    checks.pop(raw, None)
    if not done.cancelled():
        done.exception()  # retrieved here, so a check whose waiters all left logs nothing


async def _verify_signature(request: Request) -> Principal:
    runtime = get_runtime(request)
    q = request.query_params
    client_id, stamp, given = q.get("client_id", ""), q.get("timestamp", ""), q.get("oauth_signature", "")
    # Ids are 63-bit: a longer number would overflow the database driver (a 500, not a 401).
    valid_id = client_id.isascii() and client_id.isdigit() and len(client_id) <= 19 and int(client_id) < 2**63
    if not valid_id or not stamp:
        raise AuthenticationFailed("Authentication failed: client_id and timestamp are required.")
    if not signing.is_fresh(stamp, time.time(), runtime.settings.signature_window_seconds):
        raise AuthenticationFailed("Authentication failed: the request timestamp is stale.")
    async with runtime.sessions() as session:
        await read_only(session)
        app = await apps.get_app(session, int(client_id))
    if app is None:
        raise AuthenticationFailed()
    secret = apps.derive_secret(runtime.instance_key, app.id, app.secret_nonce)
    url = f"{runtime.settings.base_url()}{request.scope.get('root_path', '')}{request.url.path}"
    expected = signing.sign(secret, request.method, url, q.multi_items())
    # The path as the client wrote it may lack the trailing slash we normalised in.
    alt = signing.sign(secret, request.method, url.rstrip("/"), q.multi_items())
    if not (signing.matches(expected, given) or signing.matches(alt, given)):
        raise AuthenticationFailed("Authentication failed: bad request signature.")
    return Principal(user_id=None, app_id=app.id, scopes=frozenset())


def access(
    *scopes: str, category: Category | None = None, allow_client: bool = False
) -> Callable[[Request], Awaitable[Principal]]:
    """A dependency giving the authenticated principal of a route that needs ``scopes``."""

    async def dependency(request: Request) -> Principal:
        principal = await authenticate(request, allow_client=allow_client)
        runtime = get_runtime(request)
        state = await runtime.limiter.hit(
            category or default_category(request), f"{principal.app_id}:{principal.user_id or 0}"
        )
        request.scope.setdefault("state", {})["ratelimit"] = state
        if not state.allowed:
            raise RateLimited(limit=state.limit, reset_seconds=state.reset_seconds)
        if principal.is_client:
            return principal
        missing = [s for s in scopes if s not in principal.scopes]
        if missing:
            raise AuthorizationFailed(
                f"Authorization failed: this call needs the scope {', '.join(missing)}."
            )
        return principal

    dependency.scopes = scopes  # type: ignore[attr-defined]
    dependency.__name__ = f"access_{'_'.join(scopes) or 'any'}"
    return dependency
