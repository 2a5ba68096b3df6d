"""Organic rows for the users/follows/search/comments tests, written straight to the store.

These tests are about lists, privacy and ranking, not about creating boards and pins (the
boards and pins tests cover that through the API), so rows are inserted directly with the
counters the real writes would leave.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import TypeVar

from sqlalchemy import update

from pinapi.runtime import Runtime
from pinapi.store.tables import (
    AggregatedPinData,
    Board,
    BoardCollaborator,
    BoardFollow,
    Comment,
    Pin,
    User,
)

T = TypeVar("T")


class Rows:
    def __init__(self, runtime: Runtime) -> None:
        self.rt = runtime
        self._tick = 0

    def _now(self) -> datetime:
        # Distinct, increasing times so orderings by time are unambiguous.
        self._tick += 1
        return self.rt.clock.now() + timedelta(seconds=self._tick)

    async def board(
        self,
        owner: User,
        name: str,
        *,
        privacy: str = "public",
        description: str = "",
        archived: bool = False,
        collaborators: tuple[User, ...] = (),
    ) -> Board:
        async with self.rt.sessions() as s, s.begin():
            now = self._now()
            board = Board(
                owner_id=owner.id,
                name=name,
                slug=re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-") or "board",
                description=description,
                privacy=privacy,
                layout="default",
                archived=archived,
                pin_count=0,
                follower_count=0,
                collaborator_count=len(collaborators),
                section_count=0,
                created_at=now,
                board_order_modified_at=now,
            )
            s.add(board)
            await s.flush()
            for c in collaborators:
                s.add(BoardCollaborator(board_id=board.id, user_id=c.id, created_at=now))
            await s.execute(update(User).where(User.id == owner.id).values(board_count=User.board_count + 1))
        return board

    async def pin(
        self,
        owner: User,
        board: Board,
        title: str = "",
        *,
        description: str = "",
        parent: Pin | None = None,
    ) -> Pin:
        async with self.rt.sessions() as s, s.begin():
            now = self._now()
            pin = Pin(
                owner_id=owner.id,
                board_id=board.id,
                title=title,
                description=description,
                alt_text="",
                link=None,
                image_url="http://example.com/image.png",
                native_format_type="SINGLE_IMAGE",
                is_video=False,
                is_repin=parent is not None,
                parent_pin_id=parent.id if parent else None,
                root_pin_id=(parent.root_pin_id or parent.id) if parent else None,
                aggregated_pin_data_id=parent.aggregated_pin_data_id if parent else None,
                repin_count=0,
                comment_count=0,
                created_at=now,
            )
            s.add(pin)
            await s.flush()
            if parent is None:
                agg = AggregatedPinData(root_pin_id=pin.id, comment_count=0, save_count=0, created_at=now)
                s.add(agg)
                await s.flush()
                pin.aggregated_pin_data_id = agg.id
            else:
                root = parent.root_pin_id or parent.id
                await s.execute(update(Pin).where(Pin.id == root).values(repin_count=Pin.repin_count + 1))
            await s.execute(update(Board).where(Board.id == board.id).values(pin_count=Board.pin_count + 1))
            await s.execute(update(User).where(User.id == owner.id).values(pin_count=User.pin_count + 1))
        return pin

    async def follow_board(self, user: User, board: Board) -> None:
        async with self.rt.sessions() as s, s.begin():
            s.add(BoardFollow(user_id=user.id, board_id=board.id, created_at=self._now()))

    async def comment(self, user: User, pin: Pin, text: str, *, parent: Comment | None = None) -> Comment:
        assert pin.aggregated_pin_data_id is not None
        async with self.rt.sessions() as s, s.begin():
            comment = Comment(
                aggregated_pin_data_id=pin.aggregated_pin_data_id,
                parent_id=parent.id if parent else None,
                user_id=user.id,
                text=text,
                reply_count=0,
                like_count=0,
                created_at=self._now(),
            )
            s.add(comment)
            await s.flush()
        return comment

    async def get(self, model: type[T], key: object) -> T:
        async with self.rt.sessions() as s:
            found = await s.get(model, key)
        assert found is not None
        return found
