"""Pinner accounts: creation, sign-in and password changes."""

from __future__ import annotations

import re

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from pinapi.domain.access import passwords
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


async def authenticate(session: AsyncSession, *, username: str, password: str) -> User | None:
    user = await session.scalar(select(User).where(func.lower(User.username) == username.lower()))
    if user is None or not passwords.verify_secret(user.password_hash, password):
        return None
    return user


async def change_password(session: AsyncSession, *, clock: Clock, user: User, password: str) -> int:
    """Set a new password and revoke every token of the user; returns how many were revoked."""
    if len(password) < 8:
        raise Invalid("password", "must be at least 8 characters")
    now = clock.now()
    user.password_hash = passwords.hash_secret(password)
    user.password_changed_at = now
    result = await session.execute(
        update(Token).where(Token.user_id == user.id, Token.revoked_at.is_(None)).values(revoked_at=now)
    )
    return int(getattr(result, "rowcount", 0) or 0)
