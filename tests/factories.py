"""Test data made through the domain functions, so tests see what the API would store."""

from __future__ import annotations

import itertools
from dataclasses import dataclass

from pinapi.domain.access import advertisers, apps, sharing, tokens, users
from pinapi.domain.access import scopes as scope_lib
from pinapi.runtime import Runtime
from pinapi.store.tables import Advertiser, User

PASSWORD = "correct-horse-battery"
_seq = itertools.count(1)


@dataclass
class MadeApp:
    id: int
    secret: str
    redirect_uris: list[str]


class Factory:
    def __init__(self, runtime: Runtime) -> None:
        self.rt = runtime

    async def user(self, username: str | None = None, *, business: bool = False, full_name: str = "") -> User:
        name = username or f"user{next(_seq)}"
        async with self.rt.sessions() as s, s.begin():
            return await users.create_user(
                s,
                clock=self.rt.clock,
                username=name,
                password=PASSWORD,
                full_name=full_name or name.title(),
                is_business=business,
            )

    async def app(self, name: str = "Test App", redirect_uris: list[str] | None = None) -> MadeApp:
        uris = redirect_uris or ["http://localhost:9999/callback"]
        async with self.rt.sessions() as s, s.begin():
            made = await apps.create_app(
                s, clock=self.rt.clock, instance_key=self.rt.instance_key, name=name, redirect_uris=uris
            )
            return MadeApp(made.app.id, made.secret, made.redirect_uris)

    async def token(self, user: User, scopes: str, *, app: MadeApp | None = None) -> str:
        target = app or await self.app()
        wanted = scope_lib.parse(scopes)
        async with self.rt.sessions() as s, s.begin():
            await tokens.record_grant(
                s, clock=self.rt.clock, user_id=user.id, app_id=target.id, scopes=wanted
            )
            issued = await tokens.issue(
                s, clock=self.rt.clock, user_id=user.id, app_id=target.id, scopes=wanted, refreshable=False
            )
        return issued.access_token

    async def advertiser(self, owner: User, name: str = "Adv") -> Advertiser:
        async with self.rt.sessions() as s, s.begin():
            return await advertisers.create_advertiser(
                s, clock=self.rt.clock, owner_user_id=owner.id, name=name
            )

    async def share(self, advertiser: Advertiser, user: User, role: str) -> None:
        async with self.rt.sessions() as s, s.begin():
            await sharing.share(
                s, clock=self.rt.clock, advertiser_id=advertiser.id, user_id=user.id, role=role
            )


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}
