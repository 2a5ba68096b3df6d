"""Advertisers as the ads API shows them: visibility through account sharing, creation, ``me``.

A user sees the advertisers they own and, when they ask for it (``include_acl``), those
shared with them; each comes with the caller's roles and the actions those roles allow.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from pinapi.domain.access import advertisers as access_advertisers
from pinapi.domain.access import roles as role_lib
from pinapi.domain.access import sharing
from pinapi.domain.access.principal import Principal
from pinapi.domain.ads import rules
from pinapi.domain.clock import Clock
from pinapi.domain.errors import AdvertiserAccessDenied, Invalid, NotFound
from pinapi.store.keyset import KeysetPage, fetch_page
from pinapi.store.tables import Advertiser, AdvertiserMember, Campaign

NAME_MAX = 200


@dataclass(slots=True)
class Visible:
    """An advertiser with the caller's roles on it (OWNER first, matrix order)."""

    advertiser: Advertiser
    roles: list[str]

    @property
    def actions(self) -> list[str]:
        return sorted(role_lib.actions_for(self.roles))


def _user(principal: Principal) -> int:
    if principal.user_id is None:
        raise AdvertiserAccessDenied()
    return principal.user_id


async def _roles_for_page(session: AsyncSession, user_id: int, rows: list[Advertiser]) -> list[Visible]:
    ids = [a.id for a in rows]
    shared: dict[int, set[str]] = {}
    if ids:
        result = await session.execute(
            select(AdvertiserMember.advertiser_id, AdvertiserMember.role).where(
                AdvertiserMember.user_id == user_id, AdvertiserMember.advertiser_id.in_(ids)
            )
        )
        for adv_id, role in result:
            shared.setdefault(adv_id, set()).add(role)
    out: list[Visible] = []
    for a in rows:
        held = shared.get(a.id, set()) | ({"OWNER"} if a.owner_user_id == user_id else set())
        out.append(Visible(a, [r for r in role_lib.ROLES if r in held]))
    return out


async def list_visible(
    session: AsyncSession,
    *,
    principal: Principal,
    owner_user_id: int | None,
    include_acl: bool,
    after: list[int] | None,
    limit: int,
) -> tuple[list[Visible], list[int] | None]:
    user_id = _user(principal)
    if include_acl:
        shared_ids = select(AdvertiserMember.advertiser_id).where(AdvertiserMember.user_id == user_id)
        stmt = select(Advertiser).where(
            or_(Advertiser.owner_user_id == user_id, Advertiser.id.in_(shared_ids))
        )
    else:
        stmt = select(Advertiser).where(Advertiser.owner_user_id == user_id)
    if owner_user_id is not None:
        stmt = stmt.where(Advertiser.owner_user_id == owner_user_id)
    page: KeysetPage[Advertiser] = await fetch_page(
        session, stmt, order=[Advertiser.__table__.c.id], after=after, limit=limit, key_of=lambda a: [a.id]
    )
    return await _roles_for_page(session, user_id, page.rows), page.next_key


async def get_visible(session: AsyncSession, *, principal: Principal, advertiser_id: int) -> Visible:
    advertiser, roles = await sharing.require_action(
        session, principal=principal, advertiser_id=advertiser_id, action="ADVERTISER_READ"
    )
    return Visible(advertiser, roles)


async def me(session: AsyncSession, *, principal: Principal) -> Visible:
    """The caller's own advertiser (oldest first); else the oldest one shared with them."""
    user_id = _user(principal)
    owned = await session.scalar(
        select(Advertiser).where(Advertiser.owner_user_id == user_id).order_by(Advertiser.id).limit(1)
    )
    if owned is None:
        shared_ids = select(AdvertiserMember.advertiser_id).where(AdvertiserMember.user_id == user_id)
        owned = await session.scalar(
            select(Advertiser).where(Advertiser.id.in_(shared_ids)).order_by(Advertiser.id).limit(1)
        )
    if owned is None:
        # WooCommerce (v3) reads code 1000 as "no advertiser exists".
        raise NotFound("Advertiser", code=1000, message="No advertiser exists for this user.")
    return (await _roles_for_page(session, user_id, [owned]))[0]


async def create(
    session: AsyncSession,
    *,
    clock: Clock,
    principal: Principal,
    name: str | None,
    country: str | None,
    currency: str | None,
    timezone: str | None,
    tos_id: int | None,
) -> Visible:
    user_id = _user(principal)
    clean = rules.parse_name(name)
    if len(clean) > NAME_MAX:
        raise Invalid("name", f"must be at most {NAME_MAX} characters")
    code = (country or "US").upper()
    info = rules.countries().get(code)
    if info is None:
        raise Invalid("country", f"unsupported country {code}")
    cur = (currency or info["currency"]).upper()
    if cur not in rules.currencies():
        raise Invalid("currency", f"unsupported currency {cur}")
    zone = timezone or info["timezone"]
    if zone not in rules.timezones():
        raise Invalid("timezone", f"unsupported time zone {zone}")
    if tos_id is not None and tos_id < 1:
        raise Invalid("tos_id", "must be a positive terms-of-service id")
    advertiser = await access_advertisers.create_advertiser(
        session, clock=clock, owner_user_id=user_id, name=clean, country=code, currency=cur, timezone=zone
    )
    advertiser.tos_id = tos_id
    await session.flush()
    return Visible(advertiser, ["OWNER"])


async def campaign_ids(session: AsyncSession, advertiser_id: int) -> list[str]:
    rows = await session.scalars(
        select(Campaign.id).where(Campaign.advertiser_id == advertiser_id).order_by(Campaign.id)
    )
    return [str(i) for i in rows]
