"""The OAuth dialog: ``GET /oauth/`` (sign-in form, then consent) and its form posts.

These are pages for people, not API calls: they answer HTML, keep the sign-in state in a
signed cookie (``console/session.py``) and protect every form with a CSRF token bound to
that cookie. Errors about the client or its redirect URI are error pages and never
redirect; see ``domain/access/oauth.py`` for the order of the checks.
"""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode

from fastapi import APIRouter
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from pinapi.api.common.context import get_runtime
from pinapi.api.common.params import read_params
from pinapi.console import pages
from pinapi.console.session import (
    COOKIE_NAME,
    COOKIE_PATH,
    MAX_AGE_SECONDS,
    ConsoleSession,
    SessionCodec,
    anonymous,
    stamp,
)
from pinapi.domain.access import oauth, users
from pinapi.domain.access.oauth import AuthorizationRequest, ConsentPageError, ErrorRedirect
from pinapi.runtime import Runtime
from pinapi.store.tables import User

router = APIRouter(tags=["oauth"])

# The pages load nothing from elsewhere and may not be framed (clickjacking on "Allow").
_HEADERS = {
    "cache-control": "no-store",
    "x-frame-options": "DENY",
    "referrer-policy": "no-referrer",
    "content-security-policy": (
        "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'"
    ),
}
_FORM_EXPIRED = "Your form has expired. Go back to the application and start again."


def _page(html: str, status: int = 200) -> HTMLResponse:
    return HTMLResponse(html, status_code=status, headers=_HEADERS)


def _error_page(exc: ConsentPageError) -> HTMLResponse:
    return _page(pages.render("error.html", title=exc.title, detail=exc.detail), exc.http_status)


def _redirect(location: str, status: int) -> RedirectResponse:
    return RedirectResponse(location, status_code=status, headers={"cache-control": "no-store"})


def _read_cookie(request: Request, runtime: Runtime) -> ConsoleSession | None:
    codec = SessionCodec(runtime.instance_key)
    return codec.loads(request.cookies.get(COOKIE_NAME), runtime.clock.now())


def _with_cookie(response: Response, runtime: Runtime, session: ConsoleSession) -> Response:
    response.set_cookie(
        COOKIE_NAME,
        SessionCodec(runtime.instance_key).dumps(session),
        max_age=MAX_AGE_SECONDS,
        path=COOKIE_PATH,
        httponly=True,
        samesite="lax",
        secure=runtime.settings.base_url().startswith("https://"),
    )
    return response


async def _signed_in_user(db: AsyncSession, session: ConsoleSession | None) -> User | None:
    """The cookie's user, unless the password changed since (that signs the browser out)."""
    if session is None or session.user_id is None:
        return None
    user = await users.get_user(db, session.user_id)
    if user is None or stamp(user.password_hash) != session.password_stamp:
        return None
    return user


async def _validate(db: AsyncSession, values: dict[str, str]) -> AuthorizationRequest:
    return await oauth.validate_authorization(
        db,
        client_id=values.get("client_id") or values.get("consumer_id"),
        redirect_uri=values.get("redirect_uri"),
        response_type=values.get("response_type"),
        scope=values.get("scope"),
        state=values.get("state"),
        refreshable=values.get("refreshable"),
    )


def _request_fields(req: AuthorizationRequest) -> list[tuple[str, str]]:
    """The normalised authorization request, carried by the consent forms."""
    fields = [
        ("client_id", str(req.app.id)),
        ("redirect_uri", req.redirect_uri),
        ("response_type", "code"),
        ("scope", ",".join(req.scopes)),
        ("refreshable", "true" if req.refreshable else "false"),
    ]
    if req.state:
        fields.append(("state", req.state))
    return fields


def _signin_page(
    req: AuthorizationRequest, session: ConsoleSession, *, error: str = "", username: str = "", status: int
) -> HTMLResponse:
    html = pages.render(
        "signin.html",
        app_name=req.app.name,
        csrf=session.csrf,
        next=urlencode(_request_fields(req)),
        error=error,
        username=username,
    )
    return _page(html, status)


