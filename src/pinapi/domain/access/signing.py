"""Client authorization: verify a request signed with the app secret (HMAC-SHA256).

The string to sign is ``METHOD&urlencoded(url without query)&k1=v1&k2=v2`` with the query
parameters (including ``timestamp`` and ``client_id``, excluding ``oauth_signature``) sorted
by name and only the values URL-encoded. ``timestamp`` is accepted in seconds or
milliseconds (the v3 guide's own example uses milliseconds) and must fall inside the
freshness window.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable
from urllib.parse import quote


def string_to_sign(method: str, url: str, params: Iterable[tuple[str, str]]) -> str:
    base = url.split("?", 1)[0]
    items = sorted((k, v) for k, v in params if k != "oauth_signature")
    query = "&".join(f"{k}={quote(v, safe='')}" for k, v in items)
    return f"{method.upper()}&{quote(base, safe='')}&{query}"


def sign(secret: str, method: str, url: str, params: Iterable[tuple[str, str]]) -> str:
    msg = string_to_sign(method, url, params)
    return hmac.new(secret.encode(), msg.encode(), hashlib.sha256).hexdigest()


def timestamp_seconds(raw: str) -> float | None:
    try:
        value = float(raw)
    except ValueError:
        return None
    return value / 1000.0 if value > 1e11 else value


def is_fresh(raw_timestamp: str, now_seconds: float, window_seconds: int) -> bool:
    ts = timestamp_seconds(raw_timestamp)
    return ts is not None and abs(now_seconds - ts) <= window_seconds


def matches(expected: str, given: str) -> bool:
    return hmac.compare_digest(expected.encode(), given.encode())
