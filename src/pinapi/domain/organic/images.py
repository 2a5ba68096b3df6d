"""Pin images: checked and measured with Pillow, stored under the data dir, served by pinapi.

An accepted image is kept as its original bytes plus three JPEG variants named like
Pinterest's CDN sizes: ``90x90`` (square, centre-cropped), ``400x`` (medium) and ``600x``
(large), 400 and 600 pixels wide with the original's aspect ratio. Medium and large are never
upscaled: a narrower original keeps its own size there, because enlarging only invents pixels.
The square is always 90x90 (a tile a client lays out blindly).

``image_url`` is fetched only from hosts in ``settings.fetch_allow`` (loopback by default),
asynchronously, without following redirects, with a short timeout and a size cap; any other
URL is kept as given and never requested, and the pin still works with that address.
Files are written before the transaction commits; a rolled-back request can leave an
unreferenced directory behind, which is harmless (ids are never reused).
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import hashlib
import io
import warnings
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from urllib.parse import urlsplit

import httpx
from PIL import Image as PILImage
from PIL import ImageOps, UnidentifiedImageError
from sqlalchemy.ext.asyncio import AsyncSession

from pinapi.domain.errors import Invalid
from pinapi.store.ids import new_id
from pinapi.store.tables import Image

MAX_BYTES = 20 * 1024 * 1024
MAX_PIXELS = 60_000_000
FETCH_TIMEOUT_SECONDS = 5.0
FORMATS = {"JPEG": "jpg", "PNG": "png", "GIF": "gif", "WEBP": "webp", "BMP": "bmp"}
SQUARE = 90
WIDTHS = {"medium": 400, "large": 600}
VARIANT_FILES = {"square": "90x90.jpg", "medium": "400x.jpg", "large": "600x.jpg"}


@dataclass(frozen=True, slots=True)
class Processed:
    """What Pillow made of one upload: measured facts and encoded variants."""

    format: str
    width: int
    height: int
    dominant_color: str
    sha256: str
    variants: dict[str, tuple[int, int, bytes]]  # name -> (width, height, JPEG bytes)


def _flatten(img: PILImage.Image) -> PILImage.Image:
    """RGB on white, whatever the mode (palette, alpha, greyscale…)."""
    if img.mode in ("RGBA", "LA") or (img.mode == "P" and "transparency" in img.info):
        rgba = img.convert("RGBA")
        background = PILImage.new("RGB", rgba.size, (255, 255, 255))
        background.paste(rgba, mask=rgba.getchannel("A"))
        return background
    return img.convert("RGB")


def dominant_color(img: PILImage.Image) -> str:
    """The most common colour after median-cut quantisation to 8 colours, as ``#rrggbb``."""
    small = img.copy()
    small.thumbnail((64, 64))
    quant = small.quantize(colors=8, method=PILImage.Quantize.MEDIANCUT)
    palette = quant.getpalette() or []
    counts: list[tuple[int, int]] = [(int(n), int(str(c))) for n, c in quant.getcolors() or []]
    index = max(counts)[1] if counts else 0
    r, g, b = palette[index * 3 : index * 3 + 3] if len(palette) >= index * 3 + 3 else (0, 0, 0)
    return f"#{r:02x}{g:02x}{b:02x}"


def _jpeg(img: PILImage.Image) -> bytes:
    out = io.BytesIO()
    img.save(out, format="JPEG", quality=88, optimize=True)
    return out.getvalue()


def process(data: bytes, *, field: str = "image") -> Processed:
    """Check ``data`` is an image Pillow can read and make its variants (CPU-bound: run in a thread)."""
    if not data:
        raise Invalid(field, "is empty")
    if len(data) > MAX_BYTES:
        raise Invalid(field, f"is larger than {MAX_BYTES // (1024 * 1024)} MB")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", PILImage.DecompressionBombWarning)
            with PILImage.open(io.BytesIO(data)) as probe:
                probe.verify()
            with PILImage.open(io.BytesIO(data)) as opened:
                fmt = opened.format or ""
                if fmt not in FORMATS:
                    raise Invalid(field, f"format {fmt or 'unknown'} is not supported")
                if opened.width * opened.height > MAX_PIXELS:
                    raise Invalid(field, "has too many pixels")
                opened.seek(0)
                rgb = _flatten(ImageOps.exif_transpose(opened) or opened)
    except Invalid:
        raise
    except (
        UnidentifiedImageError,
        OSError,
        SyntaxError,
        ValueError,
        PILImage.DecompressionBombError,
        PILImage.DecompressionBombWarning,
    ) as exc:
        raise Invalid(field, "is not an image pinapi can read (JPEG, PNG, GIF, WebP or BMP)") from exc
    variants: dict[str, tuple[int, int, bytes]] = {}
    square = ImageOps.fit(rgb, (SQUARE, SQUARE), method=PILImage.Resampling.LANCZOS)
    variants["square"] = (SQUARE, SQUARE, _jpeg(square))
    for name, width in WIDTHS.items():
        if rgb.width > width:
            height = max(1, round(rgb.height * width / rgb.width))
            scaled = rgb.resize((width, height), PILImage.Resampling.LANCZOS)
        else:
            scaled = rgb
        variants[name] = (scaled.width, scaled.height, _jpeg(scaled))
    return Processed(
        format=fmt,
        width=rgb.width,
        height=rgb.height,
        dominant_color=dominant_color(rgb),
        sha256=hashlib.sha256(data).hexdigest(),
        variants=variants,
    )


