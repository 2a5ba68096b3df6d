"""Creating advertisers at the access level (the ads work adds the full object)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from pinapi.domain.clock import Clock
from pinapi.domain.errors import Invalid
from pinapi.store.tables import Advertiser


async def create_advertiser(
    session: AsyncSession,
    *,
    clock: Clock,
    owner_user_id: int,
    name: str,
    country: str = "US",
    currency: str = "USD",
    timezone: str = "UTC",
) -> Advertiser:
    if not name.strip():
        raise Invalid("name", "must not be empty")
    now = clock.now()
    advertiser = Advertiser(
        name=name.strip(),
        owner_user_id=owner_user_id,
        country=country,
        currency=currency,
        timezone=timezone,
        status="ACTIVE",
        created_at=now,
        updated_at=now,
    )
    session.add(advertiser)
    await session.flush()
    return advertiser
