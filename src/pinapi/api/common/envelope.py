"""The v3 response envelope, rendered with orjson.

Success: ``{status, code, data, message, endpoint_name}`` plus ``bookmark`` at the root only
when another page exists (clients loop while the key is present, so it is never null).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import orjson
from pydantic import BaseModel
from starlette.responses import Response


def _default(obj: Any) -> Any:
    if isinstance(obj, BaseModel):
        return obj.model_dump(mode="json")
    raise TypeError(f"not JSON serializable: {type(obj).__name__}")


def dumps(content: Any) -> bytes:
    return orjson.dumps(content, default=_default, option=orjson.OPT_NON_STR_KEYS)


class JSONBody(Response):
    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return dumps(content)


@dataclass(slots=True)
class Page:
    """A page of a list; ``bookmark`` is None on the last page."""

    items: list[Any]
    bookmark: str | None = None


def success_body(data: Any, *, endpoint_name: str, bookmark: str | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {
        "status": "success",
        "code": 0,
        "data": data,
        "message": "ok",
        "endpoint_name": endpoint_name,
    }
    if bookmark:
        body["bookmark"] = bookmark
    return body


def failure_body(
    *, code: int, message: str, endpoint_name: str, extra: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "status": "failure",
        "code": code,
        "data": None,
        "message": message,
        "endpoint_name": endpoint_name,
        "error": {"message": message},
    }
    if extra:
        body.update(extra)
    return body
