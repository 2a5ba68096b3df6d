"""Account sharing: which roles a user holds on an advertiser, and the one permission check.

The owner of an advertiser holds OWNER; other users hold the roles granted to them. Every
ads route calls ``require_action``: a caller with no role at all is refused with code 1902,
and a caller whose roles lack the action is refused the same way, naming the action.
"""

from __future__ import annotations

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from pinapi.domain.access import roles as role_lib
from pinapi.domain.access.principal import Principal
from pinapi.domain.clock import Clock
from pinapi.domain.errors import AdvertiserAccessDenied, Invalid
from pinapi.store.tables import Advertiser, AdvertiserMember


async def roles_of(session: AsyncSession, *, user_id: int, advertiser: Advertiser) -> list[str]:
    roles: list[str] = ["OWNER"] if advertiser.owner_user_id == user_id else []
    rows = await session.scalars(
        select(AdvertiserMember.role).where(
            AdvertiserMember.advertiser_id == advertiser.id, AdvertiserMember.user_id == user_id
        )
    )
    roles.extend(r for r in rows if r not in roles)
    return [r for r in role_lib.ROLES if r in roles]


async def require_action(
    session: AsyncSession, *, principal: Principal, advertiser_id: int, action: str
) -> tuple[Advertiser, list[str]]:
    """Load the advertiser and check the caller may take ``action`` on it."""
    advertiser = await session.get(Advertiser, advertiser_id)
    if advertiser is None:
        raise AdvertiserAccessDenied()
    if principal.user_id is None:
        raise AdvertiserAccessDenied()
    roles = await roles_of(session, user_id=principal.user_id, advertiser=advertiser)
    if not roles or not role_lib.allows(roles, action):
        raise AdvertiserAccessDenied(
            f"User is not authorized to access requested advertiser (needs {action})." if roles else None
        )
    return advertiser, roles


async def share(
    session: AsyncSession, *, clock: Clock, advertiser_id: int, user_id: int, role: str
) -> AdvertiserMember:
    if role not in role_lib.ROLES:
        raise Invalid("role", f"must be one of {', '.join(role_lib.ROLES)}")
    advertiser = await session.get(Advertiser, advertiser_id)
    if advertiser is None:
        raise Invalid("advertiser", f"no advertiser {advertiser_id}")
    existing = await session.get(AdvertiserMember, (advertiser_id, user_id, role))
    if existing is not None:
        return existing
    member = AdvertiserMember(advertiser_id=advertiser_id, user_id=user_id, role=role, created_at=clock.now())
    session.add(member)
    await session.flush()
    return member


async def unshare(session: AsyncSession, *, advertiser_id: int, user_id: int) -> None:
    await session.execute(
        delete(AdvertiserMember).where(
            AdvertiserMember.advertiser_id == advertiser_id, AdvertiserMember.user_id == user_id
        )
    )
