"""Organic content: boards, collaborators, sections, images, pins, follows and comments.

Counters shown on the wire (``pin_count``, ``follower_count``, ``repin_count``…) are columns
kept exact by ``UPDATE … SET n = n + 1`` in the transaction of the change they count.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from pinapi.store.tables.base import Base, id_column


class Board(Base):
    __tablename__ = "boards"
    __table_args__ = (
        UniqueConstraint("owner_id", "slug", name="uq_boards_owner_slug"),
        Index("ix_boards_owner", "owner_id", "id"),
    )

    id: Mapped[int] = id_column()
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(180))
    slug: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    privacy: Mapped[str] = mapped_column(String(16), default="public")  # public | protected | secret
    category: Mapped[str | None] = mapped_column(String(40))
    layout: Mapped[str] = mapped_column(String(16), default="default")
    archived: Mapped[bool] = mapped_column(Boolean, default=False)
    cover_pin_id: Mapped[int | None]
    pin_count: Mapped[int] = mapped_column(Integer, default=0)
    follower_count: Mapped[int] = mapped_column(Integer, default=0)
    collaborator_count: Mapped[int] = mapped_column(Integer, default=0)
    section_count: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime]
    board_order_modified_at: Mapped[datetime]


class BoardCollaborator(Base):
    __tablename__ = "board_collaborators"
    __table_args__ = (Index("ix_board_collaborators_user", "user_id"),)

    board_id: Mapped[int] = mapped_column(ForeignKey("boards.id", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    created_at: Mapped[datetime]


class BoardSection(Base):
    __tablename__ = "board_sections"
    __table_args__ = (UniqueConstraint("board_id", "title", name="uq_board_sections_title"),)

    id: Mapped[int] = id_column()
    board_id: Mapped[int] = mapped_column(ForeignKey("boards.id", ondelete="CASCADE"), index=True)
    title: Mapped[str] = mapped_column(String(180))
    pin_count: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime]


class Image(Base):
    """An uploaded or fetched image: the original and its variants live under the data dir."""

    __tablename__ = "images"

    id: Mapped[int] = id_column()
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    format: Mapped[str] = mapped_column(String(10))
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    dominant_color: Mapped[str] = mapped_column(String(7))
    variants: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # name -> {width, height, path}
    source_url: Mapped[str | None] = mapped_column(String(2000))
    created_at: Mapped[datetime]


class AggregatedPinData(Base):
    """What every repin of one root pin shares (comments, aggregated counts)."""

    __tablename__ = "aggregated_pin_data"

    id: Mapped[int] = id_column()
    root_pin_id: Mapped[int] = mapped_column(index=True)
    comment_count: Mapped[int] = mapped_column(Integer, default=0)
    save_count: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime]


class Pin(Base):
    __tablename__ = "pins"
    __table_args__ = (
        Index("ix_pins_board", "board_id", "id"),
        Index("ix_pins_section", "section_id", "id"),
        Index("ix_pins_owner", "owner_id", "id"),
    )

    id: Mapped[int] = id_column()
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    board_id: Mapped[int] = mapped_column(ForeignKey("boards.id", ondelete="CASCADE"))
    section_id: Mapped[int | None] = mapped_column(ForeignKey("board_sections.id", ondelete="SET NULL"))
    title: Mapped[str] = mapped_column(String(100), default="")
    description: Mapped[str] = mapped_column(Text, default="")
    alt_text: Mapped[str] = mapped_column(String(500), default="")
    link: Mapped[str | None] = mapped_column(String(2000))
    domain: Mapped[str | None] = mapped_column(String(255))
    image_id: Mapped[int | None] = mapped_column(ForeignKey("images.id", ondelete="SET NULL"))
    image_url: Mapped[str | None] = mapped_column(String(2000))  # as given, when not fetched
    dominant_color: Mapped[str | None] = mapped_column(String(7))
    native_format_type: Mapped[str] = mapped_column(String(32), default="SINGLE_IMAGE")
    story_type: Mapped[str | None] = mapped_column(String(32))
    is_video: Mapped[bool] = mapped_column(Boolean, default=False)
    carousel: Mapped[list[Any] | None] = mapped_column(JSON)
    is_repin: Mapped[bool] = mapped_column(Boolean, default=False)
    parent_pin_id: Mapped[int | None]
    root_pin_id: Mapped[int | None]
    aggregated_pin_data_id: Mapped[int | None] = mapped_column(index=True)
    repin_count: Mapped[int] = mapped_column(Integer, default=0)
    comment_count: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime]


class UserFollow(Base):
    __tablename__ = "user_follows"
    __table_args__ = (
        Index("ix_user_follows_followee", "followee_id", "created_at"),
        # Added by the 0003_search revision: a followers page is an index range.
        Index("ix_user_follows_followee_follower", "followee_id", "follower_id"),
    )

    follower_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    followee_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    explicit: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime]


class BoardFollow(Base):
    __tablename__ = "board_follows"
    __table_args__ = (Index("ix_board_follows_board", "board_id"),)

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    board_id: Mapped[int] = mapped_column(ForeignKey("boards.id", ondelete="CASCADE"), primary_key=True)
    created_at: Mapped[datetime]


class Comment(Base):
    """A comment on a root pin's aggregated data, or a reply to another comment."""

    __tablename__ = "comments"
    __table_args__ = (
        Index("ix_comments_agg", "aggregated_pin_data_id", "id"),
        Index("ix_comments_parent", "parent_id", "id"),
    )

    id: Mapped[int] = id_column()
    aggregated_pin_data_id: Mapped[int] = mapped_column(
        ForeignKey("aggregated_pin_data.id", ondelete="CASCADE")
    )
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("comments.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    text: Mapped[str] = mapped_column(Text)
    reply_count: Mapped[int] = mapped_column(Integer, default=0)
    like_count: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime]
