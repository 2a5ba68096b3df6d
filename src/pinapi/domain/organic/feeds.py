"""The lists a pinner profile shows: a user's pins, boards and followed boards.

Every list is a keyset seek over a tuple of sort expressions ending with a unique one, all in
one direction (a mixed order negates its numeric parts), so the next page is one row-value
comparison served by an index: ``ORDER BY id DESC`` walks ``(owner_id, id)`` backwards, and
a page deep in a list costs what the first page costs. A page's last key
travels in the (signed) bookmark; the wire layer encodes it, this module only takes and
gives the raw key.

Privacy is ``visibility.listable_boards`` (the rules every organic read shares): public
boards for everyone, protected ones for members and only when asked, secret ones for members
holding the list's secret scope (``read_secret_boards`` or ``read_secret_pins``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Select, case, exists, false, func, literal, or_, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from pinapi.domain.access.principal import Principal
from pinapi.domain.errors import NotFound
from pinapi.domain.organic.visibility import SECRET_PINS_SCOPE, listable_boards
from pinapi.store.tables import Board, BoardCollaborator, BoardFollow, Image, Pin, UserFollow

BOARD_SORTS = ("alphabetical", "custom", "group_boards_at_top", "last_pinned_to", "newest", "oldest")
PRIVACY_FILTERS = ("all", "protected", "public", "secret")
GROUP_BYS = ("mix_public_private", "visibility")
PIN_FILTERS = ("exclude_native", "exclude_repins")

SortKey = ColumnElement[Any] | InstrumentedAttribute[Any]


@dataclass(slots=True)
class Seek:
    """One page of a keyset list: the rows and the key to resume after (None on the last)."""

    rows: list[Any]
    next_key: list[Any] | None


async def seek(
    session: AsyncSession,
    stmt: Select[Any],
    *,
    order: Sequence[SortKey],
    after: list[Any] | None,
    limit: int,
    descending: bool = False,
) -> Seek:
    """Run ``stmt`` (selecting one entity) on ``order`` from after ``after``.

    The sort expressions are selected beside the entity so the next key is read back from
    the database exactly as it compares, computed values included.
    """
    if after is not None:
        if len(after) != len(order) or not all(isinstance(v, (int, float, str)) for v in after):
            # Signed for this list but cut from another ordering: as unknown as a forged one.
            raise NotFound("Bookmark", code=10, message="Bookmark not found.")
        bound = [literal(v, type_=col.type) for v, col in zip(after, order, strict=True)]
        cols, vals = tuple_(*order), tuple_(*bound)
        stmt = stmt.where(cols < vals if descending else cols > vals)
    keys = [c.label(f"_seek{i}") for i, c in enumerate(order)]
    sort = [c.desc() if descending else c.asc() for c in order]
    stmt = stmt.add_columns(*keys).order_by(*sort).limit(limit + 1)
    result = (await session.execute(stmt)).all()
    more = len(result) > limit
    result = result[:limit]
    rows = [r[0] for r in result]
    next_key = list(result[-1][1:]) if more and result else None
    return Seek(rows=rows, next_key=next_key)


def is_collaborator(board_id: Any, user_id: int | None) -> ColumnElement[bool]:
    if user_id is None:
        return false()
    return exists().where(BoardCollaborator.board_id == board_id, BoardCollaborator.user_id == user_id)


async def user_pins(
    session: AsyncSession,
    *,
    principal: Principal,
    user_id: int,
    pin_filter: str | None,
    include_protected: bool,
    after: list[Any] | None,
    limit: int,
) -> Seek:
    """A user's pins, newest first. ``exclude_native`` keeps only repins; ``exclude_repins``
    keeps only the pins the user created."""
    stmt = (
        select(Pin)
        .join(Board, Board.id == Pin.board_id)
        .where(
            Pin.owner_id == user_id,
            listable_boards(principal, include_protected=include_protected, secret_scope=SECRET_PINS_SCOPE),
        )
    )
    if pin_filter == "exclude_native":
        stmt = stmt.where(Pin.is_repin.is_(True))
    elif pin_filter == "exclude_repins":
        stmt = stmt.where(Pin.is_repin.is_(False))
    return await seek(session, stmt, order=[Pin.id], after=after, limit=limit, descending=True)


def _last_pinned() -> ColumnElement[Any]:
    """The newest pin id of a board (ids are time-ordered), 0 for an empty board."""
    newest = select(func.max(Pin.id)).where(Pin.board_id == Board.id).scalar_subquery()
    return func.coalesce(newest, 0)


def _visibility_rank() -> ColumnElement[Any]:
    """The ``group_by=visibility`` order: public, secret (private), protected, archived."""
    return case(
        (Board.archived.is_(True), 3),
        (Board.privacy == "public", 0),
        (Board.privacy == "secret", 1),
        else_=2,
    )


def _board_order(sort: str, group_by: str | None) -> tuple[list[SortKey], bool]:
    """The sort keys and whether they run descending (the visibility rank always ascends)."""
    grouped = group_by == "visibility"
    if sort == "alphabetical":
        return [*([_visibility_rank()] if grouped else []), func.lower(Board.name), Board.id], False
    if sort == "oldest":
        return [*([_visibility_rank()] if grouped else []), Board.id], False
    lead: list[SortKey] = [-_visibility_rank()] if grouped else []
    if sort == "last_pinned_to":
        return [*lead, _last_pinned(), Board.id], True
    if sort == "group_boards_at_top":
        return [*lead, case((Board.collaborator_count > 0, 1), else_=0), Board.id], True
    # newest, and custom: pinapi has no board-reordering call, so custom order is newest first.
    return [*lead, Board.id], True


@dataclass(frozen=True, slots=True)
class BoardFeedQuery:
    sort: str = "custom"
    privacy_filter: str = "all"
    collaborative_only: bool = False
    include_archived: bool = False
    group_by: str | None = None
    include_empty: bool = True

    def context(self) -> str:
        """What a bookmark of this list must match: the order it was cut from."""
        return f"{self.sort}:{self.group_by or '-'}"


def _privacy_clause(principal: Principal, owner_id: int, privacy_filter: str) -> ColumnElement[bool]:
    if privacy_filter == "all":
        # Protected boards are listed when asked for; on their own profile, "all" asks.
        return listable_boards(principal, include_protected=principal.user_id == owner_id)
    return listable_boards(principal, include_protected=True, privacies=(privacy_filter,))


async def boards_feed(
    session: AsyncSession,
    *,
    principal: Principal,
    user_id: int,
    query: BoardFeedQuery,
    after: list[Any] | None,
    limit: int,
) -> Seek:
    """The boards on a profile: the ones the user owns and the group boards they join."""
    mine = or_(Board.owner_id == user_id, is_collaborator(Board.id, user_id))
    stmt = select(Board).where(mine, _privacy_clause(principal, user_id, query.privacy_filter))
    if query.collaborative_only:
        stmt = stmt.where(Board.collaborator_count > 0)
    if not query.include_archived:
        stmt = stmt.where(Board.archived.is_(False))
    if not query.include_empty:
        stmt = stmt.where(Board.pin_count > 0)
    order, descending = _board_order(query.sort, query.group_by)
    return await seek(session, stmt, order=order, after=after, limit=limit, descending=descending)


async def boards_following(
    session: AsyncSession,
    *,
    principal: Principal,
    user_id: int,
    explicit_only: bool,
    after: list[Any] | None,
    limit: int,
) -> Seek:
    """Boards a user follows, newest board first; unless ``explicit_only``, also the boards
    of the users they follow (an implicit follow)."""
    followed: ColumnElement[bool] = exists().where(
        BoardFollow.user_id == user_id, BoardFollow.board_id == Board.id
    )
    if not explicit_only:
        followed = or_(
            followed,
            exists().where(UserFollow.follower_id == user_id, UserFollow.followee_id == Board.owner_id),
        )
    stmt = select(Board).where(
        followed,
        Board.archived.is_(False),
        listable_boards(principal),
    )
    return await seek(session, stmt, order=[Board.id], after=after, limit=limit, descending=True)


async def board_relations(
    session: AsyncSession, *, viewer_id: int | None, board_ids: Sequence[int]
) -> tuple[set[int], set[int]]:
    """Of ``board_ids``, the ones the viewer collaborates on and the ones they follow
    (two queries per page, not two per board)."""
    if viewer_id is None or not board_ids:
        return set(), set()
    collab = await session.scalars(
        select(BoardCollaborator.board_id).where(
            BoardCollaborator.user_id == viewer_id, BoardCollaborator.board_id.in_(board_ids)
        )
    )
    follows = await session.scalars(
        select(BoardFollow.board_id).where(
            BoardFollow.user_id == viewer_id, BoardFollow.board_id.in_(board_ids)
        )
    )
    return set(collab.all()), set(follows.all())


async def board_covers(
    session: AsyncSession, *, board_ids: Sequence[int]
) -> dict[int, tuple[Pin, Image | None]]:
    """The newest pin of each board (its cover, as on the board itself) with its image.

    One statement a page: a correlated ``ORDER BY id DESC LIMIT 1`` per board, which walks
    ``ix_pins_board`` backwards instead of aggregating a whole board.
    """
    if not board_ids:
        return {}
    newest = select(Pin.id).where(Pin.board_id == Board.id).order_by(Pin.id.desc()).limit(1).scalar_subquery()
    cover_ids = select(newest).where(Board.id.in_(board_ids))
    rows = await session.execute(
        select(Pin, Image).outerjoin(Image, Image.id == Pin.image_id).where(Pin.id.in_(cover_ids))
    )
    return {pin.board_id: (pin, image) for pin, image in rows}
