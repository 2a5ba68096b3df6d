"""Pin promotions and their batches (``/ads/v3/pin_promotions/``, …/pin_promotions/batch/).

Batch bodies are a JSON array (or ``{"pin_promotions": [...]}``); the answer lists one
result per item, in order: ``{"data": <pin promotion> | null, "exceptions": [{code, message}]}``.
"""

from __future__ import annotations

from typing import Any

import orjson
from fastapi import Depends
from pydantic import BaseModel, ConfigDict, ValidationError, field_validator
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request

from pinapi.api.common.auth import access
from pinapi.api.common.bodies import BodyMemo
from pinapi.api.common.context import get_runtime, get_session
from pinapi.api.common.envelope import Page
from pinapi.api.common.formats import unix_seconds
from pinapi.api.common.paging import page_size_from
from pinapi.api.common.params import Params, read_params
from pinapi.api.common.routing import router as make_router
from pinapi.domain.access.principal import Principal
from pinapi.domain.ads import pin_promotions as domain
from pinapi.domain.ads import promotion_rules, reads
from pinapi.domain.ads.review import ReviewPolicy
from pinapi.domain.errors import Invalid

router = make_router(tags=["pin promotions"])
READ = access("read_pin_promotions")
WRITE = access("write_pin_promotions")


def _list(value: Any) -> Any:
    """Lists arrive as JSON arrays, JSON strings or comma strings (form bodies)."""
    if isinstance(value, str):
        text = value.strip()
        if text.startswith("["):
            try:
                return orjson.loads(text)
            except orjson.JSONDecodeError:
                return value
        return [p.strip() for p in text.split(",") if p.strip()]
    return value


