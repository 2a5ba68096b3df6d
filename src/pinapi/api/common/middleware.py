"""Pure ASGI middleware: request ids and trailing-slash normalisation.

Both are plain ASGI classes (not ``BaseHTTPMiddleware``) so they add no task hop and state
set inside a route stays visible to them.
"""

from __future__ import annotations

import secrets

from starlette.types import ASGIApp, Message, Receive, Scope, Send

API_PREFIXES = ("/v3/", "/ads/", "/oauth", "/pinapi/")


class RequestId:
    """Gives every request an id, exposed as ``x-pinterest-rid`` and logged with 500s."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        rid = secrets.token_hex(8)
        scope.setdefault("state", {})["rid"] = rid
        header = (b"x-pinterest-rid", rid.encode())

        async def send_with_rid(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), header]
            await send(message)

        await self.app(scope, receive, send_with_rid)


class TrailingSlash:
    """Serves ``/v3/x`` exactly as ``/v3/x/``: v3 clients send both and refuse redirects."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            path: str = scope["path"]
            if not path.endswith("/") and path.startswith(API_PREFIXES):
                scope = dict(scope)
                scope["path"] = path + "/"
                raw = scope.get("raw_path")
                if raw:
                    scope["raw_path"] = raw + b"/"
        await self.app(scope, receive, send)
