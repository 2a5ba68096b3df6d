"""Organic search within one user's pins and boards (database full-text ranking)."""

from __future__ import annotations

from fastapi import Depends
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request

from pinapi.api.common.auth import access
from pinapi.api.common.context import get_runtime, get_session
from pinapi.api.common.envelope import Page
from pinapi.api.common.params import read_params
from pinapi.api.common.routing import router as make_router
from pinapi.api.v3.users import board_items, page_args, pin_items, to_page
from pinapi.domain.access.principal import Principal
from pinapi.domain.errors import Invalid
from pinapi.domain.organic import search
from pinapi.domain.organic.users import resolve_user

router = make_router(tags=["search"])


@router.get("/v3/search/user_pins/{user}/")
async def v3_search_pins_by_user(
    user: str,
    request: Request,
    principal: Principal = Depends(access("read_users")),
    session: AsyncSession = Depends(get_session),
) -> Page:
    """The user's pins matching ``query``, best match first; ``board`` narrows to one board."""
    params = await read_params(request)
    terms = search.parse_query(params.text("query", max_len=500))
    board = params.text("board", "") or ""
    if board and not board.isdigit():
        raise Invalid("board", "must be a board id")
    params.flag("topic_based", False)
    params.choice("richtype", search.RICH_TYPES)
    params.text("rs", max_len=200)
    found = await resolve_user(session, principal=principal, ref=user)
    context = f"search:pins:{found.id}:{board}:{' '.join(terms)}"
    after, limit = await page_args(request, context)
    page = await search.search_user_pins(
        session,
        principal=principal,
        user_id=found.id,
        terms=terms,
        board_id=int(board) if board else None,
        after=after,
        limit=limit,
    )
    runtime = get_runtime(request)
    items = await pin_items(session, page.rows, base_url=runtime.settings.base_url(), principal=principal)
    return to_page(runtime, context, page, items)


@router.get("/v3/search/{user}/boards/")
async def v3_search_boards_by_user(
    user: str,
    request: Request,
    principal: Principal = Depends(access("read_users")),
    session: AsyncSession = Depends(get_session),
) -> Page:
    """The user's boards matching ``query`` (name, description), best match first."""
    params = await read_params(request)
    terms = search.parse_query(params.text("query", max_len=500))
    found = await resolve_user(session, principal=principal, ref=user)
    context = f"search:boards:{found.id}:{' '.join(terms)}"
    after, limit = await page_args(request, context)
    page = await search.search_user_boards(
        session, principal=principal, user_id=found.id, terms=terms, after=after, limit=limit
    )
    runtime = get_runtime(request)
    items = await board_items(session, page.rows, base_url=runtime.settings.base_url(), principal=principal)
    return to_page(runtime, context, page, items)
