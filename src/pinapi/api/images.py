"""Pin images at pinapi's own addresses: ``/media/images/{image_id}/{variant}``.

Files are served straight from the data dir without a database round trip: the path is
checked against the only names pinapi writes, so no other file can be reached.
"""

from __future__ import annotations

import re

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import FileResponse, Response

from pinapi.api.common.context import get_runtime
from pinapi.domain.errors import NotFound
from pinapi.domain.organic.images import images_dir

router = APIRouter(tags=["files"])
_NAME = re.compile(r"^(original\.(jpg|png|gif|webp|bmp)|90x90\.jpg|400x\.jpg|600x\.jpg)$")
_TYPES = {
    "jpg": "image/jpeg",
    "png": "image/png",
    "gif": "image/gif",
    "webp": "image/webp",
    "bmp": "image/bmp",
}


@router.get("/media/images/{image_id}/{name}", include_in_schema=False)
async def pin_image(image_id: str, name: str, request: Request) -> Response:
    if not (image_id.isascii() and image_id.isdigit()) or len(image_id) > 19 or not _NAME.match(name):
        raise NotFound("Image", code=11, message="API method not found.")
    path = images_dir(get_runtime(request).settings.data_dir) / image_id / name
    if not path.is_file():
        raise NotFound("Image", code=11, message="API method not found.")
    return FileResponse(
        path,
        media_type=_TYPES[name.rsplit(".", 1)[1]],
        headers={"cache-control": "public, max-age=31536000, immutable"},
    )
