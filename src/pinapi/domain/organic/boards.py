"""Boards: create (with initial pins), read, update, delete, follow, and list their pins.

The owner's ``board_count`` and the board's ``follower_count`` move in the transaction of
the change. Deleting a board removes its sections, pins, follows and collaborators in the
request's one transaction, and moves every counter those pins fed (owners' ``pin_count``,
roots' ``repin_count``, shared aggregated data).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from pinapi.domain.access.principal import Principal
from pinapi.domain.errors import Forbidden, Invalid
from pinapi.domain.organic import pins as pin_lib
from pinapi.domain.organic.visibility import (
    PRIVACIES,
    SECRET_BOARDS_SCOPE,
    BoardNotFound,
    board_visible,
    is_member,
)
from pinapi.store.keyset import KeysetPage, fetch_page
from pinapi.store.tables import (
    AggregatedPinData,
    Board,
    BoardCollaborator,
    BoardFollow,
    BoardSection,
    Pin,
    User,
)

NAME_MAX = 180
DESCRIPTION_MAX = 500
INITIAL_PINS_MAX = 50
CATEGORIES = [
    "animals",
    "apparel",
    "architecture",
    "art",
    "art_arch",
    "cars_motorcycles",
    "celebrities",
    "celebrities_public_figures",
    "commerce",
    "corgis",
    "culture",
    "design",
    "diy_crafts",
    "education",
    "everything",
    "fashion",
    "featured",
    "film_music_books",
    "fitness",
    "food_drink",
    "for_dad",
    "fresh",
    "gardening",
    "geek",
    "gift_guides",
    "gifts",
    "hair_beauty",
    "health_fitness",
    "history",
    "holidays",
    "holidays_events",
    "home",
    "home_decor",
    "home_improvement",
    "humor",
    "illustrations_posters",
    "kids",
    "men_apparel",
    "mens_fashion",
    "mylife",
    "other",
    "outdoors",
    "people",
    "pets",
    "photography",
    "popular",
    "prints_posters",
    "products",
    "quotes",
    "science",
    "science_nature",
    "shop",
    "shop_space",
    "sports",
    "tattoos",
    "technology",
    "travel",
    "travel_places",
    "videos",
    "wedding_events",
    "weddings",
    "women_apparel",
    "womens_fashion",
]
LAYOUTS = ("default", "class_community", "taught_classes", "places", "quick_saves", "screenshot", "travel")


@dataclass(frozen=True, slots=True)
class BoardFields:
    """Settable board fields; None means "leave as is" on update."""

    name: str | None = None
    description: str | None = None
    category: str | None = None
    privacy: str | None = None
    layout: str | None = None


def slugify(name: str) -> str:
    """The URL part of a board name: lower-case ASCII words joined by dashes."""
    text = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode().lower()
    slug = re.sub(r"[^a-z0-9]+", "-", text).strip("-")
    return slug[:180] or "board"


def _check(fields: BoardFields) -> None:
    if fields.name is not None:
        if not fields.name.strip():
            raise Invalid("name", "must not be blank", code=96)
        if len(fields.name) > NAME_MAX:
            raise Invalid("name", f"must be at most {NAME_MAX} characters", code=96)
    if fields.description is not None and len(fields.description) > DESCRIPTION_MAX:
        raise Invalid("description", f"must be at most {DESCRIPTION_MAX} characters")
    if fields.category is not None and fields.category not in CATEGORIES:
        raise Invalid("category", "is not a board category (see BoardInfo.category)")
    if fields.privacy is not None and fields.privacy not in PRIVACIES:
        raise Invalid("privacy", f"must be one of {', '.join(PRIVACIES)}")
    if fields.layout is not None and fields.layout not in LAYOUTS:
        raise Invalid("layout", f"must be one of {', '.join(LAYOUTS)}")


async def _slug_taken(
    session: AsyncSession, *, owner_id: int, slug: str, but: int | None = None
) -> Board | None:
    stmt = select(Board).where(Board.owner_id == owner_id, Board.slug == slug)
    if but is not None:
        stmt = stmt.where(Board.id != but)
    return await session.scalar(stmt)


async def create_board(
    session: AsyncSession,
    *,
    now: datetime,
    principal: Principal,
    fields: BoardFields,
    initial_pins: list[int],
    return_existing: bool = False,
) -> tuple[Board, bool]:
    """A new board of the caller (or, with ``return_existing``, the one of that name).

    Returns the board and whether it was created. Initial pins are saved onto it as repins.
    """
    assert principal.user_id is not None
    if fields.name is None:
        raise Invalid("name", "is required")
    _check(fields)
    if len(initial_pins) > INITIAL_PINS_MAX:
        raise Invalid("initial_pins", f"may list at most {INITIAL_PINS_MAX} pins")
    name = fields.name.strip()
    slug = slugify(name)
    existing = await _slug_taken(session, owner_id=principal.user_id, slug=slug)
    if existing is not None:
        if return_existing:
            return existing, False
        raise Invalid("name", "You already have a board with that name.", code=96)
    board = Board(
        owner_id=principal.user_id,
        name=name,
        slug=slug,
        description=fields.description or "",
        privacy=fields.privacy or "public",
        category=fields.category,
        layout=fields.layout or "default",
        archived=False,
        pin_count=0,
        follower_count=0,
        collaborator_count=0,
        section_count=0,
        created_at=now,
        board_order_modified_at=now,
    )
    # No savepoint: SQLite's driver turns one into a commit. A name raced in by a concurrent
    # request fails the flush, and the request's transaction rolls back as a whole.
    session.add(board)
    try:
        await session.flush()
    except IntegrityError as exc:
        raise Invalid("name", "You already have a board with that name.", code=96) from exc
    await session.execute(
        update(User).where(User.id == principal.user_id).values(board_count=User.board_count + 1)
    )
    for pin_id in dict.fromkeys(initial_pins):  # a pin listed twice is saved once
        await pin_lib.save_pin(session, now=now, principal=principal, pin_id=pin_id, board_id=board.id)
    await session.refresh(board)
    return board, True


async def get_board(
    session: AsyncSession, *, principal: Principal, ref: str, secret_scope: str = SECRET_BOARDS_SCOPE
) -> Board:
    """A board by id or ``username/slug`` that the caller may see, else code 40."""
    board: Board | None
    if ref.isascii() and ref.isdigit():
        board = await session.get(Board, int(ref)) if len(ref) <= 19 and int(ref) < 2**63 else None
    elif "/" in ref:
        username, _, slug = ref.strip("/").partition("/")
        board = await session.scalar(
            select(Board)
            .join(User, User.id == Board.owner_id)
            .where(func.lower(User.username) == username.lower(), Board.slug == slug.lower())
        )
    else:
        raise Invalid("board", "must be a board id or username/board_slug")
    if board is None or not await board_visible(
        session, board=board, principal=principal, secret_scope=secret_scope
    ):
        raise BoardNotFound()
    return board


async def owned_board(session: AsyncSession, *, principal: Principal, ref: str) -> Board:
    """A board only its owner may change (collaborators see it but get code 7)."""
    board = await get_board(session, principal=principal, ref=ref)
    if board.owner_id != principal.user_id:
        raise Forbidden("Only the board's owner may change or delete it.")
    return board


async def update_board(session: AsyncSession, *, now: datetime, board: Board, fields: BoardFields) -> Board:
    _check(fields)
    if fields.name is not None and fields.name.strip() != board.name:
        slug = slugify(fields.name.strip())
        if await _slug_taken(session, owner_id=board.owner_id, slug=slug, but=board.id):
            raise Invalid("name", "You already have a board with that name.", code=96)
        board.name, board.slug = fields.name.strip(), slug
    if fields.description is not None:
        board.description = fields.description
    if fields.category is not None:
        board.category = fields.category
    if fields.privacy is not None:
        board.privacy = fields.privacy
    if fields.layout is not None:
        board.layout = fields.layout
    board.board_order_modified_at = now
    await session.flush()
    return board


async def delete_board(session: AsyncSession, *, board: Board) -> None:
    """Remove the board and everything on it, fixing every counter its pins fed."""
    on_board = Pin.board_id == board.id
    owners = (
        await session.execute(select(Pin.owner_id, func.count()).where(on_board).group_by(Pin.owner_id))
    ).all()
    roots = (
        await session.execute(
            select(Pin.root_pin_id, func.count())
            .where(on_board, Pin.is_repin.is_(True), Pin.root_pin_id.is_not(None))
            .group_by(Pin.root_pin_id)
        )
    ).all()
    saves = (
        await session.execute(
            select(Pin.aggregated_pin_data_id, func.count())
            .where(on_board, Pin.is_repin.is_(True), Pin.aggregated_pin_data_id.is_not(None))
            .group_by(Pin.aggregated_pin_data_id)
        )
    ).all()
    aggs = set(
        (
            await session.scalars(
                select(Pin.aggregated_pin_data_id)
                .where(on_board, Pin.aggregated_pin_data_id.is_not(None))
                .distinct()
            )
        ).all()
    )
    await session.execute(delete(Pin).where(on_board))
    for uid, n in owners:
        await session.execute(update(User).where(User.id == uid).values(pin_count=User.pin_count - n))
    for rid, n in roots:
        await session.execute(update(Pin).where(Pin.id == rid).values(repin_count=Pin.repin_count - n))
    for aid, n in saves:
        await session.execute(
            update(AggregatedPinData)
            .where(AggregatedPinData.id == aid)
            .values(save_count=AggregatedPinData.save_count - n)
        )
    if aggs:
        still_used = set(
            (
                await session.scalars(
                    select(Pin.aggregated_pin_data_id).where(Pin.aggregated_pin_data_id.in_(aggs))
                )
            ).all()
        )
        gone = [a for a in aggs if a not in still_used and a is not None]
        if gone:
            await session.execute(delete(AggregatedPinData).where(AggregatedPinData.id.in_(gone)))
    await session.execute(delete(BoardSection).where(BoardSection.board_id == board.id))
    await session.execute(delete(BoardFollow).where(BoardFollow.board_id == board.id))
    await session.execute(delete(BoardCollaborator).where(BoardCollaborator.board_id == board.id))
    await session.execute(delete(Board).where(Board.id == board.id))
    await session.execute(
        update(User).where(User.id == board.owner_id).values(board_count=User.board_count - 1)
    )
    session.expunge(board)


async def follow_board(session: AsyncSession, *, now: datetime, principal: Principal, board: Board) -> bool:
    """Follow ``board``; True when this call created the follow (counted once)."""
    assert principal.user_id is not None
    if board.owner_id == principal.user_id:
        raise Invalid("board", "you cannot follow your own board", code=42)
    # INSERT … ON CONFLICT DO NOTHING (both dialects): racing twins count once, no savepoint.
    dialect = session.get_bind().dialect.name
    make_insert = pg_insert if dialect == "postgresql" else sqlite_insert
    result: Any = await session.execute(
        make_insert(BoardFollow)
        .values(user_id=principal.user_id, board_id=board.id, created_at=now)
        .on_conflict_do_nothing()
    )
    if not result.rowcount:
        return False
    await session.execute(
        update(Board).where(Board.id == board.id).values(follower_count=Board.follower_count + 1)
    )
    return True


async def unfollow_board(session: AsyncSession, *, principal: Principal, board: Board) -> bool:
    assert principal.user_id is not None
    result: Any = await session.execute(
        delete(BoardFollow).where(BoardFollow.user_id == principal.user_id, BoardFollow.board_id == board.id)
    )
    if not result.rowcount:
        return False
    await session.execute(
        update(Board).where(Board.id == board.id).values(follower_count=Board.follower_count - 1)
    )
    return True


async def viewer_flags(session: AsyncSession, *, board: Board, user_id: int | None) -> tuple[bool, bool]:
    """(followed_by_me, collaborated_by_me) for one board."""
    if user_id is None:
        return False, False
    followed = await session.get(BoardFollow, (user_id, board.id)) is not None
    collaborating = board.owner_id != user_id and await is_member(session, board=board, user_id=user_id)
    return followed, collaborating


async def thumbnails(session: AsyncSession, *, board: Board, limit: int = 5) -> list[pin_lib.PinView]:
    """The newest pins of the board, for its cover and thumbnails."""
    rows = (
        await session.scalars(
            select(Pin).where(Pin.board_id == board.id).order_by(Pin.id.desc()).limit(limit)
        )
    ).all()
    return await pin_lib.views(session, rows)


async def list_pins(
    session: AsyncSession,
    *,
    board_id: int,
    section_id: int | None = None,
    filter_section_pins: bool = False,
    filter_stories: bool = False,
    after: list[Any] | None,
    limit: int,
) -> KeysetPage[Pin]:
    """Pins of a board (or of one section), newest first, one keyset page."""
    stmt = select(Pin).where(Pin.board_id == board_id)
    if section_id is not None:
        stmt = stmt.where(Pin.section_id == section_id)
    elif filter_section_pins:
        stmt = stmt.where(Pin.section_id.is_(None))
    stmt = stmt.where(*pin_lib.pin_list_filters(filter_stories=filter_stories))
    return await fetch_page(
        session,
        stmt,
        order=[Pin.__table__.c.id],
        after=after,
        limit=limit,
        descending=True,
        key_of=lambda p: [p.id],
    )


@dataclass(slots=True)
class BoardView:
    """A board with what its full wire shape needs, for one viewer."""

    board: Board
    owner: User
    followed_by_me: bool
    collaborated_by_me: bool
    thumbnails: list[pin_lib.PinView]


async def board_view(session: AsyncSession, *, board: Board, viewer_id: int | None) -> BoardView:
    owner = await session.get(User, board.owner_id)
    assert owner is not None
    followed, collaborating = await viewer_flags(session, board=board, user_id=viewer_id)
    thumbs = await thumbnails(session, board=board)
    return BoardView(board, owner, followed, collaborating, thumbs)