def images_dir(data_dir: Path) -> Path:
    return data_dir / "images"


def _write(root: Path, image_id: int, data: bytes, made: Processed) -> dict[str, dict[str, object]]:
    folder = root / str(image_id)
    folder.mkdir(parents=True, exist_ok=True)
    original = f"original.{FORMATS[made.format]}"
    (folder / original).write_bytes(data)
    out: dict[str, dict[str, object]] = {
        "original": {"width": made.width, "height": made.height, "path": f"{image_id}/{original}"}
    }
    for name, (w, h, blob) in made.variants.items():
        (folder / VARIANT_FILES[name]).write_bytes(blob)
        out[name] = {"width": w, "height": h, "path": f"{image_id}/{VARIANT_FILES[name]}"}
    return out


async def store_image(
    session: AsyncSession,
    *,
    data_dir: Path,
    now: datetime,
    owner_id: int | None,
    data: bytes,
    source_url: str | None = None,
    field: str = "image",
) -> Image:
    """Process ``data`` off the event loop, write its files and add its row to the session."""
    made = await asyncio.to_thread(process, data, field=field)
    image_id = new_id()
    variants = await asyncio.to_thread(_write, images_dir(data_dir), image_id, data, made)
    image = Image(
        id=image_id,
        owner_id=owner_id,
        sha256=made.sha256,
        format=made.format,
        width=made.width,
        height=made.height,
        dominant_color=made.dominant_color,
        variants=variants,
        source_url=source_url,
        created_at=now,
    )
    session.add(image)
    await session.flush()
    return image


def decode_base64(text: str, *, field: str) -> bytes:
    """The bytes of a base64 (or ``data:`` URL) image parameter."""
    payload = text.split(",", 1)[1] if text.startswith("data:") and "," in text else text
    if len(payload) > MAX_BYTES * 4 // 3 + 16:
        raise Invalid(field, f"is larger than {MAX_BYTES // (1024 * 1024)} MB")
    try:
        return base64.b64decode("".join(payload.split()), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise Invalid(field, "is not valid base64") from exc


def check_url(url: str, *, field: str) -> str:
    """An absolute http(s) URL, or code 1 naming ``field``."""
    try:
        parts = urlsplit(url.strip())
        _ = parts.port  # raises on a port out of range
    except ValueError as exc:
        raise Invalid(field, "must be an absolute http or https URL") from exc
    if parts.scheme not in ("http", "https") or not parts.hostname or len(url) > 2000:
        raise Invalid(field, "must be an absolute http or https URL")
    return url.strip()


def fetch_allowed(url: str, allow: list[str]) -> bool:
    host = (urlsplit(url).hostname or "").lower()
    return host in {h.lower().strip("[]") for h in allow}


async def fetch(
    url: str,
    *,
    allow: list[str],
    field: str = "image_url",
    transport: httpx.AsyncBaseTransport | None = None,
    timeout_seconds: float = FETCH_TIMEOUT_SECONDS,
) -> bytes | None:
    """The bytes at ``url`` when its host is allowed; None (nothing requested) otherwise."""
    if not fetch_allowed(url, allow):
        return None
    try:
        async with (
            httpx.AsyncClient(transport=transport, timeout=timeout_seconds, follow_redirects=False) as client,
            client.stream("GET", url) as response,
        ):
            if response.status_code != 200:
                raise Invalid(field, f"could not be fetched (HTTP {response.status_code})")
            declared = response.headers.get("content-length", "")
            if declared.isdigit() and int(declared) > MAX_BYTES:
                raise Invalid(field, f"is larger than {MAX_BYTES // (1024 * 1024)} MB")
            chunks: list[bytes] = []
            total = 0
            async for chunk in response.aiter_bytes():
                total += len(chunk)
                if total > MAX_BYTES:
                    raise Invalid(field, f"is larger than {MAX_BYTES // (1024 * 1024)} MB")
                chunks.append(chunk)
            return b"".join(chunks)
    except (httpx.HTTPError, httpx.InvalidURL, httpx.StreamError, ValueError) as exc:
        raise Invalid(field, "could not be fetched") from exc
