"""Bookmarks (signed keyset cursors) and page sizes, alone and through a paged test route."""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime

import pytest
from fastapi import Depends
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request

from pinapi.api.common.codes import http_status
from pinapi.api.common.context import get_runtime, get_session
from pinapi.api.common.envelope import Page
from pinapi.api.common.paging import BookmarkNotFound, Bookmarks, PageSizeTooLarge, page_size_from
from pinapi.api.common.params import read_params
from pinapi.api.common.routing import router as v3_router
from pinapi.domain.errors import Invalid
from pinapi.runtime import Runtime
from pinapi.store.keyset import KeysetPage, fetch_page
from pinapi.store.tables import User
from tests.api.common.conftest import MakeClient

URL_SAFE = re.compile(r"^[A-Za-z0-9_\-.]+$")
CTX = "board:123:pins"


def test_bookmark_round_trip_is_url_safe() -> None:
    marks = Bookmarks("k", 3600)
    for key in ([1, 2], ["2026-01-01T00:00:00+00:00", 734368420396834766], [], [None, "é/+?&="]):
        raw = marks.encode(CTX, key)
        assert URL_SAFE.match(raw), raw
        assert marks.decode(raw, CTX) == key


def _not_found(marks: Bookmarks, raw: str, context: str = CTX) -> None:
    with pytest.raises(BookmarkNotFound) as exc:
        marks.decode(raw, context)
    assert exc.value.code == 10
    assert exc.value.message == "Bookmark not found."
    assert http_status(exc.value.code, 500) == 404


def test_forged_truncated_foreign_and_garbage_bookmarks_are_code_10() -> None:
    marks = Bookmarks("k", 3600)
    good = marks.encode(CTX, [5, 77])
    body, mac = good.split(".")
    other_body = marks.encode(CTX, [5, 78]).split(".")[0]
    # Alter a leading character: the last one of unpadded base64 partly holds padding bits.
    flipped = ("A" if mac[0] != "A" else "B") + mac[1:]
    for raw in (
        f"{other_body}.{mac}",  # another key under the old signature
        f"{body}.{flipped}",  # the signature altered
        Bookmarks("other-instance", 3600).encode(CTX, [5, 77]),  # another instance's key
        good[:-3],
        good[: len(body)],
        body,
        good + "x",
        "",
        ".",
        "!!!.!!!",
        "é.é",
        "a.b.c",
        "P2M1OTE2NjA0Njk3fE5FV3w=",
    ):
        _not_found(marks, raw)
    _not_found(marks, good, "board:123:sections")


def test_expired_bookmark_is_code_10(monkeypatch: pytest.MonkeyPatch) -> None:
    marks = Bookmarks("k", 60)
    raw = marks.encode(CTX, [1])
    later = time.time() + 61
    monkeypatch.setattr("pinapi.api.common.paging.time.time", lambda: later)
    _not_found(marks, raw)
    assert Bookmarks("k", 0).decode(raw, CTX) == [1]  # a TTL of 0 never expires


def test_page_size_from() -> None:
    assert page_size_from(None) == 25 and page_size_from("") == 25
    assert page_size_from("250") == 250 and page_size_from(250) == 250 and page_size_from("1") == 1
    for raw in ("251", 251, "100000"):
        with pytest.raises(PageSizeTooLarge) as big:
            page_size_from(raw)
        assert big.value.code == 22 and big.value.field == "page_size"
        assert big.value.message == "Page size exceeds maximum value of 250"
        assert http_status(22, 500) == 400
    for raw in ("0", 0, "-1", -1, "x", "1.5", " "):
        with pytest.raises(Invalid) as bad:
            page_size_from(raw)
        assert bad.value.code == 1 and bad.value.field == "page_size", raw
        assert not isinstance(bad.value, PageSizeTooLarge)


def _paged_route() -> object:
    r = v3_router()

    @r.get("/v3/test/users/")
    async def v3_test_users(request: Request, session: AsyncSession = Depends(get_session)) -> Page:
        params = await read_params(request)
        size = page_size_from(params.raw("page_size"))
        bookmarks = get_runtime(request).bookmarks
        raw = params.text("bookmark")
        after = bookmarks.decode(raw, "test:users") if raw else None
        page: KeysetPage[User] = await fetch_page(
            session,
            select(User),
            order=[User.__table__.c.id],
            after=after,
            limit=size,
            key_of=lambda u: [u.id],
        )
        mark = bookmarks.encode("test:users", page.next_key) if page.next_key else None
        return Page([u.username for u in page.rows], mark)

    return r


async def test_paged_list_over_the_wire(make_client: MakeClient, runtime: Runtime) -> None:
    stamp = datetime(2026, 1, 1, tzinfo=UTC)
    names = [f"pager{i:02d}" for i in range(7)]
    async with runtime.sessions() as s, s.begin():
        s.add_all(
            User(id=1000 + i, username=n, created_at=stamp, password_changed_at=stamp)
            for i, n in enumerate(names)
        )
    client = await make_client(routers=[_paged_route()])
    got: list[str] = []
    query: dict[str, str] = {"page_size": "3"}
    pages = 0
    while True:
        r = await client.get("/v3/test/users/", params=query)
        assert r.status_code == 200
        body = r.json()
        got += body["data"]
        pages += 1
        if "bookmark" not in body:
            break
        assert URL_SAFE.match(body["bookmark"])
        # Clients append the bookmark to the URL as it stands, without encoding it.
        query = {"page_size": "3", "bookmark": body["bookmark"]}
        raw = await client.get(f"/v3/test/users/?page_size=3&bookmark={body['bookmark']}")
        assert raw.json()["data"] == (await client.get("/v3/test/users/", params=query)).json()["data"]
    assert got == names and pages == 3
    exact = (await client.get("/v3/test/users/", params={"page_size": "7"})).json()
    assert exact["data"] == names and "bookmark" not in exact

    r = await client.get("/v3/test/users/", params={"bookmark": "forged.bookmark"})
    assert r.status_code == 404 and r.json()["code"] == 10 and r.json()["message"] == "Bookmark not found."
    r = await client.get("/v3/test/users/", params={"page_size": "251"})
    assert r.status_code == 400
    assert r.json()["code"] == 22 and r.json()["message"] == "Page size exceeds maximum value of 250"
    r = await client.get("/v3/test/users/", params={"page_size": "0"})
    assert r.status_code == 400 and r.json()["code"] == 1 and r.json()["param"] == "page_size"
    r = await client.get("/v3/test/users/", params={"page_size": "250"})
    assert r.status_code == 200 and r.json()["data"] == names


async def test_bookmark_of_another_instance_is_refused(make_client: MakeClient) -> None:
    client = await make_client(routers=[_paged_route()])
    foreign = Bookmarks("another-secret", 3600).encode("test:users", [0])
    r = await client.get("/v3/test/users/", params={"bookmark": foreign})
    assert r.status_code == 404 and r.json()["code"] == 10
