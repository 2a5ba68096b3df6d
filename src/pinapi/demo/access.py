"""The demo dataset's accounts: users, an OAuth app and a shared advertiser."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from pinapi.domain.access import advertisers, apps, sharing, users
from pinapi.runtime import Runtime

DEMO_PASSWORD = "pinapi-demo"
DEMO_REDIRECT_URIS = ["http://localhost:8085/", "http://127.0.0.1:8085/callback"]


async def load(runtime: Runtime, session: AsyncSession) -> None:
    """Create the demo users, app and an advertiser shared with ``analyst``."""
    clock = runtime.clock
    demo = await users.create_user(
        session,
        clock=clock,
        username="demo",
        password=DEMO_PASSWORD,
        full_name="Demo Business",
        about="The demo account of pinapi.",
        is_business=True,
    )
    analyst = await users.create_user(
        session, clock=clock, username="analyst", password=DEMO_PASSWORD, full_name="Ana Lyst"
    )
    await users.create_user(
        session, clock=clock, username="pinner", password=DEMO_PASSWORD, full_name="Pat Pinner"
    )
    await apps.create_app(
        session,
        clock=clock,
        instance_key=runtime.instance_key,
        name="pinapi demo app",
        redirect_uris=DEMO_REDIRECT_URIS,
        owner_user_id=demo.id,
    )
    adv = await advertisers.create_advertiser(
        session, clock=clock, owner_user_id=demo.id, name="Demo Advertiser (USD)"
    )
    await sharing.share(session, clock=clock, advertiser_id=adv.id, user_id=analyst.id, role="ANALYST")
