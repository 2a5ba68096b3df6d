"""Accounts and access: users, OAuth apps, codes, grants, tokens, advertisers and roles."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    false,
)
from sqlalchemy.orm import Mapped, mapped_column

from pinapi.store.tables.base import Base, id_column


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = id_column()
    username: Mapped[str] = mapped_column(String(64), unique=True)
    full_name: Mapped[str] = mapped_column(String(200), default="")
    about: Mapped[str] = mapped_column(Text, default="")
    password_hash: Mapped[str] = mapped_column(String(200), default="")
    is_business: Mapped[bool] = mapped_column(Boolean, default=False)
    website_url: Mapped[str] = mapped_column(String(500), default="")
    pin_count: Mapped[int] = mapped_column(Integer, default=0)
    board_count: Mapped[int] = mapped_column(Integer, default=0)
    follower_count: Mapped[int] = mapped_column(Integer, default=0)
    following_count: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime]
    password_changed_at: Mapped[datetime]


class App(Base):
    __tablename__ = "apps"

    id: Mapped[int] = id_column()
    name: Mapped[str] = mapped_column(String(200))
    secret_hash: Mapped[str] = mapped_column(String(200))
    secret_nonce: Mapped[str] = mapped_column(String(64))
    owner_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime]


class AppRedirectUri(Base):
    __tablename__ = "app_redirect_uris"

    app_id: Mapped[int] = mapped_column(ForeignKey("apps.id", ondelete="CASCADE"), primary_key=True)
    uri: Mapped[str] = mapped_column(String(1000), primary_key=True)


class AuthCode(Base):
    """A single-use authorization code; only its hash is stored."""

    __tablename__ = "oauth_codes"

    code_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    app_id: Mapped[int] = mapped_column(ForeignKey("apps.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    redirect_uri: Mapped[str] = mapped_column(String(1000))
    scopes: Mapped[str] = mapped_column(Text)
    refreshable: Mapped[bool] = mapped_column(Boolean, default=False)
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]


class Grant(Base):
    """Everything a user has ever granted an app; the token response reports this union."""

    __tablename__ = "oauth_grants"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    app_id: Mapped[int] = mapped_column(ForeignKey("apps.id", ondelete="CASCADE"), primary_key=True)
    scopes: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime]


class Token(Base):
    """An access or refresh token, stored as a SHA-256 hash of the random secret."""

    __tablename__ = "oauth_tokens"
    __table_args__ = (Index("ix_oauth_tokens_user", "user_id"),)

    id: Mapped[int] = id_column()
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    kind: Mapped[str] = mapped_column(String(10))  # "access" | "refresh"
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    app_id: Mapped[int] = mapped_column(ForeignKey("apps.id", ondelete="CASCADE"))
    scopes: Mapped[str] = mapped_column(Text)
    refresh_id: Mapped[int | None] = mapped_column(BigInteger)
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]


class Advertiser(Base):
    __tablename__ = "advertisers"
    __table_args__ = (Index("ix_advertisers_owner", "owner_user_id", "id"),)

    id: Mapped[int] = id_column()
    name: Mapped[str] = mapped_column(String(200))
    owner_user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    country: Mapped[str] = mapped_column(String(2), default="US")
    currency: Mapped[str] = mapped_column(String(3), default="USD")
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    status: Mapped[str] = mapped_column(String(20), default="ACTIVE")
    # ads core (0004_ads): terms accepted at creation and the account-level flags v3 shows.
    tos_id: Mapped[int | None] = mapped_column(BigInteger)
    is_one_tap: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    test_account: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class AdvertiserMember(Base):
    """A role a user holds on an advertiser shared with them (account sharing)."""

    __tablename__ = "advertiser_members"
    __table_args__ = (Index("ix_advertiser_members_user", "user_id"),)

    advertiser_id: Mapped[int] = mapped_column(
        ForeignKey("advertisers.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    role: Mapped[str] = mapped_column(String(32), primary_key=True)
    created_at: Mapped[datetime]
