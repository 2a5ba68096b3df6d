"""Board sections: create and list a board's sections, list a section's pins, delete one."""

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
from pinapi.api.v3.organic_shapes import section_body
from pinapi.api.v3.pins import id_list, next_page, page_args, path_id, pin_items
from pinapi.domain.access.principal import Principal
from pinapi.domain.organic import boards as board_lib
from pinapi.domain.organic import sections as section_lib
from pinapi.domain.organic.pins import SectionNotFound
from pinapi.domain.organic.visibility import BoardNotFound

router = make_router(tags=["board sections"])


@router.put("/v3/board/{board}/sections/")
async def v3_create_section(
    board: str,
    request: Request,
    principal: Principal = Depends(access("write_boards")),
    session: AsyncSession = Depends(get_session),
) -> dict[str, Any]:
    params = await read_params(request)
    section = await section_lib.create_section(
        session,
        now=get_runtime(request).clock.now(),
        principal=principal,
        board_id=path_id(board, BoardNotFound()),
        title=params.req_text("title", max_len=1000),
        initial_pins=id_list(params, "initial_pins") or id_list(params, "preselected_pins"),
    )
    return section_body(section)


@router.get("/v3/board/{board}/sections/")
async def v3_get_board_sections(
    board: str,
    request: Request,
    principal: Principal = Depends(access("read_boards")),
    session: AsyncSession = Depends(get_session),
) -> Page:
    found = await board_lib.get_board(session, principal=principal, ref=str(path_id(board, BoardNotFound())))
    context = f"board:{found.id}:sections"
    after, limit = await page_args(request, context)
    page = await section_lib.list_sections(session, board_id=found.id, after=after, limit=limit)
    return next_page(get_runtime(request), context, page, [section_body(s) for s in page.rows])


@router.get("/v3/board/sections/{section}/pins/")
async def v3_get_board_section_pins(
    section: str,
    request: Request,
    principal: Principal = Depends(access("read_boards")),
    session: AsyncSession = Depends(get_session),
) -> Page:
    params = await read_params(request)
    runtime = get_runtime(request)
    filter_stories = params.flag("filter_stories", False)
    found, board = await section_lib.get_section(
        session, principal=principal, section_id=path_id(section, SectionNotFound())
    )
    context = f"section:{found.id}:pins:{int(filter_stories)}"
    after, limit = await page_args(request, context)
    page = await board_lib.list_pins(
        session,
        board_id=board.id,
        section_id=found.id,
        filter_stories=filter_stories,
        after=after,
        limit=limit,
    )
    items = await pin_items(session, page.rows, base_url=runtime.settings.base_url(), principal=principal)
    return next_page(runtime, context, page, items)


@router.delete("/v3/board/sections/{section}/")
async def v3_delete_board_section(
    section: str,
    principal: Principal = Depends(access("write_boards")),
    session: AsyncSession = Depends(get_session),
) -> list[Any]:
    await section_lib.delete_section(
        session, principal=principal, section_id=path_id(section, SectionNotFound())
    )
    return []
