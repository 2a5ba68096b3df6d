"""Who may see a board and its pins: the privacy rules every organic read shares.

- ``public`` boards are visible to every caller (client-authorized requests included).
- ``protected`` boards are visible only to their owner and collaborators, and lists show
  them only when asked (``include_protected_pins``, ``privacy_filter``). No extra scope.
- ``secret`` boards are visible only to their owner and collaborators, and even they need
  ``read_secret_boards`` (boards) or ``read_secret_pins`` (pins) on the token.

A board or pin the caller may not see answers exactly like one that does not exist (code 40
for boards, 50 for pins), so ids cannot be probed. Writing needs owner or collaborator.
"""

from __future__ import annotations

from sqlalchemy import exists, false, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement

from pinapi.domain.access.principal import Principal
from pinapi.domain.errors import Forbidden, NotFound
from pinapi.store.tables import Board, BoardCollaborator, Pin

PUBLIC, PROTECTED, SECRET = "public", "protected", "secret"
PRIVACIES = (PUBLIC, PROTECTED, SECRET)
SECRET_BOARDS_SCOPE = "read_secret_boards"
SECRET_PINS_SCOPE = "read_secret_pins"


class BoardNotFound(NotFound):
    def __init__(self) -> None:
        super().__init__("Board", code=40)


class PinNotFound(NotFound):
    def __init__(self) -> None:
        super().__init__("Pin", code=50)


def may_see(
    privacy: str, *, is_member: bool, scopes: frozenset[str], secret_scope: str = SECRET_BOARDS_SCOPE
) -> bool:
    """The rule itself: ``is_member`` means owner or collaborator of the board."""
    if privacy == PUBLIC:
        return True
    if not is_member:
        return False
    return privacy == PROTECTED or secret_scope in scopes


async def is_member(session: AsyncSession, *, board: Board, user_id: int | None) -> bool:
    """Owner or collaborator of ``board`` (one primary-key lookup when not the owner)."""
    if user_id is None:
        return False
    if board.owner_id == user_id:
        return True
    row = await session.get(BoardCollaborator, (board.id, user_id))
    return row is not None


async def board_visible(
    session: AsyncSession, *, board: Board, principal: Principal, secret_scope: str = SECRET_BOARDS_SCOPE
) -> bool:
    if board.privacy == PUBLIC:
        return True
    member = await is_member(session, board=board, user_id=principal.user_id)
    return may_see(board.privacy, is_member=member, scopes=principal.scopes, secret_scope=secret_scope)


async def visible_board(
    session: AsyncSession, *, board_id: int, principal: Principal, secret_scope: str = SECRET_BOARDS_SCOPE
) -> Board:
    """The board ``board_id`` if the caller may see it, else code 40."""
    board = await session.get(Board, board_id)
    if board is None or not await board_visible(
        session, board=board, principal=principal, secret_scope=secret_scope
    ):
        raise BoardNotFound()
    return board


async def visible_pin(session: AsyncSession, *, pin_id: int, principal: Principal) -> tuple[Pin, Board]:
    """The pin ``pin_id`` and its board if the caller may see them, else code 50."""
    row = (
        await session.execute(
            select(Pin, Board).join(Board, Board.id == Pin.board_id).where(Pin.id == pin_id)
        )
    ).first()
    if row is None:
        raise PinNotFound()
    pin, board = row
    if not await board_visible(session, board=board, principal=principal, secret_scope=SECRET_PINS_SCOPE):
        raise PinNotFound()
    return pin, board


def listable_boards(
    principal: Principal,
    *,
    include_protected: bool = False,
    secret_scope: str = SECRET_BOARDS_SCOPE,
    privacies: tuple[str, ...] = PRIVACIES,
) -> ColumnElement[bool]:
    """A WHERE clause on ``Board`` for lists: what the caller may see, among ``privacies``.

    Protected boards appear only with ``include_protected``; secret ones only for members
    holding ``secret_scope``. Join or subquery on ``Board`` to use it for pins.
    """
    uid = principal.user_id
    member: ColumnElement[bool]
    if uid is None:
        member = false()
    else:
        member = or_(
            Board.owner_id == uid,
            exists().where(BoardCollaborator.board_id == Board.id, BoardCollaborator.user_id == uid),
        )
    allowed: list[ColumnElement[bool]] = []
    if PUBLIC in privacies:
        allowed.append(Board.privacy == PUBLIC)
    if PROTECTED in privacies and include_protected:
        allowed.append((Board.privacy == PROTECTED) & member)
    if SECRET in privacies and secret_scope in principal.scopes:
        allowed.append((Board.privacy == SECRET) & member)
    return or_(*allowed) if allowed else false()


async def writable_board(session: AsyncSession, *, board_id: int, principal: Principal) -> Board:
    """A board the caller may add pins or sections to: owner or collaborator.

    A board the caller cannot see is code 40; one they see but may not write is code 7.
    """
    board = await session.get(Board, board_id)
    if board is None:
        raise BoardNotFound()
    if await is_member(session, board=board, user_id=principal.user_id):
        # Members write to their own secret boards without needing the secret read scope.
        return board
    if board.privacy != PUBLIC:
        raise BoardNotFound()
    raise Forbidden("Only the board's owner and collaborators may change it.")
