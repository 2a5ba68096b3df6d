"""The token exchange: ``PUT /v3/oauth/access_token/`` (POST accepted too).

Clients send their credentials as HTTP Basic (recommended by the v3 guide) or as
``client_id``/``client_secret`` body parameters, sometimes beside a bogus
``Authorization: Bearer 0`` header (the PHP client); bodies come as forms or JSON. v3
clients read ``access_token``, ``scope`` and ``status`` at the top level and the token
object under ``data``, so the answer carries both.
"""

from __future__ import annotations

import base64
import binascii
from typing import Any

from fastapi import Depends
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request
from starlette.responses import Response

from pinapi.api.common.context import get_runtime, get_session
from pinapi.api.common.envelope import JSONBody, success_body
from pinapi.api.common.params import Params, read_params
from pinapi.api.common.routing import router as make_router
from pinapi.domain.access import oauth
from pinapi.domain.access.tokens import IssuedTokens
from pinapi.domain.errors import AuthenticationFailed

router = make_router(tags=["oauth"])
ENDPOINT_NAME = "v3_oauth_access_token_handler"


def client_credentials(request: Request, params: Params) -> tuple[str, str]:
    """``(client_id, client_secret)`` from Basic auth, else from the body."""
    body_id = params.text("client_id") or params.text("consumer_id")
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "basic":
        try:
            decoded = base64.b64decode(value.strip(), validate=True).decode()
        except (binascii.Error, UnicodeDecodeError) as exc:
            raise AuthenticationFailed("Authentication failed: malformed Basic credentials.") from exc
        client_id, sep, secret = decoded.partition(":")
        if not sep:
            raise AuthenticationFailed("Authentication failed: malformed Basic credentials.")
        if body_id and body_id != client_id:
            raise AuthenticationFailed("Authentication failed: client_id differs from the Basic credentials.")
        return client_id, secret
    body_secret = params.text("client_secret")
    if not body_id or not body_secret:
        raise AuthenticationFailed(
            "Authentication failed: send the app id and secret as Basic auth "
            "or as client_id and client_secret."
        )
    return body_id, body_secret


def token_body(issued: IssuedTokens, *, app_id: int) -> dict[str, Any]:
    scope = oauth.scope_string(issued.granted_scopes)
    data: dict[str, Any] = {
        "access_token": issued.access_token,
        "token_type": "bearer",
        "expires_at": 0,
        "consumer_id": str(app_id),
        "authorized": True,
        "scope": scope,
    }
    if issued.refresh_token:
        data["refresh_token"] = issued.refresh_token
    body = success_body(data, endpoint_name=ENDPOINT_NAME)
    body["access_token"] = issued.access_token
    body["scope"] = scope
    return body


@router.put("/v3/oauth/access_token/", operation_id=f"{ENDPOINT_NAME}_PUT")
@router.post("/v3/oauth/access_token/", operation_id=f"{ENDPOINT_NAME}_POST")
async def v3_oauth_access_token_handler(
    request: Request, session: AsyncSession = Depends(get_session)
) -> Response:
    runtime = get_runtime(request)
    params = await read_params(request)
    client_id, client_secret = client_credentials(request, params)
    app = await oauth.authenticate_client(session, client_id=client_id, client_secret=client_secret)
    grant_type = oauth.parse_grant_type(params.text("grant_type"))
    if grant_type == "refresh_token":
        issued = await oauth.refresh(
            session,
            clock=runtime.clock,
            app=app,
            refresh_token=params.req_text("refresh_token"),
            scope=params.text("scope"),
        )
    else:
        code, redirect_uri = params.req_text("code"), params.req_text("redirect_uri")
        try:
            issued = await oauth.exchange_code(
                session, clock=runtime.clock, app=app, code=code, redirect_uri=redirect_uri
            )
        except oauth.CodeReused as exc:
            # This request's unit of work rolls back with the error; the revocation must stay.
            # Roll back first: its transaction may hold SQLite's write lock, which the
            # revoking transaction would otherwise wait on forever.
            await session.rollback()
            async with runtime.sessions() as revoking, revoking.begin():
                await oauth.revoke_issued_from(revoking, clock=runtime.clock, reused=exc)
            runtime.token_cache.invalidate_user(exc.user_id)
            raise
    return JSONBody(token_body(issued, app_id=app.id))
