"""Organic pins: create, read, delete, save (repin) and carousel image upload.

Also the pin-list helpers the board and section routes share (``pin_items``, ``page_args``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from fastapi import Depends
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request

from pinapi.api.common.auth import access
from pinapi.api.common.context import get_runtime, get_session
from pinapi.api.common.envelope import Page
from pinapi.api.common.paging import page_size_from
from pinapi.api.common.params import Params, read_params
from pinapi.api.common.routing import router as make_router
from pinapi.api.v3.organic_shapes import pin_body, pin_stats_body
from pinapi.domain.access.principal import Principal
from pinapi.domain.errors import Invalid
from pinapi.domain.organic import images
from pinapi.domain.organic import pins as pin_lib
from pinapi.domain.organic.visibility import PinNotFound
from pinapi.runtime import Runtime
from pinapi.store.db import Memo
from pinapi.store.keyset import KeysetPage
from pinapi.store.tables import Pin

router = make_router(tags=["pins"])
CAROUSEL_UPLOAD_MAX = 5


MAX_ID = 2**63 - 1


def as_id(raw: str) -> int | None:
    """A stored id (a decimal 63-bit integer) or None."""
    if not raw.isascii() or not raw.isdigit() or len(raw) > 19 or int(raw) > MAX_ID:
        return None
    return int(raw)


def path_id(raw: str, missing: Exception) -> int:
    """A numeric id from the path; anything else names nothing (answered as not found)."""
    value = as_id(raw)
    if value is None:
        raise missing
    return value


def body_id(params: Params, name: str, *, required: bool = True) -> int | None:
    raw = params.text(name, required=required, max_len=40)
    if raw is None or raw == "":
        if required:
            raise Invalid(name, "is required")
        return None
    value = as_id(raw)
    if value is None:
        raise Invalid(name, "must be a numeric id")
    return value


def id_list(params: Params, name: str) -> list[int]:
    out: list[int] = []
    for item in params.items(name):
        value = as_id(item)
        if value is None:
            raise Invalid(name, f"{item!r} is not a numeric id")
        out.append(value)
    return out


def fetcher_for(runtime: Runtime) -> pin_lib.Fetcher:
    transport = runtime.extras.get("http_transport")
    return pin_lib.Fetcher(
        data_dir=runtime.settings.data_dir,
        allow=list(runtime.settings.fetch_allow),
        transport=transport if transport is not None else None,  # type: ignore[arg-type]
    )


def view_body(view: pin_lib.PinView, *, base_url: str, principal: Principal) -> dict[str, Any]:
    return pin_body(
        view.pin,
        view.image,
        view.board,
        base_url=base_url,
        viewer_user_id=principal.user_id,
        public_only=principal.is_client,
        carousel_images=view.carousel_images,
    )


async def pin_items(
    session: AsyncSession, rows: Sequence[Pin], *, base_url: str, principal: Principal
) -> list[dict[str, Any]]:
    """Pins of one page in their wire shape (one extra query for their images)."""
    return [view_body(v, base_url=base_url, principal=principal) for v in await pin_lib.views(session, rows)]


async def page_args(request: Request, context: str) -> tuple[list[Any] | None, int]:
    """The resume key of a bookmark signed for ``context``, and the page size."""
    params = await read_params(request)
    limit = page_size_from(params.raw("page_size"))
    raw = params.text("bookmark")
    after = get_runtime(request).bookmarks.decode(raw, context) if raw else None
    return after, limit


def next_page(runtime: Runtime, context: str, page: KeysetPage[Any], items: list[Any]) -> Page:
    bookmark = runtime.bookmarks.encode(context, page.next_key) if page.next_key is not None else None
    return Page(items, bookmark)


async def _upload(params: Params, name: str) -> bytes | None:
    file = params.files.get(name)
    if file is None:
        return None
    try:
        data = await file.read(images.MAX_BYTES + 1)
    finally:
        await file.close()
    if len(data) > images.MAX_BYTES:
        raise Invalid(name, f"is larger than {images.MAX_BYTES // (1024 * 1024)} MB")
    return data


def _carousel(params: Params) -> list[pin_lib.CarouselSlot] | None:
    raw = params.json("carousel_data_json")
    if raw is None or raw == "":
        return None
    slots = raw.get("carousel_slots") if isinstance(raw, dict) else raw
    if not isinstance(slots, list):
        raise Invalid("carousel_data_json", "must be a list of slots or {carousel_slots: [...]}")
    out: list[pin_lib.CarouselSlot] = []
    for slot in slots:
        if not isinstance(slot, dict):
            raise Invalid("carousel_data_json", "each slot must be an object")
        signature = slot.get("image_signature")
        url = slot.get("image_url")
        if not signature and not url:
            raise Invalid("carousel_data_json", "each slot needs image_signature or image_url")
        out.append(
            pin_lib.CarouselSlot(
                image=pin_lib.ImageInput(url=str(url) if url else None, field="carousel_data_json"),
                title=str(slot.get("title") or "")[:100],
                description=str(slot.get("description") or slot.get("details") or "")[:500],
                link=str(slot["link"]) if slot.get("link") else None,
                signature=str(signature) if signature else None,
            )
        )
    return out


@router.put("/v3/pins/")
async def v3_create_pin_handler(
    request: Request,
    principal: Principal = Depends(access("write_pins")),
    session: AsyncSession = Depends(get_session),
) -> dict[str, Any]:
    params = await read_params(request)
    runtime = get_runtime(request)
    board_id = body_id(params, "board_id")
    assert board_id is not None
    section = body_id(params, "section", required=False) or body_id(
        params, "board_section_id", required=False
    )
    link = params.text("source_url", max_len=2000) or params.text("link", max_len=2000)
    fields = pin_lib.PinFields(
        title=params.text("title", "", max_len=1000) or "",
        description=params.text("description", "", max_len=5000) or "",
        alt_text=params.text("alt_text", "", max_len=5000) or "",
        link=link or None,
    )
    data = await _upload(params, "image")
    b64 = params.text("image_base64", max_len=images.MAX_BYTES * 2)
    url = params.text("image_url", max_len=2000)
    field = "image" if data else "image_base64" if b64 else "image_url" if url else "image"
    view = await pin_lib.create_pin(
        session,
        now=runtime.clock.now(),
        principal=principal,
        fetcher=fetcher_for(runtime),
        board_id=board_id,
        section_id=section,
        fields=fields,
        image=pin_lib.ImageInput(data=data, base64=b64, url=url, field=field),
        carousel=_carousel(params),
    )
    return view_body(view, base_url=runtime.settings.base_url(), principal=principal)


_READ_PIN = access("read_pins", allow_client=True)


@router.get(
    "/v3/pins/{pin}/",
    openapi_extra={
        "parameters": [{"name": "pin", "in": "path", "required": True, "schema": {"type": "string"}}],
    },
)
async def v3_get_pin(request: Request) -> dict[str, Any]:
    # A hot path: one read through the runtime's reader, no request session, and auth called
    # directly rather than through FastAPI's dependency solver (docs/performance.md).
    principal = await _READ_PIN(request)
    pin: str = request.path_params["pin"]
    runtime = get_runtime(request)
    pin_id = as_id(pin)
    if pin_id is None:
        raise PinNotFound()
    view = await pin_lib.read_pin(runtime.reader, principal=principal, pin_id=pin_id, now=runtime.clock.now())
    base_url = runtime.settings.base_url()
    # The body is a function of the view, the address and who asks: an equal view (same
    # reader row and stats hour, see ``read_pin``) gets the body formatted the first time.
    key = None if view.memo_key is None else (view.memo_key, base_url, principal.user_id, principal.is_client)
    kept = None if key is None else _PIN_BODIES.get(key)
    if kept is None:
        kept = view_body(view, base_url=base_url, principal=principal)
        if not principal.is_client:
            # v3 sends null unless the caller owns the pin (and it had activity to show).
            kept["pin_stats"] = pin_stats_body(view.stats)
        if key is not None:
            _PIN_BODIES.put(key, kept)
    return dict(kept)  # a copy: the kept one is shared by later requests


_PIN_BODIES = Memo()


@router.delete("/v3/pins/{pin}/")
async def v3_delete_pin_handler(
    pin: str,
    principal: Principal = Depends(access("write_pins")),
    session: AsyncSession = Depends(get_session),
) -> None:
    await pin_lib.delete_pin(session, principal=principal, pin_id=path_id(pin, PinNotFound()))


@router.post("/v3/partners/pins/{pin}/save/")
async def v3_partner_save_handler(
    pin: str,
    request: Request,
    principal: Principal = Depends(access("write_pins")),
    session: AsyncSession = Depends(get_session),
) -> dict[str, Any]:
    params = await read_params(request)
    runtime = get_runtime(request)
    board_id = body_id(params, "board_id")
    assert board_id is not None
    view = await pin_lib.save_pin(
        session,
        now=runtime.clock.now(),
        principal=principal,
        pin_id=path_id(pin, PinNotFound()),
        board_id=board_id,
        section_id=body_id(params, "board_section_id", required=False),
        description=params.text("description", max_len=5000),
    )
    return view_body(view, base_url=runtime.settings.base_url(), principal=principal)


@router.put("/v3/pincarousel/images/upload/")
async def v3_upload_pin_carousel_images(
    request: Request,
    principal: Principal = Depends(access("write_pins")),
    session: AsyncSession = Depends(get_session),
) -> list[dict[str, Any]]:
    """Store carousel images ahead of the pin; ``image_signature`` names one in ``carousel_data_json``."""
    params = await read_params(request)
    runtime = get_runtime(request)
    assert principal.user_id is not None
    inputs: list[pin_lib.ImageInput] = [
        pin_lib.ImageInput(url=u, field="image_urls") for u in params.items("image_urls")
    ]
    inputs += [pin_lib.ImageInput(base64=b, field="images_base64") for b in params.items("images_base64")]
    for name in sorted(params.files):
        if name == "images" or name.startswith("images"):
            data = await _upload(params, name)
            inputs.append(pin_lib.ImageInput(data=data, field="images"))
    if not inputs:
        raise Invalid("images", "send image_urls, images or images_base64")
    if len(inputs) > CAROUSEL_UPLOAD_MAX:
        raise Invalid("images", f"at most {CAROUSEL_UPLOAD_MAX} images at a time", code=2380)
    out: list[dict[str, Any]] = []
    for given in inputs:
        image, kept_url = await pin_lib.resolve_image(
            session,
            fetcher=fetcher_for(runtime),
            now=runtime.clock.now(),
            owner_id=principal.user_id,
            given=given,
        )
        if image is None:
            raise Invalid(given.field, f"{kept_url} is not on a host pinapi may fetch from")
        out.append({"image_signature": pin_lib.signature_of(image), "tracking_id": str(image.id)})
    return out
