"""The authenticated caller, resolved once per request and passed down explicitly."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Principal:
    """A user acting through an app with a set of granular scopes.

    ``user_id`` is None for a client-authorized (signed) request: the app acts alone and may
    read only public fields.
    """

    user_id: int | None
    app_id: int
    scopes: frozenset[str]
    token_id: int | None = None

    @property
    def is_client(self) -> bool:
        return self.user_id is None

    def has(self, *scopes: str) -> bool:
        return all(s in self.scopes for s in scopes)
