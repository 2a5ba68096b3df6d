"""Everything a process shares between requests and jobs, built once from the settings.

The API keeps one ``Runtime`` on ``app.state``; workers and the CLI build their own. Passing
it explicitly (instead of module globals) lets two instances live in one process in tests.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from pinapi.api.common.paging import Bookmarks
from pinapi.api.common.ratelimit import Limiter
from pinapi.domain.access.principal import Principal
from pinapi.domain.access.tokens import TokenCache
from pinapi.domain.clock import Clock, SharedClock
from pinapi.settings import Settings
from pinapi.store.db import Reader, make_engine, make_sessionmaker


@dataclass
class Runtime:
    settings: Settings
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    clock: Clock
    token_cache: TokenCache
    limiter: Limiter
    bookmarks: Bookmarks
    instance_key: str
    extras: dict[str, object] = field(default_factory=dict)
    # Hot-path single-statement reads without a thread hop (see ``store.db.Reader``).
    reader: Reader = field(init=False)
    # Token verifications in flight, shared by the requests that wait for them (api auth).
    token_checks: dict[str, asyncio.Future[Principal]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.reader = Reader(self.engine)

    @classmethod
    def build(cls, settings: Settings, *, clock: Clock | None = None) -> Runtime:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        engine = make_engine(settings.resolved_database_url())
        key = settings.resolved_secret_key()
        return cls(
            settings=settings,
            engine=engine,
            sessions=make_sessionmaker(engine),
            clock=clock or SharedClock(),
            token_cache=TokenCache(settings.token_cache_seconds),
            limiter=Limiter(settings),
            bookmarks=Bookmarks(key, settings.bookmark_ttl_seconds),
            instance_key=key,
        )

    async def close(self) -> None:
        await self.reader.aclose()
        await self.limiter.close()
        await self.engine.dispose()
