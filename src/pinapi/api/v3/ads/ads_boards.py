"""Ads boards: the advertiser owner's boards, worked on by the advertiser's team.

``/ads/v3/boards/{board}/`` (PUT, DELETE), ``…/cover/``, ``…/pins/`` (GET, POST) and
``/ads/v3/advertisers/{advertiser}/boards/`` (GET, POST). Role checks are in
``domain/ads/content.py``; the board work itself is the organic domain's, and the shapes are
the organic ones. ``advertiser_id`` (optional) names the advertiser the caller acts through.
"""

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
from pinapi.api.v3 import boards as organic_boards
from pinapi.api.v3 import pins as organic_pins
from pinapi.api.v3.organic_shapes import board_info_body
from pinapi.domain.access.principal import Principal
from pinapi.domain.ads import content
from pinapi.domain.errors import Invalid
from pinapi.domain.organic import boards as board_lib
from pinapi.domain.organic.visibility import PRIVACIES, BoardNotFound
from pinapi.store.tables import Board, User

router = make_router(tags=["ads boards"])


def board_id(raw: str) -> int:
    if not raw.isdigit() or len(raw) > 19:
        raise BoardNotFound()
    return int(raw)


def advertiser_param(params: Params) -> int | None:
    return params.integer("advertiser_id", lo=1)


def board_fields(params: Params) -> board_lib.BoardFields:
    return board_lib.BoardFields(
        name=params.text("name", max_len=1000),
        description=params.text("description", max_len=5000),
        category=params.choice("category", board_lib.CATEGORIES),
        privacy=params.choice("privacy", PRIVACIES),
        layout=params.choice("layout", board_lib.LAYOUTS),
    )


async def _board(
    request: Request, session: AsyncSession, principal: Principal, board: str, kind: str
) -> tuple[Params, Board, content.Acting]:
    """The request's parameters and the board the path names, with the caller's role checked."""
    params = await read_params(request)
    found, acting = await content.board_for(
        session,
        principal=principal,
        board_id=board_id(board),
        kind=kind,
        advertiser_id=advertiser_param(params),
    )
    return params, found, acting


@router.delete("/ads/v3/boards/{board}/")
async def ads_v3_delete_board_handler(
    board: str,
    request: Request,
    principal: Principal = Depends(access("write_boards")),
    session: AsyncSession = Depends(get_session),
) -> None:
    _params, found, _ = await _board(request, session, principal, board, "UPDATE")
    await board_lib.delete_board(session, board=found)


@router.put("/ads/v3/boards/{board}/")
async def ads_v3_update_board_handler(
    board: str,
    request: Request,
    principal: Principal = Depends(access("write_boards")),
    session: AsyncSession = Depends(get_session),
) -> dict[str, Any]:
    params, found, acting = await _board(request, session, principal, board, "UPDATE")
    runtime = get_runtime(request)
    fields = board_fields(params)
    if fields.privacy is not None:
        acting.require(content.board_action(fields.privacy, "UPDATE"))
    updated = await board_lib.update_board(session, now=runtime.clock.now(), board=found, fields=fields)
    return await organic_boards.render(
        session, updated, base_url=runtime.settings.base_url(), principal=acting.principal
    )


@router.put("/ads/v3/boards/{board}/cover/")
async def ads_v3_update_board_cover_handler(
    board: str,
    request: Request,
    principal: Principal = Depends(access("write_boards")),
    session: AsyncSession = Depends(get_session),
) -> dict[str, Any]:
    params, found, acting = await _board(request, session, principal, board, "UPDATE")
    runtime = get_runtime(request)
    pin_id = organic_pins.body_id(params, "pin_id")
    assert pin_id is not None
    updated = await content.set_cover(session, board=found, pin_id=pin_id)
    body = await organic_boards.render(
        session, updated, base_url=runtime.settings.base_url(), principal=acting.principal
    )
    body["cover_pin_id"] = str(updated.cover_pin_id)
    return body


@router.get("/ads/v3/boards/{board}/pins/")
async def ads_v3_get_board_pins_handler(
    board: str,
    request: Request,
    principal: Principal = Depends(access("read_pins")),
    session: AsyncSession = Depends(get_session),
) -> Page:
    _params, found, acting = await _board(request, session, principal, board, "READ")
    acting.require("PIN_READ")
    return await organic_boards.v3_board_pins(
        board=str(found.id), request=request, principal=acting.principal, session=session
    )


@router.post("/ads/v3/boards/{board}/pins/")
async def ads_v3_create_board_pin_handler(
    board: str,
    request: Request,
    principal: Principal = Depends(access("write_pins")),
    session: AsyncSession = Depends(get_session),
) -> dict[str, Any]:
    params, found, acting = await _board(request, session, principal, board, "READ")
    acting.require("PIN_CREATE")
    # The organic create reads the board from the parameters: the path decides here.
    params.values["board_id"] = str(found.id)
    return await organic_pins.v3_create_pin_handler(
        request=request, principal=acting.principal, session=session
    )


@router.get("/ads/v3/advertisers/{advertiser}/boards/")
async def ads_v3_get_advertiser_boards_handler(
    advertiser: str,
    request: Request,
    principal: Principal = Depends(access("read_boards")),
    session: AsyncSession = Depends(get_session),
) -> Page:
    if not advertiser.isdigit():
        raise Invalid("advertiser", "must be a numeric id")
    runtime = get_runtime(request)
    acting = await content.for_advertiser(session, principal=principal, advertiser_id=int(advertiser))
    ctx = f"advertiser:{advertiser}:boards:{','.join(acting.readable_privacies())}"
    after, limit = await organic_pins.page_args(request, ctx)
    page = await content.owner_boards(session, acting=acting, after=after, limit=limit)
    owner = await session.get(User, acting.owner_id)
    assert owner is not None
    base = runtime.settings.base_url()
    items = [board_info_body(b, owner, base_url=base, viewer_user_id=acting.owner_id) for b in page.rows]
    return organic_pins.next_page(runtime, ctx, page, items)


@router.post("/ads/v3/advertisers/{advertiser}/boards/")
async def ads_v3_create_advertiser_board_handler(
    advertiser: str,
    request: Request,
    principal: Principal = Depends(access("write_boards")),
    session: AsyncSession = Depends(get_session),
) -> dict[str, Any]:
    if not advertiser.isdigit():
        raise Invalid("advertiser", "must be a numeric id")
    params = await read_params(request)
    runtime = get_runtime(request)
    acting = await content.for_advertiser(session, principal=principal, advertiser_id=int(advertiser))
    fields = board_fields(params)
    acting.require(content.board_action(fields.privacy or "public", "CREATE"))
    if not fields.name:
        params.req_text("name")
    board, _ = await board_lib.create_board(
        session, now=runtime.clock.now(), principal=acting.principal, fields=fields, initial_pins=[]
    )
    return await organic_boards.render(
        session, board, base_url=runtime.settings.base_url(), principal=acting.principal
    )