class PromotionFields(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: str | None = None
    status: str | None = None
    creative_type: str | None = None
    destination_url: str | None = None
    click_tracking_url: str | None = None
    view_tracking_url: str | None = None
    android_deep_link: str | None = None
    ios_deep_link: str | None = None
    carousel_android_deep_links: list[str] | None = None
    carousel_ios_deep_links: list[str] | None = None
    carousel_destination_urls: list[str] | None = None
    collection_items_destination_url_template: str | None = None
    tracking_urls: dict[str, Any] | None = None
    is_removable: bool | None = None

    @field_validator(
        "carousel_android_deep_links", "carousel_ios_deep_links", "carousel_destination_urls", mode="before"
    )
    @classmethod
    def _lists(cls, value: Any) -> Any:
        return _list(value)

    @field_validator("tracking_urls", mode="before")
    @classmethod
    def _tracking(cls, value: Any) -> Any:
        if isinstance(value, str) and value.strip():
            try:
                return orjson.loads(value)
            except orjson.JSONDecodeError:
                return value
        return value or None

    @field_validator("status", "creative_type", mode="before")
    @classmethod
    def _upper(cls, value: Any) -> Any:
        return value.upper() if isinstance(value, str) else value

    @field_validator(
        "name",
        "destination_url",
        "click_tracking_url",
        "view_tracking_url",
        "android_deep_link",
        "ios_deep_link",
    )
    @classmethod
    def _length(cls, value: str | None) -> str | None:
        if value is not None and len(value) > 2000:
            raise ValueError("must be at most 2000 characters")
        return value

    def values(self) -> dict[str, Any]:
        return self.model_dump(exclude_unset=True, exclude={"id", "ad_group_id", "pin_id", "advertiser_id"})


class CreatePromotion(PromotionFields):
    ad_group_id: int
    pin_id: int
    advertiser_id: int | None = None  # accepted and ignored: the ad group decides


class UpdatePromotion(PromotionFields):
    id: int | None = None


def _validate(model: type[PromotionFields], data: Any) -> Any:
    if not isinstance(data, dict):
        raise Invalid("body", "each pin promotion must be a JSON object")
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        field = ".".join(str(p) for p in err["loc"]) or "body"
        raise Invalid(field, err["msg"]) from exc


def promotion_body(view: domain.PromotionView) -> dict[str, Any]:
    p = view.promotion
    return {
        "id": str(p.id),
        "type": "pinpromotion",
        "advertiser_id": str(p.advertiser_id),
        "campaign_id": str(p.campaign_id),
        "ad_group_id": str(p.ad_group_id),
        "pin_id": str(p.pin_id),
        "name": p.name,
        "status": p.status,
        "review_status": p.review_status,
        "summary_status": view.summary_status,
        "rejected_reasons": list(p.rejected_reasons or []),
        "rejection_labels": list(p.rejection_labels or []),
        "creative_type": p.creative_type,
        "campaign_objective_type": view.campaign_objective_type,
        "destination_url": p.destination_url,
        "click_tracking_url": p.click_tracking_url,
        "view_tracking_url": p.view_tracking_url,
        "android_deep_link": p.android_deep_link,
        "ios_deep_link": p.ios_deep_link,
        "carousel_android_deep_links": p.carousel_android_deep_links or [],
        "carousel_ios_deep_links": p.carousel_ios_deep_links or [],
        "carousel_destination_urls": p.carousel_destination_urls or [],
        "collection_items_destination_url_template": p.collection_items_destination_url_template,
        "tracking_urls": orjson.dumps(p.tracking_urls).decode() if p.tracking_urls else None,
        "is_pin_deleted": view.is_pin_deleted,
        "is_removable": p.is_removable,
        "entity_version": "NEW_ENTITY_MODEL",
        "created_time": unix_seconds(p.created_at),
        "updated_time": unix_seconds(p.updated_at),
    }


def review_policy(request: Request) -> ReviewPolicy:
    settings = get_runtime(request).settings
    return ReviewPolicy(
        delay_seconds=settings.review_delay_seconds, blocked_domains=tuple(settings.blocked_domains)
    )


def _batch_items(params: Params) -> list[Any]:
    body = params.values.get("__body__")
    if body is None:
        body = params.json("pin_promotions")
    if not isinstance(body, list):
        raise Invalid("pin_promotions", "must be a JSON array of pin promotions")
    return body


def _result(r: domain.BatchResult) -> dict[str, Any]:
    if r.view is not None:
        return {"data": promotion_body(r.view), "exceptions": []}
    err = r.error
    assert err is not None
    exc: dict[str, Any] = {"code": err.code, "message": err.message}
    if isinstance(err, Invalid):
        exc["param"] = err.field
    return {"data": None, "exceptions": [exc]}


def _id(raw: str, what: str) -> int:
    if not raw.isdigit():
        raise Invalid(what, "must be a numeric id")
    return int(raw)


@router.post("/ads/v3/pin_promotions/")
async def ads_v3_create_pin_promotion_handler(
    request: Request,
    principal: Principal = Depends(WRITE),
    session: AsyncSession = Depends(get_session),
) -> dict[str, Any]:
    params = await read_params(request)
    body = _validate(CreatePromotion, {k: params.raw(k) for k in params.values if k != "access_token"})
    view = await domain.create(
        session,
        clock=get_runtime(request).clock,
        principal=principal,
        policy=review_policy(request),
        ad_group_id=body.ad_group_id,
        pin_id=body.pin_id,
        values=body.values(),
    )
    return promotion_body(view)


@router.get("/ads/v3/pin_promotions/{pin_promotion}/")
async def ads_v3_get_pin_promotion_handler(
    pin_promotion: str, request: Request, principal: Principal = Depends(READ)
) -> dict[str, Any]:
    # One statement through the runtime's reader, no request session (docs/performance.md).
    view = await reads.read_pin_promotion(
        get_runtime(request).reader, principal=principal, promotion_id=_id(pin_promotion, "pin_promotion")
    )
    # Nothing in a promotion's body moves with the clock: an equal view, the same body.
    return _BODIES.get(view) or _BODIES.put(view, promotion_body(view))


_BODIES = BodyMemo()


@router.put("/ads/v3/pin_promotions/{pin_promotion}/")
async def ads_v3_update_pin_promotion_handler(
    pin_promotion: str,
    request: Request,
    principal: Principal = Depends(WRITE),
    session: AsyncSession = Depends(get_session),
) -> dict[str, Any]:
    params = await read_params(request)
    body = _validate(UpdatePromotion, {k: params.raw(k) for k in params.values if k != "access_token"})
    view = await domain.update(
        session,
        clock=get_runtime(request).clock,
        principal=principal,
        policy=review_policy(request),
        promotion_id=_id(pin_promotion, "pin_promotion"),
        values=body.values(),
    )
    return promotion_body(view)


@router.post("/ads/v3/advertisers/{advertiser}/pin_promotions/batch/")
async def ads_v3_create_advertiser_pin_promotions_handler(
    advertiser: str,
    request: Request,
    principal: Principal = Depends(WRITE),
    session: AsyncSession = Depends(get_session),
) -> list[dict[str, Any]]:
    advertiser_id = _id(advertiser, "advertiser")
    items = _batch_items(await read_params(request))
    clock, policy = get_runtime(request).clock, review_policy(request)

    async def run(item: Any) -> domain.PromotionView:
        body = _validate(CreatePromotion, item)
        return await domain.create(
            session,
            clock=clock,
            principal=principal,
            policy=policy,
            ad_group_id=body.ad_group_id,
            pin_id=body.pin_id,
            values=body.values(),
            advertiser_id=advertiser_id,
        )

    results = await domain.batch(
        session,
        principal=principal,
        advertiser_id=advertiser_id,
        action="PIN_PROMOTION_CREATE",
        items=items,
        run=run,
    )
    return [_result(r) for r in results]


@router.put("/ads/v3/advertisers/{advertiser}/pin_promotions/batch/")
async def ads_v3_update_advertiser_pin_promotions_handler(
    advertiser: str,
    request: Request,
    principal: Principal = Depends(WRITE),
    session: AsyncSession = Depends(get_session),
) -> list[dict[str, Any]]:
    advertiser_id = _id(advertiser, "advertiser")
    items = _batch_items(await read_params(request))
    clock, policy = get_runtime(request).clock, review_policy(request)

    async def run(item: Any) -> domain.PromotionView:
        body = _validate(UpdatePromotion, item)
        if body.id is None:
            raise Invalid("id", "is required")
        return await domain.update(
            session,
            clock=clock,
            principal=principal,
            policy=policy,
            promotion_id=body.id,
            values=body.values(),
            advertiser_id=advertiser_id,
        )

    results = await domain.batch(
        session,
        principal=principal,
        advertiser_id=advertiser_id,
        action="PIN_PROMOTION_UPDATE",
        items=items,
        run=run,
    )
    return [_result(r) for r in results]


async def _page(
    request: Request, session: AsyncSession, principal: Principal, *, context: str, **parent: int
) -> Page:
    params = await read_params(request)
    size = page_size_from(params.raw("page_size"))
    wanted = params.choice("pin_promotion_status", ("ALL", *promotion_rules.STATUSES), "ALL", upper=True)
    statuses = promotion_rules.STATUSES if wanted == "ALL" else (str(wanted),)
    ctx = f"{context}:{wanted}"
    bookmarks = get_runtime(request).bookmarks
    raw = params.text("bookmark")
    after = bookmarks.decode(raw, ctx) if raw else None
    views, next_key = await domain.list_under(
        session, principal=principal, statuses=statuses, after=after, limit=size, **parent
    )
    return Page([promotion_body(v) for v in views], bookmarks.encode(ctx, next_key) if next_key else None)


@router.get("/ads/v3/campaigns/{campaign}/pin_promotions/")
async def ads_v3_get_campaign_pin_promotions_handler(
    campaign: str,
    request: Request,
    principal: Principal = Depends(READ),
    session: AsyncSession = Depends(get_session),
) -> Page:
    cid = _id(campaign, "campaign")
    return await _page(request, session, principal, context=f"campaign:{cid}:pp", campaign_id=cid)


@router.get("/ads/v3/ad_groups/{ad_group}/pin_promotions/")
async def ads_v3_get_ad_group_pin_promotions_handler(
    ad_group: str,
    request: Request,
    principal: Principal = Depends(READ),
    session: AsyncSession = Depends(get_session),
) -> Page:
    gid = _id(ad_group, "ad_group")
    return await _page(request, session, principal, context=f"ad_group:{gid}:pp", ad_group_id=gid)
