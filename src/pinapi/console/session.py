"""The browser's console session: a signed cookie, no server-side storage.

The cookie holds the signed-in user, a fingerprint of that user's password hash (a password
change makes a new salted hash, so it signs every browser out as it revokes every token,
even under a frozen clock), a CSRF token the
forms echo back, and when it was issued by the injected clock. itsdangerous signs it with
a key derived from the instance key, so every process of one instance accepts it and a
copy of the database alone cannot forge one.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from itsdangerous import BadSignature, URLSafeSerializer

COOKIE_NAME = "pinapi_console"
COOKIE_PATH = "/oauth"
MAX_AGE_SECONDS = 14 * 24 * 3600


@dataclass(frozen=True)
class ConsoleSession:
    csrf: str
    issued_at: int
    user_id: int | None = None
    password_stamp: str = ""

    def signed_in(self, user_id: int, password_hash: str, now: datetime) -> ConsoleSession:
        """A fresh session for the user, with a new CSRF token (no fixation across sign-in)."""
        return ConsoleSession(
            csrf=secrets.token_urlsafe(24),
            issued_at=int(now.timestamp()),
            user_id=user_id,
            password_stamp=stamp(password_hash),
        )

    def signed_out(self) -> ConsoleSession:
        return replace(self, user_id=None, password_stamp="", csrf=secrets.token_urlsafe(24))

    def csrf_matches(self, given: str | None) -> bool:
        return bool(given) and hmac.compare_digest(self.csrf.encode(), (given or "").encode())


def stamp(password_hash: str) -> str:
    """A short fingerprint of the password hash; the cookie is signed, not secret."""
    return hashlib.sha256(password_hash.encode()).hexdigest()[:16]


def anonymous(now: datetime) -> ConsoleSession:
    return ConsoleSession(csrf=secrets.token_urlsafe(24), issued_at=int(now.timestamp()))


class SessionCodec:
    def __init__(self, instance_key: str) -> None:
        self._serializer = URLSafeSerializer(instance_key, salt="pinapi-console-session")

    def dumps(self, session: ConsoleSession) -> str:
        payload = {
            "c": session.csrf,
            "t": session.issued_at,
            "u": session.user_id,
            "p": session.password_stamp,
        }
        return str(self._serializer.dumps(payload))

    def loads(self, raw: str | None, now: datetime) -> ConsoleSession | None:
        """The session in a cookie, or None when it is missing, forged, malformed or too old."""
        if not raw:
            return None
        try:
            data: Any = self._serializer.loads(raw)
        except BadSignature:
            return None
        if not isinstance(data, dict):
            return None
        csrf, issued, user, pw = data.get("c"), data.get("t"), data.get("u"), data.get("p")
        if not isinstance(csrf, str) or not isinstance(issued, int) or not isinstance(pw, str):
            return None
        if user is not None and not isinstance(user, int):
            return None
        if not 0 <= now.timestamp() - issued <= MAX_AGE_SECONDS:
            return None
        return ConsoleSession(csrf=csrf, issued_at=issued, user_id=user, password_stamp=pw)
