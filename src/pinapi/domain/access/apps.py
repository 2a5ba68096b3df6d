"""OAuth client applications and their registered redirect URIs.

An app secret is never stored. It is derived as HMAC(instance key, app id + nonce): the
store keeps the nonce and an Argon2 hash (checked on token exchange), and the server can
re-derive the secret to verify signed requests (client authorization), which need the key
itself. Changing ``PINAPI_SECRET_KEY`` therefore invalidates every app secret.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from pinapi.domain.access import passwords
from pinapi.domain.clock import Clock
from pinapi.domain.errors import Invalid
from pinapi.store.tables import App, AppRedirectUri


@dataclass(frozen=True)
class CreatedApp:
    app: App
    secret: str
    redirect_uris: list[str]


def _check_redirect_uri(uri: str) -> None:
    parts = urlsplit(uri)
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.fragment:
        raise Invalid("redirect_uri", f"'{uri}' must be an absolute http(s) URL without a fragment")


def derive_secret(instance_key: str, app_id: int, nonce: str) -> str:
    mac = hmac.new(instance_key.encode(), f"app-secret:{app_id}:{nonce}".encode(), hashlib.sha256)
    return base64.urlsafe_b64encode(mac.digest()).rstrip(b"=").decode()


async def create_app(
    session: AsyncSession,
    *,
    clock: Clock,
    instance_key: str,
    name: str,
    redirect_uris: list[str],
    owner_user_id: int | None = None,
) -> CreatedApp:
    if not name.strip():
        raise Invalid("name", "must not be empty")
    for uri in redirect_uris:
        _check_redirect_uri(uri)
    app = App(
        name=name.strip(),
        secret_hash="",
        secret_nonce=secrets.token_hex(16),
        owner_user_id=owner_user_id,
        created_at=clock.now(),
    )
    session.add(app)
    await session.flush()
    secret = derive_secret(instance_key, app.id, app.secret_nonce)
    app.secret_hash = passwords.hash_secret(secret)
    unique = list(dict.fromkeys(redirect_uris))
    session.add_all([AppRedirectUri(app_id=app.id, uri=u) for u in unique])
    await session.flush()
    return CreatedApp(app=app, secret=secret, redirect_uris=unique)


async def get_app(session: AsyncSession, app_id: int) -> App | None:
    if not 0 < app_id < 2**63:  # ids are 63-bit; larger numbers cannot name an app
        return None
    return await session.get(App, app_id)


async def redirect_uris(session: AsyncSession, app_id: int) -> list[str]:
    rows = await session.scalars(select(AppRedirectUri.uri).where(AppRedirectUri.app_id == app_id))
    return list(rows)


async def authenticate_client(session: AsyncSession, *, client_id: str, client_secret: str) -> App | None:
    if not client_id.isdigit() or int(client_id) >= 2**63:
        return None
    app = await session.get(App, int(client_id))
    if app is None:
        return None
    # Argon2 takes a few hundred milliseconds of CPU: keep it off the event loop.
    if not await asyncio.to_thread(passwords.verify_secret, app.secret_hash, client_secret):
        return None
    return app


async def first_app(session: AsyncSession) -> App | None:
    return await session.scalar(select(App).order_by(App.id).limit(1))
