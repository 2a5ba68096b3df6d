"""Comments on aggregated pin data, and replies to comments.

Every repin of a root pin points at the root's ``aggregated_pin_data`` row, so a comment
made through any copy shows on all of them. Counters move in the transaction that adds the
comment, with ``UPDATE … SET n = n + 1``: ``comment_count`` on the aggregated data and on
every pin sharing it, and ``reply_count`` on the parent comment.

Who may read: a caller sees the aggregated data (and its comments) when at least one pin
sharing it sits on a board the caller may see; otherwise it answers not found (880/883).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import exists, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from pinapi.domain.access.principal import Principal
from pinapi.domain.clock import Clock
from pinapi.domain.errors import Invalid, NotFound
from pinapi.domain.organic.feeds import Seek, seek
from pinapi.domain.organic.visibility import SECRET_PINS_SCOPE, listable_boards
from pinapi.store.tables import AggregatedPinData, Board, Comment, Pin, User

MAX_TEXT = 500


class AggregatedPinDataNotFound(NotFound):
    def __init__(self) -> None:
        super().__init__("Aggregated pin data", code=880)


class CommentNotFound(NotFound):
    def __init__(self) -> None:
        super().__init__("Aggregated comment", code=883)


@dataclass(slots=True)
class CommentView:
    """A comment with its author, as the wire shows it."""

    comment: Comment
    author: User


def _seen_through_a_pin(principal: Principal, agg_id: Any) -> Any:
    return exists().where(
        Pin.aggregated_pin_data_id == agg_id,
        Board.id == Pin.board_id,
        listable_boards(principal, include_protected=True, secret_scope=SECRET_PINS_SCOPE),
    )


async def visible_aggregate(session: AsyncSession, *, principal: Principal, agg_id: int) -> AggregatedPinData:
    stmt = select(AggregatedPinData).where(
        AggregatedPinData.id == agg_id, _seen_through_a_pin(principal, AggregatedPinData.id)
    )
    agg = await session.scalar(stmt)
    if agg is None:
        raise AggregatedPinDataNotFound()
    return agg


async def visible_comment(session: AsyncSession, *, principal: Principal, comment_id: int) -> Comment:
    stmt = select(Comment).where(
        Comment.id == comment_id, _seen_through_a_pin(principal, Comment.aggregated_pin_data_id)
    )
    comment = await session.scalar(stmt)
    if comment is None:
        raise CommentNotFound()
    return comment


async def _with_authors(session: AsyncSession, page: Seek) -> Seek:
    ids = {c.user_id for c in page.rows}
    users = {u.id: u for u in (await session.scalars(select(User).where(User.id.in_(ids)))).all()}
    page.rows = [CommentView(c, users[c.user_id]) for c in page.rows]
    return page


async def list_comments(
    session: AsyncSession, *, principal: Principal, agg_id: int, after: list[Any] | None, limit: int
) -> Seek:
    """Top-level comments of an aggregated pin data, newest first (rows are CommentView)."""
    await visible_aggregate(session, principal=principal, agg_id=agg_id)
    stmt = select(Comment).where(Comment.aggregated_pin_data_id == agg_id, Comment.parent_id.is_(None))
    return await _with_authors(
        session, await seek(session, stmt, order=[Comment.id], after=after, limit=limit, descending=True)
    )


async def list_replies(
    session: AsyncSession, *, principal: Principal, comment_id: int, after: list[Any] | None, limit: int
) -> Seek:
    """Replies to a comment in the order they were written (rows are CommentView)."""
    await visible_comment(session, principal=principal, comment_id=comment_id)
    stmt = select(Comment).where(Comment.parent_id == comment_id)
    return await _with_authors(
        session, await seek(session, stmt, order=[Comment.id], after=after, limit=limit)
    )


async def add_comment(
    session: AsyncSession,
    *,
    clock: Clock,
    principal: Principal,
    agg_id: int,
    text: str,
    parent_id: int | None = None,
) -> CommentView:
    """Comment on an aggregated pin data (or reply to one of its comments)."""
    if principal.user_id is None:
        raise Invalid("user", "commenting needs a user access token")
    body = text.strip()
    if not body:
        raise Invalid("text", "must not be empty")
    if len(body) > MAX_TEXT:
        raise Invalid("text", f"must be at most {MAX_TEXT} characters", code=121)
    await visible_aggregate(session, principal=principal, agg_id=agg_id)
    if parent_id is not None:
        parent = await visible_comment(session, principal=principal, comment_id=parent_id)
        if parent.aggregated_pin_data_id != agg_id:
            raise Invalid("parent_comment_id", "is a comment on other pin data")
        if parent.parent_id is not None:
            raise Invalid("parent_comment_id", "replies cannot be replied to")
        await session.execute(
            update(Comment).where(Comment.id == parent_id).values(reply_count=Comment.reply_count + 1)
        )
    comment = Comment(
        aggregated_pin_data_id=agg_id,
        parent_id=parent_id,
        user_id=principal.user_id,
        text=body,
        reply_count=0,
        like_count=0,
        created_at=clock.now(),
    )
    session.add(comment)
    await session.execute(
        update(AggregatedPinData)
        .where(AggregatedPinData.id == agg_id)
        .values(comment_count=AggregatedPinData.comment_count + 1)
    )
    await session.execute(
        update(Pin).where(Pin.aggregated_pin_data_id == agg_id).values(comment_count=Pin.comment_count + 1)
    )
    await session.flush()
    author = await session.get(User, principal.user_id)
    assert author is not None
    return CommentView(comment, author)
