"""The demo dataset loaded by ``pinapi serve`` on an empty database.

Each resource area adds its part here as it lands; loading is idempotent (it does nothing
when the demo user already exists), so restarting a server keeps its state.
"""

from __future__ import annotations

from sqlalchemy import select

from pinapi.domain.access import advertisers, apps, sharing, users
from pinapi.runtime import Runtime
from pinapi.store.tables import User

DEMO_PASSWORD = "pinapi-demo"
DEMO_REDIRECT_URIS = ["http://localhost:8085/", "http://127.0.0.1:8085/callback"]


async def load_demo_dataset(runtime: Runtime) -> bool:
    """Create the demo users, app and advertiser; returns False when they already exist."""
    async with runtime.sessions() as session, session.begin():
        if await session.scalar(select(User.id).where(User.username == "demo")) is not None:
            return False
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
    return True
