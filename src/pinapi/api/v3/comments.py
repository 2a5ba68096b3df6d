"""Comments: v3's aggregated pin data comments and comment replies, plus pinapi's own
``POST /pinapi/v3/aggregated_pin_data/{id}/comments/`` to write them (an emulator
extension, not part of v3, which had no public way to comment)."""

from __future__ import annotations

from typing import Any

from fastapi import Depends
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request

from pinapi.api.common.auth import access
from pinapi.api.common.context import get_runtime, get_session
from pinapi.api.common.envelope import Page
from pinapi.api.common.formats import v3_time
from pinapi.api.common.params import read_params
from pinapi.api.common.routing import router as make_router
from pinapi.api.v3.users import page_args, to_page, user_summary
from pinapi.domain.access.principal import Principal
from pinapi.domain.errors import Invalid
from pinapi.domain.organic import comments
from pinapi.domain.organic.comments import CommentView

router = make_router(tags=["comments"])


def comment_body(view: CommentView, *, base_url: str) -> dict[str, Any]:
    c = view.comment
    return {
        "id": str(c.id),
        "type": "aggregatedcomment",
        "text": c.text,
        "created_at": v3_time(c.created_at),
        "user": user_summary(view.author, base_url=base_url),
        "reply_count": c.reply_count,
        "like_count": c.like_count,
        "aggregated_pin_data": {"id": str(c.aggregated_pin_data_id)},
        "parent_comment": {"id": str(c.parent_id)} if c.parent_id is not None else None,
    }


def _id(raw: str, field: str) -> int:
    if not raw.isdigit() or len(raw) > 19:
        raise Invalid(field, "must be a numeric id")
    return int(raw)


@router.get("/v3/aggregated_pin_data/{aggregated_pin_data}/comments/")
async def v3_get_aggregated_pin_data_comments(
    aggregated_pin_data: str,
    request: Request,
    principal: Principal = Depends(access("read_pins")),
    session: AsyncSession = Depends(get_session),
) -> Page:
    """Top-level comments on a root pin and all its repins, newest first."""
    agg_id = _id(aggregated_pin_data, "aggregated_pin_data")
    context = f"agg:{agg_id}:comments"
    after, limit = await page_args(request, context)
    page = await comments.list_comments(session, principal=principal, agg_id=agg_id, after=after, limit=limit)
    runtime = get_runtime(request)
    base_url = runtime.settings.base_url()
    return to_page(runtime, context, page, [comment_body(v, base_url=base_url) for v in page.rows])


@router.get("/v3/aggregated_comments/{comment}/replies/")
async def v3_get_aggregated_comment_replies(
    comment: str,
    request: Request,
    principal: Principal = Depends(access("read_pins")),
    session: AsyncSession = Depends(get_session),
) -> Page:
    """Replies to a comment, oldest first (the order of the conversation)."""
    comment_id = _id(comment, "comment")
    context = f"comment:{comment_id}:replies"
    after, limit = await page_args(request, context)
    page = await comments.list_replies(
        session, principal=principal, comment_id=comment_id, after=after, limit=limit
    )
    runtime = get_runtime(request)
    base_url = runtime.settings.base_url()
    return to_page(runtime, context, page, [comment_body(v, base_url=base_url) for v in page.rows])


@router.post("/pinapi/v3/aggregated_pin_data/{aggregated_pin_data}/comments/")
async def pinapi_create_aggregated_comment(
    aggregated_pin_data: str,
    request: Request,
    principal: Principal = Depends(access("write_pins")),
    session: AsyncSession = Depends(get_session),
) -> dict[str, Any]:
    """EXTENSION (not v3): comment on a pin's aggregated data, or reply with
    ``parent_comment_id``."""
    agg_id = _id(aggregated_pin_data, "aggregated_pin_data")
    params = await read_params(request)
    text = params.req_text("text", max_len=10_000)
    parent_raw = params.text("parent_comment_id")
    parent_id = _id(parent_raw, "parent_comment_id") if parent_raw else None
    runtime = get_runtime(request)
    view = await comments.add_comment(
        session, clock=runtime.clock, principal=principal, agg_id=agg_id, text=text, parent_id=parent_id
    )
    return comment_body(view, base_url=runtime.settings.base_url())