@router.get("/oauth/", response_class=HTMLResponse)
async def oauth_authorize(request: Request) -> Response:
    """The dialog: validate the request, then sign in or show the consent screen."""
    runtime = get_runtime(request)
    values = dict(request.query_params)
    async with runtime.sessions() as db:
        try:
            req = await _validate(db, values)
        except ConsentPageError as exc:
            return _error_page(exc)
        except ErrorRedirect as exc:
            return _redirect(exc.location, 302)
        session = _read_cookie(request, runtime)
        user = await _signed_in_user(db, session)
    if session is None or user is None:
        session = session.signed_out() if session else anonymous(runtime.clock.now())
        response: Response = _signin_page(req, session, status=200)
        return _with_cookie(response, runtime, session)
    html = pages.render(
        "consent.html",
        app_name=req.app.name,
        username=user.username,
        scopes=oauth.describe(req),
        fields=_request_fields(req),
        csrf=session.csrf,
        next=urlencode(_request_fields(req)),
        redirect_uri=req.redirect_uri,
    )
    return _page(html)


async def _form(request: Request) -> dict[str, str]:
    """The posted form as plain strings (a repeated or non-text field is ignored)."""
    params = await read_params(request)
    out: dict[str, str] = {}
    for key in params.values:
        value = params.raw(key)
        if isinstance(value, str):
            out[key] = value
    return out


@router.post("/oauth/login/", include_in_schema=False)
async def oauth_login(request: Request) -> Response:
    """Check the credentials; on success sign the browser in and return to the dialog."""
    runtime = get_runtime(request)
    form = await _form(request)
    session = _read_cookie(request, runtime)
    if session is None or not session.csrf_matches(form.get("csrf_token")):
        return _error_page(ConsentPageError(oauth.SOMETHING_WRONG, _FORM_EXPIRED))
    nxt = form.get("next", "")
    async with runtime.sessions() as db:
        try:
            req = await _validate(db, dict(parse_qsl(nxt)))
        except ConsentPageError as exc:
            return _error_page(exc)
        except ErrorRedirect as exc:
            return _redirect(exc.location, 303)
        username = form.get("username", "").strip()
        user = await users.authenticate(db, username=username, password=form.get("password", ""))
    if user is None:
        error = "The username or password you entered is incorrect."
        return _signin_page(req, session, error=error, username=username, status=401)
    fresh = session.signed_in(user.id, user.password_hash, runtime.clock.now())
    return _with_cookie(_redirect(f"/oauth/?{urlencode(_request_fields(req))}", 303), runtime, fresh)


@router.post("/oauth/logout/", include_in_schema=False)
async def oauth_logout(request: Request) -> Response:
    """Sign the browser out and return to the dialog (the "Not you?" link)."""
    runtime = get_runtime(request)
    form = await _form(request)
    session = _read_cookie(request, runtime)
    if session is None or not session.csrf_matches(form.get("csrf_token")):
        return _error_page(ConsentPageError(oauth.SOMETHING_WRONG, _FORM_EXPIRED))
    query = urlencode(parse_qsl(form.get("next", "")))
    return _with_cookie(_redirect(f"/oauth/?{query}", 303), runtime, session.signed_out())


@router.post("/oauth/consent/", include_in_schema=False)
async def oauth_consent(request: Request) -> Response:
    """Allow: record the grant and redirect with a code. Deny: redirect with access_denied."""
    runtime = get_runtime(request)
    form = await _form(request)
    session = _read_cookie(request, runtime)
    if session is None or not session.csrf_matches(form.get("csrf_token")):
        return _error_page(ConsentPageError(oauth.SOMETHING_WRONG, _FORM_EXPIRED))
    decision = form.get("decision")
    if decision not in ("allow", "deny"):
        return _error_page(ConsentPageError(oauth.SOMETHING_WRONG, "Choose Allow or Deny."))
    async with runtime.sessions() as db, db.begin():
        try:
            req = await _validate(db, form)
        except ConsentPageError as exc:
            return _error_page(exc)
        except ErrorRedirect as exc:
            return _redirect(exc.location, 302)
        user = await _signed_in_user(db, session)
        if user is None:
            # Signed out meanwhile (or the password changed): sign in again first.
            return _redirect(f"/oauth/?{urlencode(_request_fields(req))}", 303)
        if decision == "deny":
            return _redirect(oauth.deny_location(req), 302)
        location = await oauth.grant(
            db,
            clock=runtime.clock,
            ttl_seconds=runtime.settings.auth_code_ttl_seconds,
            req=req,
            user_id=user.id,
        )
    return _redirect(location, 302)
