"""Organic users: the profile, its pins, boards and linked businesses.

Also the small paging helpers every organic list of this group uses (``page_args`` reads
``page_size``/``bookmark``, ``to_page`` signs the next bookmark) and the list shapes
``user_summary``, ``pin_items`` and ``board_items``.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from fastapi import Depends
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request

from pinapi.api.common.auth import access
from pinapi.api.common.context import get_runtime, get_session
from pinapi.api.common.envelope import Page
from pinapi.api.common.formats import v3_time
from pinapi.api.common.paging import page_size_from
from pinapi.api.common.params import read_params
from pinapi.api.common.routing import router as make_router
from pinapi.api.v3.organic_shapes import board_info_body, image_url, pin_body
from pinapi.domain.access.principal import Principal
from pinapi.domain.organic import feeds, pins
from pinapi.domain.organic.feeds import BoardFeedQuery, Seek
from pinapi.domain.organic.users import (
    Profile,
    linked_businesses,
    read_profile,
    require_self,
    resolve_user,
)
from pinapi.runtime import Runtime
from pinapi.store.tables import Board, Image, Pin, User

router = make_router(tags=["users"])

AVATAR_SIZES = {"small": 60, "medium": 150, "large": 280, "xlarge": 444}


@functools.lru_cache(maxsize=4096)
def _created_text(created_at: datetime) -> str:
    """``v3_time`` of a creation instant, which never changes: formatting an RFC 2822 date
    costs more than the rest of the profile body, on the API's hottest route."""
    return v3_time(created_at)


def user_body(user: User | Profile, *, base_url: str, public_only: bool) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": str(user.id),
        "username": user.username,
        "full_name": user.full_name,
        "about": user.about,
        "profile_url": f"{base_url}/{user.username}/",
        "pin_count": user.pin_count,
        "board_count": user.board_count,
        "follower_count": user.follower_count,
        "following_count": user.following_count,
        "created_at": _created_text(user.created_at),
        "type": "user",
    }
    for name, size in AVATAR_SIZES.items():
        body[f"image_{name}_url"] = f"{base_url}/media/avatars/default_{size}.png"
    if not public_only:
        body["is_partner"] = user.is_business
        body["profile_reach"] = 0 if user.is_business else -1
        body["verified_domains"] = []
        body["domain_verified"] = False
        body["website_url"] = user.website_url
    return body


_READ_USER = access("read_users", allow_client=True)


@router.get(
    "/v3/users/{user}/",
    openapi_extra={
        "parameters": [
            {"name": "user", "in": "path", "required": True, "schema": {"type": "string"}},
        ],
    },
)
async def v3_get_user_handler(request: Request) -> dict[str, Any]:
    # The hot path of the API: one indexed read through the runtime's reader, no request
    # session, and no FastAPI dependency graph to solve (docs/performance.md).
    principal = await _READ_USER(request)
    user: str = request.path_params["user"]
    runtime = get_runtime(request)
    found = await read_profile(runtime.reader, principal=principal, ref=user)
    return user_body(found, base_url=runtime.settings.base_url(), public_only=principal.is_client)


async def page_args(request: Request, context: str) -> tuple[list[Any] | None, int]:
    """The resume key (from a bookmark signed for ``context``) and the page size."""
    params = await read_params(request)
    limit = page_size_from(params.raw("page_size"))
    raw = params.text("bookmark")
    after = get_runtime(request).bookmarks.decode(raw, context) if raw else None
    return after, limit


def to_page(runtime: Runtime, context: str, page: Seek, items: list[Any]) -> Page:
    bookmark = runtime.bookmarks.encode(context, page.next_key) if page.next_key is not None else None
    return Page(items, bookmark)


def user_summary(user: User, *, base_url: str) -> dict[str, Any]:
    """UserSummary: ``{id, username, type}`` plus the name and avatar lists show."""
    return {
        "id": str(user.id),
        "username": user.username,
        "full_name": user.full_name,
        "image_medium_url": f"{base_url}/media/avatars/default_{AVATAR_SIZES['medium']}.png",
        "type": "user",
    }


async def pin_items(
    session: AsyncSession, rows: Sequence[Any], *, base_url: str, principal: Principal
) -> list[dict[str, Any]]:
    """Pins of a list in their wire shape: two extra queries a page (images, boards)."""
    board_ids = {p.board_id for p in rows}
    boards = {b.id: b for b in (await session.scalars(select(Board).where(Board.id.in_(board_ids)))).all()}
    return [
        pin_body(
            v.pin,
            v.image,
            boards.get(v.pin.board_id),
            base_url=base_url,
            viewer_user_id=principal.user_id,
            public_only=principal.is_client,
            carousel_images=v.carousel_images,
        )
        for v in await pins.views(session, list(rows))
    ]


