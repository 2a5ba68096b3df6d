"""Files pinapi serves at its own addresses (default avatars for now).

Images are drawn with Pillow on first request and kept in memory: nothing is fetched from
outside the machine.
"""

from __future__ import annotations

import io
from functools import cache

from fastapi import APIRouter
from PIL import Image, ImageDraw
from starlette.responses import Response

from pinapi.domain.errors import NotFound

router = APIRouter(tags=["files"])
AVATAR_SIZES = (60, 150, 280, 444)


@cache
def _default_avatar(size: int) -> bytes:
    img = Image.new("RGB", (size, size), (239, 239, 239))
    draw = ImageDraw.Draw(img)
    r = size // 5
    cx, cy = size // 2, size * 2 // 5
    draw.ellipse((cx - r, cy - r, cx + r, cy + r), fill=(118, 118, 118))
    draw.ellipse((cx - 2 * r, cy + r + size // 20, cx + 2 * r, cy + 5 * r), fill=(118, 118, 118))
    out = io.BytesIO()
    img.save(out, format="PNG")
    return out.getvalue()


@router.get("/media/avatars/default_{size}.png", include_in_schema=False)
async def default_avatar(size: int) -> Response:
    if size not in AVATAR_SIZES:
        raise NotFound("Image", code=11, message="API method not found.")
    return Response(_default_avatar(size), media_type="image/png", headers={"cache-control": "max-age=86400"})
