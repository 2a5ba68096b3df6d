"""Reading pinner profiles, by id, username or ``me``."""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from pinapi.domain.access.principal import Principal
from pinapi.domain.errors import Forbidden, Invalid, NotFound
from pinapi.store.db import Reader
from pinapi.store.tables import Advertiser, AdvertiserMember, User


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


@dataclass(frozen=True, slots=True)
class Profile:
    """The columns a profile shows (never the password hash), read without the ORM."""

    id: int
    username: str
    full_name: str
    about: str
    is_business: bool
    website_url: str
    pin_count: int
    board_count: int
    follower_count: int
    following_count: int
    created_at: datetime


# Built once, in Profile's field order: see ``Reader.first`` for why.
_PROFILE = select(*(getattr(User, f.name) for f in fields(Profile)))
_PROFILE_BY_ID = _PROFILE.where(User.id == bindparam("id"))
_PROFILE_BY_NAME = _PROFILE.where(func.lower(User.username) == bindparam("name"))


async def read_profile(reader: Reader, *, principal: Principal, ref: str) -> Profile:
    """``resolve_user`` for read-only routes: the profile in one indexed read.

    It reads committed data outside the request's unit of work through the hot-path reader
    (no ORM identity map, no session, no thread hop on SQLite), which is all ``GET
    /v3/users/{user}/`` needs.
    """
    values: tuple[Any, ...] | None
    if ref == "me":
        if principal.user_id is None:
            raise Invalid("user", "'me' needs a user access token")
        values = await reader.first(_PROFILE_BY_ID, {"id": principal.user_id})
    elif ref.isdigit() and int(ref) < 2**63:
        values = await reader.first(_PROFILE_BY_ID, {"id": int(ref)})
        if values is None:
            values = await reader.first(_PROFILE_BY_NAME, {"name": ref.lower()})
    else:
        values = await reader.first(_PROFILE_BY_NAME, {"name": ref.lower()})
    if values is None:
        raise NotFound("User", code=30)
    return Profile(*values)


def require_self(principal: Principal, user: User, what: str) -> None:
    """Some profile lists belong to their owner only (v3 code 7 for anyone else)."""
    if principal.user_id != user.id:
        raise Forbidden(f"Only {user.username} may list their {what}.")


async def linked_businesses(session: AsyncSession, *, user: User) -> list[User]:
    """The business accounts linked to ``user``.

    pinapi models a link as: the user's own account when it is a business account, plus the
    business owners of every advertiser shared with the user (account sharing is how a
    pinner gets to act for a business). Ordered by id, without repeats.
    """
    shared_owner = (
        select(Advertiser.owner_user_id)
        .join(AdvertiserMember, AdvertiserMember.advertiser_id == Advertiser.id)
        .where(AdvertiserMember.user_id == user.id)
    )
    stmt = (
        select(User)
        .where(
            User.is_business.is_(True),
            or_(User.id == user.id, User.id.in_(shared_owner)),
        )
        .order_by(User.id)
    )
    return list((await session.scalars(stmt)).all())
