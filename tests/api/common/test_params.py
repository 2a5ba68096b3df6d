"""``read_params``: query, form and JSON merged; lists in every client's spelling; typed getters."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

import orjson
import pytest
from fastapi import APIRouter
from pydantic import BaseModel, Field
from starlette.requests import Request

from pinapi.api.common.params import Params, read_params
from pinapi.api.common.routing import router as v3_router
from pinapi.domain.errors import Invalid
from tests.api.common.conftest import MakeClient


def request(
    method: str = "GET",
    query: str | list[tuple[str, str]] = "",
    body: bytes = b"",
    content_type: str | None = None,
) -> Request:
    qs = query if isinstance(query, str) else urlencode(query)
    headers = [(b"content-type", content_type.encode())] if content_type else []
    scope: dict[str, Any] = {
        "type": "http",
        "method": method,
        "path": "/v3/test/",
        "raw_path": b"/v3/test/",
        "query_string": qs.encode(),
        "headers": headers,
    }
    sent = False

    async def receive() -> dict[str, Any]:
        nonlocal sent
        if sent:
            return {"type": "http.disconnect"}
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return Request(scope, receive)


def form(pairs: list[tuple[str, str]]) -> tuple[bytes, str]:
    return urlencode(pairs).encode(), "application/x-www-form-urlencoded"


def as_json(data: Any) -> tuple[bytes, str]:
    return orjson.dumps(data), "application/json"


def invalid(exc: pytest.ExceptionInfo[Invalid], field: str) -> str:
    assert exc.value.field == field
    assert exc.value.code == 1
    assert exc.value.message.startswith(f"Invalid parameter '{field}': ")
    return exc.value.reason


async def test_query_and_form_merge_later_source_wins() -> None:
    body, ctype = form([("b", "2"), ("shared", "from-form")])
    p = await read_params(request("PUT", "a=1&shared=from-query", body, ctype))
    assert p.values == {"a": "1", "b": "2", "shared": "from-form"}


async def test_query_and_json_merge_keeping_json_types() -> None:
    body, ctype = as_json({"b": 2, "shared": "from-json", "flag": True, "nested": {"x": [1]}})
    p = await read_params(request("POST", "a=1&shared=from-query", body, ctype + "; charset=utf-8"))
    assert p.values == {"a": "1", "b": 2, "shared": "from-json", "flag": True, "nested": {"x": [1]}}
    assert p.integer("b") == 2 and p.flag("flag", False) is True and p.json("nested") == {"x": [1]}


async def test_query_only_post_like_the_async_report_clients() -> None:
    p = await read_params(request("POST", "level=CAMPAIGN&columns=SPEND,IMPRESSION"))
    assert p.text("level") == "CAMPAIGN"
    assert p.items("columns") == ["SPEND", "IMPRESSION"]


async def test_get_ignores_a_body() -> None:
    body, ctype = as_json({"a": "body"})
    p = await read_params(request("GET", "a=query", body, ctype))
    assert p.values == {"a": "query"}


@pytest.mark.parametrize(
    ("method", "query", "payload", "expected"),
    [
        ("GET", [("ids", "1,2, 3")], None, ["1", "2", "3"]),
        ("GET", [("ids", "1"), ("ids", "2")], None, ["1", "2"]),
        ("GET", [("ids", "1,2"), ("ids", "3")], None, ["1", "2", "3"]),
        ("GET", [("ids", '["1","2"]')], None, ["1", "2"]),
        ("GET", [("ids", "")], None, []),
        ("GET", [], None, []),
        ("POST", [], {"ids": [1, 2, "3"]}, ["1", "2", "3"]),
        ("POST", [], {"ids": "4,5"}, ["4", "5"]),
        ("POST", [], {"ids": 7}, ["7"]),
        ("PUT", [], [("ids", "8"), ("ids", "9")], ["8", "9"]),
        ("PUT", [], [("ids", "8,9")], ["8", "9"]),
        ("PUT", [], [("ids", "[8, 9]")], ["8", "9"]),
    ],
)
async def test_lists_in_every_spelling(
    method: str, query: list[tuple[str, str]], payload: Any, expected: list[str]
) -> None:
    body, ctype = b"", None
    if isinstance(payload, dict):
        body, ctype = as_json(payload)
    elif isinstance(payload, list):
        body, ctype = form(payload)
    p = await read_params(request(method, query, body, ctype))
    assert p.items("ids") == expected


async def test_multipart_keeps_files_apart() -> None:
    boundary = "XyZ"
    body = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="title"\r\n\r\nhello\r\n'
        f'--{boundary}\r\nContent-Disposition: form-data; name="image"; filename="a.png"\r\n'
        f"Content-Type: image/png\r\n\r\nPNGDATA\r\n--{boundary}--\r\n"
    ).encode()
    p = await read_params(request("POST", "board=1", body, f"multipart/form-data; boundary={boundary}"))
    assert p.values == {"board": "1", "title": "hello"}
    assert list(p.files) == ["image"]
    assert await p.files["image"].read() == b"PNGDATA"
    await p.files["image"].close()


async def test_body_errors_name_the_body() -> None:
    with pytest.raises(Invalid) as exc:
        await read_params(request("POST", "", b"{not json", "application/json"))
    assert invalid(exc, "body") == "is not valid JSON"
    with pytest.raises(Invalid) as exc:
        await read_params(request("POST", "", b"plain words", "text/plain"))
    assert invalid(exc, "body") == "unsupported content type text/plain"


async def test_untyped_json_body_is_json_and_arrays_are_kept() -> None:
    p = await read_params(request("POST", "", b'{"a": 1}'))
    assert p.values == {"a": 1}
    p = await read_params(request("POST", "", b"[1, 2]", "application/json"))
    assert p.values == {"__body__": [1, 2]}


async def test_parsed_once_per_request() -> None:
    body, ctype = as_json({"a": 1})
    req = request("POST", "", body, ctype)
    first = await read_params(req)
    assert await read_params(req) is first


def test_integer_getter() -> None:
    p = Params({"n": "12", "f": 3.0, "bad": "x", "half": 2.5, "flag": True, "empty": ""})
    assert p.integer("n") == 12 and p.integer("f") == 3
    assert p.integer("missing", 5) == 5 and p.integer("empty", 6) == 6
    for name in ("bad", "half", "flag"):
        with pytest.raises(Invalid) as exc:
            p.integer(name)
        assert invalid(exc, name) == "must be an integer"
    with pytest.raises(Invalid) as exc:
        p.integer("n", lo=13)
    assert invalid(exc, "n") == "must be at least 13"
    with pytest.raises(Invalid) as exc:
        p.integer("n", hi=11)
    assert invalid(exc, "n") == "must be at most 11"


def test_text_getters() -> None:
    p = Params({"name": "pins", "obj": {"a": 1}, "num": 5, "long": "x" * 11})
    assert p.text("name") == "pins" and p.text("num") == "5" and p.text("none", "dflt") == "dflt"
    assert p.req_text("name") == "pins"
    with pytest.raises(Invalid) as exc:
        p.req_text("none")
    assert invalid(exc, "none") == "is required"
    with pytest.raises(Invalid) as exc:
        p.text("obj")
    assert invalid(exc, "obj") == "must be a string"
    with pytest.raises(Invalid) as exc:
        p.text("long", max_len=10)
    assert invalid(exc, "long") == "must be at most 10 characters"


def test_flag_and_choice_getters() -> None:
    p = Params({"t": "True", "f": "0", "b": False, "odd": "maybe", "level": "campaign"})
    assert p.flag("t", False) is True and p.flag("f", True) is False and p.flag("b", True) is False
    assert p.flag("missing", True) is True
    with pytest.raises(Invalid) as exc:
        p.flag("odd", False)
    assert invalid(exc, "odd") == "must be true or false"
    assert p.choice("level", ["CAMPAIGN", "AD_GROUP"], upper=True) == "CAMPAIGN"
    assert p.choice("missing", ["A"], "A") == "A"
    with pytest.raises(Invalid) as exc:
        p.choice("level", ["CAMPAIGN", "AD_GROUP"])
    assert invalid(exc, "level") == "must be one of CAMPAIGN, AD_GROUP"


def test_items_and_json_errors_name_the_field() -> None:
    p = Params(
        {"bad_array": "[1, 2,]", "objs": [{"a": 1}], "nested": '[{"a": 1}]', "carousel_data_json": "{oops"}
    )
    with pytest.raises(Invalid) as exc:
        p.items("bad_array")
    assert invalid(exc, "bad_array") == "is not a valid JSON array"
    with pytest.raises(Invalid) as exc:
        p.items("objs")
    assert invalid(exc, "objs") == "must be a list of scalars"
    with pytest.raises(Invalid) as exc:
        p.items("nested")
    assert invalid(exc, "nested") == "must be a list of scalars"
    with pytest.raises(Invalid) as exc:
        p.json("carousel_data_json")
    assert invalid(exc, "carousel_data_json") == "is not valid JSON"
    assert Params({"j": '{"a": [1]}'}).json("j") == {"a": [1]}


class Campaign(BaseModel):
    name: str
    daily_spend_cap: int = Field(ge=0)


def test_model_getter_names_the_failing_field() -> None:
    assert Params({"name": "c", "daily_spend_cap": "5"}).model(Campaign) == Campaign(
        name="c", daily_spend_cap=5
    )
    with pytest.raises(Invalid) as exc:
        Params({"name": "c", "daily_spend_cap": "-1"}).model(Campaign)
    assert "greater than or equal to 0" in invalid(exc, "daily_spend_cap")
    with pytest.raises(Invalid) as exc:
        Params({"daily_spend_cap": 1}).model(Campaign)
    assert invalid(exc, "name") == "Field required"


def _echo_route() -> APIRouter:
    r = v3_router()

    @r.api_route("/v3/test/echo/", methods=["GET", "POST", "PUT", "PATCH", "DELETE"])
    async def v3_test_echo(request: Request) -> dict[str, Any]:
        p = await read_params(request)
        return {"values": p.values, "ids": p.items("ids"), "n": p.integer("n"), "files": sorted(p.files)}

    return r


async def test_merging_over_the_wire(make_client: MakeClient) -> None:
    client = await make_client(routers=[_echo_route()])
    r = await client.put("/v3/test/echo", params={"n": "1", "ids": "1,2"}, data={"n": "2", "x": "form"})
    assert r.status_code == 200
    assert r.json()["data"] == {
        "values": {"n": "2", "ids": "1,2", "x": "form"},
        "ids": ["1", "2"],
        "n": 2,
        "files": [],
    }
    r = await client.post("/v3/test/echo/?ids=9&ids=8", json={"n": 3})
    assert r.json()["data"]["ids"] == ["9", "8"] and r.json()["data"]["n"] == 3
    r = await client.post("/v3/test/echo/", files={"image": ("a.png", b"PNG", "image/png")}, data={"n": "4"})
    assert r.json()["data"]["files"] == ["image"] and r.json()["data"]["n"] == 4


async def test_bad_bodies_over_the_wire_are_code_1(make_client: MakeClient) -> None:
    client = await make_client(routers=[_echo_route()])
    cases = [
        ({"content": b"{oops", "headers": {"content-type": "application/json"}}, "body"),
        ({"content": b"<xml/>", "headers": {"content-type": "application/xml"}}, "body"),
        ({"json": {"n": "many"}}, "n"),
        ({"json": {"ids": [{"a": 1}]}}, "ids"),
    ]
    for kwargs, field in cases:
        r = await client.post("/v3/test/echo/", **kwargs)  # type: ignore[arg-type]
        assert r.status_code == 400, kwargs
        body = r.json()
        assert body["code"] == 1 and body["param"] == field and body["status"] == "failure", kwargs
