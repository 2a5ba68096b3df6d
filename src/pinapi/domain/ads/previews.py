"""Ad previews: an uploaded image or an existing pin rendered as a promoted pin, on a page
pinapi serves at ``/ad-preview/{key}/`` for ``VALID_FOR`` (by the injected clock).

The uploaded image goes through the organic image pipeline (checked, measured and stored
by Pillow under the data dir), so a bad file is refused naming its field. ``width`` is the
feed column width and ``height`` keeps the image's aspect ratio; a pin without a stored
image (only a remote URL) reports height -1, as the v3 Preview schema documents for an
image it cannot measure.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from pinapi.domain.access import sharing
from pinapi.domain.access.principal import Principal
from pinapi.domain.clock import Clock
from pinapi.domain.errors import NotFound
from pinapi.domain.organic import images
from pinapi.domain.organic.visibility import visible_pin
from pinapi.store.tables import Image, Preview

VALID_FOR = timedelta(days=7)
FEED_WIDTH = 236
PREVIEW_NOT_FOUND = 1101


@dataclass(frozen=True, slots=True)
class PreviewPage:
    preview: Preview
    image_path: str | None  # under the images dir, when pinapi stores the image
    image_url: str | None  # a remote image, otherwise


def _height(width: int, height: int) -> int:
    return max(1, round(FEED_WIDTH * height / width)) if width > 0 else -1


def _variant_path(image: Image) -> str | None:
    for name in ("large", "medium", "original"):
        v = image.variants.get(name)
        if isinstance(v, dict) and v.get("path"):
            return str(v["path"])
    return None


async def _check_advertiser(session: AsyncSession, principal: Principal, advertiser_id: int | None) -> None:
    if advertiser_id is not None:
        await sharing.require_action(
            session, principal=principal, advertiser_id=advertiser_id, action="PIN_PROMOTION_READ"
        )


async def from_image(
    session: AsyncSession,
    *,
    clock: Clock,
    principal: Principal,
    data_dir: Path,
    data: bytes,
    title: str = "",
    advertiser_id: int | None = None,
) -> Preview:
    await _check_advertiser(session, principal, advertiser_id)
    now = clock.now()
    image = await images.store_image(
        session, data_dir=data_dir, now=now, owner_id=principal.user_id, data=data, field="image"
    )
    preview = Preview(
        key=secrets.token_hex(20),
        user_id=principal.user_id,
        title=title,
        image_path=_variant_path(image),
        media_type="image/jpeg",
        width=FEED_WIDTH,
        height=_height(image.width, image.height),
        expires_at=now + VALID_FOR,
        created_at=now,
    )
    session.add(preview)
    await session.flush()
    return preview


async def from_pin(
    session: AsyncSession,
    *,
    clock: Clock,
    principal: Principal,
    pin_id: int,
    advertiser_id: int | None = None,
) -> Preview:
    await _check_advertiser(session, principal, advertiser_id)
    pin, _ = await visible_pin(session, pin_id=pin_id, principal=principal)
    image = await session.get(Image, pin.image_id) if pin.image_id is not None else None
    now = clock.now()
    preview = Preview(
        key=secrets.token_hex(20),
        user_id=principal.user_id,
        pin_id=pin.id,
        title=pin.title or "",
        image_path=_variant_path(image) if image is not None else None,
        image_url=None if image is not None else pin.image_url,
        media_type="image/jpeg",
        width=FEED_WIDTH,
        height=_height(image.width, image.height) if image is not None else -1,
        expires_at=now + VALID_FOR,
        created_at=now,
    )
    session.add(preview)
    await session.flush()
    return preview


async def page(session: AsyncSession, *, clock: Clock, key: str) -> Preview:
    """The live preview of ``key``; unknown or expired keys answer code 1101."""
    preview = await session.scalar(select(Preview).where(Preview.key == key))
    if preview is None or preview.expires_at <= clock.now():
        raise NotFound("Preview key", code=PREVIEW_NOT_FOUND, message="Preview key not found.")
    return preview
