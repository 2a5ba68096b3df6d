"""Organic follows: follow/unfollow a pinner, followers, following and followed boards."""

from __future__ import annotations

from typing import Any

from fastapi import Depends
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request

from pinapi.api.common.auth import access
from pinapi.api.common.context import get_runtime, get_session
from pinapi.api.common.envelope import Page
from pinapi.api.common.params import read_params
from pinapi.api.common.routing import router as make_router
from pinapi.api.v3.users import board_items, page_args, to_page, user_summary
from pinapi.domain.access.principal import Principal
from pinapi.domain.organic import feeds, follows
from pinapi.domain.organic.users import resolve_user

router = make_router(tags=["follows"])


@router.put("/v3/users/{followee}/follow/")
async def v3_follow_user_method(
    followee: str,
    request: Request,
    principal: Principal = Depends(access("write_user_followees")),
    session: AsyncSession = Depends(get_session),
) -> dict[str, Any]:
    """Follow a pinner (idempotent); answers the followee's UserSummary."""
    params = await read_params(request)
    params.flag("auto_follow", False)  # validated; pinapi follows explicitly either way
    target = await resolve_user(session, principal=principal, ref=followee)
    assert principal.user_id is not None
    runtime = get_runtime(request)
    await follows.follow(session, clock=runtime.clock, follower_id=principal.user_id, followee_id=target.id)
    return user_summary(target, base_url=runtime.settings.base_url())


@router.delete("/v3/users/{followee}/follow/")
async def v3_unfollow_user_method(
    followee: str,
    principal: Principal = Depends(access("write_user_followees")),
    session: AsyncSession = Depends(get_session),
) -> None:
    """Stop following a pinner (idempotent); ``data`` is null."""
    target = await resolve_user(session, principal=principal, ref=followee)
    assert principal.user_id is not None
    await follows.unfollow(session, follower_id=principal.user_id, followee_id=target.id)


@router.get("/v3/users/{user}/followers/")
async def v3_get_user_followers_handler(
    user: str,
    request: Request,
    principal: Principal = Depends(access("read_user_followers")),
    session: AsyncSession = Depends(get_session),
) -> Page:
    found = await resolve_user(session, principal=principal, ref=user)
    context = f"user:{found.id}:followers"
    after, limit = await page_args(request, context)
    page = await follows.followers(session, user_id=found.id, after=after, limit=limit)
    runtime = get_runtime(request)
    base_url = runtime.settings.base_url()
    return to_page(runtime, context, page, [user_summary(u, base_url=base_url) for u in page.rows])


@router.get("/v3/users/{user}/following/")
async def v3_get_user_following_handler(
    user: str,
    request: Request,
    principal: Principal = Depends(access("read_user_followers")),
    session: AsyncSession = Depends(get_session),
) -> Page:
    params = await read_params(request)
    explicit_only = params.flag("explicit_following", False)
    feed_type = params.choice("feed_type", follows.FEED_TYPES, "ALL", upper=True) or "ALL"
    found = await resolve_user(session, principal=principal, ref=user)
    context = f"user:{found.id}:following:{explicit_only}:{feed_type}"
    after, limit = await page_args(request, context)
    page = await follows.following(
        session, user_id=found.id, explicit_only=explicit_only, feed_type=feed_type, after=after, limit=limit
    )
    runtime = get_runtime(request)
    base_url = runtime.settings.base_url()
    return to_page(runtime, context, page, [user_summary(u, base_url=base_url) for u in page.rows])


@router.get("/v3/users/{user}/boards/following/")
async def v3_get_boards_following_handler(
    user: str,
    request: Request,
    principal: Principal = Depends(access("read_user_followers")),
    session: AsyncSession = Depends(get_session),
) -> Page:
    params = await read_params(request)
    explicit_only = params.flag("explicit_following", False)
    found = await resolve_user(session, principal=principal, ref=user)
    context = f"user:{found.id}:boards_following:{explicit_only}"
    after, limit = await page_args(request, context)
    page = await feeds.boards_following(
        session, principal=principal, user_id=found.id, explicit_only=explicit_only, after=after, limit=limit
    )
    runtime = get_runtime(request)
    items = await board_items(session, page.rows, base_url=runtime.settings.base_url(), principal=principal)
    return to_page(runtime, context, page, items)
