"""Access and refresh tokens: issue, verify, revoke.

Tokens are 256-bit random strings; only their SHA-256 digest is stored, which is enough for
secrets of that entropy and keeps verification to one indexed lookup. Verified tokens are
cached in-process for a few seconds (``TokenCache``) so the hot path does no database round
trip; revocation clears this process's cache at once and other processes within the TTL.
"""

from __future__ import annotations

import hashlib
import secrets
import time
from collections import OrderedDict
from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from pinapi.domain.access import scopes as scope_lib
from pinapi.domain.access.principal import Principal
from pinapi.domain.clock import Clock
from pinapi.domain.errors import AuthenticationFailed
from pinapi.store.tables import Grant, Token


def digest(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def new_secret(prefix: str) -> str:
    return prefix + secrets.token_urlsafe(32)


@dataclass(frozen=True)
class IssuedTokens:
    access_token: str
    refresh_token: str | None
    scopes: list[str]
    granted_scopes: list[str]


async def record_grant(
    session: AsyncSession, *, clock: Clock, user_id: int, app_id: int, scopes: list[str]
) -> list[str]:
    """Add ``scopes`` to what the user has granted the app; returns the union, in order."""
    grant = await session.get(Grant, (user_id, app_id))
    now = clock.now()
    if grant is None:
        grant = Grant(user_id=user_id, app_id=app_id, scopes=scope_lib.join(scopes), updated_at=now)
        session.add(grant)
        return list(scopes)
    union = list(dict.fromkeys([*scope_lib.parse(grant.scopes), *scopes]))
    grant.scopes = scope_lib.join(union)
    grant.updated_at = now
    return union


async def granted_scopes(session: AsyncSession, *, user_id: int, app_id: int) -> list[str]:
    grant = await session.get(Grant, (user_id, app_id))
    return scope_lib.parse(grant.scopes) if grant else []


async def issue(
    session: AsyncSession,
    *,
    clock: Clock,
    user_id: int,
    app_id: int,
    scopes: list[str],
    refreshable: bool,
    refresh_id: int | None = None,
) -> IssuedTokens:
    """Create an access token (and a refresh token when asked) for the given scopes."""
    now = clock.now()
    access = new_secret("pina_")
    refresh: str | None = None
    if refreshable and refresh_id is None:
        refresh = new_secret("pinr_")
        row = Token(
            token_hash=digest(refresh),
            kind="refresh",
            user_id=user_id,
            app_id=app_id,
            scopes=scope_lib.join(scopes),
            created_at=now,
        )
        session.add(row)
        await session.flush()
        refresh_id = row.id
    session.add(
        Token(
            token_hash=digest(access),
            kind="access",
            user_id=user_id,
            app_id=app_id,
            scopes=scope_lib.join(scopes),
            refresh_id=refresh_id,
            created_at=now,
        )
    )
    await session.flush()
    granted = await granted_scopes(session, user_id=user_id, app_id=app_id)
    return IssuedTokens(access, refresh, list(scopes), granted or list(scopes))


async def find_refresh(session: AsyncSession, *, raw: str, app_id: int) -> Token | None:
    row = await session.scalar(select(Token).where(Token.token_hash == digest(raw)))
    if row is None or row.kind != "refresh" or row.app_id != app_id or row.revoked_at is not None:
        return None
    return row


async def verify(session: AsyncSession, *, clock: Clock, raw: str) -> Principal:
    row = await session.scalar(select(Token).where(Token.token_hash == digest(raw)))
    if row is None or row.kind != "access" or row.revoked_at is not None:
        raise AuthenticationFailed()
    if row.expires_at is not None and row.expires_at <= clock.now():
        raise AuthenticationFailed()
    granted = scope_lib.expand(scope_lib.parse(row.scopes))
    return Principal(user_id=row.user_id, app_id=row.app_id, scopes=granted, token_id=row.id)


async def revoke_for_user(session: AsyncSession, *, clock: Clock, user_id: int) -> None:
    await session.execute(
        update(Token)
        .where(Token.user_id == user_id, Token.revoked_at.is_(None))
        .values(revoked_at=clock.now())
    )


class TokenCache:
    """A small LRU of verified tokens with a short time to live."""

    def __init__(self, ttl_seconds: float, max_entries: int = 10_000) -> None:
        self.ttl = ttl_seconds
        self.max_entries = max_entries
        self._items: OrderedDict[str, tuple[float, Principal]] = OrderedDict()

    def get(self, raw: str) -> Principal | None:
        if self.ttl <= 0:
            return None
        hit = self._items.get(raw)
        if hit is None:
            return None
        expires, principal = hit
        if expires < time.monotonic():
            self._items.pop(raw, None)
            return None
        return principal

    def put(self, raw: str, principal: Principal) -> None:
        if self.ttl <= 0:
            return
        self._items[raw] = (time.monotonic() + self.ttl, principal)
        self._items.move_to_end(raw)
        while len(self._items) > self.max_entries:
            self._items.popitem(last=False)

    def invalidate_user(self, user_id: int) -> None:
        for key in [k for k, (_, p) in self._items.items() if p.user_id == user_id]:
            self._items.pop(key, None)

    def clear(self) -> None:
        self._items.clear()
