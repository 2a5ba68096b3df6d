"""Ad previews: ``POST /ads/v3/previews/image/`` and ``/pin/``, the page they point at
(``/ad-preview/{key}/``, no auth: it is made to sit in an iframe), and the three deprecated
preview routes, which answer 410 with code 2051.
"""

from __future__ import annotations

import html
from typing import Any

from fastapi import Depends
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from pinapi.api.common.auth import access
from pinapi.api.common.context import get_runtime, get_session
from pinapi.api.common.params import Params, read_params
from pinapi.api.common.routing import router as make_router
from pinapi.domain.access.principal import Principal
from pinapi.domain.ads import previews as domain
from pinapi.domain.errors import Gone, Invalid
from pinapi.domain.organic import images
from pinapi.store.tables import Preview

router = make_router(tags=["previews"])
_PAGE = (
    "<!doctype html><html><head><meta charset='utf-8'><title>Ad preview</title>"
    "<style>body{font-family:sans-serif;margin:8px}.pin{width:{width}px;border-radius:16px;overflow:hidden}"
    ".pin img{display:block;width:100%}.meta{font-size:12px;padding:4px 0}</style></head>"
    "<body><div class='pin'>{img}<div class='meta'><strong>{title}</strong><br>Promoted</div></div>"
    "</body></html>"
)
READ = access("read_pin_promotions")


def preview_body(preview: Preview, base_url: str) -> dict[str, Any]:
    return {"url": f"{base_url}/ad-preview/{preview.key}/", "width": preview.width, "height": preview.height}


def _advertiser(params: Params) -> int | None:
    return params.integer("advertiser_id", lo=1)


async def _image_bytes(params: Params) -> bytes:
    upload = params.files.get("image")
    if upload is not None:
        try:
            data = await upload.read(images.MAX_BYTES + 1)
        finally:
            await upload.close()
    elif params.text("image_base64"):
        data = images.decode_base64(params.req_text("image_base64", max_len=30_000_000), field="image_base64")
    else:
        raise Invalid("image", "is required (a multipart file, or image_base64)")
    if not data:
        raise Invalid("image", "is empty")
    if len(data) > images.MAX_BYTES:
        raise Invalid("image", f"must be at most {images.MAX_BYTES} bytes")
    return data


@router.post("/ads/v3/previews/image/")
async def ads_v3_create_preview_with_image_handler(
    request: Request,
    principal: Principal = Depends(READ),
    session: AsyncSession = Depends(get_session),
) -> dict[str, Any]:
    params = await read_params(request)
    runtime = get_runtime(request)
    preview = await domain.from_image(
        session,
        clock=runtime.clock,
        principal=principal,
        data_dir=runtime.settings.data_dir,
        data=await _image_bytes(params),
        title=params.text("title", "", max_len=255) or "",
        advertiser_id=_advertiser(params),
    )
    return preview_body(preview, runtime.settings.base_url())


@router.post("/ads/v3/previews/pin/")
async def ads_v3_create_preview_with_pin_handler(
    request: Request,
    principal: Principal = Depends(READ),
    session: AsyncSession = Depends(get_session),
) -> dict[str, Any]:
    params = await read_params(request)
    runtime = get_runtime(request)
    pin_id = params.integer("pin_id", lo=1)
    if pin_id is None:
        raise Invalid("pin_id", "is required")
    preview = await domain.from_pin(
        session, clock=runtime.clock, principal=principal, pin_id=pin_id, advertiser_id=_advertiser(params)
    )
    return preview_body(preview, runtime.settings.base_url())


@router.post("/ads/v3/previews/pin_url/")
async def ads_v3_create_preview_with_pin_url_handler() -> None:
    raise Gone()


@router.post("/ads/v3/previews/pin_id/")
async def ads_v3_create_preview_with_pin_id_handler() -> None:
    raise Gone()


@router.get("/ads/v3/previews/{preview}/")
async def ads_v3_get_preview_handler(preview: str) -> None:
    raise Gone()


@router.get("/ad-preview/{key}/", include_in_schema=False)
async def ad_preview_page(
    key: str, request: Request, session: AsyncSession = Depends(get_session)
) -> Response:
    runtime = get_runtime(request)
    preview = await domain.page(session, clock=runtime.clock, key=key)
    base = runtime.settings.base_url()
    src = f"{base}/media/images/{preview.image_path}" if preview.image_path else preview.image_url or ""
    title = html.escape(preview.title or "Promoted Pin")
    img = f'<img src="{html.escape(src)}" width="{preview.width}" alt="{title}">' if src else ""
    page = _PAGE.replace("{width}", str(preview.width)).replace("{img}", img).replace("{title}", title)
    headers = {"cache-control": "private, max-age=300", "x-frame-options": "ALLOWALL"}
    return HTMLResponse(page, headers=headers)
