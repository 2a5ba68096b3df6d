"""Bodies and built objects kept for equal reader rows: identity, copies and bounds."""

from __future__ import annotations

from pinapi.api.common.bodies import BodyMemo
from pinapi.store.db import Memo, Row


class _Thing:
    pass


def test_body_memo_serves_copies_for_the_same_object_only() -> None:
    memo = BodyMemo()
    source = _Thing()
    sent = memo.put(source, {"id": "1", "nested": {"a": 1}})
    sent["summary_status"] = "changed by the route"
    kept = memo.get(source)
    assert kept == {"id": "1", "nested": {"a": 1}}  # the route's change stayed in its copy
    assert kept is not memo.get(source)
    assert memo.get(_Thing()) is None  # another object, even an equal one, has no body


def test_body_memo_and_memo_are_bounded() -> None:
    bodies = BodyMemo(limit=2)
    things = [_Thing() for _ in range(3)]
    for n, thing in enumerate(things):
        bodies.put(thing, {"n": n})
    assert bodies.get(things[0]) is None and bodies.get(things[2]) == {"n": 2}
    memo = Memo(limit=2)
    for n in range(3):
        memo.put(("row", n), n)
    assert memo.get(("row", 0)) is None and memo.get(("row", 2)) == 2
    memo.clear()
    assert memo.get(("row", 2)) is None


def test_row_keys_are_the_raw_rows_when_hashable() -> None:
    plain = Row((1, "a", None, 2.5), None)
    assert plain.key == (1, "a", None, 2.5) and plain.values == (1, "a", None, 2.5)
    assert Row((1, "a", None, 2.5), None).key == plain.key
    # Decoded JSON (PostgreSQL's pool) cannot be a key: such rows are never reused.
    decoded = Row((1, {"variants": {}}), None)
    assert decoded.key is None and decoded.values == (1, {"variants": {}})
