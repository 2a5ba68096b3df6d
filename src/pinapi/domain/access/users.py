"""Pinner accounts: creation, sign-in and password changes."""

from __future__ import annotations

import asyncio
import re
from functools import cache

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from pinapi.domain.access import passwords
from pinapi.domain.access.tokens import TokenCache
from pinapi.domain.clock import Clock
from pinapi.domain.errors import Conflict, Invalid, NotFound
from pinapi.store.tables import Token, User

USERNAME_RE = re.compile(r"^[A-Za-z0-9_]{3,30}$")


async def create_user(
    session: AsyncSession,
    *,
    clock: Clock,
    username: str,
    password: str,
    full_name: str = "",
    about: str = "",
    is_business: bool = False,
) -> User:
    if not USERNAME_RE.match(username):
        raise Invalid("username", "use 3 to 30 letters, digits or underscores")
    if len(password) < 8:
        raise Invalid("password", "must be at least 8 characters")
    exists = await session.scalar(select(User.id).where(func.lower(User.username) == username.lower()))
    if exists is not None:
        raise Conflict(f"User '{username}' already exists.", code=31)
    now = clock.now()
    user = User(
        username=username,
        full_name=full_name,
        about=about,
        is_business=is_business,
        password_hash=passwords.hash_secret(password),
        created_at=now,
        password_changed_at=now,
    )
    session.add(user)
    await session.flush()
    return user


async def get_by_username(session: AsyncSession, username: str) -> User:
    user = await session.scalar(select(User).where(func.lower(User.username) == username.lower()))
    if user is None:
        raise NotFound("User", code=30)
    return user


@cache
def _decoy_hash() -> str:
    return passwords.hash_secret("pinapi-decoy-password")


async def authenticate(session: AsyncSession, *, username: str, password: str) -> User | None:
    """The user with these credentials, else None.

    An unknown username still costs one hash check, so the sign-in form's timing does not
    tell which usernames exist.
    """
    user = await session.scalar(select(User).where(func.lower(User.username) == username.lower()))
    stored = user.password_hash if user is not None else _decoy_hash()
    # Argon2 takes a few hundred milliseconds of CPU: keep it off the event loop.
    ok = await asyncio.to_thread(passwords.verify_secret, stored, password)
    return user if ok and user is not None else None


async def change_password(
    session: AsyncSession,
    *,
    clock: Clock,
    user: User,
    password: str,
    token_cache: TokenCache | None = None,
) -> int:
    """Set a new password and revoke every token of the user; returns how many were revoked.

    Pass the process's ``token_cache`` so tokens it verified recently stop working at once
    here too (other processes drop them within the cache TTL).
    """
    if len(password) < 8:
        raise Invalid("password", "must be at least 8 characters")
    now = clock.now()
    user.password_hash = passwords.hash_secret(password)
    user.password_changed_at = now
    result = await session.execute(
        update(Token).where(Token.user_id == user.id, Token.revoked_at.is_(None)).values(revoked_at=now)
    )
    if token_cache is not None:
        token_cache.invalidate_user(user.id)
    return int(getattr(result, "rowcount", 0) or 0)


async def get_user(session: AsyncSession, user_id: int) -> User | None:
    return await session.get(User, user_id)
