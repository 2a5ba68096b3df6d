"""Reading pinner profiles, by id, username or ``me``."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from pinapi.domain.access.principal import Principal
from pinapi.domain.errors import Invalid, NotFound
from pinapi.store.tables import User


async def resolve_user(session: AsyncSession, *, principal: Principal, ref: str) -> User:
    """The user a path parameter names: ``me``, a numeric id or a username."""
    if ref == "me":
        if principal.user_id is None:
            raise Invalid("user", "'me' needs a user access token")
        user = await session.get(User, principal.user_id)
    elif ref.isdigit():
        user = await session.get(User, int(ref))
        if user is None:
            user = await session.scalar(select(User).where(func.lower(User.username) == ref.lower()))
    else:
        user = await session.scalar(select(User).where(func.lower(User.username) == ref.lower()))
    if user is None:
        raise NotFound("User", code=30)
    return user
