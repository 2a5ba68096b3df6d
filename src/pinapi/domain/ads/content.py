"""Ads boards and pins: an advertiser's team working on the owner's organic boards and pins.

The ``/ads/v3/boards|pins/…`` routes act on content of an advertiser's owner on behalf of
anyone holding a role on that advertiser. The role decides, per board privacy:
``{PUBLIC,PROTECTED,SECRET}_BOARD_{READ,CREATE,UPDATE}`` and ``PIN_{READ,CREATE,UPDATE}``
(deleting counts as updating). When the request names no advertiser, any advertiser owned by
the board's owner on which the caller holds a role may grant the action.

Once allowed, the work is done by the organic domain functions with an *acting* principal:
the owner, carrying the caller's app and scopes plus the secret-content scopes (the role
check replaced the token's say on secret boards). A board or pin the caller holds no role
for answers "not found" (codes 40 and 50), like organic content one may not see.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from pinapi.domain.access import roles as role_lib
from pinapi.domain.access import sharing
from pinapi.domain.access.principal import Principal
from pinapi.domain.errors import AdvertiserAccessDenied, Invalid
from pinapi.domain.organic import pins as pin_lib
from pinapi.domain.organic.visibility import (
    PRIVACIES,
    SECRET_BOARDS_SCOPE,
    SECRET_PINS_SCOPE,
    BoardNotFound,
    PinNotFound,
)
from pinapi.store.keyset import KeysetPage, fetch_page
from pinapi.store.tables import Advertiser, Board, Pin

PREFIX = {"public": "PUBLIC_BOARD", "protected": "PROTECTED_BOARD", "secret": "SECRET_BOARD"}
SEARCH_MAX = 200


@dataclass(frozen=True, slots=True)
class Acting:
    """Who acts (the owner), for whom (the caller) and with which role actions."""

    principal: Principal
    owner_id: int
    actions: frozenset[str]

    def require(self, *actions: str) -> None:
        for action in actions:
            if action not in self.actions:
                raise AdvertiserAccessDenied(
                    f"User is not authorized to access requested advertiser (needs {action})."
                )

    def readable_privacies(self) -> tuple[str, ...]:
        return tuple(p for p in PRIVACIES if f"{PREFIX[p]}_READ" in self.actions)


def board_action(privacy: str, kind: str) -> str:
    return f"{PREFIX.get(privacy, 'SECRET_BOARD')}_{kind}"


def _acting(principal: Principal, owner_id: int, actions: frozenset[str]) -> Acting:
    scopes = principal.scopes | {SECRET_BOARDS_SCOPE, SECRET_PINS_SCOPE}
    owner = Principal(
        user_id=owner_id, app_id=principal.app_id, scopes=frozenset(scopes), token_id=principal.token_id
    )
    return Acting(principal=owner, owner_id=owner_id, actions=actions)


async def for_advertiser(session: AsyncSession, *, principal: Principal, advertiser_id: int) -> Acting:
    """The caller's standing on ``advertiser_id`` (no role at all: code 1902)."""
    advertiser = await session.get(Advertiser, advertiser_id)
    if advertiser is None or principal.user_id is None:
        raise AdvertiserAccessDenied()
    roles = await sharing.roles_of(session, user_id=principal.user_id, advertiser=advertiser)
    if not roles:
        raise AdvertiserAccessDenied()
    return _acting(principal, advertiser.owner_user_id, role_lib.actions_for(roles))


async def for_owner(
    session: AsyncSession,
    *,
    principal: Principal,
    owner_id: int,
    advertiser_id: int | None,
    missing: Exception,
) -> Acting:
    """The caller's standing on content of ``owner_id``, through one or any of their advertisers."""
    if principal.user_id is None:
        raise missing
    stmt = select(Advertiser).where(Advertiser.owner_user_id == owner_id)
    if advertiser_id is not None:
        stmt = stmt.where(Advertiser.id == advertiser_id)
    actions: frozenset[str] = frozenset()
    for advertiser in (await session.scalars(stmt)).all():
        roles = await sharing.roles_of(session, user_id=principal.user_id, advertiser=advertiser)
        actions |= role_lib.actions_for(roles)
    if not actions:
        raise missing
    return _acting(principal, owner_id, actions)