async def board_items(
    session: AsyncSession, rows: Sequence[Any], *, base_url: str, principal: Principal
) -> list[dict[str, Any]]:
    """Boards of a list as BoardInfo, with the viewer's follow/collaborate flags."""
    owner_ids = {b.owner_id for b in rows}
    owners = {u.id: u for u in (await session.scalars(select(User).where(User.id.in_(owner_ids)))).all()}
    ids = [b.id for b in rows]
    collab, followed = await feeds.board_relations(session, viewer_id=principal.user_id, board_ids=ids)
    covers = await feeds.board_covers(session, board_ids=ids)
    return [
        board_info_body(
            b,
            owners[b.owner_id],
            base_url=base_url,
            viewer_user_id=principal.user_id,
            followed_by_me=b.id in followed,
            collaborated_by_me=b.id in collab,
            thumbnail_url=_cover_url(covers.get(b.id), base_url=base_url),
        )
        for b in rows
    ]


def _cover_url(cover: tuple[Pin, Image | None] | None, *, base_url: str) -> str | None:
    """A board's thumbnail: its newest pin's medium image (or the address the pin was given)."""
    if cover is None:
        return None
    pin, image = cover
    if image is not None and "medium" in image.variants:
        return image_url(image, "medium", base_url=base_url)
    return pin.image_url


@router.get("/v3/users/{user}/pins/")
async def v3_get_pins_handler(
    user: str,
    request: Request,
    principal: Principal = Depends(access("read_users", allow_client=True)),
    session: AsyncSession = Depends(get_session),
) -> Page:
    """A user's pins, newest first; client-authorized callers get public pins and fields."""
    params = await read_params(request)
    pin_filter = params.choice("pin_filter", feeds.PIN_FILTERS)
    include_protected = params.flag("include_protected_pins", False)
    owner = await resolve_user(session, principal=principal, ref=user)
    context = f"user:{owner.id}:pins:{pin_filter}:{include_protected}"
    after, limit = await page_args(request, context)
    page = await feeds.user_pins(
        session,
        principal=principal,
        user_id=owner.id,
        pin_filter=pin_filter,
        include_protected=include_protected,
        after=after,
        limit=limit,
    )
    runtime = get_runtime(request)
    items = await pin_items(session, page.rows, base_url=runtime.settings.base_url(), principal=principal)
    return to_page(runtime, context, page, items)


@router.get("/v3/users/{user}/boards/feed/")
async def v3_user_profile_boards_feed(
    user: str,
    request: Request,
    principal: Principal = Depends(access("read_users")),
    session: AsyncSession = Depends(get_session),
) -> Page:
    """The boards on a profile (owned and group boards), sorted and filtered as asked."""
    params = await read_params(request)
    query = BoardFeedQuery(
        sort=params.choice("sort", feeds.BOARD_SORTS, "custom") or "custom",
        privacy_filter=params.choice("privacy_filter", feeds.PRIVACY_FILTERS, "all") or "all",
        collaborative_only=params.flag("collaborative_only", False),
        include_archived=params.flag("include_archived", False),
        group_by=params.choice("group_by", feeds.GROUP_BYS),
        include_empty=params.flag("include_empty", True),
    )
    params.flag("filter_stories", True)  # validated; pinapi has no story boards to filter
    owner = await resolve_user(session, principal=principal, ref=user)
    context = f"user:{owner.id}:boards:{query}"
    after, limit = await page_args(request, context)
    page = await feeds.boards_feed(
        session, principal=principal, user_id=owner.id, query=query, after=after, limit=limit
    )
    runtime = get_runtime(request)
    items = await board_items(session, page.rows, base_url=runtime.settings.base_url(), principal=principal)
    return to_page(runtime, context, page, items)


@router.get("/v3/users/{user}/businesses/")
async def v3_get_user_businesses_handler(
    user: str,
    request: Request,
    principal: Principal = Depends(access("read_users")),
    session: AsyncSession = Depends(get_session),
) -> list[dict[str, Any]]:
    """The business accounts linked to the caller (their own, and those sharing ads with them)."""
    found = await resolve_user(session, principal=principal, ref=user)
    require_self(principal, found, "linked business accounts")
    base_url = get_runtime(request).settings.base_url()
    return [
        user_body(b, base_url=base_url, public_only=False)
        for b in await linked_businesses(session, user=found)
    ]
