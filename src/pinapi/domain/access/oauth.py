"""OAuth 2.0 authorization-code and refresh grants, with v3's own shapes.

The consent page validates its request in two stages, as RFC 6749 §4.1.2.1 orders them:
problems with the client or its redirect URI are shown on an error page and never
redirected (the URI cannot be trusted yet); after that, a bad ``response_type`` is sent back
to the client as an error redirect. v3 departs from the RFC in one place: an unsupported
scope is an error page ("Something went wrong!"), not a redirect.

Codes are random (oauthlib's generator), stored as a SHA-256 digest, single-use (claimed
with one conditional UPDATE, so two concurrent exchanges cannot both win) and expire after
the configured TTL on the injected clock. Replaying a used code revokes the tokens issued
from it (RFC 6749 §4.1.2); see ``revoke_issued_from``.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from oauthlib.common import add_params_to_uri, generate_token
from oauthlib.oauth2.rfc6749 import errors as oauth_errors
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from pinapi.domain.access import apps, tokens
from pinapi.domain.access import scopes as scope_lib
from pinapi.domain.clock import Clock
from pinapi.domain.errors import AuthenticationFailed, DomainError, Invalid
from pinapi.store.tables import App, AuthCode, Token

CODE_LENGTH = 43  # about 256 bits from oauthlib's 62-character alphabet
MAX_STATE_LENGTH = 2000
SOMETHING_WRONG = "Something went wrong!"
NO_REDIRECT_URI = "This application has not registered a redirect URI"
REDIRECT_MISMATCH = "The provided redirect_uri does not match the registered redirect URI."
_TRUE = {"true", "1", "yes"}
_FALSE = {"false", "0", "no"}


class ConsentPageError(DomainError):
    """A bad authorization request shown as an HTML error page, never redirected."""

    code = 1
    http_status = 400

    def __init__(self, title: str, detail: str, *, code: int | None = None) -> None:
        self.title = title
        self.detail = detail
        super().__init__(f"{title} {detail}".strip(), code=code)


class ErrorRedirect(DomainError):
    """A bad authorization request whose redirect URI is trusted: answered by redirecting."""

    code = 281
    http_status = 400

    def __init__(self, location: str, message: str, *, code: int | None = None) -> None:
        self.location = location
        super().__init__(message, code=code)


class InvalidGrant(DomainError):
    code = 283
    http_status = 401
    default_message = "The authorization grant is invalid."

    def __init__(self, detail: str) -> None:
        super().__init__(f"The authorization grant is invalid: {detail}")


class CodeReused(InvalidGrant):
    """A used code came back: whoever holds it may have intercepted it."""

    def __init__(self, *, user_id: int, app_id: int, used_at: datetime) -> None:
        self.user_id = user_id
        self.app_id = app_id
        self.used_at = used_at
        super().__init__("the code has already been used; tokens issued from it are revoked.")


class InvalidScope(DomainError):
    code = 282
    http_status = 400

    def __init__(self, detail: str) -> None:
        super().__init__(f"Invalid scope: {detail}")


@dataclass(frozen=True)
class AuthorizationRequest:
    """A validated ``GET /oauth/`` request, ready for the consent screen."""

    app: App
    redirect_uri: str
    scopes: list[str]
    state: str | None
    refreshable: bool


def _parse_refreshable(raw: str | None) -> bool:
    """QS python sends ``True``/``False`` (``str(bool)``), node sends ``true``/``false``."""
    if raw is None or raw == "":
        return False
    text = raw.strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise ConsentPageError(SOMETHING_WRONG, "The refreshable parameter must be true or false.")


async def validate_authorization(
    session: AsyncSession,
    *,
    client_id: str | None,
    redirect_uri: str | None,
    response_type: str | None,
    scope: str | None,
    state: str | None,
    refreshable: str | None,
) -> AuthorizationRequest:
    """Check an authorization request; raise ``ConsentPageError`` or ``ErrorRedirect``."""
    if not client_id:
        raise ConsentPageError(SOMETHING_WRONG, "The request has no client_id.")
    app = await apps.get_app(session, int(client_id)) if client_id.isdigit() else None
    if app is None:
        raise ConsentPageError(SOMETHING_WRONG, "No application has this client_id.")
    registered = await apps.redirect_uris(session, app.id)
    if not registered:
        raise ConsentPageError(NO_REDIRECT_URI, "")
    if not redirect_uri or redirect_uri not in registered:
        raise ConsentPageError(REDIRECT_MISMATCH, "")
    if state is not None and len(state) > MAX_STATE_LENGTH:
        raise ConsentPageError(SOMETHING_WRONG, f"The state must be at most {MAX_STATE_LENGTH} characters.")
    if response_type != "code":
        error = (
            oauth_errors.InvalidRequestError(description="Missing response_type parameter.", state=state)
            if not response_type
            else oauth_errors.UnsupportedResponseTypeError(state=state)
        )
        raise ErrorRedirect(
            error.in_uri(redirect_uri), "Oauth unsupported response type", code=281 if response_type else 1
        )
    try:
        wanted = scope_lib.parse(scope or "")
    except scope_lib.UnknownScope as exc:
        raise ConsentPageError(
            SOMETHING_WRONG, f"The scope '{exc.scope}' is not supported.", code=282
        ) from exc
    # The v3 guide: without a scope list, the token gets every scope the app may request.
    return AuthorizationRequest(
        app=app,
        redirect_uri=redirect_uri,
        scopes=wanted or list(scope_lib.GRANULAR),
        state=state or None,
        refreshable=_parse_refreshable(refreshable),
    )


def describe(req: AuthorizationRequest) -> list[tuple[str, list[str]]]:
    """Each requested scope with its plain-words lines, for the consent screen."""
    return [(s, scope_lib.describe(s)) for s in req.scopes]


async def grant(
    session: AsyncSession, *, clock: Clock, ttl_seconds: int, req: AuthorizationRequest, user_id: int
) -> str:
    """The user allowed: record the grant, issue a code, return where to send the browser."""
    await tokens.record_grant(session, clock=clock, user_id=user_id, app_id=req.app.id, scopes=req.scopes)
    code = generate_token(CODE_LENGTH)
    session.add(
        AuthCode(
            code_hash=tokens.digest(code),
            app_id=req.app.id,
            user_id=user_id,
            redirect_uri=req.redirect_uri,
            scopes=scope_lib.join(req.scopes),
            refreshable=req.refreshable,
            expires_at=clock.now() + timedelta(seconds=ttl_seconds),
            used_at=None,
        )
    )
    await session.flush()
    params = [("code", code)]
    if req.state:
        params.append(("state", req.state))
    return str(add_params_to_uri(req.redirect_uri, params))


def deny_location(req: AuthorizationRequest) -> str:
    """The user denied: ``error=access_denied`` (and the state) back to the client."""
    return str(oauth_errors.AccessDeniedError(state=req.state).in_uri(req.redirect_uri))


async def authenticate_client(session: AsyncSession, *, client_id: str, client_secret: str) -> App:
    app = await apps.authenticate_client(session, client_id=client_id, client_secret=client_secret)
    if app is None:
        raise AuthenticationFailed("Authentication failed: unknown client_id or wrong client_secret.")
    return app


async def exchange_code(
    session: AsyncSession, *, clock: Clock, app: App, code: str, redirect_uri: str
) -> tokens.IssuedTokens:
    """Trade a code for tokens once; the redirect URI must be the one the code was sent to."""
    row = await session.get(AuthCode, tokens.digest(code))
    if row is None or row.app_id != app.id:
        raise InvalidGrant("the code is unknown.")
    now = clock.now()
    if row.used_at is not None:
        raise CodeReused(user_id=row.user_id, app_id=row.app_id, used_at=row.used_at)
    if row.expires_at <= now:
        raise InvalidGrant("the code has expired.")
    if row.redirect_uri != redirect_uri:
        raise InvalidGrant("redirect_uri does not match the one the code was issued for.")
    claimed = await session.execute(
        update(AuthCode)
        .where(AuthCode.code_hash == row.code_hash, AuthCode.used_at.is_(None))
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    )
    if int(getattr(claimed, "rowcount", 0) or 0) != 1:
        raise InvalidGrant("the code has already been used.")
    return await tokens.issue(
        session,
        clock=clock,
        user_id=row.user_id,
        app_id=app.id,
        scopes=scope_lib.parse(row.scopes),
        refreshable=row.refreshable,
    )


async def refresh(
    session: AsyncSession, *, clock: Clock, app: App, refresh_token: str, scope: str | None
) -> tokens.IssuedTokens:
    """A new access token from a refresh token, which keeps working (it is not rotated).

    An optional ``scope`` narrows the new token; it may not widen what was granted.
    """
    row = await tokens.find_refresh(session, raw=refresh_token, app_id=app.id)
    if row is None:
        raise InvalidGrant("the refresh token is unknown or revoked.")
    original = scope_lib.parse(row.scopes)
    wanted = original
    if scope:
        try:
            wanted = scope_lib.parse(scope)
        except scope_lib.UnknownScope as exc:
            raise InvalidScope(f"'{exc.scope}' is not a scope.") from exc
        extra = scope_lib.expand(wanted) - scope_lib.expand(original)
        if extra:
            raise InvalidScope(f"{', '.join(sorted(extra))} was not granted to this refresh token.")
    issued = await tokens.issue(
        session,
        clock=clock,
        user_id=row.user_id,
        app_id=app.id,
        scopes=wanted,
        refreshable=True,
        refresh_id=row.id,
    )
    return replace(issued, refresh_token=refresh_token)


async def revoke_issued_from(session: AsyncSession, *, clock: Clock, reused: CodeReused) -> int:
    """Revoke what a replayed code produced: the user's tokens for that app since its use.

    Tokens do not record the code they came from, so this takes every token of the user
    and app created at or after the code was first exchanged (that exchange, its refreshes,
    and any later grant to the same app); the user signs in again.
    """
    result = await session.execute(
        update(Token)
        .where(
            Token.user_id == reused.user_id,
            Token.app_id == reused.app_id,
            Token.created_at >= reused.used_at,
            Token.revoked_at.is_(None),
        )
        .values(revoked_at=clock.now())
        .execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0) or 0)


def scope_string(granted: list[str]) -> str:
    """Everything granted, as granular scopes in a stable order (composites expanded)."""
    out: list[str] = []
    for s in granted:
        for g in scope_lib.COMPOSITE.get(s, (s,)):
            if g not in out:
                out.append(g)
    return scope_lib.join(out)


def parse_grant_type(raw: str | None) -> str:
    if not raw:
        raise Invalid("grant_type", "is required")
    if raw not in ("authorization_code", "refresh_token"):
        raise Invalid("grant_type", "must be authorization_code or refresh_token")
    return raw
