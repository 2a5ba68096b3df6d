"""Apply Alembic migrations programmatically (``pinapi migrate`` and ``serve`` start-up).

Alembic's environment calls ``asyncio.run``, so migrations run in a worker thread when an
event loop is already running in the caller's thread.
"""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path

from alembic import command
from alembic.config import Config

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def alembic_config(url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def upgrade(url: str, revision: str = "heads") -> None:
    _in_thread(lambda: command.upgrade(alembic_config(url), revision))


def downgrade(url: str, revision: str = "base") -> None:
    _in_thread(lambda: command.downgrade(alembic_config(url), revision))


def _in_thread(fn: object) -> None:
    assert callable(fn)
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        fn()
        return
    errors: list[BaseException] = []

    def run() -> None:
        try:
            fn()
        except BaseException as exc:
            errors.append(exc)

    t = threading.Thread(target=run)
    t.start()
    t.join()
    if errors:
        raise errors[0]


async def upgrade_async(url: str, revision: str = "heads") -> None:
    await asyncio.to_thread(command.upgrade, alembic_config(url), revision)
