"""Board sections: at most 500 a board (code 2034), titles unique within a board (code 2035).

The limit is enforced by one guarded ``UPDATE boards SET section_count = section_count + 1
WHERE section_count < 500``, so concurrent creations cannot overshoot it; a duplicate title
that slips past the check meets the unique constraint and answers 2035 too. Deleting a
section keeps its pins on the board (they leave the section).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from pinapi.domain.access.principal import Principal
from pinapi.domain.errors import Invalid
from pinapi.domain.organic.pins import SectionNotFound
from pinapi.domain.organic.visibility import board_visible, writable_board
from pinapi.store.keyset import KeysetPage, fetch_page
from pinapi.store.tables import Board, BoardSection, Pin

MAX_SECTIONS = 500
TITLE_MAX = 180


class SectionLimit(Invalid):
    def __init__(self) -> None:
        super().__init__("board", "Only up to 500 sections on a board", code=2034)
        self.message = "Only up to 500 sections on a board"


class SectionTitleTaken(Invalid):
    def __init__(self) -> None:
        super().__init__("title", "A section with that name already exists.", code=2035)
        self.message = "A section with that name already exists."


async def create_section(
    session: AsyncSession,
    *,
    now: datetime,
    principal: Principal,
    board_id: int,
    title: str,
    initial_pins: list[int],
) -> BoardSection:
    """A new section on a board the caller may write; ``initial_pins`` (on that board) move in."""
    title = title.strip()
    if not title:
        raise Invalid("title", "must not be blank")
    if len(title) > TITLE_MAX:
        raise Invalid("title", f"must be at most {TITLE_MAX} characters")
    board = await writable_board(session, board_id=board_id, principal=principal)
    taken = await session.scalar(
        select(BoardSection.id).where(
            BoardSection.board_id == board.id, func.lower(BoardSection.title) == title.lower()
        )
    )
    if taken is not None:
        raise SectionTitleTaken()
    result: Any = await session.execute(
        update(Board)
        .where(Board.id == board.id, Board.section_count < MAX_SECTIONS)
        .values(section_count=Board.section_count + 1)
    )
    if not result.rowcount:
        raise SectionLimit()
    section = BoardSection(board_id=board.id, title=title, pin_count=0, created_at=now)
    session.add(section)
    try:
        await session.flush()
    except IntegrityError as exc:  # a concurrent twin won; this request rolls back whole
        raise SectionTitleTaken() from exc
    if initial_pins:
        await move_pins(
            session, board_id=board.id, section=section, pin_ids=initial_pins, field="initial_pins"
        )
    await session.refresh(section)
    return section


async def move_pins(
    session: AsyncSession, *, board_id: int, section: BoardSection, pin_ids: list[int], field: str
) -> None:
    """Move pins of ``board_id`` into ``section``, keeping every section's pin_count exact."""
    wanted = set(pin_ids)
    rows = (await session.scalars(select(Pin).where(Pin.id.in_(wanted), Pin.board_id == board_id))).all()
    missing = wanted - {p.id for p in rows}
    if missing:
        raise Invalid(field, f"pin {min(missing)} is not on this board")
    for pin in rows:
        if pin.section_id == section.id:
            continue
        if pin.section_id is not None:
            await session.execute(
                update(BoardSection)
                .where(BoardSection.id == pin.section_id)
                .values(pin_count=BoardSection.pin_count - 1)
            )
        pin.section_id = section.id
        await session.execute(
            update(BoardSection)
            .where(BoardSection.id == section.id)
            .values(pin_count=BoardSection.pin_count + 1)
        )
    await session.flush()


async def get_section(
    session: AsyncSession, *, principal: Principal, section_id: int
) -> tuple[BoardSection, Board]:
    """A section whose board the caller may see, else code 2031."""
    row = (
        await session.execute(
            select(BoardSection, Board)
            .join(Board, Board.id == BoardSection.board_id)
            .where(BoardSection.id == section_id)
        )
    ).first()
    if row is None:
        raise SectionNotFound()
    section, board = row
    if not await board_visible(session, board=board, principal=principal):
        raise SectionNotFound()
    return section, board


async def list_sections(
    session: AsyncSession, *, board_id: int, after: list[Any] | None, limit: int
) -> KeysetPage[BoardSection]:
    """Sections of a board in creation order (ids are time-ordered)."""
    stmt = select(BoardSection).where(BoardSection.board_id == board_id)
    return await fetch_page(
        session,
        stmt,
        order=[BoardSection.__table__.c.id],
        after=after,
        limit=limit,
        key_of=lambda s: [s.id],
    )


async def delete_section(session: AsyncSession, *, principal: Principal, section_id: int) -> None:
    """Delete a section of a board the caller may write; its pins stay on the board."""
    section, board = await get_section(session, principal=principal, section_id=section_id)
    await writable_board(session, board_id=board.id, principal=principal)
    await session.execute(update(Pin).where(Pin.section_id == section.id).values(section_id=None))
    await session.execute(
        update(Board).where(Board.id == board.id).values(section_count=Board.section_count - 1)
    )
    await session.delete(section)
    await session.flush()
