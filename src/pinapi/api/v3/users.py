"""Organic users: ``GET /v3/users/{user}/``."""

from __future__ import annotations

from typing import Any

from fastapi import Depends
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request

from pinapi.api.common.auth import access
from pinapi.api.common.context import get_runtime, get_session
from pinapi.api.common.formats import v3_time
from pinapi.api.common.routing import router as make_router
from pinapi.domain.access.principal import Principal
from pinapi.domain.organic.users import resolve_user
from pinapi.store.tables import User

router = make_router(tags=["users"])

AVATAR_SIZES = {"small": 60, "medium": 150, "large": 280, "xlarge": 444}


def user_body(user: User, *, base_url: str, public_only: bool) -> dict[str, Any]:
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
        "created_at": v3_time(user.created_at),
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


@router.get("/v3/users/{user}/")
async def v3_get_user_handler(
    user: str,
    request: Request,
    principal: Principal = Depends(access("read_users", allow_client=True)),
    session: AsyncSession = Depends(get_session),
) -> dict[str, Any]:
    found = await resolve_user(session, principal=principal, ref=user)
    return user_body(
        found, base_url=get_runtime(request).settings.base_url(), public_only=principal.is_client
    )
