"""Bookmark pagination: opaque, signed keyset cursors.

A bookmark carries the sort key of the last row served, the list it belongs to (a context
string such as ``board:123:pins``) and when it was issued, signed with the instance key. A
forged bookmark, one for another list, or one older than the TTL answers code 10. Because
the next page is a keyset seek (``WHERE (key, id) > (last)``), page N costs what page 1 costs.
The encoding is base64url without padding, so clients may append it to a query unencoded.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from typing import Any

import orjson

from pinapi.domain.errors import Invalid, NotFound

DEFAULT_PAGE_SIZE = 25
MAX_PAGE_SIZE = 250


class BookmarkNotFound(NotFound):
    def __init__(self) -> None:
        super().__init__("Bookmark", code=10, message="Bookmark not found.")


class PageSizeTooLarge(Invalid):
    def __init__(self) -> None:
        super().__init__("page_size", f"Page size exceeds maximum value of {MAX_PAGE_SIZE}", code=22)
        self.message = f"Page size exceeds maximum value of {MAX_PAGE_SIZE}"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class Bookmarks:
    def __init__(self, secret: str, ttl_seconds: int) -> None:
        self._key = hashlib.sha256(b"bookmark:" + secret.encode()).digest()
        self.ttl = ttl_seconds

    def _mac(self, payload: bytes) -> bytes:
        return hmac.new(self._key, payload, hashlib.sha256).digest()[:16]

    def encode(self, context: str, key: list[Any]) -> str:
        payload = orjson.dumps({"c": context, "k": key, "t": int(time.time())})
        return _b64(payload) + "." + _b64(self._mac(payload))

    def decode(self, raw: str, context: str) -> list[Any]:
        try:
            body, mac = raw.split(".", 1)
            payload = _unb64(body)
            if not hmac.compare_digest(self._mac(payload), _unb64(mac)):
                raise BookmarkNotFound()
            data = orjson.loads(payload)
        except (ValueError, orjson.JSONDecodeError) as exc:
            raise BookmarkNotFound() from exc
        if not isinstance(data, dict) or data.get("c") != context or not isinstance(data.get("k"), list):
            raise BookmarkNotFound()
        if self.ttl and time.time() - float(data.get("t", 0)) > self.ttl:
            raise BookmarkNotFound()
        return list(data["k"])


def page_size_from(raw: Any) -> int:
    if raw is None or raw == "":
        return DEFAULT_PAGE_SIZE
    try:
        size = int(str(raw))
    except ValueError as exc:
        raise Invalid("page_size", "must be an integer") from exc
    if size > MAX_PAGE_SIZE:
        raise PageSizeTooLarge()
    if size < 1:
        raise Invalid("page_size", "must be at least 1")
    return size