async def board_for(
    session: AsyncSession, *, principal: Principal, board_id: int, kind: str, advertiser_id: int | None = None
) -> tuple[Board, Acting]:
    board = await session.get(Board, board_id)
    if board is None:
        raise BoardNotFound()
    acting = await for_owner(
        session,
        principal=principal,
        owner_id=board.owner_id,
        advertiser_id=advertiser_id,
        missing=BoardNotFound(),
    )
    acting.require(board_action(board.privacy, kind))
    return board, acting


async def pin_for(
    session: AsyncSession, *, principal: Principal, pin_id: int, kind: str, advertiser_id: int | None = None
) -> tuple[Pin, Board, Acting]:
    row = (
        await session.execute(
            select(Pin, Board).join(Board, Board.id == Pin.board_id).where(Pin.id == pin_id)
        )
    ).first()
    if row is None:
        raise PinNotFound()
    pin, board = row
    acting = await for_owner(
        session,
        principal=principal,
        owner_id=board.owner_id,
        advertiser_id=advertiser_id,
        missing=PinNotFound(),
    )
    acting.require(f"PIN_{kind}", board_action(board.privacy, "READ"))
    return pin, board, acting


async def update_pin(session: AsyncSession, *, pin: Pin, fields: dict[str, str | None]) -> Pin:
    """Change a pin's text and link (the organic API has no pin update; v3 ads does)."""
    merged = pin_lib.PinFields(
        title=pin.title if fields.get("title") is None else str(fields["title"]),
        description=pin.description if fields.get("description") is None else str(fields["description"]),
        alt_text=pin.alt_text if fields.get("alt_text") is None else str(fields["alt_text"]),
        link=fields.get("link", pin.link),
    )
    checked = pin_lib.check_fields(merged)
    pin.title, pin.description, pin.alt_text = checked.title, checked.description, checked.alt_text
    pin.link = checked.link
    pin.domain = pin_lib.domain_of(checked.link)
    await session.flush()
    return pin


async def set_cover(session: AsyncSession, *, board: Board, pin_id: int) -> Board:
    on_board = await session.scalar(select(Pin.id).where(Pin.id == pin_id, Pin.board_id == board.id))
    if on_board is None:
        raise Invalid("pin_id", f"pin {pin_id} is not on board {board.id}")
    board.cover_pin_id = pin_id
    await session.flush()
    return board


async def owner_boards(
    session: AsyncSession, *, acting: Acting, after: list[Any] | None, limit: int
) -> KeysetPage[Board]:
    privacies = acting.readable_privacies()
    if not privacies:
        acting.require("PUBLIC_BOARD_READ")
    stmt = select(Board).where(Board.owner_id == acting.owner_id, Board.privacy.in_(privacies))
    return await fetch_page(
        session, stmt, order=[Board.id.expression], after=after, limit=limit, key_of=lambda b: [b.id]
    )


async def owner_pins(
    session: AsyncSession, *, acting: Acting, query: str | None, after: list[Any] | None, limit: int
) -> KeysetPage[Pin]:
    """The owner's pins on boards the role may read, newest first; ``query`` matches text."""
    acting.require("PIN_READ")
    privacies: Sequence[str] = acting.readable_privacies()
    stmt = (
        select(Pin)
        .join(Board, Board.id == Pin.board_id)
        .where(Pin.owner_id == acting.owner_id, Board.privacy.in_(list(privacies)))
    )
    if query is not None:
        words = [w for w in query.lower().split() if w]
        if not words:
            raise Invalid("query", "must not be empty")
        for word in words:
            like = f"%{word.replace('%', '').replace('_', '')}%"
            stmt = stmt.where(or_(Pin.title.ilike(like), Pin.description.ilike(like), Pin.link.ilike(like)))
    return await fetch_page(
        session,
        stmt,
        order=[Pin.id.expression],
        after=after,
        limit=limit,
        descending=True,
        key_of=lambda p: [p.id],
    )
