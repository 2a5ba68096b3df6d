"""Organic boards: create, read, update, delete, follow, and their pins."""

from __future__ import annotations

from typing import Any

from fastapi import Depends
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request

from pinapi.api.common.auth import access
from pinapi.api.common.context import get_runtime, get_session
from pinapi.api.common.envelope import Page
from pinapi.api.common.params import Params, read_params
from pinapi.api.common.routing import router as make_router
from pinapi.api.v3.organic_shapes import board_body
from pinapi.api.v3.pins import id_list, next_page, page_args, pin_items
from pinapi.domain.access.principal import Principal
from pinapi.domain.organic import boards as board_lib
from pinapi.domain.organic.visibility import PRIVACIES, SECRET_PINS_SCOPE
from pinapi.store.tables import Board

router = make_router(tags=["boards"])


def _fields(params: Params) -> board_lib.BoardFields:
    privacy = params.choice("privacy", PRIVACIES)
    if privacy is None and params.flag("protected", False):
        privacy = "protected"
    return board_lib.BoardFields(
        name=params.text("name", max_len=1000),
        description=params.text("description", max_len=5000),
        category=params.choice("category", board_lib.CATEGORIES),
        privacy=privacy,
        layout=params.choice("layout", board_lib.LAYOUTS),
    )


async def render(
    session: AsyncSession, board: Board, *, base_url: str, principal: Principal
) -> dict[str, Any]:
    view = await board_lib.board_view(session, board=board, viewer_id=principal.user_id)
    urls: list[str] = []
    for t in view.thumbnails:
        body = pin_items_thumb(t, base_url=base_url)
        if body:
            urls.append(body)
    return board_body(
        board,
        view.owner,
        base_url=base_url,
        viewer_user_id=principal.user_id,
        followed_by_me=view.followed_by_me,
        collaborated_by_me=view.collaborated_by_me,
        cover_url=urls[0] if urls else None,
        thumbnail_urls=urls,
    )


def pin_items_thumb(view: Any, *, base_url: str) -> str | None:
    """The medium image address of a pin, for board covers and thumbnails."""
    if view.image is not None and "medium" in view.image.variants:
        return f"{base_url}/media/images/{view.image.variants['medium']['path']}"
    url: str | None = view.pin.image_url
    return url


@router.put("/v3/boards/")
async def v3_create_board(
    request: Request,
    principal: Principal = Depends(access("write_boards")),
    session: AsyncSession = Depends(get_session),
) -> dict[str, Any]:
    params = await read_params(request)
    runtime = get_runtime(request)
    fields = _fields(params)
    if not fields.name:
        params.req_text("name")
    board, _ = await board_lib.create_board(
        session,
        now=runtime.clock.now(),
        principal=principal,
        fields=fields,
        initial_pins=id_list(params, "initial_pins"),
        return_existing=params.flag("return_existing", False),
    )
    return await render(session, board, base_url=runtime.settings.base_url(), principal=principal)


@router.get("/v3/boards/{board}/")
async def v3_get_board(
    board: str,
    request: Request,
    principal: Principal = Depends(access("read_boards")),
    session: AsyncSession = Depends(get_session),
) -> dict[str, Any]:
    found = await board_lib.get_board(session, principal=principal, ref=board)
    return await render(
        session, found, base_url=get_runtime(request).settings.base_url(), principal=principal
    )


@router.post("/v3/boards/{board}/")
async def v3_update_board(
    board: str,
    request: Request,
    principal: Principal = Depends(access("write_boards")),
    session: AsyncSession = Depends(get_session),
) -> dict[str, Any]:
    params = await read_params(request)
    runtime = get_runtime(request)
    found = await board_lib.owned_board(session, principal=principal, ref=board)
    updated = await board_lib.update_board(
        session, now=runtime.clock.now(), board=found, fields=_fields(params)
    )
    return await render(session, updated, base_url=runtime.settings.base_url(), principal=principal)


@router.delete("/v3/boards/{board}/")
async def v3_delete_board(
    board: str,
    principal: Principal = Depends(access("write_boards")),
    session: AsyncSession = Depends(get_session),
) -> None:
    found = await board_lib.owned_board(session, principal=principal, ref=board)
    await board_lib.delete_board(session, board=found)


@router.put("/v3/boards/{board}/follow/")
async def v3_follow_board(
    board: str,
    request: Request,
    principal: Principal = Depends(access("write_user_followees")),
    session: AsyncSession = Depends(get_session),
) -> None:
    found = await board_lib.get_board(session, principal=principal, ref=board)
    await board_lib.follow_board(
        session, now=get_runtime(request).clock.now(), principal=principal, board=found
    )


@router.delete("/v3/boards/{board}/follow/")
async def v3_unfollow_board(
    board: str,
    principal: Principal = Depends(access("write_user_followees")),
    session: AsyncSession = Depends(get_session),
) -> None:
    found = await board_lib.get_board(session, principal=principal, ref=board)
    await board_lib.unfollow_board(session, principal=principal, board=found)


@router.get("/v3/boards/{board}/pins/")
async def v3_board_pins(
    board: str,
    request: Request,
    principal: Principal = Depends(access("read_pins")),
    session: AsyncSession = Depends(get_session),
) -> Page:
    """The board's pins, newest first; pins in sections are left out unless asked."""
    params = await read_params(request)
    runtime = get_runtime(request)
    filter_sections = params.flag("filter_section_pins", True)
    filter_stories = params.flag("filter_stories", False)
    found = await board_lib.get_board(session, principal=principal, ref=board, secret_scope=SECRET_PINS_SCOPE)
    context = f"board:{found.id}:pins:{int(filter_sections)}{int(filter_stories)}"
    after, limit = await page_args(request, context)
    page = await board_lib.list_pins(
        session,
        board_id=found.id,
        filter_section_pins=filter_sections,
        filter_stories=filter_stories,
        after=after,
        limit=limit,
    )
    items = await pin_items(session, page.rows, base_url=runtime.settings.base_url(), principal=principal)
    return next_page(runtime, context, page, items)
