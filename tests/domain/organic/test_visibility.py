"""The privacy rule every organic read shares."""

from __future__ import annotations

import pytest

from pinapi.domain.organic.visibility import may_see

SECRET = frozenset({"read_secret_boards", "read_secret_pins"})
NONE: frozenset[str] = frozenset()


@pytest.mark.parametrize(
    ("privacy", "member", "scopes", "scope", "seen"),
    [
        ("public", False, NONE, "read_secret_boards", True),
        ("protected", False, SECRET, "read_secret_boards", False),
        ("protected", True, NONE, "read_secret_boards", True),
        ("secret", False, SECRET, "read_secret_boards", False),
        ("secret", True, NONE, "read_secret_boards", False),
        ("secret", True, frozenset({"read_secret_boards"}), "read_secret_boards", True),
        ("secret", True, frozenset({"read_secret_boards"}), "read_secret_pins", False),
        ("secret", True, frozenset({"read_secret_pins"}), "read_secret_pins", True),
    ],
)
def test_may_see(privacy: str, member: bool, scopes: frozenset[str], scope: str, seen: bool) -> None:
    assert may_see(privacy, is_member=member, scopes=scopes, secret_scope=scope) is seen
