"""OAuth scopes of v3: the granular ones and the composites that expand to them."""

from __future__ import annotations

from collections.abc import Iterable

GRANULAR: dict[str, str] = {
    "read_domains": "See your verified domains",
    "read_boards": "See your public boards",
    "write_boards": "Create, update or delete your boards",
    "read_pins": "See your public Pins",
    "write_pins": "Create, update or delete your Pins",
    "read_users": "See your profile information",
    "write_users": "Update your profile information",
    "read_secret_boards": "See your secret boards",
    "read_secret_pins": "See the Pins on your secret boards",
    "read_user_followers": "See your followers and who you follow",
    "write_user_followees": "Follow and unfollow accounts and boards for you",
    "read_advertisers": "See your ad accounts",
    "write_advertisers": "Create and update your ad accounts",
    "read_campaigns": "See your ad campaigns and ad groups",
    "write_campaigns": "Create and update your ad campaigns and ad groups",
    "read_merchants": "See your catalogs and merchant data",
    "write_merchants": "Create and update your catalogs and merchant data",
    "read_pin_promotions": "See your promoted Pins",
    "write_pin_promotions": "Create and update your promoted Pins",
    "write_conversion_event_data": "Send conversion events for your ad accounts",
}

COMPOSITE: dict[str, tuple[str, ...]] = {
    "read_organic": ("read_boards", "read_pins", "read_users", "read_user_followers", "read_domains"),
    "write_organic": ("write_boards", "write_pins", "write_users", "write_user_followees"),
    "read_secret": ("read_secret_boards", "read_secret_pins"),
    "read_ads": ("read_advertisers", "read_campaigns", "read_pin_promotions"),
    "write_ads": (
        "write_advertisers",
        "write_campaigns",
        "write_pin_promotions",
        "write_conversion_event_data",
    ),
    "manage_merchants": ("read_merchants", "write_merchants"),
}
COMPOSITE["manage_organic"] = COMPOSITE["read_organic"] + COMPOSITE["write_organic"]
COMPOSITE["manage_ads"] = COMPOSITE["read_ads"] + COMPOSITE["write_ads"]

ALL_SCOPES = frozenset(GRANULAR) | frozenset(COMPOSITE)


class UnknownScope(ValueError):
    def __init__(self, scope: str) -> None:
        self.scope = scope
        super().__init__(f"unknown scope: {scope}")


def parse(raw: str | Iterable[str]) -> list[str]:
    """Split a comma (or space) separated scope list, keeping order and dropping repeats."""
    items = raw.replace(" ", ",").split(",") if isinstance(raw, str) else list(raw)
    seen: list[str] = []
    for item in (i.strip() for i in items):
        if not item:
            continue
        if item not in ALL_SCOPES:
            raise UnknownScope(item)
        if item not in seen:
            seen.append(item)
    return seen


def expand(scopes: Iterable[str]) -> frozenset[str]:
    """The granular scopes a list of (possibly composite) scopes grants."""
    out: set[str] = set()
    for s in scopes:
        if s in COMPOSITE:
            out.update(COMPOSITE[s])
        elif s in GRANULAR:
            out.add(s)
    return frozenset(out)


def describe(scope: str) -> list[str]:
    """Plain words for the consent page, one line per granular scope."""
    return [GRANULAR[s] for s in sorted(expand([scope]))]


def join(scopes: Iterable[str]) -> str:
    return ",".join(scopes)
