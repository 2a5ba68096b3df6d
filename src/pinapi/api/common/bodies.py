"""Wire bodies kept for the objects the hot-path readers hand out again.

``Reader.first_row`` gives each row a key, and the single-object reads
(``domain.ads.reads``) return the very object they built before when an equal row comes
back. Formatting a body from it (ids to strings, timestamps to Unix seconds, JSON to text)
then gives the same result again, so it is kept with the object, by identity, and served
as a copy. Anything in a body that depends on more than the object (the clock) is the
route's to recompute on every call.
"""

from __future__ import annotations

from typing import Any


class BodyMemo:
    """Bodies by the identity of the object they were formatted from; bounded (emptied
    when full). The object is held with its body, so its identity cannot be reused while
    the entry lives."""

    __slots__ = ("_items", "_limit")

    def __init__(self, limit: int = 4096) -> None:
        self._items: dict[int, tuple[object, dict[str, Any]]] = {}
        self._limit = limit

    def get(self, source: object) -> dict[str, Any] | None:
        """A copy of the body kept for ``source``, or None."""
        hit = self._items.get(id(source))
        if hit is None or hit[0] is not source:
            return None
        return dict(hit[1])

    def put(self, source: object, body: dict[str, Any]) -> dict[str, Any]:
        """Keep ``body`` for ``source``; returns a copy for the caller to send or amend."""
        if len(self._items) >= self._limit:
            self._items.clear()
        self._items[id(source)] = (source, body)
        return dict(body)
