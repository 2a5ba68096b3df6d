"""Typed failures the domain raises; the wire layer turns each into a v3 envelope.

Each error carries the v3 response code that names it. The HTTP status comes from the v3
response-code table in ``api/common/errors.py``; ``http_status`` here is only the fallback for
a code the table does not list.
"""

from __future__ import annotations


class DomainError(Exception):
    """Base of every expected failure; ``code`` is the v3 response code."""

    code: int = 12
    http_status: int = 500
    default_message: str = "Something went wrong on our end. Sorry about that."

    def __init__(self, message: str | None = None, *, code: int | None = None) -> None:
        if code is not None:
            self.code = code
        self.message = message or self.default_message
        super().__init__(self.message)


class Invalid(DomainError):
    """A parameter is missing, malformed or out of range; ``field`` names it."""

    code = 1
    http_status = 400

    def __init__(self, field: str, reason: str, *, code: int | None = None) -> None:
        self.field = field
        self.reason = reason
        super().__init__(f"Invalid parameter '{field}': {reason}", code=code)


class ValidationFailed(Invalid):
    """Well-formed input that breaks a business rule (v3 code 15 unless told otherwise)."""

    code = 15


class NotFound(DomainError):
    """The object does not exist or the caller may not see it (both answer the same)."""

    http_status = 404

    def __init__(self, what: str, *, code: int, message: str | None = None) -> None:
        self.what = what
        super().__init__(message or f"{what} not found.", code=code)


class AuthenticationFailed(DomainError):
    code = 2
    http_status = 401
    default_message = "Authentication failed."


class AuthorizationFailed(DomainError):
    """The token is valid but lacks a scope the route needs."""

    code = 3
    http_status = 401
    default_message = "Authorization failed."


class Forbidden(DomainError):
    code = 7
    http_status = 401
    default_message = "You are not permitted to access that resource."


class AdvertiserAccessDenied(Forbidden):
    code = 1902
    http_status = 403
    default_message = "User is not authorized to access requested advertiser."


class Conflict(DomainError):
    """The request collides with existing state (duplicate name, limit reached)."""

    http_status = 409

    def __init__(self, message: str, *, code: int) -> None:
        super().__init__(message, code=code)


class RateLimited(DomainError):
    code = 8
    http_status = 429
    default_message = "You have exceeded your rate limit. Try again later."

    def __init__(self, *, limit: int, reset_seconds: int) -> None:
        self.limit = limit
        self.reset_seconds = reset_seconds
        super().__init__()


class Gone(DomainError):
    code = 2051
    http_status = 410
    default_message = "Sorry! This endpoint has been deprecated."
