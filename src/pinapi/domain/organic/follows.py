"""Following pinners: follow, unfollow, and the followers/following lists.

A follow is one ``user_follows`` row; ``INSERT … ON CONFLICT DO NOTHING`` and a plain
``DELETE`` report whether they changed anything, and only a real change moves the two
counters (``UPDATE … SET n = n + 1``), so repeated or concurrent calls keep
``follower_count`` and ``following_count`` exact.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import CursorResult, delete, exists, select, union, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from pinapi.domain.clock import Clock
from pinapi.domain.errors import Forbidden
from pinapi.domain.organic.feeds import Seek, SortKey, seek
from pinapi.store.tables import Board, BoardFollow, User, UserFollow

FEED_TYPES = ("ALL", "CREATOR_ONLY", "RANKED", "RANKED_CREATOR_ONLY")


class FollowRefused(Forbidden):
    """v3 code 32, "User follow failure" (HTTP 403)."""

    def __init__(self, message: str) -> None:
        super().__init__(message, code=32)


async def _bump(session: AsyncSession, *, follower_id: int, followee_id: int, by: int) -> None:
    await session.execute(
        update(User).where(User.id == followee_id).values(follower_count=User.follower_count + by)
    )
    await session.execute(
        update(User).where(User.id == follower_id).values(following_count=User.following_count + by)
    )


async def follow(session: AsyncSession, *, clock: Clock, follower_id: int, followee_id: int) -> bool:
    """Make ``follower_id`` follow ``followee_id``; True when it was not following before."""
    if follower_id == followee_id:
        raise FollowRefused("You cannot follow yourself.")
    values = {
        "follower_id": follower_id,
        "followee_id": followee_id,
        "explicit": True,
        "created_at": clock.now(),
    }
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    stmt = insert(UserFollow).values(**values).on_conflict_do_nothing()
    result: CursorResult[Any] = await session.execute(stmt)  # type: ignore[assignment]
    if result.rowcount != 1:
        # Already following (maybe implicitly): make it explicit, counters unchanged.
        await session.execute(
            update(UserFollow)
            .where(UserFollow.follower_id == follower_id, UserFollow.followee_id == followee_id)
            .values(explicit=True)
        )
        return False
    await _bump(session, follower_id=follower_id, followee_id=followee_id, by=1)
    return True


async def unfollow(session: AsyncSession, *, follower_id: int, followee_id: int) -> bool:
    """Stop following; True when a follow was removed. Unfollowing a stranger is a no-op."""
    result: CursorResult[Any] = await session.execute(  # type: ignore[assignment]
        delete(UserFollow).where(UserFollow.follower_id == follower_id, UserFollow.followee_id == followee_id)
    )
    if result.rowcount != 1:
        return False
    await _bump(session, follower_id=follower_id, followee_id=followee_id, by=-1)
    return True


async def followers(session: AsyncSession, *, user_id: int, after: list[Any] | None, limit: int) -> Seek:
    """Who follows ``user_id``, newest account first (ids are time-ordered)."""
    stmt = (
        select(User)
        .join(UserFollow, UserFollow.follower_id == User.id)
        .where(UserFollow.followee_id == user_id)
    )
    # Ordered on the follow row's column, so ``ix_user_follows_followee_follower`` serves it.
    order = [UserFollow.follower_id]
    return await seek(session, stmt, order=order, after=after, limit=limit, descending=True)


async def following(
    session: AsyncSession,
    *,
    user_id: int,
    explicit_only: bool,
    feed_type: str,
    after: list[Any] | None,
    limit: int,
) -> Seek:
    """Whom ``user_id`` follows. Unless ``explicit_only``, owners of followed boards count as
    implicit follows. ``CREATOR_ONLY`` keeps business accounts (pinapi's creators);
    ``RANKED`` orders by follower count, highest first."""
    direct = select(UserFollow.followee_id.label("uid")).where(UserFollow.follower_id == user_id)
    if explicit_only:
        direct = direct.where(UserFollow.explicit.is_(True))
        ids = direct
    else:
        via_boards = (
            select(Board.owner_id.label("uid"))
            .join(BoardFollow, BoardFollow.board_id == Board.id)
            .where(BoardFollow.user_id == user_id, Board.owner_id != user_id)
        )
        ids = union(direct, via_boards)  # type: ignore[assignment]
    followed = ids.subquery()
    stmt = select(User).where(exists().where(followed.c.uid == User.id))
    if feed_type in ("CREATOR_ONLY", "RANKED_CREATOR_ONLY"):
        stmt = stmt.where(User.is_business.is_(True))
    order: list[SortKey] = [User.id]
    if feed_type.startswith("RANKED"):
        order = [User.follower_count, User.id]
    return await seek(session, stmt, order=order, after=after, limit=limit, descending=True)
