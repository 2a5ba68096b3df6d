"""Housekeeping jobs: purge used or expired authorization codes and dead tokens."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import delete

from pinapi.jobs.worker import JobContext, handler
from pinapi.store.tables import AuthCode, Token

PURGE_KIND = "maintenance.purge_oauth"


@handler(PURGE_KIND, every_seconds=3600)
async def purge_oauth(ctx: JobContext) -> dict[str, Any]:
    now = ctx.clock.now()
    codes = await ctx.session.execute(delete(AuthCode).where(AuthCode.expires_at < now))
    tokens = await ctx.session.execute(
        delete(Token).where(Token.revoked_at.is_not(None), Token.revoked_at < now - timedelta(days=30))
    )
    return {"codes": getattr(codes, "rowcount", 0), "tokens": getattr(tokens, "rowcount", 0)}
