"""Searching one user's pins and boards, ranked by the database's own full-text search.

Matching and scoring live in ``store/tables/search.py`` (FTS5 ``bm25`` on SQLite,
``tsvector``/``ts_rank`` on PostgreSQL); this module applies who may see what and pages
through the ranking with a keyset on ``(score, id)``, so a deep page costs what page one
costs for the same query.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from pinapi.domain.access.principal import Principal
from pinapi.domain.errors import Invalid
from pinapi.domain.organic.feeds import Seek, seek
from pinapi.domain.organic.visibility import SECRET_PINS_SCOPE, listable_boards
from pinapi.store.tables import Board, Pin
from pinapi.store.tables.search import match_subquery, terms_of

RICH_TYPES = (
    "app",
    "article",
    "instant_content",
    "movie",
    "place",
    "product",
    "recipe",
    "tutorial",
    "tv_series",
)


def parse_query(raw: str | None) -> list[str]:
    terms = terms_of(raw or "")
    if not terms:
        raise Invalid("query", "must contain at least one word")
    return terms


async def search_user_pins(
    session: AsyncSession,
    *,
    principal: Principal,
    user_id: int,
    terms: list[str],
    board_id: int | None,
    after: list[Any] | None,
    limit: int,
) -> Seek:
    """Pins of ``user_id`` on boards the caller may list (protected ones excluded), best first."""
    hits = match_subquery(session.get_bind().dialect.name, "pins", terms)
    stmt = (
        select(Pin)
        .join(hits, hits.c.id == Pin.id)
        .join(Board, Board.id == Pin.board_id)
        .where(
            Pin.owner_id == user_id,
            listable_boards(principal, secret_scope=SECRET_PINS_SCOPE),
        )
    )
    if board_id is not None:
        stmt = stmt.where(Pin.board_id == board_id)
    return await seek(session, stmt, order=[hits.c.score, Pin.id], after=after, limit=limit)


async def search_user_boards(
    session: AsyncSession,
    *,
    principal: Principal,
    user_id: int,
    terms: list[str],
    after: list[Any] | None,
    limit: int,
) -> Seek:
    """Boards owned by ``user_id`` that the caller may list, best match first."""
    hits = match_subquery(session.get_bind().dialect.name, "boards", terms)
    stmt = (
        select(Board)
        .join(hits, hits.c.id == Board.id)
        .where(
            Board.owner_id == user_id,
            Board.archived.is_(False),
            listable_boards(principal),
        )
    )
    return await seek(session, stmt, order=[hits.c.score, Board.id], after=after, limit=limit)
