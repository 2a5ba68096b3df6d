"""The ``maintenance.purge_oauth`` job: expired codes and long-revoked tokens go, the rest stay."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from pinapi.domain.clock import FixedClock
from pinapi.jobs import maintenance, queue
from pinapi.jobs.worker import HANDLERS, Worker
from pinapi.runtime import Runtime
from pinapi.store.tables import AuthCode, Job, Token
from tests.factories import Factory


async def test_purge_oauth(runtime: Runtime, clock: FixedClock, factory: Factory) -> None:
    assert HANDLERS[maintenance.PURGE_KIND] is maintenance.purge_oauth
    user = await factory.user()
    app = await factory.app()
    now = clock.now()

    def code(name: str, expires_in: timedelta) -> AuthCode:
        return AuthCode(
            code_hash=name,
            app_id=app.id,
            user_id=user.id,
            redirect_uri=app.redirect_uris[0],
            scopes="read_users",
            expires_at=now + expires_in,
        )

    def token(name: str, revoked_ago: timedelta | None) -> Token:
        return Token(
            token_hash=name,
            kind="access",
            user_id=user.id,
            app_id=app.id,
            scopes="read_users",
            created_at=now - timedelta(days=90),
            revoked_at=None if revoked_ago is None else now - revoked_ago,
        )

    async with runtime.sessions() as s, s.begin():
        s.add_all(
            [
                code("expired", -timedelta(seconds=1)),
                code("fresh", timedelta(minutes=5)),
                token("active", None),
                token("revoked-recently", timedelta(days=29)),
                token("revoked-long-ago", timedelta(days=31)),
            ]
        )
        job = await queue.enqueue(s, clock=clock, kind=maintenance.PURGE_KIND, dedupe_key="purge:1")
    ran = await Worker(sessions=runtime.sessions, clock=clock).drain()
    assert ran == 1
    async with runtime.sessions() as s:
        done = await s.get(Job, job.id)
        assert done is not None
        assert (done.state, done.result) == ("done", {"codes": 1, "tokens": 1})
        assert set(await s.scalars(select(AuthCode.code_hash))) == {"fresh"}
        assert set(await s.scalars(select(Token.token_hash))) == {"active", "revoked-recently"}


async def test_periodic_jobs_are_enqueued_once_per_period(runtime: Runtime) -> None:
    # only this kind's handler: other periodic kinds registered in the process are not counted
    only = {maintenance.PURGE_KIND: maintenance.purge_oauth}
    workers = [Worker(sessions=runtime.sessions, clock=runtime.clock, handlers=only) for _ in range(3)]
    for w in workers:
        await w.schedule_periodic()
    async with runtime.sessions() as s:
        kinds = list(await s.scalars(select(Job.kind).where(Job.kind == maintenance.PURGE_KIND)))
    assert kinds == [maintenance.PURGE_KIND]
    assert await workers[0].drain() == 1
