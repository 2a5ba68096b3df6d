"""Request parameters merged from the query string, a form body and a JSON body.

v3 clients disagree on where parameters go (query for the async report, form for PUT, JSON
for POST), so every route reads one merged view: query, then form, then JSON, later sources
overriding earlier ones. Lists accept comma strings, repeated keys and JSON arrays alike.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, TypeVar

import orjson
from pydantic import BaseModel, ValidationError
from starlette.datastructures import UploadFile
from starlette.requests import Request

from pinapi.domain.errors import Invalid

M = TypeVar("M", bound=BaseModel)
_TRUE = {"true", "1", "yes", "on", "t"}
_FALSE = {"false", "0", "no", "off", "f", ""}


class Params:
    """A read-only bag of merged parameters with typed getters that name the bad field."""

    def __init__(self, values: dict[str, Any], files: dict[str, UploadFile] | None = None) -> None:
        self.values = values
        self.files = files or {}

    def __contains__(self, name: str) -> bool:
        return name in self.values

    def fields(self) -> dict[str, Any]:
        """Every parameter but the token and a raw body, one-item lists unwrapped: the values
        a create or update hands to its domain rules."""
        return {k: self.raw(k) for k in self.values if k not in ("access_token", "__body__")}

    def raw(self, name: str) -> Any:
        value = self.values.get(name)
        if isinstance(value, list) and len(value) == 1:
            return value[0]
        return value

    def text(
        self, name: str, default: str | None = None, *, required: bool = False, max_len: int = 10_000
    ) -> str | None:
        value = self.raw(name)
        if value is None:
            if required:
                raise Invalid(name, "is required")
            return default
        if isinstance(value, (dict, list)):
            raise Invalid(name, "must be a string")
        text = value if isinstance(value, str) else orjson.dumps(value).decode()
        if len(text) > max_len:
            raise Invalid(name, f"must be at most {max_len} characters")
        return text

    def req_text(self, name: str, *, max_len: int = 10_000) -> str:
        value = self.text(name, required=True, max_len=max_len)
        assert value is not None
        return value

    def integer(
        self, name: str, default: int | None = None, *, lo: int | None = None, hi: int | None = None
    ) -> int | None:
        value = self.raw(name)
        if value is None or value == "":
            return default
        if isinstance(value, bool):
            raise Invalid(name, "must be an integer")
        try:
            number = int(value) if not isinstance(value, float) or value.is_integer() else None
        except (TypeError, ValueError):
            number = None
        if number is None:
            raise Invalid(name, "must be an integer")
        if lo is not None and number < lo:
            raise Invalid(name, f"must be at least {lo}")
        if hi is not None and number > hi:
            raise Invalid(name, f"must be at most {hi}")
        return number

    def flag(self, name: str, default: bool) -> bool:
        value = self.raw(name)
        if value is None:
            return default
        if isinstance(value, bool):
            return value
        text = str(value).strip().lower()
        if text in _TRUE:
            return True
        if text in _FALSE:
            return False
        raise Invalid(name, "must be true or false")

    def choice(
        self, name: str, allowed: Iterable[str], default: str | None = None, *, upper: bool = False
    ) -> str | None:
        value = self.text(name)
        if value is None:
            return default
        options = list(allowed)
        value = value.upper() if upper else value
        if value not in options:
            raise Invalid(name, f"must be one of {', '.join(options)}")
        return value

    def items(self, name: str) -> list[str]:
        value = self.values.get(name)
        if value is None:
            return []
        items = value if isinstance(value, list) else [value]
        out: list[str] = []
        for item in items:
            if isinstance(item, str):
                text = item.strip()
                if text.startswith("[") and text.endswith("]"):
                    try:
                        decoded = orjson.loads(text)
                    except orjson.JSONDecodeError as exc:
                        raise Invalid(name, "is not a valid JSON array") from exc
                    if any(isinstance(x, (dict, list)) for x in decoded):
                        raise Invalid(name, "must be a list of scalars")
                    out.extend(str(x) for x in decoded)
                else:
                    out.extend(p.strip() for p in text.split(",") if p.strip())
            elif isinstance(item, (dict, list)):
                raise Invalid(name, "must be a list of scalars")
            else:
                out.append(str(item))
        return out

    def json(self, name: str, default: Any = None) -> Any:
        value = self.raw(name)
        if value is None:
            return default
        if isinstance(value, str):
            try:
                return orjson.loads(value)
            except orjson.JSONDecodeError as exc:
                raise Invalid(name, "is not valid JSON") from exc
        return value

    def model(self, model: type[M]) -> M:
        """Validate the merged values with a pydantic model; the first error names its field."""
        data = {k: self.raw(k) for k in self.values}
        try:
            return model.model_validate(data)
        except ValidationError as exc:
            err = exc.errors()[0]
            field = ".".join(str(p) for p in err["loc"]) or "body"
            raise Invalid(field, err["msg"]) from exc


def _merge(into: dict[str, Any], items: Iterable[tuple[str, Any]]) -> None:
    seen: dict[str, list[Any]] = {}
    for key, value in items:
        seen.setdefault(key, []).append(value)
    for key, values in seen.items():
        into[key] = values[0] if len(values) == 1 else values


async def read_params(request: Request) -> Params:
    """Parse (once per request) the merged parameters of ``request``."""
    cached = request.scope.get("state", {}).get("params")
    if isinstance(cached, Params):
        return cached
    values: dict[str, Any] = {}
    files: dict[str, UploadFile] = {}
    _merge(values, request.query_params.multi_items())
    ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if request.method in ("POST", "PUT", "PATCH", "DELETE"):
        if ctype in ("application/x-www-form-urlencoded", "multipart/form-data"):
            form = await request.form()
            plain: list[tuple[str, Any]] = []
            for key, value in form.multi_items():
                if isinstance(value, UploadFile):
                    files[key] = value
                else:
                    plain.append((key, value))
            _merge(values, plain)
        else:
            body = await request.body()
            if body.strip():
                if ctype and ctype != "application/json" and not ctype.endswith("+json"):
                    raise Invalid("body", f"unsupported content type {ctype}")
                try:
                    data = orjson.loads(body)
                except orjson.JSONDecodeError as exc:
                    raise Invalid("body", "is not valid JSON") from exc
                if isinstance(data, dict):
                    values.update(data)
                else:
                    values["__body__"] = data
    params = Params(values, files)
    request.state.params = params
    return params
