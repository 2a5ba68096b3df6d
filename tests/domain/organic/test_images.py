"""Image processing and the fetch policy, without the API."""

from __future__ import annotations

import io

import httpx
import pytest
from PIL import Image as PILImage

from pinapi.domain.errors import Invalid
from pinapi.domain.organic import images


def encode(img: PILImage.Image, fmt: str) -> bytes:
    out = io.BytesIO()
    img.save(out, format=fmt)
    return out.getvalue()


@pytest.mark.parametrize("fmt", ["PNG", "JPEG", "GIF", "WEBP", "BMP"])
def test_variants_sizes_and_dominant_color(fmt: str) -> None:
    made = images.process(encode(PILImage.new("RGB", (1200, 900), (0, 0, 255)), fmt))
    assert made.format == fmt and (made.width, made.height) == (1200, 900)
    assert {k: v[:2] for k, v in made.variants.items()} == {
        "square": (90, 90),
        "medium": (400, 300),
        "large": (600, 450),
    }
    rgb = [int(made.dominant_color[i : i + 2], 16) for i in (1, 3, 5)]
    assert made.dominant_color == "#0000ff" or (
        fmt == "JPEG" and max(abs(a - b) for a, b in zip(rgb, (0, 0, 255), strict=True)) <= 2
    )
    with PILImage.open(io.BytesIO(made.variants["medium"][2])) as medium:
        assert medium.format == "JPEG" and medium.size == (400, 300)


def test_dominant_color_is_the_largest_area() -> None:
    img = PILImage.new("RGB", (100, 100), (255, 255, 255))
    img.paste((200, 0, 0), (0, 0, 100, 70))
    assert images.process(encode(img, "PNG")).dominant_color == "#c80000"


def test_transparent_pixels_become_white() -> None:
    made = images.process(encode(PILImage.new("RGBA", (50, 50), (0, 0, 0, 0)), "PNG"))
    assert made.dominant_color == "#ffffff"
    assert made.variants["large"][:2] == (50, 50)


def test_square_is_centre_cropped() -> None:
    img = PILImage.new("RGB", (300, 100), (0, 255, 0))
    img.paste((255, 0, 0), (100, 0, 200, 100))
    square = images.process(encode(img, "PNG")).variants["square"][2]
    with PILImage.open(io.BytesIO(square)) as out:
        r, g, b = out.convert("RGB").getpixel((5, 45))  # type: ignore[misc]
        assert r > 240 and g < 20 and b < 20


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"", "is empty"),
        (b"plain text", "is not an image"),
        (b"\x89PNG\r\n\x1a\n" + b"\0" * 64, "is not an image"),
        (b"x" * (images.MAX_BYTES + 1), "20 MB"),
    ],
)
def test_bad_images_are_refused(data: bytes, reason: str) -> None:
    with pytest.raises(Invalid) as err:
        images.process(data, field="image")
    assert err.value.field == "image" and reason in err.value.reason


def test_unsupported_format_is_refused() -> None:
    with pytest.raises(Invalid) as err:
        images.process(encode(PILImage.new("RGB", (10, 10)), "TIFF"))
    assert "TIFF" in err.value.reason


def test_base64_and_urls() -> None:
    assert images.decode_base64("aGk=", field="f") == b"hi"
    assert images.decode_base64("data:image/png;base64,aGk=", field="f") == b"hi"
    with pytest.raises(Invalid):
        images.decode_base64("***", field="f")
    assert images.check_url(" https://a.example/x ", field="u") == "https://a.example/x"
    for bad in ("file:///etc/passwd", "http://", "/relative", "x" * 10, "http://127.0.0.1:99999/x"):
        with pytest.raises(Invalid):
            images.check_url(bad, field="u")


def test_fetch_allow_list() -> None:
    allow = ["127.0.0.1", "localhost", "::1"]
    assert images.fetch_allowed("http://127.0.0.1:8080/a.png", allow)
    assert images.fetch_allowed("http://LOCALHOST/a.png", allow)
    assert images.fetch_allowed("http://[::1]:9/a.png", allow)
    assert not images.fetch_allowed("http://127.0.0.1.evil.example/a.png", allow)
    assert not images.fetch_allowed("http://10.0.0.1/a.png", allow)


async def test_fetch_skips_disallowed_hosts_without_a_request() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, content=b"x")

    got = await images.fetch(
        "http://example.com/a.png", allow=["127.0.0.1"], transport=httpx.MockTransport(handler)
    )
    assert got is None and seen == []


async def test_fetch_refuses_redirects_big_bodies_and_errors() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/redirect":
            return httpx.Response(302, headers={"location": "http://example.com/x"})
        if request.url.path == "/big":
            return httpx.Response(200, content=b"\0" * (images.MAX_BYTES + 1))
        if request.url.path == "/down":
            raise httpx.ConnectError("refused", request=request)
        return httpx.Response(200, content=b"ok")

    transport = httpx.MockTransport(handler)
    allow = ["127.0.0.1"]
    assert await images.fetch("http://127.0.0.1/fine", allow=allow, transport=transport) == b"ok"
    for path, reason in (("/redirect", "HTTP 302"), ("/big", "20 MB"), ("/down", "could not be fetched")):
        with pytest.raises(Invalid) as err:
            await images.fetch(f"http://127.0.0.1{path}", allow=allow, transport=transport)
        assert err.value.field == "image_url" and reason in err.value.reason
